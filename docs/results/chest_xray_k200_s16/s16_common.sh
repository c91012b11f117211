set -euo pipefail
cd /work/main; . .venv/bin/activate
L=outputs/s16_logs
C=bundles/medienet_chest_xray/configs
X="--evaluation_config#max_steps 300 --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False --evaluation_config#fidelity False"
stamp() { echo "$1 $(( $(date +%s) - $2 )) s  (end $(date -u +%H:%M))" >> $L/times.txt; }
ev() { local name=$1 O=$2; shift 2; local t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate \
    --config_file "['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']" \
    --num_threads 1 --output_dir $O $X "$@" > $L/$name.log 2>&1; stamp $name $t0; }
