# lane B as first run (superseded: without a generator the bundle then trained the real arms on the whole train split; see declared.md)
# lane B: the real-image arms for k = 50 (fp32 here), seeds 0-4; they need no synthetic set
source /work/main/outputs/s18_common.sh  # this folder holds the copy: s18_common.sh
O=outputs/medienet_chest_xray_k50_real; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
  --evaluation_output_dir $O/evaluation_s18_real \
  --evaluation_config#arms "['real','real+aug']" --evaluation_config#seeds "[0,1,2,3,4]" \
  --evaluation_config#fidelity False > $L/eval_k50_real.log 2>&1
stamp eval_k50_real $t0
touch $L/laneB.done
