#!/bin/bash
# Session 8, declared before the run: the paper's classifier on PneumoniaMNIST k=200. Selected generator (2400 its),
# default guidance-2 pool (synthetic/), ratio 1, MONAI resnet50 from scratch, 300 steps, arms real+aug / real+syn+aug,
# seeds 0-2 (exploratory). Primary: real+syn+aug - real+aug (resnet18 on the same pool: -0.024 [-0.032, -0.017]).
cd /work/main && . .venv/bin/activate
B=bundles/medienet_pneumoniamnist/configs
O=outputs/medienet_pneumoniamnist_k200_sel3000
/usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
  --output_dir $O --diffusion_checkpoint_path $O/checkpoints/diffusion_iter00002400.pt \
  --evaluation_config#classifier resnet50 \
  --evaluation_config#max_steps 300 --evaluation_config#gradcam_images 0 --evaluation_config#inception_fid False \
  --evaluation_config#feature_classifier False --evaluation_config#seeds "[0,1,2]" \
  --evaluation_config#arms "['real+aug','real+syn+aug']" \
  --evaluation_config#primary "['real+syn+aug','real+aug']" \
  --evaluation_output_dir $O/evaluation_r50 > outputs/s8_pneu_r50.log 2>&1
touch outputs/s8_pneu_r50.done
