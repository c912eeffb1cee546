//! What is measured at a checkpoint (SPEC §5).
//!
//! Margins are alpha * y * pred with pred = f(w, x) - f(w0, x) (the alpha-trick). A point is
//! *fitted* when its margin is at least 1 (its hinge loss is 0); a point whose prediction is not
//! finite counts as unfitted and as an error.

use crate::model::Layer;
use crate::numeric::real::Real;
use crate::objective;
use crate::settings::Loss;
use serde::{Deserialize, Serialize};

/// Loss and error of one set.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SetStats {
    /// Mean of loss(alpha pred, y) / alpha.
    pub loss: f64,
    /// alpha times `loss`: the mean of loss(alpha pred, y).
    pub alpha_loss: f64,
    /// Fraction of points with pred y <= 0 or a non-finite prediction.
    pub err: f64,
    /// Smallest margin alpha y pred.
    pub min_margin: f64,
    /// Points with margin < 1.
    pub unfitted: usize,
}

/// Per-layer weight statistics.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerStats {
    pub name: String,
    /// ||w_l||².
    pub norm2: f64,
    /// ||w_l - w_l0||².
    pub dist2: f64,
    /// ||w_l - w_l0|| / ||w_l0||.
    pub rel_change: f64,
}

/// Perceptron observables for a teacher direction u (e1 for sign and depleted_sign).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PerceptronStats {
    /// Signal (w - w0)·u (= w1 - w0_1 for the teacher e1).
    pub signal: f64,
    /// Noise ||w_perp - w0_perp||, the change orthogonal to the teacher.
    pub noise: f64,
    /// ||w_perp - w0_perp||² / (d - 1).
    pub noise2_per_dim: f64,
    /// signal / noise.
    pub signal_to_noise: f64,
    /// Mean |x·u| of the unfitted training points (NaN when all are fitted).
    pub mean_abs_x1_unfitted: f64,
}

/// The neural tangent kernel K on the run's NTK subset against K0 at initialisation
/// (`ntk_points`, SPEC §11; computed by `crate::ntk`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NtkStats {
    /// ‖K − K0‖_F / ‖K0‖_F.
    pub rel_change: f64,
    /// edm's kernel_change: mean over the n² entries of (K − K0)².
    pub kernel_change: f64,
    /// edm's kernel_norm: mean over the n² entries of K².
    pub kernel_norm: f64,
    /// yᵀ K y.
    pub yky: f64,
    /// (y/n)ᵀ K⁻¹ (y/n) (NaN where K is singular; `crate::ntk`).
    pub y_kinv_y: f64,
}

/// One checkpoint of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub step: u64,
    /// Training time t = lr * step.
    pub t: f64,
    /// Seconds since training started (NaN when a summary of another version lacks it).
    #[serde(default = "not_recorded")]
    pub wall: f64,
    pub train: SetStats,
    pub test: SetStats,
    /// ||w - w0|| / ||w0|| over all layers.
    pub rel_weight_change: f64,
    /// Mean over layers of each layer's ||w_l - w_l0|| / ||w_l0|| (the other reading of SPEC §5, OPEN).
    pub rel_weight_change_layer_mean: f64,
    #[serde(default)]
    pub layers: Vec<LayerStats>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub perceptron: Option<PerceptronStats>,
    /// The NTK observables, when `ntk_points` > 0.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ntk: Option<NtkStats>,
}

fn not_recorded() -> f64 {
    f64::NAN
}

/// Statistics of predictions `pred` (= f - f0) against labels `y`.
///
/// Which points are fitted and which are errors is decided by [`objective::is_fitted`] and
/// [`objective::is_error`] in the run's element type `R`, on these very predictions: the rule of
/// the training step (objective's module doc). The loss and the smallest margin are observables,
/// computed in f64 from the predictions; a point the rule calls fitted has hinge loss 0.
pub fn set_stats<R: Real>(kind: Loss, alpha: f64, pred: &[R], y: &[R]) -> SetStats {
    let n = pred.len();
    if n == 0 {
        return SetStats {
            loss: f64::NAN,
            alpha_loss: f64::NAN,
            err: f64::NAN,
            min_margin: f64::NAN,
            unfitted: 0,
        };
    }
    let alpha_r = R::from_f64(alpha);
    let hinge = objective::is_hinge(kind);
    let (mut total, mut errors, mut unfitted, mut min_margin) =
        (0.0, 0usize, 0usize, f64::INFINITY);
    for (&p, &label) in pred.iter().zip(y) {
        let fitted = objective::is_fitted(alpha_r, label, p);
        if objective::is_error(label, p) {
            errors += 1;
        }
        let (p, label) = (p.to_f64(), label.to_f64());
        let margin = alpha * label * p;
        if !(fitted && hinge) {
            total += objective::value(kind, alpha, p, label);
        }
        if !fitted {
            unfitted += 1;
        }
        min_margin = if margin.is_nan() {
            f64::NAN
        } else {
            min_margin.min(margin)
        };
    }
    let loss = total / n as f64;
    SetStats {
        loss,
        alpha_loss: alpha * loss,
        err: errors as f64 / n as f64,
        min_margin,
        unfitted,
    }
}

/// Weight statistics: per layer and over all layers.
pub fn weight_stats<R: Real>(w: &[R], w0: &[R], layers: &[Layer]) -> (Vec<LayerStats>, f64, f64) {
    let mut stats = Vec::with_capacity(layers.len());
    let (mut norm0_total, mut dist_total) = (0.0, 0.0);
    for layer in layers {
        let r = layer.range();
        let (mut norm2, mut norm02, mut dist2) = (0.0, 0.0, 0.0);
        for (&a, &b) in w[r.clone()].iter().zip(&w0[r]) {
            let (a, b) = (a.to_f64(), b.to_f64());
            norm2 += a * a;
            norm02 += b * b;
            dist2 += (a - b) * (a - b);
        }
        norm0_total += norm02;
        dist_total += dist2;
        stats.push(LayerStats {
            name: layer.name.clone(),
            norm2,
            dist2,
            rel_change: (dist2 / norm02).sqrt(),
        });
    }
    let mean = stats.iter().map(|s| s.rel_change).sum::<f64>() / stats.len().max(1) as f64;
    (stats, (dist_total / norm0_total).sqrt(), mean)
}

/// Perceptron statistics of `w - w0` against the unit teacher `u`; `x1_unfitted` are the teacher
/// projections |x·u| of the unfitted training points.
pub fn perceptron_stats<R: Real>(
    w: &[R],
    w0: &[R],
    u: &[f64],
    x1_unfitted: &[f64],
) -> PerceptronStats {
    let dw: Vec<f64> = w
        .iter()
        .zip(w0)
        .map(|(&a, &b)| a.to_f64() - b.to_f64())
        .collect();
    let signal: f64 = dw.iter().zip(u).map(|(a, b)| a * b).sum();
    let noise2: f64 = dw
        .iter()
        .zip(u)
        .map(|(a, b)| (a - signal * b).powi(2))
        .sum();
    let noise = noise2.sqrt();
    let mean_abs_x1_unfitted = if x1_unfitted.is_empty() {
        f64::NAN
    } else {
        x1_unfitted.iter().sum::<f64>() / x1_unfitted.len() as f64
    };
    PerceptronStats {
        signal,
        noise,
        noise2_per_dim: noise2 / (dw.len() as f64 - 1.0),
        signal_to_noise: signal / noise,
        mean_abs_x1_unfitted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_stats_counts_errors_margins_and_nan() {
        let pred = [0.5f64, -0.001, 2.0, f64::NAN];
        let y = [1.0f64, 1.0, -1.0, 1.0];
        let s = set_stats(Loss::Hinge, 4.0, &pred, &y);
        // margins: 2, -0.004, -8, NaN -> unfitted 3, errors 3
        assert_eq!(s.unfitted, 3);
        assert_eq!(s.err, 0.75);
        assert!(s.min_margin.is_nan());
        let s = set_stats(Loss::Hinge, 4.0, &pred[..3], &y[..3]);
        assert_eq!(s.min_margin, -8.0);
        // hinge/alpha: (0 + 1.004 + 9) / 4 / 3
        assert!((s.loss - (1.004 + 9.0) / 4.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn perceptron_signal_and_noise() {
        let w0 = [1.0f64, 1.0, 1.0];
        let w = [4.0f64, 1.0, 5.0];
        let s = perceptron_stats(&w, &w0, &[1.0, 0.0, 0.0], &[0.5, 1.5]);
        assert_eq!(
            (s.signal, s.noise, s.noise2_per_dim, s.mean_abs_x1_unfitted),
            (3.0, 4.0, 8.0, 1.0)
        );
    }

    #[test]
    fn set_stats_decides_fitted_by_the_rule_in_the_runs_precision() {
        // alpha = 1 - 2^-30 is 1 in f32: pred y = 1 is fitted in an f32 run (zero hinge loss),
        // unfitted in an f64 run; the margin itself is reported in f64 either way.
        let alpha = 1.0 - (2.0f64).powi(-30);
        let s32 = set_stats(Loss::Hinge, alpha, &[1.0f32, -1.0], &[1.0f32, -1.0]);
        assert_eq!((s32.unfitted, s32.loss, s32.min_margin), (0, 0.0, alpha));
        let s64 = set_stats(Loss::Hinge, alpha, &[1.0f64, -1.0], &[1.0f64, -1.0]);
        assert_eq!(s64.unfitted, 2);
        assert!(s64.loss > 0.0);
    }
}
