"""Test error against the SGD temperature T, one curve per training-set size P, from Python.

    pip install "./crates/sgdnoise-py[test]"        # sgdnoise, pandas, matplotlib
    python examples/python/temperature.py [OUT]      # OUT/store (resumable), OUT/test_err_vs_T.png
"""
import sys
from pathlib import Path

import matplotlib
import numpy as np
import sgdnoise

matplotlib.use("Agg")  # no display needed
import matplotlib.pyplot as plt  # noqa: E402
out = Path(sys.argv[1] if len(sys.argv) > 1 else "out/py-example")
for ptr in (128, 512, 2048):  # a sweep: each finished run is kept in the store, never redone
    for temp in 2.0 ** np.arange(-12, 3):
        for seed in range(4):
            sgdnoise.run(store=out / "store", dim=32, chi=1, ptr=ptr, pte=4096, batch=2,
                         temp=temp, seed_init=seed)

runs = sgdnoise.load_runs(out / "store")  # one row per run; diverged runs' test_err is NaN
err = runs.groupby(["temp", "ptr"])["test_err"].mean().unstack("ptr")
ax = err.plot(logx=True, logy=True, marker="o", xlabel="temperature T", ylabel="test error",
              title="perceptron, d = 32, chi = 1, alpha = 32768, B = 2")
ax.legend(title="P")
plt.savefig(out / "test_err_vs_T.png", dpi=120, bbox_inches="tight")
print(f"{len(runs)} runs ({runs['diverged'].sum()} diverged) -> {out / 'test_err_vs_T.png'}")
