//! Convolutions of NHWC image batches with TensorFlow/JAX "SAME" padding: forward and backward.
//!
//! Layouts (all row-major, image after image):
//! - activations `x[img][y][x][c]` (NHWC);
//! - ordinary convolution weights `w[ky][kx][c_in][c_out]` (HWIO), so a convolution is the product
//!   of the im2col patch matrix (one row per output position, columns ordered (ky, kx, c_in)) with
//!   `w` seen as a `(k·k·c_in) × c_out` matrix;
//! - depthwise weights `w[ky][kx][c]` (one k × k filter per channel).
//!
//! SAME padding: `out = ceil(in / s)`, `pad_total = max((out - 1)·s + k - in, 0)`,
//! `pad_before = floor(pad_total / 2)`, `pad_after = pad_total - pad_before`; padded pixels are 0.
//!
//! Scaling (SPEC §1): an ordinary convolution's output is divided by `k·sqrt(c_in)`, a depthwise
//! one's by `k`. Every matrix product goes through [`Gemm`]; 1 × 1 convolutions with stride 1 are
//! plain products (no im2col); depthwise convolutions are direct loops over channels (the innermost,
//! contiguous axis, which the compiler vectorises).

use crate::numeric::gemm::{Gemm, MatMut, MatRef};
use crate::numeric::real::Real;

/// Spatial geometry of a k × k convolution with stride `stride` and SAME padding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geom {
    pub in_h: usize,
    pub in_w: usize,
    pub k: usize,
    pub stride: usize,
    pub out_h: usize,
    pub out_w: usize,
    /// Zero rows added above the image (the rest of the vertical padding goes below).
    pub pad_top: usize,
    /// Zero columns added left of the image.
    pub pad_left: usize,
}

impl Geom {
    /// SAME-padding geometry (see the module doc). Panics on a zero size, kernel or stride.
    pub fn same(in_h: usize, in_w: usize, k: usize, stride: usize) -> Geom {
        assert!(
            in_h > 0 && in_w > 0 && k > 0 && stride > 0,
            "convolution geometry: sizes, kernel and stride must be positive"
        );
        let out_h = in_h.div_ceil(stride);
        let out_w = in_w.div_ceil(stride);
        let pad_h = ((out_h - 1) * stride + k).saturating_sub(in_h);
        let pad_w = ((out_w - 1) * stride + k).saturating_sub(in_w);
        Geom {
            in_h,
            in_w,
            k,
            stride,
            out_h,
            out_w,
            pad_top: pad_h / 2,
            pad_left: pad_w / 2,
        }
    }
    pub fn in_positions(&self) -> usize {
        self.in_h * self.in_w
    }
    pub fn out_positions(&self) -> usize {
        self.out_h * self.out_w
    }
    /// Input row of kernel row `ky` at output row `oy`, or None inside the padding.
    #[inline(always)]
    fn in_row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.stride + ky)
            .checked_sub(self.pad_top)
            .filter(|&iy| iy < self.in_h)
    }
    /// For output column `ox`: the input column `ix0` of kernel column 0 (may be negative) and
    /// the range of kernel columns that fall inside the image (contiguous in NHWC memory).
    #[inline(always)]
    fn col_range(&self, ox: usize) -> (isize, usize, usize) {
        let ix0 = (ox * self.stride) as isize - self.pad_left as isize;
        let lo = (-ix0).clamp(0, self.k as isize) as usize;
        let hi = (self.in_w as isize - ix0).clamp(0, self.k as isize) as usize;
        (ix0, lo, hi.max(lo))
    }
}

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

/// Channel blocks `(first channel, width)` covering 0..c: widths 64, then 16, then 1, so the
/// depthwise sums of a block fit in vector registers.
#[inline(always)]
fn channel_blocks(c: usize) -> impl Iterator<Item = (usize, usize)> {
    let full = c / 64 * 64;
    let mid = full + (c - full) / 16 * 16;
    (0..full)
        .step_by(64)
        .map(|c0| (c0, 64))
        .chain((full..mid).step_by(16).map(|c0| (c0, 16)))
        .chain((mid..c).map(|c0| (c0, 1)))
}

/// `acc += a[..CB] ⊙ b[..CB]`.
#[inline(always)]
fn fma_block<R: Real, const CB: usize>(acc: &mut [R; CB], a: &[R], b: &[R]) {
    let a: &[R; CB] = a[..CB].try_into().expect("block inside the slice");
    let b: &[R; CB] = b[..CB].try_into().expect("block inside the slice");
    for j in 0..CB {
        acc[j] += a[j] * b[j];
    }
}

/// A depthwise k × k convolution on `c` channels with SAME padding, output scaled by `1 / k`.
/// Weights `[ky][kx][c]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DwConv {
    pub geom: Geom,
    pub c: usize,
}

impl DwConv {
    pub fn new(in_h: usize, in_w: usize, c: usize, k: usize, stride: usize) -> Self {
        DwConv {
            geom: Geom::same(in_h, in_w, k, stride),
            c,
        }
    }
    pub fn weight_len(&self) -> usize {
        self.geom.k * self.geom.k * self.c
    }
    pub fn in_len(&self) -> usize {
        self.geom.in_positions() * self.c
    }
    pub fn out_len(&self) -> usize {
        self.geom.out_positions() * self.c
    }
    pub fn scale(&self) -> f64 {
        1.0 / self.geom.k as f64
    }

    /// `out = dwconv(x) / k` for `n` images.
    pub fn forward<R: Real>(&self, w: &[R], x: &[R], n: usize, out: &mut [R]) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked just above).
                return unsafe { self.forward_avx512(w, x, n, out) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { self.forward_avx2(w, x, n, out) };
            }
        }
        self.forward_kernel(w, x, n, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn forward_avx512<R: Real>(&self, w: &[R], x: &[R], n: usize, out: &mut [R]) {
        self.forward_kernel(w, x, n, out)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn forward_avx2<R: Real>(&self, w: &[R], x: &[R], n: usize, out: &mut [R]) {
        self.forward_kernel(w, x, n, out)
    }

    /// The loops of [`DwConv::forward`], inlined into one copy per instruction set so the
    /// channel loops use the widest vectors the CPU has (the crate is built for baseline x86-64).
    #[inline(always)]
    fn forward_kernel<R: Real>(&self, w: &[R], x: &[R], n: usize, out: &mut [R]) {
        let (g, c) = (&self.geom, self.c);
        let scale = R::from_f64(self.scale());
        let (in_img, out_img) = (self.in_len(), self.out_len());
        // Channel blocks inside the pixel loops (measured faster than outside: the k × k × c
        // weights stay in L1 across pixels).
        for img in 0..n {
            let xi = &x[img * in_img..(img + 1) * in_img];
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    let o = &mut out[img * out_img + (oy * g.out_w + ox) * c..][..c];
                    for (c0, cb) in channel_blocks(c) {
                        match cb {
                            64 => self.forward_block::<R, 64>(w, xi, oy, ox, c0, o, scale),
                            16 => self.forward_block::<R, 16>(w, xi, oy, ox, c0, o, scale),
                            _ => self.forward_block::<R, 1>(w, xi, oy, ox, c0, o, scale),
                        }
                    }
                }
            }
        }
    }

    /// Output pixel (oy, ox), channels c0..c0+CB, summed in registers over the k × k taps.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn forward_block<R: Real, const CB: usize>(
        &self,
        w: &[R],
        xi: &[R],
        oy: usize,
        ox: usize,
        c0: usize,
        o: &mut [R],
        scale: R,
    ) {
        let (g, c) = (&self.geom, self.c);
        let (ix0, lo, hi) = g.col_range(ox);
        let mut acc = [R::ZERO; CB];
        for ky in 0..g.k {
            let Some(iy) = g.in_row(oy, ky) else { continue };
            for kx in lo..hi {
                let ix = (ix0 + kx as isize) as usize;
                fma_block(
                    &mut acc,
                    &xi[(iy * g.in_w + ix) * c + c0..],
                    &w[(ky * g.k + kx) * c + c0..],
                );
            }
        }
        for (o, a) in o[c0..c0 + CB].iter_mut().zip(acc) {
            *o = a * scale;
        }
    }

    /// Backward pass for input `x` and output gradient `dy`: overwrites `dw` with ∂/∂w and,
    /// when given, `dx` with ∂/∂x.
    pub fn backward<R: Real>(
        &self,
        w: &[R],
        x: &[R],
        n: usize,
        dy: &[R],
        dw: &mut [R],
        dx: Option<&mut [R]>,
    ) {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked just above).
                return unsafe { self.backward_avx512(w, x, n, dy, dw, dx) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { self.backward_avx2(w, x, n, dy, dw, dx) };
            }
        }
        self.backward_kernel(w, x, n, dy, dw, dx)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f")]
    unsafe fn backward_avx512<R: Real>(
        &self,
        w: &[R],
        x: &[R],
        n: usize,
        dy: &[R],
        dw: &mut [R],
        dx: Option<&mut [R]>,
    ) {
        self.backward_kernel(w, x, n, dy, dw, dx)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn backward_avx2<R: Real>(
        &self,
        w: &[R],
        x: &[R],
        n: usize,
        dy: &[R],
        dw: &mut [R],
        dx: Option<&mut [R]>,
    ) {
        self.backward_kernel(w, x, n, dy, dw, dx)
    }

    #[inline(always)]
    fn backward_kernel<R: Real>(
        &self,
        w: &[R],
        x: &[R],
        n: usize,
        dy: &[R],
        dw: &mut [R],
        dx: Option<&mut [R]>,
    ) {
        let (g, c) = (&self.geom, self.c);
        let scale = R::from_f64(self.scale());
        // dw[ky][kx][c] = Σ over images and output pixels of dy · x. Per image, channel block,
        // output row and tap, the sum over the row's pixels runs in registers; the rows read
        // stay in L1 and the block's 25 partial sums in `dw` too.
        let dw = &mut dw[..self.weight_len()];
        dw.fill(R::ZERO);
        for img in 0..n {
            for (c0, cb) in channel_blocks(c) {
                for oy in 0..g.out_h {
                    for ky in 0..g.k {
                        let Some(iy) = g.in_row(oy, ky) else { continue };
                        for kx in 0..g.k {
                            let d = &mut dw[(ky * g.k + kx) * c + c0..];
                            match cb {
                                64 => self.weight_grad_row::<R, 64>(x, dy, img, oy, iy, kx, c0, d),
                                16 => self.weight_grad_row::<R, 16>(x, dy, img, oy, iy, kx, c0, d),
                                _ => self.weight_grad_row::<R, 1>(x, dy, img, oy, iy, kx, c0, d),
                            }
                        }
                    }
                }
            }
        }
        for v in dw.iter_mut() {
            *v *= scale;
        }
        // dx[iy][ix][c] = Σ over the taps that read input pixel (iy, ix) of dy · w (a gather:
        // each input pixel is written once).
        if let Some(dx) = dx {
            let (in_img, out_img) = (self.in_len(), self.out_len());
            for img in 0..n {
                let gi = &dy[img * out_img..(img + 1) * out_img];
                for iy in 0..g.in_h {
                    for ix in 0..g.in_w {
                        let d = &mut dx[img * in_img + (iy * g.in_w + ix) * c..][..c];
                        for (c0, cb) in channel_blocks(c) {
                            match cb {
                                64 => self.input_grad_block::<R, 64>(w, gi, iy, ix, c0, d, scale),
                                16 => self.input_grad_block::<R, 16>(w, gi, iy, ix, c0, d, scale),
                                _ => self.input_grad_block::<R, 1>(w, gi, iy, ix, c0, d, scale),
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds Σ over the pixels of output row `oy` of image `img` of dy · x for tap (·, kx)
    /// reading input row `iy`, channels c0..c0+CB, to `d[..CB]` (unscaled).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn weight_grad_row<R: Real, const CB: usize>(
        &self,
        x: &[R],
        dy: &[R],
        img: usize,
        oy: usize,
        iy: usize,
        kx: usize,
        c0: usize,
        d: &mut [R],
    ) {
        let (g, c) = (&self.geom, self.c);
        let (in_img, out_img) = (self.in_len(), self.out_len());
        // Output columns whose tap kx lands inside the image: 0 <= ox·s + kx - pad_left < in_w.
        let s = g.stride as isize;
        let first = g.pad_left as isize - kx as isize;
        let ox_lo = if first > 0 { (first + s - 1) / s } else { 0 } as usize;
        let end = g.in_w as isize + first;
        let ox_hi = if end > 0 {
            ((end + s - 1) / s) as usize
        } else {
            0
        }
        .min(g.out_w);
        if ox_hi <= ox_lo {
            return;
        }
        let d: &mut [R; CB] = (&mut d[..CB]).try_into().expect("block inside the slice");
        let mut acc = *d;
        for ox in ox_lo..ox_hi {
            let ix = ox * g.stride + kx - g.pad_left;
            fma_block(
                &mut acc,
                &dy[img * out_img + (oy * g.out_w + ox) * c + c0..],
                &x[img * in_img + (iy * g.in_w + ix) * c + c0..],
            );
        }
        *d = acc;
    }

    /// dx at input pixel (iy, ix), channels c0..c0+CB, into `d[c0..c0+CB]`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn input_grad_block<R: Real, const CB: usize>(
        &self,
        w: &[R],
        gi: &[R],
        iy: usize,
        ix: usize,
        c0: usize,
        d: &mut [R],
        scale: R,
    ) {
        let (g, c) = (&self.geom, self.c);
        let mut acc = [R::ZERO; CB];
        for ky in 0..g.k {
            // Output row that reads input row iy through kernel row ky, if any.
            let Some(t) = (iy + g.pad_top).checked_sub(ky) else {
                continue;
            };
            if t % g.stride != 0 || t / g.stride >= g.out_h {
                continue;
            }
            let oy = t / g.stride;
            for kx in 0..g.k {
                let Some(t) = (ix + g.pad_left).checked_sub(kx) else {
                    continue;
                };
                if t % g.stride != 0 || t / g.stride >= g.out_w {
                    continue;
                }
                let ox = t / g.stride;
                fma_block(
                    &mut acc,
                    &gi[(oy * g.out_w + ox) * c + c0..],
                    &w[(ky * g.k + kx) * c + c0..],
                );
            }
        }
        for (d, a) in d[c0..c0 + CB].iter_mut().zip(acc) {
            *d = a * scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::gemm::Cpu;

    /// Deterministic pseudo-random numbers in [-1, 1] (no RNG stream needed for test inputs).
    fn fill(n: usize, seed: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i as f64 + 1.0) * 0.6180339887 * seed + seed).sin())
            .collect()
    }

    #[test]
    fn same_padding_follows_the_tensorflow_rule() {
        // 8 -> 4 with k=5, s=2: pad_total = 3*2 + 5 - 8 = 3, 1 before, 2 after.
        let g = Geom::same(8, 8, 5, 2);
        assert_eq!((g.out_h, g.out_w, g.pad_top, g.pad_left), (4, 4, 1, 1));
        // 7 -> 4 with k=5, s=2: pad_total = 3*2 + 5 - 7 = 4, 2 before.
        let g = Geom::same(7, 32, 5, 2);
        assert_eq!((g.out_h, g.out_w, g.pad_top, g.pad_left), (4, 16, 2, 1));
        // 32 -> 16 with k=5, s=2: pad_total = 15*2 + 5 - 32 = 3.
        let g = Geom::same(32, 32, 5, 2);
        assert_eq!((g.out_h, g.pad_top), (16, 1));
        // k=2, s=1 (even kernel): pad_total 1, all of it after.
        let g = Geom::same(5, 5, 2, 1);
        assert_eq!((g.out_h, g.pad_top), (5, 0));
        // k=1, s=2: no padding.
        let g = Geom::same(9, 9, 1, 2);
        assert_eq!((g.out_h, g.pad_top), (5, 0));
    }

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

    fn naive_dw(d: &DwConv, w: &[f64], x: &[f64], n: usize) -> Vec<f64> {
        let g = d.geom;
        let mut out = vec![0.0; n * d.out_len()];
        for img in 0..n {
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    for ch in 0..d.c {
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
                                s += w[(ky * g.k + kx) * d.c + ch]
                                    * x[img * d.in_len() + (iy * g.in_w + ix) * d.c + ch];
                            }
                        }
                        out[img * d.out_len() + (oy * g.out_w + ox) * d.c + ch] = s * d.scale();
                    }
                }
            }
        }
        out
    }

    /// (in_h, in_w, c_in, c_out, k, stride): odd and even sizes and kernels, both strides.
    const CASES: &[(usize, usize, usize, usize, usize, usize)] = &[
        (7, 6, 3, 4, 3, 1),
        (8, 8, 3, 5, 5, 2),
        (5, 9, 2, 3, 2, 1),
        (6, 7, 4, 2, 2, 2),
        (9, 9, 1, 3, 5, 1),
        (7, 7, 3, 6, 3, 2),
        (4, 5, 5, 3, 1, 1),
        (5, 6, 3, 2, 1, 2),
        (3, 3, 2, 2, 5, 2),
    ];

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

    /// Depthwise cases with channel counts that use every block width (64, 16 and 1).
    const DW_CASES: &[(usize, usize, usize, usize, usize, usize)] = &[
        (6, 5, 83, 0, 5, 2),
        (5, 6, 83, 0, 3, 1),
        (4, 4, 64, 0, 5, 1),
        (5, 5, 16, 0, 2, 2),
    ];

    #[test]
    fn dwconv_forward_matches_the_definition() {
        for &(h, w_, c, _, k, s) in CASES.iter().chain(DW_CASES) {
            let d = DwConv::new(h, w_, c, k, s);
            let n = 2;
            let w = fill(d.weight_len(), 1.1);
            let x = fill(n * d.in_len(), 0.3);
            let mut out = vec![f64::NAN; n * d.out_len()];
            d.forward(&w, &x, n, &mut out);
            let want = naive_dw(&d, &w, &x, n);
            for (a, b) in out.iter().zip(&want) {
                assert!(
                    (a - b).abs() < 1e-12,
                    "case {:?}: {a} vs {b}",
                    (h, w_, c, k, s)
                );
            }
        }
    }

    /// Largest |analytic - finite difference| relative to the largest analytic entry, for
    /// L(w, x) = Σ r ⊙ layer(w, x) (L is linear in each argument, so central differences are
    /// exact up to rounding: this checks the backward formulas, not the step size).
    fn rel_err(analytic: &[f64], numeric: &[f64]) -> f64 {
        let scale = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0);
        analytic
            .iter()
            .zip(numeric)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
            / scale
    }

    fn central<F: FnMut(&[f64]) -> f64>(v: &[f64], mut f: F) -> Vec<f64> {
        let eps = 1e-5;
        let mut v = v.to_vec();
        (0..v.len())
            .map(|i| {
                let old = v[i];
                v[i] = old + eps;
                let up = f(&v);
                v[i] = old - eps;
                let down = f(&v);
                v[i] = old;
                (up - down) / (2.0 * eps)
            })
            .collect()
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
    fn dwconv_backward_matches_finite_differences() {
        for &(h, w_, c, _, k, s) in CASES.iter().chain(DW_CASES) {
            let d = DwConv::new(h, w_, c, k, s);
            let n = 2;
            let w = fill(d.weight_len(), 1.1);
            let x = fill(n * d.in_len(), 0.3);
            let r = fill(n * d.out_len(), 2.3);
            let loss = |w: &[f64], x: &[f64]| -> f64 {
                let mut out = vec![0.0; n * d.out_len()];
                d.forward(w, x, n, &mut out);
                out.iter().zip(&r).map(|(a, b)| a * b).sum()
            };
            let mut dw = vec![f64::NAN; w.len()];
            let mut dx = vec![f64::NAN; x.len()];
            d.backward(&w, &x, n, &r, &mut dw, Some(&mut dx));
            let fw = central(&w, |w| loss(w, &x));
            let fx = central(&x, |x| loss(&w, x));
            let case = (h, w_, c, k, s);
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

    #[test]
    fn f32_dwconv_agrees_with_f64_on_every_block_width() {
        let d = DwConv::new(7, 6, 83, 5, 2);
        let n = 2;
        let w = fill(d.weight_len(), 1.1);
        let x = fill(n * d.in_len(), 0.3);
        let r = fill(n * d.out_len(), 2.3);
        let to32 = |v: &[f64]| v.iter().map(|&a| a as f32).collect::<Vec<f32>>();
        let mut out = vec![0.0; n * d.out_len()];
        let mut out32 = vec![0.0f32; out.len()];
        d.forward(&w, &x, n, &mut out);
        d.forward(&to32(&w), &to32(&x), n, &mut out32);
        let (mut dw, mut dx) = (vec![0.0; w.len()], vec![0.0; x.len()]);
        let (mut dw32, mut dx32) = (vec![0.0f32; w.len()], vec![0.0f32; x.len()]);
        d.backward(&w, &x, n, &r, &mut dw, Some(&mut dx));
        d.backward(
            &to32(&w),
            &to32(&x),
            n,
            &to32(&r),
            &mut dw32,
            Some(&mut dx32),
        );
        for (a, b) in [(&out, &out32), (&dw, &dw32), (&dx, &dx32)] {
            for (a, b) in a.iter().zip(b.iter()) {
                assert!((a - *b as f64).abs() < 1e-5 * (1.0 + a.abs()), "{a} vs {b}");
            }
        }
    }
}
