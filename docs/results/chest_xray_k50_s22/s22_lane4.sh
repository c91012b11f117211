# session 22, item 4: arm real+syn+aug at synthetic:real ratio 5 on the stored unscreened pool of a copying k = 50
# generator (g1 or g3), classifier seeds 0-4, resnet18 300 steps, fidelity off
source /work/main/outputs/s22_common.sh  # this folder holds the copy: s22_common.sh
G=$1; O=outputs/medienet_chest_xray_k50_$G; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
  --evaluation_output_dir $O/evaluation_s22_ratio5_seeds01234 --synthetic_dir $O/synthetic_dpm50 \
  --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]" \
  --evaluation_config#synthetic_ratio 5 --evaluation_config#fidelity False > $L/eval_ratio5_${G}_01234.log 2>&1
stamp eval_ratio5_${G}_01234 $t0
touch $L/lane4_$G.done
