#!/usr/bin/env bash
# Sixteenth session, item 2: g4's pool against bare real-only over seeds 0-9 (from the repo root, venv active).
set -euo pipefail
M="python -m monai_medienet.evaluation merge"
G0=outputs/medienet_chest_xray_k200; G4=outputs/medienet_chest_xray_k200_g4; O=outputs/s16_merged
$M outputs/s16_eval/real_s0-4 $G0/evaluation_s11_seeds5-9_real --pool_seeds --output_dir $O/real_s0-9
$M outputs/s15_valsel/real_aug $G0/evaluation_s10_confirm_aug --pool_seeds --output_dir $O/aug_s0-9
$M $G4/evaluation_s12_dpm50 $G4/evaluation_s13_s5-9 --pool_seeds --output_dir $O/g4_s0-9
$M $O/real_s0-9 $O/aug_s0-9 $O/g4_s0-9 --primary real+syn+aug real --delta real+syn+aug real+aug \
   --delta real+aug real --output_dir $O/g4_vs_real_s0-9
# the same three arms on seeds 0-4 alone (the new real-only runs against the stored arms)
$M outputs/s16_eval/real_s0-4 outputs/s15_valsel/real_aug $G4/evaluation_s12_dpm50 --delta real+syn+aug real \
   --delta real+syn+aug real+aug --delta real+aug real --output_dir $O/g4_vs_real_s0-4
# item 4 (exploratory): 600 classifier steps, seeds 0-4; beside it the same arms and seeds at 300 steps
$M outputs/s16_eval/real_aug_600_s0-4 outputs/s16_eval/g4_600_s0-4 --delta real+syn+aug real \
   --delta real+syn+aug real+aug --delta real+aug real --output_dir $O/g4_600_s0-4
# item 5 (exploratory): g4's pool at ratio 2 and 2.5 against ratio 1 (stored), real+aug and real, seeds 0-4
$M outputs/s16_eval/real_s0-4 outputs/s15_valsel/real_aug r1=$G4/evaluation_s12_dpm50 \
   r2=outputs/s16_eval/g4_ratio2_s0-4 r2.5=outputs/s16_eval/g4_ratio2.5_s0-4 \
   --delta real+syn+aug@r2 real+syn+aug@r1 --delta real+syn+aug@r2.5 real+syn+aug@r1 \
   --delta real+syn+aug@r1 real+aug --delta real+syn+aug@r2 real+aug --delta real+syn+aug@r2.5 real+aug \
   --delta real+syn+aug@r2 real --delta real+syn+aug@r2.5 real --output_dir $O/g4_ratio_s0-4
