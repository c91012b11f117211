#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
B=bundles/medienet_pneumoniamnist/configs; O=outputs/medienet_breastmnist; L=outputs/s10_breast_logs; mkdir -p $L
run() { local name=$1; shift; local t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run "$@" --num_threads 1 > $L/$name.log 2>&1; echo "$name $(( $(date +%s) - t0 )) s" >> $L/times.txt; }
run training  training  --config_file "['$B/common.yaml','$B/train.yaml','$B/breastmnist.yaml']"
run inference inference --config_file "['$B/common.yaml','$B/inference.yaml','$B/breastmnist.yaml']"
run evaluate_s0-4 evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/breastmnist.yaml']" \
    --evaluation_output_dir $O/evaluation_s0-4 --evaluation_config#fid_max_images 200 --evaluation_config#max_steps 300 \
    --evaluation_config#seeds "[0,1,2,3,4]" --evaluation_config#primary "['real+syn+aug','real+aug']"
touch $L/.done_s0-4
run evaluate_s5-9 evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/breastmnist.yaml']" \
    --evaluation_output_dir $O/evaluation_s5-9 --evaluation_config#fid_max_images 200 --evaluation_config#max_steps 300 \
    --evaluation_config#seeds "[5,6,7,8,9]" --evaluation_config#primary "['real+syn+aug','real+aug']" \
    --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0
touch $L/.done
