# session 22: arm real+syn+aug at synthetic:real ratio 5 on the stored unscreened pools of the given k = 50 generators
# (e.g. "ga1 g1"), classifier seeds 5-9, resnet18 300 steps, fidelity off
source /work/main/outputs/s22_common.sh  # this folder holds the copy: s22_common.sh
for G in "$@"; do
  O=outputs/medienet_chest_xray_k50_$G; K="--k_per_class 50 --output_dir $O"
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
    --evaluation_output_dir $O/evaluation_s22_ratio5 --synthetic_dir $O/synthetic_dpm50 \
    --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[5,6,7,8,9]" \
    --evaluation_config#synthetic_ratio 5 --evaluation_config#fidelity False > $L/eval_ratio5_$G.log 2>&1
  stamp eval_ratio5_$G $t0
done
touch $L/lane_$1.done
