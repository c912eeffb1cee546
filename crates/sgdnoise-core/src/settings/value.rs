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

/// A number of bytes (`max_memory`): a whole number, or one with a binary suffix as SLURM's
/// `--mem` takes it: `512M`, `8G`, `1.5T` (K, M, G, T, P are powers of 1024; a trailing `B` or
/// `iB` is allowed: `8GiB`, `8GB`). Written out (TOML, JSON) as the whole number of bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bytes(pub u64);

impl Bytes {
    /// Parses `8G`, `512MiB`, `1.5T`, `1000000` (see the type's doc).
    pub fn parse(text: &str) -> Result<Bytes, String> {
        let t = text.trim();
        let bad = || {
            format!("`{text}` is not a size in bytes (a whole number, or with a suffix: 512M, 8G, 1.5T)")
        };
        let upper = t.to_ascii_uppercase();
        let body = upper
            .strip_suffix("IB")
            .or_else(|| upper.strip_suffix('B'))
            .unwrap_or(&upper);
        let (number, shift) = match body.chars().last() {
            Some('K') => (&body[..body.len() - 1], 10),
            Some('M') => (&body[..body.len() - 1], 20),
            Some('G') => (&body[..body.len() - 1], 30),
            Some('T') => (&body[..body.len() - 1], 40),
            Some('P') => (&body[..body.len() - 1], 50),
            _ => (body, 0),
        };
        let number = number.trim();
        if number.is_empty() || number.starts_with(['-', '+']) {
            return Err(bad());
        }
        if let Ok(n) = number.parse::<u64>() {
            return n
                .checked_mul(1u64 << shift)
                .map(Bytes)
                .ok_or_else(|| format!("`{text}` is more bytes than a 64-bit count holds"));
        }
        let x: f64 = number.parse().map_err(|_| bad())?;
        let bytes = x * (1u64 << shift) as f64;
        if !bytes.is_finite() || bytes < 0.0 {
            return Err(bad());
        }
        if bytes >= u64::MAX as f64 {
            return Err(format!("`{text}` is more bytes than a 64-bit count holds"));
        }
        Ok(Bytes(bytes.round() as u64))
    }
}

impl std::fmt::Display for Bytes {
    /// `8.0 GiB`, `512 B`: for messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        if self.0 < 1024 {
            return write!(f, "{} B", self.0);
        }
        let mut v = self.0 as f64 / 1024.0;
        let mut unit = 0;
        while v >= 1024.0 && unit + 1 < UNITS.len() {
            v /= 1024.0;
            unit += 1;
        }
        write!(f, "{v:.1} {}", UNITS[unit])
    }
}

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Bytes;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a number of bytes, or a size such as \"8G\"")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Bytes, E> {
                Ok(Bytes(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Bytes, E> {
                u64::try_from(v)
                    .map(Bytes)
                    .map_err(|_| E::custom(format!("{v} is not a size in bytes (negative)")))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Bytes, E> {
                if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
                    Ok(Bytes(v.round() as u64))
                } else {
                    Err(E::custom(format!("{v} is not a size in bytes")))
                }
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Bytes, E> {
                Bytes::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl SettingValue for Bytes {
    const KIND: ValueKind = ValueKind::Integer { signed: false };
    fn parse_text(text: &str) -> Result<Self, String> {
        Bytes::parse(text)
    }
    fn show(&self) -> String {
        self.0.to_string()
    }
}

/// The names a yes/no setting takes (`save_params`), as flags and sweep files write them.
pub const BOOL_NAMES: &[&str] = &["false", "true"];

impl SettingValue for bool {
    const KIND: ValueKind = ValueKind::Name(BOOL_NAMES);
    fn parse_text(text: &str) -> Result<Self, String> {
        match text.trim() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!("`{text}` is not true or false")),
        }
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
