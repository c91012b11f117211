# Session 26 addendum: the seeds 10-14 jobs, e.g. WAIT=lane_T_aug_01234.done bash s26_lane_extra.sh T:aug:10,11,12,13,14
# (s26_lane.sh takes comma lists of seeds and WAIT since; the addendum ran an earlier copy of these lines).
exec bash "$(dirname "${BASH_SOURCE[0]}")/s26_lane.sh" "$@"
