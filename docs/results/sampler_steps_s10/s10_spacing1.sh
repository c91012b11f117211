#!/usr/bin/env bash
set -euo pipefail
cd /work/main; . .venv/bin/activate
C=bundles/medienet_chest_xray/configs; O=outputs/s10_exp
t0=$(date +%s)
PYTHONPATH=. /usr/bin/time -v python outputs/s10_exp/spacing.py --config_file "['$C/common.yaml','$C/lowdata.yaml']" \
    --num_per_class 150 --threads 1 --variants ddim:50:fp32 dpmpp_2m:20:fp32 dpmpp_2m_lin:20:fp32 dpmpp_2m:10:fp32 \
    dpmpp_2m_lin:10:fp32 \
    --out $O/spacing_chest.json --markdown $O/spacing_chest.md > $O/spacing_chest.log 2>&1
echo "spacing_chest $(( $(date +%s) - t0 )) s" >> $O/times.txt
