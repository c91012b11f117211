set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; L=outputs/s23_logs
CFG_T="['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml']"
CFG_I="['$C/common.yaml','$C/inference.yaml','$C/lowdata.yaml']"
CFG_E="['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']"
X="--evaluation_config#max_steps 300 --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False"
stamp() { echo "$1 $(( $(date +%s) - $2 )) s  (end $(date -u +%H:%M))" >> $L/times.txt; }
waitfor() { while [ ! -e $L/$1 ]; do sleep 20; done; }
