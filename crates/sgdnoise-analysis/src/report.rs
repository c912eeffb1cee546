//! From a store's finished runs to figures (SVG + PNG), the numbers behind each figure (CSV),
//! every fitted number (`fits.csv`), a short `report.md` and the same as one self-contained
//! page, `report.html`.
//!
//! Curves show, on log axes, the geometric mean over seeds with a band ×/÷ the geometric
//! standard deviation, on linear axes the mean ± one standard deviation. A point enters fits
//! only where a strict majority of its seeds finished; points where most seeds diverged are
//! marked × under the curves and hatched grey on heatmaps, points left out of fits whose
//! value includes runs stopped by a cap are drawn open. Each figure `F` has `F.svg`, `F.png`
//! and `F.csv`, one tidy long table: `series` (the curve's label), x under its setting's name
//! (`temp`, `ptr`, `alpha`; `temp_scaled` on the collapse), the curve's conditions one column
//! each (`ptr` = 128, `chi` = 1.0, `tc_method` = (a), ...), then `y, y_lo, y_hi` (what the figure
//! draws), `n_seeds, n_runs, n_diverged, n_capped, in_fit, mean, sd, sem, capped_mean, gmean,
//! gsd`; heatmaps: `alpha`, `temp` (or `lr`), then the same. Numbers are plain numbers:
//! integer settings as integers, everything else as floats (the shortest exact decimal).
//! With `print`, also `print/F.pdf`, `print/F.png` (300 dpi) and `print/F.svg` (font embedded).
//! `fits.csv` has the columns [`crate::options::FITS_COLUMNS`], then one column
//! per condition ([`crate::options::Conds`]).
//! report.md quotes the warnings of [`crate::select`](mod@crate::select), the main results, the
//! consistency verdict of the T_c estimates (T-sweeps), and embeds every figure with the fitted
//! numbers it shows, each row with its method and its seeds; report.html shows the same with
//! the figures inline and the provenance (version, commit, store, command, runs used and left
//! out), readable without a network.
//!
//! The figures themselves are drawn in `crate::figures` (one file per kind of sweep); this file
//! holds the entry point [`analyze`], its options and results, and writes fits.csv and
//! report.md (report.html: `report_html.rs`).

use crate::figures::{self, csv_err, num, Ctx};
use crate::options::{cond_cell, cond_columns, FITS_COLUMNS, RELIABLE_SEEDS};
pub use crate::options::{AnalysisOptions, FitRow};
use crate::seeds_of;
use crate::shared_text::{
    fit_cells, identical_rows, method_number, methods_text, runs_line, FIT_HEADS,
};
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
        figures: Vec::new(),
    };
    if !runs.is_empty() {
        match kind {
            Kind::Perceptron => figures::perceptron(&mut ctx, &refs)?,
            Kind::TSweep => figures::tsweep(&mut ctx, &refs)?,
            Kind::Phase => figures::phase(&mut ctx, &refs)?,
            Kind::Batch => figures::batch(&mut ctx, &refs)?,
        }
    }
    write_fits(&mut ctx)?;
    let report = report_text(&ctx, kind, runs);
    let path = out.join("report.md");
    sgdnoise_core::rundir::write_atomic(&path, report.as_bytes())
        .map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    ctx.files.push(path);
    let html = crate::report_html::page(&ctx, kind, runs)?;
    let path = out.join("report.html");
    sgdnoise_core::rundir::write_atomic(&path, html.as_bytes())
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
    let conds = cond_columns(ctx.fits.iter().map(|r| &r.conditions));
    let mut header: Vec<&str> = FITS_COLUMNS.to_vec();
    header.extend(conds.iter().map(String::as_str));
    w.write_record(&header).map_err(|e| csv_err(&path, e))?;
    for r in &ctx.fits {
        let mut cells = vec![
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
            r.n_seeds_min.map(|n| n.to_string()).unwrap_or_default(),
        ];
        cells.extend(conds.iter().map(|c| cond_cell(&r.conditions, c)));
        w.write_record(&cells).map_err(|e| csv_err(&path, e))?;
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
    let _ = writeln!(s, "{}.\n", runs_line(ctx, runs));
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
    let _ = writeln!(s, "{}\n", methods_text(ctx));
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
    let _ = writeln!(
        s,
        "## Figures and their numbers (all numbers also in fits.csv)\n"
    );
    let mut shown = vec![false; ctx.fits.len()];
    for (stem, title) in &ctx.figures {
        let _ = writeln!(s, "### {stem}\n");
        let _ = writeln!(
            s,
            "![{}]({stem}.png)\n",
            title.replace('[', "(").replace(']', ")")
        );
        let rows: Vec<usize> = (0..ctx.fits.len())
            .filter(|&i| ctx.fits[i].figure == *stem)
            .collect();
        rows.iter().for_each(|&i| shown[i] = true);
        fit_table(&mut s, ctx, &rows, kind);
    }
    let rest: Vec<usize> = (0..ctx.fits.len()).filter(|&i| !shown[i]).collect();
    if !rest.is_empty() {
        let _ = writeln!(s, "### Other fitted numbers\n");
        fit_table(&mut s, ctx, &rest, kind);
    }
    s
}

/// The rows `rows` of fits.csv as a table, each with the number of its method, the methods
/// right under it, and a note on rows that are one measurement seen twice.
fn fit_table(s: &mut String, ctx: &Ctx, rows: &[usize], kind: Kind) {
    if rows.is_empty() {
        return;
    }
    let mut methods: Vec<&str> = Vec::new();
    let _ = writeln!(s, "| {} |", FIT_HEADS.join(" | "));
    let _ = writeln!(s, "|{}", "---|".repeat(FIT_HEADS.len()));
    for &i in rows {
        let r = &ctx.fits[i];
        let m = method_number(&mut methods, &r.method);
        let _ = writeln!(s, "| {} |", fit_cells(r, m).join(" | "));
    }
    let _ = writeln!(s);
    for (k, m) in methods.iter().enumerate() {
        let _ = writeln!(s, "({}) {m}\n", k + 1);
    }
    for group in identical_rows(ctx, rows) {
        let conds: Vec<&str> = group
            .iter()
            .map(|&i| ctx.fits[i].condition.as_str())
            .collect();
        let why = if kind == Kind::Perceptron {
            " Far above T = 1/α each SGD step is much larger than the hinge margin 1/α; when no training point ever lands inside the margin, SGD on the hinge loss is the perceptron rule w ← w + η y x on the misclassified points, which is homogeneous in η: the run at c·T is the run at T scaled by c, step for step on the same batches (same number of steps, weight change × c), so ratios such as signal/noise and the test error do not change. These rows are one measurement seen through an exact rescaling, not independent confirmations."
        } else {
            " The runs behind them are the same dynamics up to an exact rescaling; they are one measurement, not independent confirmations."
        };
        let _ = writeln!(
            s,
            "Note: the rows {} are identical (value and interval agree to 10^-5).{why}\n",
            conds
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(condition: &str, value: f64, method: &str) -> FitRow {
        let e = crate::fit::Estimate {
            value,
            ci_low: value - 0.1,
            ci_high: value + 0.1,
            resamples_ok: 1000,
        };
        let usage = crate::options::FitUse {
            n_points: 7,
            n_seeds: 2,
            ..Default::default()
        };
        FitRow::new("snr", "signal_to_noise", "P", e)
            .label(condition)
            .theory(Some(0.5))
            .method(method)
            .usage(&usage)
    }

    #[test]
    fn report_embeds_each_figure_and_names_rows_of_rescaled_runs() {
        let opts = AnalysisOptions::default();
        let out = std::env::temp_dir();
        let ctx = Ctx {
            out: &out,
            opts: &opts,
            seeds: vec![0, 1],
            fits: vec![
                row("chi=1, T=1", 0.4805748, "fit over P in [128, 8192]"),
                row("chi=1, T=2^-10", 0.461, "fit over P in [128, 8192]"),
                row("chi=1, T=4", 0.4805749, "fit over P in [128, 8192]"),
                FitRow {
                    figure: "elsewhere".into(),
                    ..row("chi=3", 0.29, "another method")
                },
            ],
            files: Vec::new(),
            notes: Vec::new(),
            sections: Vec::new(),
            warnings: Vec::new(),
            figures: vec![("snr".into(), "Signal/noise against P".into())],
        };
        let r = report_text(&ctx, Kind::Perceptron, &[]);
        assert!(r.contains("![Signal/noise against P](snr.png)"), "{r}");
        // Each row carries its method's number; the method stands right under the table.
        assert!(
            r.contains("| chi=1, T=1 | 0.4806 | [0.3806, 0.5806] | 0.5000 | 2 | 7 | 0 | (1) |"),
            "{r}"
        );
        let table_end = r
            .find("(1) fit over P in [128, 8192]")
            .expect("method under the table");
        assert!(table_end > r.find("| chi=1, T=4 |").unwrap());
        // T = 1 and T = 4 are one measurement; T = 2^-10 is not part of it.
        let note = r
            .lines()
            .find(|l| l.starts_with("Note: the rows"))
            .expect("a note");
        assert!(
            note.contains("`chi=1, T=1`") && note.contains("`chi=1, T=4`"),
            "{note}"
        );
        assert!(!note.contains("2^-10") && note.contains("homogeneous in η"));
        // A row whose figure has no image is still listed.
        assert!(r.contains("### Other fitted numbers") && r.contains("(1) another method"));
    }
}
