//! `sgdnoise reproduce NAME`: plan one of the paper's sweeps (SPEC §9), run or resume it in
//! DIR/store, then draw its figures and fits into DIR.

use anyhow::Context;
use clap::Args;
use sgdnoise_analysis::report;
use sgdnoise_campaign::presets::{self as reproduce, Kind, Scale};
use sgdnoise_campaign::{self as sweep, LocalOptions, SweepEvent};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// The sweep: perceptron, fc-mnist, fc-cifar, fc-phase, cnn-mnist, cnn-cifar, cnn-phase-cifar.
    pub name: String,
    /// quick (two CPU cores: minutes to under an hour) or paper (the authors' full grid).
    #[arg(long, default_value = "quick")]
    pub scale: String,
    /// Output folder: the store goes to DIR/store, figures, CSVs, fits.csv and report.md to DIR.
    #[arg(long)]
    pub out: PathBuf,
    /// Concurrent runs (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// Where the image data sets are (mnist/cifar presets).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Only plan: print the number of runs and exit.
    #[arg(long)]
    pub dry_run: bool,
    /// Only analyse what is already in DIR/store (no runs).
    #[arg(long)]
    pub no_run: bool,
    /// Bootstrap resamples of the confidence intervals.
    #[arg(long, default_value_t = 1000)]
    pub resamples: usize,
}

pub fn main(args: ReproduceArgs) -> anyhow::Result<()> {
    let scale = Scale::parse(&args.scale)?;
    let kind = Kind::of_preset(&args.name)?;
    let mut plan = reproduce::plan(&args.name, scale)?;
    if let Some(dir) = &args.data_dir {
        for r in &mut plan.runs {
            r.exec.data_dir = Some(dir.clone());
        }
    }
    let store = args.out.join("store");
    eprintln!(
        "{} ({}): {} runs, store {}",
        plan.name,
        scale.name(),
        plan.runs.len(),
        store.display()
    );
    if args.dry_run {
        return Ok(());
    }
    if !args.no_run {
        let started = std::time::Instant::now();
        let total = plan.runs.len();
        let mut done = 0usize;
        let mut next_report = 50usize;
        let mut failed = 0usize;
        let opts = LocalOptions {
            workers: args.workers,
            ..Default::default()
        };
        let rep = sweep::run_local(&plan, &store, &opts, &mut |ev| match ev {
            SweepEvent::Finished { .. } => {
                done += 1;
                if done == next_report {
                    next_report += 50;
                    eprintln!(
                        "  {done} runs finished ({:.0} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
            SweepEvent::Failed { id, error } => {
                failed += 1;
                eprintln!("  run {id} failed: {error}");
            }
            SweepEvent::Started { .. } => {}
        })
        .with_context(|| format!("sweep {}", plan.name))?;
        eprintln!(
            "sweep: {} of {total} already done, {} ran, {} failed, {:.1} s",
            rep.already_done,
            rep.ran,
            rep.failed.max(failed),
            started.elapsed().as_secs_f64()
        );
    }
    let runs = sweep::collect(&store)?;
    let ids: std::collections::HashSet<String> = plan.runs.iter().map(|r| r.identity()).collect();
    let runs: Vec<_> = runs.into_iter().filter(|s| ids.contains(&s.id)).collect();
    let opts = report::AnalysisOptions {
        bootstrap: sgdnoise_analysis::fit::BootstrapOptions {
            resamples: args.resamples,
            ..Default::default()
        },
        source: format!(
            "`sgdnoise reproduce {} --scale {}` ({} planned runs, store {})",
            args.name,
            scale.name(),
            plan.runs.len(),
            store.display()
        ),
        ..Default::default()
    };
    let a = report::analyze(&runs, kind, &opts, &args.out)?;
    crate::cmd::analyze::print_result(&a, &args.out);
    Ok(())
}
