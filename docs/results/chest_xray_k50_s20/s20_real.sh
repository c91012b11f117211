# item 2: the real-image arms real and real+aug (no generator; the bundle's k = 50 draw), seeds 5-9
source /work/main/outputs/s20_common.sh  # this folder holds the copy: s20_common.sh
O=outputs/medienet_chest_xray_k50_real; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
  --evaluation_output_dir $O/evaluation_s20_real --evaluation_config#arms "['real','real+aug']" \
  --evaluation_config#seeds "[5,6,7,8,9]" --evaluation_config#fidelity False > $L/eval_k50_real.log 2>&1
stamp eval_k50_real $t0
touch $L/real.done
