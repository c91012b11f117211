source /work/main/outputs/s14_common.sh
while [ ! -f $L/.done_long_lr1e-4 ] || [ ! -f $L/.done_k4 ]; do sleep 10; done
K=outputs/medienet_chest_xray_k200/checkpoints
t0=$(date +%s)
/usr/bin/time -v python -m bench.quality --config_file "['$C/common.yaml','$C/lowdata.yaml']" \
    --checkpoint $K/diffusion.pt $K/diffusion_distilled.pt \
        outputs/medienet_chest_xray_k200_steps_long_lr1e-4/checkpoints/diffusion_steps20.pt \
        outputs/medienet_chest_xray_k200_steps_k4/checkpoints/diffusion_steps20.pt \
    --num_per_class 150 --threads 2 \
    --variants 0/ddim:50:fp32 1/dpmpp_1@trailing:80:fast 1/dpmpp_1@trailing:40:fast 1/dpmpp_1@trailing:20:fast \
        2/dpmpp_1@trailing:20:fast 3/dpmpp_1@trailing:20:fast \
    --out outputs/s14_steps_quality_long.json --markdown outputs/s14_steps_quality_long.md > $L/steps_quality_long.log 2>&1
stamp steps_quality_long $t0
touch $L/.doneQ2
