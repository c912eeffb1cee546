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
use crate::settings::{Loss, LossConvention};

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
        Loss::SmoothHinge => {
            let u = 1.0 - o * y;
            if u > 0.0 {
                u * (-0.5 / u).exp()
            } else {
                0.0
            }
        }
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
        Loss::SmoothHinge => {
            if is_fitted(alpha, y, pred) {
                R::ZERO
            } else {
                // s(u) = u exp(-1/(2u)): s'(u) = exp(-1/(2u)) (1 + 1/(2u)), u = 1 - margin.
                let half_inv = R::from_f64(0.5) / (R::ONE - margin(alpha, y, pred));
                -y * (R::ZERO - half_inv).exp() * (R::ONE + half_inv)
            }
        }
    }
}

/// Whether a point still moves the weights: its loss gradient [`derivative`] is not exactly
/// zero in the run's precision. For the hinge and the quadratic hinge this is "not
/// [`is_fitted`]"; for the smooth hinge the gradient also underflows to zero just inside the
/// margin (exp(-1/(2u)) for u below about 0.005 in f32, 0.0007 in f64), where the loss itself
/// underflows too: such a point will never move the weights again, so the exact stop counts it
/// as done (as the authors' code stops when the loss is exactly 0).
#[inline]
pub fn is_active<R: Real>(kind: Loss, alpha: R, pred: R, y: R) -> bool {
    derivative(kind, alpha, pred, y) != R::ZERO
}

/// The factor by which `convention` multiplies sgdnoise's loss `kind` (value and gradient):
/// the authors' quadratic hinge max(0, 1 - o y)² has no factor 1/2, so it is twice ours.
#[inline]
pub fn convention_scale(kind: Loss, convention: LossConvention) -> f64 {
    match (kind, convention) {
        (Loss::QuadraticHinge, LossConvention::Edm) => 2.0,
        _ => 1.0,
    }
}

/// The training alpha * loss below which a run stops as converged, if any: the authors stop
/// mse at alpha * loss < 1e-9 (edm/train.py); sgdnoise's convention never stops mse early.
#[inline]
pub fn stop_below(kind: Loss, convention: LossConvention) -> Option<f64> {
    match (kind, convention) {
        (Loss::Mse, LossConvention::Edm) => Some(1e-9),
        _ => None,
    }
}

/// The loss a run used, as its `config.json` records it.
pub fn formula(kind: Loss, convention: LossConvention) -> &'static str {
    match (kind, convention) {
        (Loss::Hinge, _) => "hinge: max(0, 1 - o y), o = alpha pred, divided by alpha",
        (Loss::QuadraticHinge, LossConvention::Sgdnoise) => {
            "quadratic_hinge (sgdnoise): max(0, 1 - o y)^2 / 2, o = alpha pred, divided by alpha"
        }
        (Loss::QuadraticHinge, LossConvention::Edm) => {
            "quadratic_hinge (edm): max(0, 1 - o y)^2, o = alpha pred, divided by alpha"
        }
        (Loss::Mse, LossConvention::Sgdnoise) => {
            "mse (sgdnoise): (o - y)^2 / 2, o = alpha pred, divided by alpha; no stop at small loss"
        }
        (Loss::Mse, LossConvention::Edm) => {
            "mse (edm): (o - y)^2 / 2, o = alpha pred, divided by alpha; stops when alpha loss < 1e-9"
        }
        (Loss::SmoothHinge, _) => {
            "smooth_hinge: s(1 - o y), s(u) = u exp(-1/(2u)) for u > 0 else 0, o = alpha pred, divided by alpha"
        }
    }
}

/// Whether `kind` is one of the hinge losses, whose value and gradient are zero exactly on the
/// fitted points.
#[inline]
pub fn is_hinge(kind: Loss) -> bool {
    matches!(kind, Loss::Hinge | Loss::QuadraticHinge | Loss::SmoothHinge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        for kind in Loss::ALL.iter().copied() {
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

    /// The authors' smooth hinge (edm/train.py: shinge(o, y) = srelu(1 - o y), srelu(x) =
    /// sus(2x) x, sus(x) = exp(-1/x) for x > 0): its value at a few margins, its f64 derivative
    /// against central differences on a grid that approaches the margin, and zero on and past it.
    #[test]
    fn smooth_hinge_is_the_authors_and_its_derivative_matches_finite_differences() {
        let alpha = 2.0;
        for &(m, expected) in &[
            (0.0, (-0.5f64).exp()),
            (-1.0, 2.0 * (-0.25f64).exp()),
            (0.5, 0.5 * (-1.0f64).exp()),
        ] {
            let pred = m / alpha;
            assert!((value(Loss::SmoothHinge, alpha, pred, 1.0) * alpha - expected).abs() < 1e-15);
            assert!(
                (value(Loss::SmoothHinge, alpha, -pred, -1.0) * alpha - expected).abs() < 1e-15
            );
        }
        for i in 0..40 {
            let m = -3.0 + 3.9 * i as f64 / 40.0; // margins -3 .. 0.9
            for y in [1.0, -1.0] {
                let pred = y * m / alpha;
                let h = 1e-7;
                let fd = (value(Loss::SmoothHinge, alpha, pred + h, y)
                    - value(Loss::SmoothHinge, alpha, pred - h, y))
                    / (2.0 * h);
                let d = derivative(Loss::SmoothHinge, alpha, pred, y);
                assert!(
                    (fd - d).abs() < 1e-6 * (1.0 + d.abs()),
                    "m={m} y={y}: {fd} vs {d}"
                );
            }
        }
        assert_eq!(derivative(Loss::SmoothHinge, 2.0, 0.5, 1.0), 0.0);
        assert_eq!(derivative(Loss::SmoothHinge, 2.0, 3.0, 1.0), 0.0);
        assert_eq!(value(Loss::SmoothHinge, 2.0, 3.0, 1.0), 0.0);
    }

    /// Just inside the margin the smooth hinge's gradient underflows to exactly zero: such a
    /// point is unfitted yet inactive (it can never move the weights), which is what lets its
    /// runs stop exactly instead of running to their caps.
    #[test]
    fn smooth_hinge_points_whose_gradient_underflows_are_inactive_not_fitted() {
        let (alpha, y) = (1.0f32, 1.0f32);
        let pred = 1.0f32 - 0.004; // u = 0.004: exp(-125) underflows in f32
        assert!(!is_fitted(alpha, y, pred));
        assert!(!is_active(Loss::SmoothHinge, alpha, pred, y));
        assert!(is_active(Loss::SmoothHinge, 1.0f64, 1.0 - 0.004, 1.0));
        assert!(is_active(Loss::SmoothHinge, alpha, 0.5, y));
        for kind in [Loss::Hinge, Loss::QuadraticHinge] {
            for &p in &[0.0f32, 0.5, 0.999_999, 1.0, 2.0, f32::NAN] {
                assert_eq!(
                    is_active(kind, alpha, p, y),
                    !is_fitted(alpha, y, p),
                    "{kind} {p}"
                );
            }
        }
    }

    /// Our quadratic hinge is half the authors' (edm/train.py: qhinge = relu(1 - o y)^2), so the
    /// edm convention doubles value and gradient; edm stops mse at alpha loss < 1e-9.
    #[test]
    fn the_edm_convention_doubles_the_quadratic_hinge_and_stops_mse() {
        let (alpha, pred, y) = (4.0, 0.1, 1.0);
        let edm = (1.0f64 - alpha * pred * y).max(0.0).powi(2) / alpha;
        let ours = value(Loss::QuadraticHinge, alpha, pred, y);
        assert!(
            (convention_scale(Loss::QuadraticHinge, LossConvention::Edm) * ours - edm).abs()
                < 1e-15
        );
        assert_eq!(
            convention_scale(Loss::QuadraticHinge, LossConvention::Sgdnoise),
            1.0
        );
        for kind in [Loss::Hinge, Loss::Mse, Loss::SmoothHinge] {
            assert_eq!(convention_scale(kind, LossConvention::Edm), 1.0);
        }
        assert_eq!(stop_below(Loss::Mse, LossConvention::Edm), Some(1e-9));
        assert_eq!(stop_below(Loss::Mse, LossConvention::Sgdnoise), None);
        assert_eq!(stop_below(Loss::QuadraticHinge, LossConvention::Edm), None);
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
