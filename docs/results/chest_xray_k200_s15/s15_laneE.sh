source /work/main/outputs/s15_common.sh
while kill -0 5804 2>/dev/null; do sleep 15; done
echo "noclip_g4_01234 see its log's /usr/bin/time (lane D's bash was stopped while it ran; end $(date -u +%H:%M))" >> $L/times.txt
G4=outputs/medienet_chest_xray_k200_g4
ev noclip_g4_56789 $G4 --evaluation_output_dir outputs/s15_noclip/g4_seeds56789 --synthetic_dir $G4/synthetic_dpm50_noclip \
   --evaluation_config#arms "['real+syn+aug']" --evaluation_config#seeds "[5,6,7,8,9]"
touch $L/.doneD1
Q=outputs/s15_quality; G0=outputs/medienet_chest_xray_k200/checkpoints
t0=$(date +%s)
/usr/bin/time -v python -m bench.quality --config_file "['$C/common.yaml','$C/lowdata.yaml']" --checkpoint $G0/diffusion.pt $G0/diffusion_distilled.pt \
  --num_per_class 150 --threads 1 --classifier_cache $Q/feature_classifier.pt --variants 0/ddim:50:fp32 \
  0/dpmpp_2m:10:fast:clip3 0/dpmpp_2m:10:fast:clip2 0/dpmpp_2m:10:fast:clip1.5 0/dpmpp_2m:20:fast:clip3 0/dpmpp_2m:20:fast:clip2 0/dpmpp_2m:20:fast:clip1.5 \
  1/dpmpp_2m:10:fast:clip3 1/dpmpp_2m:10:fast:clip2 \
  --out $Q/s15_cliprange.json --markdown $Q/s15_cliprange.md > $L/quality_cliprange.log 2>&1
stamp quality_cliprange $t0
touch $L/.doneE
