//! The types a setting can have, and how each is read from a flag and from TOML.

use serde::de::DeserializeOwned;
use serde::Serialize;
use std::path::PathBuf;

/// What kind of value a setting takes (for help texts, sweep ranges and flag parsing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A whole number; `signed` when it may be negative (seeds).
    Integer { signed: bool },
    /// A floating-point number.
    Number,
    /// One of a list of names.
    Name(&'static [&'static str]),
    /// A file or folder.
    Path,
}

impl ValueKind {
    /// A short placeholder for help texts: `N`, `X`, `NAME`, `DIR`.
    pub fn placeholder(self) -> &'static str {
        match self {
            ValueKind::Integer { .. } => "N",
            ValueKind::Number => "X",
            ValueKind::Name(_) => "NAME",
            ValueKind::Path => "PATH",
        }
    }
    /// Whether sweep ranges of this kind are rounded to whole numbers.
    pub fn is_integer(self) -> bool {
        matches!(self, ValueKind::Integer { .. })
    }
}

/// A type a setting can have.
pub trait SettingValue: Sized + Clone + PartialEq + Serialize + DeserializeOwned {
    const KIND: ValueKind;
    /// Parses the value as a user writes it on the command line.
    fn parse_text(text: &str) -> Result<Self, String>;
    /// The value as a user would write it (for messages, labels and help).
    fn show(&self) -> String;
}

macro_rules! integer_value {
    ($($t:ty => $signed:literal),*) => {$(
        impl SettingValue for $t {
            const KIND: ValueKind = ValueKind::Integer { signed: $signed };
            fn parse_text(text: &str) -> Result<Self, String> {
                text.trim().parse().map_err(|_| {
                    format!(
                        "`{text}` is not a whole number{}",
                        if $signed { "" } else { " >= 0" }
                    )
                })
            }
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
integer_value!(usize => false, u64 => false, i64 => true);

impl SettingValue for f64 {
    const KIND: ValueKind = ValueKind::Number;
    fn parse_text(text: &str) -> Result<Self, String> {
        text.trim()
            .parse()
            .map_err(|_| format!("`{text}` is not a number"))
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl SettingValue for PathBuf {
    const KIND: ValueKind = ValueKind::Path;
    fn parse_text(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("an empty path".into());
        }
        Ok(PathBuf::from(text))
    }
    fn show(&self) -> String {
        self.display().to_string()
    }
}
