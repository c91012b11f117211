source /work/main/outputs/s12_common.sh
while [ ! -f $L/.doneA ]; do sleep 15; done
P=outputs/chest_xray_k200_pooled_g0-4
python -m monai_medienet.io pool outputs/medienet_chest_xray_k200/synthetic_dpm50 outputs/medienet_chest_xray_k200_s11/synthetic_dpm50 \
    outputs/medienet_chest_xray_k200_g2/synthetic_dpm50 outputs/medienet_chest_xray_k200_g3/synthetic_dpm50 \
    outputs/medienet_chest_xray_k200_g4/synthetic_dpm50 --per_class 100 --output_dir $P > $L/pool.log 2>&1
CK="['outputs/medienet_chest_xray_k200/checkpoints/diffusion.pt','outputs/medienet_chest_xray_k200_s11/checkpoints/diffusion.pt','outputs/medienet_chest_xray_k200_g2/checkpoints/diffusion.pt','outputs/medienet_chest_xray_k200_g3/checkpoints/diffusion.pt','outputs/medienet_chest_xray_k200_g4/checkpoints/diffusion.pt']"
ev eval_pooled outputs/medienet_chest_xray_k200 --evaluation_output_dir $P/evaluation_s12 --synthetic_dir $P \
    --generator_checkpoint "$CK" --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]" --evaluation_config#fidelity False
touch $L/.doneC
