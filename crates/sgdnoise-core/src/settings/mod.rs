//! Run settings: one table ([`table`]) declares every setting; raw values from flags, TOML or a
//! sweep ([`RunConfig`]) are checked and resolved once into a [`RunSpec`] ([`resolve`]), the only
//! thing the rest of the library accepts; [`identity`] names a run.
//!
//! Enumerated values ([`Arch`], [`Activation`], [`DatasetName`], [`Loss`], [`Dtype`], [`Given`])
//! are types with one list of names (the `names!` macro).

mod error;
pub mod identity;
pub mod limits;
pub(crate) mod names;
pub mod resolve;
pub mod table;
mod value;

pub use error::ConfigError;
pub use identity::IDENTITY_SCHEMA;
pub use names::{
    Activation, Arch, DatasetName, Dtype, Dynamics, Given, Loss, LossConvention, SdeNoise,
};
pub use resolve::{Execution, RunSpec, Seeds};
pub use table::{
    defaults, setting, Applies, Context, Role, RunConfig, Setting, EXCLUSIVE, NAMES, SETTINGS,
};
pub use value::{Bytes, SettingValue, ValueKind, BOOL_NAMES};

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
}

/// Renders a TOML value compactly, as a user writes it (`0.5`, `256`, `relu`).
pub fn show_toml(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
