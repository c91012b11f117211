source /work/main/outputs/s17_common.sh
train 5; infer 5
train 7; infer 7
evsyn 7
touch $L/laneA.done
