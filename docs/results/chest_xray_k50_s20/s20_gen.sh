# items 1-2: arms real+syn+aug and real+syn+aug+screen (the evaluate run id's round-trip near-copy screen) on
# generator g$1's DPM-Solver++ 50-step pool, resnet18 300 steps, seeds 5-9
source /work/main/outputs/s20_common.sh  # this folder holds the copy: s20_common.sh
G=$1; O=outputs/medienet_chest_xray_k50_g$G; K="--k_per_class 50 --output_dir $O"
t0=$(date +%s); /usr/bin/time -v python -m monai.bundle run evaluate --config_file "$CFG_E" --num_threads 1 $K $X \
  --evaluation_output_dir $O/evaluation_s20_screen --synthetic_dir $O/synthetic_dpm50 \
  --evaluation_config#arms "['real+syn+aug','real+syn+aug+screen']" --evaluation_config#seeds "[5,6,7,8,9]" \
  --evaluation_config#fidelity False > $L/eval_k50_g$G.log 2>&1
stamp eval_k50_g$G $t0
touch $L/g$G.done
