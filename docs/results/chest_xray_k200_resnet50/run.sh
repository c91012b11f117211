#!/bin/bash
# Session 8, declared before the run: the paper's classifier. Chest X-ray 64 px k=200, guidance-2 pool (synthetic/),
# MONAI resnet50 from scratch, 300 steps, arms real / real+aug / real+syn+aug, seeds 0-2 (exploratory: resnet50 costs
# ~2.3x resnet18 per step). Primary: real+syn+aug - real+aug. Also reported: real+syn+aug - real (paper: +0.07 on its set).
cd /work/main && . .venv/bin/activate
B=bundles/medienet_chest_xray/configs
E=outputs/medienet_chest_xray_k200
/usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
  --evaluation_config#classifier resnet50 \
  --evaluation_config#max_steps 300 --evaluation_config#gradcam_images 0 --evaluation_config#inception_fid False \
  --evaluation_config#feature_classifier False --evaluation_config#seeds "[0,1,2]" \
  --evaluation_config#arms "['real','real+aug','real+syn+aug']" \
  --evaluation_config#primary "['real+syn+aug','real+aug']" \
  --evaluation_output_dir $E/evaluation_r50 > outputs/s8_r50.log 2>&1
touch outputs/s8_r50.done
