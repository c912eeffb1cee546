#!/usr/bin/env python3
"""PyTorch eager reference for `sgdnoise bench`: SGD steps/s of the FC net of SPEC §1.

The same step as the Rust step benchmark (crates/sgdnoise-core/src/bench.rs):
  z0 = x; z_l = sigma(W_l z_{l-1} / sqrt(n_{l-1})), sigma = sqrt(2) relu (unit second moment);
  f = W_{L+1} . z_L / h; weights N(0,1), no biases;
  pred = f(w, x) - f(w0, x) (alpha-trick), loss = mean_i max(0, 1 - alpha y_i pred_i) / alpha;
  plain SGD: w <- w - lr * grad (autograd), one fixed random batch of B points.
alpha is small (1e-3, margin 1000) so every point stays unfitted: a dense gradient every step,
as in the Rust benchmark (which sets c_i = -y_i / B). One thread (torch.set_num_threads(1)).

Variants: "autograd" (loss.backward(), the idiomatic eager loop) and "manual" (the backward
written out with fused addmm_ updates, no autograd: the fastest eager form).

FLOPs per step: 2 B (3 P - d0 h), the formula of crates/sgdnoise-core/src/bench.rs.

Usage: python bench/pytorch_mlp.py --batch 16 --dtype f32 [--variant autograd] [--seconds 3]
       python bench/pytorch_mlp.py --verify --dtype f64   (manual step == autograd step)
"""
import argparse
import math
import statistics
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dim", type=int, default=784)
    ap.add_argument("--depth", type=int, default=5)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--variant", choices=["autograd", "manual"], default="autograd")
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--verify", action="store_true",
                    help="check that one manual step equals one autograd step, then exit")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    dt = torch.float32 if args.dtype == "f32" else torch.float64
    d0, L, h, B = args.dim, args.depth, args.width, args.batch
    alpha, lr = 1e-3, 1e-6
    sizes = [d0] + [h] * L + [1]
    ws = [torch.randn(sizes[i + 1], sizes[i], dtype=dt) for i in range(L + 1)]
    x = torch.rand(B, d0, dtype=dt) * 2 - 1
    y = torch.randint(0, 2, (B,), dtype=dt) * 2 - 1
    scales = [1 / math.sqrt(sizes[i]) for i in range(L)]
    sqrt2 = math.sqrt(2.0)

    def f(ws, x):
        z = x
        for w, s in zip(ws[:-1], scales):
            z = torch.relu(z @ w.t() * s) * sqrt2
        return (z @ ws[-1].t()).squeeze(-1) / h

    with torch.no_grad():
        f0 = f(ws, x)
    for w in ws:
        w.requires_grad_(True)

    def step_autograd():
        pred = f(ws, x) - f0
        loss = torch.clamp(1 - alpha * pred * y, min=0).mean() / alpha
        loss.backward()
        with torch.no_grad():
            for w in ws:
                w.sub_(w.grad, alpha=lr)
                w.grad = None

    wd = [w.detach() for w in ws]
    acts = [None] * (L + 1)
    masks = [None] * L

    def step_manual():
        with torch.no_grad():
            z = x
            acts[0] = z
            for l in range(L):
                pre = torch.mm(z, wd[l].t()).mul_(scales[l])
                masks[l] = pre > 0
                z = pre.clamp_(min=0).mul_(sqrt2)
                acts[l + 1] = z
            out = torch.mm(z, wd[L].t()).squeeze(-1).div_(h)
            pred = out - f0
            unfit = (alpha * pred * y) < 1
            c = torch.where(unfit, -y, torch.zeros_like(y)).div_(B).unsqueeze(1)  # B x 1
            dz = torch.mm(c, wd[L]).div_(h)  # B x h, old W_{L+1}
            wd[L].addmm_(c.t(), acts[L], alpha=-lr / h)
            for l in range(L - 1, -1, -1):
                dz.mul_(masks[l]).mul_(sqrt2)
                if l > 0:
                    below = torch.mm(dz, wd[l]).mul_(scales[l])
                wd[l].addmm_(dz.t(), acts[l], alpha=-lr * scales[l])
                if l > 0:
                    dz = below

    if args.verify:
        lr = 1e-2  # large enough that rounding of w + update is far below the update
        w_init = [w.detach().clone() for w in ws]
        step_autograd()
        w_auto = [w.detach().clone() for w in ws]
        with torch.no_grad():
            for w, w0 in zip(ws, w_init):
                w.copy_(w0)
        step_manual()
        # Differences relative to the update, allowing the rounding of w + update itself.
        eps = torch.finfo(dt).eps
        worst = max(
            ((w.detach() - wa).abs().max()
             / ((wa - w0).abs().max() + 4 * eps * w0.abs().max())).item()
            for w, wa, w0 in zip(ws, w_auto, w_init)
        )
        print(f"manual vs autograd step: max |difference| / (max |update| + 4 eps max |w|) = {worst:.2e}")
        # Checked in f64: in f32 at large B the output-layer gradient (a sum of +-1/B terms)
        # cancels, and summation order alone moves it by O(1) of its tiny size.
        if args.dtype == "f64":
            assert worst < 1e-6, worst
        return

    step = step_autograd if args.variant == "autograd" else step_manual

    def run_for(budget):
        n, chunk = 0, 1
        t0 = time.perf_counter()
        c0 = time.thread_time()
        while True:
            for _ in range(chunk):
                step()
            n += chunk
            el = time.perf_counter() - t0
            if el >= budget:
                return n / el, n / (time.thread_time() - c0)
            chunk = max(1, min(1 << 16, int(1e-2 / (el / n))))

    run_for(max(0.05, 0.1 * args.seconds))
    both = [run_for(0.9 * args.seconds / args.repeats) for _ in range(args.repeats)]
    rates = sorted(r for r, _ in both)
    med = statistics.median(rates)
    cpu_med = statistics.median(c for _, c in both)
    P = sum(sizes[i] * sizes[i + 1] for i in range(L + 1))
    flops = 2 * B * (3 * P - d0 * h)
    print(
        f"torch {torch.__version__} {args.variant} d0={d0} L={L} h={h} B={B} {args.dtype}, "
        f"{args.threads} thread: {med:.1f} steps/s (repeats {rates[0]:.1f}..{rates[-1]:.1f}, "
        f"spread {100 * (rates[-1] - rates[0]) / med:.1f}%), {flops * med / 1e9:.2f} GFLOP/s; "
        f"per thread CPU second: {cpu_med:.1f} steps/s, {flops * cpu_med / 1e9:.2f} GFLOP/s"
    )


if __name__ == "__main__":
    main()
