# Session 26: retrain the non-copying k = 50 generator ga$1 of session 21 (fresh checkout: no stored generators) with
# session 21's exact recipe (training_seed $1, the same 100 images, generator_augmentation on, 300 autoencoder / 1500
# diffusion epochs), precision "auto" (bf16 autocast on this AVX-512-BF16 CPU; session 21 ran fp32 on an AVX2 CPU),
# then its DPM-Solver++ 50-step pool of 1000 (guidance 2) and the pixel near-copy screen (measurement only).
SESSION=s26; source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lane_common.sh"
G=$1; O=outputs/medienet_chest_xray_k50_ga$G; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run training --config_file "$CFG_T" --num_threads 1 $K \
  --training_seed $G --generator_augmentation True --ae_epochs 300 --diffusion_epochs 1500 --ae_val_interval_epochs 30 \
  --grid_interval_epochs 300 --ae_checkpointer#save_interval_epochs 25 --diffusion_checkpointer#save_interval_epochs 25 \
  > "$L/train_k50_ga$G.log" 2>&1
stamp "train_k50_ga$G" $t0
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run inference --config_file "$CFG_I" --num_threads 1 $K \
  --inference_output_dir "$O/synthetic_dpm50" --sampler dpmpp_2m --num_inference_steps 50 > "$L/infer_k50_ga$G.log" 2>&1
stamp "infer_k50_ga$G" $t0
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run screen --config_file "$CFG_I" --num_threads 1 $K \
  --screen_dir "$O/synthetic_dpm50" --screened_dir "$O/screened_pixel" --near_copy_space pixel > "$L/screen_ga${G}_pixel.log" 2>&1
stamp "screen_ga${G}_pixel" $t0
touch "$L/ga$G.done"
