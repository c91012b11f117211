source /work/main/outputs/s13_common.sh
while [ ! -f $L/.done5 ]; do sleep 15; done
G4=outputs/medienet_chest_xray_k200_g4
ev item6_g4_s5-9 $C $G4 --evaluation_output_dir $G4/evaluation_s13_s5-9 --synthetic_dir $G4/synthetic_dpm50 \
    --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[5,6,7,8,9]" --evaluation_config#max_steps 300
touch $L/.done6
