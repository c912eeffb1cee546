//! SAME-padding geometry of a k × k convolution with a stride (TensorFlow/JAX rule).
//!
//! `out = ceil(in / s)`, `pad_total = max((out - 1)·s + k - in, 0)`,
//! `pad_before = floor(pad_total / 2)`, `pad_after = pad_total - pad_before`; padded pixels are 0.
//! [`Geom`] also answers, for the loops of [`super::dense`] and [`super::depthwise`], which input
//! row and which run of input columns a kernel tap reads.

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
    pub(super) fn in_row(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.stride + ky)
            .checked_sub(self.pad_top)
            .filter(|&iy| iy < self.in_h)
    }
    /// For output column `ox`: the input column `ix0` of kernel column 0 (may be negative) and
    /// the range of kernel columns that fall inside the image (contiguous in NHWC memory).
    #[inline(always)]
    pub(super) fn col_range(&self, ox: usize) -> (isize, usize, usize) {
        let ix0 = (ox * self.stride) as isize - self.pad_left as isize;
        let lo = (-ix0).clamp(0, self.k as isize) as usize;
        let hi = (self.in_w as isize - ix0).clamp(0, self.k as isize) as usize;
        (ix0, lo, hi.max(lo))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
