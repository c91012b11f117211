#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; O=outputs/medienet_chest_xray_k200_s11; L=outputs/s11_logs
while [ ! -f $L/.done_item4 ]; do sleep 15; done
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run training --config_file "['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml']" \
    --num_threads 1 --output_dir $O --training_seed 1 > $L/item5_training.log 2>&1
echo "item5_training $(( $(date +%s) - t0 )) s" >> $L/times.txt; t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run inference --config_file "['$C/common.yaml','$C/inference.yaml','$C/lowdata.yaml']" --num_threads 1 \
    --output_dir $O --inference_output_dir $O/synthetic_dpm50 --sampler dpmpp_2m --num_inference_steps 50 --inference_precision bf16 > $L/item5_inference.log 2>&1
echo "item5_inference $(( $(date +%s) - t0 )) s" >> $L/times.txt
X="--evaluation_config#max_steps 300 --evaluation_config#seeds [0,1,2,3,4] --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
ev() { local name=$1; shift; local t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']" --num_threads 1 --output_dir $O $X "$@" > $L/$name.log 2>&1; echo "$name $(( $(date +%s) - t0 )) s" >> $L/times.txt; }
ev item5E --evaluation_output_dir $O/evaluation_s11_aug --evaluation_config#arms "['real+aug']" &
while [ ! -f $L/.done_item2 ]; do sleep 15; done
ev item5F --evaluation_output_dir $O/evaluation_s11_dpm50 --synthetic_dir $O/synthetic_dpm50 --evaluation_config#arms "['real+syn+aug']" &
wait
touch $L/.done_item5
