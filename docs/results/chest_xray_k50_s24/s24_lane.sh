# session 24: stronger classic augmentation (rotate 15 deg, crop area 0.7-1, intensity jitter 0.2; default 10 / 0.85 /
# 0.1) for every augmented arm, k = 50, classifier seeds 5-9, resnet18 300 steps, fidelity off. Each argument is one
# job: "real" = arm real+aug in the no-generator folder; any other name G = arm real+syn+aug on G's stored pool.
# A job named "g1" (exploratory) only starts before 03:25 UTC (declared cutoff).
SESSION=s24; source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lane_common.sh"
A=(--evaluation_config#rotate_degrees 15 --evaluation_config#crop_scale "[0.7,1.0]" --evaluation_config#intensity_jitter 0.2)
for G in "$@"; do
  if [ "$G" = g1 ] && [ "$(date -u +%H%M)" -ge 0325 ]; then echo "skip g1 (after 03:25)" >> "$L/times.txt"; continue; fi
  O=outputs/medienet_chest_xray_k50_$G; K="--k_per_class 50 --output_dir $O"
  if [ "$G" = real ]; then ARMS="['real+aug']"; S=""; else ARMS="['real+syn+aug']"; S="--synthetic_dir $O/synthetic_dpm50"; fi
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X "${A[@]}" $S \
    --evaluation_output_dir $O/evaluation_s24_strongaug --evaluation_config#arms "$ARMS" \
    --evaluation_config#seeds "[5,6,7,8,9]" --evaluation_config#fidelity False > "$L/eval_strongaug_$G.log" 2>&1
  stamp "eval_strongaug_$G" $t0
done
touch "$L/lane_$1.done"
