#!/bin/bash
# Session 7 (issue 6): the light decoder (decoder_attention=self) trained exactly like the selected default generator
# (PneumoniaMNIST k=200, 500 epochs cosine, snapshot every 25 epochs = 150 its), compared at the same 2400-it snapshot
# with bench.quality (in-domain FID, same noise/labels, DDIM-50 fp32 plus a second noise seed).
cd /work/main && . .venv/bin/activate
B=bundles/medienet_pneumoniamnist/configs
E=outputs/medienet_pneumoniamnist_k200
O=outputs/medienet_pneumoniamnist_k200_light
/usr/bin/time -v python -m monai.bundle run train_diffusion --config_file "['$B/common.yaml','$B/train.yaml','$B/lowdata.yaml']" --num_threads 1 \
  --output_dir $O --ae_checkpoint_path $E/checkpoints/autoencoder.pt --diffusion_epochs 500 --grid_interval_epochs 100 \
  --diffusion_snapshot_every 25 --network_config#decoder_attention self > outputs/s7_light_train.log 2>&1
touch outputs/s7_light_train.done
