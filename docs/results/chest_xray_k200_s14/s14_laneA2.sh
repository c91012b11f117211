source /work/main/outputs/s14_common.sh
while kill -0 23724 2>/dev/null; do sleep 10; done; grep -a Elapsed $L/snr_steps10.log >> $L/times.txt
K=outputs/medienet_chest_xray_k200/checkpoints; KS=outputs/medienet_chest_xray_k200_steps_snr/checkpoints
t0=$(date +%s)
/usr/bin/time -v python -m bench.quality --config_file "['$C/common.yaml','$C/lowdata.yaml']" \
    --checkpoint $K/diffusion.pt $K/diffusion_distilled.pt $K/diffusion_steps20.pt $K/diffusion_steps10.pt \
        $KS/diffusion_steps20.pt $KS/diffusion_steps10.pt \
    --num_per_class 150 --threads 1 \
    --variants 0/ddim:50:fp32 1/dpmpp_1@trailing:40:fast 1/dpmpp_1@trailing:20:fast 1/dpmpp_1@trailing:10:fast \
        1/dpmpp_1@trailing:5:fast 2/dpmpp_1@trailing:20:fast 3/dpmpp_1@trailing:10:fast \
        4/dpmpp_1@trailing:20:fast 5/dpmpp_1@trailing:10:fast \
    --out outputs/s14_steps_quality.json --markdown outputs/s14_steps_quality.md > $L/steps_quality.log 2>&1
stamp steps_quality $t0
touch $L/.doneQ
