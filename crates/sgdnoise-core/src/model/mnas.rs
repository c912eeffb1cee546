//! MnasNet-like CNN ("mnas"), SPEC §1, on NHWC images with SAME padding.
//!
//! ```text
//! stem:   sigma(conv(4h, 5, 2)) -> sigma(dwconv(5, 1)) -> sigma(conv(2h, 1, 1))
//! blocks: IR(h, 5, 2), IR(h, 5, 1), IR(3h, 5, 2), IR(3h, 5, 1) where IR(out, k, s) on x with C_in
//!         channels is  u = sigma(conv(3 C_in, 1, 1)(x)); u = sigma(dwconv(k, s)(u));
//!         u = conv(out, 1, 1)(u);  output (u + x)/sqrt(2) if u and x have the same shape, else u
//! head:   z = mean over positions of sigma(conv(20h, 1, 1)(x));  f = (W·z + b) / (20h)
//! ```
//! `conv(c, k, s)` divides by `k·sqrt(C_in)`, `dwconv(k, s)` by `k` (see [`super::conv`]); no
//! biases except `b`. sigma is the activation normalised to unit second moment (ReLU:
//! `sqrt(2)·max(z, 0)`).
//!
//! **Parameters.** One flat vector; all weights i.i.d. N(0,1) drawn from the init stream in this
//! order (which is also the order of [`Model::layers`]): `stem.conv` `[5][5][C][4h]`,
//! `stem.dw` `[5][5][4h]`, `stem.proj` `[4h][2h]`, then for blocks i = 1..4 `block{i}.expand`
//! `[C_in][3C_in]`, `block{i}.dw` `[k][k][3C_in]`, `block{i}.proj` `[3C_in][out]`, then
//! `head.conv` `[C_in][20h]`, `readout.w` `[20h]`, `readout.b` `[1]`. Convolution weights are
//! HWIO, each tensor row-major. For h = 64 on 32×32×3 images this is 707,649 numbers.
//!
//! **Memory.** Activations of a batch are kept for the backward pass in a workspace allocated
//! once, for min(batch size, [`TRAIN_CHUNK`]) images (about 0.7 M numbers per image at h = 64 on
//! CIFAR-10, plus three gradient buffers); larger batches are processed chunk by chunk, with
//! recomputation. `predict` uses a second workspace of [`PREDICT_CHUNK`] images. No step
//! allocates.

use super::activation;
use super::conv::{Conv, DwConv};
use super::{normal_weights, Layer, Model, Target};
use crate::numeric::gemm::Cpu;
use crate::numeric::real::Real;
use crate::numeric::rng::StreamRng;
use crate::settings::{Activation, RunSpec};

/// Images per pass in [`Model::predict`].
pub const PREDICT_CHUNK: usize = 32;

/// Most images whose activations a training step keeps at once. Larger batches (full-batch
/// gradient descent on P points) run in chunks of this size: `forward` keeps only the inputs and
/// the last chunk's activations, and `backward` recomputes the other chunks' forward passes
/// (one extra forward per step, instead of gigabytes of stored activations).
pub const TRAIN_CHUNK: usize = 64;

const SQRT_2: f64 = std::f64::consts::SQRT_2;

/// a = sigma(z) elementwise (SPEC §1 normalisation, see `model::activation`). NaN stays NaN (as
/// in PyTorch), so a diverged weight shows up in the output instead of being cut to 0 by a ReLU.
#[inline]
fn act_forward<R: Real>(act: Activation, z: &[R], a: &mut [R]) {
    if act != Activation::Relu {
        for (a, &z) in a.iter_mut().zip(z) {
            *a = activation::sigma(act, z);
        }
        return;
    }
    let s = R::from_f64(SQRT_2);
    for (a, &z) in a.iter_mut().zip(z) {
        #[allow(clippy::eq_op)] // z != z: NaN
        let keep = z > R::ZERO || z != z;
        *a = if keep { s * z } else { R::ZERO };
    }
}

/// g *= sigma'(z) elementwise.
#[inline]
fn act_backward<R: Real>(act: Activation, z: &[R], g: &mut [R]) {
    if act != Activation::Relu {
        for (g, &z) in g.iter_mut().zip(z) {
            *g *= activation::derivative(act, z);
        }
        return;
    }
    let s = R::from_f64(SQRT_2);
    for (g, &z) in g.iter_mut().zip(z) {
        *g = if z > R::ZERO { s * *g } else { R::ZERO };
    }
}

/// What follows the second convolution of a unit.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Post {
    /// sigma (the stem).
    Act,
    /// (u + x) / sqrt(2).
    Residual,
    /// Nothing (a block whose output shape differs from its input's).
    Linear,
}

/// conv -> sigma -> dwconv -> sigma -> conv -> post: the stem and every inverted-residual block.
#[derive(Clone, Debug)]
struct Unit {
    a: Conv,
    a_off: usize,
    d: DwConv,
    d_off: usize,
    b: Conv,
    b_off: usize,
    post: Post,
}

#[derive(Clone, Debug)]
struct Head {
    conv: Conv,
    conv_off: usize,
    /// 20h.
    features: usize,
    /// Spatial positions averaged over.
    positions: usize,
    w_off: usize,
    b_off: usize,
}

/// The network's shapes and where each tensor lives in the parameter vector.
#[derive(Clone, Debug)]
struct Arch {
    /// The activation sigma (ReLU has its own fast loops).
    act: Activation,
    input_dim: usize,
    units: Vec<Unit>,
    head: Head,
    layers: Vec<Layer>,
    n_params: usize,
}

impl Arch {
    fn new(image_shape: [usize; 3], h: usize) -> Arch {
        let [ih, iw, ic] = image_shape;
        assert!(
            ih > 0 && iw > 0 && ic > 0 && h > 0,
            "mnas: empty image or width"
        );
        let mut layers = Vec::new();
        let mut off = 0usize;
        let mut push = |name: String, len: usize| {
            layers.push(Layer {
                name,
                offset: off,
                len,
            });
            off += len;
            off - len
        };
        let mut units = Vec::new();

        // Stem.
        let a = Conv::new(ih, iw, ic, 4 * h, 5, 2);
        let d = DwConv::new(a.geom.out_h, a.geom.out_w, 4 * h, 5, 1);
        let b = Conv::new(d.geom.out_h, d.geom.out_w, 4 * h, 2 * h, 1, 1);
        units.push(Unit {
            a_off: push("stem.conv".into(), a.weight_len()),
            d_off: push("stem.dw".into(), d.weight_len()),
            b_off: push("stem.proj".into(), b.weight_len()),
            a,
            d,
            b,
            post: Post::Act,
        });

        // Inverted-residual blocks.
        for (i, &(out, k, s)) in [(h, 5, 2), (h, 5, 1), (3 * h, 5, 2), (3 * h, 5, 1)]
            .iter()
            .enumerate()
        {
            let prev = &units.last().expect("stem").b;
            let (hh, ww, c) = (prev.geom.out_h, prev.geom.out_w, prev.c_out);
            let mid = 3 * c;
            let a = Conv::new(hh, ww, c, mid, 1, 1);
            let d = DwConv::new(hh, ww, mid, k, s);
            let b = Conv::new(d.geom.out_h, d.geom.out_w, mid, out, 1, 1);
            let residual = (b.geom.out_h, b.geom.out_w, out) == (hh, ww, c);
            units.push(Unit {
                a_off: push(format!("block{}.expand", i + 1), a.weight_len()),
                d_off: push(format!("block{}.dw", i + 1), d.weight_len()),
                b_off: push(format!("block{}.proj", i + 1), b.weight_len()),
                a,
                d,
                b,
                post: if residual {
                    Post::Residual
                } else {
                    Post::Linear
                },
            });
        }

        // Head.
        let last = &units.last().expect("blocks").b;
        let features = 20 * h;
        let conv = Conv::new(last.geom.out_h, last.geom.out_w, last.c_out, features, 1, 1);
        let head = Head {
            conv_off: push("head.conv".into(), conv.weight_len()),
            w_off: push("readout.w".into(), features),
            b_off: push("readout.b".into(), 1),
            positions: conv.geom.out_positions(),
            conv,
            features,
        };
        Arch {
            act: Activation::Relu,
            input_dim: ih * iw * ic,
            units,
            head,
            layers,
            n_params: off,
        }
    }
}

/// Parameter count for input images of shape (height, width, channels) and base width h.
pub fn param_count(image_shape: [usize; 3], width: usize) -> usize {
    Arch::new(image_shape, width).n_params
}

/// Stored activations of one unit, for `cap` images.
struct UnitBufs<R> {
    patches: Vec<R>,
    za: Vec<R>,
    aa: Vec<R>,
    zd: Vec<R>,
    ad: Vec<R>,
    zb: Vec<R>,
    out: Vec<R>,
}

/// Everything a forward and backward pass of up to `cap` images writes.
struct Workspace<R> {
    cap: usize,
    /// Copy of the input batch.
    x: Vec<R>,
    units: Vec<UnitBufs<R>>,
    zh: Vec<R>,
    ah: Vec<R>,
    /// Spatial means of `ah`: cap × 20h.
    mean: Vec<R>,
    /// Gradient buffers: g[0] holds the gradient of the current unit's output.
    g: [Vec<R>; 3],
    dpatches: Vec<R>,
}

impl<R: Real> Workspace<R> {
    /// Buffers for `cap` images; the gradient buffers only `with_grad` (not for `predict`).
    fn new(arch: &Arch, cap: usize, with_grad: bool) -> Self {
        let z = |len: usize| vec![R::ZERO; cap * len];
        let zg = |len: usize| if with_grad { z(len) } else { Vec::new() };
        let units: Vec<UnitBufs<R>> = arch
            .units
            .iter()
            .map(|u| UnitBufs {
                patches: z(u.a.patches_len()),
                za: z(u.a.out_len()),
                aa: z(u.a.out_len()),
                zd: z(u.d.out_len()),
                ad: z(u.d.out_len()),
                zb: z(u.b.out_len()),
                out: z(u.b.out_len()),
            })
            .collect();
        let hd = &arch.head;
        let max_tensor = arch
            .units
            .iter()
            .flat_map(|u| [u.a.in_len(), u.a.out_len(), u.d.out_len(), u.b.out_len()])
            .chain([hd.conv.out_len()])
            .max()
            .unwrap_or(0);
        let max_patches = arch
            .units
            .iter()
            .skip(1)
            .map(|u| u.a.patches_len())
            .max()
            .unwrap_or(0);
        Workspace {
            cap,
            x: z(arch.input_dim),
            units,
            zh: z(hd.conv.out_len()),
            ah: z(hd.conv.out_len()),
            mean: z(hd.features),
            g: [zg(max_tensor), zg(max_tensor), zg(max_tensor)],
            dpatches: zg(max_patches),
        }
    }
}

/// Forward pass of `n <= ws.cap` images, keeping activations in `ws`.
fn forward<R: Real>(
    arch: &Arch,
    gemm: &Cpu,
    w: &[R],
    ws: &mut Workspace<R>,
    x: &[R],
    n: usize,
    out: &mut [R],
) {
    assert!(
        n <= ws.cap,
        "mnas: batch of {n} exceeds workspace of {}",
        ws.cap
    );
    let dim = arch.input_dim;
    ws.x[..n * dim].copy_from_slice(&x[..n * dim]);
    for (i, u) in arch.units.iter().enumerate() {
        let (prev, rest) = ws.units.split_at_mut(i);
        let input: &[R] = if i == 0 { &ws.x } else { &prev[i - 1].out };
        let b = &mut rest[0];
        let (la, ld, lb) = (n * u.a.out_len(), n * u.d.out_len(), n * u.b.out_len());
        u.a.forward(gemm, &w[u.a_off..], input, n, &mut b.patches, &mut b.za);
        act_forward(arch.act, &b.za[..la], &mut b.aa[..la]);
        u.d.forward(&w[u.d_off..], &b.aa, n, &mut b.zd);
        act_forward(arch.act, &b.zd[..ld], &mut b.ad[..ld]);
        u.b.forward(gemm, &w[u.b_off..], &b.ad, n, &mut [], &mut b.zb);
        match u.post {
            Post::Act => act_forward(arch.act, &b.zb[..lb], &mut b.out[..lb]),
            Post::Residual => {
                let s = R::from_f64(std::f64::consts::FRAC_1_SQRT_2);
                for ((o, &z), &x) in b.out[..lb].iter_mut().zip(&b.zb).zip(input) {
                    *o = (z + x) * s;
                }
            }
            Post::Linear => b.out[..lb].copy_from_slice(&b.zb[..lb]),
        }
    }
    let hd = &arch.head;
    let last: &[R] = &ws.units.last().expect("units").out;
    let lh = n * hd.conv.out_len();
    hd.conv
        .forward(gemm, &w[hd.conv_off..], last, n, &mut [], &mut ws.zh);
    act_forward(arch.act, &ws.zh[..lh], &mut ws.ah[..lh]);
    let (f, p) = (hd.features, hd.positions);
    let inv_p = R::ONE / R::from_usize(p);
    let inv_f = R::ONE / R::from_usize(f);
    let rw = &w[hd.w_off..hd.w_off + f];
    let rb = w[hd.b_off];
    for (i, o) in out[..n].iter_mut().enumerate() {
        let m = &mut ws.mean[i * f..(i + 1) * f];
        m.fill(R::ZERO);
        for pos in 0..p {
            let row = &ws.ah[(i * p + pos) * f..(i * p + pos + 1) * f];
            for (m, &a) in m.iter_mut().zip(row) {
                *m += a;
            }
        }
        let mut s = R::ZERO;
        for (m, &v) in m.iter_mut().zip(rw) {
            *m *= inv_p;
            s += *m * v;
        }
        *o = (s + rb) * inv_f;
    }
}

/// Backward pass of the last [`forward`] on `ws` (n images) with output gradients `c`:
/// overwrites `grad` with Σ_i c_i ∇_w f(x_i).
fn backward<R: Real>(
    arch: &Arch,
    gemm: &Cpu,
    w: &[R],
    ws: &mut Workspace<R>,
    n: usize,
    c: &[R],
    grad: &mut [R],
) {
    let hd = &arch.head;
    let (f, p) = (hd.features, hd.positions);
    let inv_f = R::ONE / R::from_usize(f);
    let inv_fp = inv_f / R::from_usize(p);
    // Read-out.
    {
        let gw = &mut grad[hd.w_off..hd.w_off + f];
        gw.fill(R::ZERO);
        let mut gb = R::ZERO;
        for (i, &ci) in c[..n].iter().enumerate() {
            let ci = ci * inv_f;
            gb += ci;
            for (g, &m) in gw.iter_mut().zip(&ws.mean[i * f..(i + 1) * f]) {
                *g += ci * m;
            }
        }
        grad[hd.b_off] = gb;
    }
    // Head convolution: d z_h = c_i W / (F P) · sigma'(z_h).
    let rw = &w[hd.w_off..hd.w_off + f];
    let lh = n * hd.conv.out_len();
    {
        let g0 = &mut ws.g[0][..lh];
        for (i, &ci) in c[..n].iter().enumerate() {
            let ci = ci * inv_fp;
            for pos in 0..p {
                let row = &mut g0[(i * p + pos) * f..(i * p + pos + 1) * f];
                for (g, &v) in row.iter_mut().zip(rw) {
                    *g = ci * v;
                }
            }
        }
        act_backward(arch.act, &ws.zh[..lh], g0);
    }
    {
        let last = &ws.units.last().expect("units").out;
        let [g0, g1, _] = &mut ws.g;
        hd.conv.backward(
            gemm,
            &w[hd.conv_off..],
            last,
            &[],
            n,
            g0,
            &mut grad[hd.conv_off..],
            Some((&mut g1[..], &mut [][..])),
        );
    }
    ws.g.swap(0, 1);

    // Units, last to first; g[0] holds the gradient of the unit's output.
    for (i, u) in arch.units.iter().enumerate().rev() {
        let (prev, rest) = ws.units.split_at(i);
        let input: &[R] = if i == 0 { &ws.x } else { &prev[i - 1].out };
        let b = &rest[0];
        let [g0, g1, g2] = &mut ws.g;
        let (la, ld, lb) = (n * u.a.out_len(), n * u.d.out_len(), n * u.b.out_len());
        match u.post {
            Post::Act => act_backward(arch.act, &b.zb[..lb], &mut g0[..lb]),
            Post::Residual => {
                let s = R::from_f64(std::f64::consts::FRAC_1_SQRT_2);
                g0[..lb].iter_mut().for_each(|g| *g *= s);
            }
            Post::Linear => {}
        }
        u.b.backward(
            gemm,
            &w[u.b_off..],
            &b.ad,
            &[],
            n,
            g0,
            &mut grad[u.b_off..],
            Some((&mut g1[..], &mut [][..])),
        );
        act_backward(arch.act, &b.zd[..ld], &mut g1[..ld]);
        u.d.backward(&w[u.d_off..], &b.aa, n, g1, &mut grad[u.d_off..], Some(g2));
        act_backward(arch.act, &b.za[..la], &mut g2[..la]);
        let want_dx = i > 0;
        u.a.backward(
            gemm,
            &w[u.a_off..],
            input,
            &b.patches,
            n,
            g2,
            &mut grad[u.a_off..],
            want_dx.then_some((&mut g1[..], &mut ws.dpatches[..])),
        );
        if want_dx && u.post == Post::Residual {
            let li = n * u.a.in_len();
            for (d, &s) in g1[..li].iter_mut().zip(&g0[..li]) {
                *d += s;
            }
        }
        ws.g.swap(0, 1);
    }
}

/// The MnasNet-like CNN with its weights and workspaces.
pub struct Mnas<R> {
    w: Vec<R>,
    arch: Arch,
    gemm: Cpu,
    train: Workspace<R>,
    pred: Workspace<R>,
    /// Gradient buffer for [`Target::Update`].
    grad: Vec<R>,
    /// Images in the last forward batch.
    batch_n: usize,
    /// For batches larger than the workspace: their inputs, one chunk's gradient, and
    /// recomputed outputs (allocated on first use).
    big: BigBatch<R>,
}

#[derive(Default)]
struct BigBatch<R> {
    x: Vec<R>,
    grad: Vec<R>,
    out: Vec<R>,
    /// First image of the chunk whose activations the workspace holds.
    held: usize,
}

/// Σ_i c_i ∇f(x_i) into `grad` for the last forward batch of `n` images: directly when it fit
/// the workspace, else chunk by chunk (the chunk whose activations are still in `ws` first, then
/// the others, recomputed from `big.x`).
#[allow(clippy::too_many_arguments)]
fn batch_gradient<R: Real>(
    arch: &Arch,
    gemm: &Cpu,
    w: &[R],
    ws: &mut Workspace<R>,
    big: &mut BigBatch<R>,
    n: usize,
    c: &[R],
    grad: &mut [R],
) {
    let cap = ws.cap;
    if n <= cap {
        return backward(arch, gemm, w, ws, n, c, grad);
    }
    let dim = arch.input_dim;
    let held = big.held;
    let len = |start: usize| cap.min(n - start);
    backward(
        arch,
        gemm,
        w,
        ws,
        len(held),
        &c[held..held + len(held)],
        grad,
    );
    big.grad.resize(grad.len(), R::ZERO);
    big.out.resize(cap, R::ZERO);
    for start in (0..n).step_by(cap).filter(|&s| s != held) {
        let m = len(start);
        let x = &big.x[start * dim..(start + m) * dim];
        forward(arch, gemm, w, ws, x, m, &mut big.out);
        backward(arch, gemm, w, ws, m, &c[start..start + m], &mut big.grad);
        for (g, &p) in grad.iter_mut().zip(&big.grad) {
            *g += p;
        }
        big.held = start;
    }
}

impl<R: Real> Mnas<R> {
    /// The network of `spec` (image shape from its data set, width h, activation, batch size,
    /// threads for the matrix products), weights drawn from `rng`.
    pub fn from_spec(spec: &RunSpec, rng: &mut StreamRng) -> Self {
        let shape = spec
            .dataset
            .image_shape()
            .expect("mnas needs an image data set (checked when the config is resolved)");
        Self::new(
            shape,
            spec.width,
            spec.act,
            spec.batch,
            spec.exec.threads,
            rng,
        )
    }

    /// The network for images of shape (height, width, channels) and base width `h`, with its
    /// training workspace sized for batches of `batch` images (at most [`TRAIN_CHUNK`] at once;
    /// `forward` accepts any n). Matrix products use `threads` threads.
    ///
    pub fn new(
        image_shape: [usize; 3],
        h: usize,
        act: Activation,
        batch: usize,
        threads: usize,
        rng: &mut StreamRng,
    ) -> Self {
        let mut arch = Arch::new(image_shape, h);
        arch.act = act;
        let w = normal_weights(arch.n_params, rng);
        let batch = batch.max(1);
        Mnas {
            train: Workspace::new(&arch, batch.min(TRAIN_CHUNK), true),
            big: BigBatch::default(),
            pred: Workspace::new(&arch, PREDICT_CHUNK, false),
            grad: vec![R::ZERO; arch.n_params],
            w,
            arch,
            gemm: Cpu {
                threads: threads.max(1),
            },
            batch_n: 0,
        }
    }

    /// Smallest nonzero |pre-activation| of the last forward batch (tests use it to stay away
    /// from the ReLU kink when comparing with finite differences). Exact zeros are skipped: they
    /// come from all-zero inputs (a pixel whose channels were all cut by the ReLU below), stay
    /// exactly zero when any weight moves a little, and so have no kink to cross.
    #[cfg(test)]
    fn min_abs_preactivation(&self) -> f64 {
        let n = self.batch_n;
        let ws = &self.train;
        let mut m = f64::INFINITY;
        let mut see = |v: &[R]| {
            for &z in v {
                if z != R::ZERO {
                    m = m.min(z.to_f64().abs());
                }
            }
        };
        for (u, b) in self.arch.units.iter().zip(&ws.units) {
            see(&b.za[..n * u.a.out_len()]);
            see(&b.zd[..n * u.d.out_len()]);
            if u.post == Post::Act {
                see(&b.zb[..n * u.b.out_len()]);
            }
        }
        see(&ws.zh[..n * self.arch.head.conv.out_len()]);
        m
    }
}

impl<R: Real> Model<R> for Mnas<R> {
    fn input_dim(&self) -> usize {
        self.arch.input_dim
    }
    fn params(&self) -> &[R] {
        &self.w
    }
    fn params_mut(&mut self) -> &mut [R] {
        &mut self.w
    }
    fn layers(&self) -> &[Layer] {
        &self.arch.layers
    }
    fn predict(&mut self, x: &[R], n: usize, out: &mut [R]) {
        let dim = self.arch.input_dim;
        let chunk = self.pred.cap;
        let mut start = 0;
        while start < n {
            let m = chunk.min(n - start);
            forward(
                &self.arch,
                &self.gemm,
                &self.w,
                &mut self.pred,
                &x[start * dim..(start + m) * dim],
                m,
                &mut out[start..start + m],
            );
            start += m;
        }
    }
    fn forward(&mut self, x: &[R], n: usize, out: &mut [R]) {
        let cap = self.train.cap;
        if n > cap {
            let dim = self.arch.input_dim;
            self.big.x.clear();
            self.big.x.extend_from_slice(&x[..n * dim]);
        }
        let mut start = 0;
        while start < n {
            let m = cap.min(n - start);
            forward(
                &self.arch,
                &self.gemm,
                &self.w,
                &mut self.train,
                &x[start * self.arch.input_dim..],
                m,
                &mut out[start..start + m],
            );
            self.big.held = start;
            start += m;
        }
        self.batch_n = n;
    }
    fn backward(&mut self, _input: &[R], c: &[R], target: Target<'_, R>) {
        let n = self.batch_n;
        let (arch, gemm, w) = (&self.arch, &self.gemm, &self.w);
        match target {
            Target::Gradient(grad) => {
                batch_gradient(arch, gemm, w, &mut self.train, &mut self.big, n, c, grad)
            }
            Target::Update { lr } => {
                batch_gradient(
                    arch,
                    gemm,
                    w,
                    &mut self.train,
                    &mut self.big,
                    n,
                    c,
                    &mut self.grad,
                );
                for (w, &g) in self.w.iter_mut().zip(&self.grad) {
                    *w -= lr * g;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::rng::{stream, Stream};

    #[test]
    fn parameter_counts_match_the_spec() {
        // SPEC §1.
        assert_eq!(param_count([32, 32, 3], 64), 707_649);
        assert_eq!(param_count([28, 28, 1], 64), 694_849);
        assert_eq!(param_count([32, 32, 3], 32), 192_033);
    }

    #[test]
    fn layers_tile_the_parameter_vector_in_order() {
        let arch = Arch::new([32, 32, 3], 64);
        let names: Vec<&str> = arch.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names.first(), Some(&"stem.conv"));
        assert_eq!(names.last(), Some(&"readout.b"));
        assert_eq!(names.len(), 3 + 4 * 3 + 3);
        let mut off = 0;
        for l in &arch.layers {
            assert_eq!(l.offset, off, "{}", l.name);
            off += l.len;
        }
        assert_eq!(off, 707_649);
        // Shapes: 32 -> 16 (stem) -> 8 (block 1) -> 4 (block 3); residual in blocks 2 and 4.
        let posts: Vec<Post> = arch.units.iter().map(|u| u.post).collect();
        assert_eq!(
            posts,
            [
                Post::Act,
                Post::Linear,
                Post::Residual,
                Post::Linear,
                Post::Residual
            ]
        );
        assert_eq!(arch.head.positions, 16);
        assert_eq!(Arch::new([28, 28, 1], 64).head.positions, 16); // 28 -> 14 -> 7 -> 4
    }

    fn tiny(seed: i64) -> (Mnas<f64>, Vec<f64>) {
        tiny_with(seed, Activation::Relu)
    }

    fn tiny_with(seed: i64, act: Activation) -> (Mnas<f64>, Vec<f64>) {
        let mut rng = stream(seed, Stream::Init);
        let model = Mnas::<f64>::new([8, 8, 3], 2, act, 2, 1, &mut rng);
        let x: Vec<f64> = normal_weights(2 * 8 * 8 * 3, &mut stream(seed, Stream::Trainset));
        (model, x)
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let n = 2;
        let mut out = [0.0; 2];
        // Stay clear of ReLU kinks: the first init seed whose nonzero pre-activations all exceed
        // 1e-4 in size (a step of 1e-6 in one weight moves them by ~1e-6).
        let (model, x) = (0..100)
            .map(tiny)
            .find_map(|(mut model, x)| {
                model.forward(&x, n, &mut out);
                (model.min_abs_preactivation() > 1e-4).then_some((model, x))
            })
            .expect("some seed keeps pre-activations away from 0");
        assert_gradient_matches(model, &x);
    }

    #[test]
    fn gradient_matches_finite_differences_for_smooth_activations() {
        for act in [Activation::Gelu, Activation::Silu] {
            let (model, x) = tiny_with(0, act);
            assert_gradient_matches(model, &x);
        }
    }

    /// Central finite differences of Σ_i c_i f(x_i) against `Target::Gradient` (2 images).
    fn assert_gradient_matches(mut model: Mnas<f64>, x: &[f64]) {
        let n = 2;
        let c = [0.7, -1.3];
        let mut out = [0.0; 2];
        model.forward(x, n, &mut out);
        let mut grad = vec![f64::NAN; model.params().len()];
        model.backward(x, &c, Target::Gradient(&mut grad));

        let eps = 1e-6;
        let mut pred = [0.0; 2];
        let mut w = model.params().to_vec();
        let mut worst = 0.0f64;
        let gmax = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for k in 0..w.len() {
            let old = w[k];
            let mut l = [0.0; 2];
            for (j, d) in [eps, -eps].into_iter().enumerate() {
                w[k] = old + d;
                model.params_mut().copy_from_slice(&w);
                model.predict(x, n, &mut pred);
                l[j] = c[0] * pred[0] + c[1] * pred[1];
            }
            w[k] = old;
            let fd = (l[0] - l[1]) / (2.0 * eps);
            let err = (fd - grad[k]).abs() / (grad[k].abs() + 1e-3 * gmax);
            worst = worst.max(err);
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
    }

    #[test]
    fn update_is_w_minus_lr_times_gradient() {
        let (mut model, x) = tiny(5);
        let c = [0.25, 0.5];
        let mut out = [0.0; 2];
        model.forward(&x, 2, &mut out);
        let w0 = model.params().to_vec();
        let mut grad = vec![0.0; w0.len()];
        model.backward(&x, &c, Target::Gradient(&mut grad));
        assert_eq!(
            model.params(),
            &w0[..],
            "Gradient must not touch the weights"
        );
        model.backward(&x, &c, Target::Update { lr: 0.1 });
        for ((w, w0), g) in model.params().iter().zip(&w0).zip(&grad) {
            assert!((w - (w0 - 0.1 * g)).abs() < 1e-14);
        }
    }

    #[test]
    fn predict_chunks_match_forward_and_f32_agrees() {
        let mut rng = stream(9, Stream::Init);
        let mut model = Mnas::<f64>::new([9, 7, 2], 2, Activation::Relu, 4, 1, &mut rng);
        let n = 70; // three chunks
        let x: Vec<f64> = normal_weights(n * 9 * 7 * 2, &mut stream(9, Stream::Trainset));
        let mut all = vec![0.0; n];
        model.predict(&x, n, &mut all);
        let mut part = [0.0; 4];
        model.forward(&x[4 * 126..], 4, &mut part);
        for j in 0..4 {
            assert!((part[j] - all[4 + j]).abs() < 1e-12);
        }
        let mut m32 = Mnas::<f32>::new(
            [9, 7, 2],
            2,
            Activation::Relu,
            4,
            1,
            &mut stream(9, Stream::Init),
        );
        assert_eq!(m32.params()[0] as f64, model.params()[0] as f32 as f64);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut o32 = vec![0.0f32; n];
        m32.predict(&x32, n, &mut o32);
        for (a, b) in all.iter().zip(&o32) {
            assert!((a - *b as f64).abs() < 1e-4 * (1.0 + a.abs()), "{a} vs {b}");
        }
        // Outputs are O(1/sqrt(20h)) at init, not degenerate.
        assert!(all.iter().any(|v| v.abs() > 1e-3));
    }

    /// n synthetic 8×8×3 images (N(0,1) pixels from `stream`) labelled by a fixed rule: +1 when
    /// the left half of channel 0 is brighter than its right half.
    fn synthetic_images(n: usize, rng: &mut StreamRng) -> crate::data::Dataset<f64> {
        let dim = 8 * 8 * 3;
        let x: Vec<f64> = normal_weights(n * dim, rng);
        let y = (0..n)
            .map(|i| {
                let img = &x[i * dim..(i + 1) * dim];
                let d: f64 = (0..64)
                    .map(|p| if p % 8 < 4 { img[p * 3] } else { -img[p * 3] })
                    .sum();
                if d > 0.0 {
                    1.0
                } else {
                    -1.0
                }
            })
            .collect();
        crate::data::Dataset {
            x,
            y,
            dim,
            image_shape: Some([8, 8, 3]),
            teacher: None,
        }
    }

    #[test]
    fn sgd_training_reaches_zero_loss() {
        use crate::settings::RunConfig;
        let spec = RunConfig {
            arch: Some(crate::settings::Arch::Mnas),
            dataset: Some(crate::settings::DatasetName::CifarAnimal),
            width: Some(2),
            ptr: Some(32),
            pte: Some(64),
            batch: Some(8),
            alpha: Some(4.0),
            lr: Some(2.0),
            dtype: Some(crate::settings::Dtype::F64),
            max_steps: Some(20_000),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let split = crate::data::Split {
            train: synthetic_images(32, &mut stream(1, Stream::Trainset)),
            test: synthetic_images(64, &mut stream(1, Stream::Testset)),
        };
        let mut model = Mnas::<f64>::new(
            [8, 8, 3],
            2,
            Activation::Relu,
            8,
            1,
            &mut stream(1, Stream::Init),
        );
        let outcome =
            crate::train::train(&spec, &mut model, &split, &mut crate::train::Discard).unwrap();
        assert_eq!(
            outcome.stop_reason,
            crate::train::StopReason::ZeroLoss,
            "after {} steps: {:?}",
            outcome.steps,
            outcome.last.train
        );
        assert_eq!(outcome.last.train.unfitted, 0);
        assert!(
            outcome.steps > 0,
            "the initial net cannot fit: pred starts at 0"
        );
        assert!(outcome.last.rel_weight_change > 0.0);
    }

    #[test]
    fn model_build_makes_the_spec_network() {
        use crate::settings::RunConfig;
        let spec = RunConfig {
            arch: Some(crate::settings::Arch::Mnas),
            dataset: Some(crate::settings::DatasetName::MnistParity),
            width: Some(3),
            batch: Some(4),
            temp: Some(1.0),
            threads: Some(2),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let mut model = crate::model::build::<f32>(&spec);
        assert_eq!(model.input_dim(), 28 * 28);
        assert_eq!(model.params().len(), crate::model::param_count(&spec));
        assert_eq!(model.params().len(), param_count([28, 28, 1], 3));
        // Same seed, same weights: the init stream is the only source.
        let again = crate::model::build::<f32>(&spec);
        assert_eq!(model.params(), again.params());
        let x = vec![0.5f32; 4 * 784];
        let mut out = [0.0f32; 4];
        model.forward(&x, 4, &mut out);
        assert!(out.iter().all(|v| v.is_finite()));
        assert_eq!(out[0], out[3], "identical images, identical outputs");
    }

    #[test]
    fn batches_larger_than_the_workspace_give_the_same_gradient() {
        let n = 5;
        let x: Vec<f64> = normal_weights(n * 8 * 8 * 3, &mut stream(2, Stream::Trainset));
        let c = [0.3, -0.2, 0.9, -1.1, 0.4];
        let run = |batch: usize| {
            let mut rng = stream(2, Stream::Init);
            let mut m = Mnas::<f64>::new([8, 8, 3], 2, Activation::Relu, batch, 1, &mut rng);
            let mut out = vec![0.0; n];
            m.forward(&x, n, &mut out);
            let mut grad = vec![0.0; m.params().len()];
            m.backward(&x, &c, Target::Gradient(&mut grad));
            // A second backward of the same forward gives the same gradient (up to the order
            // in which chunks are summed).
            let mut again = vec![0.0; m.params().len()];
            m.backward(&x, &c, Target::Gradient(&mut again));
            let d = grad
                .iter()
                .zip(&again)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(d < 1e-13, "repeated backward differs by {d}");
            m.backward(&x, &c, Target::Update { lr: 0.5 });
            (out, grad, m.params().to_vec(), m.train.cap)
        };
        let (out1, grad1, w1, cap1) = run(n);
        let (out2, grad2, w2, cap2) = run(2); // chunks 2 + 2 + 1, recomputed as needed
        assert_eq!((cap1, cap2), (5, 2));
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-12);
        assert!(close(&out1, &out2));
        assert!(close(&grad1, &grad2));
        assert!(close(&w1, &w2));
        assert!(grad1.iter().any(|&g| g.abs() > 1e-6));
    }

    #[test]
    fn a_non_finite_weight_makes_the_output_non_finite() {
        let (mut model, x) = tiny(1);
        let mut out = [0.0; 2];
        for layer in ["stem.conv", "block2.dw", "head.conv"] {
            let (mut m, _) = tiny(1);
            // The middle entry: for a 5×5 kernel a centre tap, used at every pixel even on the
            // 2×2 maps of this tiny net.
            let l = m.layers().iter().find(|l| l.name == layer).unwrap().clone();
            m.params_mut()[l.offset + l.len / 2] = f64::NAN;
            m.predict(&x, 2, &mut out);
            assert!(
                out.iter().all(|v| v.is_nan()),
                "NaN in {layer} gave {out:?}"
            );
        }
        model.predict(&x, 2, &mut out);
        assert!(out.iter().all(|v| v.is_finite()));
    }
}
