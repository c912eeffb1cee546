#!/usr/bin/env bash
# Side-by-side steps/s of the FC paper config (d0=784, L=5, h=128, relu), one thread each:
# sgdnoise bench vs PyTorch eager (autograd and manual backward), B in {16, 1024}, f32 and f64.
# Usage: bench/run_all.sh [rounds] [seconds]   (needs target/release/sgdnoise and $TORCH_PY)
set -euo pipefail
ROUNDS=${1:-2}
SECS=${2:-3}
PY=${TORCH_PY:?set TORCH_PY to a Python that has torch, e.g. TORCH_PY=venv/bin/python}
BIN=${BIN:-target/release/sgdnoise}
echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) rounds=$ROUNDS seconds=$SECS"
$BIN bench --peak --seconds 0.3 --repeats 1 | sed -n 1p
for round in $(seq "$ROUNDS"); do
  for dtype in f32 f64; do
    for b in 16 1024; do
      echo "## round $round $dtype B=$b load:$(cut -d' ' -f1 /proc/loadavg)"
      $BIN bench --arch mlp --batch "$b" --dtype "$dtype" --seconds "$SECS"
      for v in autograd manual; do
        OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $PY bench/pytorch_mlp.py --variant $v --batch "$b" \
          --dtype "$dtype" --seconds "$SECS" 2>&1 | grep '^torch'
      done
    done
  done
done
