//! `sgdnoise study`: the built-in perceptron study (the README's main job; its grid is the
//! preset file presets/study.toml, embedded in the binary).

use crate::output::outln;
use crate::progress::SweepProgress;
use clap::Args;
use sgdnoise_analysis::fit::BootstrapOptions;
use sgdnoise_campaign::{self as sweep, presets, LocalOptions, Store, SweepEvent};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct StudyArgs {
    /// Seeds per grid point (seed_init 0..N-1).
    #[arg(long, default_value_t = 8, allow_hyphen_values = true)]
    pub seeds: usize,
    /// Where the runs are stored (resumable: finished runs are not run again).
    #[arg(long, default_value = "study-perceptron")]
    pub out: PathBuf,
    /// Concurrent runs (0: one per core).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub workers: usize,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn main(args: StudyArgs) -> anyhow::Result<()> {
    if !(2..=10_000).contains(&args.seeds) {
        return Err(crate::BadInput(format!(
            "--seeds {}: the study needs between 2 and 10000 seeds (2 for a spread)",
            args.seeds
        ))
        .into());
    }
    let sweep_file = presets::study().with_axis(
        "seed_init",
        (0..args.seeds as i64).map(toml::Value::Integer).collect(),
    )?;
    let plan = sweep_file.expand()?.plan;
    let store = Store::new(&args.out);
    eprintln!(
        "perceptron study: {} runs, stored in {}",
        plan.runs.len(),
        args.out.display()
    );
    let started = std::time::Instant::now();
    let stop = crate::signals::stop_flag();
    let mut progress = SweepProgress::new(plan.runs.len(), 0, args.quiet, 20);
    let report = sweep::run_local(
        &plan,
        &store,
        &LocalOptions {
            workers: args.workers,
            retry_failed: true,
            stop: Some(stop),
        },
        &mut |event| match event {
            SweepEvent::Started { .. } => progress.started(),
            SweepEvent::SetAside { id, to, why } => {
                progress.say(crate::cmd::sweep::set_aside_line(&id, &to, &why))
            }
            SweepEvent::Finished { .. } => progress.finished(),
            SweepEvent::Failed { .. } => progress.failed(),
        },
    )?;
    progress.finish();
    crate::signals::check("the study's finished runs are kept; run it again to continue")?;
    if report.failed > 0 {
        anyhow::bail!("{} runs failed", report.failed);
    }
    let summaries = store.summaries_of(&plan)?.summaries;
    let study = sgdnoise_analysis::study::report(&summaries, &BootstrapOptions::default());
    outln!("{}", study.text);
    outln!(
        "({} runs, {:.1} s)",
        summaries.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
