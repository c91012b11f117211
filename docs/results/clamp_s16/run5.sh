cd /work/main && . .venv/bin/activate
C="['bundles/medienet_chest_xray/configs/common.yaml','bundles/medienet_chest_xray/configs/lowdata.yaml']"
K=outputs/medienet_chest_xray_k200/checkpoints
/usr/bin/time -v python -m bench.quality --config_file "$C" --checkpoint $K/diffusion.pt $K/diffusion_distilled.pt \
  --num_per_class 150 --threads 1 --classifier_cache outputs/s15_quality/feature_classifier.pt \
  --variants 1/dpmpp_2m:5:fast:0:clip1.75 1/dpmpp_2m:5:fast:0:clip1.75-2 1/dpmpp_2m:5:fast:0:clip2-1.75 1/dpmpp_2m:5:fast:0:clip1.75-1.625 1/dpmpp_2m:6:fast:0:clip1.75-1.5 1/dpmpp_2m:6:fast:0:clip2-1.75 1/dpmpp_2m:6:fast:0:clip1.75 1/dpmpp_2m:6:fast:0:clip2 1/dpmpp_2m:5:fast:1:clip1.75 1/dpmpp_2m:5:fast:1:clip1.75-2 1/dpmpp_2m:5:fast:1:clip2-1.75 1/dpmpp_2m:5:fast:1:clip1.75-1.625 1/dpmpp_2m:6:fast:1:clip1.75-1.5 1/dpmpp_2m:6:fast:1:clip2-1.75 1/dpmpp_2m:6:fast:1:clip1.75 1/dpmpp_2m:6:fast:1:clip2 1/dpmpp_2m:5:fast:2:clip1.75 1/dpmpp_2m:5:fast:2:clip1.75-2 1/dpmpp_2m:5:fast:2:clip2-1.75 1/dpmpp_2m:5:fast:2:clip1.75-1.625 1/dpmpp_2m:6:fast:2:clip1.75-1.5 1/dpmpp_2m:6:fast:2:clip2-1.75 1/dpmpp_2m:6:fast:2:clip1.75 1/dpmpp_2m:6:fast:2:clip2 1/dpmpp_2m:10:fast:1:clip2.5 0/dpmpp_2m:10:fast:1:clip1.5 1/dpmpp_2m:10:fast:2:clip2.5 0/dpmpp_2m:10:fast:2:clip1.5 \
  --out outputs/s16_quality/s16_schedule_3seeds.json --markdown outputs/s16_quality/s16_schedule_3seeds.md
touch outputs/s16_quality/run5.done
