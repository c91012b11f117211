# generator ga$1: the k = 50 recipe of g$1 (training_seed $1, same 100 images) with generator_augmentation on;
# its DPM-Solver++ 50-step pool of 1000, pixel and autoencoder round-trip near-copy screens, then arm real+syn+aug
# on classifier seeds 5-9 (declared primary) and 0-4 (secondary), resnet18 300 steps
source /work/main/outputs/s21_common.sh  # this folder holds the copy: s21_common.sh
G=$1; O=outputs/medienet_chest_xray_k50_ga$G; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run training --config_file "$CFG_T" --num_threads 1 $K \
  --training_seed $G --generator_augmentation True --ae_epochs 300 --diffusion_epochs 1500 --ae_val_interval_epochs 30 \
  --grid_interval_epochs 300 --ae_checkpointer#save_interval_epochs 25 --diffusion_checkpointer#save_interval_epochs 25 \
  > $L/train_k50_ga$G.log 2>&1
stamp train_k50_ga$G $t0
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run inference --config_file "$CFG_I" --num_threads 1 $K \
  --inference_output_dir $O/synthetic_dpm50 --sampler dpmpp_2m --num_inference_steps 50 > $L/infer_k50_ga$G.log 2>&1
stamp infer_k50_ga$G $t0
for space in pixel autoencoder; do
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run screen --config_file "$CFG_I" --num_threads 1 $K \
    --screen_dir $O/synthetic_dpm50 --screened_dir $O/screened_$space --near_copy_space $space > $L/screen_ga${G}_$space.log 2>&1
  stamp screen_ga${G}_$space $t0
done
for seeds in 5,6,7,8,9 0,1,2,3,4; do
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
    --evaluation_output_dir $O/evaluation_s21_seeds${seeds//,/} --synthetic_dir $O/synthetic_dpm50 \
    --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[$seeds]" \
    --evaluation_config#fidelity False > $L/eval_k50_ga${G}_${seeds//,/}.log 2>&1
  stamp eval_k50_ga${G}_${seeds//,/} $t0
done
touch $L/ga$G.done
