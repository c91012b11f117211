#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; O=outputs/s11_exp; L=outputs/s11_logs
while [ ! -f $L/.done_item3 ]; do sleep 15; done
t0=$(date +%s)
/usr/bin/time -v python -m bench.quality --config_file "['$C/common.yaml','$C/lowdata.yaml']" --num_per_class 150 --threads 1 \
    --variants ddim:50:fp32 dpmpp_2m:40:fast dpmpp_2m:40:fast:0:gi0.044-0.635 dpmpp_2m:40:fast:0:gi0.11-0.74 \
    dpmpp_2m:40:fast:0:gi0.044-1 dpmpp_2m:40:fast:0:gi0-0.635 \
    --out $O/interval_chest.json --markdown $O/interval_chest.md > $O/interval_chest.log 2>&1
echo "interval_chest $(( $(date +%s) - t0 )) s" >> $L/times.txt
touch $L/.done_item4
