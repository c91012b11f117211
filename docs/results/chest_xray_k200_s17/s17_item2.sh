# item 2: chest X-ray k = 50; run as "bash s17_item2.sh <lane-done-file-to-wait-for>" from two lanes
source /work/main/outputs/s17_common.sh
O=outputs/medienet_chest_xray_k50
K="--k_per_class 50 --output_dir $O"
waitfor $1
if mkdir $L/.item2_claim 2>/dev/null; then
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run training --config_file "$CFG_T" --num_threads 1 $K \
    --ae_epochs 300 --diffusion_epochs 1500 --ae_val_interval_epochs 30 --grid_interval_epochs 300 \
    --ae_checkpointer#save_interval_epochs 25 --diffusion_checkpointer#save_interval_epochs 25 > $L/train_k50.log 2>&1
  stamp train_k50 $t0
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run inference --config_file "$CFG_I" --num_threads 1 $K \
    --inference_output_dir $O/synthetic_dpm50 --sampler dpmpp_2m --num_inference_steps 50 --inference_precision bf16 \
    > $L/infer_k50.log 2>&1
  stamp infer_k50 $t0; touch $L/.pool_k50
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
    --evaluation_output_dir $O/evaluation_s17_syn --synthetic_dir $O/synthetic_dpm50 \
    --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]" \
    --evaluation_config#fidelity False > $L/eval_k50_syn.log 2>&1
  stamp eval_k50_syn $t0
else
  waitfor .pool_k50
  t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
    --evaluation_output_dir $O/evaluation_s17_real --synthetic_dir $O/synthetic_dpm50 \
    --evaluation_config#arms "['real','real+aug']" --evaluation_config#seeds "[0,1,2,3,4]" \
    --evaluation_config#fidelity False > $L/eval_k50_real.log 2>&1
  stamp eval_k50_real $t0
fi
touch $L/item2_$(basename $1).done
