//! Run settings: raw values from flags or TOML ([`RunConfig`]) are checked and resolved once into
//! a [`RunSpec`], the only thing the rest of the library accepts.
//!
//! Resolution derives the learning rate from the temperature (or the reverse) with
//! `T = lr / (B * h)` (SPEC §3), fills in the default seeds of SPEC §7, and rejects every
//! inconsistent or out-of-range value with a [`ConfigError`] that names the field and the value.

mod error;
mod spec;

pub use error::ConfigError;
pub use spec::*;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Unchecked run settings, as read from flags or a TOML file (field names are the TOML keys; the
/// command-line flags are the same names in kebab-case). Every field is optional: missing ones
/// take defaults in [`RunConfig::resolve`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// "linear" (perceptron), "mlp" or "mnas".
    pub arch: Option<String>,
    /// Activation of mlp/mnas: "relu", "gelu" or "silu".
    pub act: Option<String>,
    /// Number of hidden layers L of the mlp.
    pub depth: Option<usize>,
    /// Width h (mlp hidden width; mnas base width). The perceptron has h = 1.
    pub width: Option<usize>,
    /// "depleted_sign", "sign", "random_sign", "mnist_parity", "cifar_animal", "fashion_parity".
    pub dataset: Option<String>,
    /// Density exponent chi of depleted_sign (density of x1 ∝ |x1|^chi exp(-x1²/2)).
    pub chi: Option<f64>,
    /// Input dimension d of the synthetic data sets.
    pub dim: Option<usize>,
    /// Training-set size P.
    pub ptr: Option<usize>,
    /// Test-set size.
    pub pte: Option<usize>,
    /// Scale alpha of the alpha-trick (margin 1/alpha in output space).
    pub alpha: Option<f64>,
    /// Mini-batch size B; absent means full-batch gradient descent (B = P).
    pub batch: Option<usize>,
    /// SGD temperature T = lr / (B h). Give this or `lr`, never both.
    pub temp: Option<f64>,
    /// Learning rate eta. Give this or `temp`, never both.
    pub lr: Option<f64>,
    /// "hinge" (default), "quadratic_hinge" or "mse".
    pub loss: Option<String>,
    /// "f32" (default) or "f64".
    pub dtype: Option<String>,
    pub seed_init: Option<i64>,
    pub seed_batch: Option<i64>,
    pub seed_trainset: Option<i64>,
    pub seed_testset: Option<i64>,
    /// Step cap.
    pub max_steps: Option<u64>,
    /// Wall-clock cap in seconds.
    pub max_wall: Option<f64>,
    /// Checkpoints per decade of steps (log-spaced schedule, SPEC §4).
    pub checkpoints_per_decade: Option<f64>,
    /// A checkpoint is also recorded when the training loss fell by this factor since the last one.
    pub loss_drop_factor: Option<f64>,
    /// Where the image data sets are (see `data::locate`). Not part of a run's identity.
    pub data_dir: Option<PathBuf>,
    /// Threads of one run (default 1). Not part of a run's identity.
    pub threads: Option<usize>,
}

impl RunConfig {
    /// Parses a TOML document; unknown keys are an error that names them.
    pub fn from_toml_str(text: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Toml {
            message: e.to_string(),
        })
    }

    /// Reads a TOML file.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            ConfigError::Toml { message } => ConfigError::File {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Values set in `over` replace those of `self` (flags over a config file).
    pub fn merged(mut self, over: &RunConfig) -> RunConfig {
        macro_rules! take {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f.clone(); } )* };
        }
        take!(
            arch,
            act,
            depth,
            width,
            dataset,
            chi,
            dim,
            ptr,
            pte,
            alpha,
            batch,
            temp,
            lr,
            loss,
            dtype,
            seed_init,
            seed_batch,
            seed_trainset,
            seed_testset,
            max_steps,
            max_wall,
            checkpoints_per_decade,
            loss_drop_factor,
            data_dir,
            threads
        );
        // Giving one of temp/lr on the command line replaces the other from the file.
        if over.temp.is_some() && over.lr.is_none() {
            self.lr = None;
        }
        if over.lr.is_some() && over.temp.is_none() {
            self.temp = None;
        }
        self
    }

    /// Sets one field from its name and a string value (used by sweeps: `key = value`).
    pub fn set(&mut self, key: &str, value: &toml::Value) -> Result<(), ConfigError> {
        let mut table = toml::Table::try_from(&*self).expect("RunConfig serialises to a table");
        table.insert(key.replace('-', "_"), value.clone());
        *self = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Toml {
                message: format!("setting `{key}` = {value}: {e}"),
            })?;
        Ok(())
    }
}
