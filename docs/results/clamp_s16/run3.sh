cd /work/main && . .venv/bin/activate
C="['bundles/medienet_chest_xray/configs/common.yaml','bundles/medienet_chest_xray/configs/lowdata.yaml']"
K=outputs/medienet_chest_xray_k200/checkpoints
/usr/bin/time -v python -m bench.quality --config_file "$C" --checkpoint $K/diffusion.pt $K/diffusion_distilled.pt \
  --num_per_class 150 --threads 1 --classifier_cache outputs/s15_quality/feature_classifier.pt \
  --variants 0/ddim:50:fp32 1/dpmpp_2m:5:fast:clip2-1.5 1/dpmpp_2m:5:fast:clip2-1.75 1/dpmpp_2m:5:fast:clip2-1.25 1/dpmpp_2m:5:fast:clip2-1 1/dpmpp_2m:5:fast:clip1.75-1.5 1/dpmpp_2m:5:fast:clip1.5 1/dpmpp_2m:4:fast:clip2-1.5 1/dpmpp_2m:4:fast:clip1.75-1.5 1/dpmpp_2m:6:fast:clip2-1.5 \
  --out outputs/s16_quality/s16_schedule_tight.json --markdown outputs/s16_quality/s16_schedule_tight.md
touch outputs/s16_quality/run3.done
