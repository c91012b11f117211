source /work/main/outputs/s15_common.sh
while [ ! -f $L/.doneB ]; do sleep 20; done
G4=outputs/medienet_chest_xray_k200_g4
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run inference --config_file "['$C/common.yaml','$C/inference.yaml','$C/lowdata.yaml']" \
  --num_threads 1 --output_dir $G4 --inference_output_dir $G4/synthetic_dpm50_noclip --sampler dpmpp_2m --num_inference_steps 50 \
  --inference_precision bf16 --inference_clip_sample False > $L/infer_g4_noclip.log 2>&1
stamp infer_g4_noclip $t0
for S in "0,1,2,3,4" "5,6,7,8,9"; do
  ev noclip_g4_${S//,/} $G4 --evaluation_output_dir outputs/s15_noclip/g4_seeds${S//,/} --synthetic_dir $G4/synthetic_dpm50_noclip \
     --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[$S]"
done
touch $L/.doneD1
# item 3
Q=outputs/s15_quality
G0=outputs/medienet_chest_xray_k200
S=outputs/medienet_chest_xray_k200_steps_noclip
CFG="['$C/common.yaml','$C/train.yaml','$C/lowdata.yaml','$C/distill.yaml','$C/distill_steps.yaml']"
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run distill_steps --config_file "$CFG" --num_threads 1 --output_dir $S --student_steps 20 \
    --step_teacher_checkpoint $G0/checkpoints/diffusion_distilled.pt --step_loss_weighting none \
    --scheduler_config#clip_sample False > $L/distill_noclip.log 2>&1
stamp distill_noclip $t0
t0=$(date +%s)
/usr/bin/time -v python -m bench.quality --config_file "['$C/common.yaml','$C/lowdata.yaml']" \
  --checkpoint $G0/checkpoints/diffusion.pt $G0/checkpoints/diffusion_distilled.pt $G0/checkpoints/diffusion_steps20.pt $S/checkpoints/diffusion_steps20.pt \
  --num_per_class 150 --threads 1 --classifier_cache $Q/feature_classifier.pt --variants 0/ddim:50:fp32 \
  1/dpmpp_1@trailing:40:fast:clipoff 1/dpmpp_1@trailing:20:fast:clipoff 2/dpmpp_1@trailing:20:fast 2/dpmpp_1@trailing:20:fast:clipoff \
  3/dpmpp_1@trailing:20:fast 3/dpmpp_1@trailing:20:fast:clipddim \
  --out $Q/s15_noclip_student.json --markdown $Q/s15_noclip_student.md > $L/quality_noclip_student.log 2>&1
stamp quality_noclip_student $t0
t0=$(date +%s)
python docs/results/step_distill_s14/gap.py --noclip $G0/checkpoints/diffusion_distilled.pt 20 2 $S/checkpoints/diffusion_steps20.pt $G0/checkpoints/diffusion_steps20.pt > $Q/gap_noclip.md 2> $L/gap_noclip.err
stamp gap_noclip $t0
touch $L/.doneD
