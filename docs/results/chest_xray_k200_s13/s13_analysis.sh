#!/usr/bin/env bash
# Thirteenth session: merge the reused arms with this session's runs (from the repo root, venv active).
set -euo pipefail
M="python -m monai_medienet.evaluation merge"
G0=outputs/medienet_chest_xray_k200; O=outputs/s13_merged
RUNS="$G0/evaluation_s10_confirm_aug $G0/evaluation_s11_seeds5-9_real g0=$G0/evaluation_s10_confirm_dpm50"
RUNS="$RUNS pooled=outputs/chest_xray_k200_pooled_g0-4/evaluation_s13_s5-9"
D=""
if [ -f outputs/chest_xray_k200_screened_pooled_g0-4/evaluation_s13_s5-9/results.json ]; then
  RUNS="$RUNS screened=outputs/chest_xray_k200_screened_pooled_g0-4/evaluation_s13_s5-9"
  D="$D --delta real+syn+aug@screened real+aug --delta real+syn+aug@screened real+syn+aug@pooled"
fi
if [ -f outputs/chest_xray_k200_screened_union_g0-4/evaluation_s13_r3_s5-9/results.json ]; then
  RUNS="$RUNS union_r3=outputs/chest_xray_k200_screened_union_g0-4/evaluation_s13_r3_s5-9"
  D="$D --delta real+syn+aug@union_r3 real --delta real+syn+aug@union_r3 real+aug --delta real+syn+aug@union_r3 real+syn+aug@screened"
fi
# item 1 (declared confirmatory primary) and the chest seeds 5-9 table
$M $RUNS --primary real+syn+aug@pooled real+aug --delta real+syn+aug@pooled real $D --output_dir $O/chest_s5-9
# item 2: resnet50, 600 steps, seeds 0-2
if [ -f outputs/chest_xray_k200_pooled_g0-4/evaluation_s13_r50_600/results.json ]; then
  $M $G0/evaluation_r50_600_aug g0=$G0/evaluation_s11_r50_600_dpm50 pooled=outputs/chest_xray_k200_pooled_g0-4/evaluation_s13_r50_600 \
     --delta real+syn+aug@pooled real+aug --output_dir $O/chest_r50_600
fi
# item 4: PneumoniaMNIST, seeds 3-7
P0=outputs/medienet_pneumoniamnist_k200
if [ -f outputs/pneumoniamnist_k200_pooled_g0-3/evaluation_s13_s3-7/results.json ]; then
  PR="$P0/evaluation_s11_s3-7_aug_ddim50 g0=$P0/evaluation_s11_s3-7_dpm50 pooled=outputs/pneumoniamnist_k200_pooled_g0-3/evaluation_s13_s3-7"
  for g in 1 2 3; do
    [ -f ${P0}_g$g/evaluation_s13_s3-7/results.json ] && PR="$PR g$g=${P0}_g$g/evaluation_s13_s3-7"
  done
  $M $PR --primary real+syn+aug@pooled real+aug --output_dir $O/pneumoniamnist_s3-7
fi
# seeds 0-9 together (exploratory summary): real+aug, g0's pool and the pooled pool, each seeds 0-4 + 5-9
$M outputs/medienet_chest_xray_k200_s11/evaluation_s11_aug $G0/evaluation_s10_confirm_aug --pool_seeds --output_dir $O/aug_s0-9
$M outputs/s12_merged/g0_seeds0-4 $G0/evaluation_s10_confirm_dpm50 --pool_seeds --output_dir $O/g0_s0-9
$M outputs/chest_xray_k200_pooled_g0-4/evaluation_s12 outputs/chest_xray_k200_pooled_g0-4/evaluation_s13_s5-9 --pool_seeds --output_dir $O/pooled_s0-9
$M $O/aug_s0-9 g0=$O/g0_s0-9 pooled=$O/pooled_s0-9 --delta real+syn+aug@pooled real+aug --delta real+syn+aug@g0 real+aug \
   --output_dir $O/chest_s0-9
# item 6: g4 on seeds 5-9 (declared confirmatory primary, judged by the two-level interval)
if [ -f outputs/medienet_chest_xray_k200_g4/evaluation_s13_s5-9/results.json ]; then
  $M $G0/evaluation_s10_confirm_aug g4=outputs/medienet_chest_xray_k200_g4/evaluation_s13_s5-9 g0=$G0/evaluation_s10_confirm_dpm50 \
     --primary real+syn+aug@g4 real+aug --delta real+syn+aug@g0 real+aug --output_dir $O/g4_s5-9
fi
