# item 2: pixel vs Inception near-copy screen of g1's pool (after lane B's real arms and g1's pool)
source /work/main/outputs/s18_common.sh  # this folder holds the copy: s18_common.sh
O=outputs/medienet_chest_xray_k50_g1; K="--k_per_class 50 --output_dir $O"
waitfor laneB.done
while ! grep -q infer_k50_g1 $L/times.txt; do sleep 20; done
for space in pixel inception; do
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run screen --config_file "$CFG_I" --num_threads 1 $K \
    --screen_dir $O/synthetic_dpm50 --screened_dir $O/screened_$space --near_copy_space $space > $L/screen_$space.log 2>&1
  stamp screen_$space $t0
done
touch $L/item2.done
