//! Which runs an analysis takes: `analyze --where KEY=VALUE` ([`Where`]), and a check that the
//! runs do not differ in a setting that is not an axis of the analysis
//! ([`differing_settings`]): such runs would be averaged into one curve (a store with widths
//! 32 and 128 would give one curve per P mixing both).

use crate::{fmt_num, Kind};
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::{Role, SETTINGS};
use std::collections::{BTreeMap, BTreeSet};

/// One condition KEY=VALUE on a run setting (a TOML key of the settings table).
#[derive(Clone, Debug, PartialEq)]
pub struct Where {
    pub key: String,
    pub value: String,
}

/// The value of setting `key` of a run as text ("none" when unset; numbers in the compact
/// format of [`fmt_num`]). T and the learning rate come from the summary, where both are
/// always resolved.
pub fn setting_text(s: &Summary, key: &str) -> Option<String> {
    let config = serde_json::to_value(&s.config).ok()?;
    text_of(s, &config, key)
}

fn text_of(s: &Summary, config: &serde_json::Value, key: &str) -> Option<String> {
    match key {
        "temp" => return Some(fmt_num(s.temp)),
        "lr" => return Some(fmt_num(s.lr)),
        "ptr" => return Some(s.ptr.to_string()),
        "alpha" => return Some(fmt_num(s.alpha)),
        _ => {}
    }
    Some(match config.get(key)? {
        serde_json::Value::Null => "none".into(),
        serde_json::Value::String(t) => t.clone(),
        serde_json::Value::Number(n) => n.as_f64().map_or(n.to_string(), fmt_num),
        other => other.to_string(),
    })
}

/// A number written as a decimal or as 2^k.
fn parse_number(v: &str) -> Option<f64> {
    if let Some(k) = v.strip_prefix("2^") {
        return k.parse::<f64>().ok().map(|k| 2f64.powf(k));
    }
    v.parse::<f64>().ok()
}

impl Where {
    /// Parses `KEY=VALUE`; the key must be a run setting. Errors name the condition.
    pub fn parse(text: &str) -> Result<Where, String> {
        let Some((key, value)) = text.split_once('=') else {
            return Err(format!(
                "--where {text:?}: expected KEY=VALUE, e.g. width=128"
            ));
        };
        let (key, value) = (key.trim().replace('-', "_"), value.trim().to_string());
        let known = SETTINGS
            .iter()
            .any(|s| s.name == key && s.role == Role::Result);
        if !known {
            let names: Vec<&str> = SETTINGS
                .iter()
                .filter(|s| s.role == Role::Result)
                .map(|s| s.name)
                .collect();
            return Err(format!(
                "--where {text:?}: {key:?} is not a run setting (one of: {})",
                names.join(", ")
            ));
        }
        if value.is_empty() {
            return Err(format!("--where {text:?}: the value is empty"));
        }
        Ok(Where { key, value })
    }

    /// Whether run `s` satisfies the condition: numbers compare as numbers (1024, 1e3, 2^-3),
    /// anything else as text ("none" matches an unset setting).
    pub fn matches(&self, s: &Summary) -> bool {
        let Some(have) = setting_text(s, &self.key) else {
            return false;
        };
        match (parse_number(&have), parse_number(&self.value)) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
            _ => have == self.value,
        }
    }

    pub fn describe(&self) -> String {
        format!("{}={}", self.key, self.value)
    }
}

/// The runs that satisfy every condition.
pub fn select(runs: Vec<Summary>, conditions: &[Where]) -> Vec<Summary> {
    runs.into_iter()
        .filter(|s| conditions.iter().all(|c| c.matches(s)))
        .collect()
}

/// The settings that the figures of `kind` split the runs by (or that follow from those).
pub fn axes_of(kind: Kind) -> &'static [&'static str] {
    const SEEDS: [&str; 3] = ["seed_init", "seed_batch", "seed_trainset"];
    match kind {
        Kind::TSweep => &["temp", "lr", "ptr", SEEDS[0], SEEDS[1], SEEDS[2]],
        Kind::Phase => &["alpha", "temp", "lr", SEEDS[0], SEEDS[1], SEEDS[2]],
        Kind::Batch => &[
            "batch", "lr", "temp", "ptr", "chi", SEEDS[0], SEEDS[1], SEEDS[2],
        ],
        Kind::Perceptron => &[
            "dim", "alpha", "chi", "ptr", "temp", "lr", SEEDS[0], SEEDS[1], SEEDS[2],
        ],
    }
}

/// The settings (other than the axes of `kind`) in which the runs differ, with their values.
pub fn differing_settings(runs: &[Summary], kind: Kind) -> Vec<(String, Vec<String>)> {
    let axes = axes_of(kind);
    let mut values: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for s in runs {
        let Ok(config) = serde_json::to_value(&s.config) else {
            continue;
        };
        for set in SETTINGS.iter().filter(|x| x.role == Role::Result) {
            if axes.contains(&set.name) {
                continue;
            }
            if let Some(v) = text_of(s, &config, set.name) {
                values.entry(set.name).or_default().insert(v);
            }
        }
    }
    values
        .into_iter()
        .filter(|(_, v)| v.len() > 1)
        .map(|(k, v)| (k.to_string(), v.into_iter().collect()))
        .collect()
}

/// The warning lines for [`differing_settings`].
pub fn differing_warnings(runs: &[Summary], kind: Kind) -> Vec<String> {
    differing_settings(runs, kind)
        .into_iter()
        .map(|(key, vals)| {
            format!(
                "the runs differ in {key} ({}), which is not an axis of a {} analysis: runs that differ only in it are averaged into one curve; select one value with --where {key}={}",
                vals.join(", "),
                kind.name(),
                vals[0]
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::testing::summary;

    /// Regression (issue 10): a store with widths 32 and 128 was averaged into one curve
    /// without a word.
    #[test]
    fn runs_of_two_widths_are_flagged_and_selectable() {
        let mut runs = Vec::new();
        for (k, w) in [32usize, 128].into_iter().enumerate() {
            for t in [0.5, 0.25] {
                let mut s = summary("mlp", 1024, t, 32768.0, 0, 0.1, 0.01, 1.0);
                s.config.width = Some(w);
                s.id = format!("{}-{k}", s.id);
                runs.push(s);
            }
        }
        let d = differing_settings(&runs, Kind::TSweep);
        assert_eq!(
            d,
            vec![("width".to_string(), vec!["128".into(), "32".into()])]
        );
        let w = differing_warnings(&runs, Kind::TSweep);
        assert!(
            w[0].contains("width (128, 32)") && w[0].contains("--where width="),
            "{w:?}"
        );
        // T is an axis: no warning for it.
        assert!(!w.iter().any(|l| l.contains("temp")));
        let sel = select(runs.clone(), &[Where::parse("width=32").unwrap()]);
        assert_eq!(sel.len(), 2);
        assert!(differing_settings(&sel, Kind::TSweep).is_empty());
        let sel = select(
            runs.clone(),
            &[
                Where::parse("width=128").unwrap(),
                Where::parse("temp=2^-1").unwrap(),
            ],
        );
        assert_eq!(sel.len(), 1);
        assert_eq!(
            select(runs, &[Where::parse("arch=linear").unwrap()]).len(),
            0
        );
    }

    #[test]
    fn bad_conditions_name_themselves() {
        let e = Where::parse("widht=128").unwrap_err();
        assert!(e.contains("widht") && e.contains("width"), "{e}");
        assert!(Where::parse("width").unwrap_err().contains("KEY=VALUE"));
        assert!(Where::parse("width=").unwrap_err().contains("empty"));
        // Execution settings are no property of a run.
        assert!(Where::parse("threads=2").is_err());
        assert_eq!(Where::parse("seed-init=3").unwrap().key, "seed_init");
    }
}
