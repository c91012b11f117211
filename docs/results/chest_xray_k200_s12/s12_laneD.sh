source /work/main/outputs/s12_common.sh
while [ ! -f $L/.doneB ]; do sleep 15; done
G0=outputs/medienet_chest_xray_k200
CFG_D="['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml','$C/distill.yaml']"
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run distill_guidance --config_file "$CFG_D" --num_threads 1 --output_dir $G0 > $L/distill.log 2>&1
stamp distill $t0; t0=$(date +%s)
/usr/bin/time -v python -m bench.quality --config_file "['$C/common.yaml','$C/lowdata.yaml']" \
    --checkpoint $G0/checkpoints/diffusion.pt $G0/checkpoints/diffusion_distilled.pt --num_per_class 150 --threads 1 \
    --variants ddim:50:fp32 dpmpp_2m:20:fast dpmpp_2m:10:fast --out outputs/s12_distill_quality.json \
    --markdown outputs/s12_distill_quality.md > $L/distill_quality.log 2>&1
stamp distill_quality $t0
touch $L/.doneD
