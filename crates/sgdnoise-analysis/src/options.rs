//! What an analysis is asked for ([`AnalysisOptions`]) and the rows of numbers it produces
//! ([`FitRow`], one per line of fits.csv): shared by the report and the figures.

use crate::crossover::{Collapse, PlateauExit};
use crate::fit::BootstrapOptions;
use crate::{Axis, LeftOut};

/// Settings of the analysis (each is written into the method column of the numbers it made).
#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    pub bootstrap: BootstrapOptions,
    /// Method (a): an absolute threshold on the relative weight change that replaces the main
    /// level (None: the main level is `rwc_levels[0]` / sqrt(h)).
    pub rwc_threshold: Option<f64>,
    /// Method (a): the levels of the relative weight change, in units of 1/sqrt(h) (h the
    /// width), at which T_c is read; the first is the main one, the others check that a does
    /// not depend on the level.
    pub rwc_levels: Vec<f64>,
    pub plateau: PlateauExit,
    /// Method (b): the other multiples of the plateau's seed spread at which a is also reported
    /// (a check that a does not depend on the criterion).
    pub plateau_checks: Vec<f64>,
    pub collapse: Collapse,
    /// Perceptron: the weight-change and t* fits use T ≥ `high_t_factor` / alpha.
    pub high_t_factor: f64,
    /// Phase diagram: T_opt ~ alpha^k is fitted over alpha ≤ this (the feature regime).
    pub feature_alpha_max: f64,
    /// Phase diagram: the vertical axis of the heatmaps, `Axis::Temp` or `Axis::Lr`.
    pub phase_y: Axis,
    /// Where the runs came from (e.g. the command), quoted at the top of report.md.
    pub source: String,
    /// Conditions the runs were selected by (`analyze --where`), quoted in report.md.
    pub selection: Vec<String>,
    /// Also write every figure for print: `print/F.pdf`, `print/F.png` (300 dpi) and
    /// `print/F.svg` (font embedded).
    pub print: bool,
    /// Provenance quoted by report.html: the store the runs came from.
    pub store: Option<std::path::PathBuf>,
    /// Provenance: the command line that made the analysis, as typed (empty if unknown).
    pub command: String,
    /// Provenance: the git commit of the source the binary was built from, if known.
    pub git_commit: Option<String>,
    /// Provenance: what was left out of the runs before the analysis (copies, folders set
    /// aside, unreadable summaries, runs not selected), one line each with its count.
    pub left_out: Vec<String>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            bootstrap: BootstrapOptions::default(),
            rwc_threshold: None,
            rwc_levels: vec![1.0, 0.5, 0.25, 0.125],
            plateau: PlateauExit::default(),
            plateau_checks: vec![1.0, 3.0],
            collapse: Collapse::default(),
            high_t_factor: 16.0,
            feature_alpha_max: 1.0,
            phase_y: Axis::Temp,
            source: String::new(),
            selection: Vec::new(),
            print: false,
            store: None,
            command: String::new(),
            git_commit: None,
            left_out: Vec::new(),
        }
    }
}

/// Below this many seeds a bootstrap interval over seeds is not a reliable 95% interval (with
/// n seeds there are at most C(2n-1, n) distinct resamples: 10 for 3, 126 for 5).
pub const RELIABLE_SEEDS: usize = 5;

/// "(5 seeds)", or with fewer than [`RELIABLE_SEEDS`] a warning that the interval is a spread.
pub fn seeds_note(n: usize) -> String {
    if n < RELIABLE_SEEDS {
        format!(
            "({n} seed{}: too few for a reliable 95% interval, read it as a spread)",
            if n == 1 { "" } else { "s" }
        )
    } else {
        format!("({n} seeds)")
    }
}

/// What a fit used and what it left out (the last columns of fits.csv).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitUse {
    /// Points (or curves, for fits across P) the fit used.
    pub n_points: usize,
    /// Seeds the bootstrap resampled.
    pub n_seeds: usize,
    /// What was left out, by reason.
    pub left_out: LeftOut,
    /// The fewest finished seeds at a point the fit used ([`crate::SeedTable::fewest_seeds`]):
    /// below `n_seeds` on an adaptive sweep's partial points or where seeds were capped.
    pub n_seeds_min: Option<usize>,
}

/// The value of one condition: a number (a setting's value, written as a plain number) or a
/// text (a method, a criterion, a range given by name).
#[derive(Clone, Debug, PartialEq)]
pub enum CondValue {
    Num(f64),
    Text(String),
}

/// The conditions of a fitted number or of a curve: `(name, value)` pairs, in the order
/// given, named as the settings are (`temp`, `ptr`, `chi`, `dim`, `alpha`, `lr`, `batch`,
/// `width`, `depth`: the names of the settings table and of `collect`'s columns), plus a few
/// that are not settings: `temp_min` (the lower end of the T range a fit used, a number or a
/// text such as `T_c(P)`), `tc_method` (the T_c method: `(a)`, `(b)`, ...) and `criterion` (its
/// level or criterion, e.g. `L = 1/2 √h`). fits.csv and every figure CSV write each name as a
/// column of its own; [`Conds::label`] is the human-readable form of the `condition` column.
///
/// ```
/// use sgdnoise_analysis::options::Conds;
/// let c = Conds::new().num("chi", 1.0).num("temp", 2f64.powi(-10)).num("dim", 32.0);
/// assert_eq!(c.label(), "chi=1, T=2^-10, d=32");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Conds(pub Vec<(String, CondValue)>);

impl Conds {
    pub fn new() -> Conds {
        Conds::default()
    }
    /// Adds (or replaces) a numeric condition.
    pub fn num(self, name: &str, v: f64) -> Conds {
        self.with(name, CondValue::Num(v))
    }
    /// Adds (or replaces) a text condition.
    pub fn text(self, name: &str, v: impl Into<String>) -> Conds {
        self.with(name, CondValue::Text(v.into()))
    }
    fn with(mut self, name: &str, v: CondValue) -> Conds {
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.0.push((name.to_string(), v)),
        }
        self
    }
    /// Every condition of `self`, then those of `more`.
    pub fn and(mut self, more: &Conds) -> Conds {
        for (n, v) in &more.0 {
            self = self.with(n, v.clone());
        }
        self
    }
    pub fn get(&self, name: &str) -> Option<&CondValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The conditions as a person reads them: "chi=1, T=2^-10, d=32, alpha=32768",
    /// "P=1024, method (a), L = 1/2 √h", "chi=1, T>=0.0005".
    pub fn label(&self) -> String {
        let sym = |n: &str| {
            match n {
                "temp" => "T",
                "ptr" => "P",
                "dim" => "d",
                "batch" => "B",
                "width" => "h",
                "depth" => "D",
                other => other,
            }
            .to_string()
        };
        self.0
            .iter()
            .map(|(n, v)| {
                let v = match v {
                    CondValue::Num(x) => crate::fmt_num(*x),
                    CondValue::Text(t) => t.clone(),
                };
                match n.as_str() {
                    "temp_min" => format!("T>={v}"),
                    "tc_method" => format!("method {v}"),
                    "criterion" => v,
                    _ => format!("{}={v}", sym(n)),
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A condition as a figure or a fit is keyed by: the text a person reads (a legend entry,
/// the `series` column of a figure CSV, the `condition` column of fits.csv) and the
/// structured conditions behind it (one column each). A bare text converts into a condition
/// with no columns.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Condition {
    pub label: String,
    pub conds: Conds,
}

impl From<Conds> for Condition {
    fn from(conds: Conds) -> Condition {
        Condition {
            label: conds.label(),
            conds,
        }
    }
}
impl From<&Conds> for Condition {
    fn from(conds: &Conds) -> Condition {
        conds.clone().into()
    }
}
impl From<&Condition> for Condition {
    fn from(c: &Condition) -> Condition {
        c.clone()
    }
}
impl From<String> for Condition {
    fn from(label: String) -> Condition {
        Condition {
            label,
            conds: Conds::new(),
        }
    }
}
impl From<&String> for Condition {
    fn from(label: &String) -> Condition {
        label.clone().into()
    }
}
impl From<&str> for Condition {
    fn from(label: &str) -> Condition {
        label.to_string().into()
    }
}

/// The condition columns of a table whose rows have the conditions `rows`: every name that
/// occurs, settings first in the order of the settings table, then the others in the order
/// they first occur.
pub fn cond_columns<'a>(rows: impl IntoIterator<Item = &'a Conds>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in rows {
        for (n, _) in &c.0 {
            if !names.contains(n) {
                names.push(n.clone());
            }
        }
    }
    let order = |n: &String| {
        sgdnoise_core::settings::SETTINGS
            .iter()
            .position(|s| s.name == n)
            .unwrap_or(usize::MAX)
    };
    // A stable sort keeps the first-seen order among the names that are no setting.
    names.sort_by_key(order);
    names
}

/// The cell of condition `name` in a row with the conditions `c` (empty when absent).
pub fn cond_cell(c: &Conds, name: &str) -> String {
    match c.get(name) {
        Some(CondValue::Num(v)) => setting_num(name, *v),
        Some(CondValue::Text(t)) => t.clone(),
        None => String::new(),
    }
}

/// A number as the CSVs write it, read by any CSV reader as a float: the shortest decimal that
/// reads back as the same double, always with a point or an exponent (`1.0`, `0.0009765625`,
/// `32768.0`, `1e-30`: never `2^-10`, never rounded); empty for NaN and infinities (a missing
/// value).
pub fn plain_num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        String::new()
    }
}

/// The value `v` of the setting (or condition) `name` in a CSV cell: integer settings of the
/// settings table (`ptr`, `dim`, `batch`, `width`, `depth`, seeds) as integers (`128`, not
/// `1.28e2` or `128.0`), every other number as [`plain_num`] writes it (a float).
pub fn setting_num(name: &str, v: f64) -> String {
    let integer = sgdnoise_core::settings::SETTINGS
        .iter()
        .any(|s| s.name == name && s.kind.is_integer());
    if integer && v.is_finite() && v == v.trunc() && v.abs() < 9.007_199_254_740_992e15 {
        format!("{}", v as i64)
    } else {
        plain_num(v)
    }
}

/// One fitted number (a row of fits.csv). Build one with [`FitRow::new`] and the builder
/// methods:
///
/// ```
/// use sgdnoise_analysis::fit::Estimate;
/// use sgdnoise_analysis::options::{Conds, FitRow};
/// let e = Estimate { value: 0.5, ci_low: 0.4, ci_high: 0.6, resamples_ok: 1000 };
/// let row = FitRow::new("snr", "signal_to_noise", "P", e)
///     .at(Conds::new().num("chi", 1.0).num("temp", 1.0))
///     .theory(Some(0.5))
///     .method("least squares in log-log");
/// assert_eq!(row.condition, "chi=1, T=1");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FitRow {
    pub figure: String,
    pub quantity: String,
    pub against: String,
    /// The conditions as a person reads them (by default [`Conds::label`] of `conditions`).
    pub condition: String,
    /// The conditions, one column each in fits.csv (after [`FITS_COLUMNS`]).
    pub conditions: Conds,
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub theory: Option<f64>,
    pub method: String,
    /// Points the fit used (fits across P: the P values with a T_c).
    pub n_points: usize,
    /// Seeds the interval rests on.
    pub n_seeds: usize,
    /// Points (or P values) left out.
    pub n_left_out: usize,
    /// Why, counted by reason ("3 diverged; 1 capped").
    pub left_out_why: String,
    /// The fewest finished seeds at a point the fit used (see [`FitUse::n_seeds_min`]).
    pub n_seeds_min: Option<usize>,
}

impl FitRow {
    /// A row with its estimate and no conditions, theory, method or usage yet.
    pub fn new(figure: &str, quantity: &str, against: &str, e: crate::fit::Estimate) -> FitRow {
        FitRow {
            figure: figure.into(),
            quantity: quantity.into(),
            against: against.into(),
            condition: String::new(),
            conditions: Conds::new(),
            value: e.value,
            ci_low: e.ci_low,
            ci_high: e.ci_high,
            theory: None,
            method: String::new(),
            n_points: 0,
            n_seeds: 0,
            n_left_out: 0,
            left_out_why: String::new(),
            n_seeds_min: None,
        }
    }
    /// Sets the conditions, and the `condition` text to their label.
    pub fn at(mut self, c: Conds) -> FitRow {
        self.condition = c.label();
        self.conditions = c;
        self
    }
    /// Replaces the `condition` text (for conditions no column holds, such as "all T").
    pub fn label(mut self, text: &str) -> FitRow {
        self.condition = text.into();
        self
    }
    pub fn theory(mut self, t: Option<f64>) -> FitRow {
        self.theory = t;
        self
    }
    pub fn method(mut self, m: impl Into<String>) -> FitRow {
        self.method = m.into();
        self
    }
    /// What the fit used and left out.
    pub fn usage(mut self, u: &FitUse) -> FitRow {
        self.n_points = u.n_points;
        self.n_seeds = u.n_seeds;
        self.n_left_out = u.left_out.total();
        self.left_out_why = u.left_out.describe();
        self.n_seeds_min = u.n_seeds_min;
        self
    }
}

/// The fixed columns of fits.csv, in order (the first nine are the original ones; columns are
/// only ever added at the end):
///
/// - `figure`: the stem of the figure the number belongs to (its `.svg`, `.png`, `.csv`);
/// - `quantity`, `against`: what was fitted against what (`signal_to_noise` against `P`);
/// - `condition`: the conditions as a person reads them ("chi=1, T=2^-10, d=32");
/// - `value`, `ci_low`, `ci_high`: the estimate and its 95% bootstrap interval over seeds;
/// - `theory`: the predicted value, if any; `method`: how the number was made;
/// - `n_points`, `n_seeds`, `n_left_out`, `left_out_why`: what the fit used and left out;
/// - `n_seeds_min`: the fewest finished seeds at a point the fit used (below `n_seeds` on an
///   adaptive sweep's partial points, or where some seeds were capped; empty where not known).
///
/// After them come the condition columns ([`cond_columns`]): one per condition name of any
/// row (`chi`, `temp`, `dim`, `alpha`, `ptr`, ..., then `temp_min`, `tc_method`,
/// `criterion`; see [`Conds`]), numbers as plain numbers (integer settings as integers, the
/// others as floats: [`setting_num`]), empty where a row has no such condition.
pub const FITS_COLUMNS: [&str; 14] = [
    "figure",
    "quantity",
    "against",
    "condition",
    "value",
    "ci_low",
    "ci_high",
    "theory",
    "method",
    "n_points",
    "n_seeds",
    "n_left_out",
    "left_out_why",
    "n_seeds_min",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_numbers_are_plain_numbers_not_powers_or_exponents_of_integers() {
        // Issue 12: P was written 1.28e2 and T as "2^-10" inside a string.
        assert_eq!(setting_num("ptr", 128.0), "128");
        assert_eq!(setting_num("dim", 32.0), "32");
        assert_eq!(setting_num("temp", 2f64.powi(-10)), "0.0009765625");
        assert_eq!(setting_num("chi", 1.0), "1.0");
        assert_eq!(setting_num("alpha", 32768.0), "32768.0");
        assert_eq!(plain_num(1e-30), "1e-30");
        assert_eq!(plain_num(0.48057481), "0.48057481");
        assert_eq!(plain_num(f64::NAN), "");
        for v in [2f64.powi(-13), 1.0 / 3.0, 6.02e23, 1e-300] {
            assert_eq!(plain_num(v).parse::<f64>().unwrap(), v, "exact round trip");
        }
    }

    #[test]
    fn conditions_become_columns_settings_first_and_a_label() {
        let a = Conds::new()
            .num("chi", 1.0)
            .num("dim", 32.0)
            .num("temp_min", 0.0005);
        let b = Conds::new()
            .num("ptr", 1024.0)
            .text("tc_method", "(a)")
            .text("criterion", "L = 1/2 √h");
        assert_eq!(a.label(), "chi=1, d=32, T>=0.0005");
        assert_eq!(b.label(), "P=1024, method (a), L = 1/2 √h");
        let cols = cond_columns([&a, &b]);
        // Settings in the order of the settings table, then the others as they come.
        assert_eq!(
            cols,
            ["chi", "dim", "ptr", "temp_min", "tc_method", "criterion"]
        );
        assert_eq!(cond_cell(&a, "ptr"), "");
        assert_eq!(cond_cell(&b, "ptr"), "1024");
        assert_eq!(cond_cell(&a, "temp_min"), "0.0005");
        // A condition given twice keeps one column, the last value.
        assert_eq!(
            a.clone().num("chi", 3.0).get("chi"),
            Some(&CondValue::Num(3.0))
        );
    }
}
