cd /work/main && . .venv/bin/activate
/usr/bin/time -v python -m bench --compile --repeats 3 --only "sample[image_size=64,pipeline=monai_ref]" \
  "sample[image_size=64,pipeline=medienet_distilled_dpm" "sample[image_size=64,pipeline=medienet_steps10_compile]" \
  --out outputs/s16_bench/bench_s16.json --markdown outputs/s16_bench/bench_s16.md
touch outputs/s16_bench/run.done
