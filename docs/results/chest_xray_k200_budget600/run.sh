#!/bin/bash
# Session 7, declared before the runs (chest X-ray k=200 64 px, guidance-2 pool, resnet18, fp32, seeds 0-4):
# Equal-budget control at 600 steps: does real+aug gain as much from 600 steps as the pretrain arm (300 pretrain on
# synthetic + 300 fine-tune on real)? Primary: real+syn+aug+pretrain@pre600 - real+aug (both max_steps 600).
# Job 1: real+aug at max_steps 600. Job 2: real+syn+aug+pretrain, pretrain_steps 300 + finetune_steps 300, max_steps 600.
cd /work/main && . .venv/bin/activate
B=bundles/medienet_chest_xray/configs
E=outputs/medienet_chest_xray_k200
R="python -m monai.bundle run evaluate --config_file ['$B/common.yaml','$B/evaluate.yaml','$B/lowdata.yaml'] --num_threads 1"
C="--evaluation_config#max_steps 600 --evaluation_config#gradcam_images 0 --evaluation_config#inception_fid False --evaluation_config#feature_classifier False --evaluation_config#seeds [0,1,2,3,4]"
(/usr/bin/time -v $R $C --evaluation_config#arms "['real+aug']" \
   --evaluation_output_dir $E/evaluation_realaug600 > outputs/s7_budget600_A.log 2>&1; touch outputs/s7_budget600_A.done) &
(/usr/bin/time -v $R $C --evaluation_config#arms "['real+syn+aug+pretrain']" --evaluation_config#pretrain_steps 300 \
   --evaluation_config#finetune_steps 300 \
   --evaluation_output_dir $E/evaluation_pretrain600 > outputs/s7_budget600_B.log 2>&1; touch outputs/s7_budget600_B.done) &
wait
