source /work/main/outputs/s13_common.sh
while [ ! -f $L/.done3b ]; do sleep 15; done
G0=outputs/medienet_chest_xray_k200
ev item5_crit_student $C $G0 --evaluation_output_dir $G0/criteria_s13_student --synthetic_dir $G0/synthetic_distilled_dpm50 \
    --generator_checkpoint $G0/checkpoints/diffusion_distilled.pt --evaluation_config#arms "['real+aug']" \
    --evaluation_config#seeds "[0]" --evaluation_config#max_steps 300 --evaluation_config#fidelity True
touch $L/.done5
