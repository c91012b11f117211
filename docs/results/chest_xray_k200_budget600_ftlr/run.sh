#!/bin/bash
# Session 7, declared before the run (exploratory, 3 seeds for lack of time): chest X-ray k=200, guidance-2 pool,
# real+syn+aug+pretrain 300 + 300 steps with finetune_lr 1e-4 (instead of 1e-3), max_steps 600, seeds 0-2.
# Primary: pretrain(ft 1e-4)@ftlr - real+aug of evaluation_realaug600 (600 steps), merged with --seeds 0 1 2.
cd /work/main && . .venv/bin/activate
B=bundles/medienet_chest_xray/configs
E=outputs/medienet_chest_xray_k200
/usr/bin/time -v python -m monai.bundle run evaluate --config_file "['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml']" --num_threads 1 \
  --evaluation_config#max_steps 600 --evaluation_config#gradcam_images 0 --evaluation_config#inception_fid False \
  --evaluation_config#feature_classifier False --evaluation_config#seeds "[0,1,2]" \
  --evaluation_config#arms "['real+syn+aug+pretrain']" --evaluation_config#pretrain_steps 300 \
  --evaluation_config#finetune_steps 300 --evaluation_config#finetune_lr 0.0001 \
  --evaluation_output_dir $E/evaluation_pretrain600_ftlr1e-4 > outputs/s7_ftlr.log 2>&1
touch outputs/s7_ftlr.done
