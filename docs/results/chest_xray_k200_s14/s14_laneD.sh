source /work/main/outputs/s14_common.sh
G0=outputs/medienet_chest_xray_k200; O=outputs/medienet_chest_xray_k200_steps_k4
CFG="['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml','$C/distill.yaml','$C/distill_steps.yaml']"
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run distill_steps --config_file "$CFG" --num_threads 1 --output_dir $O \
    --student_steps 20 --teacher_substeps 4 --step_teacher_checkpoint $G0/checkpoints/diffusion_distilled.pt \
    --step_loss_weighting none --distill_epochs 200 --diffusion_snapshot_every 50 > $L/k4.log 2>&1
stamp k4 $t0
touch $L/.done_k4
