//! Data sets: the perceptron's synthetic data, the image tasks, and the train/test split (SPEC §6).
//!
//! Every data set becomes a [`Dataset`]: `n` inputs of `dim` numbers each, stored row-major (for
//! images NHWC: row, column, channel), and labels ±1.

pub mod check;
pub mod cifar;
pub mod fetch;
pub mod idx;
pub mod images;
pub mod locate;
pub mod synthetic;

use crate::numeric::real::Real;
use crate::settings::RunSpec;
use std::path::PathBuf;

/// Inputs and labels of one set.
#[derive(Clone, Debug)]
pub struct Dataset<R> {
    /// `n * dim` numbers, point after point.
    pub x: Vec<R>,
    /// Labels, each +1 or -1.
    pub y: Vec<R>,
    pub dim: usize,
    /// (height, width, channels) for image data.
    pub image_shape: Option<[usize; 3]>,
    /// Unit teacher direction of synthetic data (e1 for sign and depleted_sign).
    pub teacher: Option<Vec<f64>>,
}

impl<R: Real> Dataset<R> {
    pub fn len(&self) -> usize {
        self.y.len()
    }
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    /// The inputs of point `i`.
    pub fn row(&self, i: usize) -> &[R] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }
}

/// A run's training and test sets.
#[derive(Clone, Debug)]
pub struct Split<R> {
    pub train: Dataset<R>,
    pub test: Dataset<R>,
}

/// A data file or folder that cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    // `error`, not `source`: the message already holds it, and as a source it would print twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    #[error("{dataset}: files not found (looked in: {searched}).\n{hint}")]
    NotFound {
        dataset: String,
        searched: String,
        hint: String,
    },
    #[error("{dataset}: asked for {wanted} points but the pool has only {available}")]
    TooFew {
        dataset: String,
        wanted: usize,
        available: usize,
    },
    #[error("{0}")]
    Other(String),
}

/// Loads (or generates) the training and test sets of a run, in the run's element type.
pub fn load<R: Real>(spec: &RunSpec) -> Result<Split<R>, DataError> {
    if spec.dataset.is_synthetic() {
        Ok(synthetic::generate(spec))
    } else {
        images::load_task(spec)
    }
}
