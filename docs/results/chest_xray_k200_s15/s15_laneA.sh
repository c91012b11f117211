source /work/main/outputs/s15_common.sh
G0=outputs/medienet_chest_xray_k200
ev realaug $G0 --evaluation_output_dir outputs/s15_valsel/real_aug --evaluation_config#arms "['real+aug']" --evaluation_config#seeds "[0,1,2,3,4]"
for g in 0 1 2 3 4; do
  case $g in 0) O=$G0;; 1) O=outputs/medienet_chest_xray_k200_s11;; *) O=outputs/medienet_chest_xray_k200_g$g;; esac
  ev syn_g$g $O --evaluation_output_dir outputs/s15_valsel/g$g --synthetic_dir $O/synthetic_dpm50 \
     --generator_checkpoint "['$O/checkpoints/diffusion.pt']" \
     --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]"
done
touch $L/.doneA
