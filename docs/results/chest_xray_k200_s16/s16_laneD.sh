source docs/results/chest_xray_k200_s16/s16_common.sh
G4=outputs/medienet_chest_xray_k200_g4
ev g4_ratio2_s0-4 $G4 --evaluation_output_dir outputs/s16_eval/g4_ratio2_s0-4 --synthetic_dir $G4/synthetic_dpm50 --generator_checkpoint "['$G4/checkpoints/diffusion.pt']" --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]" --evaluation_config#synthetic_ratio 2.0
touch $L/laneD.done
