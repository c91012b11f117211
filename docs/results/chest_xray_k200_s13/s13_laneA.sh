source /work/main/outputs/s13_common.sh
G0=outputs/medienet_chest_xray_k200; PP=outputs/chest_xray_k200_pooled_g0-4
ev item1_pooled_s5-9 $C $G0 --evaluation_output_dir $PP/evaluation_s13_s5-9 --synthetic_dir $PP \
    --generator_checkpoint "$CHEST_CK" --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[5,6,7,8,9]" \
    --evaluation_config#max_steps 300
touch $L/.done1
ev item2_pooled_r50 $C $G0 --evaluation_output_dir $PP/evaluation_s13_r50_600 --synthetic_dir $PP \
    --generator_checkpoint "$CHEST_CK" --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2]" \
    --evaluation_config#max_steps 600 --evaluation_config#classifier resnet50
touch $L/.done2
