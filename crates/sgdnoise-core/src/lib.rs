//! sgdnoise-core: one run, from its settings to its summary.
//!
//! A run travels: settings ([`settings::RunConfig`], from flags, TOML or a sweep) → the checked
//! [`settings::RunSpec`] with its identity → [`data::load`] → [`model::build`] →
//! [`train::train`] (the loss and the margin rule from [`objective`], records from [`observe`]) →
//! the run directory ([`rundir`]) and its [`rundir::Summary`]; [`run::execute`] is that whole
//! path. Underneath lie the numeric primitives ([`numeric`]: the element type, the named random
//! streams, matrix products). Many runs, their store and executors live in `sgdnoise-campaign`;
//! figures in `sgdnoise-analysis`. Nothing here prints to the terminal.

// Nothing below the command line prints: progress and results reach it through values and callbacks.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod bench;
pub mod data;
pub mod memory;
pub mod model;
pub mod ntk;
pub mod numeric;
pub mod objective;
pub mod observe;
pub mod run;
pub mod rundir;
pub mod settings;
pub mod train;

use std::path::{Path, PathBuf};

/// The crate version, recorded with every run.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Any failure of the library. `Config` and `Data` are the user's input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] settings::ConfigError),
    #[error(transparent)]
    Data(#[from] data::DataError),
    /// The run needs more memory than it may take here (refused before allocating).
    #[error(transparent)]
    Memory(Box<memory::TooLarge>),
    // `error`, not `source`: the message already holds it, and as a source it would print twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The run directory cannot be made or written (a file in the way, no permission): the
    /// user's `--out` (exit code 2).
    #[error("cannot write the run directory {}: {error}", path.display())]
    RunDir {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn io(path: &Path, error: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            error,
        }
    }
    /// Whether the user's input caused this error (a setting or a data file).
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            Error::Config(_) | Error::Data(_) | Error::Memory(_) | Error::RunDir { .. }
        )
    }

    /// Whether this error lies in the run's surroundings, not in its settings: a data set that
    /// is missing, unreadable or damaged, a run folder that cannot be written (a full disk, a
    /// read-only or vanished folder). Fixing the surroundings makes the same run work, so such an
    /// error is never recorded as the run's failure (see `sgdnoise_campaign::local`). A data set
    /// too small for the settings ([`data::DataError::TooFew`]) is the run's own failure.
    pub fn is_environment(&self) -> bool {
        match self {
            Error::Io { .. } | Error::RunDir { .. } => true,
            // Too large for this machine: the run's own failure, recorded so the sweep goes on.
            Error::Memory(_) => false,
            Error::Data(data::DataError::TooFew { .. }) => false,
            Error::Data(_) => true,
            Error::Config(_) | Error::Other(_) => false,
        }
    }
}
