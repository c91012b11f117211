cd /work/main && . .venv/bin/activate
C="['bundles/medienet_chest_xray/configs/common.yaml','bundles/medienet_chest_xray/configs/lowdata.yaml']"
K=outputs/medienet_chest_xray_k200/checkpoints
/usr/bin/time -v python -m bench.quality --config_file "$C" --checkpoint $K/diffusion.pt $K/diffusion_distilled.pt \
  --num_per_class 150 --threads 1 --classifier_cache outputs/s15_quality/feature_classifier.pt \
  --variants 0/ddim:50:fp32 1/dpmpp_2m:5:fast:clip2-2.5 1/dpmpp_2m:5:fast:clip2-3 1/dpmpp_2m:5:fast:clip2-4 \
  1/dpmpp_2m:5:fast:clip1.5-3 1/dpmpp_2m:5:fast:clip1.5-4 1/dpmpp_2m:5:fast:clip1.75-3 \
  1/dpmpp_2m:6:fast:clip2-3 1/dpmpp_2m:6:fast:clip2-4 1/dpmpp_2m:4:fast:clip2-3 1/dpmpp_2m:4:fast:clip2-4 \
  --out outputs/s16_quality/s16_schedule.json --markdown outputs/s16_quality/s16_schedule.md
touch outputs/s16_quality/run1.done
