source /work/main/outputs/s15_common.sh
Q=outputs/s15_quality; mkdir -p $Q
G0=outputs/medienet_chest_xray_k200/checkpoints
CF="['$C/common.yaml','$C/lowdata.yaml']"
t0=$(date +%s)
/usr/bin/time -v python -m bench.quality --config_file "$CF" --checkpoint $G0/diffusion.pt --num_per_class 150 --threads 1 \
  --classifier_cache $Q/feature_classifier.pt --variants ddim:50:fp32 ddim:50:fp32:clipoff ddim:200:fast:clipoff \
  dpmpp_2m:20:fast dpmpp_2m:10:fast:clipoff dpmpp_2m:20:fast:clipoff dpmpp_2m:40:fast:clipoff dpmpp_2m:20:fast:clipdata \
  --out $Q/s15_clamp_g0.json --markdown $Q/s15_clamp_g0.md > $L/quality_g0.log 2>&1
stamp quality_g0 $t0
t0=$(date +%s)
/usr/bin/time -v python -m bench.quality --config_file "$CF" --checkpoint $G0/diffusion.pt $G0/diffusion_distilled.pt $G0/diffusion_steps10.pt \
  --num_per_class 150 --threads 1 --classifier_cache $Q/feature_classifier.pt --variants 0/ddim:50:fp32 \
  1/dpmpp_2m:10:fast 1/dpmpp_2m:5:fast:clipoff 1/dpmpp_2m:10:fast:clipoff 1/dpmpp_2m:20:fast:clipoff 1/dpmpp_1@trailing:10:fast:clipoff \
  2/dpmpp_1@trailing:10:fast 2/dpmpp_1@trailing:10:fast:clipoff \
  --out $Q/s15_clamp_distilled.json --markdown $Q/s15_clamp_distilled.md > $L/quality_distilled.log 2>&1
stamp quality_distilled $t0
touch $L/.doneB
