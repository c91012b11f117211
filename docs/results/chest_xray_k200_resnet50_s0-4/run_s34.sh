#!/bin/bash
# Session 8, declared at 02:45 UTC before any resnet50 result was seen: extend the chest X-ray resnet50 primary
# (real+syn+aug - real+aug) to seeds 0-4 with seeds 3-4, whatever seeds 0-2 show. Starts when s8_pneu_r50 is done.
while [ ! -f /work/main/outputs/s8_pneu_r50.done ]; do sleep 30; done
cd /work/main && . .venv/bin/activate
B=bundles/medienet_chest_xray/configs
E=outputs/medienet_chest_xray_k200
/usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
  --evaluation_config#classifier resnet50 \
  --evaluation_config#max_steps 300 --evaluation_config#gradcam_images 0 --evaluation_config#inception_fid False \
  --evaluation_config#feature_classifier False --evaluation_config#seeds "[3,4]" \
  --evaluation_config#arms "['real+aug','real+syn+aug']" \
  --evaluation_config#primary "['real+syn+aug','real+aug']" \
  --evaluation_output_dir $E/evaluation_r50_s34 > outputs/s8_r50_s34.log 2>&1
touch outputs/s8_r50_s34.done
