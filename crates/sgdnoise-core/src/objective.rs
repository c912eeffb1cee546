//! Per-sample losses with the alpha-trick (SPEC §2): loss(pred, y) = l(alpha pred, y) / alpha.

use crate::settings::Loss;

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
pub fn derivative<R: crate::numeric::real::Real>(kind: Loss, alpha: R, pred: R, y: R) -> R {
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
