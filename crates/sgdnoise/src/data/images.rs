//! The image tasks mnist_parity, cifar_animal and fashion_parity (SPEC §6).
//! Placeholder until the file-format loaders land.

use super::{DataError, Split};
use crate::config::RunSpec;
use crate::real::Real;

/// Loads the pooled, normalised, relabelled image task of `spec` and splits it.
pub fn load_task<R: Real>(spec: &RunSpec) -> Result<Split<R>, DataError> {
    Err(DataError::Other(format!(
        "the {} loader is not implemented yet",
        spec.dataset.name()
    )))
}
