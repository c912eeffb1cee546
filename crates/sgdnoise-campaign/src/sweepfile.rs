//! Sweep files: fixed settings and axes in TOML, expanded into a [`Plan`].
//!
//! # Syntax
//!
//! ```toml
//! name = "perceptron-sweep"        # optional; default: the file name without extension
//! description = "free text"        # optional
//!
//! [fixed]                          # settings shared by every run: any `sgdnoise run` key
//! dataset = "depleted_sign"
//! dim = 32
//! batch = 2
//! alpha = 32768
//!
//! [axes]                           # the sweep is the Cartesian product of these
//! chi = [1, 3]                                 # explicit list
//! ptr = { log2 = [8, 11] }                     # 2^8, 2^9, 2^10, 2^11
//! temp = { log2 = [-13, 2], step = 0.5 }       # 2^-13, 2^-12.5, ..., 2^2 (31 values)
//! lr = { log2 = [-15, 2], per_octave = 2 }     # the same as step = 0.5
//! pte = { log10 = [2, 4], per_decade = 4 }     # 100, 178, 316, 562, 1000, ... (rounded: integer key)
//! seed_init = { range = [0, 4] }               # 0, 1, 2, 3, 4 (linear, `step` default 1)
//! width = 128                                  # a single value (same as putting it in [fixed])
//!
//! [[zip]]                          # optional: settings that vary together (equal lengths);
//! alpha = [1.0, 32768.0]           # each [[zip]] table is one axis of the product
//! max_wall = [100.0, 10000.0]
//!
//! [slurm]                          # optional defaults of `sgdnoise sweep slurm`
//! partition = "cpu"
//! time = "02:00:00"
//! cpus_per_task = 1
//! mem = "2G"
//! max_array_size = 1001
//! runs_per_task = 1
//! extra_sbatch = ["--account=abc"]
//! ```
//!
//! Ranges: `log2 = [a, b]` gives `2^e` and `log10 = [a, b]` gives `10^e` for the exponents
//! `e = a, a + step, ...` up to `b` inclusive (`step` defaults to 1; `per_octave = n` or
//! `per_decade = n` mean `step = 1/n`); `range = [a, b]` gives `a, a + step, ...` up to `b`.
//! Integer exponents give exact powers. For integer settings (ptr, batch, width, dim, seeds,
//! max_steps, ...) the values are rounded to the nearest integer and repeated values dropped.
//!
//! Axes combine in the alphabetical order of their keys (the first varies slowest), then the
//! `[[zip]]` groups in file order. A value on an axis replaces the same key of `[fixed]`. Every
//! combination is resolved with [`RunConfig::resolve`] before anything runs; all invalid ones are
//! reported together ([`PlanErrors`]). Combinations that resolve to the same run (same
//! [`RunSpec::identity`]) are run once.

use crate::Plan;
use serde::{Deserialize, Serialize};
use sgdnoise_core::settings::{ConfigError, RunConfig, RunSpec};
use std::collections::HashSet;
use std::path::Path;
use toml::Value;

/// Most combinations one sweep file may expand to (the paper's sweeps hold about 17,000 runs).
pub const MAX_COMBINATIONS: usize = 1_000_000;

/// The SLURM defaults a sweep file may carry (`[slurm]`); flags of `sweep slurm` override them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmSettings {
    pub partition: Option<String>,
    /// Time limit per array task, `HH:MM:SS` (or any form sbatch accepts).
    pub time: Option<String>,
    pub cpus_per_task: Option<usize>,
    /// Memory per task as sbatch takes it (`2G`, `500M`).
    pub mem: Option<String>,
    /// Largest array index + 1 the cluster accepts (default: `scontrol show config`, else 1001).
    pub max_array_size: Option<usize>,
    /// Runs executed one after the other by each array task (default 1).
    pub runs_per_task: Option<usize>,
    /// Further `#SBATCH` lines, e.g. `--account=abc` or `--qos=short`.
    pub extra_sbatch: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweepFile {
    name: Option<String>,
    description: Option<String>,
    #[serde(default)]
    fixed: toml::Table,
    #[serde(default)]
    axes: toml::Table,
    #[serde(default)]
    zip: Vec<toml::Table>,
    #[serde(default)]
    slurm: SlurmSettings,
}

/// One axis of the product: one setting, or several zipped settings, and its points.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The settings this axis sets (one, or several for a `[[zip]]` group).
    pub keys: Vec<String>,
    /// The points: `points[i][k]` is the value of `keys[k]` at point `i`.
    pub points: Vec<Vec<Value>>,
}

/// A parsed sweep file.
#[derive(Clone, Debug)]
pub struct SweepFile {
    pub name: String,
    pub description: Option<String>,
    pub fixed: RunConfig,
    pub axes: Vec<Axis>,
    pub slurm: SlurmSettings,
}

/// A problem in a sweep file or one of its combinations.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanError {
    /// Where: `[fixed]`, `axes.temp`, or the combination (`run 12: chi=1 ptr=256`).
    pub context: String,
    /// What is wrong (names the setting and its value).
    pub message: String,
}

/// Everything wrong with a sweep file, found before any run starts.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", summary(.0))]
pub struct PlanErrors(pub Vec<PlanError>);

fn summary(errors: &[PlanError]) -> String {
    let mut out = format!("{} invalid setting(s) or combination(s):", errors.len());
    for e in errors.iter().take(20) {
        out.push_str(&format!("\n  {}: {}", e.context, e.message));
    }
    if errors.len() > 20 {
        out.push_str(&format!("\n  ... and {} more", errors.len() - 20));
    }
    out
}

/// A sweep file expanded into runs.
#[derive(Clone, Debug)]
pub struct Expansion {
    pub plan: Plan,
    /// The axes, as in [`SweepFile::axes`].
    pub axes: Vec<Axis>,
    /// For each run of `plan.runs`: its axis values as `key=value` pairs.
    pub labels: Vec<Vec<(String, String)>>,
    /// Combinations dropped because they resolve to a run already in the plan.
    pub duplicates: usize,
    pub slurm: SlurmSettings,
}

impl Expansion {
    /// `key=value key=value` of run `i`.
    pub fn label(&self, i: usize) -> String {
        self.labels[i]
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Renders a TOML scalar compactly (`0.5`, `256`, `relu`).
pub fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

fn err(context: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError {
        context: context.into(),
        message: message.into(),
    }
}

/// Whether `key` takes integers (probed through [`RunConfig::set`], so it follows RunConfig).
fn is_integer_key(key: &str) -> bool {
    let mut c = RunConfig::default();
    c.set(key, &Value::Float(0.5)).is_err() && c.set(key, &Value::Integer(1)).is_ok()
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Points of a range axis `{ log2 = [a, b], ... }` etc. `ctx` names the axis for errors.
fn range_points(ctx: &str, key: &str, table: &toml::Table) -> Result<Vec<Value>, PlanError> {
    let kinds: Vec<&str> = ["log2", "log10", "range"]
        .into_iter()
        .filter(|k| table.contains_key(*k))
        .collect();
    if kinds.len() != 1 {
        return Err(err(
            ctx,
            "a range axis needs exactly one of `log2 = [a, b]`, `log10 = [a, b]`, `range = [a, b]`",
        ));
    }
    let kind = kinds[0];
    for k in table.keys() {
        let allowed = match kind {
            "log2" => ["log2", "step", "per_octave"].contains(&k.as_str()),
            "log10" => ["log10", "step", "per_decade"].contains(&k.as_str()),
            _ => ["range", "step"].contains(&k.as_str()),
        };
        if !allowed {
            return Err(err(ctx, format!("unknown key `{k}` in a `{kind}` range")));
        }
    }
    let bounds = match table[kind]
        .as_array()
        .map(|a| a.iter().map(number).collect::<Vec<_>>())
    {
        Some(b) if b.len() == 2 && b.iter().all(|x| x.is_some_and(f64::is_finite)) => {
            [b[0].unwrap(), b[1].unwrap()]
        }
        _ => {
            return Err(err(
                ctx,
                format!("`{kind}` = {} must be two numbers [from, to]", table[kind]),
            ))
        }
    };
    let per = match kind {
        "log2" => table.get("per_octave"),
        "log10" => table.get("per_decade"),
        _ => None,
    };
    let step = match (table.get("step"), per) {
        (Some(_), Some(_)) => {
            return Err(err(
                ctx,
                "give `step` or `per_octave`/`per_decade`, not both",
            ))
        }
        (Some(s), None) => {
            number(s).ok_or_else(|| err(ctx, format!("`step` = {s} is not a number")))?
        }
        (None, Some(n)) => {
            let n = number(n).ok_or_else(|| err(ctx, format!("`{n}` is not a number")))?;
            if n.is_nan() || n <= 0.0 {
                return Err(err(
                    ctx,
                    format!("points per octave/decade = {n} must be > 0"),
                ));
            }
            1.0 / n
        }
        (None, None) => 1.0,
    };
    if !(step.is_finite() && step > 0.0) {
        return Err(err(ctx, format!("`step` = {step} must be a number > 0")));
    }
    let [a, b] = bounds;
    if b < a {
        return Err(err(
            ctx,
            format!("`{kind}` = [{a}, {b}]: the end is below the start"),
        ));
    }
    let n = ((b - a) / step + 1e-9).floor() as usize;
    if n > 1_000_000 {
        return Err(err(
            ctx,
            format!("{} points is too many for one axis", n + 1),
        ));
    }
    let integer = is_integer_key(key);
    let mut out: Vec<Value> = Vec::with_capacity(n + 1);
    for k in 0..=n {
        let e = a + k as f64 * step;
        let x = match kind {
            "log2" if e.fract() == 0.0 => e.exp2(),
            "log2" => 2f64.powf(e),
            "log10" if e.fract() == 0.0 && e.abs() <= 300.0 => 10f64.powi(e as i32),
            "log10" => 10f64.powf(e),
            _ => e,
        };
        let v = if integer {
            let r = x.round();
            if !r.is_finite() || r.abs() >= 9.0e15 {
                return Err(err(ctx, format!("value {x} is out of range for `{key}`")));
            }
            Value::Integer(r as i64)
        } else if kind == "range" && a.fract() == 0.0 && step.fract() == 0.0 && x.abs() < 9.0e15 {
            Value::Integer(x as i64)
        } else {
            Value::Float(x)
        };
        if out.last() != Some(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Points of one axis value as written (list, range table or single value).
fn axis_points(ctx: &str, key: &str, value: &Value) -> Result<Vec<Value>, PlanError> {
    let points = match value {
        Value::Array(items) => items.clone(),
        Value::Table(t) => range_points(ctx, key, t)?,
        scalar => vec![scalar.clone()],
    };
    if points.is_empty() {
        return Err(err(ctx, "an axis needs at least one value"));
    }
    for p in &points {
        let mut c = RunConfig::default();
        c.set(key, p).map_err(|e| err(ctx, config_message(&e)))?;
    }
    Ok(points)
}

fn config_message(e: &ConfigError) -> String {
    match e {
        ConfigError::Toml { message } => message.clone(),
        other => other.to_string(),
    }
}

impl SweepFile {
    /// Parses a sweep file's text; `default_name` is used when it has no `name`.
    pub fn parse(text: &str, default_name: &str) -> Result<SweepFile, PlanErrors> {
        let raw: RawSweepFile =
            toml::from_str(text).map_err(|e| PlanErrors(vec![err("sweep file", e.to_string())]))?;
        let mut errors = Vec::new();
        let fixed: RunConfig = match toml::Value::Table(raw.fixed.clone()).try_into() {
            Ok(c) => c,
            Err(e) => {
                errors.push(err("[fixed]", e.to_string()));
                RunConfig::default()
            }
        };
        let mut axes = Vec::new();
        let mut seen = HashSet::new();
        for (key, value) in &raw.axes {
            let ctx = format!("axes.{key}");
            seen.insert(key.replace('-', "_"));
            match axis_points(&ctx, key, value) {
                Ok(points) => axes.push(Axis {
                    keys: vec![key.clone()],
                    points: points.into_iter().map(|p| vec![p]).collect(),
                }),
                Err(e) => errors.push(e),
            }
        }
        for (z, table) in raw.zip.iter().enumerate() {
            let ctx = format!("zip #{}", z + 1);
            let mut keys = Vec::new();
            let mut columns = Vec::new();
            for (key, value) in table {
                if !seen.insert(key.replace('-', "_")) {
                    errors.push(err(&ctx, format!("`{key}` is already an axis")));
                    continue;
                }
                match axis_points(&format!("{ctx}.{key}"), key, value) {
                    Ok(points) => {
                        keys.push(key.clone());
                        columns.push(points);
                    }
                    Err(e) => errors.push(e),
                }
            }
            if columns.is_empty() {
                continue;
            }
            let len = columns[0].len();
            if let Some(bad) = columns.iter().position(|c| c.len() != len) {
                errors.push(err(
                    &ctx,
                    format!(
                        "zipped settings need equal lengths: `{}` has {}, `{}` has {}",
                        keys[0],
                        len,
                        keys[bad],
                        columns[bad].len()
                    ),
                ));
                continue;
            }
            axes.push(Axis {
                keys,
                points: (0..len)
                    .map(|i| columns.iter().map(|c| c[i].clone()).collect())
                    .collect(),
            });
        }
        if !errors.is_empty() {
            return Err(PlanErrors(errors));
        }
        Ok(SweepFile {
            name: raw.name.unwrap_or_else(|| default_name.to_string()),
            description: raw.description,
            fixed,
            axes,
            slurm: raw.slurm,
        })
    }

    /// Reads and parses a sweep file (its name defaults to the file stem).
    pub fn read(path: &Path) -> Result<SweepFile, PlanErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            PlanErrors(vec![err(
                path.display().to_string(),
                format!("cannot read: {e}"),
            )])
        })?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("sweep");
        Self::parse(&text, stem).map_err(|PlanErrors(v)| {
            PlanErrors(
                v.into_iter()
                    .map(|e| PlanError {
                        context: format!("{}: {}", path.display(), e.context),
                        message: e.message,
                    })
                    .collect(),
            )
        })
    }

    /// Number of combinations (before dropping duplicates).
    pub fn combinations(&self) -> usize {
        self.axes
            .iter()
            .map(|a| a.points.len())
            .fold(1usize, |n, k| n.saturating_mul(k))
    }

    /// Expands the product of the axes, resolves every combination and reports all invalid ones.
    pub fn expand(&self) -> Result<Expansion, PlanErrors> {
        let total = self.combinations();
        if total > MAX_COMBINATIONS {
            return Err(PlanErrors(vec![err(
                "axes",
                format!(
                    "{total} combinations is more than the {MAX_COMBINATIONS} a sweep may hold"
                ),
            )]));
        }
        let mut errors = Vec::new();
        let mut runs = Vec::with_capacity(total);
        let mut labels = Vec::with_capacity(total);
        let mut ids = HashSet::new();
        let mut duplicates = 0;
        let mut index = vec![0usize; self.axes.len()];
        for n in 0..total {
            // Mixed-radix digits of n, the first axis varying slowest.
            let mut rest = n;
            for (a, axis) in self.axes.iter().enumerate().rev() {
                index[a] = rest % axis.points.len();
                rest /= axis.points.len();
            }
            let mut config = self.fixed.clone();
            let mut label = Vec::new();
            let mut bad = None;
            for (axis, &i) in self.axes.iter().zip(&index) {
                for (key, value) in axis.keys.iter().zip(&axis.points[i]) {
                    label.push((key.clone(), show_value(value)));
                    if let Err(e) = set_value(&mut config, key, value) {
                        bad = Some(config_message(&e));
                    }
                }
            }
            let label_text = label
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ");
            let resolved = match bad {
                Some(m) => Err(m),
                None => config.resolve().map_err(|e| config_message(&e)),
            };
            match resolved {
                Ok(spec) => {
                    if ids.insert(spec.identity()) {
                        runs.push(spec);
                        labels.push(label);
                    } else {
                        duplicates += 1;
                    }
                }
                Err(message) => errors.push(err(
                    format!("combination {} ({})", n + 1, label_text),
                    message,
                )),
            }
        }
        if !errors.is_empty() {
            return Err(PlanErrors(errors));
        }
        Ok(Expansion {
            plan: Plan {
                name: self.name.clone(),
                runs,
            },
            axes: self.axes.clone(),
            labels,
            duplicates,
            slurm: self.slurm.clone(),
        })
    }
}

/// Sets `key` on `config`; giving `temp` on an axis clears an `lr` of `[fixed]` and the reverse,
/// as a flag does over a config file.
fn set_value(config: &mut RunConfig, key: &str, value: &Value) -> Result<(), ConfigError> {
    config.set(key, value)?;
    match key {
        "temp" => config.lr = None,
        "lr" => config.temp = None,
        _ => {}
    }
    Ok(())
}

/// The axis settings of `spec` (for a line per run), from its flat config.
pub fn key_settings(spec: &RunSpec, keys: &[String]) -> Vec<(String, String)> {
    let table = toml::Table::try_from(spec.to_config()).unwrap_or_default();
    keys.iter()
        .filter_map(|k| table.get(k).map(|v| (k.clone(), show_value(v))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses the inside of an inline table, `log2 = [1, 2], step = 0.5`.
    fn inline(text: &str) -> toml::Table {
        let doc: toml::Table = toml::from_str(&format!("x = {{ {text} }}")).unwrap();
        doc["x"].as_table().unwrap().clone()
    }

    #[test]
    fn log_ranges_are_exact_powers_and_round_for_integer_keys() {
        let t = inline("log2 = [-2, 1]");
        let p = range_points("x", "temp", &t).unwrap();
        assert_eq!(
            p,
            vec![
                Value::Float(0.25),
                Value::Float(0.5),
                Value::Float(1.0),
                Value::Float(2.0)
            ]
        );
        let t = inline("log10 = [2, 3], per_decade = 4");
        let p = range_points("x", "ptr", &t).unwrap();
        // 10^2, 10^2.25, 10^2.5, 10^2.75, 10^3 rounded.
        assert_eq!(p, [100, 178, 316, 562, 1000].map(Value::Integer).to_vec());
        let t = inline("log2 = [0, 1], step = 0.5");
        let p = range_points("x", "alpha", &t).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1], Value::Float(2f64.sqrt()));
        let t = inline("range = [0, 4]");
        let p = range_points("x", "seed_init", &t).unwrap();
        assert_eq!(p, (0..5).map(Value::Integer).collect::<Vec<_>>());
    }

    #[test]
    fn bad_ranges_name_the_axis() {
        for (text, needle) in [
            ("log2 = [3, 1]", "below"),
            ("log2 = [1, 3], step = 0", "step"),
            ("log2 = [1]", "two numbers"),
            ("log2 = [1, 2], per_decade = 3", "per_decade"),
            ("log2 = [1, 2], log10 = [1, 2]", "exactly one"),
        ] {
            let t = inline(text);
            let e = range_points("axes.temp", "temp", &t).unwrap_err();
            assert_eq!(e.context, "axes.temp");
            assert!(e.message.contains(needle), "{text}: {}", e.message);
        }
    }

    #[test]
    fn product_resolves_every_combination_and_reports_all_invalid_ones() {
        let f = SweepFile::parse(
            "[fixed]\nbatch = 2\ndim = 8\n[axes]\nptr = [4, 8]\ntemp = { log2 = [-1, 0] }\nseed_init = [0, 1, 2]\n",
            "t",
        )
        .unwrap();
        let e = f.expand().unwrap();
        assert_eq!(e.plan.runs.len(), 12);
        assert_eq!(e.plan.name, "t");
        // Alphabetical axes, the first (ptr) varying slowest.
        assert_eq!(e.label(0), "ptr=4 seed_init=0 temp=0.5");
        assert_eq!(e.label(1), "ptr=4 seed_init=0 temp=1");
        assert_eq!(e.plan.runs[11].ptr, 8);

        let f = SweepFile::parse(
            "[fixed]\ndim = 8\n[axes]\nptr = [1, 4]\nbatch = [2, 3]\ntemp = [1.0, -1.0]\n",
            "t",
        )
        .unwrap();
        let PlanErrors(errors) = f.expand().unwrap_err();
        // ptr=1 with either batch (2 temps each) and every temp=-1 combination: 4 + 2 = 6.
        assert_eq!(errors.len(), 6, "{errors:?}");
        assert!(errors
            .iter()
            .any(|e| e.message.contains("temp") && e.message.contains("-1")));
        assert!(errors
            .iter()
            .any(|e| e.context.contains("ptr=1") && e.message.contains("larger than")));
    }

    #[test]
    fn unknown_keys_and_bad_types_are_reported_before_expansion() {
        let PlanErrors(errors) = SweepFile::parse(
            "[fixed]\nbogus = 1\n[axes]\ntempp = [1]\nptr = [1.5]\n",
            "t",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].message.contains("bogus"));
        assert!(errors.iter().any(|e| e.context == "axes.tempp"));
        assert!(errors.iter().any(|e| e.context == "axes.ptr"));
        assert!(SweepFile::parse("nme = \"x\"\n", "t").is_err());
    }

    #[test]
    fn zip_groups_vary_together_and_duplicates_run_once() {
        let f = SweepFile::parse(
            "[fixed]\nbatch = 2\ntemp = 1.0\n[axes]\nseed_init = [0, 0, 1]\n[[zip]]\nalpha = [1.0, 2.0]\nptr = [16, 32]\n",
            "t",
        )
        .unwrap();
        let e = f.expand().unwrap();
        assert_eq!(e.plan.runs.len(), 4);
        assert_eq!(e.duplicates, 2);
        assert!(e
            .plan
            .runs
            .iter()
            .all(|r| (r.alpha == 1.0) == (r.ptr == 16)));
        let bad = SweepFile::parse("[[zip]]\nalpha = [1.0, 2.0]\nptr = [16]\n", "t").unwrap_err();
        assert!(bad.0[0].message.contains("equal lengths"), "{bad}");
    }

    #[test]
    fn an_axis_temp_replaces_a_fixed_lr() {
        let f =
            SweepFile::parse("[fixed]\nlr = 1.0\nbatch = 2\n[axes]\ntemp = [0.5]\n", "t").unwrap();
        let e = f.expand().unwrap();
        assert_eq!(e.plan.runs[0].temp, 0.5);
    }
}
