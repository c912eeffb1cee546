use std::path::PathBuf;

/// A setting that cannot be used; every variant names the field and the offending value.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid value for `{field}`: {value} ({reason})")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("unknown {field} `{value}`; expected one of: {}", .expected.join(", "))]
    Unknown {
        field: &'static str,
        value: String,
        expected: &'static [&'static str],
    },
    #[error("`{field}` is required{hint}")]
    Missing {
        field: &'static str,
        hint: &'static str,
    },
    #[error("give either `temp` ({temp}) or `lr` ({lr}), not both: the other is derived from T = lr / (B h)")]
    TempAndLr { temp: f64, lr: f64 },
    #[error("batch size B = {batch} is larger than the training set P = {ptr}")]
    BatchTooLarge { batch: usize, ptr: usize },
    #[error("`{field}` = {value} does not apply to {run}: it applies only to {applies}")]
    NotApplicable {
        field: &'static str,
        value: String,
        /// The run it was given for: `arch linear, dataset depleted_sign`.
        run: String,
        /// Where it applies: `arch mlp, mnas`.
        applies: String,
    },
    #[error("config: {message}")]
    Toml { message: String },
    #[error("config file {}: {message}", path.display())]
    File { path: PathBuf, message: String },
}

impl ConfigError {
    pub(crate) fn invalid(
        field: &'static str,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
    ) -> Self {
        ConfigError::Invalid {
            field,
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}
