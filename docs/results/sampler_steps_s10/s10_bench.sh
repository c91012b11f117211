#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; P=bundles/medienet_pneumoniamnist/configs; O=outputs/s10_exp
step() { local name=$1; shift; local t0=$(date +%s); "$@" > $O/$name.log 2>&1; echo "$name $(( $(date +%s) - t0 )) s" >> $O/times.txt; }
step quality_chest3 python -m bench.quality --config_file "['$C/common.yaml','$C/lowdata.yaml']" --num_per_class 150 --threads 1 \
    --variants ddim:50:fp32 dpmpp_2m:30:fp32 dpmpp_2m:40:fp32 dpmpp_2m:30:fast dpmpp_2m:50:fast \
    --out $O/quality_chest3.json --markdown $O/quality_chest3.md
step quality_pmnist python -m bench.quality --config_file "['$P/common.yaml','$P/lowdata.yaml']" --num_per_class 250 --threads 1 \
    --variants ddim:50:fp32 ddim:200:fp32 dpmpp_2m:20:fp32 dpmpp_2m:30:fp32 dpmpp_2m:50:fp32 dpmpp_2m:30:fast \
    --out $O/quality_pmnist.json --markdown $O/quality_pmnist.md
mkdir -p outputs/bench_s10
step bench_eager python -m bench --threads 1 --repeats 3 --timeout 1800 --only sample forward matmul_peak \
    --out outputs/bench_s10/bench_results.json --markdown outputs/bench_s10/bench_tables.md
step bench_compile python -m bench --compile --threads 1 --repeats 3 --timeout 2400 --only "image_size=64,pipeline=monai_ref" \
    "image_size=64,pipeline=medienet_fast" "compile=True" matmul_peak --out outputs/bench_s10/compile.json --markdown outputs/bench_s10/compile.md
touch $O/.done_bench
