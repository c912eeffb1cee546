//! `sgdnoise analyze STORE --out DIR`: figures, fits.csv and report.md for an existing store.

use anyhow::Context;
use clap::Args;
use sgdnoise_analysis::report;
use sgdnoise_campaign::presets::Kind;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The store (a folder with runs/<id>/summary.json).
    pub store: PathBuf,
    /// Output folder for figures (SVG, PNG), their CSVs, fits.csv and report.md.
    #[arg(long)]
    pub out: PathBuf,
    /// perceptron, tsweep or phase (default: guessed from the runs).
    #[arg(long)]
    pub kind: Option<String>,
    /// Method (a) threshold on the relative weight change (default: the geometric midpoint of
    /// the sweep's range).
    #[arg(long)]
    pub rwc_threshold: Option<f64>,
    /// Phase diagrams: vertical axis of the heatmaps, T or lr.
    #[arg(long, default_value = "T")]
    pub phase_y: String,
    /// Bootstrap resamples of the confidence intervals.
    #[arg(long, default_value_t = 1000)]
    pub resamples: usize,
    /// Seed of the bootstrap stream.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub bootstrap_seed: i64,
}

pub fn main(args: AnalyzeArgs) -> anyhow::Result<()> {
    if !args.store.join("runs").is_dir() {
        return Err(crate::BadInput(format!(
            "{} is not a store: it has no runs/ folder",
            args.store.display()
        ))
        .into());
    }
    if let Some(t) = args.rwc_threshold {
        if !(t.is_finite() && t > 0.0) {
            return Err(
                crate::BadInput(format!("--rwc-threshold {t}: must be a positive number")).into(),
            );
        }
    }
    let runs = sgdnoise_campaign::collect(&args.store)
        .with_context(|| format!("reading {}", args.store.display()))?;
    if runs.is_empty() {
        return Err(
            crate::BadInput(format!("{} holds no finished run", args.store.display())).into(),
        );
    }
    let kind = match &args.kind {
        Some(k) => Kind::parse(k)?,
        None => Kind::detect(&runs),
    };
    let phase_y = match args.phase_y.as_str() {
        "T" | "temp" => sgdnoise_analysis::Axis::Temp,
        "lr" => sgdnoise_analysis::Axis::Lr,
        other => {
            return Err(crate::BadInput(format!("--phase-y {other}: expected T or lr")).into())
        }
    };
    let opts = report::AnalysisOptions {
        bootstrap: sgdnoise_analysis::fit::BootstrapOptions {
            resamples: args.resamples,
            seed: args.bootstrap_seed,
            ..Default::default()
        },
        rwc_threshold: args.rwc_threshold,
        phase_y,
        source: format!("`sgdnoise analyze {}`", args.store.display()),
        ..Default::default()
    };
    let a = report::analyze(&runs, kind, &opts, &args.out)?;
    print_result(&a, &args.out);
    Ok(())
}

/// Prints the main results and where the files went.
pub fn print_result(a: &report::Analysis, out: &Path) {
    let figures = a
        .files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "png"))
        .count();
    println!(
        "{} analysis: {figures} figures (SVG + PNG + CSV), {} fitted numbers in {}",
        a.kind.name(),
        a.fits.len(),
        out.join("fits.csv").display()
    );
    if let Some(main) = a.report.split("## Main results").nth(1) {
        for line in main.lines().skip(1).take_while(|l| !l.starts_with("##")) {
            if !line.is_empty() {
                println!("{line}");
            }
        }
    }
    println!("report: {}", out.join("report.md").display());
}
