//! `sgdnoise run`: one training from flags and/or a TOML file.

use crate::progress::RunProgress;
use anyhow::Context;
use clap::Args;
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::{RunConfig, RunSpec};
use std::path::PathBuf;

/// Settings of one run as flags (SPEC §10). Each flag overrides the same key of `--config`.
#[derive(Args, Debug, Clone, Default)]
pub struct RunFlags {
    /// Settings as TOML (same keys as the flags, in snake_case); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Architecture: linear (perceptron), mlp, mnas.
    #[arg(long)]
    pub arch: Option<String>,
    /// Activation: relu, gelu, silu.
    #[arg(long)]
    pub act: Option<String>,
    /// Hidden layers L of the mlp.
    #[arg(long)]
    pub depth: Option<usize>,
    /// Width h.
    #[arg(long)]
    pub width: Option<usize>,
    /// Data set: depleted_sign, sign, random_sign, mnist_parity, cifar_animal, fashion_parity.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Density exponent chi of depleted_sign.
    #[arg(long, allow_negative_numbers = true)]
    pub chi: Option<f64>,
    /// Input dimension d of synthetic data.
    #[arg(long = "dim")]
    pub dim: Option<usize>,
    /// Training-set size P.
    #[arg(long)]
    pub ptr: Option<usize>,
    /// Test-set size.
    #[arg(long)]
    pub pte: Option<usize>,
    /// alpha of the alpha-trick.
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// Mini-batch size B (absent: full-batch gradient descent).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Temperature T = lr / (B h).
    #[arg(long, allow_negative_numbers = true)]
    pub temp: Option<f64>,
    /// Learning rate (instead of --temp).
    #[arg(long, allow_negative_numbers = true)]
    pub lr: Option<f64>,
    /// Loss: hinge, quadratic_hinge, mse.
    #[arg(long)]
    pub loss: Option<String>,
    /// f32 or f64.
    #[arg(long)]
    pub dtype: Option<String>,
    #[arg(long, allow_negative_numbers = true)]
    pub seed_init: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    pub seed_batch: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    pub seed_trainset: Option<i64>,
    #[arg(long, allow_negative_numbers = true)]
    pub seed_testset: Option<i64>,
    /// Step cap.
    #[arg(long)]
    pub max_steps: Option<u64>,
    /// Wall-clock cap in seconds.
    #[arg(long, allow_negative_numbers = true)]
    pub max_wall: Option<f64>,
    /// Checkpoints per decade of steps.
    #[arg(long, allow_negative_numbers = true)]
    pub checkpoints_per_decade: Option<f64>,
    /// Where the image data sets are.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Threads of this run.
    #[arg(long)]
    pub threads: Option<usize>,
}

impl RunFlags {
    /// The raw settings: the config file (if any) overridden by the flags.
    pub fn to_config(&self) -> anyhow::Result<RunConfig> {
        let flags = RunConfig {
            arch: self.arch.clone(),
            act: self.act.clone(),
            depth: self.depth,
            width: self.width,
            dataset: self.dataset.clone(),
            chi: self.chi,
            dim: self.dim,
            ptr: self.ptr,
            pte: self.pte,
            alpha: self.alpha,
            batch: self.batch,
            temp: self.temp,
            lr: self.lr,
            loss: self.loss.clone(),
            dtype: self.dtype.clone(),
            seed_init: self.seed_init,
            seed_batch: self.seed_batch,
            seed_trainset: self.seed_trainset,
            seed_testset: self.seed_testset,
            max_steps: self.max_steps,
            max_wall: self.max_wall,
            checkpoints_per_decade: self.checkpoints_per_decade,
            loss_drop_factor: None,
            data_dir: self.data_dir.clone(),
            threads: self.threads,
        };
        let base = match &self.config {
            Some(path) => RunConfig::from_toml_file(path)?,
            None => RunConfig::default(),
        };
        Ok(base.merged(&flags))
    }

    /// Validated settings.
    pub fn resolve(&self) -> anyhow::Result<RunSpec> {
        Ok(self.to_config()?.resolve()?)
    }
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub flags: RunFlags,
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

pub fn main(args: RunArgs) -> anyhow::Result<()> {
    let spec = args.flags.resolve()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("runs").join(spec.identity()));
    let started = std::time::Instant::now();
    let mut bar = RunProgress::new(args.quiet, spec.max_steps);
    let summary = sgdnoise_core::run::execute(&spec, Some(&out), &mut |p| {
        bar.update(p);
        true
    })
    .with_context(|| format!("run {}", spec.identity()))?;
    bar.finish();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print_summary(&spec, &summary, &out, started.elapsed().as_secs_f64());
    }
    Ok(())
}

/// The short human summary of a finished run.
pub fn print_summary(spec: &RunSpec, s: &Summary, out: &std::path::Path, total_seconds: f64) {
    println!(
        "run {}  ({} on {}, P = {}, alpha = {}, B = {}, T = {}, lr = {})",
        s.id,
        arch_name(spec),
        spec.dataset.name(),
        spec.ptr,
        spec.alpha,
        spec.batch,
        spec.temp,
        spec.lr
    );
    println!(
        "  stopped:            {} after {} steps",
        s.stop_reason, s.steps
    );
    println!("  t* = lr x steps:    {}", s.t_star);
    println!("  train error:        {}", s.train_err);
    println!(
        "  test error:         {}  ({} points)",
        s.test_err, spec.pte
    );
    if let (Some(signal), Some(noise)) = (s.signal, s.noise) {
        println!("  signal w1 - w0_1:   {signal:.4}");
        println!(
            "  noise |w_perp - w0_perp|: {noise:.4}  (signal/noise {:.4})",
            signal / noise
        );
    }
    println!(
        "  rel. weight change: {:.6}  (per-layer mean {:.6})",
        s.rel_weight_change, s.rel_weight_change_layer_mean
    );
    println!(
        "  wall time:          {:.3} s training, {:.3} s in all",
        s.wall_seconds, total_seconds
    );
    println!("  written to:         {}", out.display());
}

fn arch_name(spec: &RunSpec) -> String {
    match spec.arch {
        sgdnoise_core::settings::Arch::Linear => format!("perceptron d = {}", spec.input_dim),
        sgdnoise_core::settings::Arch::Mlp => {
            format!("mlp L = {} h = {} {:?}", spec.depth, spec.width, spec.act).to_lowercase()
        }
        sgdnoise_core::settings::Arch::Mnas => {
            format!("mnas h = {} {:?}", spec.width, spec.act).to_lowercase()
        }
    }
}
