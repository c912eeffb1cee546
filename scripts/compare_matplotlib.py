#!/usr/bin/env python3
"""What matplotlib draws from the CSV of an sgdnoise figure, next to sgdnoise's own PNG.

    python3 scripts/compare_matplotlib.py DIR [STEM ...]

DIR is the output folder of `sgdnoise analyze` or `reproduce` (it holds STEM.csv and STEM.png);
without STEM every figure CSV of DIR is drawn. For each STEM this writes
DIR/matplotlib/STEM.png (matplotlib's figure, same size, 150 dpi) and
DIR/matplotlib/STEM_side_by_side.png (sgdnoise left, matplotlib right), to be looked at.

matplotlib draws only what the CSV says, the way a matplotlib user would: the columns y, y_lo,
y_hi (the drawn centre and interval: a geometric mean with x/÷ geometric s.d. on log axes, a
mean ± s.d. on linear ones, an estimate with its 95% CI for T_c and T_opt), × where most runs
diverged (2 n_diverged >= n_runs), open markers where a run was capped (n_capped > 0). Fit lines
and theory lines are not in the CSV (their numbers are in fits.csv) and are not redrawn.

Needs matplotlib (and Pillow, which it brings): python3 -m venv /tmp/mpl && /tmp/mpl/bin/pip
install matplotlib, then run the script with /tmp/mpl/bin/python.
"""

import csv
import math
import os
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

# Same figure size as sgdnoise: 960 x 680 pixels at 150 dpi.
SIZE = (960 / 150, 680 / 150)


def num(s):
    return float(s) if s not in ("", None) else math.nan


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return rows, (list(rows[0].keys()) if rows else [])


def line_figure(stem, rows, cols, out):
    key, xname = cols[0], cols[1]
    series = OrderedDict()
    for r in rows:
        series.setdefault(r[key], []).append(r)
    fig, ax = plt.subplots(figsize=SIZE, dpi=150)
    log2_y = stem.startswith("T_c_vs_P") or stem.startswith("T_opt")
    any_div = any_cap = False
    for i, (name, pts) in enumerate(series.items()):
        color = f"C{i % 10}"
        name = name if len(name) <= 40 else name[:37] + "..."
        xs, ys, lo, hi, capped, div = [], [], [], [], [], []
        for r in pts:
            x, y = num(r[xname]), num(r["y"])
            n_runs, n_div = int(r["n_runs"]), int(r["n_diverged"])
            if n_div > 0 and 2 * n_div >= n_runs:
                div.append(x)
                continue
            if math.isnan(y) or y <= 0:
                continue
            xs.append(x)
            ys.append(y)
            lo.append(num(r["y_lo"]))
            hi.append(num(r["y_hi"]))
            capped.append(int(r["n_capped"]) > 0)
        estimates = int(pts[0]["n_runs"]) == 0  # T_c, T_opt: estimates with CIs
        if estimates:
            ax.errorbar(xs, ys, yerr=[[y - l for y, l in zip(ys, lo)], [h - y for y, h in zip(ys, hi)]],
                        fmt="o", color=color, capsize=3, label=name, ms=5)
        else:
            ax.plot(xs, ys, "-o", color=color, label=name, ms=5, lw=2)
            ok = [i for i, (a, b) in enumerate(zip(lo, hi)) if not (math.isnan(a) or math.isnan(b))]
            if ok:
                ax.fill_between([xs[i] for i in ok], [lo[i] for i in ok], [hi[i] for i in ok],
                                color=color, alpha=0.17, lw=0)
        cx = [x for x, c in zip(xs, capped) if c]
        cy = [y for y, c in zip(ys, capped) if c]
        if cx:
            any_cap = True
            ax.plot(cx, cy, "o", mfc="white", mec=color, ms=7, mew=1.6)
        if div:
            any_div = True
            ax.plot(div, [0.03 + 0.035 * i] * len(div), "x", color=color, ms=8, mew=2,
                    transform=ax.get_xaxis_transform())
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2 if log2_y else 10)
    ax.set_xlabel(xname)
    ax.set_ylabel(f"{stem} (CSV column y)")
    ax.set_title(stem)
    handles, labels = ax.get_legend_handles_labels()
    if any_div:
        handles.append(plt.Line2D([], [], ls="", marker="x", color="k", mew=2))
        labels.append("diverged (most seeds)")
    if any_cap:
        handles.append(plt.Line2D([], [], ls="", marker="o", mfc="white", mec="k"))
        labels.append("capped runs")
    ax.legend(handles, labels, fontsize=8)
    ax.grid(True, which="major", color="0.9")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def heatmap_figure(stem, rows, cols, out):
    xname, yname = cols[0], cols[1]
    xs = sorted({num(r[xname]) for r in rows})
    ys = sorted({num(r[yname]) for r in rows})
    grid = [[math.nan] * len(xs) for _ in ys]
    for r in rows:
        n_runs, n_div = int(r["n_runs"]), int(r["n_diverged"])
        if n_div > 0 and 2 * n_div >= n_runs:
            continue
        grid[ys.index(num(r[yname]))][xs.index(num(r[xname]))] = num(r["y"])
    fig, ax = plt.subplots(figsize=SIZE, dpi=150)
    m = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis",
                  norm=None if stem.endswith("test_err") else matplotlib.colors.LogNorm())
    ax.set_xticks(range(len(xs)), [f"$2^{{{round(math.log2(v))}}}$" for v in xs])
    ax.set_yticks(range(len(ys)), [f"$2^{{{round(math.log2(v))}}}$" for v in ys])
    ax.set_xlabel(xname)
    ax.set_ylabel(yname)
    ax.set_title(f"{stem} (grey: diverged or missing)")
    ax.set_facecolor("0.8")
    fig.colorbar(m, ax=ax)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    stems = sys.argv[2:] or sorted(
        f[:-4] for f in os.listdir(d)
        if f.endswith(".csv") and f != "fits.csv" and os.path.exists(os.path.join(d, f[:-4] + ".png"))
    )
    mdir = os.path.join(d, "matplotlib")
    os.makedirs(mdir, exist_ok=True)
    for stem in stems:
        rows, cols = read(os.path.join(d, stem + ".csv"))
        if not rows:
            continue
        out = os.path.join(mdir, stem + ".png")
        if cols[0] == "alpha" and stem.startswith("phase_"):
            heatmap_figure(stem, rows, cols, out)
        else:
            line_figure(stem, rows, cols, out)
        ours, theirs = Image.open(os.path.join(d, stem + ".png")), Image.open(out)
        both = Image.new("RGB", (ours.width + theirs.width, max(ours.height, theirs.height)), "white")
        both.paste(ours.convert("RGB"), (0, 0))
        both.paste(theirs.convert("RGB"), (ours.width, 0))
        both.save(os.path.join(mdir, stem + "_side_by_side.png"))
        print(os.path.join(mdir, stem + "_side_by_side.png"))


if __name__ == "__main__":
    main()
