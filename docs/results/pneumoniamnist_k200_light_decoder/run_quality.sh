#!/bin/bash
# Session 7 (issue 6): stop the light-decoder training once its 2400-it snapshot exists (the iteration of the selected
# default generator), then score both 2400-it generators alike with bench.quality (same feature classifier, noise, labels).
cd /work/main && . .venv/bin/activate
O=outputs/medienet_pneumoniamnist_k200_light
D=outputs/medienet_pneumoniamnist_k200_sel3000
while [ ! -f $O/checkpoints/diffusion_iter00002550.pt ] && [ ! -f outputs/s7_light_train.done ]; do sleep 30; done
pkill -f "output_dir $O" ; sleep 5
B=bundles/medienet_pneumoniamnist/configs
mkdir -p outputs/s7_light_quality
/usr/bin/time -v python -m bench.quality --config_file "['$B/common.yaml','$B/lowdata.yaml']" --threads 1 \
  --checkpoint $D/checkpoints/diffusion_iter00002400.pt $O/checkpoints/diffusion_iter00002400.pt \
  --num_per_class 250 --variants dpmpp_2m:20:fp32 dpmpp_2m:20:fp32:1 dpmpp_2m:20:fp32:2 \
  --out outputs/s7_light_quality/quality.json --markdown outputs/s7_light_quality/quality.md > outputs/s7_light_quality.log 2>&1
touch outputs/s7_light_quality.done
