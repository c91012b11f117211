#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
while [ ! -f outputs/s10_exp/.done_bench ]; do sleep 20; done
B=bundles/medienet_pneumoniamnist/configs; O=outputs/medienet_breastmnist; L=outputs/s10_breast_logs
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/breastmnist.yaml']" --num_threads 1 \
    --evaluation_output_dir $O/evaluation_real_syn --evaluation_config#max_steps 300 \
    --evaluation_config#seeds "[0,1,2,3,4,5,6,7,8,9]" --evaluation_config#arms "['real+syn']" \
    --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 > $L/evaluate_real_syn.log 2>&1
echo "evaluate_real_syn $(( $(date +%s) - t0 )) s" >> $L/times.txt
touch $L/.done_real_syn
