source docs/results/chest_xray_k200_s16/s16_common.sh
G0=outputs/medienet_chest_xray_k200
X="${X/max_steps 300/max_steps 600}"
ev real_aug_600_s0-4 $G0 --evaluation_output_dir outputs/s16_eval/real_aug_600_s0-4 --evaluation_config#arms "['real','real+aug']" --evaluation_config#seeds "[0,1,2,3,4]"
touch $L/laneB.done
