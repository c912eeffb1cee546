#!/usr/bin/env python3
"""SGD steps per second of the mnas CNN (SPEC section 1) in PyTorch eager, for comparison with
`cargo run --release -p sgdnoise-core --example mnas_bench`.

Same network, same scaling (weights N(0,1), conv divided by k*sqrt(C_in), depthwise by k,
read-out by 20h), TensorFlow SAME padding (asymmetric when needed, via F.pad), ReLU normalised
as sqrt(2)*relu. One step = forward of B images of 32x32x3, backward of sum_i c_i f(x_i), and
w -= lr * grad for every tensor (plain SGD, no optimiser object).

    $TORCH_PY bench/pytorch_mnas.py [--width 32 64] [--batch 16 64]
        [--reps 5] [--secs 2] [--threads 1] [--channels-last]

Prints the median steps/s over `reps` timing windows of about `secs` seconds, with min and max,
by wall clock and per second of process CPU time (time.process_time; less sensitive to other
processes on a shared machine).

    $TORCH_PY bench/pytorch_mnas.py --check FILE

compares with the Rust implementation instead: FILE comes from
`cargo run --release -p sgdnoise-core --example mnas_bench -- --dump FILE` (weights in sgdnoise's order and HWIO
layout, inputs NHWC, outputs and gradient); the same weights are loaded here in float64, and the
largest relative differences of the outputs and of every layer's gradient are printed.
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

SQRT2 = math.sqrt(2.0)


def act(z):
    return SQRT2 * torch.relu(z)


def same_pad(x, k, s):
    """TensorFlow SAME: out = ceil(in/s), pad_total = max((out-1)s + k - in, 0), before = floor(total/2)."""
    h, w = x.shape[-2], x.shape[-1]
    pads = []
    for n in (w, h):  # F.pad takes the last dimension first
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    if any(pads):
        x = F.pad(x, pads)
    return x


class Mnas:
    def __init__(self, h, c_in=3, gen=None, dtype=torch.float32):
        self.params = []

        def new(*shape):
            t = torch.randn(*shape, generator=gen, dtype=dtype).requires_grad_()
            self.params.append(t)
            return t

        # Stem: conv(4h,5,2) -> dw(5,1) -> conv(2h,1,1).
        self.stem = (new(4 * h, c_in, 5, 5), new(4 * h, 1, 5, 5), new(2 * h, 4 * h, 1, 1))
        self.blocks = []
        c = 2 * h
        for out, k, s in [(h, 5, 2), (h, 5, 1), (3 * h, 5, 2), (3 * h, 5, 1)]:
            mid = 3 * c
            self.blocks.append((new(mid, c, 1, 1), new(mid, 1, k, k), new(out, mid, 1, 1), k, s,
                                s == 1 and out == c))
            c = out
        self.head = new(20 * h, c, 1, 1)
        self.rw = new(20 * h)
        self.rb = new(1)
        self.h = h

    @staticmethod
    def conv(x, w, s):
        k, cin = w.shape[-1], w.shape[1]
        return F.conv2d(same_pad(x, k, s), w, stride=s) / (k * math.sqrt(cin))

    @staticmethod
    def dw(x, w, s):
        k = w.shape[-1]
        return F.conv2d(same_pad(x, k, s), w, stride=s, groups=w.shape[0]) / k

    def __call__(self, x):
        a, d, b = self.stem
        x = act(self.conv(x, a, 2))
        x = act(self.dw(x, d, 1))
        x = act(self.conv(x, b, 1))
        for e, d, p, k, s, residual in self.blocks:
            u = act(self.conv(x, e, 1))
            u = act(self.dw(u, d, s))
            u = self.conv(u, p, 1)
            x = (u + x) / SQRT2 if residual else u
        z = act(self.conv(x, self.head, 1)).mean(dim=(2, 3))
        return (z @ self.rw + self.rb) / (20 * self.h)


def check(path):
    """Loads a `--dump` file of the Rust code and compares outputs and gradients in float64."""
    import json

    d = json.load(open(path))
    hh, ww, cc = d["image_shape"]
    net = Mnas(d["width"], c_in=cc, dtype=torch.float64)
    w = torch.tensor(d["weights"], dtype=torch.float64)
    # sgdnoise's order: stem (conv, dw, proj), blocks (expand, dw, proj), head conv, read-out.
    tensors = [net.stem[0], net.stem[1], net.stem[2]]
    for e, dw, p, *_ in net.blocks:
        tensors += [e, dw, p]
    tensors += [net.head, net.rw, net.rb]
    assert len(tensors) == len(d["layers"])
    with torch.no_grad():
        for t, layer in zip(tensors, d["layers"]):
            flat = w[layer["offset"]:layer["offset"] + layer["len"]]
            assert flat.numel() == t.numel(), layer["name"]
            if t.dim() == 4:  # HWIO (dw: HW C) -> OIHW (dw: C 1 H W)
                o, i, kh, kw = t.shape
                if i == 1 and layer["name"].endswith(".dw"):
                    t.copy_(flat.reshape(kh, kw, o).permute(2, 0, 1).unsqueeze(1))
                else:
                    t.copy_(flat.reshape(kh, kw, i, o).permute(3, 2, 0, 1))
            else:
                t.copy_(flat)
    n = d["n"]
    x = torch.tensor(d["x"], dtype=torch.float64).reshape(n, hh, ww, cc).permute(0, 3, 1, 2)
    out = net(x)
    (out * torch.tensor(d["c"], dtype=torch.float64)).sum().backward()
    ref = torch.tensor(d["out"], dtype=torch.float64)
    worst = ((out.detach() - ref).abs().max() / ref.abs().max()).item()
    print(f"outputs: torch {out.detach().tolist()}\n         rust  {ref.tolist()}\n"
          f"         max rel diff {worst:.2e}")
    g = torch.tensor(d["grad"], dtype=torch.float64)
    for t, layer in zip(tensors, d["layers"]):
        gr = g[layer["offset"]:layer["offset"] + layer["len"]]
        tg = t.grad
        if t.dim() == 4:
            if layer["name"].endswith(".dw"):
                tg = tg.squeeze(1).permute(1, 2, 0)
            else:
                tg = tg.permute(2, 3, 1, 0)
        diff = ((tg.reshape(-1) - gr).abs().max() / gr.abs().max()).item()
        worst = max(worst, diff)
        print(f"grad {layer['name']:14s} max rel diff {diff:.2e}")
    print(f"WORST {worst:.2e}: {'OK' if worst < 1e-10 else 'MISMATCH'}")
    return worst < 1e-10


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", metavar="FILE")
    ap.add_argument("--width", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--batch", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--secs", type=float, default=2.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--channels-last", action="store_true")
    args = ap.parse_args()
    if args.check:
        raise SystemExit(0 if check(args.check) else 1)
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, "
          f"channels_last {args.channels_last}")
    print("h\tB\tsteps/s(median)\tmin\tmax\tper-cpu-s(median)\tmin\tmax\treps\tparams")
    gen = torch.Generator().manual_seed(0)
    for h in args.width:
        for b in args.batch:
            net = Mnas(h, gen=gen)
            n_params = sum(p.numel() for p in net.params)
            x = torch.randn(b, 3, 32, 32, generator=gen)
            if args.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            c = torch.tensor([1e-3 if i % 2 == 0 else -1e-3 for i in range(b)])
            lr = 1e-3

            def step():
                out = net(x)
                (out * c).sum().backward()
                with torch.no_grad():
                    for p in net.params:
                        p -= lr * p.grad
                        p.grad = None

            t0 = time.perf_counter()
            step()
            step()
            per = (time.perf_counter() - t0) / 2
            steps = max(2, math.ceil(args.secs / per))
            rates, cpu_rates = [], []
            for _ in range(args.reps):
                t, c0 = time.perf_counter(), time.process_time()
                for _ in range(steps):
                    step()
                rates.append(steps / (time.perf_counter() - t))
                cpu_rates.append(steps / (time.process_time() - c0))
            rates.sort()
            cpu_rates.sort()
            m = len(rates) // 2
            print(f"{h}\t{b}\t{rates[m]:.2f}\t{rates[0]:.2f}\t{rates[-1]:.2f}\t"
                  f"{cpu_rates[m]:.2f}\t{cpu_rates[0]:.2f}\t{cpu_rates[-1]:.2f}\t"
                  f"{args.reps}x{steps} steps\t{n_params}", flush=True)


if __name__ == "__main__":
    main()
