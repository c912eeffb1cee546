//! `sgdnoise bench`: SGD steps per second on one thread.
//!
//! Default: SGD steps (forward + backward + fused update, dense gradient) of the FC paper
//! configuration (mnist shape d0 = 784, L = 5, h = 128, relu, B = 16, f32) on random inputs.
//! `--train` runs the real training loop instead (data, sampling, stop checks, checkpoints) and
//! reports the share of wall time spent in stop checks; `--peak` measures the core's FMA peak.

use clap::Args;
use sgdnoise_core::bench;
use sgdnoise_core::settings::{Arch, RunConfig};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Architecture: mlp, linear or mnas.
    #[arg(long, default_value = "mlp")]
    pub arch: String,
    /// Activation: relu, gelu, silu.
    #[arg(long)]
    pub act: Option<String>,
    /// Data set whose input shape is used (step benchmark: no data files are read).
    #[arg(long)]
    pub dataset: Option<String>,
    /// Input dimension of synthetic data sets.
    #[arg(long = "dim")]
    pub dim: Option<usize>,
    #[arg(long)]
    pub depth: Option<usize>,
    #[arg(long)]
    pub width: Option<usize>,
    /// Mini-batch size B.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// f32 or f64.
    #[arg(long, default_value = "f32")]
    pub dtype: String,
    /// Seconds of timing (a tenth of it warm-up).
    #[arg(long, default_value_t = 3.0)]
    pub seconds: f64,
    /// Timed repeats (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Run the real training loop (`train::train`) instead of bare steps.
    #[arg(long)]
    pub train: bool,
    /// Training set size P (with --train; default 1024).
    #[arg(long)]
    pub ptr: Option<usize>,
    /// Test set size (with --train; default 1024).
    #[arg(long)]
    pub pte: Option<usize>,
    /// alpha (with --train; default 32768).
    #[arg(long)]
    pub alpha: Option<f64>,
    /// Temperature T (with --train; default 1 for linear, 2^-6 otherwise).
    #[arg(long)]
    pub temp: Option<f64>,
    /// Density exponent of depleted_sign (with --train).
    #[arg(long)]
    pub chi: Option<f64>,
    /// Where image data sets are (with --train on image data).
    #[arg(long)]
    pub data_dir: Option<std::path::PathBuf>,
    /// Measure the core's FMA peak and report the fraction of it reached.
    #[arg(long)]
    pub peak: bool,
}

pub fn main(args: BenchArgs) -> anyhow::Result<()> {
    if !(args.seconds.is_finite() && args.seconds > 0.0) {
        return Err(crate::BadInput(format!("--seconds {}: must be > 0", args.seconds)).into());
    }
    let linear = args.arch == "linear";
    let config = RunConfig {
        arch: Some(args.arch.clone()),
        act: args.act.clone(),
        dataset: args.dataset.clone(),
        dim: args.dim,
        depth: args.depth,
        width: args.width,
        batch: Some(args.batch),
        dtype: Some(args.dtype.clone()),
        ptr: Some(
            args.ptr
                .unwrap_or(if args.train { 1024 } else { args.batch }),
        ),
        pte: Some(args.pte.unwrap_or(1024)),
        alpha: args.alpha,
        temp: Some(
            args.temp
                .unwrap_or(if linear { 1.0 } else { 2f64.powi(-6) }),
        ),
        chi: args.chi,
        data_dir: args.data_dir.clone(),
        threads: Some(1),
        ..Default::default()
    };
    let spec = config.resolve()?;
    let shape = match spec.arch {
        Arch::Mlp => format!(
            "mlp {:?} d0={} L={} h={}",
            spec.act, spec.input_dim, spec.depth, spec.width
        ),
        Arch::Linear => format!("linear d={}", spec.input_dim),
        Arch::Mnas => format!(
            "mnas {:?} h={} on {}",
            spec.act,
            spec.width,
            spec.dataset.name()
        ),
    };
    let peak = if args.peak {
        let p = bench::fma_peak(1.0);
        match &p {
            Some(p) => println!(
                "FMA peak, 1 core ({}): f32 {:.1} GFLOP/s, f64 {:.1} GFLOP/s",
                p.isa, p.f32_gflops, p.f64_gflops
            ),
            None => println!("FMA peak: no vector FMA on this machine"),
        }
        p.map(|p| match spec.dtype {
            sgdnoise_core::settings::Dtype::F32 => p.f32_gflops,
            sgdnoise_core::settings::Dtype::F64 => p.f64_gflops,
        })
    } else {
        None
    };

    if args.train {
        let r = bench::bench_training(&config, args.seconds)?;
        println!(
            "training loop, {shape}, {} P={} B={} alpha={} T={}, {}, 1 thread",
            spec.dataset.name(),
            spec.ptr,
            spec.batch,
            spec.alpha,
            spec.temp,
            args.dtype
        );
        println!(
            "{:.0} steps/s over {} runs ({} at zero loss), {} steps in {:.2} s; stop checks {:.2}% and checkpoints {:.2}% of wall time; {:.0} steps/s without checkpoint records; {:.0} steps per thread CPU second",
            r.steps_per_sec(),
            r.runs,
            r.zero_loss_runs,
            r.steps,
            r.wall_seconds,
            100.0 * r.check_share(),
            100.0 * r.checkpoint_share(),
            r.steps_per_sec_without_checkpoints(),
            r.cpu_steps_per_sec()
        );
        return Ok(());
    }

    let r = bench::bench_steps(&spec, args.seconds, args.repeats);
    print!(
        "{shape} B={} {}, 1 thread: {:.1} steps/s (repeats {:.1}..{:.1}, spread {:.1}%)",
        spec.batch,
        args.dtype,
        r.steps_per_sec,
        r.repeats[0],
        r.repeats[r.repeats.len() - 1],
        100.0 * r.spread()
    );
    if let Some(g) = r.gflops() {
        print!(", {g:.2} GFLOP/s");
        if let Some(p) = peak {
            print!(" = {:.1}% of peak", 100.0 * g / p);
        }
    }
    print!(
        "; per thread CPU second: {:.1} steps/s",
        r.cpu_steps_per_sec
    );
    if let Some(g) = r.cpu_gflops() {
        print!(", {g:.2} GFLOP/s");
        if let Some(p) = peak {
            print!(" = {:.1}% of peak", 100.0 * g / p);
        }
    }
    println!();
    Ok(())
}
