#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
L=outputs/s11_logs; mkdir -p $L
while [ ! -f $L/.done_item1 ]; do sleep 15; done
C=bundles/medienet_chest_xray/configs; O=outputs/medienet_chest_xray_k200
B=bundles/medienet_pneumoniamnist/configs; P=outputs/medienet_pneumoniamnist_k200
OFF="--evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
( t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']" --num_threads 1 \
    --evaluation_output_dir $O/evaluation_s11_r50_600_dpm50 --synthetic_dir $O/synthetic_dpm50 --evaluation_config#arms "['real+syn+aug']" \
    --evaluation_config#classifier resnet50 --evaluation_config#max_steps 600 --evaluation_config#seeds "[0,1,2]" $OFF > $L/item2.log 2>&1
  echo "item2 $(( $(date +%s) - t0 )) s" >> $L/times.txt; touch $L/.done_item2 ) &
( t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run inference --config_file "['$B/common.yaml','$B/inference.yaml','$B/lowdata.yaml']" --num_threads 1 \
    --inference_output_dir $P/synthetic_dpm50 --sampler dpmpp_2m --num_inference_steps 50 --inference_precision bf16 > $L/item3_inference.log 2>&1
  echo "item3_inference $(( $(date +%s) - t0 )) s" >> $L/times.txt; t0=$(date +%s)
  /usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
    --evaluation_output_dir $P/evaluation_s11_dpm50 --synthetic_dir $P/synthetic_dpm50 --evaluation_config#arms "['real+syn+aug']" \
    --evaluation_config#max_steps 300 --evaluation_config#seeds "[0,1,2]" $OFF > $L/item3.log 2>&1
  echo "item3 $(( $(date +%s) - t0 )) s" >> $L/times.txt; touch $L/.done_item3 ) &
wait
