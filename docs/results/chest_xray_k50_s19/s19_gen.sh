# item 1: train (or resume) k = 50 generator g$1 (training_seed $1), write its pool, evaluate real+syn+aug seeds 0-4
source /work/main/outputs/s19_common.sh  # this folder holds the copy: s19_common.sh
G=$1; O=outputs/medienet_chest_xray_k50_g$G; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run training --config_file "$CFG_T" --num_threads 1 $K \
  --training_seed $G --ae_epochs 300 --diffusion_epochs 1500 --ae_val_interval_epochs 30 --grid_interval_epochs 300 \
  --ae_checkpointer#save_interval_epochs 25 --diffusion_checkpointer#save_interval_epochs 25 > $L/train_k50_g$G.log 2>&1
stamp train_k50_g$G $t0
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run inference --config_file "$CFG_I" --num_threads 1 $K \
  --inference_output_dir $O/synthetic_dpm50 --sampler dpmpp_2m --num_inference_steps 50 > $L/infer_k50_g$G.log 2>&1
stamp infer_k50_g$G $t0
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
  --evaluation_output_dir $O/evaluation_s19_syn --synthetic_dir $O/synthetic_dpm50 \
  --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[0,1,2,3,4]" \
  --evaluation_config#fidelity False > $L/eval_k50_g${G}_syn.log 2>&1
stamp eval_k50_g${G}_syn $t0
touch $L/gen_g$G.done
