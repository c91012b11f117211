set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; L=outputs/s17_logs
CFG_T="['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml']"
CFG_I="['$C/common.yaml','$C/inference.yaml','$C/lowdata.yaml']"
CFG_E="['$C/common.yaml','$C/evaluate.yaml','$C/lowdata.yaml']"
X="--evaluation_config#max_steps 300 --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False"
stamp() { echo "$1 $(( $(date +%s) - $2 )) s  (end $(date -u +%H:%M))" >> $L/times.txt; }
out() { echo outputs/medienet_chest_xray_k200_big$1; }
train() { local g=$1 t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run training --config_file "$CFG_T" \
    --num_threads 1 --output_dir $(out $g) --training_seed $g --unet_channels "[64,128,128]" > $L/train_big$g.log 2>&1; stamp train_big$g $t0; }
infer() { local g=$1 t0=$(date +%s); local O=$(out $g)
  /usr/bin/time -v python -m monai.bundle run inference --config_file "$CFG_I" --num_threads 1 --output_dir $O \
    --unet_channels "[64,128,128]" --inference_output_dir $O/synthetic_dpm50 --sampler dpmpp_2m --num_inference_steps 50 \
    --inference_precision bf16 > $L/infer_big$g.log 2>&1; stamp infer_big$g $t0; touch $L/.pool_big$g; }
ev() { local name=$1 O=$2; shift 2; local t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" \
    --num_threads 1 --output_dir $O --unet_channels "[64,128,128]" $X "$@" > $L/$name.log 2>&1; stamp $name $t0; }
evsyn() { local g=$1 O=$(out $1); ev eval_big$g $O --evaluation_output_dir $O/evaluation_s17_dpm50 \
    --synthetic_dir $O/synthetic_dpm50 --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]" --evaluation_config#fidelity False; }
crit() { local g=$1 O=$(out $1); ev crit_big$g $O --evaluation_output_dir $O/criteria_s17 --synthetic_dir $O/synthetic_dpm50 \
    --evaluation_config#arms "['real+aug']" --evaluation_config#seeds "[0]" --evaluation_config#fidelity True; }
waitfor() { while [ ! -e $L/$1 ]; do sleep 20; done; }
