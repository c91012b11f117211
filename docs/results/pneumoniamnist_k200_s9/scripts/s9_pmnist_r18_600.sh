#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
B=bundles/medienet_pneumoniamnist/configs; O=outputs/medienet_pneumoniamnist_k200; L=outputs/s9_pmnist_logs; mkdir -p $L
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
    --evaluation_output_dir $O/evaluation_r18_600 --evaluation_config#max_steps 600 --evaluation_config#seeds "[0,1,2,3,4]" \
    --evaluation_config#arms "['real+aug','real+syn+aug']" --evaluation_config#primary "['real+syn+aug','real+aug']" \
    --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False > $L/evaluate_r18_600.log 2>&1
t1=$(date +%s); echo "evaluate_r18_600 $((t1-t0)) s" >> $L/times.txt
touch $L/.done_r18
