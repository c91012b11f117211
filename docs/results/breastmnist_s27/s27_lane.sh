# Session 27: BreastMNIST classifiers, resnet18 300 steps (session 10's recipe), fidelity off. One job per argument
# JOB:SEEDSET — JOB R = arm `real` (no-generator folder outputs/medienet_breastmnist_s27_real: the bundle's own 545
# training images, the ones the generators saw), JOB S<ratio>g<G> = arm `syn` (synthetic only, class balanced,
# <ratio> x 545 images) on generator g<G>'s DPM-Solver++ pool (waits for outputs/s27_logs/g<G>.done); G may carry
# s27_gen.sh's suffix, e.g. S3g0L750.
# SEEDSET: one digit per seed (01234). CUTOFF=HHMM (UTC, default 1340): jobs not started by then are skipped.
# Output: <folder>/evaluation_s27_<JOB>_seeds<SEEDSET>.
SESSION=s27; source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lane_common.sh"
B=bundles/medienet_pneumoniamnist/configs; CFG="['$B/common.yaml','$B/evaluate.yaml','$B/breastmnist.yaml']"
for ARG in "$@"; do
  IFS=: read -r JOB SET <<< "$ARG"
  SEEDS="[$(echo "$SET" | sed 's/./&,/g; s/,$//')]"
  if [[ $JOB == R ]]; then
    O=outputs/medienet_breastmnist_s27_real; S="--evaluation_config#arms ['real']"
  elif [[ $JOB =~ ^S([0-9]+)g([0-9]+(L[0-9]+)?)$ ]]; then
    R=${BASH_REMATCH[1]}; G=${BASH_REMATCH[2]}; O=outputs/medienet_breastmnist_s27_g$G; waitfor "g$G.done"
    S="--evaluation_config#arms ['syn'] --evaluation_config#synthetic_ratio $R --synthetic_dir $O/synthetic_dpm50"
  else echo "bad job $ARG" >&2; exit 2; fi
  if [ "$(date -u +%H%M)" -ge "${CUTOFF:-1340}" ]; then echo "skip $ARG (after the ${CUTOFF:-1340} cutoff)" >> "$L/times.txt"; continue; fi
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG" --num_threads 1 --output_dir $O \
    $S --evaluation_config#max_steps 300 --evaluation_config#seeds "$SEEDS" --evaluation_config#fidelity False \
    --evaluation_config#gradcam_images 0 --evaluation_config#inception_fid False \
    --evaluation_output_dir "$O/evaluation_s27_${JOB}_seeds$SET" > "$L/eval_${JOB}_$SET.log" 2>&1
  stamp "eval_${JOB}_$SET" $t0
done
touch "$L/lane_${1//:/_}.done"
