source /work/main/outputs/s14_common.sh
while [ ! -f $L/.done1 ]; do sleep 15; done
mkdir -p outputs/s14_bench
t0=$(date +%s)
python -m bench --only sample --compile --threads 1 --repeats 3 --timeout 1800 --out outputs/s14_bench/sample.json \
    --markdown outputs/s14_bench/sample.md > $L/bench_sample.log 2>&1
stamp bench_sample $t0
touch $L/.doneB2
