bash /work/main/outputs/s20_gen.sh 1; bash /work/main/outputs/s20_gen.sh 3
