//! What an analysis is asked for ([`AnalysisOptions`]) and the rows of numbers it produces
//! ([`FitRow`], one per line of fits.csv): shared by the report and the figures.

use crate::crossover::{Collapse, PlateauExit};
use crate::fit::BootstrapOptions;
use crate::Axis;

/// Settings of the analysis (each is written into the method column of the numbers it made).
#[derive(Clone, Debug)]
pub struct AnalysisOptions {
    pub bootstrap: BootstrapOptions,
    /// Method (a) threshold on the relative weight change; None: the geometric midpoint of the
    /// smallest and largest seed-mean weight change of the sweep.
    pub rwc_threshold: Option<f64>,
    pub plateau: PlateauExit,
    pub collapse: Collapse,
    /// Perceptron: the weight-change and t* fits use T ≥ `high_t_factor` / alpha.
    pub high_t_factor: f64,
    /// Phase diagram: T_opt ~ alpha^k is fitted over alpha ≤ this (the feature regime).
    pub feature_alpha_max: f64,
    /// Phase diagram: the vertical axis of the heatmaps, `Axis::Temp` or `Axis::Lr`.
    pub phase_y: Axis,
    /// Where the runs came from (e.g. the command), quoted at the top of report.md.
    pub source: String,
    /// Also write every figure for print: `print/F.pdf`, `print/F.png` (300 dpi) and
    /// `print/F.svg` (font embedded).
    pub print: bool,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            bootstrap: BootstrapOptions::default(),
            rwc_threshold: None,
            plateau: PlateauExit::default(),
            collapse: Collapse::default(),
            high_t_factor: 16.0,
            feature_alpha_max: 1.0,
            phase_y: Axis::Temp,
            source: String::new(),
            print: false,
        }
    }
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
}
