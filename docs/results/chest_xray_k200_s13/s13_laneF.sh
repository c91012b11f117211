source /work/main/outputs/s13_common.sh
while [ ! -f $L/.done4b ] || [ ! -f $L/.done6 ]; do sleep 15; done
if [ $(date -u +%H%M) -gt 1850 ]; then echo "bench skipped: past 18:50" >> $L/times.txt; exit 0; fi
t0=$(date +%s)
python -m bench --only forward matmul_peak --compile --threads 2 --out outputs/s13_bench/forward.json \
    --markdown outputs/s13_bench/forward.md > $L/bench_forward.log 2>&1
stamp bench_forward $t0
if [ $(date -u +%H%M) -gt 1858 ]; then echo "bench sample skipped: past 18:58" >> $L/times.txt; exit 0; fi
t0=$(date +%s)
python -m bench --only sample matmul_peak --compile --threads 2 --out outputs/s13_bench/sample.json \
    --markdown outputs/s13_bench/sample.md > $L/bench_sample.log 2>&1
stamp bench_sample $t0
touch $L/.done7
