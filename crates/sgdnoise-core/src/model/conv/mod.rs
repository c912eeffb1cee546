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
//! one's by `k`. Every matrix product goes through [`Gemm`](crate::numeric::gemm::Gemm); 1 × 1 convolutions with stride 1 are
//! plain products (no im2col); depthwise convolutions are direct loops over channels (the innermost,
//! contiguous axis, which the compiler vectorises).
//!
//! The code is split by concern: [`geometry`] (the SAME-padding geometry shared by both kinds),
//! [`dense`] (ordinary convolutions: im2col and matrix products) and [`depthwise`] (direct loops
//! over channels).

pub mod dense;
pub mod depthwise;
pub mod geometry;

pub use dense::{col2im_add, im2col, Conv};
pub use depthwise::DwConv;
pub use geometry::Geom;

/// Inputs and finite-difference helpers shared by the tests of [`dense`] and [`depthwise`].
#[cfg(test)]
mod test_support {
    /// Deterministic pseudo-random numbers in [-1, 1] (no RNG stream needed for test inputs).
    pub(super) fn fill(n: usize, seed: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i as f64 + 1.0) * 0.6180339887 * seed + seed).sin())
            .collect()
    }

    /// (in_h, in_w, c_in, c_out, k, stride): odd and even sizes and kernels, both strides.
    pub(super) const CASES: &[(usize, usize, usize, usize, usize, usize)] = &[
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

    /// Largest |analytic - finite difference| relative to the largest analytic entry, for
    /// L(w, x) = Σ r ⊙ layer(w, x) (L is linear in each argument, so central differences are
    /// exact up to rounding: this checks the backward formulas, not the step size).
    pub(super) fn rel_err(analytic: &[f64], numeric: &[f64]) -> f64 {
        let scale = analytic.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!(scale > 0.0);
        analytic
            .iter()
            .zip(numeric)
            .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()))
            / scale
    }

    pub(super) fn central<F: FnMut(&[f64]) -> f64>(v: &[f64], mut f: F) -> Vec<f64> {
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
}
