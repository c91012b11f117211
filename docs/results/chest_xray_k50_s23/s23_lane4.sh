# session 23: arm real+syn+aug+hard (the least typical label-consistent half of the pool by a real+aug classifier)
# at synthetic:real ratio 1 on the stored unscreened pools of the given k = 50 generators (e.g. "ga1"),
# classifier seeds 0-4 (addendum, item 4), resnet18 300 steps, fidelity off
source /work/main/outputs/s23_common.sh  # this folder holds the copy: s23_common.sh
for G in "$@"; do
  O=outputs/medienet_chest_xray_k50_$G; K="--k_per_class 50 --output_dir $O"
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
    --evaluation_output_dir $O/evaluation_s23_hard_seeds01234 --synthetic_dir $O/synthetic_dpm50 \
    --evaluation_config#arms "['real+syn+aug+hard']" --evaluation_config#seeds "[0,1,2,3,4]" \
    --evaluation_config#fidelity False > $L/eval_hard_${G}_01234.log 2>&1
  stamp eval_hard_${G}_01234 $t0
done
touch $L/lane4_$1.done
