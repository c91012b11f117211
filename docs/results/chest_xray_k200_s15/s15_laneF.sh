source /work/main/outputs/s15_common.sh
while ! grep -q quality_fewsteps_clamp $L/times.txt; do sleep 10; done
G4=outputs/medienet_chest_xray_k200_g4
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run inference --config_file "['$C/common.yaml','$C/inference.yaml','$C/lowdata.yaml']" \
  --num_threads 1 --output_dir $G4 --inference_output_dir $G4/synthetic_dpm20_clip1.5 --sampler dpmpp_2m --num_inference_steps 20 \
  --inference_precision bf16 --inference_clip_sample_range "[-1.5, 1.5]" > $L/infer_g4_clip15.log 2>&1
stamp infer_g4_clip15 $t0
ev clip15_g4_01234 $G4 --evaluation_output_dir outputs/s15_clip15/g4_seeds01234 --synthetic_dir $G4/synthetic_dpm20_clip1.5 \
   --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]"
touch $L/.doneF
