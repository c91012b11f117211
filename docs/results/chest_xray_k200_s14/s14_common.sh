set -euo pipefail
cd /work/main; . .venv/bin/activate
L=outputs/s14_logs
C=bundles/medienet_chest_xray/configs
P=bundles/medienet_pneumoniamnist/configs
X="--evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
stamp() { echo "$1 $(( $(date +%s) - $2 )) s  (end $(date -u +%H:%M))" >> $L/times.txt; }
# ev <name> <bundle-configs-dir> <output_dir> [overrides...]
ev() { local name=$1 B=$2 O=$3; shift 3; local t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate \
    --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" \
    --num_threads 1 --output_dir $O $X "$@" > $L/$name.log 2>&1; stamp $name $t0; }
CHEST_CK="['outputs/medienet_chest_xray_k200/checkpoints/diffusion.pt','outputs/medienet_chest_xray_k200_s11/checkpoints/diffusion.pt','outputs/medienet_chest_xray_k200_g2/checkpoints/diffusion.pt','outputs/medienet_chest_xray_k200_g3/checkpoints/diffusion.pt','outputs/medienet_chest_xray_k200_g4/checkpoints/diffusion.pt']"
