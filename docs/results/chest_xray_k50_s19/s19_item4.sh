# item 4: pixel and autoencoder round-trip near-copy screens of generator g$1's pool
source /work/main/outputs/s19_common.sh  # this folder holds the copy: s19_common.sh
G=$1; O=outputs/medienet_chest_xray_k50_g$G; K="--k_per_class 50 --output_dir $O"
for space in pixel autoencoder; do
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run screen --config_file "$CFG_I" --num_threads 1 $K \
    --screen_dir $O/synthetic_dpm50 --screened_dir $O/screened_$space --near_copy_space $space > $L/screen_g${G}_$space.log 2>&1
  stamp screen_g${G}_$space $t0
done
