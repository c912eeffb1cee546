//! `sgdnoise bench`: SGD steps per second on one thread.
//!
//! Default: SGD steps (forward + backward + fused update, dense gradient) of the model the run
//! settings describe, on random inputs; `--arch mlp --batch 16` is the FC paper configuration
//! (mnist shape d0 = 784, L = 5, h = 128, relu, f32).
//! `--train` runs the real training loop instead (data, sampling, stop checks, checkpoints) and
//! reports the share of wall time spent in stop checks; `--peak` measures the core's FMA peak.

use crate::flags::SettingsArgs;
use crate::output::outln;
use clap::Args;
use sgdnoise_core::bench;
use sgdnoise_core::settings::{Arch, Dtype};

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// The model and data shape, with the same flags and defaults as `sgdnoise run` (only the
    /// shape matters for the step benchmark: no data files are read). Without --temp or --lr,
    /// T = 1 for the perceptron and 2^-6 otherwise; --threads defaults to 1.
    #[command(flatten)]
    pub settings: SettingsArgs,
    /// Seconds of timing (a tenth of it warm-up).
    #[arg(long, default_value_t = 3.0, allow_hyphen_values = true)]
    pub seconds: f64,
    /// Timed repeats (the median is reported).
    #[arg(long, default_value_t = 5, allow_hyphen_values = true)]
    pub repeats: usize,
    /// Run the real training loop (`train::train`) instead of bare steps.
    #[arg(long)]
    pub train: bool,
    /// Measure the core's FMA peak and report the fraction of it reached.
    #[arg(long)]
    pub peak: bool,
}

pub fn main(args: BenchArgs) -> anyhow::Result<()> {
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 3600.0) {
        return Err(crate::BadInput(format!(
            "--seconds {}: must be a number of seconds in (0, 3600]",
            args.seconds
        ))
        .into());
    }
    if args.repeats == 0 || args.repeats > 1000 {
        return Err(crate::BadInput(format!(
            "--repeats {}: must be between 1 and 1000",
            args.repeats
        ))
        .into());
    }
    let mut config = args.settings.to_config()?;
    if config.temp.is_none() && config.lr.is_none() {
        let linear = config.arch.unwrap_or(Arch::Linear) == Arch::Linear;
        config.temp = Some(if linear { 1.0 } else { 2f64.powi(-6) });
    }
    if config.threads.is_none() {
        config.threads = Some(1);
    }
    if !args.train && config.ptr.is_none() {
        // The step benchmark draws no training set: P only has to hold one batch.
        config.ptr = config.batch;
    }
    let spec = config.resolve()?;
    // Nothing that grows with the sizes is allocated before this.
    sgdnoise_core::memory::check(&spec)?;
    crate::cmd::run::note_threads(&spec);
    let shape = match spec.arch {
        Arch::Mlp => format!(
            "mlp {} d0={} L={} h={}",
            spec.act, spec.input_dim, spec.depth, spec.width
        ),
        Arch::Linear => format!("linear d={}", spec.input_dim),
        Arch::Mnas => format!("mnas {} h={} on {}", spec.act, spec.width, spec.dataset),
    };
    let peak = if args.peak {
        let p = bench::fma_peak(1.0);
        match &p {
            Some(p) => outln!(
                "FMA peak, 1 core ({}): f32 {:.1} GFLOP/s, f64 {:.1} GFLOP/s",
                p.isa,
                p.f32_gflops,
                p.f64_gflops
            ),
            None => outln!(
                "FMA peak: not measured: the portable SIMD level has no vector FMA (this CPU lacks AVX2+FMA, or SGDNOISE_SIMD lowered the level)"
            ),
        }
        p.map(|p| match spec.dtype {
            Dtype::F32 => p.f32_gflops,
            Dtype::F64 => p.f64_gflops,
        })
    } else {
        None
    };

    if args.train {
        let r = bench::bench_training(&config, args.seconds)?;
        outln!(
            "training loop, {shape}, {} P={} B={} alpha={} T={}, {}, 1 thread",
            spec.dataset,
            spec.ptr,
            spec.batch,
            spec.alpha,
            spec.temp,
            spec.dtype
        );
        outln!(
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
    let share = |g: f64| match peak {
        Some(p) => format!(" = {:.1}% of peak", 100.0 * g / p),
        None => String::new(),
    };
    let mut line = format!(
        "{shape} B={} {}, 1 thread: {:.1} steps/s (repeats {:.1}..{:.1}, spread {:.1}%)",
        spec.batch,
        spec.dtype,
        r.steps_per_sec,
        r.repeats[0],
        r.repeats[r.repeats.len() - 1],
        100.0 * r.spread()
    );
    if let Some(g) = r.gflops() {
        line.push_str(&format!(", {g:.2} GFLOP/s{}", share(g)));
    }
    line.push_str(&format!(
        "; per thread CPU second: {:.1} steps/s",
        r.cpu_steps_per_sec
    ));
    if let Some(g) = r.cpu_gflops() {
        line.push_str(&format!(", {g:.2} GFLOP/s{}", share(g)));
    }
    outln!("{line}");
    Ok(())
}
