//! Ordinary k × k convolutions `c_in → c_out` (weights HWIO), forward and backward, through the
//! im2col patch matrix and [`Gemm`]; 1 × 1 convolutions with stride 1 are plain products.
//!
//! A convolution is the product of the im2col matrix (one row per output position, columns
//! ordered (ky, kx, c_in)) with `w` seen as a `(k·k·c_in) × c_out` matrix, scaled by
//! `1 / (k·sqrt(c_in))` (SPEC §1).

use super::geometry::Geom;
use crate::numeric::gemm::{Gemm, MatMut, MatRef};
use crate::numeric::real::Real;

/// Writes the im2col matrix of `n` images: row `(img, oy, ox)` holds the k × k × c input patch
/// of that output position, ordered (ky, kx, c), zeros where the patch covers padding.
/// `x` holds `n · in_h · in_w · c` numbers, `cols` at least `n · out_positions · k² · c`.
pub fn im2col<R: Real>(g: &Geom, c: usize, x: &[R], n: usize, cols: &mut [R]) {
    let (k, kc) = (g.k, g.k * c);
    let row_len = k * kc;
    let in_img = g.in_positions() * c;
    for img in 0..n {
        let xi = &x[img * in_img..(img + 1) * in_img];
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let r = (img * g.out_h + oy) * g.out_w + ox;
                let row = &mut cols[r * row_len..(r + 1) * row_len];
                let (ix0, lo, hi) = g.col_range(ox);
                for ky in 0..k {
                    let dst = &mut row[ky * kc..(ky + 1) * kc];
                    match g.in_row(oy, ky) {
                        None => dst.fill(R::ZERO),
                        Some(iy) => {
                            dst[..lo * c].fill(R::ZERO);
                            dst[hi * c..].fill(R::ZERO);
                            if hi > lo {
                                let start = (iy * g.in_w) as isize + ix0 + lo as isize;
                                let start = start as usize * c;
                                dst[lo * c..hi * c]
                                    .copy_from_slice(&xi[start..start + (hi - lo) * c]);
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The adjoint of [`im2col`]: adds every patch entry of `cols` back onto its input pixel of
/// `dx` (entries in the padding are dropped). `dx` is accumulated into, not overwritten.
pub fn col2im_add<R: Real>(g: &Geom, c: usize, cols: &[R], n: usize, dx: &mut [R]) {
    let (k, kc) = (g.k, g.k * c);
    let row_len = k * kc;
    let in_img = g.in_positions() * c;
    for img in 0..n {
        let xi = &mut dx[img * in_img..(img + 1) * in_img];
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                let r = (img * g.out_h + oy) * g.out_w + ox;
                let row = &cols[r * row_len..(r + 1) * row_len];
                let (ix0, lo, hi) = g.col_range(ox);
                if hi <= lo {
                    continue;
                }
                for ky in 0..k {
                    if let Some(iy) = g.in_row(oy, ky) {
                        let start = ((iy * g.in_w) as isize + ix0 + lo as isize) as usize * c;
                        let len = (hi - lo) * c;
                        let src = &row[ky * kc + lo * c..ky * kc + lo * c + len];
                        for (d, &s) in xi[start..start + len].iter_mut().zip(src) {
                            *d += s;
                        }
                    }
                }
            }
        }
    }
}

/// An ordinary k × k convolution `c_in → c_out` with SAME padding, output scaled by
/// `1 / (k·sqrt(c_in))`. Weights HWIO (`[ky][kx][c_in][c_out]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Conv {
    pub geom: Geom,
    pub c_in: usize,
    pub c_out: usize,
}

impl Conv {
    pub fn new(
        in_h: usize,
        in_w: usize,
        c_in: usize,
        c_out: usize,
        k: usize,
        stride: usize,
    ) -> Self {
        Conv {
            geom: Geom::same(in_h, in_w, k, stride),
            c_in,
            c_out,
        }
    }
    pub fn weight_len(&self) -> usize {
        self.geom.k * self.geom.k * self.c_in * self.c_out
    }
    /// Numbers per input image.
    pub fn in_len(&self) -> usize {
        self.geom.in_positions() * self.c_in
    }
    /// Numbers per output image.
    pub fn out_len(&self) -> usize {
        self.geom.out_positions() * self.c_out
    }
    /// 1 / (k·sqrt(c_in)).
    pub fn scale(&self) -> f64 {
        1.0 / (self.geom.k as f64 * (self.c_in as f64).sqrt())
    }
    /// A 1 × 1 convolution with stride 1: a plain matrix product on the pixels, no im2col.
    pub fn is_pointwise(&self) -> bool {
        self.geom.k == 1 && self.geom.stride == 1
    }
    /// Length of the im2col buffer per image (0 for pointwise convolutions).
    pub fn patches_len(&self) -> usize {
        if self.is_pointwise() {
            0
        } else {
            self.geom.out_positions() * self.geom.k * self.geom.k * self.c_in
        }
    }

    /// `out = conv(x) / (k·sqrt(c_in))` for `n` images. `patches` (at least
    /// `n · patches_len()` numbers) receives the im2col matrix, which [`Conv::backward`] reuses.
    pub fn forward<R: Real, G: Gemm>(
        &self,
        gemm: &G,
        w: &[R],
        x: &[R],
        n: usize,
        patches: &mut [R],
        out: &mut [R],
    ) {
        let rows = n * self.geom.out_positions();
        let kdim = self.geom.k * self.geom.k * self.c_in;
        let scale = R::from_f64(self.scale());
        let a = if self.is_pointwise() {
            MatRef::rows(&x[..rows * kdim], rows, kdim)
        } else {
            im2col(&self.geom, self.c_in, x, n, patches);
            MatRef::rows(&patches[..rows * kdim], rows, kdim)
        };
        gemm.gemm(
            scale,
            a,
            MatRef::rows(&w[..kdim * self.c_out], kdim, self.c_out),
            R::ZERO,
            MatMut::rows(&mut out[..rows * self.c_out], rows, self.c_out),
        );
    }

    /// Backward pass of the last [`Conv::forward`] on `x` (whose im2col is still in `patches`)
    /// with output gradient `dy`: overwrites `dw` with ∂/∂w and, when `dx` is given, overwrites
    /// `dx.0` with ∂/∂x (`dx.1` is scratch of `n · patches_len()` numbers, unused when pointwise).
    #[allow(clippy::too_many_arguments)]
    pub fn backward<R: Real, G: Gemm>(
        &self,
        gemm: &G,
        w: &[R],
        x: &[R],
        patches: &[R],
        n: usize,
        dy: &[R],
        dw: &mut [R],
        dx: Option<(&mut [R], &mut [R])>,
    ) {
        let rows = n * self.geom.out_positions();
        let kdim = self.geom.k * self.geom.k * self.c_in;
        let scale = R::from_f64(self.scale());
        let a = if self.is_pointwise() {
            MatRef::rows(&x[..rows * kdim], rows, kdim)
        } else {
            MatRef::rows(&patches[..rows * kdim], rows, kdim)
        };
        let dy = MatRef::rows(&dy[..rows * self.c_out], rows, self.c_out);
        let wm = MatRef::rows(&w[..kdim * self.c_out], kdim, self.c_out);
        // dW = scale · Aᵀ · dY
        gemm.gemm(
            scale,
            a.t(),
            dy,
            R::ZERO,
            MatMut::rows(&mut dw[..kdim * self.c_out], kdim, self.c_out),
        );
        if let Some((dx, dpatches)) = dx {
            if self.is_pointwise() {
                gemm.gemm(
                    scale,
                    dy,
                    wm.t(),
                    R::ZERO,
                    MatMut::rows(&mut dx[..rows * kdim], rows, kdim),
                );
            } else {
                gemm.gemm(
                    scale,
                    dy,
                    wm.t(),
                    R::ZERO,
                    MatMut::rows(&mut dpatches[..rows * kdim], rows, kdim),
                );
                let dx = &mut dx[..n * self.in_len()];
                dx.fill(R::ZERO);
                col2im_add(&self.geom, self.c_in, dpatches, n, dx);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{central, fill, rel_err, CASES};
    use super::*;
    use crate::numeric::gemm::Cpu;

    /// The definition, with explicit padding checks.
    fn naive_conv(c: &Conv, w: &[f64], x: &[f64], n: usize) -> Vec<f64> {
        let g = c.geom;
        let mut out = vec![0.0; n * c.out_len()];
        for img in 0..n {
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    for co in 0..c.c_out {
                        let mut s = 0.0;
                        for ky in 0..g.k {
                            for kx in 0..g.k {
                                let iy = (oy * g.stride + ky) as isize - g.pad_top as isize;
                                let ix = (ox * g.stride + kx) as isize - g.pad_left as isize;
                                if iy < 0
                                    || ix < 0
                                    || iy >= g.in_h as isize
                                    || ix >= g.in_w as isize
                                {
                                    continue;
                                }
                                let (iy, ix) = (iy as usize, ix as usize);
                                for ci in 0..c.c_in {
                                    s += w[((ky * g.k + kx) * c.c_in + ci) * c.c_out + co]
                                        * x[img * c.in_len() + (iy * g.in_w + ix) * c.c_in + ci];
                                }
                            }
                        }
                        out[img * c.out_len() + (oy * g.out_w + ox) * c.c_out + co] = s * c.scale();
                    }
                }
            }
        }
        out
    }

    #[test]
    fn conv_forward_matches_the_definition() {
        let cpu = Cpu::default();
        for &(h, w_, ci, co, k, s) in CASES {
            let conv = Conv::new(h, w_, ci, co, k, s);
            let n = 2;
            let w = fill(conv.weight_len(), 1.3);
            let x = fill(n * conv.in_len(), 0.7);
            let mut patches = vec![f64::NAN; n * conv.patches_len()];
            let mut out = vec![f64::NAN; n * conv.out_len()];
            conv.forward(&cpu, &w, &x, n, &mut patches, &mut out);
            let want = naive_conv(&conv, &w, &x, n);
            for (a, b) in out.iter().zip(&want) {
                assert!(
                    (a - b).abs() < 1e-12,
                    "case {:?}: {a} vs {b}",
                    (h, w_, ci, co, k, s)
                );
            }
        }
    }

    #[test]
    fn conv_backward_matches_finite_differences() {
        let cpu = Cpu::default();
        for &(h, w_, ci, co, k, s) in CASES {
            let conv = Conv::new(h, w_, ci, co, k, s);
            let n = 2;
            let w = fill(conv.weight_len(), 1.3);
            let x = fill(n * conv.in_len(), 0.7);
            let r = fill(n * conv.out_len(), 2.9);
            let loss = |w: &[f64], x: &[f64]| -> f64 {
                let mut p = vec![0.0; n * conv.patches_len()];
                let mut out = vec![0.0; n * conv.out_len()];
                conv.forward(&cpu, w, x, n, &mut p, &mut out);
                out.iter().zip(&r).map(|(a, b)| a * b).sum()
            };
            let mut patches = vec![0.0; n * conv.patches_len()];
            let mut out = vec![0.0; n * conv.out_len()];
            conv.forward(&cpu, &w, &x, n, &mut patches, &mut out);
            let mut dw = vec![f64::NAN; w.len()];
            let mut dx = vec![f64::NAN; x.len()];
            let mut dp = vec![f64::NAN; patches.len()];
            conv.backward(
                &cpu,
                &w,
                &x,
                &patches,
                n,
                &r,
                &mut dw,
                Some((&mut dx, &mut dp)),
            );
            let fw = central(&w, |w| loss(w, &x));
            let fx = central(&x, |x| loss(&w, x));
            let case = (h, w_, ci, co, k, s);
            assert!(
                rel_err(&dw, &fw) < 1e-8,
                "dw {case:?}: {}",
                rel_err(&dw, &fw)
            );
            assert!(
                rel_err(&dx, &fx) < 1e-8,
                "dx {case:?}: {}",
                rel_err(&dx, &fx)
            );
        }
    }

    #[test]
    fn f32_conv_agrees_with_f64() {
        let cpu = Cpu::default();
        let conv = Conv::new(8, 8, 3, 16, 5, 2);
        let n = 3;
        let w = fill(conv.weight_len(), 1.3);
        let x = fill(n * conv.in_len(), 0.7);
        let mut p = vec![0.0; n * conv.patches_len()];
        let mut out = vec![0.0; n * conv.out_len()];
        conv.forward(&cpu, &w, &x, n, &mut p, &mut out);
        let w32: Vec<f32> = w.iter().map(|&v| v as f32).collect();
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut p32 = vec![0.0f32; p.len()];
        let mut out32 = vec![0.0f32; out.len()];
        conv.forward(&cpu, &w32, &x32, n, &mut p32, &mut out32);
        for (a, b) in out.iter().zip(&out32) {
            assert!((a - *b as f64).abs() < 1e-5);
        }
    }
}
