#!/usr/bin/env bash
# Replays an adaptive sweep against a store of finished runs (README, "Adaptive sweeps"; bench/ADAPTIVE.md):
# pass by pass, every run the plan asks for is hard-linked from FULL/runs into the empty store OUT,
# until the search asks for nothing more; then prints the plan, the recorded run time it used, the
# passes (rounds in sequence: a warm search's cells go one after the other) and the sum over passes
# of each pass's longest run (the wall time with unlimited workers). Nothing is trained: a run the
# full store does not have is counted as off the grid. OUT/replay-passes.txt lists "pass id".
# With TRAIN=1 the runs off the grid are trained instead (a search on a wider lattice than the
# dense store's; bench/ADAPTIVE.md, "the paper's eta lattice"): when a pass links nothing, the runs
# the plan still asks for are trained into OUT by `sweep run` of a sweep file of [[part]]s, one per
# point (its ids checked against the plan's first), listed as "pass id trained"; OUT keeps its log
# then, so an interrupted replay resumes when run again. Needs python3 (and, with TRAIN=1, the data
# as for `sweep run`: SGDNOISE_DATA_DIR).
#   [TRAIN=1] examples/replay-adaptive.sh SWEEP.toml OUT FULL_STORE
set -euo pipefail
file=$1 out=$2 full=$3
bin=${SGDNOISE:-sgdnoise}
train=${TRAIN:-0}
log=$out/replay-passes.txt
mkdir -p "$out/runs"
if [[ $train == 1 ]]; then touch "$log"; else : > "$log"; fi
pass=$(awk 'END{print NR? $1+1 : 0}' "$log")
while true; do
  new=0 off=()
  for id in $("$bin" sweep plan "$file" --out "$out" --ids); do
    [[ -e $out/runs/$id ]] && continue
    if [[ -e $full/runs/$id ]]; then
      cp -al "$full/runs/$id" "$out/runs/$id"; new=$((new + 1)); echo "$pass $id" >> "$log"
    else off+=("$id"); fi
  done
  echo "pass $pass: linked $new runs, ${#off[@]} off the grid"
  if [[ $new -eq 0 && ( $train != 1 || ${#off[@]} -eq 0 ) ]]; then break; fi
  if [[ $new -eq 0 ]]; then
    # Train the runs off the grid: one [[part]] per point of the plan's runs among them.
    "$bin" sweep plan "$file" --out "$out" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
want = set(sys.argv[1:])
groups = {}
for r in d["run_list"]:
    if r["id"] in want:
        a = r["axes"]
        key = tuple(sorted((k, v) for k, v in a.items() if k != "seed_init"))
        groups.setdefault(key, []).append(a["seed_init"])
print("name = \"replay-train\"\n[fixed]")
for k, v in d["fixed"].items():
    print(f"{k} = {json.dumps(v)}")
for key, seeds in groups.items():
    print("[[part]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in key) + f"seed_init = {sorted(seeds)}")
' "${off[@]}" > "$out/replay-train.toml"
    cmp <("$bin" sweep plan "$out/replay-train.toml" --ids | sort) <(printf '%s\n' "${off[@]}" | sort) \
      || { echo "the ids of $out/replay-train.toml are not the plan's" >&2; exit 1; }
    "$bin" sweep run "$out/replay-train.toml" --out "$out" -q
    printf "$pass %s trained\n" "${off[@]}" >> "$log"
  fi
  pass=$((pass + 1))
done
"$bin" sweep plan "$file" --out "$out" | sed -n '/^adaptive/,/^memory/p'
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
wall = lambda i: json.load(open(os.path.join(out, "runs", i, "summary.json")))["wall_seconds"]
passes, trained = {}, 0
for line in open(os.path.join(out, "replay-passes.txt")):
    p, i, *how = line.split()
    passes.setdefault(int(p), []).append(wall(i))
    trained += how == ["trained"]
w = [x for v in passes.values() for x in v]
longest = sum(max(v) for v in passes.values())
print(f"{len(w)} runs, {sum(w):.0f} s of recorded run time, {len(passes)} passes, {longest:.0f} s of longest runs"
      + (f" ({trained} of the runs trained, not linked)" if trained else ""))
PY
