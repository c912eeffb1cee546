//! Tidy tables of a store: one row per finished run ([`Table::runs`]), or one row per checkpoint
//! of the selected runs ([`Table::checkpoints`], long format), with typed columns, written as CSV
//! ([`Table::write_csv`]) or, with the `parquet` feature, as Parquet (`Table::write_parquet`); the
//! Python package reads the same columns.
//!
//! Columns of the runs table, in order:
//! - `id`, the run's identity;
//! - every result setting of the table in `sgdnoise_core::settings::table`, named as the setting
//!   (`ptr`, `dim`, `seed_init`, ...; the execution settings `threads` and `data_dir` are left out),
//!   typed by its kind (whole numbers as `Int`, numbers as `Float`, names as `Str`). `temp` and
//!   `lr` both hold the resolved values; a setting that does not apply to the run (`act` of a
//!   perceptron) or was not given and has no default (`batch` of full-batch gradient descent,
//!   `max_steps` without a cap) is missing;
//! - `given`: which of `temp` and `lr` the run was given (`"temp"` or `"lr"`);
//! - `stop_reason`, and `diverged` (`stop_reason` is `diverged` or `frozen`, as the analysis
//!   counts them);
//! - the summary's scalars ([`SUMMARY_COLUMNS`], then any other scalar a summary holds). The
//!   observables of a diverged run ([`DIVERGED_MISSING`]: `t_star`, errors, losses, weight changes,
//!   signal and noise) are missing, so that a mean over runs is never contaminated by the finite
//!   values a blown-up net happens to have. A NaN is missing too.
//!
//! The checkpoints table repeats the run's `id`, settings, `given`, `stop_reason` and `diverged`
//! on every row of its records, then [`RECORD_COLUMNS`] (`step`, `t`, `wall`, `train_loss`, ...),
//! the perceptron's observables when a run has them ([`PERCEPTRON_COLUMNS`]), and the per-layer
//! statistics of every layer found, `layer_<name>_norm2`, `layer_<name>_dist2` and
//! `layer_<name>_rel_change` (missing for runs without that layer). Checkpoints are kept as
//! recorded, diverged runs included: they are the trajectory up to the blow-up.
//!
//! Missing values are an empty CSV cell, a Parquet null, and NaN / `<NA>` in pandas.

#[cfg(feature = "parquet")]
mod parquet_file;

/// Whether this build writes Parquet (the `parquet` feature).
pub const PARQUET: bool = cfg!(feature = "parquet");

#[cfg(not(feature = "parquet"))]
impl Table {
    /// Built without the `parquet` feature: an error saying so.
    pub fn write_parquet(&self, path: &Path) -> Result<(), sgdnoise_core::Error> {
        Err(sgdnoise_core::Error::Other(format!(
            "{}: {NO_PARQUET}",
            path.display()
        )))
    }
}

/// Why a build without the `parquet` feature writes no Parquet, and how to get one that does.
pub const NO_PARQUET: &str =
    "this build of sgdnoise writes no Parquet (built without the `parquet` \
    feature; build it with `cargo build --release -p sgdnoise-cli --features parquet`)";

use crate::Store;
use serde_json::Value;
use sgdnoise_core::observe::Record;
use sgdnoise_core::rundir::{self, Summary};
use sgdnoise_core::settings::{Role, ValueKind, SETTINGS};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Summary fields in table order (scalars only; others found in a summary follow, sorted).
pub const SUMMARY_COLUMNS: &[(&str, Kind)] = &[
    ("steps", Kind::Int),
    ("t_star", Kind::Float),
    ("wall_seconds", Kind::Float),
    ("train_err", Kind::Float),
    ("test_err", Kind::Float),
    ("train_loss", Kind::Float),
    ("test_loss", Kind::Float),
    ("rel_weight_change", Kind::Float),
    ("rel_weight_change_layer_mean", Kind::Float),
    ("signal", Kind::Float),
    ("noise", Kind::Float),
    ("signal_to_noise", Kind::Float),
    ("steps_simulated", Kind::Int),
    ("full_checks", Kind::Int),
    ("check_seconds", Kind::Float),
    ("checkpoint_seconds", Kind::Float),
    ("crate_version", Kind::Str),
];

/// Observables left missing for a diverged (or frozen) run: its numbers are not results.
pub const DIVERGED_MISSING: &[&str] = &[
    "t_star",
    "train_err",
    "test_err",
    "train_loss",
    "test_loss",
    "rel_weight_change",
    "rel_weight_change_layer_mean",
    "signal",
    "noise",
    "signal_to_noise",
];

/// Columns of a checkpoint record (SPEC §5) in table order: the fields of
/// [`Record`], with the train and test statistics flattened as `train_loss`, `test_err`, ...
pub const RECORD_COLUMNS: &[(&str, Kind)] = &[
    ("step", Kind::Int),
    ("t", Kind::Float),
    ("wall", Kind::Float),
    ("train_loss", Kind::Float),
    ("train_alpha_loss", Kind::Float),
    ("train_err", Kind::Float),
    ("train_min_margin", Kind::Float),
    ("train_unfitted", Kind::Int),
    ("test_loss", Kind::Float),
    ("test_alpha_loss", Kind::Float),
    ("test_err", Kind::Float),
    ("test_min_margin", Kind::Float),
    ("test_unfitted", Kind::Int),
    ("rel_weight_change", Kind::Float),
    ("rel_weight_change_layer_mean", Kind::Float),
];

/// The perceptron's observables of a record (present when some run of the table has them).
pub const PERCEPTRON_COLUMNS: &[&str] = &[
    "signal",
    "noise",
    "noise2_per_dim",
    "signal_to_noise",
    "mean_abs_x1_unfitted",
];

/// The NTK observables of a record or a summary (`--ntk-points`, SPEC §11), each a column
/// `ntk_<field>` (present when some run of the table has them).
pub const NTK_COLUMNS: &[&str] = &[
    "ntk_rel_change",
    "ntk_kernel_change",
    "ntk_kernel_norm",
    "ntk_yky",
    "ntk_y_kinv_y",
];

/// The per-layer statistics, each a column `layer_<name>_<stat>`.
pub const LAYER_STATS: &[&str] = &["norm2", "dist2", "rel_change"];

/// The run-level columns that are not settings, repeated on every checkpoint row.
const RUN_COLUMNS: &[&str] = &["given", "stop_reason", "diverged"];

/// The type of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 64-bit signed whole numbers.
    Int,
    /// 64-bit floats.
    Float,
    Bool,
    /// Text (names, ids, versions).
    Str,
}

impl Kind {
    /// The name used in messages and by the Python package.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Bool => "bool",
            Kind::Str => "str",
        }
    }
}

/// The values of one column; `None` is a missing value.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Str(Vec<Option<String>>),
}

impl Values {
    fn new(kind: Kind) -> Values {
        match kind {
            Kind::Int => Values::Int(Vec::new()),
            Kind::Float => Values::Float(Vec::new()),
            Kind::Bool => Values::Bool(Vec::new()),
            Kind::Str => Values::Str(Vec::new()),
        }
    }
    pub fn kind(&self) -> Kind {
        match self {
            Values::Int(_) => Kind::Int,
            Values::Float(_) => Kind::Float,
            Values::Bool(_) => Kind::Bool,
            Values::Str(_) => Kind::Str,
        }
    }
    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Str(v) => v.len(),
        }
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    fn push_none(&mut self) {
        match self {
            Values::Int(v) => v.push(None),
            Values::Float(v) => v.push(None),
            Values::Bool(v) => v.push(None),
            Values::Str(v) => v.push(None),
        }
    }
    fn push_float(&mut self, x: Option<f64>) {
        if let Values::Float(v) = self {
            v.push(x.filter(|x| !x.is_nan()));
        }
    }
    /// Appends a JSON value of a summary (`column` and `id` name it in an error).
    fn push_json(
        &mut self,
        value: Option<&Value>,
        id: &str,
        column: &str,
    ) -> Result<(), TableError> {
        let kind = self.kind().name();
        let bad = |v: &Value| TableError::Value {
            id: id.to_string(),
            column: column.to_string(),
            value: v.to_string(),
            kind,
        };
        let value = match value {
            None | Some(Value::Null) => {
                self.push_none();
                return Ok(());
            }
            Some(v) => v,
        };
        match self {
            Values::Int(out) => {
                let x = value.as_i64().ok_or_else(|| bad(value))?;
                out.push(Some(x));
            }
            Values::Float(out) => {
                let x = value.as_f64().ok_or_else(|| bad(value))?;
                out.push(Some(x).filter(|x| !x.is_nan()));
            }
            Values::Bool(out) => out.push(Some(value.as_bool().ok_or_else(|| bad(value))?)),
            Values::Str(out) => match value {
                Value::String(s) => out.push(Some(s.clone())),
                Value::Number(_) | Value::Bool(_) => out.push(Some(value.to_string())),
                _ => return Err(bad(value)),
            },
        }
        Ok(())
    }
    /// Appends `n` copies of `from[row]`.
    fn push_repeated(&mut self, from: &Values, row: usize, n: usize) {
        match (self, from) {
            (Values::Int(v), Values::Int(f)) => v.extend(std::iter::repeat_n(f[row], n)),
            (Values::Float(v), Values::Float(f)) => v.extend(std::iter::repeat_n(f[row], n)),
            (Values::Bool(v), Values::Bool(f)) => v.extend(std::iter::repeat_n(f[row], n)),
            (Values::Str(v), Values::Str(f)) => v.extend(std::iter::repeat_n(f[row].clone(), n)),
            _ => unreachable!("columns are copied into columns of their own kind"),
        }
    }
    /// The value at `row` as a CSV cell: empty when missing; floats in their shortest exact form.
    fn cell(&self, row: usize) -> String {
        match self {
            Values::Int(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
            Values::Float(v) => v[row]
                .and_then(serde_json::Number::from_f64)
                .map(|x| x.to_string())
                .unwrap_or_default(),
            Values::Bool(v) => v[row].map(|x| x.to_string()).unwrap_or_default(),
            Values::Str(v) => v[row].clone().unwrap_or_default(),
        }
    }
}

/// One named, typed column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub values: Values,
}

/// A table with typed columns of equal length.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    pub columns: Vec<Column>,
}

/// What can be wrong with a table, its filters or its store: the user's input (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum TableError {
    #[error("{}: not a run store (no runs/ folder)", .0.display())]
    NotAStore(PathBuf),
    #[error("run {id}: `{column}` = {value} does not fit a column of type {kind}")]
    Value {
        id: String,
        column: String,
        value: String,
        kind: &'static str,
    },
    #[error("unknown column `{column}` to select on; expected one of: {}", .expected.join(", "))]
    UnknownColumn {
        column: String,
        expected: Vec<String>,
    },
    #[error("cannot select `{column}` (a {kind} column) by {value}")]
    FilterType {
        column: String,
        kind: &'static str,
        value: String,
    },
}

/// The result settings, in table order: the settings columns of every table.
fn setting_columns() -> impl Iterator<Item = (&'static str, Kind)> {
    SETTINGS.iter().filter(|s| s.role == Role::Result).map(|s| {
        let kind = match s.kind {
            ValueKind::Integer { .. } => Kind::Int,
            ValueKind::Number => Kind::Float,
            ValueKind::Name(_) | ValueKind::Path => Kind::Str,
        };
        (s.name, kind)
    })
}

impl Table {
    /// The number of rows.
    pub fn len(&self) -> usize {
        self.columns.first().map_or(0, |c| c.values.len())
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
    /// The column names, in order.
    pub fn names(&self) -> Vec<String> {
        self.columns.iter().map(|c| c.name.clone()).collect()
    }

    /// The runs table of `summaries` (see the module doc), one row per summary, in their order.
    pub fn runs(summaries: &[Summary]) -> Result<Table, TableError> {
        let flat: Vec<serde_json::Map<String, Value>> = summaries
            .iter()
            .map(|s| {
                let mut m = match serde_json::to_value(s) {
                    Ok(Value::Object(m)) => m,
                    _ => serde_json::Map::new(),
                };
                // Keys this version does not know are kept, named by their path
                // (`gpu_seconds`, `config.new_setting`): columns after the known ones.
                for (k, v) in &s.unknown {
                    m.entry(k.clone()).or_insert_with(|| v.clone());
                }
                // The NTK at the stop (a nested object): flat columns `ntk_rel_change`, ...
                if let Some(Value::Object(ntk)) = m.remove("ntk") {
                    for (k, v) in ntk {
                        m.insert(format!("ntk_{k}"), v);
                    }
                }
                m
            })
            .collect();
        let settings: Vec<(&str, Kind)> = setting_columns().collect();
        let mut summary_cols: Vec<(String, Kind)> = SUMMARY_COLUMNS
            .iter()
            .map(|&(n, k)| (n.to_string(), k))
            .collect();
        // Scalars a summary holds beyond the known ones (a field added later), sorted.
        let known = |k: &str| {
            k == "id"
                || RUN_COLUMNS.contains(&k)
                || settings.iter().any(|(n, _)| *n == k)
                || SUMMARY_COLUMNS.iter().any(|(n, _)| *n == k)
        };
        let mut extra: Vec<(String, Kind)> = Vec::new();
        for (k, v) in flat.iter().flat_map(|m| m.iter()) {
            let kind = match v {
                Value::Number(_) => Kind::Float,
                Value::Bool(_) => Kind::Bool,
                Value::String(_) => Kind::Str,
                _ => continue,
            };
            if !known(k) && !extra.iter().any(|(n, _)| n == k) {
                extra.push((k.clone(), kind));
            }
        }
        extra.sort_by(|a, b| a.0.cmp(&b.0));
        summary_cols.extend(extra);

        let mut id = Values::new(Kind::Str);
        let mut setting_vals: Vec<Values> = settings.iter().map(|&(_, k)| Values::new(k)).collect();
        let mut given = Values::new(Kind::Str);
        let mut stop = Values::new(Kind::Str);
        let mut diverged = Values::new(Kind::Bool);
        let mut summary_vals: Vec<Values> =
            summary_cols.iter().map(|&(_, k)| Values::new(k)).collect();
        for (s, m) in summaries.iter().zip(&flat) {
            let config = m.get("config").and_then(Value::as_object);
            if let Values::Str(v) = &mut id {
                v.push(Some(s.id.clone()));
            }
            for ((name, _), vals) in settings.iter().zip(&mut setting_vals) {
                // The summary holds the resolved value where it has one (temp and lr both known).
                let v = m.get(*name).or_else(|| config.and_then(|c| c.get(*name)));
                vals.push_json(v, &s.id, name)?;
            }
            let g = if s.config.temp.is_some() {
                Some("temp")
            } else if s.config.lr.is_some() {
                Some("lr")
            } else {
                None
            };
            if let Values::Str(v) = &mut given {
                v.push(g.map(String::from));
            }
            if let Values::Str(v) = &mut stop {
                v.push(Some(s.stop_reason.name().to_string()));
            }
            let div = s.stop_reason.is_divergence();
            if let Values::Bool(v) = &mut diverged {
                v.push(Some(div));
            }
            for ((name, _), vals) in summary_cols.iter().zip(&mut summary_vals) {
                // The NTK at the stop of a diverged run is no result either.
                if div
                    && (DIVERGED_MISSING.contains(&name.as_str())
                        || NTK_COLUMNS.contains(&name.as_str()))
                {
                    vals.push_none();
                } else {
                    vals.push_json(m.get(name), &s.id, name)?;
                }
            }
        }
        let mut columns = vec![Column {
            name: "id".into(),
            values: id,
        }];
        columns.extend(
            settings
                .iter()
                .zip(setting_vals)
                .map(|((n, _), values)| Column {
                    name: n.to_string(),
                    values,
                }),
        );
        for (name, values) in RUN_COLUMNS.iter().zip([given, stop, diverged]) {
            columns.push(Column {
                name: name.to_string(),
                values,
            });
        }
        columns.extend(
            summary_cols
                .into_iter()
                .zip(summary_vals)
                .map(|((name, _), values)| Column { name, values }),
        );
        Ok(Table { columns })
    }

    /// The checkpoints table (long format, see the module doc) of the rows `rows` of the runs
    /// table `runs`, whose records are `records[i]` for `rows[i]`.
    pub fn checkpoints(runs: &Table, rows: &[usize], records: &[Vec<Record>]) -> Table {
        let n_total: usize = records.iter().map(Vec::len).sum();
        let run_cols: Vec<&Column> = runs
            .columns
            .iter()
            .filter(|c| {
                c.name == "id"
                    || RUN_COLUMNS.contains(&c.name.as_str())
                    || setting_columns().any(|(n, _)| n == c.name)
            })
            .collect();
        let mut columns: Vec<Column> = run_cols
            .iter()
            .map(|c| {
                let mut values = Values::new(c.values.kind());
                for (&row, recs) in rows.iter().zip(records) {
                    values.push_repeated(&c.values, row, recs.len());
                }
                Column {
                    name: c.name.clone(),
                    values,
                }
            })
            .collect();

        let all = || records.iter().flatten();
        let mut fixed: Vec<Values> = RECORD_COLUMNS
            .iter()
            .map(|&(_, k)| Values::new(k))
            .collect();
        for r in all() {
            let ints = [
                r.step as i64,
                r.train.unfitted as i64,
                r.test.unfitted as i64,
            ];
            let floats = [
                r.t,
                r.wall,
                r.train.loss,
                r.train.alpha_loss,
                r.train.err,
                r.train.min_margin,
                r.test.loss,
                r.test.alpha_loss,
                r.test.err,
                r.test.min_margin,
                r.rel_weight_change,
                r.rel_weight_change_layer_mean,
            ];
            let (mut i, mut f) = (0, 0);
            for v in &mut fixed {
                match v {
                    Values::Int(out) => {
                        // Counts beyond i64 cannot happen (steps and points are far below 2^63).
                        out.push(Some(ints[i]));
                        i += 1;
                    }
                    _ => {
                        v.push_float(Some(floats[f]));
                        f += 1;
                    }
                }
            }
        }
        columns.extend(
            RECORD_COLUMNS
                .iter()
                .zip(fixed)
                .map(|(&(name, _), values)| Column {
                    name: name.to_string(),
                    values,
                }),
        );

        if all().any(|r| r.perceptron.is_some()) {
            let mut p: Vec<Vec<Option<f64>>> =
                (0..5).map(|_| Vec::with_capacity(n_total)).collect();
            for r in all() {
                let vals = r.perceptron.as_ref().map(|s| {
                    [
                        s.signal,
                        s.noise,
                        s.noise2_per_dim,
                        s.signal_to_noise,
                        s.mean_abs_x1_unfitted,
                    ]
                });
                for (j, col) in p.iter_mut().enumerate() {
                    col.push(vals.map(|v| v[j]).filter(|x| !x.is_nan()));
                }
            }
            columns.extend(PERCEPTRON_COLUMNS.iter().zip(p).map(|(name, v)| Column {
                name: name.to_string(),
                values: Values::Float(v),
            }));
        }

        if all().any(|r| r.ntk.is_some()) {
            let mut p: Vec<Vec<Option<f64>>> = (0..NTK_COLUMNS.len())
                .map(|_| Vec::with_capacity(n_total))
                .collect();
            for r in all() {
                let vals = r.ntk.as_ref().map(|s| {
                    [
                        s.rel_change,
                        s.kernel_change,
                        s.kernel_norm,
                        s.yky,
                        s.y_kinv_y,
                    ]
                });
                for (j, col) in p.iter_mut().enumerate() {
                    col.push(vals.map(|v| v[j]).filter(|x| !x.is_nan()));
                }
            }
            columns.extend(NTK_COLUMNS.iter().zip(p).map(|(name, v)| Column {
                name: name.to_string(),
                values: Values::Float(v),
            }));
        }

        // Layers: every name found, in order of first appearance.
        let mut layer_index: HashMap<&str, usize> = HashMap::new();
        let mut layer_names: Vec<&str> = Vec::new();
        for r in all() {
            for l in &r.layers {
                if !layer_index.contains_key(l.name.as_str()) {
                    layer_index.insert(&l.name, layer_names.len());
                    layer_names.push(&l.name);
                }
            }
        }
        let mut layer_vals: Vec<[Vec<Option<f64>>; 3]> = layer_names
            .iter()
            .map(|_| std::array::from_fn(|_| vec![None; n_total]))
            .collect();
        for (row, r) in all().enumerate() {
            for l in &r.layers {
                let cols = &mut layer_vals[layer_index[l.name.as_str()]];
                for (col, x) in cols.iter_mut().zip([l.norm2, l.dist2, l.rel_change]) {
                    col[row] = Some(x).filter(|x| !x.is_nan());
                }
            }
        }
        for (name, stats) in layer_names.iter().zip(layer_vals) {
            for (stat, v) in LAYER_STATS.iter().zip(stats) {
                columns.push(Column {
                    name: format!("layer_{name}_{stat}"),
                    values: Values::Float(v),
                });
            }
        }
        Table { columns }
    }

    /// The rows whose values pass every filter (see [`Filter`]), in order.
    pub fn select(&self, filters: &[Filter]) -> Result<Vec<usize>, TableError> {
        let mut keep = vec![true; self.len()];
        for f in filters {
            let col = self
                .column(&f.column)
                .ok_or_else(|| TableError::UnknownColumn {
                    column: f.column.clone(),
                    expected: self.names(),
                })?;
            for w in &f.any_of {
                let fits = matches!(
                    (w, col.values.kind()),
                    (Wanted::Missing, _)
                        | (Wanted::Number(_), Kind::Int | Kind::Float)
                        | (Wanted::Bool(_), Kind::Bool)
                        | (Wanted::Text(_), Kind::Str)
                );
                if !fits {
                    return Err(TableError::FilterType {
                        column: f.column.clone(),
                        kind: col.values.kind().name(),
                        value: w.to_string(),
                    });
                }
            }
            for (row, k) in keep.iter_mut().enumerate() {
                *k = *k && f.any_of.iter().any(|w| w.matches(&col.values, row));
            }
        }
        Ok((0..self.len()).filter(|&r| keep[r]).collect())
    }

    /// The table as CSV: a header of column names, missing values as empty cells.
    pub fn to_csv(&self) -> Result<Vec<u8>, csv::Error> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(self.columns.iter().map(|c| c.name.as_str()))?;
        let mut row = Vec::with_capacity(self.columns.len());
        for r in 0..self.len() {
            row.clear();
            row.extend(self.columns.iter().map(|c| c.values.cell(r)));
            w.write_record(&row)?;
        }
        w.into_inner().map_err(|e| e.into_error().into())
    }

    /// Writes the table to `path` as CSV, atomically.
    pub fn write_csv(&self, path: &Path) -> Result<(), sgdnoise_core::Error> {
        let bytes = self
            .to_csv()
            .map_err(|e| sgdnoise_core::Error::io(path, std::io::Error::other(e)))?;
        rundir::write_atomic(path, &bytes).map_err(|e| sgdnoise_core::Error::io(path, e))
    }
}

/// A value to select rows by.
#[derive(Clone, Debug, PartialEq)]
pub enum Wanted {
    /// Matches an `Int` or `Float` cell equal to it within 1e-12 relative (so a temperature
    /// derived from a learning rate matches the value the sweep file wrote).
    Number(f64),
    Bool(bool),
    Text(String),
    /// Matches a missing cell.
    Missing,
}

impl std::fmt::Display for Wanted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Wanted::Number(x) => write!(f, "the number {x}"),
            Wanted::Bool(b) => write!(f, "the boolean {b}"),
            Wanted::Text(s) => write!(f, "the text {s:?}"),
            Wanted::Missing => f.write_str("a missing value"),
        }
    }
}

impl Wanted {
    fn matches(&self, values: &Values, row: usize) -> bool {
        let close = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
        match (self, values) {
            (Wanted::Missing, v) => match v {
                Values::Int(v) => v[row].is_none(),
                Values::Float(v) => v[row].is_none(),
                Values::Bool(v) => v[row].is_none(),
                Values::Str(v) => v[row].is_none(),
            },
            (Wanted::Number(x), Values::Int(v)) => v[row].is_some_and(|y| close(y as f64, *x)),
            (Wanted::Number(x), Values::Float(v)) => v[row].is_some_and(|y| close(y, *x)),
            (Wanted::Bool(b), Values::Bool(v)) => v[row] == Some(*b),
            (Wanted::Text(s), Values::Str(v)) => v[row].as_deref() == Some(s.as_str()),
            _ => false,
        }
    }
}

/// Keeps the rows whose `column` holds one of `any_of`.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub column: String,
    pub any_of: Vec<Wanted>,
}

/// The store at `root`, or an error naming it when it is none.
pub fn store_at(root: &Path) -> Result<Store, TableError> {
    if Store::exists_at(root) {
        Ok(Store::new(root))
    } else {
        Err(TableError::NotAStore(root.to_path_buf()))
    }
}

/// Any failure of building a table from a store.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Table(#[from] TableError),
    #[error(transparent)]
    Store(#[from] sgdnoise_core::Error),
}

/// The runs table of the finished runs of the store at `root` that pass `filters`.
pub fn load_runs(root: &Path, filters: &[Filter]) -> Result<Table, LoadError> {
    let summaries = store_at(root)?.collect()?;
    let table = Table::runs(&summaries)?;
    if filters.is_empty() {
        return Ok(table);
    }
    let rows = table.select(filters)?;
    Ok(table.take(&rows))
}

/// The checkpoints table of the finished runs of the store at `root` that pass `filters`
/// (filters on the runs table's columns: settings, `id`, `stop_reason`, `diverged`, ...).
pub fn load_checkpoints(root: &Path, filters: &[Filter]) -> Result<Table, LoadError> {
    let store = store_at(root)?;
    checkpoints_of(&store, &store.collect()?, filters)
}

/// The checkpoints table of those of `summaries`, runs of `store`, that pass `filters`.
pub fn checkpoints_of(
    store: &Store,
    summaries: &[Summary],
    filters: &[Filter],
) -> Result<Table, LoadError> {
    let runs = Table::runs(summaries)?;
    let rows = runs.select(filters)?;
    let dirs: Vec<PathBuf> = rows
        .iter()
        .map(|&r| store.run_dir(&summaries[r].id))
        .collect();
    let records = read_all_checkpoints(&dirs)?;
    Ok(Table::checkpoints(&runs, &rows, &records))
}

/// The records of each run directory in `dirs`, read and parsed on all cores.
fn read_all_checkpoints(dirs: &[PathBuf]) -> Result<Vec<Vec<Record>>, sgdnoise_core::Error> {
    let read = |d: &PathBuf| {
        let path = d.join(rundir::CHECKPOINTS_FILE);
        let text =
            std::fs::read_to_string(&path).map_err(|e| sgdnoise_core::Error::io(&path, e))?;
        // As `rundir::read_checkpoints` (a torn last line is skipped), but several times faster: a line is
        // parsed straight into a Record, and through the NaN-aware reader only when it holds a
        // `null` (a NaN) and the straight parse fails.
        Ok(text
            .lines()
            .filter_map(|l| {
                serde_json::from_str::<Record>(l)
                    .or_else(|_| rundir::nan::from_str(l))
                    .ok()
            })
            .collect())
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(dirs.len().div_ceil(8))
        .max(1);
    if threads == 1 {
        return dirs.iter().map(read).collect();
    }
    let chunk = dirs.len().div_ceil(threads);
    let parts: Vec<Result<Vec<Vec<Record>>, sgdnoise_core::Error>> = std::thread::scope(|s| {
        let handles: Vec<_> = dirs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(read).collect()))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(sgdnoise_core::Error::Other(
                        "a thread reading checkpoints panicked".into(),
                    ))
                })
            })
            .collect()
    });
    let mut out = Vec::with_capacity(dirs.len());
    for p in parts {
        out.extend(p?);
    }
    Ok(out)
}

impl Table {
    /// The rows `rows` of the table, in that order.
    pub fn take(&self, rows: &[usize]) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|c| {
                let mut values = Values::new(c.values.kind());
                for &r in rows {
                    values.push_repeated(&c.values, r, 1);
                }
                Column {
                    name: c.name.clone(),
                    values,
                }
            })
            .collect();
        Table { columns }
    }
}

/// Writes the runs table of `summaries` to `path` as CSV, atomically. Returns the number of rows.
pub fn write_csv(summaries: &[Summary], path: &Path) -> Result<usize, LoadError> {
    let table = Table::runs(summaries)?;
    table.write_csv(path)?;
    Ok(table.len())
}
