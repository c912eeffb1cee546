//! From a store's finished runs to figures (SVG + PNG), the numbers behind each figure (CSV),
//! every fitted number (`fits.csv`) and a short `report.md`.
//!
//! Curves show the seed mean with error bars of ±1 standard deviation over seeds, at the points
//! that enter fits (a strict majority of their seeds finished); points where most seeds
//! diverged are marked × on curves and hatched grey on heatmaps. Each figure `F` has `F.svg`,
//! `F.png` and `F.csv` (columns: series, x, mean, sd, sem, n, n_runs, n_diverged, n_capped,
//! in_fit, capped_mean; heatmaps: alpha, T, ...). `fits.csv` has the columns
//! `figure, quantity, against, condition, value, ci_low, ci_high, theory, method` and then
//! `n_points, n_seeds, n_left_out, left_out_why` (what the fit used and left out, and why).
//! report.md quotes the warnings of [`crate::select`](mod@crate::select), the main results, the consistency
//! verdict of the T_c estimates (T-sweeps) and every fitted number with its seeds.
//!
//! The figures themselves are drawn in `crate::figures` (one file per kind of sweep); this file
//! holds the entry point [`analyze`], its options and results, and writes fits.csv and
//! report.md.

use crate::figures::{self, csv_err, num, Ctx, SPREAD};
use crate::options::{seeds_note, FITS_COLUMNS, RELIABLE_SEEDS};
pub use crate::options::{AnalysisOptions, FitRow};
use crate::seeds_of;
use crate::Kind;
use sgdnoise_core::rundir::Summary;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// What [`analyze`] produced.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub kind: Kind,
    pub fits: Vec<FitRow>,
    /// Every file written (figures, CSVs, fits.csv, report.md).
    pub files: Vec<PathBuf>,
    /// The text of report.md.
    pub report: String,
    /// Warnings about the runs (settings in which they differ that are not axes).
    pub warnings: Vec<String>,
}

/// Draws every figure of `kind` for `runs` into `out` and writes fits.csv and report.md.
pub fn analyze(
    runs: &[Summary],
    kind: Kind,
    opts: &AnalysisOptions,
    out: &Path,
) -> Result<Analysis, sgdnoise_core::Error> {
    std::fs::create_dir_all(out).map_err(|e| sgdnoise_core::Error::io(out, e))?;
    let refs: Vec<&Summary> = runs.iter().collect();
    let mut ctx = Ctx {
        out,
        opts,
        seeds: seeds_of(&refs),
        fits: Vec::new(),
        files: Vec::new(),
        notes: Vec::new(),
        sections: Vec::new(),
        warnings: crate::select::differing_warnings(runs, kind),
    };
    if !runs.is_empty() {
        match kind {
            Kind::Perceptron => figures::perceptron(&mut ctx, &refs)?,
            Kind::TSweep => figures::tsweep(&mut ctx, &refs)?,
            Kind::Phase => figures::phase(&mut ctx, &refs)?,
        }
    }
    write_fits(&mut ctx)?;
    let report = report_text(&ctx, kind, runs);
    let path = out.join("report.md");
    sgdnoise_core::rundir::write_atomic(&path, report.as_bytes())
        .map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    ctx.files.push(path);
    Ok(Analysis {
        kind,
        fits: ctx.fits,
        files: ctx.files,
        report,
        warnings: ctx.warnings,
    })
}

fn write_fits(ctx: &mut Ctx) -> Result<(), sgdnoise_core::Error> {
    let path = ctx.out.join("fits.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
    w.write_record(FITS_COLUMNS)
        .map_err(|e| csv_err(&path, e))?;
    for r in &ctx.fits {
        w.write_record([
            r.figure.clone(),
            r.quantity.clone(),
            r.against.clone(),
            r.condition.clone(),
            num(r.value),
            num(r.ci_low),
            num(r.ci_high),
            r.theory.map(num).unwrap_or_default(),
            r.method.clone(),
            r.n_points.to_string(),
            r.n_seeds.to_string(),
            r.n_left_out.to_string(),
            r.left_out_why.clone(),
        ])
        .map_err(|e| csv_err(&path, e))?;
    }
    w.flush().map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    ctx.files.push(path);
    Ok(())
}

fn report_text(ctx: &Ctx, kind: Kind, runs: &[Summary]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# sgdnoise analysis ({} sweep)\n", kind.name());
    if !ctx.opts.source.is_empty() {
        let _ = writeln!(s, "Source: {}\n", ctx.opts.source);
    }
    let mut reasons: std::collections::BTreeMap<&str, usize> = Default::default();
    for r in runs {
        *reasons.entry(r.stop_reason.name()).or_default() += 1;
    }
    let _ = writeln!(
        s,
        "{} finished runs, {} seeds ({}); stop reasons: {}.\n",
        runs.len(),
        ctx.seeds.len(),
        ctx.seeds
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        reasons
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for sel in &ctx.opts.selection {
        let _ = writeln!(s, "Selected runs: {sel}.\n");
    }
    if !ctx.warnings.is_empty() {
        let _ = writeln!(s, "## Warnings\n");
        for w in &ctx.warnings {
            let _ = writeln!(s, "- {w}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(
        s,
        "Curves: {SPREAD}. A (T, P) point enters fits only where a strict majority of its seeds finished (reached zero loss); its value is the mean over the finished seeds. Runs that diverged or froze are never averaged but marked (× on curves, hatched on heatmaps); runs stopped by a cap (max_steps, max_wall) are censored: never averaged as finished, their value at the cap kept apart (`capped_mean` in the CSVs; for t* a lower bound). fits.csv says for each fit how many points and seeds it used and what it left out, and why. Confidence intervals: {}; every interval rests on the {} seeds of the sweep {}.\n",
        ctx.opts.bootstrap.describe(),
        ctx.seeds.len(),
        seeds_note(ctx.seeds.len())
    );
    if ctx.seeds.len() < RELIABLE_SEEDS {
        let _ = writeln!(
            s,
            "**With {} seeds the intervals are not reliable 95% intervals**: a bootstrap over n seeds has at most C(2n-1, n) distinct resamples, so its percentile interval is coarse and too narrow below 5 seeds. Read them as spreads.\n",
            ctx.seeds.len()
        );
    }
    if !ctx.notes.is_empty() {
        let _ = writeln!(s, "## Main results\n");
        for n in &ctx.notes {
            let _ = writeln!(s, "- {n}");
        }
        let _ = writeln!(s);
    }
    for (title, lines) in &ctx.sections {
        let _ = writeln!(s, "## {title}\n");
        for l in lines {
            let _ = writeln!(s, "{l}");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "## All fitted numbers (also in fits.csv)\n");
    let _ = writeln!(
        s,
        "| figure | quantity | against | condition | value | 95% CI | theory | seeds | points | left out |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|");
    for r in &ctx.fits {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {:.4} | {} | {} | {} | {} | {} |",
            r.figure,
            r.quantity,
            r.against,
            r.condition,
            r.value,
            if r.ci_low.is_finite() {
                format!("[{:.4}, {:.4}]", r.ci_low, r.ci_high)
            } else {
                "-".into()
            },
            r.theory.map(|t| format!("{t:.4}")).unwrap_or_default(),
            r.n_seeds,
            r.n_points,
            if r.n_left_out == 0 {
                "0".to_string()
            } else {
                format!("{}: {}", r.n_left_out, r.left_out_why)
            }
        );
    }
    let mut methods: Vec<&str> = ctx.fits.iter().map(|r| r.method.as_str()).collect();
    methods.sort_unstable();
    methods.dedup();
    let _ = writeln!(s, "\n## Methods\n");
    for m in methods {
        let _ = writeln!(s, "- {m}");
    }
    let _ = writeln!(s, "\n## Figures\n");
    for f in &ctx.files {
        if f.extension().is_some_and(|e| e == "png") {
            if let Some(name) = f.file_name() {
                let _ = writeln!(s, "- {}", name.to_string_lossy());
            }
        }
    }
    s
}
