//! Per-sample losses with the alpha-trick (SPEC §2): loss(pred, y) = l(alpha pred, y) / alpha,
//! and the margin rule that says which points are fitted and which are errors. A leaf: the
//! training loop and the observables both take their rules from here.

use crate::numeric::real::Real;
use crate::settings::Loss;

/// Whether a point is fitted: its margin alpha y pred is at least 1 (its hinge loss is 0). A
/// non-finite margin (a diverged prediction) is never fitted.
#[inline]
pub fn is_fitted<R: Real>(alpha: R, y: R, pred: R) -> bool {
    (alpha * y * pred)
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

/// d loss / d pred: the per-sample output gradient. Zero exactly when a hinge point is fitted
/// (margin alpha y pred >= 1), which is what makes the stop at zero loss exact.
#[inline]
pub fn derivative<R: Real>(kind: Loss, alpha: R, pred: R, y: R) -> R {
    let o = alpha * pred;
    match kind {
        Loss::Hinge => {
            if o * y < R::ONE {
                -y
            } else {
                R::ZERO
            }
        }
        Loss::QuadraticHinge => {
            let slack = R::ONE - o * y;
            if slack > R::ZERO {
                -y * slack
            } else {
                R::ZERO
            }
        }
        Loss::Mse => o - y,
    }
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
}
