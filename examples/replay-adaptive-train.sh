#!/usr/bin/env bash
# Replays an adaptive sweep against a store of finished runs, like examples/replay-adaptive.sh, but
# trains the runs the plan asks for that FULL lacks (a search on a wider lattice than the dense
# store's; bench/ADAPTIVE.md, "the paper's eta lattice"): each pass links every planned run FULL
# holds into OUT; when the plan asks only for runs FULL lacks, they are trained into OUT through
# `sweep run` of a sweep file of [[part]]s, one per point (its ids checked against the plan's
# first). OUT/hybrid-passes.txt lists "pass id linked|trained". Resumable: run it again.
# Needs python3; the data as for `sweep run` (SGDNOISE_DATA_DIR).
#   examples/replay-adaptive-train.sh SWEEP.toml OUT FULL_STORE
set -euo pipefail
file=$1 out=$2 full=$3
bin=${SGDNOISE:-sgdnoise}
mkdir -p "$out/runs"
touch "$out/hybrid-passes.txt"
pass=$(awk 'END{print NR? $1+1 : 0}' "$out/hybrid-passes.txt")
while true; do
  "$bin" sweep plan "$file" --out "$out" --json > "$out/plan.json"
  read -r linked missing < <(python3 - "$out" "$full" "$pass" <<'PY'
import json, os, sys
out, full, p = sys.argv[1], sys.argv[2], sys.argv[3]
d = json.load(open(os.path.join(out, "plan.json")))
linked, miss = 0, []
log = open(os.path.join(out, "hybrid-passes.txt"), "a")
for r in d["run_list"]:
    i = r["id"]
    if os.path.exists(os.path.join(out, "runs", i)): continue
    src = os.path.join(full, "runs", i)
    if os.path.exists(src):
        os.system(f"cp -al {src} {os.path.join(out, 'runs', i)}"); linked += 1
        log.write(f"{p} {i} linked\n")
    else:
        miss.append(r)
groups = {}
for r in miss:
    a = r["axes"]; key = tuple(sorted((k, v) for k, v in a.items() if k != "seed_init"))
    groups.setdefault(key, []).append(a["seed_init"])
with open(os.path.join(out, "mini.toml"), "w") as f:
    f.write('name = "hybrid-mini"\n[fixed]\n')
    for k, v in d["fixed"].items():
        f.write(f"{k} = {json.dumps(v)}\n")
    for key, s in groups.items():
        f.write("[[part]]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in key))
        f.write(f"seed_init = {sorted(s)}\n")
json.dump([r["id"] for r in miss], open(os.path.join(out, "mini-ids.json"), "w"))
print(linked, len(miss))
PY
)
  echo "pass $pass: linked $linked, to train $missing"
  if [[ $linked -eq 0 && $missing -eq 0 ]]; then break; fi
  if [[ $linked -eq 0 ]]; then
    "$bin" sweep plan "$out/mini.toml" --ids | sort > "$out/mini-plan-ids.txt"
    python3 -c "import json,sys; print('\n'.join(sorted(json.load(open(sys.argv[1])))))" "$out/mini-ids.json" > "$out/mini-want-ids.txt"
    cmp "$out/mini-plan-ids.txt" "$out/mini-want-ids.txt" || { echo "ids of the mini sweep differ"; exit 1; }
    "$bin" sweep run "$out/mini.toml" --out "$out" --workers 2 -q
    sed "s/^/$pass /; s/$/ trained/" "$out/mini-want-ids.txt" >> "$out/hybrid-passes.txt"
  fi
  pass=$((pass + 1))
done
"$bin" sweep plan "$file" --out "$out" | sed -n '/^adaptive/,/^memory/p'
python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
how, wall = {}, 0.0
for line in open(os.path.join(out, "hybrid-passes.txt")):
    p, i, h = line.split()
    how[h] = how.get(h, 0) + 1
    wall += json.load(open(os.path.join(out, "runs", i, "summary.json")))["wall_seconds"]
print(f"{sum(how.values())} runs ({how.get('linked', 0)} linked, {how.get('trained', 0)} trained), {wall:.0f} s of recorded run time")
PY
