# Session 25: a random gamma (0.7-1.5, MONAI RandAdjustContrastd) added to the default classic augmentation of every
# augmented arm, k = 50, resnet18 300 steps, fidelity off. One job per argument SOURCE:SEEDSET, e.g. real:56789 or
# ga1:01234: SOURCE "real" = arm real+aug in the no-generator folder, any other G = arm real+syn+aug on G's stored pool;
# SEEDSET = the classifier seeds as digits. Output: <source folder>/evaluation_s25_gamma_seeds<SEEDSET>.
SESSION=s25; source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lane_common.sh"
A=(--evaluation_config#gamma_range "[0.7,1.5]")
for JOB in "$@"; do
  G=${JOB%%:*}; SET=${JOB#*:}; SEEDS="[$(echo "$SET" | sed 's/./&,/g; s/,$//')]"
  if [ "$(date -u +%H%M)" -ge 0800 ]; then echo "skip $JOB (after the 08:00 cutoff)" >> "$L/times.txt"; continue; fi
  O=outputs/medienet_chest_xray_k50_$G; K="--k_per_class 50 --output_dir $O"
  if [ "$G" = real ]; then ARMS="['real+aug']"; S=""; else ARMS="['real+syn+aug']"; S="--synthetic_dir $O/synthetic_dpm50"; fi
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X "${A[@]}" $S \
    --evaluation_output_dir "$O/evaluation_s25_gamma_seeds$SET" --evaluation_config#arms "$ARMS" \
    --evaluation_config#seeds "$SEEDS" --evaluation_config#fidelity False > "$L/eval_gamma_${G}_$SET.log" 2>&1
  stamp "eval_gamma_${G}_$SET" $t0
done
touch "$L/lane_${1//:/_}.done"
