# Shared preamble of the experiment lane scripts (sourced; sessions 24 on). Before sourcing, set SESSION (e.g. s24):
#   SESSION=s24; source docs/results/scripts/lane_common.sh
# Defines: C (chest bundle configs), L (outputs/${SESSION}_logs), CFG_T / CFG_I / CFG_E (training / inference /
# evaluate config lists with the low-data overlay), X (the evaluation flags of the k = 50 experiments: resnet18 300
# steps, no Inception FID, no Grad-CAM, no feature classifier), stamp NAME T0 (wall time into $L/times.txt) and
# waitfor FILE (wait until $L/FILE exists). Sessions 18-23 copied these lines into an sNN_common.sh each.
set -euo pipefail
: "${SESSION:?set SESSION (e.g. s24) before sourcing lane_common.sh}"
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."
. .venv/bin/activate
C=bundles/medienet_chest_xray/configs; L=outputs/${SESSION}_logs; mkdir -p "$L"
CFG_T="['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml']"
CFG_I="['$C/common.yaml','$C/inference.yaml','$C/lowdata.yaml']"
CFG_E="['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']"
X="--evaluation_config#max_steps 300 --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False"
stamp() { echo "$1 $(( $(date +%s) - $2 )) s  (end $(date -u +%H:%M))" >> "$L/times.txt"; }
waitfor() { while [ ! -e "$L/$1" ]; do sleep 20; done; }
