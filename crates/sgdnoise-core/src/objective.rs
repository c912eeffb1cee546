//! Per-sample losses with the alpha-trick (SPEC §2): loss(pred, y) = l(alpha pred, y) / alpha,
//! and the margin rule that says which points are fitted and which are errors. A leaf: the
//! training loop and the observables both take their rules from here.
//!
//! **One rule for "fitted", in one precision.** [`is_fitted`] is the only place that decides
//! whether a point is fitted, and it decides in the run's element type `R` (f32 or f64), on the
//! prediction pred = f(w, x) - f(w0, x) as the model computed it in `R`, with alpha rounded to
//! `R` once: the training step ([`derivative`]: the hinge gradients vanish exactly when it says
//! fitted) and the stop check and records (`observe::set_stats`) call it with the same numbers.
//! Deciding the same point in f64 in one place and in f32 in the other could disagree at the
//! margin (alpha * pred rounds to 1 in f32 but not in f64): then no step would ever update the
//! point and no check would ever find it fitted, and the run would go on to its cap.

use crate::numeric::real::Real;
use crate::settings::Loss;

/// The margin alpha y pred, in the run's element type (module doc).
#[inline]
pub fn margin<R: Real>(alpha: R, y: R, pred: R) -> R {
    alpha * y * pred
}

/// Whether a point is fitted: its margin alpha y pred, computed in `R`, is at least 1 (its
/// hinge loss is 0). A non-finite margin (a diverged prediction) is never fitted. The one rule
/// of the training step and the stop check (module doc).
#[inline]
pub fn is_fitted<R: Real>(alpha: R, y: R, pred: R) -> bool {
    margin(alpha, y, pred)
        .partial_cmp(&R::ONE)
        .is_some_and(|o| o.is_ge())
}

/// Whether a point is an error: pred y <= 0, or a non-finite prediction.
#[inline]
pub fn is_error<R: Real>(y: R, pred: R) -> bool {
    (pred * y).partial_cmp(&R::ZERO).is_none_or(|o| o.is_le())
}

/// loss(pred, y) = l(alpha pred, y) / alpha.
#[inline]
pub fn value(kind: Loss, alpha: f64, pred: f64, y: f64) -> f64 {
    let o = alpha * pred;
    let l = match kind {
        Loss::Hinge => (1.0 - o * y).max(0.0),
        Loss::QuadraticHinge => 0.5 * (1.0 - o * y).max(0.0).powi(2),
        Loss::Mse => 0.5 * (o - y).powi(2),
    };
    if o.is_finite() {
        l / alpha
    } else {
        f64::INFINITY
    }
}

/// d loss / d pred: the per-sample output gradient. For the hinge losses it is zero exactly
/// when [`is_fitted`] says the point is fitted, which is what makes the stop at zero loss exact.
/// (Labels are ±1, so alpha y pred here is bitwise the (alpha pred) y of the formulas.)
#[inline]
pub fn derivative<R: Real>(kind: Loss, alpha: R, pred: R, y: R) -> R {
    match kind {
        Loss::Hinge => {
            if is_fitted(alpha, y, pred) {
                R::ZERO
            } else {
                -y
            }
        }
        Loss::QuadraticHinge => {
            if is_fitted(alpha, y, pred) {
                R::ZERO
            } else {
                -y * (R::ONE - margin(alpha, y, pred))
            }
        }
        Loss::Mse => alpha * pred - y,
    }
}

/// Whether `kind` is one of the hinge losses, whose value and gradient are zero exactly on the
/// fitted points.
#[inline]
pub fn is_hinge(kind: Loss) -> bool {
    matches!(kind, Loss::Hinge | Loss::QuadraticHinge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        for kind in [Loss::Hinge, Loss::QuadraticHinge, Loss::Mse] {
            for &(pred, y) in &[(0.1, 1.0), (-0.3, 1.0), (0.2, -1.0), (0.05, -1.0)] {
                let alpha = 3.0;
                let h = 1e-7;
                let fd =
                    (value(kind, alpha, pred + h, y) - value(kind, alpha, pred - h, y)) / (2.0 * h);
                let d = derivative(kind, alpha, pred, y);
                assert!(
                    (fd - d).abs() < 1e-6,
                    "{kind:?} pred={pred} y={y}: {fd} vs {d}"
                );
            }
        }
        assert_eq!(derivative(Loss::Hinge, 2.0, 0.5, 1.0), 0.0); // margin exactly 1: fitted
    }

    #[test]
    fn fitted_is_decided_in_the_runs_precision() {
        // alpha = 1 - 2^-30 rounds to 1 in f32: a prediction of 1 is exactly at the margin there,
        // and just below it in f64. Each precision decides with its own numbers, and the hinge
        // gradients vanish exactly on the points the rule calls fitted.
        let alpha = 1.0 - (2.0f64).powi(-30);
        assert!(is_fitted(alpha as f32, 1.0f32, 1.0f32));
        assert!(!is_fitted(alpha, 1.0, 1.0));
        for kind in [Loss::Hinge, Loss::QuadraticHinge] {
            assert_eq!(derivative(kind, alpha as f32, 1.0f32, 1.0), 0.0);
            assert_ne!(derivative(kind, alpha, 1.0, 1.0), 0.0);
            assert_eq!(derivative(kind, alpha as f32, -1.0f32, -1.0), 0.0);
        }
        assert!(!is_fitted(1.0f32, 1.0, f32::NAN));
        assert!(is_error(1.0f32, f32::NAN) && is_error(-1.0f32, 0.0));
    }
}
