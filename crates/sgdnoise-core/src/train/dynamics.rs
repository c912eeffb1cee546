//! The dynamics other than plain SGD (SPEC §11, the authors' edm/dynamics.py): steps that look
//! at every training point.
//!
//! - `sgd_only_unfit`: the margins of all P points are computed (one `predict` pass), and the B
//!   points of the step are drawn uniformly among the unfitted ones; when fewer than B remain,
//!   all of them are taken and topped up with fitted points drawn uniformly (as edm's stable
//!   argsort of a shuffled "unfitted" mask does). The step itself is the SGD step.
//! - `gd_sde`: the full gradient plus Gaussian noise, over the n points of the sum S (all P, or
//!   for `gd_sde_only_unfit` the unfitted ones). With l'_i the loss gradient of point i and
//!   xi_i ~ N(0, 1) drawn per point and step from the `Noise` stream, the step is
//!   w <- w - lr sum_{i in S} c_i grad f(w, x_i) with
//!   * `sde_noise = edm` (the authors' formula): c_i = l'_i / n + sigma xi_i / n,
//!     sigma = sqrt(sum_S l'_j² (1/B - 1/n)): every point's output gradient, fitted or not,
//!     carries noise of the same size, the rms of l';
//!   * `sde_noise = exact`: c_i = l'_i / n + k (xi_i - mean xi) l'_i, k² = (1/B - 1/n)/(n - 1):
//!     the noise sum_i k (xi_i - mean xi) l'_i grad f_i has covariance
//!     (1/B - 1/n) 1/(n-1) sum_i (v_i - v̄)(v_i - v̄)^T with v_i = l'_i grad f_i, exactly the
//!     covariance of the mean of B of the v_i drawn without replacement (the sampler's draws).
//!
//!   (edm adds its noise with the opposite sign, w += dt (-grad + sigma grad (1/n) sum f xi);
//!   xi and -xi have the same law.) 1/B - 1/n is taken as 0 when n < B (only_unfit near the end;
//!   edm would take the square root of a negative number there).
//!
//! Every step knows all predictions, so the stop is exact at once: a step that finds no active
//! point (`objective::is_active`) does not happen, and the run ends at zero loss with the last
//! step that moved the weights.
//!
//! The full gradient goes through the model's own kernels: `forward` and `backward` in chunks
//! of the batch size B the model was built for (`Target::Gradient`, summed), or one
//! `Target::Update` when the sum fits in one chunk, which makes gd_sde with B = P bitwise
//! gradient descent.

use crate::data::Split;
use crate::model::{Model, Target};
use crate::numeric::real::Real;
use crate::numeric::rng::{self, Stream, StreamRng};
use crate::objective;
use crate::settings::{Dynamics, Loss, RunSpec, SdeNoise};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// What one step of a full-pass dynamics did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// No point is active (hinge losses): the step was not taken, the run is at zero loss.
    Stationary,
    /// A prediction is not finite: the step was not taken.
    Diverged,
    /// The training alpha * loss is below the convention's threshold (`objective::stop_below`):
    /// the step was not taken.
    LossBelow,
    /// The step was taken; `updated` when some coefficient was non-zero.
    Taken { updated: bool },
}

/// The state and buffers of a full-pass dynamics.
pub(super) struct FullPass<R: Real> {
    dynamics: Dynamics,
    noise: SdeNoise,
    kind: Loss,
    alpha: R,
    lr: R,
    /// The convention's factor on the loss gradient (`objective::convention_scale`).
    scale: R,
    stop_below: Option<f64>,
    alpha_f64: f64,
    /// B: the batch size of the noise formula, and the chunk size the model was built for.
    b: usize,
    dim: usize,
    /// Draws of the batches (sgd_only_unfit: the batch stream) or of the noise (gd_sde).
    rng: StreamRng,
    pred: Vec<R>,
    /// Indices of the points a step uses: the unfitted, or the sum S.
    chosen: Vec<u32>,
    fitted: Vec<u32>,
    /// Per point of S: l'_i (f64) and the final coefficient.
    dl: Vec<f64>,
    xi: Vec<f64>,
    coeff_all: Vec<R>,
    xb: Vec<R>,
    out: Vec<R>,
    coeff: Vec<R>,
    grad: Vec<R>,
    part: Vec<R>,
}

impl<R: Real> FullPass<R> {
    /// The dynamics of `spec`, or `None` for plain SGD (the loop's own step).
    pub(super) fn new(spec: &RunSpec, p: usize, dim: usize, n_params: usize) -> Option<Self> {
        if !spec.dynamics.sees_all_points() {
            return None;
        }
        let b = spec.batch.min(p);
        let sde = spec.dynamics.is_sde();
        let stream = if sde { Stream::Noise } else { Stream::Batch };
        Some(FullPass {
            dynamics: spec.dynamics,
            noise: spec.sde_noise,
            kind: spec.loss,
            alpha: R::from_f64(spec.alpha),
            lr: R::from_f64(spec.lr),
            scale: R::from_f64(objective::convention_scale(spec.loss, spec.loss_convention)),
            stop_below: objective::stop_below(spec.loss, spec.loss_convention),
            alpha_f64: spec.alpha,
            b,
            dim,
            rng: rng::stream(spec.seeds.batch, stream),
            pred: vec![R::ZERO; p],
            chosen: Vec::with_capacity(p),
            fitted: Vec::with_capacity(if sde { 0 } else { p }),
            dl: Vec::with_capacity(if sde { p } else { 0 }),
            xi: Vec::with_capacity(if sde { p } else { 0 }),
            coeff_all: Vec::with_capacity(if sde { p } else { 0 }),
            xb: vec![R::ZERO; b * dim],
            out: vec![R::ZERO; b],
            coeff: vec![R::ZERO; b],
            grad: vec![R::ZERO; if sde && b < p { n_params } else { 0 }],
            part: vec![R::ZERO; if sde && b < p { n_params } else { 0 }],
        })
    }

    /// One step on `data` (whose initial outputs are `f0`).
    pub(super) fn step(&mut self, model: &mut dyn Model<R>, data: &Split<R>, f0: &[R]) -> Step {
        let train = &data.train;
        let p = train.len();
        model.predict(&train.x, p, &mut self.pred);
        let mut active = 0usize;
        let mut total = 0.0f64;
        self.chosen.clear();
        self.fitted.clear();
        for (i, &f0_i) in f0.iter().enumerate().take(p) {
            let pred = self.pred[i] - f0_i;
            if !pred.is_finite() {
                return Step::Diverged;
            }
            self.pred[i] = pred;
            let y = train.y[i];
            active += objective::is_active(self.kind, self.alpha, pred, y) as usize;
            if self.stop_below.is_some() {
                total += objective::value(self.kind, self.alpha_f64, pred.to_f64(), y.to_f64());
            }
            let pick = match self.dynamics {
                Dynamics::GdSde => true,
                _ => !objective::is_fitted(self.alpha, y, pred),
            };
            if pick {
                self.chosen.push(i as u32);
            } else if self.dynamics == Dynamics::SgdOnlyUnfit {
                self.fitted.push(i as u32);
            }
        }
        if active == 0 && objective::is_hinge(self.kind) {
            return Step::Stationary;
        }
        if let Some(threshold) = self.stop_below {
            if self.alpha_f64 * self.scale.to_f64() * total / (p as f64) < threshold {
                return Step::LossBelow;
            }
        }
        if self.dynamics.is_sde() {
            self.sde_step(model, data)
        } else {
            self.only_unfit_step(model, data)
        }
    }

    /// sgd_only_unfit: B points among the unfitted (topped up with fitted ones), one SGD step.
    fn only_unfit_step(&mut self, model: &mut dyn Model<R>, data: &Split<R>) -> Step {
        let b = self.b;
        let train = &data.train;
        // A uniform B-subset of the unfitted points, or all of them and a uniform subset of
        // the fitted ones: the first steps of a Fisher-Yates shuffle.
        let take = |list: &mut Vec<u32>, k: usize, rng: &mut StreamRng| {
            let n = list.len();
            for i in 0..k.min(n) {
                let j = rng.random_range(i..n);
                list.swap(i, j);
            }
        };
        let unfit = self.chosen.len().min(b);
        take(&mut self.chosen, b, &mut self.rng);
        take(&mut self.fitted, b - unfit, &mut self.rng);
        let inv_b = R::ONE / R::from_usize(b);
        let c_scale = inv_b * self.scale;
        let mut any = false;
        for slot in 0..b {
            let i = if slot < unfit {
                self.chosen[slot]
            } else {
                self.fitted[slot - unfit]
            } as usize;
            let (dst, src) = (
                &mut self.xb[slot * self.dim..(slot + 1) * self.dim],
                train.row(i),
            );
            dst.copy_from_slice(src);
            let c =
                objective::derivative(self.kind, self.alpha, self.pred[i], train.y[i]) * c_scale;
            self.coeff[slot] = c;
            any |= c != R::ZERO;
        }
        if any {
            // The outputs of this forward are bitwise the predictions above (`Model::predict`).
            model.forward(&self.xb, b, &mut self.out);
            model.backward(&self.xb, &self.coeff, Target::Update { lr: self.lr });
        }
        Step::Taken { updated: any }
    }

    /// gd_sde and gd_sde_only_unfit: the full gradient over S plus the noise of `sde_noise`.
    fn sde_step(&mut self, model: &mut dyn Model<R>, data: &Split<R>) -> Step {
        let train = &data.train;
        let n = self.chosen.len();
        if n == 0 {
            // Only with only_unfit and a non-hinge loss: nothing to sum over.
            return Step::Taken { updated: false };
        }
        self.dl.clear();
        self.xi.clear();
        let mut sum_dl2 = 0.0;
        for &i in &self.chosen {
            let i = i as usize;
            let d = objective::derivative(self.kind, self.alpha, self.pred[i], train.y[i]);
            // The coefficient l'_i / n is formed in R as the SGD step forms l'_i / B, so that
            // with B = n and no noise the step is bitwise gradient descent.
            let d = (d * self.scale).to_f64();
            sum_dl2 += d * d;
            self.dl.push(d);
            self.xi.push(StandardNormal.sample(&mut self.rng));
        }
        let nf = n as f64;
        let spread = (1.0 / self.b as f64 - 1.0 / nf).max(0.0);
        let inv_n = R::ONE / R::from_usize(n);
        self.coeff_all.clear();
        let mut any = false;
        match self.noise {
            SdeNoise::Edm => {
                let sigma = (sum_dl2 * spread).sqrt();
                for (k, &i) in self.chosen.iter().enumerate() {
                    let i = i as usize;
                    let mean =
                        objective::derivative(self.kind, self.alpha, self.pred[i], train.y[i])
                            * self.scale
                            * inv_n;
                    let c = mean + R::from_f64(sigma * self.xi[k] / nf);
                    any |= c != R::ZERO;
                    self.coeff_all.push(c);
                }
            }
            SdeNoise::Exact => {
                let k_noise = if n > 1 {
                    (spread / (nf - 1.0)).sqrt()
                } else {
                    0.0
                };
                let xi_mean = self.xi.iter().sum::<f64>() / nf;
                for (k, &i) in self.chosen.iter().enumerate() {
                    let i = i as usize;
                    let mean =
                        objective::derivative(self.kind, self.alpha, self.pred[i], train.y[i])
                            * self.scale
                            * inv_n;
                    let c = mean + R::from_f64(k_noise * (self.xi[k] - xi_mean) * self.dl[k]);
                    any |= c != R::ZERO;
                    self.coeff_all.push(c);
                }
            }
        }
        if !self.coeff_all.iter().all(|c| c.is_finite()) {
            return Step::Diverged;
        }
        if !any {
            return Step::Taken { updated: false };
        }
        let contiguous = n == train.len();
        if n <= self.b {
            // One chunk: one forward and an update in place (bitwise GD when B = P, no noise).
            let x: &[R] = if contiguous {
                &train.x
            } else {
                self.gather(data, 0, n);
                &self.xb[..n * self.dim]
            };
            model.forward(x, n, &mut self.out);
            model.backward(x, &self.coeff_all, Target::Update { lr: self.lr });
            return Step::Taken { updated: true };
        }
        self.grad.iter_mut().for_each(|g| *g = R::ZERO);
        let mut start = 0;
        while start < n {
            let m = self.b.min(n - start);
            if self.coeff_all[start..start + m]
                .iter()
                .any(|&c| c != R::ZERO)
            {
                if !contiguous {
                    self.gather(data, start, m);
                }
                let x: &[R] = if contiguous {
                    &train.x[start * self.dim..(start + m) * self.dim]
                } else {
                    &self.xb[..m * self.dim]
                };
                let cs = &self.coeff_all[start..start + m];
                model.forward(x, m, &mut self.out);
                model.backward(x, cs, Target::Gradient(&mut self.part));
                for (g, &q) in self.grad.iter_mut().zip(&self.part) {
                    *g += q;
                }
            }
            start += m;
        }
        let lr = self.lr;
        for (w, &g) in model.params_mut().iter_mut().zip(&self.grad) {
            *w -= lr * g;
        }
        Step::Taken { updated: true }
    }

    /// Copies the rows of points `chosen[start..start + m]` into the chunk buffer.
    fn gather(&mut self, data: &Split<R>, start: usize, m: usize) {
        for slot in 0..m {
            let i = self.chosen[start + slot] as usize;
            self.xb[slot * self.dim..(slot + 1) * self.dim].copy_from_slice(data.train.row(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Layer;
    use crate::settings::RunConfig;

    fn spec(dynamics: Dynamics, noise: Option<SdeNoise>, loss: Loss) -> RunSpec {
        RunConfig {
            dim: Some(3),
            ptr: Some(10),
            pte: Some(4),
            batch: Some(2),
            alpha: Some(1.0),
            lr: Some(0.1),
            loss: Some(loss),
            dynamics: Some(dynamics),
            sde_noise: noise,
            dtype: Some(crate::settings::Dtype::F64),
            seed_init: Some(3),
            ..Default::default()
        }
        .resolve()
        .unwrap()
    }

    /// The model, its data, and f0 = 0 so that pred = f(w0, x): margins spread on both sides
    /// of 1, so some points are fitted and the others have different l'.
    fn setup(spec: &RunSpec) -> (Box<dyn Model<f64>>, Split<f64>, Vec<f64>) {
        let data = crate::data::load::<f64>(spec).unwrap();
        let model = crate::model::build::<f64>(spec);
        let f0 = vec![0.0; data.train.len()];
        (model, data, f0)
    }

    /// Issue 11: the gd_sde noise has the covariance its formula says, for both formulas and
    /// with and without only_unfit. 4000 steps from the same weights (f64 perceptron, P = 10,
    /// B = 2, d = 3); the sample mean and covariance of the weight change are compared with
    /// the formulas entry by entry, within 5 standard errors of the sample (the standard error
    /// of a covariance entry of N Gaussian samples is sqrt((S_aa S_bb + S_ab²)/N)). The two
    /// formulas differ by far more than that on these points, so each check can tell them apart.
    #[test]
    #[allow(clippy::needless_range_loop)] // matrix entries by index read as the formulas
    fn gd_sde_noise_covariance_matches_its_formula_on_the_perceptron() {
        let reps = 4000;
        for dynamics in [Dynamics::GdSde, Dynamics::GdSdeOnlyUnfit] {
            let mut expected_by_noise = Vec::new();
            for noise in [SdeNoise::Edm, SdeNoise::Exact] {
                let spec = spec(dynamics, Some(noise), Loss::QuadraticHinge);
                let (mut model, data, f0) = setup(&spec);
                let (p, d) = (data.train.len(), data.train.dim);
                let w0 = model.params().to_vec();
                let mut pred = vec![0.0; p];
                model.predict(&data.train.x, p, &mut pred);
                let s: Vec<usize> = (0..p)
                    .filter(|&i| {
                        dynamics == Dynamics::GdSde
                            || !objective::is_fitted(1.0, data.train.y[i], pred[i])
                    })
                    .collect();
                let fitted = (0..p)
                    .filter(|&i| objective::is_fitted(1.0, data.train.y[i], pred[i]))
                    .count();
                assert!(
                    fitted >= 2 && s.len() >= 4,
                    "a useful state: {fitted} fitted"
                );
                // Per point of S: the output gradient x / sqrt(d) and l'.
                let g = |i: usize| -> Vec<f64> {
                    data.train
                        .row(i)
                        .iter()
                        .map(|v| v / (d as f64).sqrt())
                        .collect()
                };
                let dl = |i: usize| {
                    objective::derivative(Loss::QuadraticHinge, 1.0, pred[i], data.train.y[i])
                };
                let (n, b, lr) = (s.len() as f64, 2.0, 0.1);
                let spread = 1.0 / b - 1.0 / n;
                let mut mean = vec![0.0; d];
                for &i in &s {
                    for a in 0..d {
                        mean[a] -= lr * dl(i) * g(i)[a] / n;
                    }
                }
                let mut cov = vec![vec![0.0; d]; d];
                match noise {
                    SdeNoise::Edm => {
                        let sigma2 = spread * s.iter().map(|&i| dl(i) * dl(i)).sum::<f64>();
                        for &i in &s {
                            for a in 0..d {
                                for c in 0..d {
                                    cov[a][c] += lr * lr * sigma2 / (n * n) * g(i)[a] * g(i)[c];
                                }
                            }
                        }
                    }
                    SdeNoise::Exact => {
                        let v = |i: usize| -> Vec<f64> { g(i).iter().map(|x| dl(i) * x).collect() };
                        let mut vbar = vec![0.0; d];
                        for &i in &s {
                            for a in 0..d {
                                vbar[a] += v(i)[a] / n;
                            }
                        }
                        for &i in &s {
                            for a in 0..d {
                                for c in 0..d {
                                    cov[a][c] += lr * lr * spread / (n - 1.0)
                                        * (v(i)[a] - vbar[a])
                                        * (v(i)[c] - vbar[c]);
                                }
                            }
                        }
                    }
                }
                let mut full = FullPass::<f64>::new(&spec, p, d, d).unwrap();
                let mut samples = Vec::with_capacity(reps);
                for _ in 0..reps {
                    model.params_mut().copy_from_slice(&w0);
                    assert_eq!(
                        full.step(model.as_mut(), &data, &f0),
                        Step::Taken { updated: true }
                    );
                    let dw: Vec<f64> = model.params().iter().zip(&w0).map(|(a, b)| a - b).collect();
                    samples.push(dw);
                }
                let nr = reps as f64;
                let mut m = vec![0.0; d];
                for dw in &samples {
                    for a in 0..d {
                        m[a] += dw[a] / nr;
                    }
                }
                for a in 0..d {
                    let se = (cov[a][a] / nr).sqrt();
                    assert!(
                        (m[a] - mean[a]).abs() < 5.0 * se,
                        "{dynamics} {noise} mean {a}: {} vs {}",
                        m[a],
                        mean[a]
                    );
                    for c in 0..d {
                        let sample = samples
                            .iter()
                            .map(|dw| (dw[a] - m[a]) * (dw[c] - m[c]))
                            .sum::<f64>()
                            / (nr - 1.0);
                        let se = ((cov[a][a] * cov[c][c] + cov[a][c].powi(2)) / nr).sqrt();
                        assert!(
                            (sample - cov[a][c]).abs() < 5.0 * se,
                            "{dynamics} {noise} cov {a}{c}: {sample} vs {}",
                            cov[a][c]
                        );
                    }
                }
                expected_by_noise.push(cov);
            }
            // The two formulas are far apart here (so the checks above discriminate).
            let (edm, exact) = (&expected_by_noise[0], &expected_by_noise[1]);
            let apart = (0..3).any(|a| {
                let se = ((2.0 * edm[a][a] * edm[a][a]) / reps as f64).sqrt();
                (edm[a][a] - exact[a][a]).abs() > 10.0 * se
            });
            assert!(apart, "{dynamics}: {edm:?} vs {exact:?}");
        }
    }

    /// Records the rows of each backward pass, to see which points a step used.
    struct Spy {
        inner: Box<dyn Model<f64>>,
        rows: Vec<Vec<f64>>,
    }

    impl Model<f64> for Spy {
        fn input_dim(&self) -> usize {
            self.inner.input_dim()
        }
        fn params(&self) -> &[f64] {
            self.inner.params()
        }
        fn params_mut(&mut self) -> &mut [f64] {
            self.inner.params_mut()
        }
        fn layers(&self) -> &[Layer] {
            self.inner.layers()
        }
        fn predict(&mut self, x: &[f64], n: usize, out: &mut [f64]) {
            self.inner.predict(x, n, out)
        }
        fn forward(&mut self, x: &[f64], n: usize, out: &mut [f64]) {
            self.inner.forward(x, n, out)
        }
        fn backward(&mut self, x: &[f64], c: &[f64], target: Target<'_, f64>) {
            let d = self.inner.input_dim();
            self.rows = x.chunks_exact(d).map(<[f64]>::to_vec).collect();
            self.inner.backward(x, c, target)
        }
    }

    /// Issue 11: sgd_only_unfit draws its B points among the unfitted ones while at least B
    /// remain (uniformly: each of the u unfitted points with frequency B/u, within 5 binomial
    /// sd over 3000 draws from the same state), and takes all of them, topped up with distinct
    /// fitted points, when fewer remain. Then it steps until no point is unfitted.
    #[test]
    fn sgd_only_unfit_samples_only_unfitted_points_while_at_least_b_remain() {
        let spec = RunConfig {
            dim: Some(3),
            ptr: Some(12),
            pte: Some(4),
            batch: Some(3),
            alpha: Some(1.0),
            lr: Some(0.05),
            dynamics: Some(Dynamics::SgdOnlyUnfit),
            dtype: Some(crate::settings::Dtype::F64),
            seed_init: Some(3),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let (inner, data, f0) = setup(&spec);
        let (p, d) = (data.train.len(), data.train.dim);
        let mut model = Spy {
            inner,
            rows: vec![],
        };
        let index_of = |row: &[f64]| (0..p).find(|&i| data.train.row(i) == row).unwrap();
        let unfitted = |model: &mut Spy| -> Vec<usize> {
            let mut pred = vec![0.0; p];
            model.predict(&data.train.x, p, &mut pred);
            (0..p)
                .filter(|&i| !objective::is_fitted(1.0, data.train.y[i], pred[i]))
                .collect()
        };
        let mut full = FullPass::<f64>::new(&spec, p, d, d).unwrap();
        // Uniform among the unfitted, from one state.
        let u0 = unfitted(&mut model);
        assert!(u0.len() > 3 && u0.len() < p, "{u0:?}");
        let w0 = model.params().to_vec();
        let draws = 3000;
        let mut counts = vec![0usize; p];
        for _ in 0..draws {
            model.params_mut().copy_from_slice(&w0);
            assert_eq!(
                full.step(&mut model, &data, &f0),
                Step::Taken { updated: true }
            );
            let batch: Vec<usize> = model.rows.iter().map(|r| index_of(r)).collect();
            assert_eq!(batch.len(), 3);
            for i in batch {
                assert!(
                    u0.contains(&i),
                    "fitted point {i} drawn while {} unfitted",
                    u0.len()
                );
                counts[i] += 1;
            }
        }
        let q = 3.0 / u0.len() as f64;
        let sd = (draws as f64 * q * (1.0 - q)).sqrt();
        for &i in &u0 {
            assert!(
                (counts[i] as f64 - draws as f64 * q).abs() < 5.0 * sd,
                "{counts:?}"
            );
        }
        // Train on: every step uses only unfitted points, or all of them when fewer than B.
        let mut saw_top_up = false;
        for _ in 0..100_000 {
            let u = unfitted(&mut model);
            match full.step(&mut model, &data, &f0) {
                Step::Stationary => {
                    assert!(u.is_empty());
                    assert!(saw_top_up);
                    return;
                }
                Step::Taken { updated } => {
                    assert!(updated);
                    let mut batch: Vec<usize> = model.rows.iter().map(|r| index_of(r)).collect();
                    if u.len() >= 3 {
                        assert!(batch.iter().all(|i| u.contains(i)), "{batch:?} vs {u:?}");
                    } else {
                        saw_top_up = true;
                        assert!(u.iter().all(|i| batch.contains(i)), "{batch:?} vs {u:?}");
                    }
                    batch.sort();
                    batch.dedup();
                    assert_eq!(batch.len(), 3, "distinct points");
                }
                other => panic!("{other:?}"),
            }
        }
        panic!("no zero loss");
    }
}
