//! sgdnoise: how the noise of stochastic gradient descent shapes what neural networks learn.
//!
//! The library holds the science; the `sgdnoise` binary is a thin command line over it. A run
//! travels: settings ([`config::RunConfig`]) → validated [`config::RunSpec`] → [`data::load`] →
//! [`model::build`] → [`train::train`] (observables from [`observe`], records to [`store`]) →
//! [`store::Summary`]. Sweeps ([`sweep`]) plan many run specs and execute them locally or on
//! SLURM; [`analysis`] and [`plot`] turn a store into the paper's figures; [`reproduce`] has one
//! preset per figure. Nothing in the library prints to the terminal.

pub mod analysis;
pub mod bench;
pub mod compute;
pub mod config;
pub mod data;
pub mod model;
pub mod observe;
pub mod plot;
pub mod real;
pub mod reproduce;
pub mod rng;
pub mod run;
pub mod store;
pub mod study;
pub mod sweep;
pub mod train;

use std::path::{Path, PathBuf};

/// The crate version, recorded with every run.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Any failure of the library. `Config` and `Data` are the user's input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Data(#[from] data::DataError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            source,
        }
    }
    /// Whether the user's input caused this error (a setting or a data file).
    pub fn is_bad_input(&self) -> bool {
        matches!(self, Error::Config(_) | Error::Data(_))
    }
}
