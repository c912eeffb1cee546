//! Activations normalised to unit second moment under N(0,1): sigma(z) = phi(z) / c,
//! c = sqrt(E phi(z)²) (SPEC §1). Placeholder: only ReLU so far.

use crate::config::Activation;

/// The normalisation constant c of `act`.
pub fn norm_constant(act: Activation) -> f64 {
    match act {
        Activation::Relu => std::f64::consts::FRAC_1_SQRT_2,
        _ => unimplemented!("gelu/silu normalisation"),
    }
}
