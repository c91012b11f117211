# session 24 addendum (item 4): s24_lane.sh's strong augmentation on classifier seeds 0-4 into
# evaluation_s24_strongaug_seeds01234. First argument: what to wait for ("pid:N" = a running job's process id,
# "file:NAME" = $L/NAME); then the jobs ("real" = arm real+aug without a generator, G = arm real+syn+aug on G's pool).
SESSION=s24; source "$(dirname "${BASH_SOURCE[0]}")/../scripts/lane_common.sh"
A=(--evaluation_config#rotate_degrees 15 --evaluation_config#crop_scale "[0.7,1.0]" --evaluation_config#intensity_jitter 0.2)
case "$1" in pid:*) while kill -0 "${1#pid:}" 2> /dev/null; do sleep 20; done ;; file:*) waitfor "${1#file:}" ;; esac
shift
for G in "$@"; do
  O=outputs/medienet_chest_xray_k50_$G; K="--k_per_class 50 --output_dir $O"
  if [ "$G" = real ]; then ARMS="['real+aug']"; S=""; else ARMS="['real+syn+aug']"; S="--synthetic_dir $O/synthetic_dpm50"; fi
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X "${A[@]}" $S \
    --evaluation_output_dir $O/evaluation_s24_strongaug_seeds01234 --evaluation_config#arms "$ARMS" \
    --evaluation_config#seeds "[0,1,2,3,4]" --evaluation_config#fidelity False > "$L/eval_strongaug_${G}_01234.log" 2>&1
  stamp "eval_strongaug_${G}_01234" $t0
done
touch "$L/lane4_$1.done"
