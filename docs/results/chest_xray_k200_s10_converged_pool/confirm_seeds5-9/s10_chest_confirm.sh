#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; O=outputs/medienet_chest_xray_k200; L=outputs/s10_chest_logs
X="--evaluation_config#max_steps 300 --evaluation_config#seeds [5,6,7,8,9] --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
ev() { local name=$1; shift; local t0=$(date +%s); python -m monai.bundle run evaluate --config_file "['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']" --num_threads 1 $X "$@" > $L/$name.log 2>&1; echo "$name $(( $(date +%s) - t0 )) s" >> $L/times.txt; }
ev confirmA --evaluation_output_dir $O/evaluation_s10_confirm_aug --evaluation_config#arms "['real+aug']" &
ev confirmB --evaluation_output_dir $O/evaluation_s10_confirm_dpm50 --synthetic_dir $O/synthetic_dpm50 --evaluation_config#arms "['real+syn+aug']" &
wait
touch $L/.done_confirm
