source /work/main/outputs/s14_common.sh
while kill -0 22022 2>/dev/null; do sleep 10; done
G0=outputs/medienet_chest_xray_k200; S=outputs/medienet_chest_xray_k200_steps_snr
CFG="['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml','$C/distill.yaml','$C/distill_steps.yaml']"
prev=$G0/checkpoints/diffusion_distilled.pt
for n in 20 10 5; do
  t0=$(date +%s)
  /usr/bin/time -v python -m monai.bundle run distill_steps --config_file "$CFG" --num_threads 1 --output_dir $S \
      --student_steps $n --step_teacher_checkpoint $prev --step_loss_weighting truncated_snr > $L/snr_steps$n.log 2>&1
  stamp snr_steps$n $t0
  prev=$S/checkpoints/diffusion_steps$n.pt
done
touch $L/.doneA
