#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
B=bundles/medienet_pneumoniamnist/configs; P=outputs/medienet_pneumoniamnist_k200; L=outputs/s11_logs
while [ ! -f $L/.done_item5 ]; do sleep 15; done
X="--evaluation_config#max_steps 300 --evaluation_config#seeds [3,4,5,6,7] --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
ev() { local name=$1; shift; local t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 $X "$@" > $L/$name.log 2>&1; echo "$name $(( $(date +%s) - t0 )) s" >> $L/times.txt; }
( ev item6A --evaluation_output_dir $P/evaluation_s11_s3-7_aug_ddim50 --evaluation_config#arms "['real+aug','real+syn+aug']" ) &
( ev item6B --evaluation_output_dir $P/evaluation_s11_s3-7_dpm50 --synthetic_dir $P/synthetic_dpm50 --evaluation_config#arms "['real+syn+aug']" ) &
wait
touch $L/.done_item6
