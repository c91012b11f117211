#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
B=bundles/medienet_chest_xray/configs; E=outputs/medienet_chest_xray_k200; L=outputs/s9_chest_logs; rm -rf $L $E; mkdir -p $L
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run training --config_file "['$B/common.yaml','$B/train.yaml','$B/lowdata.yaml']" > $L/training.log 2>&1
t1=$(date +%s); echo "training $((t1-t0)) s" >> $L/times.txt
/usr/bin/time -v python -m monai.bundle run inference --config_file "['$B/common.yaml','$B/inference.yaml','$B/lowdata.yaml']" > $L/inference.log 2>&1
t2=$(date +%s); echo "inference $((t2-t1)) s" >> $L/times.txt
EV="--evaluation_config#classifier resnet50 --evaluation_config#max_steps 600 --evaluation_config#inception_fid False --evaluation_config#gradcam_images 0 --evaluation_config#feature_classifier False"
python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
    --evaluation_output_dir $E/evaluation_r50_600_aug --evaluation_config#arms "['real+aug']" $EV > $L/evaluate_aug.log 2>&1 &
python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
    --evaluation_output_dir $E/evaluation_r50_600_syn --evaluation_config#arms "['real+syn+aug']" $EV > $L/evaluate_syn.log 2>&1 &
wait
t3=$(date +%s); echo "evaluate $((t3-t2)) s" >> $L/times.txt
touch $L/.done
