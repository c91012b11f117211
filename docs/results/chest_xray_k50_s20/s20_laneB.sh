bash /work/main/outputs/s20_real.sh; bash /work/main/outputs/s20_gen.sh 2
