# Session 27: a BreastMNIST generator with the bundle defaults + the breastmnist.yaml overlay (session 10's recipe:
# 90 autoencoder / 375 diffusion epochs on all 545 training images; training_seed $1), precision "auto" (bf16
# autocast on this AVX-512-BF16 CPU), then its DPM-Solver++ 50-step pool of 1000 images per class (guidance 2, the
# bundle defaults) — enough for the synthetic-only arm at ratio 3 (1635 images, class balanced: 818 per class).
# Optional second argument E: train the U-Net for E diffusion epochs instead of 375 (folder suffix L<E>, e.g. g0L750).
SESSION=s27; source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lane_common.sh"
B=bundles/medienet_pneumoniamnist/configs; G=$1; E=${2:-375}
if [ "$E" != 375 ]; then G=${G}L$E; fi
O=outputs/medienet_breastmnist_s27_g$G
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run training --num_threads 1 --output_dir $O --training_seed ${1} \
  --diffusion_epochs $E --config_file "['$B/common.yaml','$B/train.yaml','$B/breastmnist.yaml']" > "$L/train_g$G.log" 2>&1
stamp "train_g$G" $t0
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run inference --num_threads 1 --output_dir $O \
  --config_file "['$B/common.yaml','$B/inference.yaml','$B/breastmnist.yaml']" --num_images_per_class 1000 \
  --inference_output_dir "$O/synthetic_dpm50" > "$L/infer_g$G.log" 2>&1
stamp "infer_g$G" $t0
touch "$L/g$G.done"
