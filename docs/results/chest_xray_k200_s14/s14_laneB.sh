source /work/main/outputs/s14_common.sh
G4=outputs/medienet_chest_xray_k200_g4
ev item1_g4_r50_600 $C $G4 --evaluation_output_dir $G4/evaluation_s14_r50_600 --synthetic_dir $G4/synthetic_dpm50 \
    --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2]" --evaluation_config#max_steps 600 \
    --evaluation_config#classifier resnet50
touch $L/.done1
