#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; O=outputs/medienet_chest_xray_k200; L=outputs/s10_chest_logs; mkdir -p $L
X="--evaluation_config#max_steps 300 --evaluation_config#seeds [0,1,2] --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
ev() { local name=$1; shift; local t0=$(date +%s); python -m monai.bundle run evaluate --config_file "['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']" --num_threads 1 $X "$@" > $L/$name.log 2>&1; echo "$name $(( $(date +%s) - t0 )) s" >> $L/times.txt; }
( ev jobA --evaluation_output_dir $O/evaluation_s10_r18_ddim50 --evaluation_config#arms "['real+aug','real+syn+aug']" ; touch $L/.doneA ) &
( t0=$(date +%s); python -m monai.bundle run inference --config_file "['$C/common.yaml','$C/inference.yaml','$C/lowdata.yaml']" --num_threads 1 \
    --inference_output_dir $O/synthetic_dpm50 --sampler dpmpp_2m --num_inference_steps 50 --inference_precision bf16 > $L/inference_dpm50.log 2>&1
  echo "inference_dpm50 $(( $(date +%s) - t0 )) s" >> $L/times.txt
  ev jobB --evaluation_output_dir $O/evaluation_s10_r18_dpm50 --synthetic_dir $O/synthetic_dpm50 --evaluation_config#arms "['real+syn+aug']"; touch $L/.doneB ) &
wait
