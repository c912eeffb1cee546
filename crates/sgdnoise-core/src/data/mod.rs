//! Data sets: the perceptron's synthetic data, the image tasks, and the train/test split (SPEC §6).
//!
//! Every data set becomes a [`Dataset`]: `n` inputs of `dim` numbers each, stored row-major (for
//! images NHWC: row, column, channel), and labels ±1.

pub mod check;
pub mod cifar;
pub mod digest;
pub mod fetch;
pub mod idx;
pub mod images;
pub mod locate;
pub mod source;
pub mod synthetic;

use crate::numeric::real::Real;
use crate::settings::RunSpec;
use source::DataSource;
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
    /// The data found are not those the run's identity names (see [`source`]).
    #[error(
        "{dir}: these {set} files are not the canonical ones ({check}).\n\
         A run on other data is another run, and its identity includes the data's digest \
         ({digest}); {named}. `sgdnoise run` names a run after the data it finds. The runs of a \
         sweep, a preset or the study are named for the canonical data (their plans are made \
         without opening any file): give them the official files (`sgdnoise data check` compares \
         them, `sgdnoise data fetch` gets them)."
    )]
    NotTheRunsData {
        set: String,
        dir: String,
        check: String,
        digest: String,
        /// What the run's identity named instead.
        named: String,
    },
    #[error("{0}")]
    Other(String),
}

/// Loads (or generates) the training and test sets of a run, in the run's element type.
pub fn load<R: Real>(spec: &RunSpec) -> Result<Split<R>, DataError> {
    load_with_source(spec).map(|(split, _)| split)
}

/// [`load`], with where the image data came from (`None` for synthetic data, which needs no
/// fingerprint: its seeds are in the identity).
pub fn load_with_source<R: Real>(
    spec: &RunSpec,
) -> Result<(Split<R>, Option<DataSource>), DataError> {
    if spec.dataset.is_synthetic() {
        Ok((synthetic::generate(spec), None))
    } else {
        images::load_task_with_source(spec).map(|(split, source)| (split, Some(source)))
    }
}

/// Where the data of `spec` would come from: the files found (parsed and hashed once per
/// process), `None` for synthetic data.
pub fn source_of(spec: &RunSpec) -> Result<Option<DataSource>, DataError> {
    if spec.dataset.is_synthetic() {
        Ok(None)
    } else {
        images::task_pool(spec).map(|p| Some(p.source.clone()))
    }
}

/// `spec` named after the data it would train on: the data found are opened (once per
/// process), and when they are not the canonical set their digest enters the run's identity
/// ([`RunSpec::data_digest`]). Canonical and synthetic data leave the spec as it is.
pub fn bind(spec: &RunSpec) -> Result<RunSpec, DataError> {
    let mut bound = spec.clone();
    bound.data_digest = source_of(spec)?.and_then(|s| s.identity_digest());
    Ok(bound)
}

/// Checks that `source`, the data a run opened, is the data its identity names
/// ([`RunSpec::data_digest`]: `None` means the canonical set).
pub fn check_source(spec: &RunSpec, source: Option<&DataSource>) -> Result<(), DataError> {
    let found = source.and_then(|s| s.identity_digest());
    match source {
        Some(s) if found != spec.data_digest => Err(DataError::NotTheRunsData {
            set: RawSetTitle(&s.set).to_string(),
            dir: s.dir.display().to_string(),
            check: s.check.clone(),
            digest: s.digest.clone(),
            named: match &spec.data_digest {
                None => format!(
                    "this run, {}, is named for the canonical {}",
                    spec.identity(),
                    RawSetTitle(&s.set)
                ),
                Some(d) => format!(
                    "this run, {}, is named for data of digest {d}",
                    spec.identity()
                ),
            },
        }),
        _ => Ok(()),
    }
}

/// The human name of a set recorded by its command-line name.
struct RawSetTitle<'a>(&'a str);
impl std::fmt::Display for RawSetTitle<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match locate::RawSet::parse(self.0) {
            Some(set) => f.write_str(set.title()),
            None => f.write_str(self.0),
        }
    }
}
