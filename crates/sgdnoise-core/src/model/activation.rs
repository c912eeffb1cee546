//! Activations normalised to unit second moment under N(0,1) (SPEC §1):
//! sigma(z) = phi(z) / c with c = sqrt(E_{z~N(0,1)} phi(z)²).
//!
//! * ReLU: phi(z) = max(0, z), c = 1/sqrt(2) exactly, so sigma(z) = sqrt(2) max(0, z).
//! * GELU, tanh form: phi(z) = z (1 + tanh(sqrt(2/pi) (z + 0.044715 z³))) / 2.
//! * SiLU: phi(z) = z / (1 + exp(-z)).
//!
//! For GELU and SiLU, c comes from a deterministic quadrature (composite Simpson on [-40, 40],
//! split at 0, see [`second_moment`]), computed once per process and cached. The slice functions
//! ([`apply`], [`apply_with_derivative`]) pick the activation once outside the loop so the inner
//! loops are monomorphic and the compiler can vectorise them: ReLU directly; GELU and SiLU in
//! f32 through a polynomial exponential (`exp_f32`, a few ulps); in f64 they call the scalar
//! `tanh`/`exp` of the standard library.

use crate::numeric::real::Real;
use crate::settings::Activation;
use std::sync::OnceLock;

/// sqrt(2/pi), the constant of the tanh form of GELU.
const GELU_K: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh form of GELU.
const GELU_A: f64 = 0.044715;

/// The unnormalised activation phi(z), in f64 (used by the quadrature and tests).
pub fn phi(act: Activation, z: f64) -> f64 {
    match act {
        Activation::Relu => z.max(0.0),
        Activation::Gelu => 0.5 * z * (1.0 + (GELU_K * (z + GELU_A * z * z * z)).tanh()),
        Activation::Silu => z / (1.0 + (-z).exp()),
    }
}

/// E_{z~N(0,1)} phi(z)², by composite Simpson's rule on [-40, 40] with the interval split at 0
/// (ReLU's kink) and 2^15 sub-intervals on each side (step 1.2e-3). Simpson's error term
/// h^4 max|f''''| is below 1e-11 here, far under the required 1e-6 relative accuracy; the tails
/// beyond |z| = 40 weigh less than exp(-800).
pub fn second_moment(act: Activation) -> f64 {
    let f = |z: f64| {
        let p = phi(act, z);
        p * p * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
    };
    let simpson = |a: f64, b: f64, n: usize| {
        let h = (b - a) / n as f64;
        let mut sum = f(a) + f(b);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            sum += w * f(a + i as f64 * h);
        }
        sum * h / 3.0
    };
    let n = 1 << 15;
    simpson(-40.0, 0.0, n) + simpson(0.0, 40.0, n)
}

/// The normalisation constant c of `act` (computed once per process, then cached).
pub fn norm_constant(act: Activation) -> f64 {
    static GELU: OnceLock<f64> = OnceLock::new();
    static SILU: OnceLock<f64> = OnceLock::new();
    match act {
        Activation::Relu => std::f64::consts::FRAC_1_SQRT_2,
        Activation::Gelu => *GELU.get_or_init(|| second_moment(Activation::Gelu).sqrt()),
        Activation::Silu => *SILU.get_or_init(|| second_moment(Activation::Silu).sqrt()),
    }
}

/// The ReLU of the fast passes (mnas): `sqrt(2)·z` where z > 0 or NaN, else 0, with `s` =
/// sqrt(2) in the working precision. One expression shared by the element-wise pass and the
/// passes it is fused into, so fused and unfused give the same bits.
#[inline(always)]
pub(crate) fn relu_scaled<R: Real>(z: R, s: R) -> R {
    #[allow(clippy::eq_op)] // z != z: NaN
    let keep = z > R::ZERO || z != z;
    if keep {
        s * z
    } else {
        R::ZERO
    }
}

/// The gradient through [`relu_scaled`]: `sqrt(2)·g` where the pre-activation was > 0, else 0.
/// `m` may be the pre-activation z or the activation `relu_scaled(z)`: `a > 0` exactly when
/// `z > 0` (s > 1, so `s·z >= z > 0`; NaN and z <= 0 give `a` = NaN or 0, both not > 0).
#[inline(always)]
pub(crate) fn relu_scaled_grad<R: Real>(m: R, g: R, s: R) -> R {
    if m > R::ZERO {
        s * g
    } else {
        R::ZERO
    }
}

/// sigma(z) for one number.
#[inline]
pub fn sigma<R: Real>(act: Activation, z: R) -> R {
    let mut v = [z];
    apply(act, &mut v);
    v[0]
}

/// sigma'(z) for one number.
#[inline]
pub fn derivative<R: Real>(act: Activation, z: R) -> R {
    let mut v = [z];
    let mut d = [R::ZERO];
    apply_with_derivative(act, &mut v, &mut d);
    d[0]
}

/// `z[i] <- sigma(z[i])` for the whole slice.
pub fn apply<R: Real>(act: Activation, z: &mut [R]) {
    if let (Activation::Gelu | Activation::Silu, Some(z32)) = (act, as_f32(z)) {
        return fast_f32(act, z32, None);
    }
    let inv_c = R::from_f64(1.0 / norm_constant(act));
    match act {
        Activation::Relu => {
            // `z < 0` is false for NaN, so NaN passes through (as in PyTorch): a blown-up weight
            // must reach the output and end the run as diverged, not be cut to 0.
            for v in z.iter_mut() {
                *v = if *v < R::ZERO { R::ZERO } else { *v * inv_c };
            }
        }
        Activation::Gelu => {
            let (k, a, half) = (R::from_f64(GELU_K), R::from_f64(GELU_A), R::from_f64(0.5));
            for v in z.iter_mut() {
                let x = *v;
                let x2 = x * x;
                let t = (k * (x + a * x2 * x)).tanh();
                *v = half * x * (R::ONE + t) * inv_c;
            }
        }
        Activation::Silu => {
            for v in z.iter_mut() {
                let x = *v;
                let s = R::ONE / (R::ONE + (-x).exp());
                *v = x * s * inv_c;
            }
        }
    }
}

/// `d[i] <- sigma'(z[i])`, then `z[i] <- sigma(z[i])`, sharing the transcendental functions.
/// ReLU's derivative at exactly 0 is taken as 0.
pub fn apply_with_derivative<R: Real>(act: Activation, z: &mut [R], d: &mut [R]) {
    assert_eq!(
        z.len(),
        d.len(),
        "activation: value and derivative buffers differ in length"
    );
    if let (Activation::Gelu | Activation::Silu, Some(z32)) = (act, as_f32(z)) {
        let d32 = as_f32(d).expect("same element type");
        return fast_f32(act, z32, Some(d32));
    }
    let inv_c = R::from_f64(1.0 / norm_constant(act));
    match act {
        Activation::Relu => {
            for (v, g) in z.iter_mut().zip(d.iter_mut()) {
                let pos = *v > R::ZERO;
                *g = if pos { inv_c } else { R::ZERO };
                // NaN passes through (see `apply`).
                *v = if *v < R::ZERO { R::ZERO } else { *v * inv_c };
            }
        }
        Activation::Gelu => {
            let (k, a, half) = (R::from_f64(GELU_K), R::from_f64(GELU_A), R::from_f64(0.5));
            let a3 = R::from_f64(3.0 * GELU_A);
            for (v, g) in z.iter_mut().zip(d.iter_mut()) {
                let x = *v;
                let x2 = x * x;
                let t = (k * (x + a * x2 * x)).tanh();
                let one_t = R::ONE + t;
                *g = (half * one_t + half * x * (R::ONE - t * t) * k * (R::ONE + a3 * x2)) * inv_c;
                *v = half * x * one_t * inv_c;
            }
        }
        Activation::Silu => {
            for (v, g) in z.iter_mut().zip(d.iter_mut()) {
                let x = *v;
                let s = R::ONE / (R::ONE + (-x).exp());
                *g = s * (R::ONE + x * (R::ONE - s)) * inv_c;
                *v = x * s * inv_c;
            }
        }
    }
}

/// The slice as `f32` when `R` is `f32`.
fn as_f32<R: Real>(z: &mut [R]) -> Option<&mut [f32]> {
    if std::any::TypeId::of::<R>() == std::any::TypeId::of::<f32>() {
        // SAFETY: R is f32 (same type, so same size, alignment and validity).
        Some(unsafe { &mut *(z as *mut [R] as *mut [f32]) })
    } else {
        None
    }
}

/// exp(x) for |x| <= 87 in f32 arithmetic that the compiler vectorises (no libm call):
/// x = n ln2 + r with n = round(x / ln2) and |r| <= ln2/2 (Cody-Waite split of ln2), e^r by its
/// degree-7 Taylor polynomial (truncation < 6e-9 relative), 2^n from the exponent bits.
/// Relative error a few f32 ulps.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = x - n * LN2_HI - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0
                    + r * (1.0 / 24.0
                        + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    p * f32::from_bits(((n as i32 + 127) << 23) as u32)
}

/// GELU and SiLU on f32 slices with [`exp_f32`] instead of the scalar `tanh`/`exp` of libm.
/// Inputs are clamped only inside the exponential (u to ±43 for GELU's tanh, x to ±80 for
/// SiLU's logistic, where both are saturated in f32), so NaN and ±inf in `z` still reach the
/// outputs.
fn fast_f32(act: Activation, z: &mut [f32], d: Option<&mut [f32]>) {
    let inv_c = (1.0 / norm_constant(act)) as f32;
    let (k, a) = (GELU_K as f32, GELU_A as f32);
    let a3 = 3.0 * a;
    match act {
        Activation::Gelu => {
            // With e = exp(2u), u clamped to [-43, 43]: 1 + tanh(u) = 2e/(e+1) and
            // 1 - tanh(u) = 2/(e+1), both without cancellation (better than 1 + tanh in f32).
            let parts = |x: f32| {
                let u = (k * (x + a * x * x * x)).clamp(-43.0, 43.0);
                let e = exp_f32(2.0 * u);
                let r = 1.0 / (e + 1.0);
                (2.0 * e * r, 2.0 * r)
            };
            match d {
                Some(d) => {
                    for (v, g) in z.iter_mut().zip(d.iter_mut()) {
                        let x = *v;
                        let (one_t, one_minus_t) = parts(x);
                        *g = (0.5 * one_t + 0.5 * x * one_t * one_minus_t * k * (1.0 + a3 * x * x))
                            * inv_c;
                        *v = 0.5 * x * one_t * inv_c;
                    }
                }
                None => {
                    for v in z.iter_mut() {
                        let x = *v;
                        *v = 0.5 * x * parts(x).0 * inv_c;
                    }
                }
            }
        }
        Activation::Silu => {
            let s_of = |x: f32| 1.0 / (1.0 + exp_f32((-x).clamp(-80.0, 80.0)));
            match d {
                Some(d) => {
                    for (v, g) in z.iter_mut().zip(d.iter_mut()) {
                        let x = *v;
                        let s = s_of(x);
                        *g = s * (1.0 + x * (1.0 - s)) * inv_c;
                        *v = x * s * inv_c;
                    }
                }
                None => {
                    for v in z.iter_mut() {
                        let x = *v;
                        *v = x * s_of(x) * inv_c;
                    }
                }
            }
        }
        Activation::Relu => unreachable!("relu has no fast path"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Activation; 3] = [Activation::Relu, Activation::Gelu, Activation::Silu];

    #[test]
    fn normalisation_constants_match_independent_values() {
        // Independent values: mpmath 1.3.0, 30 digits, tanh-sinh quadrature on (-inf, 0, inf):
        // python3 -c "import mpmath as mp; mp.mp.dps=30; k=mp.sqrt(2/mp.pi);
        //   g=lambda z: 0.5*z*(1+mp.tanh(k*(z+mp.mpf('0.044715')*z**3))); s=lambda z: z/(1+mp.exp(-z));
        //   [print(mp.sqrt(mp.quad(lambda z: f(z)**2*mp.exp(-z**2/2)/mp.sqrt(2*mp.pi),
        //   [-mp.inf,0,mp.inf]))) for f in (lambda z: max(z,0), g, s)]"
        let want = [
            (Activation::Relu, 0.707_106_781_186_547_5),
            (Activation::Gelu, 0.652_068_793_175_305_6),
            (Activation::Silu, 0.596_469_211_122_713_5),
        ];
        for (act, c) in want {
            let rel = (norm_constant(act) - c).abs() / c;
            assert!(
                rel < 1e-9,
                "{act:?}: c = {} vs {c} (rel {rel:e})",
                norm_constant(act)
            );
            // The quadrature also reproduces ReLU's exact value.
            let rel_q = (second_moment(act).sqrt() - c).abs() / c;
            assert!(rel_q < 1e-9, "{act:?} quadrature rel error {rel_q:e}");
        }
    }

    #[test]
    fn normalised_activations_have_unit_second_moment_by_sampling() {
        // A sanity check independent of the quadrature: a Monte Carlo estimate with a fixed
        // seed. 2e5 samples give a standard error of about sqrt(Var(sigma²)/n) < 0.01.
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = crate::numeric::rng::StreamRng::seed_from_u64(11);
        let zs: Vec<f64> = (0..200_000)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        for act in ALL {
            let m = zs.iter().map(|&z| sigma(act, z).powi(2)).sum::<f64>() / zs.len() as f64;
            assert!((m - 1.0).abs() < 0.03, "{act:?}: E sigma² ~ {m}");
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for act in ALL {
            for &z in &[-5.0, -1.3, -0.2, 0.3, 0.9, 2.5, 7.0] {
                let h = 1e-6;
                let fd = (sigma(act, z + h) - sigma(act, z - h)) / (2.0 * h);
                let d = derivative(act, z);
                assert!((fd - d).abs() < 1e-8, "{act:?} at {z}: fd {fd} vs {d}");
            }
        }
        assert_eq!(derivative(Activation::Relu, 0.0f64), 0.0);
        assert!((sigma(Activation::Relu, 2.0f64) - 2.0 * std::f64::consts::SQRT_2).abs() < 1e-15);
    }

    #[test]
    fn slice_forms_agree_with_scalar_phi_and_f32_with_f64() {
        let zs: Vec<f64> = (0..101).map(|i| -10.0 + 0.2 * i as f64).collect();
        for act in ALL {
            let mut a = zs.clone();
            let mut b = zs.clone();
            let mut d = vec![0.0; zs.len()];
            apply(act, &mut a);
            apply_with_derivative(act, &mut b, &mut d);
            let mut a32: Vec<f32> = zs.iter().map(|&z| z as f32).collect();
            apply(act, &mut a32);
            for i in 0..zs.len() {
                let want = phi(act, zs[i]) / norm_constant(act);
                assert!((a[i] - want).abs() <= 1e-14 * (1.0 + want.abs()));
                assert_eq!(a[i], b[i]);
                assert!((a32[i] as f64 - want).abs() <= 1e-6 * (1.0 + want.abs()));
            }
            // Large |z| stays finite (no 0 * inf in SiLU or GELU).
            let mut big = vec![-1e4f32, 1e4, -100.0, 100.0];
            let mut dbig = vec![0.0f32; 4];
            apply_with_derivative(act, &mut big, &mut dbig);
            assert!(
                big.iter().chain(&dbig).all(|v| v.is_finite()),
                "{act:?}: {big:?} {dbig:?}"
            );
        }
    }

    #[test]
    fn fast_f32_exp_and_activations_match_f64() {
        for i in 0..=2000 {
            let x = -87.0 + 174.0 * i as f64 / 2000.0;
            let e = exp_f32(x as f32) as f64;
            let want = (x as f32 as f64).exp();
            assert!(((e - want) / want).abs() < 5e-7, "exp({x}) = {e} vs {want}");
        }
        let zs: Vec<f64> = (0..4001).map(|i| -20.0 + 0.01 * i as f64).collect();
        for act in [Activation::Gelu, Activation::Silu] {
            let mut v32: Vec<f32> = zs.iter().map(|&z| z as f32).collect();
            let mut d32 = vec![0f32; zs.len()];
            apply_with_derivative(act, &mut v32, &mut d32);
            for (i, &z) in zs.iter().enumerate() {
                // Against f64 at the f32-rounded input.
                let zr = z as f32 as f64;
                let (want, dwant) = (sigma(act, zr), derivative(act, zr));
                let tol = |w: f64| 1e-6 * (1.0 + w.abs());
                assert!(
                    (v32[i] as f64 - want).abs() < tol(want),
                    "{act:?}({z}): {}",
                    v32[i]
                );
                assert!(
                    (d32[i] as f64 - dwant).abs() < tol(dwant),
                    "{act:?}'({z}): {}",
                    d32[i]
                );
            }
            let mut odd = vec![f32::NAN, f32::INFINITY];
            apply(act, &mut odd);
            assert!(odd[0].is_nan(), "{act:?}: NaN must propagate");
            assert_eq!(odd[1], f32::INFINITY, "{act:?}");
        }
    }

    #[test]
    fn relu_lets_nan_through_so_divergence_reaches_the_output() {
        for act in [Activation::Relu, Activation::Gelu, Activation::Silu] {
            let mut z = vec![f64::NAN, -1.0, 2.0];
            let mut d = vec![0.0; 3];
            apply_with_derivative(act, &mut z, &mut d);
            assert!(z[0].is_nan(), "{act:?}");
            let mut z = vec![f64::NAN];
            apply(act, &mut z);
            assert!(z[0].is_nan(), "{act:?}");
        }
        assert_eq!(sigma(Activation::Relu, -3.0f64), 0.0);
        assert!((sigma(Activation::Relu, 2.0f64) - 2.0 * std::f64::consts::SQRT_2).abs() < 1e-15);
    }
}
