source /work/main/outputs/s14_common.sh
lr=$1; waitfile=$2
while [ ! -f $L/$waitfile ]; do sleep 15; done
G0=outputs/medienet_chest_xray_k200; O=outputs/medienet_chest_xray_k200_steps_long_lr$lr
CFG="['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml','$C/distill.yaml','$C/distill_steps.yaml']"
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run distill_steps --config_file "$CFG" --num_threads 1 --output_dir $O \
    --student_steps 20 --step_teacher_checkpoint $G0/checkpoints/diffusion_distilled.pt --step_loss_weighting none \
    --distill_epochs 300 --distill_lr $lr --diffusion_snapshot_every 50 > $L/long_lr$lr.log 2>&1
stamp long_lr$lr $t0
touch $L/.done_long_lr$lr
