#!/usr/bin/env bash
# Session 9: the whole PneumoniaMNIST k=200 pipeline, timed, 2 threads, nothing else running, AMX CPU, bundle defaults
# (precision auto -> bf16; evaluate's classifier bf16 now follows it). Declared primary: real+syn+aug vs real+aug.
set -euo pipefail
cd /work/main; . .venv/bin/activate
B=bundles/medienet_pneumoniamnist/configs
L=outputs/s9_pipeline_logs; mkdir -p $L
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run training  --config_file "['$B/common.yaml','$B/train.yaml','$B/lowdata.yaml']" > $L/training.log 2>&1
t1=$(date +%s); echo "training $((t1-t0)) s" >> $L/times.txt
/usr/bin/time -v python -m monai.bundle run inference --config_file "['$B/common.yaml','$B/inference.yaml','$B/lowdata.yaml']" > $L/inference.log 2>&1
t2=$(date +%s); echo "inference $((t2-t1)) s" >> $L/times.txt
/usr/bin/time -v python -m monai.bundle run evaluate  --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" \
    --evaluation_config#fid_max_images 200 --evaluation_config#max_steps 300 \
    --evaluation_config#primary "['real+syn+aug','real+aug']" > $L/evaluate.log 2>&1
t3=$(date +%s); echo "evaluate $((t3-t2)) s" >> $L/times.txt; echo "total $((t3-t0)) s" >> $L/times.txt
touch $L/.done
