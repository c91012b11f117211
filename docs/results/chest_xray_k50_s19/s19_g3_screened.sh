# items 4 and 7 on g3: wait for its pool, screen it (pixel, autoencoder), evaluate real+syn+aug on the round-trip pool
source /work/main/outputs/s19_common.sh  # this folder holds the copy: s19_common.sh
while ! grep -q infer_k50_g3 $L/times.txt; do sleep 20; done
bash outputs/s19_item4.sh 3
O=outputs/medienet_chest_xray_k50_g3; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
  --evaluation_output_dir $O/evaluation_s19_screened_autoencoder --synthetic_dir $O/screened_autoencoder \
  --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]" \
  --evaluation_config#fidelity False > $L/eval_k50_g3_screened.log 2>&1
stamp eval_k50_g3_screened $t0
touch $L/screened_g3.done
