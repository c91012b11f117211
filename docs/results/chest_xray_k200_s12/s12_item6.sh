source /work/main/outputs/s12_common.sh
G0=outputs/medienet_chest_xray_k200
t0=$(date +%s)
/usr/bin/time -v python -m monai.bundle run inference --config_file "$CFG_I" --num_threads 2 --output_dir $G0 \
    --inference_checkpoint $G0/checkpoints/diffusion_distilled.pt --guidance_scale 1.0 \
    --inference_output_dir $G0/synthetic_distilled_dpm50 --sampler dpmpp_2m --num_inference_steps 50 --inference_precision bf16 > $L/infer_student.log 2>&1
stamp infer_student $t0
S="--synthetic_dir $G0/synthetic_distilled_dpm50 --generator_checkpoint ['$G0/checkpoints/diffusion_distilled.pt'] --evaluation_config#arms ['real+syn+aug'] --evaluation_config#fidelity False"
ev eval_student_s012 $G0 --evaluation_output_dir $G0/evaluation_s12_student_s012 $S --evaluation_config#seeds "[0,1,2]" &
ev eval_student_s34 $G0 --evaluation_output_dir $G0/evaluation_s12_student_s34 $S --evaluation_config#seeds "[3,4]" &
wait
touch $L/.done6
