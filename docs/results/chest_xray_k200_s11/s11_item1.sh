#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; O=outputs/medienet_chest_xray_k200; L=outputs/s11_logs; mkdir -p $L
X="--evaluation_config#max_steps 300 --evaluation_config#seeds [5,6,7,8,9] --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
ev() { local name=$1; shift; local t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']" --num_threads 1 $X "$@" > $L/$name.log 2>&1; echo "$name $(( $(date +%s) - t0 )) s" >> $L/times.txt; }
ev item1C --evaluation_output_dir $O/evaluation_s11_seeds5-9_real --evaluation_config#arms "['real']" &
ev item1D --evaluation_output_dir $O/evaluation_s11_seeds5-9_ddim50 --evaluation_config#arms "['real+syn+aug']" &
wait
touch $L/.done_item1
