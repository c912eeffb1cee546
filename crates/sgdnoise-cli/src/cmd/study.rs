//! `sgdnoise study`: the built-in perceptron study (the README's main job).

use clap::Args;
use sgdnoise_campaign::{self as sweep, LocalOptions, SweepEvent};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct StudyArgs {
    /// Seeds per grid point.
    #[arg(long, default_value_t = 8)]
    pub seeds: usize,
    /// Where the runs are stored (resumable: finished runs are not run again).
    #[arg(long, default_value = "study-perceptron")]
    pub out: PathBuf,
    /// Concurrent runs (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
}

pub fn main(args: StudyArgs) -> anyhow::Result<()> {
    if args.seeds < 2 {
        return Err(crate::BadInput(format!(
            "--seeds {}: the study needs at least 2 seeds for a spread",
            args.seeds
        ))
        .into());
    }
    let plan = sgdnoise_analysis::study::plan(args.seeds);
    eprintln!(
        "perceptron study: {} runs, stored in {}",
        plan.runs.len(),
        args.out.display()
    );
    let started = std::time::Instant::now();
    let total = plan.runs.len();
    let mut done = 0usize;
    let report = sweep::run_local(
        &plan,
        &args.out,
        &LocalOptions {
            workers: args.workers,
            retry_failed: true,
            ..Default::default()
        },
        &mut |event| {
            if let SweepEvent::Finished { .. } = event {
                done += 1;
                if done % 10 == 0 || done == total {
                    eprintln!(
                        "  {done} runs done ({:.1} s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        },
    )?;
    if report.failed > 0 {
        anyhow::bail!("{} runs failed", report.failed);
    }
    let ids: std::collections::HashSet<String> = plan.runs.iter().map(|r| r.identity()).collect();
    let summaries: Vec<_> = sweep::collect(&args.out)?
        .into_iter()
        .filter(|s| ids.contains(&s.id))
        .collect();
    let study = sgdnoise_analysis::study::report(&summaries);
    println!("{}", study.text);
    println!(
        "({} runs, {:.1} s)",
        summaries.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
