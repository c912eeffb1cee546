#!/usr/bin/env bash
# Replays an adaptive sweep against a store of finished runs (README, "Adaptive sweeps"; bench/ADAPTIVE.md):
# pass by pass, every run the plan asks for is hard-linked from FULL/runs into the empty store OUT,
# until the search asks for nothing more; then prints the plan, the recorded run time it used, the
# passes (rounds in sequence: a warm search's cells go one after the other) and the sum over passes
# of each pass's longest run (the wall time with unlimited workers). Nothing is trained: a run the
# full store does not have is counted as off the grid. OUT/replay-passes.txt lists "pass id".
#   examples/replay-adaptive.sh SWEEP.toml OUT FULL_STORE
set -euo pipefail
file=$1 out=$2 full=$3
bin=${SGDNOISE:-sgdnoise}
mkdir -p "$out/runs"
: > "$out/replay-passes.txt"
pass=0
while true; do
  new=0 off=0
  for id in $("$bin" sweep plan "$file" --out "$out" --ids); do
    [[ -e $out/runs/$id ]] && continue
    if [[ -e $full/runs/$id ]]; then
      cp -al "$full/runs/$id" "$out/runs/$id"; new=$((new + 1)); echo "$pass $id" >> "$out/replay-passes.txt"
    else off=$((off + 1)); fi
  done
  echo "pass $pass: linked $new runs, $off off the grid"
  [[ $new -eq 0 ]] && break
  pass=$((pass + 1))
done
"$bin" sweep plan "$file" --out "$out" | sed -n '/^adaptive/,/^memory/p'
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
wall = lambda i: json.load(open(os.path.join(out, "runs", i, "summary.json")))["wall_seconds"]
passes = {}
for line in open(os.path.join(out, "replay-passes.txt")):
    p, i = line.split()
    passes.setdefault(int(p), []).append(wall(i))
w = [x for v in passes.values() for x in v]
longest = sum(max(v) for v in passes.values())
print(f"{len(w)} runs, {sum(w):.0f} s of recorded run time, {len(passes)} passes, {longest:.0f} s of longest runs")
PY
