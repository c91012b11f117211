source /work/main/outputs/s13_common.sh
PG0=outputs/medienet_pneumoniamnist_k200
for g in 1 2 3; do
  O=${PG0}_g$g; t0=$(date +%s)
  /usr/bin/time -v python -m monai.bundle run training --config_file "['$P/common.yaml','$P/train.yaml','$P/lowdata.yaml']" \
      --num_threads 1 --output_dir $O --training_seed $g > $L/ptrain_g$g.log 2>&1
  stamp ptrain_g$g $t0; t0=$(date +%s)
  /usr/bin/time -v python -m monai.bundle run inference --config_file "['$P/common.yaml','$P/inference.yaml','$P/lowdata.yaml']" \
      --num_threads 1 --output_dir $O --inference_output_dir $O/synthetic_dpm50 --sampler dpmpp_2m --num_inference_steps 50 \
      --inference_precision bf16 > $L/pinfer_g$g.log 2>&1
  stamp pinfer_g$g $t0
done
PP=outputs/pneumoniamnist_k200_pooled_g0-3
python -m monai_medienet.io pool $PG0/synthetic_dpm50 ${PG0}_g1/synthetic_dpm50 ${PG0}_g2/synthetic_dpm50 ${PG0}_g3/synthetic_dpm50 \
    --per_class 125 --output_dir $PP > $L/ppool.log 2>&1
PCK="['$PG0/checkpoints/diffusion.pt','${PG0}_g1/checkpoints/diffusion.pt','${PG0}_g2/checkpoints/diffusion.pt','${PG0}_g3/checkpoints/diffusion.pt']"
ev item4_ppooled_s3-7 $P $PG0 --evaluation_output_dir $PP/evaluation_s13_s3-7 --synthetic_dir $PP --generator_checkpoint "$PCK" \
    --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[3,4,5,6,7]" --evaluation_config#max_steps 300
touch $L/.done4
for g in 1 2 3; do
  if [ $(date -u +%H%M) -gt 1835 ]; then echo "item4 g$g eval skipped: past 18:35" >> $L/times.txt; continue; fi
  O=${PG0}_g$g
  ev item4_pg${g}_s3-7 $P $O --evaluation_output_dir $O/evaluation_s13_s3-7 --synthetic_dir $O/synthetic_dpm50 \
      --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[3,4,5,6,7]" --evaluation_config#max_steps 300
done
touch $L/.done4b
