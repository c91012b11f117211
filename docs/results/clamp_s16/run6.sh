cd /work/main && . .venv/bin/activate
C="['bundles/medienet_chest_xray/configs/common.yaml','bundles/medienet_chest_xray/configs/lowdata.yaml']"
K=outputs/medienet_chest_xray_k200/checkpoints
/usr/bin/time -v python -m bench.quality --config_file "$C" --checkpoint $K/diffusion.pt $K/diffusion_distilled.pt \
  --num_per_class 150 --threads 1 --classifier_cache outputs/s15_quality/feature_classifier.pt \
  --variants 0/ddim:50:fp32:3 0/ddim:50:fp32:4 1/dpmpp_2m:6:fast:3:clip2-1.75 1/dpmpp_2m:6:fast:4:clip2-1.75 \
  --out outputs/s16_quality/s16_schedule_confirm2.json --markdown outputs/s16_quality/s16_schedule_confirm2.md
touch outputs/s16_quality/run6.done
