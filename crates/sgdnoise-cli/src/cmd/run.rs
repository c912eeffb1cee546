//! `sgdnoise run`: one training from flags and/or a TOML file.

use crate::flags::SettingsArgs;
use crate::output::outln;
use crate::progress::RunProgress;
use anyhow::Context;
use clap::Args;
use sgdnoise_core::rundir::{self, Summary, SummaryState};
use sgdnoise_core::settings::{Arch, RunSpec};
use sgdnoise_core::train::StopReason;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// The run directory (config.json, checkpoints.jsonl, summary.json). Default: runs/<id>.
    /// A folder holding this run's summary is not run again (its summary is shown); one holding
    /// another run's is refused (see --force).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run even where --out holds a finished run: the old folder is moved aside to
    /// <out>.aside-N (never deleted) first.
    #[arg(long)]
    pub force: bool,
    /// Print the summary as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Says on stderr when `threads` is more than this machine's cores (the run uses its cores).
pub fn note_threads(spec: &RunSpec) {
    let here = spec.exec.threads_here();
    if here < spec.exec.threads {
        eprintln!(
            "note: threads = {} is more than the {here} cores here: the run uses {here}",
            spec.exec.threads
        );
    }
}

pub fn main(args: RunArgs) -> anyhow::Result<()> {
    // Named after the data it finds: other image data than the canonical set give another run
    // (their digest enters the identity, and so the default folder runs/<id>).
    let spec = args.settings.resolve()?;
    // An absurd size is refused before the data are opened or anything is allocated.
    sgdnoise_core::memory::check(&spec)?;
    let spec = sgdnoise_core::data::bind(&spec)?;
    note_threads(&spec);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(spec.identity()));
    if !make_room(&spec, &out, args.force)? {
        // This very run is finished there: show it, as a sweep would skip it.
        match rundir::read_summary(&out) {
            Ok(summary) if args.json => outln!("{}", serde_json::to_string_pretty(&summary)?),
            Ok(summary) => {
                outln!(
                    "run {} is already finished in {} (not run again; --force runs it again)",
                    summary.id,
                    out.display()
                );
                print_summary(&spec, &summary, &out, summary.wall_seconds);
            }
            Err(e) => outln!(
                "run {} is already finished in {} (not run again; --force runs it again); \
                 this version cannot show its summary: {e}",
                spec.identity(),
                out.display()
            ),
        }
        return Ok(());
    }
    let started = std::time::Instant::now();
    let stop = crate::signals::stop_flag();
    let mut bar = RunProgress::new(args.quiet, spec.max_steps);
    let summary = sgdnoise_core::run::execute(&spec, Some(&out), &mut |p| {
        bar.update(p);
        !stop.load(std::sync::atomic::Ordering::SeqCst)
    })
    .with_context(|| format!("run {}", spec.identity()))?;
    bar.finish();
    if summary.stop_reason == StopReason::Interrupted {
        crate::signals::check(&format!(
            "run {} stopped at step {}; its folder {} stays partial (no summary)",
            summary.id,
            summary.steps,
            out.display()
        ))?;
        return Ok(());
    }
    if args.json {
        outln!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&spec, &summary, &out, started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Gets `out` ready for `spec`: Ok(true) to run there, Ok(false) when it holds this very run
/// finished. A folder holding a summary of another run, or one that cannot be read, is refused
/// (exit 2) unless `force`, which moves it aside (never deletes it).
fn make_room(spec: &RunSpec, out: &Path, force: bool) -> anyhow::Result<bool> {
    let id = spec.identity();
    if !out.is_dir() {
        // No folder (or a file in the way, which the run reports naming the path): no result.
        return Ok(true);
    }
    let what = match rundir::summary_state(out) {
        SummaryState::Absent => return Ok(true),
        SummaryState::Finished { id: found } if found == id && !force => return Ok(false),
        SummaryState::Finished { id: found } if found == id => format!("this run ({id})"),
        SummaryState::Finished { id: found } => format!("run {found} (other settings)"),
        SummaryState::Corrupt { reason } => format!("a summary that cannot be read ({reason})"),
    };
    if !force {
        return Err(crate::BadInput(format!(
            "--out {}: holds the finished result of {what}; a finished run is never replaced. \
             Give another --out, or add --force to move that folder aside (to {}.aside-N) and run here",
            out.display(),
            out.display()
        ))
        .into());
    }
    let to = rundir::move_aside(out).with_context(|| format!("moving {} aside", out.display()))?;
    eprintln!(
        "moved {} (it held the finished result of {what}) aside to {}",
        out.display(),
        to.display()
    );
    Ok(true)
}

/// The short human summary of a finished run.
pub fn print_summary(spec: &RunSpec, s: &Summary, out: &Path, total_seconds: f64) {
    outln!(
        "run {}  ({} on {}, P = {}, alpha = {}, B = {}, T = {}, lr = {})",
        s.id,
        model_name(spec),
        spec.dataset,
        spec.ptr,
        spec.alpha,
        spec.batch,
        spec.temp,
        spec.lr
    );
    outln!(
        "  stopped:            {} after {} steps",
        s.stop_reason,
        s.steps
    );
    outln!("  t* = lr x steps:    {}", s.t_star);
    outln!("  train error:        {}", s.train_err);
    outln!(
        "  test error:         {}  ({} points)",
        s.test_err,
        spec.pte
    );
    if let (Some(signal), Some(noise)) = (s.signal, s.noise) {
        outln!("  signal w1 - w0_1:   {signal:.4}");
        outln!(
            "  noise |w_perp - w0_perp|: {noise:.4}  (signal/noise {:.4})",
            signal / noise
        );
    }
    outln!(
        "  rel. weight change: {:.6}  (per-layer mean {:.6})",
        s.rel_weight_change,
        s.rel_weight_change_layer_mean
    );
    outln!(
        "  wall time:          {:.3} s training, {:.3} s in all",
        s.wall_seconds,
        total_seconds
    );
    outln!("  written to:         {}", out.display());
}

/// The model as a physicist names it: `perceptron d = 32`, `mlp L = 5 h = 128 relu`.
pub fn model_name(spec: &RunSpec) -> String {
    match spec.arch {
        Arch::Linear => format!("perceptron d = {}", spec.input_dim),
        Arch::Mlp => format!("mlp L = {} h = {} {}", spec.depth, spec.width, spec.act),
        Arch::Mnas => format!("mnas h = {} {}", spec.width, spec.act),
    }
}
