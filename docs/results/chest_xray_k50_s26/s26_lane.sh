# Session 26: early stopping on a test-like selection split, k = 50, resnet18 300 steps, fidelity off. One job per
# argument MODE:ARM:SEEDSET, e.g. T:aug:01234 or V:ga1:56789. MODE T = early stopping on the selection half of the
# test split, V = on the validation split (control); both read out on the other half (--selection_test_fraction 0.5,
# seed 0). ARM real / aug = arm real / real+aug in the no-generator folder; any other G = arm real+syn+aug on G's pool
# (the job waits for outputs/s26_logs/G.done). Output: <source folder>/evaluation_s26_<T|V>_<ARM>_seeds<SEEDSET>.
# SEEDSET: one digit per seed (01234), or a comma list (10,11,12,13,14 -> folder suffix seeds10-14).
# WAIT=<file in outputs/s26_logs> makes the lane wait for that file first; CUTOFF=HHMM (UTC, default 1050): later jobs
# are skipped.
SESSION=s26; source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lane_common.sh"
if [ -n "${WAIT:-}" ]; then waitfor "$WAIT"; fi
for JOB in "$@"; do
  IFS=: read -r MODE ARM SET <<< "$JOB"
  if [[ $SET == *,* ]]; then SEEDS="[$SET]"; SET="${SET%%,*}-${SET##*,}"; else SEEDS="[$(echo "$SET" | sed 's/./&,/g; s/,$//')]"; fi
  case $MODE in T) SPLIT=test ;; V) SPLIT=val ;; *) echo "bad mode in $JOB" >&2; exit 2 ;; esac
  case $ARM in
    real) ARMS="['real']"; G=real; S="" ;;
    aug) ARMS="['real+aug']"; G=real; S="" ;;
    *) ARMS="['real+syn+aug']"; G=$ARM; waitfor "$G.done"; S="--synthetic_dir outputs/medienet_chest_xray_k50_$G/synthetic_dpm50" ;;
  esac
  if [ "$(date -u +%H%M)" -ge "${CUTOFF:-1050}" ]; then echo "skip $JOB (after the ${CUTOFF:-1050} cutoff)" >> "$L/times.txt"; continue; fi
  O=outputs/medienet_chest_xray_k50_$G; K="--k_per_class 50 --output_dir $O"; N="${MODE}_${ARM}_$SET"
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X $S \
    --selection_test_fraction 0.5 --selection_split $SPLIT --evaluation_output_dir "$O/evaluation_s26_${MODE}_${ARM}_seeds$SET" \
    --evaluation_config#arms "$ARMS" --evaluation_config#seeds "$SEEDS" --evaluation_config#fidelity False > "$L/eval_$N.log" 2>&1
  stamp "eval_$N" $t0
done
touch "$L/lane_${1//:/_}.done"
