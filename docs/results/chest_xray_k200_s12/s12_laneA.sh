source /work/main/outputs/s12_common.sh
train 2
train 4
infer 4
evsyn 4
crit g4 outputs/medienet_chest_xray_k200_g4 outputs/medienet_chest_xray_k200_g4/synthetic_dpm50
touch $L/.doneA
