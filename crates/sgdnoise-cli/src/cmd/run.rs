//! `sgdnoise run`: one training from flags and/or a TOML file.

use crate::flags::SettingsArgs;
use crate::output::outln;
use crate::progress::RunProgress;
use anyhow::Context;
use clap::Args;
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::{Arch, RunSpec};
use sgdnoise_core::train::StopReason;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// The run directory (config.json, checkpoints.jsonl, summary.json). Default: runs/<id>.
    #[arg(long)]
    pub out: Option<PathBuf>,
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
    let spec = args.settings.resolve()?;
    note_threads(&spec);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(spec.identity()));
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

/// The short human summary of a finished run.
pub fn print_summary(spec: &RunSpec, s: &Summary, out: &std::path::Path, total_seconds: f64) {
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
