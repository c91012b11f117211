source docs/results/chest_xray_k200_s16/s16_common.sh
G4=outputs/medienet_chest_xray_k200_g4
X="${X/max_steps 300/max_steps 600}"
ev g4_600_s0-4 $G4 --evaluation_output_dir outputs/s16_eval/g4_600_s0-4 --synthetic_dir $G4/synthetic_dpm50 --generator_checkpoint "['$G4/checkpoints/diffusion.pt']" --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]"
touch $L/laneC.done
