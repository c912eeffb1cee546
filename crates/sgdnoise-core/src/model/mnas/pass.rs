//! The forward and backward passes of the mnas network on a [`Workspace`]: activations (with
//! fast ReLU loops), the units, the head and the read-out, and the gradient of a batch larger
//! than the workspace, chunk by chunk with recomputation.

use super::arch::{Arch, Post};
use super::workspace::{BigBatch, Workspace};
use crate::model::activation::{self, relu_scaled, relu_scaled_grad};
use crate::numeric::gemm::Cpu;
use crate::numeric::real::Real;
use crate::numeric::simd::{self, Isa, Kernel};
use crate::settings::Activation;

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
    simd::dispatch(Elementwise {
        op: Op::ReluForward,
        src: z,
        dst: a,
    })
}

/// a = sigma(a) in place, for ReLU only (the layer wrote its pre-activation straight into the
/// activation's buffer; the backward pass masks by the activation, `relu_scaled_grad`).
#[inline]
fn relu_in_place<R: Real>(a: &mut [R]) {
    simd::dispatch(Elementwise {
        op: Op::ReluInPlace,
        src: &[],
        dst: a,
    })
}

/// g *= relu'(z) elementwise, masked by the pre-activation z or by the activation relu(z)
/// (the same mask, see `activation::relu_scaled_grad`).
#[inline]
fn relu_backward<R: Real>(m: &[R], g: &mut [R]) {
    simd::dispatch(Elementwise {
        op: Op::ReluBackward,
        src: m,
        dst: g,
    })
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
    simd::dispatch(Elementwise {
        op: Op::ReluBackward,
        src: z,
        dst: g,
    })
}

/// The element-wise loops of the passes, compiled for the SIMD level in use (the crate is built
/// for baseline x86-64, whose 128-bit loops these memory-bound passes outgrow): plain arithmetic,
/// so every level gives the same bits (`numeric::simd`).
#[derive(Clone, Copy, PartialEq)]
enum Op {
    /// dst = sqrt(2)·src where src > 0 or NaN, else 0.
    ReluForward,
    /// dst = sqrt(2)·dst where dst > 0 or NaN, else 0.
    ReluInPlace,
    /// dst = sqrt(2)·dst where src > 0, else 0.
    ReluBackward,
    /// dst *= c.
    Scale(f64),
    /// dst += src.
    Add,
}

struct Elementwise<'a, R> {
    op: Op,
    src: &'a [R],
    dst: &'a mut [R],
}

impl<R: Real> Kernel for Elementwise<'_, R> {
    type Output = ();
    #[inline(always)]
    fn run<S: Isa>(self, _isa: S) {
        let (src, dst) = (self.src, self.dst);
        match self.op {
            Op::ReluForward => {
                let s = R::from_f64(SQRT_2);
                for (a, &z) in dst.iter_mut().zip(src) {
                    *a = relu_scaled(z, s);
                }
            }
            Op::ReluInPlace => {
                let s = R::from_f64(SQRT_2);
                dst.iter_mut().for_each(|a| *a = relu_scaled(*a, s));
            }
            Op::ReluBackward => {
                let s = R::from_f64(SQRT_2);
                for (g, &m) in dst.iter_mut().zip(src) {
                    *g = relu_scaled_grad(m, *g, s);
                }
            }
            Op::Scale(c) => {
                let c = R::from_f64(c);
                dst.iter_mut().for_each(|g| *g *= c);
            }
            Op::Add => {
                for (d, &s) in dst.iter_mut().zip(src) {
                    *d += s;
                }
            }
        }
    }
}

/// out = (z + x) / sqrt(2), the residual connection, at the SIMD level in use.
struct Residual<'a, R> {
    z: &'a [R],
    x: &'a [R],
    out: &'a mut [R],
}

impl<R: Real> Kernel for Residual<'_, R> {
    type Output = ();
    #[inline(always)]
    fn run<S: Isa>(self, _isa: S) {
        let s = R::from_f64(std::f64::consts::FRAC_1_SQRT_2);
        for ((o, &z), &x) in self.out.iter_mut().zip(self.z).zip(self.x) {
            *o = (z + x) * s;
        }
    }
}

/// mean[i][j] = Σ over positions (ascending) of sigma(z[i][pos][j]), unscaled, for the images
/// of `mean` (`f` features, `p` positions each): the sum the head takes over its activations,
/// with each activation computed where it is added (the same bits as sigma into a buffer, then
/// the sum).
struct HeadSum<'a, R> {
    act: Activation,
    z: &'a [R],
    f: usize,
    p: usize,
    mean: &'a mut [R],
}

impl<R: Real> Kernel for HeadSum<'_, R> {
    type Output = ();
    #[inline(always)]
    fn run<S: Isa>(self, _isa: S) {
        let (f, p) = (self.f, self.p);
        let s = R::from_f64(SQRT_2);
        for (i, m) in self.mean.chunks_exact_mut(f).enumerate() {
            m.fill(R::ZERO);
            for pos in 0..p {
                let row = &self.z[(i * p + pos) * f..(i * p + pos + 1) * f];
                if self.act == Activation::Relu {
                    for (m, &z) in m.iter_mut().zip(row) {
                        *m += relu_scaled(z, s);
                    }
                } else {
                    for (m, &z) in m.iter_mut().zip(row) {
                        *m += activation::sigma(self.act, z);
                    }
                }
            }
        }
    }
}

/// Forward pass of `n <= ws.cap` images, keeping activations in `ws`.
pub(super) fn forward<R: Real>(
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
        // ReLU: the matrix products write their pre-activations into the activation's buffer
        // and the ReLU runs in place (one pass over the tensor fewer); the backward pass masks by
        // the activations, so za and zb stay unwritten.
        let relu = arch.fuse_relu && arch.act == Activation::Relu;
        if relu {
            u.a.forward(gemm, &w[u.a_off..], input, n, &mut b.patches, &mut b.aa);
            relu_in_place(&mut b.aa[..la]);
        } else {
            u.a.forward(gemm, &w[u.a_off..], input, n, &mut b.patches, &mut b.za);
            act_forward(arch.act, &b.za[..la], &mut b.aa[..la]);
        }
        u.d.forward(&w[u.d_off..], &b.aa, n, &mut b.zd);
        act_forward(arch.act, &b.zd[..ld], &mut b.ad[..ld]);
        match u.post {
            Post::Act if relu => {
                u.b.forward(gemm, &w[u.b_off..], &b.ad, n, &mut [], &mut b.out);
                relu_in_place(&mut b.out[..lb]);
            }
            Post::Act => {
                u.b.forward(gemm, &w[u.b_off..], &b.ad, n, &mut [], &mut b.zb);
                act_forward(arch.act, &b.zb[..lb], &mut b.out[..lb]);
            }
            Post::Residual => {
                u.b.forward(gemm, &w[u.b_off..], &b.ad, n, &mut [], &mut b.zb);
                simd::dispatch(Residual {
                    z: &b.zb[..lb],
                    x: input,
                    out: &mut b.out[..lb],
                })
            }
            // No activation: straight into the output (no copy).
            Post::Linear => {
                u.b.forward(gemm, &w[u.b_off..], &b.ad, n, &mut [], &mut b.out)
            }
        }
    }
    let hd = &arch.head;
    let last: &[R] = &ws.units.last().expect("units").out;
    let lh = n * hd.conv.out_len();
    hd.conv
        .forward(gemm, &w[hd.conv_off..], last, n, &mut [], &mut ws.zh);
    let (f, p) = (hd.features, hd.positions);
    // The activations sigma(z_h) are only summed into the means (the backward pass masks by
    // z_h): computed in the sum, not stored.
    simd::dispatch(HeadSum {
        act: arch.act,
        z: &ws.zh[..lh],
        f,
        p,
        mean: &mut ws.mean[..n * f],
    });
    let inv_p = R::ONE / R::from_usize(p);
    let inv_f = R::ONE / R::from_usize(f);
    let rw = &w[hd.w_off..hd.w_off + f];
    let rb = w[hd.b_off];
    for (i, o) in out[..n].iter_mut().enumerate() {
        let m = &mut ws.mean[i * f..(i + 1) * f];
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
pub(super) fn backward<R: Real>(
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
        let relu = arch.fuse_relu && arch.act == Activation::Relu;
        match u.post {
            Post::Act if relu => relu_backward(&b.out[..lb], &mut g0[..lb]),
            Post::Act => act_backward(arch.act, &b.zb[..lb], &mut g0[..lb]),
            Post::Residual => simd::dispatch(Elementwise {
                op: Op::Scale(std::f64::consts::FRAC_1_SQRT_2),
                src: &[],
                dst: &mut g0[..lb],
            }),
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
        if relu {
            relu_backward(&b.aa[..la], &mut g2[..la]);
        } else {
            act_backward(arch.act, &b.za[..la], &mut g2[..la]);
        }
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
            simd::dispatch(Elementwise {
                op: Op::Add,
                src: &g0[..li],
                dst: &mut g1[..li],
            });
        }
        ws.g.swap(0, 1);
    }
}

/// Σ_i c_i ∇f(x_i) into `grad` for the last forward batch of `n` images: directly when it fit
/// the workspace, else chunk by chunk (the chunk whose activations are still in `ws` first, then
/// the others, recomputed from `big.x`).
#[allow(clippy::too_many_arguments)]
pub(super) fn batch_gradient<R: Real>(
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
