//! The neural tangent kernel on a fixed subset of training points (SPEC §11, `ntk_points`).
//!
//! The subset is the first n points of the training set (the authors' choice, `xtr[:n]` in
//! edm/train.py): the training set is already a seeded shuffle of the pool (SPEC §6), so these
//! are n random training points, the same at every record of a run and for every T of a sweep
//! that shares the training-set seed. J is the n x N matrix of per-sample output gradients
//! ∇_w f(w, x_i) (of the network output f, not of pred = f - f0: the two have the same
//! gradient), computed by [`Model::output_gradients`]; K = J Jᵀ.
//!
//! K is accumulated in f64 whatever the run's dtype: J is stored in the run's dtype (its memory,
//! n x N numbers, is in `memory::estimate`), and blocks of [`COLUMN_BLOCK`] of its columns are
//! widened to f64 and multiplied by their transpose through [`Gemm`], so the Gram sums over
//! N ~ 10^5 parameters do not round in f32 (the change of K in the lazy regime is small).
//!
//! At each record: the relative change ‖K − K0‖_F / ‖K0‖_F, edm's kernel_change =
//! mean((K − K0)²) and kernel_norm = mean(K²) (means over the n² entries), yᵀ K y, and
//! (y/n)ᵀ K⁻¹ (y/n), solved by a Cholesky factorisation in f64. K is positive semi-definite;
//! when it is singular (fewer parameters than points, as for a perceptron with d < n, or
//! duplicated points) the last quantity does not exist: a Cholesky pivot at or below
//! [`SINGULAR_PIVOT`] times the largest diagonal entry of K ends the factorisation and it is
//! recorded as NaN (`null` in the JSON), where edm's LU solve would return a meaningless number.

use crate::model::Model;
use crate::numeric::gemm::{Cpu, Gemm, MatMut, MatRef};
use crate::numeric::real::Real;
use crate::observe::NtkStats;
use std::cell::{Cell, RefCell};
use std::time::Instant;

/// Columns of J widened to f64 at a time for the Gram product (n x 4096 x 8 bytes of scratch).
pub const COLUMN_BLOCK: usize = 4096;

/// Rows of K computed per product: K's blocks of ROW_BLOCK x ROW_BLOCK at and below the
/// diagonal are multiplied, the others mirrored (K = J Jᵀ is symmetric).
pub const ROW_BLOCK: usize = 128;

/// A Cholesky pivot at or below this fraction of K's largest diagonal entry means K is singular
/// (to working precision): (y/n)ᵀ K⁻¹ (y/n) is then NaN.
pub const SINGULAR_PIVOT: f64 = 1e-12;

/// The NTK of one run: its subset, K0, and the scratch of J.
pub struct Ntk<R: Real> {
    n: usize,
    x: Vec<R>,
    y: Vec<f64>,
    k0: Vec<f64>,
    gemm: Cpu,
    jac: RefCell<Vec<R>>,
    seconds: Cell<f64>,
    measured: Cell<u64>,
}

impl<R: Real> Ntk<R> {
    /// The kernel of `model` at its current weights (the initialisation) on the first `n`
    /// points of `x` (row-major, `model.input_dim()` numbers each) with labels `y`.
    pub fn new(model: &mut dyn Model<R>, x: &[R], y: &[R], n: usize, threads: usize) -> Self {
        let d = model.input_dim();
        let mut ntk = Ntk {
            n,
            x: x[..n * d].to_vec(),
            y: y[..n].iter().map(|v| v.to_f64()).collect(),
            k0: Vec::new(),
            gemm: Cpu {
                threads: threads.max(1),
            },
            jac: RefCell::new(Vec::new()),
            seconds: Cell::new(0.0),
            measured: Cell::new(0),
        };
        ntk.k0 = ntk.kernel(model);
        ntk
    }

    /// Points of the subset.
    pub fn points(&self) -> usize {
        self.n
    }

    /// K at the model's current weights (n x n, row-major, f64).
    pub fn kernel(&self, model: &mut dyn Model<R>) -> Vec<f64> {
        let t0 = Instant::now();
        let params = model.params().len();
        let mut jac = self.jac.borrow_mut();
        jac.resize(self.n * params, R::ZERO);
        model.output_gradients(&self.x, self.n, &mut jac);
        let k = gram(&jac, self.n, params, &self.gemm);
        self.seconds
            .set(self.seconds.get() + t0.elapsed().as_secs_f64());
        self.measured.set(self.measured.get() + 1);
        k
    }

    /// The statistics of K at the model's current weights against K0.
    pub fn measure(&self, model: &mut dyn Model<R>) -> NtkStats {
        let k = self.kernel(model);
        stats(&k, &self.k0, &self.y)
    }

    /// Seconds spent computing kernels so far (K0 included), and how many were computed.
    pub fn cost(&self) -> (f64, u64) {
        (self.seconds.get(), self.measured.get())
    }
}

/// K = J Jᵀ in f64 for J of `n` rows and `params` columns in the run's dtype (module doc).
pub fn gram<R: Real>(jac: &[R], n: usize, params: usize, gemm: &Cpu) -> Vec<f64> {
    assert_eq!(jac.len(), n * params, "gram: J has n x params numbers");
    let mut k = vec![0.0f64; n * n];
    let block = COLUMN_BLOCK.min(params.max(1));
    let mut wide = vec![0.0f64; n * block];
    let mut c0 = 0;
    let mut first = true;
    while c0 < params {
        let c = block.min(params - c0);
        for i in 0..n {
            let row = &jac[i * params + c0..i * params + c0 + c];
            for (w, &v) in wide[i * c..(i + 1) * c].iter_mut().zip(row) {
                *w = v.to_f64();
            }
        }
        // K is symmetric: only the blocks on and below the diagonal are multiplied (about half
        // the flops for large n), the upper triangle is mirrored at the end.
        let beta = if first { 0.0 } else { 1.0 };
        for i0 in (0..n).step_by(ROW_BLOCK) {
            let ri = ROW_BLOCK.min(n - i0);
            let a = MatRef::rows(&wide[i0 * c..(i0 + ri) * c], ri, c);
            for j0 in (0..=i0).step_by(ROW_BLOCK) {
                let rj = ROW_BLOCK.min(n - j0);
                let b = MatRef::rows(&wide[j0 * c..(j0 + rj) * c], rj, c);
                let dst = MatMut {
                    data: &mut k[i0 * n + j0..],
                    rows: ri,
                    cols: rj,
                    row_stride: n as isize,
                    col_stride: 1,
                };
                gemm.gemm(1.0, a, b.t(), beta, dst);
            }
        }
        first = false;
        c0 += c;
    }
    // Mirror the blocks above the diagonal from those below it.
    for i0 in (0..n).step_by(ROW_BLOCK) {
        for i in i0..(i0 + ROW_BLOCK).min(n) {
            for j in (i0 + ROW_BLOCK).min(n)..n {
                k[i * n + j] = k[j * n + i];
            }
        }
    }
    k
}

/// vᵀ K⁻¹ v by a Cholesky factorisation of the symmetric n x n matrix `k`; `None` when K is
/// not positive definite to working precision (a pivot at or below [`SINGULAR_PIVOT`] times the
/// largest diagonal entry, or not finite).
pub fn inverse_quadratic_form(k: &[f64], n: usize, v: &[f64]) -> Option<f64> {
    let max_diag = (0..n).map(|i| k[i * n + i]).fold(0.0f64, f64::max);
    if !(max_diag.is_finite() && max_diag > 0.0) {
        return None;
    }
    let floor = SINGULAR_PIVOT * max_diag;
    // Lower factor L (row-major, lower triangle used), K = L Lᵀ.
    let mut l = vec![0.0f64; n * n];
    for j in 0..n {
        let mut d = k[j * n + j];
        for p in 0..j {
            d -= l[j * n + p] * l[j * n + p];
        }
        if !(d.is_finite() && d > floor) {
            return None;
        }
        let ljj = d.sqrt();
        l[j * n + j] = ljj;
        for i in j + 1..n {
            let mut s = k[i * n + j];
            let (ri, rj) = (&l[i * n..i * n + j], &l[j * n..j * n + j]);
            for (a, b) in ri.iter().zip(rj) {
                s -= a * b;
            }
            l[i * n + j] = s / ljj;
        }
    }
    // vᵀ K⁻¹ v = ‖L⁻¹ v‖²: one forward substitution.
    let mut z = vec![0.0f64; n];
    for i in 0..n {
        let mut s = v[i];
        for p in 0..i {
            s -= l[i * n + p] * z[p];
        }
        z[i] = s / l[i * n + i];
    }
    let q: f64 = z.iter().map(|x| x * x).sum();
    q.is_finite().then_some(q)
}

/// The statistics of `k` against `k0` with labels `y` (module doc).
pub fn stats(k: &[f64], k0: &[f64], y: &[f64]) -> NtkStats {
    let n = y.len();
    let m = (n * n) as f64;
    let (mut diff2, mut norm2, mut norm02) = (0.0f64, 0.0f64, 0.0f64);
    for (&a, &b) in k.iter().zip(k0) {
        diff2 += (a - b) * (a - b);
        norm2 += a * a;
        norm02 += b * b;
    }
    let mut yky = 0.0f64;
    for i in 0..n {
        let row: f64 = (0..n).map(|j| k[i * n + j] * y[j]).sum();
        yky += y[i] * row;
    }
    let v: Vec<f64> = y.iter().map(|v| v / n as f64).collect();
    NtkStats {
        rel_change: (diff2 / norm02).sqrt(),
        kernel_change: diff2 / m,
        kernel_norm: norm2 / m,
        yky,
        y_kinv_y: inverse_quadratic_form(k, n, &v).unwrap_or(f64::NAN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_in_blocks_matches_the_naive_product_in_f32_and_f64() {
        // More columns than one block, and a last block that is not full.
        let (n, p) = (5, COLUMN_BLOCK + 37);
        gram_matches(n, p);
        // Several row blocks, the last one short: the mirrored upper triangle is exact.
        gram_matches(2 * ROW_BLOCK + 3, 50);
    }

    fn gram_matches(n: usize, p: usize) {
        let j64: Vec<f64> = (0..n * p).map(|i| ((i as f64) * 0.013).sin()).collect();
        let j32: Vec<f32> = j64.iter().map(|&v| v as f32).collect();
        let k64 = gram(&j64, n, p, &Cpu::default());
        let k32 = gram(&j32, n, p, &Cpu::default());
        for a in 0..n {
            for b in 0..n {
                let want: f64 = (0..p).map(|c| j64[a * p + c] * j64[b * p + c]).sum();
                assert!((k64[a * n + b] - want).abs() < 1e-9 * want.abs().max(1.0));
                assert_eq!(k64[a * n + b], k64[b * n + a]);
                let want32: f64 = (0..p)
                    .map(|c| j32[a * p + c] as f64 * j32[b * p + c] as f64)
                    .sum();
                assert!((k32[a * n + b] - want32).abs() < 1e-9 * want32.abs().max(1.0));
            }
        }
    }

    #[test]
    fn inverse_quadratic_form_solves_and_refuses_a_singular_kernel() {
        // K = [[4, 2], [2, 3]], v = (1, 1): K⁻¹ v = (1/8, 1/4), vᵀ K⁻¹ v = 3/8.
        let k = [4.0, 2.0, 2.0, 3.0];
        let q = inverse_quadratic_form(&k, 2, &[1.0, 1.0]).unwrap();
        assert!((q - 0.375).abs() < 1e-15, "{q}");
        // Rank one: J = (1, 2)ᵀ (one parameter, two points).
        let singular = [1.0, 2.0, 2.0, 4.0];
        assert_eq!(inverse_quadratic_form(&singular, 2, &[1.0, 1.0]), None);
        assert_eq!(inverse_quadratic_form(&[0.0], 1, &[1.0]), None);
        assert_eq!(inverse_quadratic_form(&[f64::NAN], 1, &[1.0]), None);
    }

    #[test]
    fn stats_of_a_kernel_against_its_start() {
        let k0 = [2.0, 0.0, 0.0, 2.0];
        let k = [3.0, 1.0, 1.0, 3.0];
        let s = stats(&k, &k0, &[1.0, -1.0]);
        // K - K0 = all ones: ‖·‖_F = 2, ‖K0‖_F = √8.
        assert!((s.rel_change - 2.0 / 8f64.sqrt()).abs() < 1e-15);
        assert_eq!((s.kernel_change, s.kernel_norm), (1.0, 5.0));
        // yᵀ K y = 3 - 1 - 1 + 3.
        assert_eq!(s.yky, 4.0);
        // v = y/2 = (1/2, -1/2); K v = (1, -1); K⁻¹ v = (1/4, -1/4); vᵀ K⁻¹ v = 1/4.
        assert!((s.y_kinv_y - 0.25).abs() < 1e-15);
        let singular = stats(&[1.0, 1.0, 1.0, 1.0], &k0, &[1.0, 1.0]);
        assert!(singular.y_kinv_y.is_nan());
    }
}
