# Session 26 addendum: s26_lane.sh for seed sets of any seeds, one job per argument MODE:ARM:S1,S2,..., e.g.
# T:aug:10,11,12,13,14 -> <source folder>/evaluation_s26_T_aug_seeds10-14 (first-last seed in the folder name).
# WAIT=<file in outputs/s26_logs> makes the lane wait for that file first.
SESSION=s26; source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lane_common.sh"
if [ -n "${WAIT:-}" ]; then waitfor "$WAIT"; fi
for JOB in "$@"; do
  IFS=: read -r MODE ARM LIST <<< "$JOB"; SEEDS="[$LIST]"; SET="${LIST%%,*}-${LIST##*,}"
  case $MODE in T) SPLIT=test ;; V) SPLIT=val ;; *) echo "bad mode in $JOB" >&2; exit 2 ;; esac
  case $ARM in
    real) ARMS="['real']"; G=real; S="" ;;
    aug) ARMS="['real+aug']"; G=real; S="" ;;
    *) ARMS="['real+syn+aug']"; G=$ARM; waitfor "$G.done"; S="--synthetic_dir outputs/medienet_chest_xray_k50_$G/synthetic_dpm50" ;;
  esac
  if [ "$(date -u +%H%M)" -ge 1050 ]; then echo "skip $JOB (after the 10:50 cutoff)" >> "$L/times.txt"; continue; fi
  O=outputs/medienet_chest_xray_k50_$G; K="--k_per_class 50 --output_dir $O"; N="${MODE}_${ARM}_$SET"
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X $S \
    --selection_test_fraction 0.5 --selection_split $SPLIT --evaluation_output_dir "$O/evaluation_s26_${MODE}_${ARM}_seeds$SET" \
    --evaluation_config#arms "$ARMS" --evaluation_config#seeds "$SEEDS" --evaluation_config#fidelity False > "$L/eval_$N.log" 2>&1
  stamp "eval_$N" $t0
done
