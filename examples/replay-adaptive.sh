#!/usr/bin/env bash
# Replays an adaptive sweep against a store of finished runs (README, "Adaptive sweeps"): round by
# round, every run the plan asks for is hard-linked from FULL/runs into the empty store OUT, until
# the search asks for nothing more; then prints the plan and the recorded run time it used.
# Nothing is trained: a run the full store does not have is counted as off the grid.
#   examples/replay-adaptive.sh SWEEP.toml OUT FULL_STORE
set -euo pipefail
file=$1 out=$2 full=$3
bin=${SGDNOISE:-sgdnoise}
mkdir -p "$out/runs"
while true; do
  new=0 off=0
  for id in $("$bin" sweep plan "$file" --out "$out" --ids); do
    [[ -e $out/runs/$id ]] && continue
    if [[ -e $full/runs/$id ]]; then cp -al "$full/runs/$id" "$out/runs/$id"; new=$((new + 1)); else off=$((off + 1)); fi
  done
  echo "linked $new runs, $off off the grid"
  [[ $new -eq 0 ]] && break
done
"$bin" sweep plan "$file" --out "$out" | sed -n '/^adaptive/,/^memory/p'
python3 - "$out" <<'PY'
import json, os, sys
runs = os.path.join(sys.argv[1], "runs")
w = [json.load(open(os.path.join(runs, d, "summary.json")))["wall_seconds"] for d in os.listdir(runs)]
print(f"{len(w)} runs, {sum(w):.0f} s of recorded run time")
PY
