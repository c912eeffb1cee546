//! Depthwise k × k convolutions (one filter per channel, weights `[ky][kx][c]`), forward and
//! backward, output scaled by `1 / k` (SPEC §1).
//!
//! Direct loops over channels, the innermost and contiguous NHWC axis: channels go in blocks of
//! 64, 16 and 1 whose sums stay in vector registers. The loops are written once, as the
//! `Forward` and `Backward` kernels, and compiled for the instruction set of the CPU by
//! [`simd::dispatch`] (the crate itself is built for baseline x86-64).
//!
//! mnas's layers (5 × 5, stride 1 or 2) take sliding-window loops instead (`*_slide`): blocks
//! of 16 channels, a run of 4 or 8 pixels along a row, the kernel row's 5 weight vectors and
//! every input vector the run reads loaded once and used by all the pixels it reaches, with
//! the loops over columns and pixels unrolled so that the sums and weights stay in registers.
//! They sum every output in the same order as the general loops (the test
//! `pixel_runs_and_tap_pairs_sum_in_the_order_of_one_at_a_time` compares them bit for bit), so
//! results do not depend on which loops ran.

use super::geometry::Geom;
use crate::numeric::real::Real;
use crate::numeric::simd::{self, Isa, Kernel, Level};

/// `body` once for each of the literals, with `$i` bound to it: loops the compiler must unroll
/// for their indices to be constants (the sums and weights then stay in registers).
macro_rules! unroll {
    ($i:ident in [$($n:literal),*] $body:block) => {
        $({
            #[allow(clippy::identity_op, clippy::erasing_op, unused_comparisons)]
            let $i: usize = $n;
            $body
        })*
    };
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

/// Output (forward) or input (backward) pixels per run of the depthwise loops.
const PX: usize = 4;

/// The runs `(first pixel, length)` of the sliding-window loops along a row of `len` pixels, in
/// order: of 8 when `wide`, then of 4, then single pixels.
#[inline(always)]
fn slide_runs(len: usize, wide: bool) -> impl Iterator<Item = (usize, usize)> {
    let eights = if wide { len / 8 * 8 } else { 0 };
    let fours = eights + (len - eights) / 4 * 4;
    (0..eights)
        .step_by(8)
        .map(|p| (p, 8))
        .chain((eights..fours).step_by(4).map(|p| (p, 4)))
        .chain((fours..len).map(|p| (p, 1)))
}

/// `acc += a[..CB] ⊙ b[..CB]` through raw pointers: the runs below check their indices once,
/// against the geometry, instead of at every tap.
///
/// # Safety
/// `a` and `b` must be valid for reading `CB` numbers.
#[inline(always)]
unsafe fn fma_ptr<R: Real, const CB: usize>(acc: &mut [R; CB], a: *const R, b: *const R) {
    for (j, acc) in acc.iter_mut().enumerate() {
        // SAFETY: j < CB, and the caller guarantees CB readable numbers at a and b.
        unsafe { *acc += *a.add(j) * *b.add(j) };
    }
}

/// The CB numbers at `p`.
///
/// # Safety
/// `p` must be valid for reading `CB` numbers.
#[inline(always)]
unsafe fn load<R: Real, const CB: usize>(p: *const R) -> [R; CB] {
    // SAFETY: the caller guarantees CB readable numbers at p; [R; CB] has R's alignment.
    unsafe { std::ptr::read(p as *const [R; CB]) }
}

/// `acc += a[..CB] ⊙ b[..CB]`.
#[cfg(test)]
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
        simd::dispatch(Forward {
            conv: self,
            w,
            x,
            n,
            out,
        })
    }

    /// The loops of [`DwConv::forward`], inlined into one copy per instruction set (the
    /// [`Forward`] kernel) so the channel loops use the widest vectors the CPU has (the crate is
    /// built for baseline x86-64).
    #[inline(always)]
    fn forward_kernel<R: Real, I: Isa>(&self, w: &[R], x: &[R], n: usize, out: &mut [R]) {
        let (g, c) = (&self.geom, self.c);
        let scale = R::from_f64(self.scale());
        let (in_img, out_img) = (self.in_len(), self.out_len());
        if self.slides() {
            // mnas's 5 × 5 layers: sliding windows over runs of 8 pixels where the vector
            // registers hold them (8 sums, 5 weights and an input: 14 of AVX-512's 32), else
            // 4; at stride 2 runs of 4 (measured 20-35% faster than 8 there, whose 19 input
            // columns per kernel row are the most of any run).
            let wide = I::LEVEL == Level::Avx512F && g.stride == 1;
            for img in 0..n {
                let xi = &x[img * in_img..(img + 1) * in_img];
                for oy in 0..g.out_h {
                    for (ox, p) in slide_runs(g.out_w, wide) {
                        let o = &mut out[img * out_img + (oy * g.out_w + ox) * c..][..p * c];
                        match p {
                            8 => self.forward_slides::<R, 8>(w, xi, oy, ox, o, scale),
                            4 => self.forward_slides::<R, 4>(w, xi, oy, ox, o, scale),
                            _ => self.forward_pixel(w, xi, oy, ox, o, scale),
                        }
                    }
                }
            }
            return;
        }
        // Channel blocks inside the pixel loops (measured faster than outside: the k × k × c
        // weights stay in L1 across pixels). Output pixels go in runs of PX along the row: each
        // weight vector loaded is used PX times (the loads, not the arithmetic, bound this
        // loop). Every output sums the same taps in the same order as one pixel at a time.
        for img in 0..n {
            let xi = &x[img * in_img..(img + 1) * in_img];
            for oy in 0..g.out_h {
                let mut ox = 0;
                while ox + PX <= g.out_w {
                    let o = &mut out[img * out_img + (oy * g.out_w + ox) * c..][..PX * c];
                    for (c0, cb) in channel_blocks(c) {
                        match cb {
                            64 => self.forward_run::<R, 64, PX>(w, xi, oy, ox, c0, o, scale),
                            16 => self.forward_run::<R, 16, PX>(w, xi, oy, ox, c0, o, scale),
                            _ => self.forward_run::<R, 1, PX>(w, xi, oy, ox, c0, o, scale),
                        }
                    }
                    ox += PX;
                }
                for ox in ox..g.out_w {
                    let o = &mut out[img * out_img + (oy * g.out_w + ox) * c..][..c];
                    self.forward_pixel(w, xi, oy, ox, o, scale);
                }
            }
        }
    }

    /// Output pixels (oy, ox0..ox0+P), channels c0..c0+CB, each summed in registers over its
    /// k × k taps (ky, then kx, ascending, taps in the padding skipped: the order of
    /// [`DwConv::forward_block`]); `o` holds the P pixels' channels.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn forward_run<R: Real, const CB: usize, const P: usize>(
        &self,
        w: &[R],
        xi: &[R],
        oy: usize,
        ox0: usize,
        c0: usize,
        o: &mut [R],
        scale: R,
    ) {
        let (g, c) = (&self.geom, self.c);
        assert!(xi.len() >= g.in_positions() * c && w.len() >= self.weight_len());
        assert!(c0 + CB <= c && o.len() >= P * c && ox0 + P <= g.out_w);
        let mut acc = [[R::ZERO; CB]; P];
        let ix0 = (ox0 * g.stride) as isize - g.pad_left as isize;
        // All taps of the run inside the image: no column checks.
        let inside = ix0 >= 0 && ix0 + ((P - 1) * g.stride + g.k) as isize <= g.in_w as isize;
        for ky in 0..g.k {
            let Some(iy) = g.in_row(oy, ky) else { continue };
            // SAFETY: iy < in_h and c0 < c (asserted above): inside `xi`.
            let row = unsafe { xi.as_ptr().add(iy * g.in_w * c + c0) };
            for kx in 0..g.k {
                // SAFETY: (ky, kx) < (k, k) and c0 + CB <= c: inside `w`.
                let wv = unsafe { w.as_ptr().add((ky * g.k + kx) * c + c0) };
                for (p, acc) in acc.iter_mut().enumerate() {
                    let ix = ix0 + (p * g.stride + kx) as isize;
                    if inside || (ix >= 0 && ix < g.in_w as isize) {
                        // SAFETY: 0 <= ix < in_w (checked, or implied by `inside`) and
                        // c0 + CB <= c: CB numbers of row iy.
                        unsafe { fma_ptr(acc, row.add(ix as usize * c), wv) };
                    }
                }
            }
        }
        for (p, acc) in acc.iter().enumerate() {
            for (o, &a) in o[p * c + c0..p * c + c0 + CB].iter_mut().zip(acc) {
                *o = a * scale;
            }
        }
    }

    /// Whether the sliding-window loops serve this layer: 5 × 5 kernels at stride 1 or 2 (the
    /// layers of mnas) on at least one block of 16 channels.
    fn slides(&self) -> bool {
        self.geom.k == 5 && matches!(self.geom.stride, 1 | 2) && self.c >= 16
    }

    /// Output pixel (oy, ox), every channel block (`o` holds the pixel's channels).
    #[inline(always)]
    fn forward_pixel<R: Real>(
        &self,
        w: &[R],
        xi: &[R],
        oy: usize,
        ox: usize,
        o: &mut [R],
        scale: R,
    ) {
        for (c0, cb) in channel_blocks(self.c) {
            match cb {
                64 => self.forward_run::<R, 64, 1>(w, xi, oy, ox, c0, o, scale),
                16 => self.forward_run::<R, 16, 1>(w, xi, oy, ox, c0, o, scale),
                _ => self.forward_run::<R, 1, 1>(w, xi, oy, ox, c0, o, scale),
            }
        }
    }

    /// dx at input pixel (iy, ix), every channel block (`d` holds the pixel's channels).
    #[inline(always)]
    fn input_grad_pixel<R: Real>(
        &self,
        w: &[R],
        gi: &[R],
        iy: usize,
        ix: usize,
        d: &mut [R],
        scale: R,
    ) {
        for (c0, cb) in channel_blocks(self.c) {
            match cb {
                64 => self.input_grad_run::<R, 64, 1>(w, gi, iy, ix, c0, d, scale),
                16 => self.input_grad_run::<R, 16, 1>(w, gi, iy, ix, c0, d, scale),
                _ => self.input_grad_run::<R, 1, 1>(w, gi, iy, ix, c0, d, scale),
            }
        }
    }

    /// The P output pixels (oy, ox0..ox0+P) of a layer that [`slides`](Self::slides): channels
    /// in blocks of 16 by [`DwConv::forward_slide`], the rest one at a time.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn forward_slides<R: Real, const P: usize>(
        &self,
        w: &[R],
        xi: &[R],
        oy: usize,
        ox0: usize,
        o: &mut [R],
        scale: R,
    ) {
        let c16 = self.c / 16 * 16;
        for c0 in (0..c16).step_by(16) {
            if self.geom.stride == 1 {
                self.forward_slide::<R, 16, P, 5, 1>(w, xi, oy, ox0, c0, o, scale);
            } else {
                self.forward_slide::<R, 16, P, 5, 2>(w, xi, oy, ox0, c0, o, scale);
            }
        }
        for c0 in c16..self.c {
            self.forward_run::<R, 1, P>(w, xi, oy, ox0, c0, o, scale);
        }
    }

    /// Output pixels (oy, ox0..ox0+P), channels c0..c0+CB, of a K × K convolution with stride
    /// S, by a sliding window: per kernel row, the K weight vectors and each of the
    /// (P − 1)·S + K input vectors the run reads are loaded once, and every input vector is
    /// used by all the pixels it reaches (the loop is bound by its loads: 17 loads for 40
    /// products at P = 8, S = 1, against 45 one pixel at a time). Each pixel sums its taps in
    /// the order of [`DwConv::forward_block`] (ky, then kx, ascending, the padding skipped):
    /// the input columns are visited in ascending order, and so is kx = j − p·S.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn forward_slide<R: Real, const CB: usize, const P: usize, const K: usize, const S: usize>(
        &self,
        w: &[R],
        xi: &[R],
        oy: usize,
        ox0: usize,
        c0: usize,
        o: &mut [R],
        scale: R,
    ) {
        let (g, c) = (&self.geom, self.c);
        assert!(g.k == K && g.stride == S);
        // The unrolled loops below list 19 columns and 8 pixels (a constant check).
        assert!((P - 1) * S + K <= 19 && P <= 8);
        assert!(xi.len() >= g.in_positions() * c && w.len() >= self.weight_len());
        assert!(c0 + CB <= c && o.len() >= P * c && ox0 + P <= g.out_w);
        let mut acc = [[R::ZERO; CB]; P];
        let ix0 = (ox0 * S) as isize - g.pad_left as isize;
        let inside = ix0 >= 0 && ix0 + ((P - 1) * S + K) as isize <= g.in_w as isize;
        for ky in 0..K {
            let Some(iy) = g.in_row(oy, ky) else { continue };
            let mut wv = [[R::ZERO; CB]; K];
            for (kx, wv) in wv.iter_mut().enumerate() {
                // SAFETY: (ky, kx) < (K, K) = (k, k) and c0 + CB <= c: inside `w`.
                *wv = unsafe { load::<R, CB>(w.as_ptr().add((ky * K + kx) * c + c0)) };
            }
            // SAFETY: iy < in_h and c0 < c: inside `xi`.
            let row = unsafe { xi.as_ptr().add(iy * g.in_w * c + c0) };
            unroll!(j in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] {
                let ix = ix0 + j as isize;
                if j < (P - 1) * S + K && (inside || (ix >= 0 && ix < g.in_w as isize)) {
                    // SAFETY: 0 <= ix < in_w and c0 + CB <= c: CB numbers of row iy.
                    let xv = unsafe { load::<R, CB>(row.add(ix as usize * c)) };
                    unroll!(p in [0, 1, 2, 3, 4, 5, 6, 7] {
                        if p < P && j >= p * S && j - p * S < K {
                            let (acc, wk) = (&mut acc[p], &wv[j - p * S]);
                            for l in 0..CB {
                                acc[l] += xv[l] * wk[l];
                            }
                        }
                    });
                }
            });
        }
        for (p, acc) in acc.iter().enumerate() {
            for (o, &a) in o[p * c + c0..p * c + c0 + CB].iter_mut().zip(acc) {
                *o = a * scale;
            }
        }
    }

    /// Output pixel (oy, ox), channels c0..c0+CB, summed in registers over the k × k taps: the
    /// loop of one pixel at a time, which [`DwConv::forward_run`] must agree with bitwise (the
    /// reference of the tests).
    #[cfg(test)]
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
        simd::dispatch(Backward {
            conv: self,
            w,
            x,
            n,
            dy,
            dw,
            dx,
        })
    }

    /// The loops of [`DwConv::backward`], one copy per instruction set (the [`Backward`]
    /// kernel), like [`DwConv::forward_kernel`].
    #[inline(always)]
    fn backward_kernel<R: Real, I: Isa>(
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
        // dw[ky][kx][c] = Σ over images and output pixels of dy · x, each in the order image,
        // output row, output column. Per image, channel block and pair of taps (ky, kx..kx+2),
        // the sums over the image's pixels run in registers, each dy vector loaded serving both
        // taps.
        let dw = &mut dw[..self.weight_len()];
        dw.fill(R::ZERO);
        if self.slides() {
            // Sliding windows (all 5 taps of a kernel row at once, 5 sums in registers) over
            // runs of 8 output columns on AVX-512 (at stride 2 too: measured no slower), else 4.
            let wide = I::LEVEL == Level::Avx512F;
            let c16 = c / 16 * 16;
            for img in 0..n {
                for c0 in (0..c16).step_by(16) {
                    for rows in self.row_bands(16) {
                        for ky in 0..g.k {
                            let a = (x, dy, img, rows, ky, c0);
                            if g.stride == 1 {
                                self.weight_grad_slide::<R, 16, 5, 1>(a, wide, dw);
                            } else {
                                self.weight_grad_slide::<R, 16, 5, 2>(a, wide, dw);
                            }
                        }
                    }
                }
                for c0 in c16..c {
                    self.weight_grad_pairs(x, dy, img, (c0, 1), dw);
                }
            }
        } else {
            for img in 0..n {
                for (c0, cb) in channel_blocks(c) {
                    self.weight_grad_pairs(x, dy, img, (c0, cb), dw);
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
            if self.slides() {
                // Runs of 8 input pixels on AVX-512 (at stride 2 too: measured 10-30% faster
                // than 4), else 4.
                let wide = I::LEVEL == Level::Avx512F;
                for img in 0..n {
                    let gi = &dy[img * out_img..(img + 1) * out_img];
                    for iy in 0..g.in_h {
                        for (ix, p) in slide_runs(g.in_w, wide) {
                            let d = &mut dx[img * in_img + (iy * g.in_w + ix) * c..][..p * c];
                            match p {
                                8 => self.input_grad_slides::<R, 8>(w, gi, iy, ix, d, scale),
                                4 => self.input_grad_slides::<R, 4>(w, gi, iy, ix, d, scale),
                                _ => self.input_grad_pixel(w, gi, iy, ix, d, scale),
                            }
                        }
                    }
                }
                return;
            }
            for img in 0..n {
                let gi = &dy[img * out_img..(img + 1) * out_img];
                for iy in 0..g.in_h {
                    let mut ix = 0;
                    while ix < g.in_w {
                        let run = if ix + PX <= g.in_w { PX } else { 1 };
                        let d = &mut dx[img * in_img + (iy * g.in_w + ix) * c..][..run * c];
                        for (c0, cb) in channel_blocks(c) {
                            match (cb, run) {
                                (64, PX) => {
                                    self.input_grad_run::<R, 64, PX>(w, gi, iy, ix, c0, d, scale)
                                }
                                (16, PX) => {
                                    self.input_grad_run::<R, 16, PX>(w, gi, iy, ix, c0, d, scale)
                                }
                                (_, PX) => {
                                    self.input_grad_run::<R, 1, PX>(w, gi, iy, ix, c0, d, scale)
                                }
                                (64, _) => {
                                    self.input_grad_run::<R, 64, 1>(w, gi, iy, ix, c0, d, scale)
                                }
                                (16, _) => {
                                    self.input_grad_run::<R, 16, 1>(w, gi, iy, ix, c0, d, scale)
                                }
                                _ => self.input_grad_run::<R, 1, 1>(w, gi, iy, ix, c0, d, scale),
                            }
                        }
                        ix += run;
                    }
                }
            }
        }
    }

    /// dx at input pixels (iy, ix0..ix0+P), channels c0..c0+CB, of a K × K convolution with
    /// stride S, by a sliding window like [`DwConv::forward_slide`]: per kernel row the K
    /// weight vectors and each output-gradient vector the run reads are loaded once. With
    /// ix0 + pad_left = S·b0 + Q, input pixel p reads output column b0 + r through kernel column
    /// kx = Q + p − r·S; the columns are visited in descending r, so that each pixel sums its
    /// taps in the order of [`DwConv::input_grad_block`] (ky, then kx, ascending).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn input_grad_slide<
        R: Real,
        const CB: usize,
        const P: usize,
        const K: usize,
        const S: usize,
        const Q: usize,
    >(
        &self,
        w: &[R],
        gi: &[R],
        iy: usize,
        ix0: usize,
        c0: usize,
        d: &mut [R],
        scale: R,
    ) {
        let (g, c) = (&self.geom, self.c);
        assert!(g.k == K && g.stride == S && (ix0 + g.pad_left) % S == Q);
        assert!(gi.len() >= g.out_positions() * c && w.len() >= self.weight_len());
        assert!(c0 + CB <= c && d.len() >= P * c && ix0 + P <= g.in_w);
        let b0 = ((ix0 + g.pad_left) / S) as isize;
        // Output columns b0 + r, r from r_max down to r_min: those some pixel of the run reads.
        let r_max = ((Q + P - 1) / S) as isize;
        let r_min = -(((K - 1 - Q) / S) as isize);
        // The unrolled loops below list 12 columns and 8 pixels (a constant check).
        assert!(r_max - r_min < 12 && P <= 8);
        let inside = b0 + r_min >= 0 && b0 + r_max < g.out_w as isize;
        let mut acc = [[R::ZERO; CB]; P];
        for ky in 0..K {
            // Output row that reads input row iy through kernel row ky, if any.
            let Some(t) = (iy + g.pad_top).checked_sub(ky) else {
                continue;
            };
            if t % S != 0 || t / S >= g.out_h {
                continue;
            }
            let mut wv = [[R::ZERO; CB]; K];
            for (kx, wv) in wv.iter_mut().enumerate() {
                // SAFETY: (ky, kx) < (K, K) = (k, k) and c0 + CB <= c: inside `w`.
                *wv = unsafe { load::<R, CB>(w.as_ptr().add((ky * K + kx) * c + c0)) };
            }
            // SAFETY: oy = t / S < out_h and c0 < c: inside `gi`.
            let row = unsafe { gi.as_ptr().add(t / S * g.out_w * c + c0) };
            unroll!(m in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] {
                let r = r_max - m as isize;
                let ox = b0 + r;
                if r >= r_min && (inside || (ox >= 0 && ox < g.out_w as isize)) {
                    // SAFETY: 0 <= ox < out_w and c0 + CB <= c: CB numbers of row oy.
                    let gv = unsafe { load::<R, CB>(row.add(ox as usize * c)) };
                    unroll!(p in [0, 1, 2, 3, 4, 5, 6, 7] {
                        let kx = (Q + p) as isize - r * S as isize;
                        if p < P && kx >= 0 && kx < K as isize {
                            let (acc, wk) = (&mut acc[p], &wv[kx as usize]);
                            for l in 0..CB {
                                acc[l] += gv[l] * wk[l];
                            }
                        }
                    });
                }
            });
        }
        for (p, acc) in acc.iter().enumerate() {
            for (d, &a) in d[p * c + c0..p * c + c0 + CB].iter_mut().zip(acc) {
                *d = a * scale;
            }
        }
    }

    /// dx at the P input pixels (iy, ix0..ix0+P) of a layer that [`slides`](Self::slides):
    /// channels in blocks of 16 by [`DwConv::input_grad_slide`], the rest one at a time.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn input_grad_slides<R: Real, const P: usize>(
        &self,
        w: &[R],
        gi: &[R],
        iy: usize,
        ix0: usize,
        d: &mut [R],
        scale: R,
    ) {
        let c16 = self.c / 16 * 16;
        let (s, q) = (
            self.geom.stride,
            (ix0 + self.geom.pad_left) % self.geom.stride,
        );
        for c0 in (0..c16).step_by(16) {
            match (s, q) {
                (1, _) => self.input_grad_slide::<R, 16, P, 5, 1, 0>(w, gi, iy, ix0, c0, d, scale),
                (_, 0) => self.input_grad_slide::<R, 16, P, 5, 2, 0>(w, gi, iy, ix0, c0, d, scale),
                _ => self.input_grad_slide::<R, 16, P, 5, 2, 1>(w, gi, iy, ix0, c0, d, scale),
            }
        }
        for c0 in c16..self.c {
            self.input_grad_run::<R, 1, P>(w, gi, iy, ix0, c0, d, scale);
        }
    }

    /// dx at input pixels (iy, ix0..ix0+P), channels c0..c0+CB, into `d` (which holds the P
    /// pixels' channels): the taps in the order of [`DwConv::input_grad_block`] (ky, then kx,
    /// ascending), each weight vector loaded once for the P pixels.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn input_grad_run<R: Real, const CB: usize, const P: usize>(
        &self,
        w: &[R],
        gi: &[R],
        iy: usize,
        ix0: usize,
        c0: usize,
        d: &mut [R],
        scale: R,
    ) {
        let (g, c) = (&self.geom, self.c);
        assert!(gi.len() >= g.out_positions() * c && w.len() >= self.weight_len());
        assert!(c0 + CB <= c && d.len() >= P * c && ix0 + P <= g.in_w);
        let mut acc = [[R::ZERO; CB]; P];
        for ky in 0..g.k {
            // Output row that reads input row iy through kernel row ky, if any.
            let Some(t) = (iy + g.pad_top).checked_sub(ky) else {
                continue;
            };
            if t % g.stride != 0 || t / g.stride >= g.out_h {
                continue;
            }
            let oy = t / g.stride;
            // SAFETY: oy < out_h and c0 < c.
            let row = unsafe { gi.as_ptr().add(oy * g.out_w * c + c0) };
            for kx in 0..g.k {
                // SAFETY: (ky, kx) < (k, k) and c0 + CB <= c.
                let wv = unsafe { w.as_ptr().add((ky * g.k + kx) * c + c0) };
                for (p, acc) in acc.iter_mut().enumerate() {
                    let Some(t) = (ix0 + p + g.pad_left).checked_sub(kx) else {
                        continue;
                    };
                    if t % g.stride != 0 || t / g.stride >= g.out_w {
                        continue;
                    }
                    // SAFETY: ox = t / stride < out_w.
                    unsafe { fma_ptr(acc, row.add(t / g.stride * c), wv) };
                }
            }
        }
        for (p, acc) in acc.iter().enumerate() {
            for (d, &a) in d[p * c + c0..p * c + c0 + CB].iter_mut().zip(acc) {
                *d = a * scale;
            }
        }
    }

    /// Bands `(oy0, oy1)` of output rows, in order, whose dy (about 8 KiB for `cb` channels)
    /// and x rows stay in L1 over the kernel taps of the weight gradient.
    fn row_bands(&self, cb: usize) -> impl Iterator<Item = (usize, usize)> {
        let (h, band) = (self.geom.out_h, (2048 / (self.geom.out_w * cb)).max(1));
        (0..h)
            .step_by(band)
            .map(move |oy0| (oy0, (oy0 + band).min(h)))
    }

    /// Adds image `img`'s share of ∂/∂w (unscaled) for the channel block `(c0, cb)` (cb one of
    /// 64, 16, 1) to `dw` by the general loops: per band of rows and pair of taps
    /// (ky, kx..kx+2), [`DwConv::weight_grad_taps`].
    #[inline(always)]
    fn weight_grad_pairs<R: Real>(
        &self,
        x: &[R],
        dy: &[R],
        img: usize,
        (c0, cb): (usize, usize),
        dw: &mut [R],
    ) {
        let k = self.geom.k;
        for rows in self.row_bands(cb) {
            for ky in 0..k {
                let mut kx = 0;
                while kx < k {
                    let pair = kx + 1 < k;
                    let a = (x, dy, img, rows, ky, kx, c0);
                    match (cb, pair) {
                        (64, true) => self.weight_grad_taps::<R, 64, 2>(a, dw),
                        (16, true) => self.weight_grad_taps::<R, 16, 2>(a, dw),
                        (_, true) => self.weight_grad_taps::<R, 1, 2>(a, dw),
                        (64, false) => self.weight_grad_taps::<R, 64, 1>(a, dw),
                        (16, false) => self.weight_grad_taps::<R, 16, 1>(a, dw),
                        _ => self.weight_grad_taps::<R, 1, 1>(a, dw),
                    }
                    kx += if pair { 2 } else { 1 };
                }
            }
        }
    }

    /// Adds Σ over the pixels of output rows oy0..oy1 of image `img` (rows, then columns,
    /// ascending) of dy · x for the K taps (ky, 0..K) of a K × K convolution with stride S,
    /// channels c0..c0+CB, to their entries of `dw` (unscaled), by a sliding window: the K sums
    /// stay in registers over the rows, and for a run of up to 8 output columns the run's dy
    /// vectors are loaded once and each of the (P − 1)·S + K input vectors it reads once (20
    /// loads for 40 products at P = 8, S = 1, against 60 by pairs of taps). Each tap's sum runs
    /// over the columns in ascending order, as in [`DwConv::weight_grad_row`].
    #[allow(clippy::type_complexity)]
    #[inline(always)]
    fn weight_grad_slide<R: Real, const CB: usize, const K: usize, const S: usize>(
        &self,
        (x, dy, img, (oy0, oy1), ky, c0): (&[R], &[R], usize, (usize, usize), usize, usize),
        wide: bool,
        dw: &mut [R],
    ) {
        let (g, c) = (&self.geom, self.c);
        let (in_img, out_img) = (self.in_len(), self.out_len());
        assert!(g.k == K && g.stride == S && ky < K && oy1 <= g.out_h);
        assert!(x.len() >= (img + 1) * in_img && dy.len() >= (img + 1) * out_img);
        assert!(c0 + CB <= c && dw.len() >= self.weight_len());
        let mut acc = [[R::ZERO; CB]; K];
        for (kx, acc) in acc.iter_mut().enumerate() {
            acc.copy_from_slice(&dw[(ky * K + kx) * c + c0..][..CB]);
        }
        for oy in oy0..oy1 {
            let Some(iy) = g.in_row(oy, ky) else { continue };
            // SAFETY: x holds image img (asserted), iy < in_h and c0 < c: inside `x`.
            let xrow = unsafe { x.as_ptr().add(img * in_img + iy * g.in_w * c + c0) };
            // SAFETY: dy holds image img (asserted), oy < out_h and c0 < c: inside `dy`.
            let dyrow = unsafe { dy.as_ptr().add(img * out_img + oy * g.out_w * c + c0) };
            let mut ox = 0;
            while wide && ox + 8 <= g.out_w {
                self.weight_grad_run::<R, CB, 8, K, S>(xrow, dyrow, ox, &mut acc);
                ox += 8;
            }
            while ox + 4 <= g.out_w {
                self.weight_grad_run::<R, CB, 4, K, S>(xrow, dyrow, ox, &mut acc);
                ox += 4;
            }
            for ox in ox..g.out_w {
                self.weight_grad_run::<R, CB, 1, K, S>(xrow, dyrow, ox, &mut acc);
            }
        }
        for (kx, acc) in acc.iter().enumerate() {
            dw[(ky * K + kx) * c + c0..][..CB].copy_from_slice(acc);
        }
    }

    /// One run of [`DwConv::weight_grad_slide`]: output columns ox0..ox0+P of the rows at
    /// `xrow` (input) and `dyrow` (output gradient), each holding the row's channels from c0.
    #[inline(always)]
    fn weight_grad_run<R: Real, const CB: usize, const P: usize, const K: usize, const S: usize>(
        &self,
        xrow: *const R,
        dyrow: *const R,
        ox0: usize,
        acc: &mut [[R; CB]; K],
    ) {
        let (g, c) = (&self.geom, self.c);
        debug_assert!(ox0 + P <= g.out_w);
        // The unrolled loops below list 19 columns and 8 pixels (a constant check).
        assert!((P - 1) * S + K <= 19 && P <= 8);
        let mut dv = [[R::ZERO; CB]; P];
        for (p, dv) in dv.iter_mut().enumerate() {
            // SAFETY: ox0 + p < out_w (the callers' loops) and the row holds CB numbers there.
            *dv = unsafe { load::<R, CB>(dyrow.add((ox0 + p) * c)) };
        }
        let ix0 = (ox0 * S) as isize - g.pad_left as isize;
        let inside = ix0 >= 0 && ix0 + ((P - 1) * S + K) as isize <= g.in_w as isize;
        unroll!(j in [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18] {
            let ix = ix0 + j as isize;
            if j < (P - 1) * S + K && (inside || (ix >= 0 && ix < g.in_w as isize)) {
                // SAFETY: 0 <= ix < in_w and the row holds CB numbers there.
                let xv = unsafe { load::<R, CB>(xrow.add(ix as usize * c)) };
                unroll!(p in [0, 1, 2, 3, 4, 5, 6, 7] {
                    if p < P && j >= p * S && j - p * S < K {
                        let (acc, dv) = (&mut acc[j - p * S], &dv[p]);
                        for l in 0..CB {
                            acc[l] += dv[l] * xv[l];
                        }
                    }
                });
            }
        });
    }

    /// Adds Σ over the pixels of output rows oy0..oy1 of image `img` (rows, then columns,
    /// ascending) of dy · x for the T
    /// taps (ky, kx0..kx0+T), channels c0..c0+CB, to their entries of `dw` (unscaled): the sums
    /// of [`DwConv::weight_grad_row`], row after row, with the partial sums kept in registers.
    #[allow(clippy::type_complexity)]
    #[inline(always)]
    fn weight_grad_taps<R: Real, const CB: usize, const T: usize>(
        &self,
        (x, dy, img, (oy0, oy1), ky, kx0, c0): (
            &[R],
            &[R],
            usize,
            (usize, usize),
            usize,
            usize,
            usize,
        ),
        dw: &mut [R],
    ) {
        let (g, c) = (&self.geom, self.c);
        let (in_img, out_img) = (self.in_len(), self.out_len());
        assert!(x.len() >= (img + 1) * in_img && dy.len() >= (img + 1) * out_img);
        assert!(c0 + CB <= c && kx0 + T <= g.k && dw.len() >= self.weight_len());
        // Output columns whose tap kx lands inside the image: 0 <= ox·s + kx - pad_left < in_w.
        let s = g.stride as isize;
        let mut lo = [0usize; T];
        let mut hi = [0usize; T];
        let mut acc = [[R::ZERO; CB]; T];
        for t in 0..T {
            let first = g.pad_left as isize - (kx0 + t) as isize;
            lo[t] = if first > 0 { (first + s - 1) / s } else { 0 } as usize;
            let end = g.in_w as isize + first;
            hi[t] = if end > 0 {
                ((end + s - 1) / s) as usize
            } else {
                0
            }
            .min(g.out_w)
            .max(lo[t]);
            acc[t].copy_from_slice(&dw[(ky * g.k + kx0 + t) * c + c0..][..CB]);
        }
        let all_lo = lo.iter().copied().min().unwrap_or(0);
        let all_hi = hi.iter().copied().max().unwrap_or(0);
        assert!(oy1 <= g.out_h);
        for oy in oy0..oy1 {
            let Some(iy) = g.in_row(oy, ky) else { continue };
            // SAFETY: x holds image img (asserted), iy < in_h and c0 < c: inside `x`.
            let xrow = unsafe { x.as_ptr().add(img * in_img + iy * g.in_w * c + c0) };
            // SAFETY: dy holds image img (asserted), oy < out_h and c0 < c: inside `dy`.
            let dyrow = unsafe { dy.as_ptr().add(img * out_img + oy * g.out_w * c + c0) };
            for ox in all_lo..all_hi {
                // SAFETY: ox < out_w.
                let d = unsafe { dyrow.add(ox * c) };
                for (t, acc) in acc.iter_mut().enumerate() {
                    if ox >= lo[t] && ox < hi[t] {
                        let ix = ox * g.stride + kx0 + t - g.pad_left;
                        // SAFETY: ox in the tap's range means 0 <= ix < in_w.
                        unsafe { fma_ptr(acc, d, xrow.add(ix * c)) };
                    }
                }
            }
        }
        for (t, acc) in acc.iter().enumerate() {
            dw[(ky * g.k + kx0 + t) * c + c0..][..CB].copy_from_slice(acc);
        }
    }

    /// Adds Σ over the pixels of output row `oy` of image `img` of dy · x for tap (·, kx)
    /// reading input row `iy`, channels c0..c0+CB, to `d[..CB]` (unscaled): one tap and one row
    /// at a time, the reference of the tests for [`DwConv::weight_grad_taps`]. (Summing all k
    /// taps of a row together was measured slower than pairs: 5 × 64 sums spill.)
    #[cfg(test)]
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
        assert!(x.len() >= (img + 1) * in_img && dy.len() >= (img + 1) * out_img);
        assert!(iy < g.in_h && oy < g.out_h && c0 + CB <= c);
        // SAFETY: x holds image img, iy < in_h and c0 < c (asserted above): inside `x`.
        let xrow = unsafe { x.as_ptr().add(img * in_img + iy * g.in_w * c + c0) };
        // SAFETY: dy holds image img, oy < out_h and c0 < c (asserted above): inside `dy`.
        let dyrow = unsafe { dy.as_ptr().add(img * out_img + oy * g.out_w * c + c0) };
        for ox in ox_lo..ox_hi {
            let ix = ox * g.stride + kx - g.pad_left;
            // SAFETY: ox < out_w, and ox in ox_lo..ox_hi means 0 <= ix < in_w.
            unsafe { fma_ptr(&mut acc, dyrow.add(ox * c), xrow.add(ix * c)) };
        }
        *d = acc;
    }

    /// dx at input pixel (iy, ix), channels c0..c0+CB, into `d[c0..c0+CB]`: one pixel at a
    /// time, the reference of the tests for [`DwConv::input_grad_run`].
    #[cfg(test)]
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

/// [`DwConv::forward`] as a [`Kernel`]: compiled once per SIMD level by [`simd::dispatch`].
struct Forward<'a, R> {
    conv: &'a DwConv,
    w: &'a [R],
    x: &'a [R],
    n: usize,
    out: &'a mut [R],
}

impl<R: Real> Kernel for Forward<'_, R> {
    type Output = ();
    #[inline(always)]
    fn run<S: Isa>(self, _isa: S) {
        // A local copy of the (small, Copy) geometry: the compiler then knows the stores to `out`
        // cannot change it and keeps it in registers (a reference inside a struct carries no
        // such no-alias guarantee, unlike the `&self` argument of a function).
        let conv = *self.conv;
        conv.forward_kernel::<R, S>(self.w, self.x, self.n, self.out)
    }
}

/// [`DwConv::backward`] as a [`Kernel`].
struct Backward<'a, R> {
    conv: &'a DwConv,
    w: &'a [R],
    x: &'a [R],
    n: usize,
    dy: &'a [R],
    dw: &'a mut [R],
    dx: Option<&'a mut [R]>,
}

impl<R: Real> Kernel for Backward<'_, R> {
    type Output = ();
    #[inline(always)]
    fn run<S: Isa>(self, _isa: S) {
        let conv = *self.conv; // see `Forward::run`
        conv.backward_kernel::<R, S>(self.w, self.x, self.n, self.dy, self.dw, self.dx)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{central, fill, rel_err, CASES};
    use super::*;
    use crate::numeric::simd::{dispatch_at, supported, Level};

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

    /// Depthwise cases with channel counts that use every block width (64, 16 and 1).
    const DW_CASES: &[(usize, usize, usize, usize, usize, usize)] = &[
        (6, 5, 83, 0, 5, 2),
        (5, 6, 83, 0, 3, 1),
        (4, 4, 64, 0, 5, 1),
        (5, 5, 16, 0, 2, 2),
        // 5 × 5 at strides 1 and 2 (the sliding windows): runs of 8 and 4 with a pixel left,
        // both parities of the first column at stride 2, a channel after the blocks of 16.
        (6, 13, 33, 0, 5, 1),
        (9, 13, 33, 0, 5, 2),
        (7, 16, 17, 0, 5, 2),
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

    /// The one-pixel (and one-tap, one-row) at a time loops (`forward_block`, `input_grad_block`,
    /// `weight_grad_row`), the reference the runs of pixels and pairs of taps must match bitwise.
    fn reference<R: Real>(
        d: &DwConv,
        w: &[R],
        x: &[R],
        dy: &[R],
        n: usize,
    ) -> (Vec<R>, Vec<R>, Vec<R>) {
        let (g, c) = (d.geom, d.c);
        let scale = R::from_f64(d.scale());
        let mut out = vec![R::ZERO; n * d.out_len()];
        let mut dx = vec![R::ZERO; n * d.in_len()];
        let mut dw = vec![R::ZERO; d.weight_len()];
        for img in 0..n {
            for (c0, cb) in channel_blocks(c) {
                for oy in 0..g.out_h {
                    for ky in 0..g.k {
                        let Some(iy) = g.in_row(oy, ky) else { continue };
                        for kx in 0..g.k {
                            let t = &mut dw[(ky * g.k + kx) * c + c0..];
                            match cb {
                                64 => d.weight_grad_row::<R, 64>(x, dy, img, oy, iy, kx, c0, t),
                                16 => d.weight_grad_row::<R, 16>(x, dy, img, oy, iy, kx, c0, t),
                                _ => d.weight_grad_row::<R, 1>(x, dy, img, oy, iy, kx, c0, t),
                            }
                        }
                    }
                }
            }
        }
        dw.iter_mut().for_each(|v| *v *= scale);
        for img in 0..n {
            let xi = &x[img * d.in_len()..(img + 1) * d.in_len()];
            let gi = &dy[img * d.out_len()..(img + 1) * d.out_len()];
            for oy in 0..g.out_h {
                for ox in 0..g.out_w {
                    let o = &mut out[img * d.out_len() + (oy * g.out_w + ox) * c..][..c];
                    for (c0, cb) in channel_blocks(c) {
                        match cb {
                            64 => d.forward_block::<R, 64>(w, xi, oy, ox, c0, o, scale),
                            16 => d.forward_block::<R, 16>(w, xi, oy, ox, c0, o, scale),
                            _ => d.forward_block::<R, 1>(w, xi, oy, ox, c0, o, scale),
                        }
                    }
                }
            }
            for iy in 0..g.in_h {
                for ix in 0..g.in_w {
                    let o = &mut dx[img * d.in_len() + (iy * g.in_w + ix) * c..][..c];
                    for (c0, cb) in channel_blocks(c) {
                        match cb {
                            64 => d.input_grad_block::<R, 64>(w, gi, iy, ix, c0, o, scale),
                            16 => d.input_grad_block::<R, 16>(w, gi, iy, ix, c0, o, scale),
                            _ => d.input_grad_block::<R, 1>(w, gi, iy, ix, c0, o, scale),
                        }
                    }
                }
            }
        }
        (out, dx, dw)
    }

    #[test]
    fn pixel_runs_and_tap_pairs_sum_in_the_order_of_one_at_a_time() {
        // Widths below, at and above PX, both strides, and the mnas layer shapes (k = 5).
        let cases: &[(usize, usize, usize, usize, usize)] = &[
            (16, 16, 80, 5, 1),
            (16, 16, 96, 5, 2),
            (8, 8, 96, 5, 1),
            (8, 8, 96, 5, 2),
            (4, 4, 144, 5, 1),
            (7, 9, 17, 3, 2),
            (5, 3, 65, 5, 1),
            (6, 11, 16, 4, 3),
            (6, 13, 33, 5, 1),
            (9, 13, 33, 5, 2),
            (7, 16, 17, 5, 2),
            (3, 20, 48, 5, 1),
        ];
        fn check<R: Real + std::fmt::Debug>(cases: &[(usize, usize, usize, usize, usize)]) {
            for &(h, w_, c, k, s) in cases {
                let d = DwConv::new(h, w_, c, k, s);
                let n = 2;
                let conv = |v: Vec<f64>| v.into_iter().map(R::from_f64).collect::<Vec<R>>();
                let w = conv(fill(d.weight_len(), 1.1));
                let x = conv(fill(n * d.in_len(), 0.3));
                let dy = conv(fill(n * d.out_len(), 2.3));
                let (want_out, want_dx, want_dw) = reference(&d, &w, &x, &dy, n);
                let mut out = vec![R::ZERO; want_out.len()];
                let mut dx = vec![R::ZERO; want_dx.len()];
                let mut dw = vec![R::ZERO; d.weight_len()];
                d.forward(&w, &x, n, &mut out);
                d.backward(&w, &x, n, &dy, &mut dw, Some(&mut dx));
                let bits = |v: &[R]| v.iter().map(|a| a.to_f64().to_bits()).collect::<Vec<_>>();
                let case = (h, w_, c, k, s);
                assert_eq!(bits(&out), bits(&want_out), "forward {case:?}");
                assert_eq!(bits(&dx), bits(&want_dx), "input gradient {case:?}");
                assert_eq!(bits(&dw), bits(&want_dw), "weight gradient {case:?}");
            }
        }
        check::<f32>(cases);
        check::<f64>(cases);
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

    /// Forward and backward at every SIMD level this CPU has, f32 and f64, on every case and
    /// block width: bitwise the portable result. Exact equality is the right expectation: the
    /// kernels are plain arithmetic and each channel's sum runs over the taps in the same order
    /// at every vector width (no level fuses or reorders an operation, see `numeric::simd`).
    fn levels_agree<R: Real>() {
        let to = |v: &[f64]| v.iter().map(|&a| R::from_f64(a)).collect::<Vec<R>>();
        let bits = |v: &[R]| v.iter().map(|a| a.to_f64().to_bits()).collect::<Vec<u64>>();
        for &(h, w_, c, _, k, s) in CASES.iter().chain(DW_CASES) {
            let d = DwConv::new(h, w_, c, k, s);
            let n = 2;
            let w = to(&fill(d.weight_len(), 1.1));
            let x = to(&fill(n * d.in_len(), 0.3));
            let r = to(&fill(n * d.out_len(), 2.3));
            let at = |level: Level| {
                let mut out = vec![R::ZERO; n * d.out_len()];
                let (mut dw, mut dx) = (vec![R::ZERO; w.len()], vec![R::ZERO; x.len()]);
                let (w, x, dy) = (&w[..], &x[..], &r[..]);
                let conv = &d;
                dispatch_at(
                    level,
                    Forward {
                        conv,
                        w,
                        x,
                        n,
                        out: &mut out,
                    },
                );
                let (dw_, dx_) = (&mut dw[..], Some(&mut dx[..]));
                dispatch_at(
                    level,
                    Backward {
                        conv,
                        w,
                        x,
                        n,
                        dy,
                        dw: dw_,
                        dx: dx_,
                    },
                );
                [bits(&out), bits(&dw), bits(&dx)]
            };
            let portable = at(Level::Portable);
            for level in Level::ALL.into_iter().filter(|&l| l <= supported()) {
                for ((what, got), want) in ["out", "dw", "dx"].iter().zip(at(level)).zip(&portable)
                {
                    assert!(
                        got == *want,
                        "{} {what} differs on {:?}",
                        level.name(),
                        (h, w_, c, k, s)
                    );
                }
            }
        }
    }

    #[test]
    fn dwconv_is_bitwise_the_same_at_every_simd_level() {
        levels_agree::<f32>();
        levels_agree::<f64>();
    }
}
