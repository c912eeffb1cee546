#!/usr/bin/env bash
# Share of the FMA peak of one SGD step by the user CPU time of the process (perf stat), which,
# unlike wall time, leaves out the time spent waiting for a core on a shared machine:
# share = FLOPs per step / (user seconds per step x the f32 peak of `sgdnoise bench --peak`, which
# is measured per CPU second too). Set-up is cancelled by running N1 and N2 steps and taking the
# difference; each time is the min of R repeats; binaries are run interleaved.
# (Where the machine has hardware counters, EVENT=cycles:u and FLOPS_PER_CYCLE=32 (Zen 4, f32)
# give the same share by cycles.)
# Usage: [CONFIGS=...] bench/kernels-cycles.sh [R] [BIN...]   BIN: kernel_steps binaries to compare
#   (default target/release/examples/kernel_steps).
set -euo pipefail
R=${1:-3}; shift || true
BINS=("${@:-target/release/examples/kernel_steps}")
SG=${SG:-target/release/sgdnoise}
EVENT=${EVENT:-user_time}
count() { # command... -> min over R of EVENT
  local best=""
  for _ in $(seq "$R"); do
    local c
    c=$(perf stat -x, -e "$EVENT" "$@" 2>&1 >/dev/null | awk -F, -v e="$EVENT" '$3==e{print $1}')
    if [[ -z $best || $c -lt $best ]]; then best=$c; fi
  done
  echo "$best"
}
if [[ $EVENT == user_time ]]; then
  PEAK=${PEAK:-$("$SG" bench --peak --seconds 0.3 --repeats 1 | sed -n 's/.*f32 \([0-9.]*\) GFLOP.*/\1/p')}
  UNIT=$(python3 -c "print($PEAK)")   # FLOPs per ns of CPU time
  echo "# f32 FMA peak $PEAK GFLOP/s per CPU second"
else
  UNIT=${FLOPS_PER_CYCLE:?set FLOPS_PER_CYCLE with EVENT=$EVENT}
fi
echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1-3 /proc/loadavg); $EVENT, min of $R"
printf "%-20s %-14s %14s %10s\n" model binary "$EVENT/step" share
# CONFIGS: "arch h B N2 N1" entries separated by ';' (default: the three models of the issue).
IFS=';' read -ra CFGS <<< "${CONFIGS:-mlp 128 16 3000 1000;mnas 32 16 60 20;mnas 64 16 24 8}"
for cfg in "${CFGS[@]}"; do
  set -- $cfg
  for bin in "${BINS[@]}"; do
    c2=$(count "$bin" "$1" "$2" "$3" "$4")
    c1=$(count "$bin" "$1" "$2" "$3" "$5")
    fl=$("$bin" "$1" "$2" "$3" 0 | awk '{print $2}')
    python3 -c "
d=($c2-$c1)/($4-$5); f=$fl
print('%-20s %-14s %14.0f %9.1f%%' % ('$1 h=$2 B=$3', '$(basename "$bin")'[:14], d, 100*f/(d*$UNIT)))"
  done
done
