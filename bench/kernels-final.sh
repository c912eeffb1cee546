#!/usr/bin/env bash
# The per-core kernel measurement of issue 14 in one go (about 3 minutes with the defaults, under
# 10 with ROUNDS=5 SECS=5): sgdnoise against PyTorch eager, one thread each, side by side, for
#   - the FC paper step: mlp relu d0=784 L=5 h=128, B=16, f32 (PyTorch autograd and manual backward);
#   - the mnas CNN on 32x32x3 images, h=32 and h=64, B=16, f32 (PyTorch channels_last, its faster
#     layout here);
# and the share of the core's f32 FMA peak (`sgdnoise bench --peak`) that our step reaches, by the
# FLOP counts of `bench::step_flops` (mlp: 2B(3P - d0 h); mnas: every convolution's nominal taps,
# three passes each but the stem's input gradient).
#
# Usage: bench/kernels-final.sh [ROUNDS] [SECS]     (run on a quiet machine; rounds interleave
#   ours and PyTorch, the table takes each side's best round)
# Env: BIN (default target/release/sgdnoise, built with `cargo build --release -p sgdnoise-cli`),
#   TORCH_PY (default /work/venv-torch/bin/python), METRIC=wall (default) or cpu (steps per
#   thread CPU second, for a shared machine), LOG (raw output, default bench/raw/kernels-<time>.txt).
set -euo pipefail
ROUNDS=${1:-3}
SECS=${2:-3}
BIN=${BIN:-target/release/sgdnoise}
PY=${TORCH_PY:-/work/venv-torch/bin/python}
METRIC=${METRIC:-wall}
LOG=${LOG:-bench/raw/kernels-$(date -u +%Y-%m-%dT%H%M).txt}
[[ -x $BIN ]] || { echo "no $BIN: cargo build --release -p sgdnoise-cli" >&2; exit 2; }
"$PY" -c "import torch" 2>/dev/null || { echo "no torch in $PY (set TORCH_PY)" >&2; exit 2; }
mkdir -p "$(dirname "$LOG")"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
{
  echo "# $(date -u +%FT%TZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) rounds=$ROUNDS secs=$SECS"
  "$BIN" bench --peak --seconds 0.3 --repeats 1 | sed -n 1p
  for round in $(seq "$ROUNDS"); do
    echo "## round $round load:$(cut -d' ' -f1 /proc/loadavg)"
    "$BIN" bench --arch mlp --batch 16 --dtype f32 --seconds "$SECS"
    for v in autograd manual; do
      "$PY" bench/pytorch_mlp.py --variant $v --batch 16 --dtype f32 --seconds "$SECS" 2>&1 | grep '^torch'
    done
    for h in 32 64; do
      "$BIN" bench --arch mnas --dataset cifar_animal --width $h --batch 16 --dtype f32 --seconds "$SECS"
    done
    "$PY" bench/pytorch_mnas.py --width 32 64 --batch 16 --reps 5 --secs "$(python3 -c "print($SECS / 5)")" \
      --channels-last 2>&1 | sed 's/^/torch-mnas /'
  done
} | tee "$LOG"

echo
echo "# table ($METRIC steps/s, best of $ROUNDS rounds; raw output in $LOG)"
python3 - "$LOG" "$METRIC" <<'EOF'
import re, sys
log, metric = open(sys.argv[1]).read(), sys.argv[2]
peak = float(re.search(r"f32 ([0-9.]+) GFLOP/s", log).group(1))
num = r"([0-9.]+)"
ours, torch = {}, {}
def best(d, k, v):
    d[k] = max(d.get(k, 0.0), v)
for line in log.splitlines():
    m = re.match(r"(mlp|mnas) .*?h=(\d+).*?: " + num + r" steps/s.*?, " + num +
                 r" GFLOP/s.*per thread CPU second: " + num + r" steps/s", line)
    if m:
        key = ("mlp" if m.group(1) == "mlp" else f"mnas h={m.group(2)}")
        wall, gf, cpu = float(m.group(3)), float(m.group(4)), float(m.group(5))
        rate = wall if metric == "wall" else cpu
        best(ours, key, rate)
        best(ours, key + " flops", gf * 1e9 / wall)
        continue
    m = re.match(r"torch \S+ (autograd|manual) .*?: " + num + r" steps/s.*per thread CPU second: "
                 + num + " steps/s", line)
    if m:
        best(torch, "mlp " + m.group(1), float(m.group(2 if metric == "wall" else 3)))
        continue
    m = re.match(r"torch-mnas (\d+)\t16\t" + num + r"\t[0-9.]+\t[0-9.]+\t" + num, line)
    if m:
        best(torch, f"mnas h={m.group(1)}", float(m.group(2 if metric == "wall" else 3)))
print(f"{'model (f32, B=16, 1 thread)':34s} {'ours':>10s} {'PyTorch':>10s} {'ratio':>7s} {'share of peak':>14s}")
rows = [("mlp L=5 h=128 vs autograd", "mlp", "mlp autograd"),
        ("mlp L=5 h=128 vs manual backward", "mlp", "mlp manual"),
        ("mnas h=32 (32x32x3)", "mnas h=32", "mnas h=32"),
        ("mnas h=64 (32x32x3)", "mnas h=64", "mnas h=64")]
for name, o, t in rows:
    if o not in ours or t not in torch:
        print(f"{name:34s} (missing in the log)")
        continue
    share = 100 * ours[o] * ours[o + " flops"] / 1e9 / peak
    print(f"{name:34s} {ours[o]:10.1f} {torch[t]:10.1f} {ours[o] / torch[t]:6.2f}x {share:13.1f}%")
print(f"(f32 FMA peak {peak:.1f} GFLOP/s; share = FLOPs per step x steps/s / peak)")
EOF
