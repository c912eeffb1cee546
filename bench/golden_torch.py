#!/usr/bin/env python3
"""PyTorch twin of sgdnoise's tiny golden nets: the numbers pinned in
crates/sgdnoise-core/tests/it/golden.rs (tests `*_matches_pytorch`) come from this script.

    PYTHON bench/golden_torch.py CASE [CASE ...]      CASE: mlp-relu mlp-gelu mnas-relu mnas-gelu

PYTHON is any interpreter with PyTorch (CPU is enough; float64 throughout). For each case it
prints, as Rust literals ready to paste into golden.rs, the layer table (name, offset, length in
sgdnoise's flat parameter order), the outputs f(w, x_i) of N_POINTS inputs, the gradient of
sum_i c_i f(w, x_i) with respect to every parameter (mlp: all of it; mnas: the entries listed by
`pinned_indices`), the gradient's Euclidean norm and each layer's, all with `{:.17e}` precision
(enough to round-trip f64), plus the smallest nonzero |pre-activation| (how far the ReLU nets
stay from the kink, where a rounding difference could flip a derivative).

Nothing is read from files or drawn at random: both sides compute the same closed forms,
  weight k of the flat vector   w_k    = sqrt(2) sin(0.7 k + 0.3)       (RMS about 1, like N(0,1))
  input coordinate j of point i x_ij   = cos(0.37 j + 1.3 i + 0.1)      (j in NHWC order for images)
  output gradients              c      = (1, -0.75, 0.5)
with Python's math.sin / math.cos (libm, like Rust's f64::sin / cos), never torch's vectorised
ones.

The nets follow SPEC section 1 (paper parametrisation), written here independently of the Rust
code:
  activation  sigma = phi / c, c = sqrt(E_{z~N(0,1)} phi(z)^2): ReLU c = 1/sqrt(2); GELU is the
              tanh form (F.gelu(approximate="tanh"), as model/activation.rs), its c computed here
              with mpmath (40 digits, adaptive quadrature; mpmath comes with PyTorch via sympy).
  mlp         z_l = sigma(W_l z_{l-1} / sqrt(n_{l-1})), f = W_{L+1} . z_L / h, no biases;
              flat order W1 (h x d0), ..., W_L (h x h), W_{L+1} (1 x h), each row-major (out, in).
  mnas        NHWC images, TensorFlow SAME padding (asymmetric, extra pixel after), conv divided by
              k sqrt(C_in), depthwise by k; stem sigma(conv(4h,5,2)) -> sigma(dw(5,1)) ->
              sigma(conv(2h,1,1)); blocks IR(h,5,2) IR(h,5,1) IR(3h,5,2) IR(3h,5,1) (expand to
              3 C_in, sigma, dw, sigma, project, (u + x)/sqrt(2) when shapes match); head
              sigma(conv(20h,1,1)), spatial mean, f = (W.z + b)/(20h). Flat order stem.conv,
              stem.dw, stem.proj, block{1..4}.{expand,dw,proj}, head.conv, readout.w, readout.b;
              convolutions HWIO [ky][kx][c_in][c_out], depthwise [ky][kx][c], row-major (as the
              Rust model's doc says; bench/pytorch_mnas.py --check uses the same mapping).
"""
import math
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

N_POINTS = 3
C = [1.0, -0.75, 0.5]
GELU_K = 0.7978845608028654  # sqrt(2/pi) as the f64 constant of model/activation.rs
GELU_A = 0.044715

# Sizes of each case (the Rust test builds the same nets from RunConfig).
MLP = dict(d0=6, depth=2, width=4)
MNAS = {"mnas-relu": ([28, 28, 1], 1), "mnas-gelu": ([32, 32, 3], 1)}  # (H, W, C), h


def weight(k):
    return math.sqrt(2.0) * math.sin(0.7 * k + 0.3)


def inputs(dim):
    return torch.tensor([[math.cos(0.37 * j + 1.3 * i + 0.1) for j in range(dim)]
                         for i in range(N_POINTS)])


def gelu_c():
    import mpmath

    mpmath.mp.dps = 40
    k, a = mpmath.mpf(GELU_K), mpmath.mpf(GELU_A)

    def integrand(z):
        p = z * (1 + mpmath.tanh(k * (z + a * z ** 3))) / 2
        return p * p * mpmath.exp(-z * z / 2) / mpmath.sqrt(2 * mpmath.pi)

    return float(mpmath.sqrt(mpmath.quad(integrand, [-mpmath.inf, 0, mpmath.inf])))


class Act:
    """sigma = phi / c, recording every pre-activation (to report the distance to ReLU's kink)."""

    def __init__(self, name):
        self.name = name
        self.c = 1.0 / math.sqrt(2.0) if name == "relu" else gelu_c()
        self.pre = []

    def __call__(self, z):
        self.pre.append(z.detach().reshape(-1))
        phi = torch.relu(z) if self.name == "relu" else F.gelu(z, approximate="tanh")
        return phi / self.c

    def min_abs_nonzero_pre(self):
        z = torch.cat(self.pre).abs()
        return z[z > 0].min().item()


def mlp(act):
    d0, depth, h = MLP["d0"], MLP["depth"], MLP["width"]
    shapes = [("W1", (h, d0))] + [(f"W{l}", (h, h)) for l in range(2, depth + 1)]
    shapes.append((f"W{depth + 1}", (1, h)))
    params = make_params(shapes)
    x = inputs(d0)

    def f(x):
        z = x.T  # features x points
        for l in range(depth):
            z = act(params[l][1] @ z / math.sqrt(z.shape[0]))
        return (params[depth][1] @ z).reshape(-1) / h

    return params, x, f


def same_pad(x, k, s):
    """TensorFlow SAME on NCHW: out = ceil(in/s), total = max((out-1)s + k - in, 0), before = total//2."""
    pads = []
    for n in (x.shape[3], x.shape[2]):  # F.pad wants the last dimension first
        out = -(-n // s)
        total = max((out - 1) * s + k - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


def mnas(act, shape, h):
    hh, ww, cin = shape
    # Parameter tensors in sgdnoise's order, each kept in its flat (HWIO / HWC) layout.
    shapes = [("stem.conv", (5, 5, cin, 4 * h)), ("stem.dw", (5, 5, 4 * h)),
              ("stem.proj", (1, 1, 4 * h, 2 * h))]
    blocks = []
    c = 2 * h
    for i, (out, k, s) in enumerate([(h, 5, 2), (h, 5, 1), (3 * h, 5, 2), (3 * h, 5, 1)], 1):
        mid = 3 * c
        shapes += [(f"block{i}.expand", (1, 1, c, mid)), (f"block{i}.dw", (k, k, mid)),
                   (f"block{i}.proj", (1, 1, mid, out))]
        blocks.append((k, s, out == c and s == 1))
        c = out
    shapes += [("head.conv", (1, 1, c, 20 * h)), ("readout.w", (20 * h,)), ("readout.b", (1,))]
    params = make_params(shapes)
    p = [t for _, t in params]
    x = inputs(hh * ww * cin)

    def conv(x, w, s):  # w: HWIO
        k, ci = w.shape[0], w.shape[2]
        return F.conv2d(same_pad(x, k, s), w.permute(3, 2, 0, 1), stride=s) / (k * math.sqrt(ci))

    def dw(x, w, s):  # w: HWC
        k, ch = w.shape[0], w.shape[2]
        return F.conv2d(same_pad(x, k, s), w.permute(2, 0, 1).unsqueeze(1), stride=s,
                        groups=ch) / k

    def f(x):
        z = x.reshape(-1, hh, ww, cin).permute(0, 3, 1, 2)  # NHWC -> NCHW
        z = act(conv(z, p[0], 2))
        z = act(dw(z, p[1], 1))
        z = act(conv(z, p[2], 1))
        for b, (k, s, residual) in enumerate(blocks):
            e, d, q = p[3 + 3 * b: 6 + 3 * b]
            u = act(conv(z, e, 1))
            u = act(dw(u, d, s))
            u = conv(u, q, 1)
            z = (u + z) / math.sqrt(2.0) if residual else u
        z = act(conv(z, p[15], 1)).mean(dim=(2, 3))
        return (z @ p[16] + p[17]) / (20 * h)

    return params, x, f


def make_params(shapes):
    """Tensors of the given shapes filled, in order, with w_k for the flat index k."""
    params, k = [], 0
    for name, shape in shapes:
        n = math.prod(shape)
        t = torch.tensor([weight(k + i) for i in range(n)]).reshape(shape).requires_grad_()
        params.append((name, t))
        k += n
    return params


def pinned_indices(layers, every):
    """Every `every`-th flat index plus the first and last of each layer, sorted."""
    total = layers[-1][1] + layers[-1][2]
    idx = set(range(0, total, every))
    for _, off, n in layers:
        idx.update((off, off + n - 1))
    return sorted(idx)


def rust_f64(v):
    return f"{v:.17e}"


def run(case):
    arch, act_name = case.split("-")
    act = Act(act_name)
    if arch == "mlp":
        params, x, f = mlp(act)
    else:
        shape, h = MNAS[case]
        params, x, f = mnas(act, shape, h)
    out = f(x)
    (out * torch.tensor(C)).sum().backward()
    layers, off = [], 0
    for name, t in params:
        layers.append((name, off, t.numel()))
        off += t.numel()
    grad = torch.cat([t.grad.reshape(-1) for _, t in params])
    idx = list(range(off)) if arch == "mlp" else pinned_indices(layers, 97)

    tag = case.upper().replace("-", "_")
    print(f"// {case}: {off} parameters; activation c = {act.c!r}; "
          f"smallest nonzero |pre-activation| {act.min_abs_nonzero_pre():.3e}")
    print(f"const {tag}_LAYERS: [(&str, usize, usize); {len(layers)}] = [")
    for name, o, n in layers:
        print(f'    ("{name}", {o}, {n}),')
    print("];")
    print(f"const {tag}_OUT: [f64; {N_POINTS}] = [")
    for v in out.tolist():
        print(f"    {rust_f64(v)},")
    print("];")
    if arch == "mlp":
        print(f"const {tag}_GRAD: [f64; {off}] = [")
        for i in idx:
            print(f"    {rust_f64(grad[i].item())},")
    else:
        print(f"const {tag}_GRAD: [(usize, f64); {len(idx)}] = [")
        for i in idx:
            print(f"    ({i}, {rust_f64(grad[i].item())}),")
    print("];")
    print(f"const {tag}_GRAD_NORM: f64 = {rust_f64(grad.norm().item())};")
    print(f"const {tag}_LAYER_GRAD_NORMS: [f64; {len(layers)}] = [")
    for _, t in params:
        print(f"    {rust_f64(t.grad.norm().item())},")
    print("];")
    print()


def main():
    cases = sys.argv[1:]
    known = ["mlp-relu", "mlp-gelu"] + list(MNAS)
    if not cases or any(c not in known for c in cases):
        raise SystemExit(f"usage: PYTHON {sys.argv[0]} CASE [CASE ...]; CASE in {' '.join(known)}")
    print(f"// torch {torch.__version__}, float64")
    for case in cases:
        run(case)


if __name__ == "__main__":
    main()
