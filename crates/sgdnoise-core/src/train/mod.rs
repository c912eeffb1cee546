//! The SGD loop (SPEC §2-4): plain SGD at a set learning rate on the alpha-trick loss, until the
//! training loss over all P points is exactly zero, or divergence, or a cap.
//!
//! **Exact stop.** With the hinge losses a step changes the weights if and only if its batch held
//! an unfitted point. The loop remembers the last step that changed the weights; a full pass over
//! the training set that finds every point fitted proves that the loss became zero at exactly that
//! step (the weights have not moved since, and before it a point was unfitted), so `steps` and
//! `t* = lr * steps` are exact whatever the check schedule. Full checks run only after a streak of
//! `ceil(P / B)` steps without any update (and at checkpoints), which keeps their cost a small,
//! measured share of the run (`check_seconds` in the summary).

mod dynamics;
pub mod sampler;
pub mod schedule;

use crate::data::Split;
use crate::model::{Model, Target};
use crate::numeric::real::Real;
use crate::numeric::rng::{self, Stream};
use crate::objective;
use crate::observe::{self, Record, SetStats};
use crate::settings::RunSpec;
use sampler::BatchSampler;
use schedule::CheckpointSchedule;
use serde::{Deserialize, Serialize};
use std::time::Instant;

crate::names! {
    /// Why a run ended.
    pub enum StopReason ("stop_reason") {
        /// Every training point fitted: the training hinge loss is exactly 0.
        ZeroLoss = "zero_loss",
        /// A prediction or the loss became non-finite (a result at large T, not an error).
        Diverged = "diverged",
        /// The step cap `max_steps` was reached.
        MaxSteps = "max_steps",
        /// The wall-clock cap `max_wall` was reached.
        MaxWall = "max_wall",
        /// Points remain unfitted, yet the weights did not move at all between two checkpoints
        /// although steps tried to update them: every gradient vanishes (e.g. all ReLUs dead
        /// after a blow-up at large T), so SGD can never reach zero loss. A large-T outcome like
        /// `Diverged`.
        Frozen = "frozen",
        /// Stopped on request (Ctrl-C or a signal); never published as a finished run.
        Interrupted = "interrupted",
        /// The training alpha * loss fell below the loss convention's threshold (mse under the
        /// edm convention: 1e-9, as the authors stop it); a finished run like `ZeroLoss`.
        LossBelow = "loss_below",
    }
}

impl StopReason {
    /// Diverged or frozen: the large-T outcomes whose observables are not results.
    pub fn is_divergence(self) -> bool {
        matches!(self, StopReason::Diverged | StopReason::Frozen)
    }
    /// Stopped by a cap (or interrupted): the observables are those at the cap, not at the end.
    pub fn is_censored(self) -> bool {
        matches!(
            self,
            StopReason::MaxSteps | StopReason::MaxWall | StopReason::Interrupted
        )
    }
}

/// A live view of a run, for progress displays.
#[derive(Clone, Debug)]
pub struct Progress {
    pub step: u64,
    /// Unfitted training points at the last full evaluation.
    pub unfitted: usize,
    /// Training loss at the last full evaluation.
    pub train_loss: f64,
    pub wall: f64,
}

/// Receives a run's checkpoints and progress.
pub trait Observer {
    /// A checkpoint was recorded.
    fn checkpoint(&mut self, record: &Record) -> std::io::Result<()>;
    /// Called about every 0.1 s of training.
    fn progress(&mut self, _progress: &Progress) {}
    /// Polled with progress: returning true ends the run as `Interrupted`.
    fn should_stop(&self) -> bool {
        false
    }
}

/// An observer that keeps nothing.
pub struct Discard;
impl Observer for Discard {
    fn checkpoint(&mut self, _record: &Record) -> std::io::Result<()> {
        Ok(())
    }
}

/// How a run ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Outcome {
    pub stop_reason: StopReason,
    /// SGD steps at the stop (for zero_loss: the step that fitted the last point).
    pub steps: u64,
    /// lr * steps.
    pub t_star: f64,
    /// Training wall time (without data loading and model set-up).
    pub wall_seconds: f64,
    /// Steps actually simulated (>= steps: the exact stop is found a little later).
    pub steps_simulated: u64,
    /// Full passes over the training set made to detect the stop.
    pub full_checks: u64,
    /// Seconds spent in those passes and in checkpoints.
    pub check_seconds: f64,
    pub checkpoint_seconds: f64,
    /// The record at the stop.
    pub last: Record,
    /// Seconds spent on NTK kernels (K0 and one per record; 0 with `ntk_points` = 0) and how
    /// many kernels were computed.
    #[serde(default)]
    pub ntk_seconds: f64,
    #[serde(default)]
    pub ntk_kernels: u64,
    /// The test-set predictions pred = f - f0 at the stop, in the run's dtype widened to f64
    /// (exactly), for `rundir::RunWriter::finish`.
    #[serde(skip)]
    pub test_pred: Vec<f64>,
}

/// Everything the loop needs that does not change during training.
struct Context<'a, R: Real> {
    spec: &'a RunSpec,
    data: &'a Split<R>,
    f0_train: Vec<R>,
    f0_test: Vec<R>,
    w0: Vec<R>,
    start: Instant,
    /// The loss convention's factor on sgdnoise's loss (`objective::convention_scale`).
    loss_scale: f64,
    /// The NTK on the first `ntk_points` training points, when on.
    ntk: Option<crate::ntk::Ntk<R>>,
}

impl<'a, R: Real> Context<'a, R> {
    /// pred = f - f0 on the whole training set.
    fn train_pred(&self, model: &mut dyn Model<R>, buf: &mut Vec<R>) {
        let n = self.data.train.len();
        buf.resize(n, R::ZERO);
        model.predict(&self.data.train.x, n, buf);
        for (p, &f0) in buf.iter_mut().zip(&self.f0_train) {
            *p -= f0;
        }
    }

    /// The statistics of a set, the loss in the run's convention.
    fn stats(&self, pred: &[R], y: &[R]) -> SetStats {
        let mut s = observe::set_stats(self.spec.loss, self.spec.alpha, pred, y);
        if self.loss_scale != 1.0 {
            s.loss *= self.loss_scale;
            s.alpha_loss *= self.loss_scale;
        }
        s
    }

    /// Training points whose loss gradient is not exactly zero (`objective::is_active`): the
    /// exact stop needs none (for the hinge losses: none unfitted).
    fn active(&self, train_pred: &[R]) -> usize {
        let alpha = R::from_f64(self.spec.alpha);
        train_pred
            .iter()
            .zip(&self.data.train.y)
            .filter(|&(&p, &y)| objective::is_active(self.spec.loss, alpha, p, y))
            .count()
    }

    fn record(
        &self,
        model: &mut dyn Model<R>,
        step: u64,
        train_pred: &[R],
        train: SetStats,
    ) -> Record {
        let test = &self.data.test;
        let test_pred = self.test_pred(model);
        let test_stats = self.stats(&test_pred, &test.y);
        let (layers, rel, rel_mean) =
            observe::weight_stats(model.params(), &self.w0, model.layers());
        let perceptron = match (&self.data.train.teacher, self.spec.arch) {
            (Some(u), crate::settings::Arch::Linear) => {
                let alpha = R::from_f64(self.spec.alpha);
                let x1: Vec<f64> = (0..self.data.train.len())
                    .filter(|&i| !objective::is_fitted(alpha, self.data.train.y[i], train_pred[i]))
                    .map(|i| {
                        let row = self.data.train.row(i);
                        row.iter()
                            .zip(u)
                            .map(|(&a, b)| a.to_f64() * b)
                            .sum::<f64>()
                            .abs()
                    })
                    .collect();
                Some(observe::perceptron_stats(model.params(), &self.w0, u, &x1))
            }
            _ => None,
        };
        Record {
            step,
            t: self.spec.lr * step as f64,
            wall: self.start.elapsed().as_secs_f64(),
            train,
            test: test_stats,
            rel_weight_change: rel,
            rel_weight_change_layer_mean: rel_mean,
            layers,
            perceptron,
            ntk: self.ntk.as_ref().map(|k| k.measure(model)),
        }
    }

    /// pred = f - f0 on the test set.
    fn test_pred(&self, model: &mut dyn Model<R>) -> Vec<R> {
        let test = &self.data.test;
        let mut test_pred = vec![R::ZERO; test.len()];
        model.evaluate(&test.x, test.len(), &mut test_pred);
        for (p, &f0) in test_pred.iter_mut().zip(&self.f0_test) {
            *p -= f0;
        }
        test_pred
    }
}

/// Trains `model` on `data` as `spec` says, handing checkpoints to `observer`.
pub fn train<R: Real>(
    spec: &RunSpec,
    model: &mut dyn Model<R>,
    data: &Split<R>,
    observer: &mut dyn Observer,
) -> std::io::Result<Outcome> {
    let start = Instant::now();
    let (p, b, dim) = (
        data.train.len(),
        spec.batch.min(data.train.len()),
        data.train.dim,
    );
    assert_eq!(
        dim,
        model.input_dim(),
        "data and model disagree on the input size"
    );

    // The alpha-trick subtracts the initial output f(w0, x) from every prediction.
    let mut f0_train = vec![R::ZERO; p];
    model.predict(&data.train.x, p, &mut f0_train);
    // The test set decides nothing: it is evaluated in the model's fastest layout (both times).
    let mut f0_test = vec![R::ZERO; data.test.len()];
    model.evaluate(&data.test.x, data.test.len(), &mut f0_test);
    let n_ntk = spec.ntk_points.min(p);
    let ntk = (n_ntk > 0).then(|| {
        crate::ntk::Ntk::new(
            model,
            &data.train.x,
            &data.train.y,
            n_ntk,
            spec.exec.threads_here(),
        )
    });
    let ctx = Context {
        spec,
        data,
        f0_train,
        f0_test,
        w0: model.params().to_vec(),
        start,
        loss_scale: objective::convention_scale(spec.loss, spec.loss_convention),
        ntk,
    };

    let alpha = R::from_f64(spec.alpha);
    let lr = R::from_f64(spec.lr);
    let inv_b = R::ONE / R::from_usize(b);
    // The loss convention's factor: 1 (so `c_scale` is `inv_b` bitwise) but for edm's
    // quadratic hinge.
    let c_scale = inv_b * R::from_f64(ctx.loss_scale);
    let kind = spec.loss;
    let exact_stop = objective::is_hinge(kind);
    let stop_below = objective::stop_below(kind, spec.loss_convention);
    let mut full_pass = dynamics::FullPass::<R>::new(spec, p, dim, model.params().len());
    let mut rng = rng::stream(spec.seeds.batch, Stream::Batch);
    let mut sampler = BatchSampler::new(p);
    let mut schedule = CheckpointSchedule::new(spec.checkpoints_per_decade, spec.loss_drop_factor);
    let check_after = p.div_ceil(b) as u64;

    // Full-batch gradient descent reads the training set in place: no copy of its inputs.
    let sgd = full_pass.is_none();
    let mut xb = vec![R::ZERO; if sgd && b < p { b * dim } else { 0 }];
    let mut yb = vec![R::ZERO; b];
    let mut f0b = vec![R::ZERO; b];
    let mut out = vec![R::ZERO; b];
    let mut coeff = vec![R::ZERO; b];
    let mut pred_all: Vec<R> = Vec::with_capacity(p);
    const DRAW_AHEAD: usize = 8;
    let mut ahead: Vec<u32> = Vec::with_capacity(DRAW_AHEAD * b);
    if sgd && b < p {
        for _ in 0..DRAW_AHEAD {
            ahead.extend_from_slice(sampler.draw(b, &mut rng));
        }
    }
    let mut ahead_pos = 0;

    let (mut step, mut last_update, mut streak) = (0u64, 0u64, 0u64);
    let (mut full_checks, mut check_seconds, mut checkpoint_seconds) = (0u64, 0.0f64, 0.0f64);
    // The first progress report (and stop request poll) comes at step 1024, then every 0.1 s.
    let mut last_progress = f64::NEG_INFINITY;

    // Record at start.
    ctx.train_pred(model, &mut pred_all);
    let mut last_train = ctx.stats(&pred_all, &data.train.y);
    let first = ctx.record(model, 0, &pred_all, last_train.clone());
    observer.checkpoint(&first)?;
    schedule.recorded(0, first.train.loss);

    // Weights at the last log-spaced checkpoint, to detect a frozen run.
    let mut params_at_record: Vec<R> = model.params().to_vec();
    let mut params_at_record_step = 0u64;

    let stop = loop {
        if spec.max_steps.is_some_and(|m| step >= m) {
            break StopReason::MaxSteps;
        }
        // One step of a dynamics that looks at every point (`dynamics`), or of plain SGD.
        if let Some(full) = full_pass.as_mut() {
            match full.step(model, data, &ctx.f0_train) {
                dynamics::Step::Stationary => break StopReason::ZeroLoss,
                dynamics::Step::LossBelow => break StopReason::LossBelow,
                dynamics::Step::Diverged => {
                    step += 1;
                    break StopReason::Diverged;
                }
                dynamics::Step::Taken { updated } => {
                    step += 1;
                    if updated {
                        last_update = step;
                    }
                }
            }
        } else {
            // Full-batch gradient descent uses the training set in place; SGD gathers its batch.
            let (xs, ys, f0s): (&[R], &[R], &[R]) = if b == p {
                (&data.train.x, &data.train.y, &ctx.f0_train)
            } else {
                // Batches are drawn DRAW_AHEAD steps ahead (the same sequence of draws) and their rows
                // prefetched: random rows of a large training set miss the cache.
                let batch = &mut ahead[ahead_pos * b..(ahead_pos + 1) * b];
                for (slot, &i) in batch.iter().enumerate() {
                    let i = i as usize;
                    copy_row(&mut xb[slot * dim..(slot + 1) * dim], data.train.row(i));
                    yb[slot] = data.train.y[i];
                    f0b[slot] = ctx.f0_train[i];
                }
                batch.copy_from_slice(sampler.draw(b, &mut rng));
                for &i in batch.iter() {
                    prefetch_row(data.train.row(i as usize));
                }
                ahead_pos = (ahead_pos + 1) % DRAW_AHEAD;
                (&xb, &yb, &f0b)
            };
            model.forward(xs, b, &mut out);
            let mut any = false;
            let mut finite = true;
            for i in 0..b {
                let pred = out[i] - f0s[i];
                finite &= pred.is_finite();
                let c = objective::derivative(kind, alpha, pred, ys[i]) * c_scale;
                coeff[i] = c;
                any |= c != R::ZERO;
            }
            step += 1;
            if !finite {
                break StopReason::Diverged;
            }
            if any {
                model.backward(xs, &coeff, Target::Update { lr });
                last_update = step;
                streak = 0;
            } else {
                streak += 1;
            }
        }

        // Stop check after a streak without updates.
        if exact_stop && streak == check_after {
            let t0 = Instant::now();
            ctx.train_pred(model, &mut pred_all);
            last_train = ctx.stats(&pred_all, &data.train.y);
            full_checks += 1;
            check_seconds += t0.elapsed().as_secs_f64();
            if ctx.active(&pred_all) == 0 {
                break StopReason::ZeroLoss;
            }
            if !last_train.loss.is_finite() {
                break StopReason::Diverged;
            }
            if schedule.loss_due(last_train.loss) {
                let t1 = Instant::now();
                let rec = ctx.record(model, step, &pred_all, last_train.clone());
                observer.checkpoint(&rec)?;
                schedule.recorded(step, rec.train.loss);
                checkpoint_seconds += t1.elapsed().as_secs_f64();
            }
        }
        // Log-spaced checkpoint.
        if schedule.due(step) {
            let t0 = Instant::now();
            ctx.train_pred(model, &mut pred_all);
            last_train = ctx.stats(&pred_all, &data.train.y);
            if exact_stop && ctx.active(&pred_all) == 0 {
                checkpoint_seconds += t0.elapsed().as_secs_f64();
                break StopReason::ZeroLoss;
            }
            if stop_below.is_some_and(|t| last_train.alpha_loss < t) {
                checkpoint_seconds += t0.elapsed().as_secs_f64();
                break StopReason::LossBelow;
            }
            if !last_train.loss.is_finite() {
                checkpoint_seconds += t0.elapsed().as_secs_f64();
                break StopReason::Diverged;
            }
            // Frozen: updates were tried since the last log-spaced checkpoint, yet not one weight moved.
            if last_update > params_at_record_step && model.params() == &params_at_record[..] {
                checkpoint_seconds += t0.elapsed().as_secs_f64();
                break StopReason::Frozen;
            }
            params_at_record.copy_from_slice(model.params());
            params_at_record_step = step;
            let rec = ctx.record(model, step, &pred_all, last_train.clone());
            observer.checkpoint(&rec)?;
            schedule.recorded(step, rec.train.loss);
            checkpoint_seconds += t0.elapsed().as_secs_f64();
        }
        // Clock, caps and progress, every 1024 steps.
        if step % 1024 == 0 {
            let wall = start.elapsed().as_secs_f64();
            if spec.max_wall.is_some_and(|m| wall >= m) {
                break StopReason::MaxWall;
            }
            if wall - last_progress >= 0.1 {
                last_progress = wall;
                observer.progress(&Progress {
                    step,
                    unfitted: last_train.unfitted,
                    train_loss: last_train.loss,
                    wall,
                });
                if observer.should_stop() {
                    break StopReason::Interrupted;
                }
            }
        }
    };

    let steps = if stop == StopReason::ZeroLoss {
        last_update
    } else {
        step
    };
    ctx.train_pred(model, &mut pred_all);
    let train_stats = ctx.stats(&pred_all, &data.train.y);
    let mut last = ctx.record(model, steps, &pred_all, train_stats);
    // The weights have not moved since `steps` for a zero-loss stop; report the exact step.
    last.step = steps;
    observer.checkpoint(&last)?;
    let test_pred = ctx.test_pred(model).iter().map(|v| v.to_f64()).collect();
    let (ntk_seconds, ntk_kernels) = ctx.ntk.as_ref().map_or((0.0, 0), |k| k.cost());
    Ok(Outcome {
        stop_reason: stop,
        steps,
        t_star: spec.lr * steps as f64,
        wall_seconds: start.elapsed().as_secs_f64(),
        steps_simulated: step,
        full_checks,
        check_seconds,
        checkpoint_seconds,
        last,
        ntk_seconds,
        ntk_kernels,
        test_pred,
    })
}

/// Copies one input row; an inlined loop beats a `memcpy` call for the short rows of the perceptron.
#[inline(always)]
fn copy_row<R: Real>(dst: &mut [R], src: &[R]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s;
    }
}

/// Asks the CPU to start loading a row into the cache.
#[inline(always)]
fn prefetch_row<R>(row: &[R]) {
    #[cfg(target_arch = "x86_64")]
    {
        let bytes = size_of_val(row);
        let base = row.as_ptr() as *const i8;
        let mut offset = 0;
        while offset < bytes {
            // SAFETY: prefetching is a hint; the address lies inside `row`.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    base.add(offset),
                )
            };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Layer;
    use crate::settings::RunConfig;

    /// A net whose gradient vanishes everywhere (like one whose ReLUs all died): f = 0 always.
    struct Dead {
        w: Vec<f64>,
        layers: Vec<Layer>,
    }

    impl Model<f64> for Dead {
        fn input_dim(&self) -> usize {
            4
        }
        fn params(&self) -> &[f64] {
            &self.w
        }
        fn params_mut(&mut self) -> &mut [f64] {
            &mut self.w
        }
        fn layers(&self) -> &[Layer] {
            &self.layers
        }
        fn predict(&mut self, _x: &[f64], n: usize, out: &mut [f64]) {
            out[..n].iter_mut().for_each(|o| *o = 0.0);
        }
        fn forward(&mut self, x: &[f64], n: usize, out: &mut [f64]) {
            self.predict(x, n, out)
        }
        fn backward(&mut self, _x: &[f64], _c: &[f64], target: Target<'_, f64>) {
            if let Target::Gradient(g) = target {
                g.iter_mut().for_each(|v| *v = 0.0);
            }
        }
    }

    #[test]
    fn a_net_whose_weights_cannot_move_stops_as_frozen() {
        let spec = RunConfig {
            dim: Some(4),
            ptr: Some(16),
            pte: Some(8),
            batch: Some(2),
            temp: Some(1.0),
            max_steps: Some(1000),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let data = crate::data::load::<f64>(&spec).unwrap();
        let mut model = Dead {
            w: vec![1.0; 4],
            layers: vec![Layer {
                name: "w".into(),
                offset: 0,
                len: 4,
            }],
        };
        let outcome = train(&spec, &mut model, &data, &mut Discard).unwrap();
        assert_eq!(outcome.stop_reason, StopReason::Frozen);
        assert_eq!(
            outcome.steps, 1,
            "the first log-spaced checkpoint after an attempted update"
        );
        assert_eq!(outcome.last.train.unfitted, 16);
    }

    /// A one-weight net f(w, x) = w sign(x_1): on sign-labelled data pred y = w - w0 for every
    /// point. It starts at w = 0 and any update sets w to 1.
    struct Snap {
        w: Vec<f32>,
        layers: Vec<Layer>,
        dim: usize,
    }

    impl Model<f32> for Snap {
        fn input_dim(&self) -> usize {
            self.dim
        }
        fn params(&self) -> &[f32] {
            &self.w
        }
        fn params_mut(&mut self) -> &mut [f32] {
            &mut self.w
        }
        fn layers(&self) -> &[Layer] {
            &self.layers
        }
        fn predict(&mut self, x: &[f32], n: usize, out: &mut [f32]) {
            for (o, row) in out[..n].iter_mut().zip(x.chunks_exact(self.dim)) {
                *o = self.w[0] * row[0].signum();
            }
        }
        fn forward(&mut self, x: &[f32], n: usize, out: &mut [f32]) {
            self.predict(x, n, out)
        }
        fn backward(&mut self, _x: &[f32], _c: &[f32], target: Target<'_, f32>) {
            match target {
                Target::Update { .. } => self.w[0] = 1.0,
                Target::Gradient(g) => g.iter_mut().for_each(|v| *v = 1.0),
            }
        }
    }

    /// Issue 15, item 14: alpha = 1 - 2^-30 is 1 in f32. After the first update every point has
    /// pred y = 1, so its margin alpha y pred is exactly 1 in f32 (fitted: the training step
    /// never updates again) but 1 - 2^-30 in f64. The stop check used to decide in f64: it found
    /// every point unfitted, no update ever came, "frozen" could not fire, and the run went on
    /// to its cap. With one rule in one precision the first check ends it at zero loss.
    #[test]
    fn a_point_at_the_margin_in_f32_ends_the_run_at_zero_loss_not_at_its_cap() {
        let alpha = 1.0 - (2.0f64).powi(-30);
        assert_eq!(alpha as f32, 1.0);
        let spec = RunConfig {
            dim: Some(4),
            ptr: Some(16),
            pte: Some(8),
            batch: Some(2),
            alpha: Some(alpha),
            temp: Some(1.0),
            max_steps: Some(100_000),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let data = crate::data::load::<f32>(&spec).unwrap();
        assert!((0..16).all(|i| data.train.y[i] == data.train.row(i)[0].signum()));
        let mut model = Snap {
            w: vec![0.0],
            layers: vec![Layer {
                name: "w".into(),
                offset: 0,
                len: 1,
            }],
            dim: 4,
        };
        let outcome = train(&spec, &mut model, &data, &mut Discard).unwrap();
        assert_eq!(outcome.stop_reason, StopReason::ZeroLoss, "{outcome:?}");
        assert_eq!(outcome.steps, 1, "the one step that updated");
        assert_eq!(outcome.last.train.unfitted, 0);
        assert_eq!(
            outcome.last.train.loss, 0.0,
            "fitted points have zero hinge loss"
        );
        // The margin of every point is what the rule saw: 1 in f32, just below 1 in f64.
        assert_eq!(outcome.last.train.min_margin, alpha);
        assert!(outcome.steps_simulated < 100);
    }
}
