#!/usr/bin/env bash
# Fifteenth session: merges and analyses (from the repo root, venv active).
set -euo pipefail
M="python -m monai_medienet.evaluation merge"
G0=outputs/medienet_chest_xray_k200; G4=outputs/medienet_chest_xray_k200_g4; O=outputs/s15_merged
# item 1: validation-side criterion over g0-g4 (re-run arms with validation predictions)
python docs/results/valsel_s15/analysis.py outputs/s15_valsel > docs/results/valsel_s15/analysis.md
# item 4: g4's unclamped pool against its clamped pool, seeds 0-9 (each arm seeds 0-4 + 5-9 pooled)
$M outputs/s15_valsel/real_aug $G0/evaluation_s10_confirm_aug --pool_seeds --output_dir $O/aug_s0-9
$M $G4/evaluation_s12_dpm50 $G4/evaluation_s13_s5-9 --pool_seeds --output_dir $O/g4_clamped_s0-9
$M outputs/s15_noclip/g4_seeds01234 outputs/s15_noclip/g4_seeds56789 --pool_seeds --output_dir $O/g4_noclip_s0-9
$M $O/aug_s0-9 clamped=$O/g4_clamped_s0-9 noclip=$O/g4_noclip_s0-9 \
   --primary real+syn+aug@noclip real+syn+aug@clamped --delta real+syn+aug@noclip real+aug \
   --delta real+syn+aug@clamped real+aug --output_dir $O/g4_noclip_vs_clamped_s0-9
# item 5 (exploratory): g4's pool at DPM-Solver++ 20 with the clamp at +-1.5, seeds 0-4
$M outputs/s15_valsel/real_aug clamped=$G4/evaluation_s12_dpm50 clip15=outputs/s15_clip15/g4_seeds01234 \
   --delta real+syn+aug@clip15 real+aug --delta real+syn+aug@clip15 real+syn+aug@clamped \
   --delta real+syn+aug@clamped real+aug --output_dir $O/g4_clip15_s0-4
