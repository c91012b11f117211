#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
B=bundles/medienet_pneumoniamnist/configs; P=outputs/medienet_pneumoniamnist_k200; L=outputs/s11_logs
while [ ! -f $L/.done_item4 ]; do sleep 15; done
OFF="--evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
    --evaluation_output_dir $P/evaluation_s11_ddim50 --evaluation_config#arms "['real+aug','real+syn+aug']" \
    --evaluation_config#max_steps 300 --evaluation_config#seeds "[0,1,2]" $OFF > $L/item3a.log 2>&1
echo "item3a $(( $(date +%s) - t0 )) s" >> $L/times.txt; touch $L/.done_item3a
