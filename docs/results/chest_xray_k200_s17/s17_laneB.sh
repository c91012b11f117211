source /work/main/outputs/s17_common.sh
train 6; infer 6
waitfor .pool_big5; evsyn 5
evsyn 6
crit 5; crit 6
waitfor .pool_big7; crit 7
touch $L/laneB.done
