source /work/main/outputs/s13_common.sh
while [ ! -f $L/.done2 ] || [ ! -f $L/.screen_ok ]; do sleep 15; done
G0=outputs/medienet_chest_xray_k200
SP=outputs/chest_xray_k200_screened_pooled_g0-4; SU=outputs/chest_xray_k200_screened_union_g0-4
ev item3a_screened_pooled_s5-9 $C $G0 --evaluation_output_dir $SP/evaluation_s13_s5-9 --synthetic_dir $SP \
    --generator_checkpoint "$CHEST_CK" --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[5,6,7,8,9]" \
    --evaluation_config#max_steps 300
touch $L/.done3a
ev item3b_screened_union_r3_s5-9 $C $G0 --evaluation_output_dir $SU/evaluation_s13_r3_s5-9 --synthetic_dir $SU \
    --generator_checkpoint "$CHEST_CK" --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[5,6,7,8,9]" \
    --evaluation_config#max_steps 300 --evaluation_config#synthetic_ratio 3.0
touch $L/.done3b
