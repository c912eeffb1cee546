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
}

/// One fitted number (a row of fits.csv).
#[derive(Clone, Debug, PartialEq)]
pub struct FitRow {
    pub figure: String,
    pub quantity: String,
    pub against: String,
    pub condition: String,
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
}

/// The columns of fits.csv, in order (the first nine are the original ones; columns are only
/// ever added at the end).
pub const FITS_COLUMNS: [&str; 13] = [
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
];
