//! `sgdnoise analyze STORE --out DIR`: figures, fits.csv and report.md for an existing store.

use crate::output::outln;
use anyhow::Context;
use clap::Args;
use sgdnoise_analysis::select::{self, Where};
use sgdnoise_analysis::{report, Kind};
use sgdnoise_campaign::Store;
use std::path::{Path, PathBuf};

/// The vertical axis of the phase diagrams.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum PhaseY {
    /// The temperature T = lr / (B h).
    #[value(name = "T", alias = "temp")]
    Temp,
    /// The learning rate.
    #[value(name = "lr")]
    Lr,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// The store (a folder with runs/<id>/summary.json).
    pub store: PathBuf,
    /// Output folder for figures (SVG, PNG), their CSVs, fits.csv and report.md.
    #[arg(long)]
    pub out: PathBuf,
    /// The figures to draw (default: the sweep file's `analysis` with --sweep, else guessed from
    /// the runs).
    #[arg(long, value_enum)]
    pub kind: Option<Kind>,
    /// Analyse only the runs of this sweep file (a store may hold several sweeps), with the
    /// analysis it names: what the follow-up job of `sweep slurm --analyze` runs.
    #[arg(long)]
    pub sweep: Option<PathBuf>,
    /// Method (a): an absolute main level of the relative weight change (default: 1/sqrt(h),
    /// the level at which an aligned rank-one change moves a layer's pre-activations by their
    /// own size; a is also reported at 1/2, 1/4 and 1/8 of it).
    #[arg(long, allow_hyphen_values = true)]
    pub rwc_threshold: Option<f64>,
    /// Only the runs whose setting KEY has VALUE (a TOML key of the settings table: width=128,
    /// ptr=1024, temp=2^-3, act=relu; "none" for unset); repeat for several conditions.
    #[arg(long = "where", value_name = "KEY=VALUE")]
    pub conditions: Vec<String>,
    /// Phase diagrams: vertical axis of the heatmaps.
    #[arg(long, value_enum, default_value = "T")]
    pub phase_y: PhaseY,
    /// Bootstrap resamples of the confidence intervals.
    #[arg(long, default_value_t = 1000, allow_hyphen_values = true)]
    pub resamples: usize,
    /// Seed of the bootstrap stream.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub bootstrap_seed: i64,
    /// Also write every figure for print into OUT/print: PDF (vector, font embedded), PNG at
    /// 300 dpi and SVG with the font embedded.
    #[arg(long)]
    pub print: bool,
}

pub fn main(args: AnalyzeArgs) -> anyhow::Result<()> {
    if !Store::exists_at(&args.store) {
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
    let conditions = args
        .conditions
        .iter()
        .map(|c| Where::parse(c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(crate::BadInput)?;
    let store = Store::new(&args.store);
    let (collection, named) = match &args.sweep {
        Some(file) => {
            let (sweep, e) = crate::cmd::sweep::expand(file, Some(&args.store))?;
            let named =
                match sweep.analysis.as_deref() {
                    Some(a) => Some(a.parse::<Kind>().map_err(|e| {
                        crate::BadInput(format!("{}: analysis: {e}", file.display()))
                    })?),
                    None => None,
                };
            (store.summaries_of(&e.plan), named)
        }
        None => (store.scan(), None),
    };
    let collection = collection.with_context(|| format!("reading {}", args.store.display()))?;
    crate::cmd::collect::warn_skipped(&collection, &args.store);
    let skipped = left_out(&collection.skipped);
    let runs = collection.summaries;
    if runs.is_empty() {
        return Err(
            crate::BadInput(format!("{} holds no finished run", args.store.display())).into(),
        );
    }
    let total = runs.len();
    let runs = select::select(runs, &conditions);
    if runs.is_empty() {
        return Err(crate::BadInput(format!(
            "no run of {} ({total} finished runs) matches --where {}",
            args.store.display(),
            conditions
                .iter()
                .map(Where::describe)
                .collect::<Vec<_>>()
                .join(" --where ")
        ))
        .into());
    }
    let kind = args.kind.or(named).unwrap_or_else(|| Kind::detect(&runs));
    let phase_y = match args.phase_y {
        PhaseY::Temp => sgdnoise_analysis::Axis::Temp,
        PhaseY::Lr => sgdnoise_analysis::Axis::Lr,
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
        selection: if conditions.is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "{} of {total} runs, where {}",
                runs.len(),
                conditions
                    .iter()
                    .map(Where::describe)
                    .collect::<Vec<_>>()
                    .join(" and ")
            )]
        },
        print: args.print,
        store: Some(args.store.clone()),
        command: command_line(),
        git_commit: git_commit(),
        left_out: skipped,
        ..Default::default()
    };
    let a = report::analyze(&runs, kind, &opts, &args.out)?;
    print_result(&a, &args.out);
    Ok(())
}

/// The command line of this process as typed (arguments with spaces or quotes single-quoted),
/// for the provenance of report.html.
pub fn command_line() -> String {
    std::env::args_os()
        .map(|a| {
            let a = a.to_string_lossy().into_owned();
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                a
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The git commit of the source, for the provenance of report.html: `SGDNOISE_GIT_COMMIT` at
/// build time if it was set, else the HEAD of the git checkout that holds the binary (as
/// built in `target/release`), marked "+ uncommitted changes" when its work tree differs;
/// None when neither is known.
pub fn git_commit() -> Option<String> {
    if let Some(c) = option_env!("SGDNOISE_GIT_COMMIT") {
        return Some(c.to_string());
    }
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
    };
    let head = git(&["rev-parse", "HEAD"]).filter(|o| o.status.success())?;
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    if head.is_empty() {
        return None;
    }
    let dirty = git(&["diff-index", "--quiet", "HEAD", "--"]).is_some_and(|o| !o.status.success());
    Some(if dirty {
        format!("{head} (HEAD of the checkout holding the binary, + uncommitted changes)")
    } else {
        format!("{head} (HEAD of the checkout holding the binary)")
    })
}

/// What the collection left out, one line per kind with its count (report.html).
pub fn left_out(skipped: &[sgdnoise_campaign::store::Skipped]) -> Vec<String> {
    let mut kinds: Vec<&'static str> = skipped.iter().map(|s| s.why.kind()).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|k| {
            let n = skipped.iter().filter(|s| s.why.kind() == k).count();
            format!("{n} {k} (named on stderr by the command)")
        })
        .collect()
}

/// Prints the warnings (to stderr), the main results and where the files went.
pub fn print_result(a: &report::Analysis, out: &Path) {
    for w in &a.warnings {
        eprintln!("warning: {w}");
    }
    let figures = a
        .files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "svg"))
        .filter(|f| !f.parent().is_some_and(|d| d.ends_with("print")))
        .count();
    outln!(
        "{} analysis: {figures} figures (SVG + PNG + CSV), {} fitted numbers in {}",
        a.kind,
        a.fits.len(),
        out.join("fits.csv").display()
    );
    if let Some(main) = a.report.split("## Main results").nth(1) {
        for line in main.lines().skip(1).take_while(|l| !l.starts_with("##")) {
            if !line.is_empty() {
                outln!("{line}");
            }
        }
    }
    outln!("report: {}", out.join("report.md").display());
}
