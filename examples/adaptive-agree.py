#!/usr/bin/env python3
# Compares, cell by cell, the decisions of two `sweep plan --json` outputs of an adaptive sweep: the
# grid (the same file with coarse = 1, planned over the dense store) and a search (planned over its
# replayed store): each target's estimate and brackets (bench/ADAPTIVE.md, "agree").
#   examples/adaptive-agree.py GRID.json SEARCH.json
import json, sys
def load(p):
    d = json.load(open(p))
    return {c['label']: {t['target']: (t['estimate'], t['brackets'], t['located']) for t in c['decisions']} for c in d['adaptive']['cells']}
g, s = load(sys.argv[1]), load(sys.argv[2])
n = bad = 0
for label in g:
    for t in g[label]:
        n += 1
        ge, se = g[label][t], s.get(label, {}).get(t)
        same = se is not None and se[1] == ge[1] and ((ge[0] is None and se[0] is None) or (ge[0] is not None and se[0] is not None and abs(ge[0] - se[0]) <= 1e-9 * abs(ge[0])))
        if not same:
            bad += 1
            print(f"  {label} {t}: grid {ge} search {se}")
print(f"agree {n - bad}/{n}")
