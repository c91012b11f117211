source /work/main/outputs/s12_common.sh
train 3
infer 2
infer 3
evsyn 2
evsyn 3
G0=outputs/medienet_chest_xray_k200
ev eval_g0_s34 $G0 --evaluation_output_dir $G0/evaluation_s12_dpm50_s34 --synthetic_dir $G0/synthetic_dpm50 \
    --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[3,4]" --evaluation_config#fidelity False
crit g0 $G0 $G0/synthetic_dpm50
crit g1 outputs/medienet_chest_xray_k200_s11 outputs/medienet_chest_xray_k200_s11/synthetic_dpm50
crit g2 outputs/medienet_chest_xray_k200_g2 outputs/medienet_chest_xray_k200_g2/synthetic_dpm50
crit g3 outputs/medienet_chest_xray_k200_g3 outputs/medienet_chest_xray_k200_g3/synthetic_dpm50
touch $L/.doneB
