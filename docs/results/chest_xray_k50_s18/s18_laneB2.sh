# lane B2: the real-image arms for k = 50 again, after the evaluation_real fix; one job per arm ($1 = real | real+aug)
source /work/main/outputs/s18_common.sh  # this folder holds the copy: s18_common.sh
O=outputs/medienet_chest_xray_k50_real; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
  --evaluation_output_dir $O/evaluation_s18_$1 --evaluation_config#arms "['$1']" \
  --evaluation_config#seeds "[0,1,2,3,4]" --evaluation_config#fidelity False > $L/eval_k50_$1.log 2>&1
stamp eval_k50_$1 $t0
touch $L/laneB2_$1.done
