//! Throughput benchmarks: SGD steps per second of a model, of the real training loop, and the
//! floating-point peak of one core.
//!
//! * [`bench_steps`]: one SGD step = `forward` of a batch of random inputs, the hinge output
//!   gradient with every point unfitted (c_i = -y_i / B: a dense gradient every step), and
//!   `backward` with a fused update, through the same [`crate::model::build`] path a run uses.
//!   Warm-up, then the median of several timed repeats.
//! * [`bench_training`]: the real loop [`train::train`] (sampling, stop checks, checkpoints) on a
//!   resolved spec, repeated over init seeds until a time budget is used; reports steps/s and the
//!   share of wall time spent in full stop checks and checkpoints.
//! * [`fma_peak`]: GFLOP/s of a loop of independent fused multiply-adds on the vectors of the
//!   SIMD level in use (AVX-512, else AVX2+FMA: [`simd::level`]), one thread.
//!
//! FLOPs of one mlp step ([`mlp_step_flops`]): a dense layer with fan-in k and fan-out m costs
//! 2 B k m in the forward product, 2 B k m for its weight gradient, and 2 B k m for the gradient
//! with respect to its input, which the first layer does not need. With P parameters and
//! d0 h of them in the first layer: FLOPs = 2 B P + 2 B P + 2 B (P - d0 h) = 2 B (3 P - d0 h).
//! Element-wise work (activations, masks) is not counted. The mnas CNN counts every
//! convolution's nominal taps the same way ([`crate::model::mnas::step_flops`]).
//!
//! Nothing here prints; the `sgdnoise bench` command renders the results.

use crate::model::{self, Target};
use crate::numeric::real::Real;
use crate::numeric::rng::{self, Stream};
use crate::numeric::simd::{self, Isa, Kernel, Level};
use crate::settings::{Arch, Dtype, RunConfig, RunSpec};
use crate::train;
use rand::Rng;
use std::time::{Duration, Instant};

/// Steps per second of repeated timings.
#[derive(Clone, Debug)]
pub struct StepBench {
    /// Median over the repeats.
    pub steps_per_sec: f64,
    /// Every repeat's steps/s, sorted.
    pub repeats: Vec<f64>,
    /// Median of steps per second of the benchmark thread's own CPU time: on a shared machine
    /// this leaves out the time the thread waited for a core (it still feels shared caches).
    pub cpu_steps_per_sec: f64,
    /// FLOPs of one step when known ([`step_flops`]).
    pub flops_per_step: Option<f64>,
}

impl StepBench {
    /// GFLOP/s at the median.
    pub fn gflops(&self) -> Option<f64> {
        self.flops_per_step.map(|f| f * self.steps_per_sec / 1e9)
    }
    /// GFLOP/s per second of the thread's CPU time.
    pub fn cpu_gflops(&self) -> Option<f64> {
        self.flops_per_step
            .map(|f| f * self.cpu_steps_per_sec / 1e9)
    }
    /// (max - min) / median of the repeats.
    pub fn spread(&self) -> f64 {
        let (lo, hi) = (self.repeats[0], self.repeats[self.repeats.len() - 1]);
        (hi - lo) / self.steps_per_sec
    }
}

/// FLOPs of one SGD step (forward + backward) of the mlp: 2 B (3 P - d0 h), see the module doc.
pub fn mlp_step_flops(input_dim: usize, depth: usize, width: usize, batch: usize) -> f64 {
    let p = model::mlp::param_count(input_dim, depth, width) as f64;
    2.0 * batch as f64 * (3.0 * p - (input_dim * width) as f64)
}

/// FLOPs of one step of `spec`'s model, where a formula is known.
pub fn step_flops(spec: &RunSpec) -> Option<f64> {
    match spec.arch {
        Arch::Mlp => Some(mlp_step_flops(
            spec.input_dim,
            spec.depth,
            spec.width,
            spec.batch,
        )),
        // f = w·x/sqrt(d): forward 2 B d, update 2 B d.
        Arch::Linear => Some(4.0 * (spec.batch * spec.input_dim) as f64),
        Arch::Mnas => Some(model::mnas::step_flops(
            spec.dataset.image_shape()?,
            spec.width,
            spec.batch,
        )),
    }
}

/// Times SGD steps of `spec`'s model on random inputs (no data files needed): `seconds` in all,
/// a tenth of it warm-up, the rest split into `repeats` timed repeats.
///
/// Call [`crate::memory::check`] first: this allocates the model and a batch of inputs.
pub fn bench_steps(spec: &RunSpec, seconds: f64, repeats: usize) -> StepBench {
    match spec.dtype {
        Dtype::F32 => bench_steps_as::<f32>(spec, seconds, repeats),
        Dtype::F64 => bench_steps_as::<f64>(spec, seconds, repeats),
    }
}

fn bench_steps_as<R: Real>(spec: &RunSpec, seconds: f64, repeats: usize) -> StepBench {
    let repeats = repeats.max(1);
    let mut model = model::build::<R>(spec);
    let (b, d) = (spec.batch, spec.input_dim);
    let mut rng = rng::stream(spec.seeds.batch, Stream::Batch);
    let x: Vec<R> = (0..b * d)
        .map(|_| R::from_f64(rng.random_range(-1.0..1.0)))
        .collect();
    // Hinge gradient with every point unfitted: c_i = -y_i / B.
    let c: Vec<R> = (0..b)
        .map(|_| R::from_f64(if rng.random::<bool>() { 1.0 } else { -1.0 } / b as f64))
        .collect();
    let mut out = vec![R::ZERO; b];
    // A small rate keeps the weights O(1) for any number of steps; the work does not depend on it.
    let lr = R::from_f64(1e-6);
    let mut step = |model: &mut dyn model::Model<R>| {
        model.forward(&x, b, &mut out);
        model.backward(&x, &c, Target::Update { lr });
    };
    let run_for = |model: &mut dyn model::Model<R>,
                   step: &mut dyn FnMut(&mut dyn model::Model<R>),
                   budget: Duration| {
        let start = Instant::now();
        let cpu0 = thread_cpu_seconds();
        let mut n = 0u64;
        let mut chunk = 1u64;
        loop {
            for _ in 0..chunk {
                step(model);
            }
            n += chunk;
            let el = start.elapsed();
            if el >= budget {
                let cpu = thread_cpu_seconds() - cpu0;
                return (n as f64 / el.as_secs_f64(), n as f64 / cpu);
            }
            // Read the clock about every millisecond.
            let per = el.as_secs_f64() / n as f64;
            chunk = ((1e-3 / per.max(1e-9)) as u64).clamp(1, 1 << 20);
        }
    };
    let warm = Duration::from_secs_f64((seconds * 0.1).max(0.05));
    let each = Duration::from_secs_f64((seconds * 0.9 / repeats as f64).max(0.05));
    run_for(model.as_mut(), &mut step, warm);
    let (mut rates, mut cpu_rates): (Vec<f64>, Vec<f64>) = (0..repeats)
        .map(|_| run_for(model.as_mut(), &mut step, each))
        .unzip();
    rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    cpu_rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
    StepBench {
        steps_per_sec: median(&rates),
        repeats: rates,
        cpu_steps_per_sec: median(&cpu_rates),
        flops_per_step: step_flops(spec),
    }
}

/// CPU time of the calling thread, seconds (wall time where the clock is unavailable); also
/// the clock of the kernel-profiling examples.
pub fn thread_cpu_seconds() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc == 0 {
        ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
    } else {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        START.get_or_init(Instant::now).elapsed().as_secs_f64()
    }
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

/// Throughput of the real training loop.
#[derive(Clone, Debug, Default)]
pub struct TrainingBench {
    /// Runs made (init seeds 0, 1, ...).
    pub runs: usize,
    /// How many of them stopped at zero loss.
    pub zero_loss_runs: usize,
    /// SGD steps simulated in all runs.
    pub steps: u64,
    /// Training wall time of all runs (without data generation and model set-up).
    pub wall_seconds: f64,
    /// Of which in full stop checks and in checkpoints.
    pub check_seconds: f64,
    pub checkpoint_seconds: f64,
    /// CPU time of the benchmark thread during the training calls (less than the wall time
    /// when the machine is shared).
    pub cpu_seconds: f64,
}

impl TrainingBench {
    pub fn steps_per_sec(&self) -> f64 {
        self.steps as f64 / self.wall_seconds
    }
    /// Steps per second of the thread's CPU time (all of the loop, checkpoints included).
    pub fn cpu_steps_per_sec(&self) -> f64 {
        self.steps as f64 / self.cpu_seconds
    }
    /// Steps per second of the loop without the checkpoint records (stop checks included).
    pub fn steps_per_sec_without_checkpoints(&self) -> f64 {
        self.steps as f64 / (self.wall_seconds - self.checkpoint_seconds)
    }
    /// Share of the wall time spent in full stop checks (Summary.check_seconds / wall_seconds).
    pub fn check_share(&self) -> f64 {
        self.check_seconds / self.wall_seconds
    }
    pub fn checkpoint_share(&self) -> f64 {
        self.checkpoint_seconds / self.wall_seconds
    }
}

/// Runs `config` with init seeds 0, 1, 2, ... (each run capped at the remaining budget) until
/// `seconds` of training wall time are used; data are loaded once per seed, outside the timing.
pub fn bench_training(config: &RunConfig, seconds: f64) -> Result<TrainingBench, crate::Error> {
    let spec = config.resolve()?;
    crate::memory::check(&spec)?;
    match spec.dtype {
        Dtype::F32 => bench_training_as::<f32>(config, seconds),
        Dtype::F64 => bench_training_as::<f64>(config, seconds),
    }
}

fn bench_training_as<R: Real>(
    config: &RunConfig,
    seconds: f64,
) -> Result<TrainingBench, crate::Error> {
    let mut total = TrainingBench::default();
    let mut seed = config.seed_init.unwrap_or(0);
    while total.wall_seconds < seconds {
        let mut cfg = config.clone();
        cfg.seed_init = Some(seed);
        let left = seconds - total.wall_seconds;
        cfg.max_wall = Some(cfg.max_wall.map_or(left, |w| w.min(left)).max(1e-3));
        let spec = cfg.resolve()?;
        let data = crate::data::load::<R>(&spec)?;
        let mut model = model::build::<R>(&spec);
        let cpu0 = thread_cpu_seconds();
        let outcome = train::train(&spec, model.as_mut(), &data, &mut train::Discard)
            .map_err(|e| crate::Error::Other(format!("training loop: {e}")))?;
        total.cpu_seconds += thread_cpu_seconds() - cpu0;
        total.runs += 1;
        total.zero_loss_runs += (outcome.stop_reason == train::StopReason::ZeroLoss) as usize;
        total.steps += outcome.steps_simulated;
        total.wall_seconds += outcome.wall_seconds;
        total.check_seconds += outcome.check_seconds;
        total.checkpoint_seconds += outcome.checkpoint_seconds;
        // The next init seed; at the end of the i64 range the budget ends early.
        match seed.checked_add(1) {
            Some(next) => seed = next,
            None => break,
        }
    }
    Ok(total)
}

/// The measured fused-multiply-add peak of one core, GFLOP/s, and the instruction set used.
#[derive(Clone, Debug)]
pub struct Peak {
    pub isa: &'static str,
    pub f32_gflops: f64,
    pub f64_gflops: f64,
}

/// Measures the FMA peak of the calling thread's core for about `seconds` of its CPU time: the
/// best of 5 timed repeats (other processes on the core can only slow a repeat down), at the SIMD
/// level in use ([`simd::level`]). `None` where that level has no vector FMA (portable, or not
/// x86-64).
pub fn fma_peak(seconds: f64) -> Option<Peak> {
    let level = simd::level();
    if level == Level::Portable {
        return None;
    }
    let each = (seconds / 10.0).max(0.02);
    let measure = |f: &dyn Fn(u64) -> f64| {
        f(1 << 12); // warm-up (and clock ramp)
        let rates: Vec<f64> = (0..5)
            .map(|_| {
                // Calibrate the iteration count to `each` seconds.
                let mut iters = 1u64 << 14;
                loop {
                    let t = thread_cpu_seconds();
                    let flops = f(iters);
                    let el = thread_cpu_seconds() - t;
                    if el >= each {
                        return flops / el / 1e9;
                    }
                    iters *= 2;
                }
            })
            .collect();
        rates.into_iter().fold(0.0, f64::max)
    };
    let chains = |dtype: Dtype| move |iters: u64| simd::dispatch(FmaChains { iters, dtype });
    Some(Peak {
        isa: level.name(),
        f32_gflops: measure(&chains(Dtype::F32)),
        f64_gflops: measure(&chains(Dtype::F64)),
    })
}

/// `iters` rounds of independent FMA chains on the vectors of the token's level, as a
/// [`Kernel`]; returns the FLOPs done (0 at the portable level, which has no vector FMA).
struct FmaChains {
    iters: u64,
    dtype: Dtype,
}

impl Kernel for FmaChains {
    type Output = f64;
    #[inline(always)]
    fn run<S: Isa>(self, _isa: S) -> f64 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: holding a token of `S::LEVEL` means this body runs compiled for that level on a
        // CPU that has it (`numeric::simd`), which is what each loop needs.
        unsafe {
            match (S::LEVEL, self.dtype) {
                (Level::Avx512F, Dtype::F32) => return fma_x86::avx512_f32(self.iters),
                (Level::Avx512F, Dtype::F64) => return fma_x86::avx512_f64(self.iters),
                (Level::Avx2Fma, Dtype::F32) => return fma_x86::avx2_f32(self.iters),
                (Level::Avx2Fma, Dtype::F64) => return fma_x86::avx2_f64(self.iters),
                (Level::Portable, _) => {}
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (self.iters, self.dtype);
        0.0
    }
}

#[cfg(target_arch = "x86_64")]
mod fma_x86 {
    //! Chains of independent FMAs: 16 accumulators (12 with AVX2's 16 registers) hide the FMA
    //! latency (4 cycles) on x86 cores with 2 FMA pipes. Each function returns the FLOPs it did (2 per lane per FMA).
    //! They carry no target features of their own: [`super::FmaChains`] inlines them into the
    //! function `numeric::simd` compiles for their level.
    use std::arch::x86_64::*;

    macro_rules! fma_loop {
        ($name:ident, $feat:literal, $set1:ident, $fma:ident, $add:ident, $reduce:expr, $lanes:expr, $t:ty, $acc:literal) => {
            #[doc = concat!("# Safety\nOnly inside a function compiled for ", $feat, ", on a CPU that has it.")]
            #[inline(always)]
            pub unsafe fn $name(iters: u64) -> f64 {
                // SAFETY: the caller runs this compiled for, and on a CPU with, $feat (the
                // function's contract); the intrinsics need nothing else.
                unsafe {
                    const ACC: usize = $acc;
                    let a = $set1(std::hint::black_box(0.999_999 as $t));
                    let b = $set1(std::hint::black_box(1e-7 as $t));
                    let mut acc = [$set1(1.0 as $t); ACC];
                    for _ in 0..iters {
                        for v in acc.iter_mut() {
                            *v = $fma(*v, a, b);
                        }
                    }
                    let mut s = acc[0];
                    for v in &acc[1..] {
                        s = $add(s, *v);
                    }
                    let f: fn(_) -> $t = $reduce;
                    std::hint::black_box(f(s));
                    (iters * ACC as u64 * 2 * $lanes) as f64
                }
            }
        };
    }

    fma_loop!(
        avx512_f32,
        "avx512f",
        _mm512_set1_ps,
        _mm512_fmadd_ps,
        _mm512_add_ps,
        |s| _mm512_reduce_add_ps(s),
        16,
        f32,
        16
    );
    fma_loop!(
        avx512_f64,
        "avx512f",
        _mm512_set1_pd,
        _mm512_fmadd_pd,
        _mm512_add_pd,
        |s| _mm512_reduce_add_pd(s),
        8,
        f64,
        16
    );
    fma_loop!(
        avx2_f32,
        "avx2,fma",
        _mm256_set1_ps,
        _mm256_fmadd_ps,
        _mm256_add_ps,
        |s| {
            let mut v = [0f32; 8];
            _mm256_storeu_ps(v.as_mut_ptr(), s);
            v.iter().sum()
        },
        8,
        f32,
        12
    );
    fma_loop!(
        avx2_f64,
        "avx2,fma",
        _mm256_set1_pd,
        _mm256_fmadd_pd,
        _mm256_add_pd,
        |s| {
            let mut v = [0f64; 4];
            _mm256_storeu_pd(v.as_mut_ptr(), s);
            v.iter().sum()
        },
        4,
        f64,
        12
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlp_flop_formula_counts_each_product() {
        // d0 = 3, L = 2, h = 4, B = 5: forward 2*5*(3*4 + 4*4 + 4) = 320, weight gradients 320,
        // input gradients of layers 2 and 3 (not layer 1): 2*5*(16 + 4) = 200.
        assert_eq!(mlp_step_flops(3, 2, 4, 5), 840.0);
        // Paper config: P = 166,016, d0 h = 100,352, B = 16.
        assert_eq!(
            mlp_step_flops(784, 5, 128, 16),
            32.0 * (3.0 * 166_016.0 - 100_352.0)
        );
    }

    #[test]
    fn step_bench_runs_the_real_model() {
        let spec = RunConfig {
            arch: Some(Arch::Mlp),
            dataset: Some(crate::settings::DatasetName::RandomSign),
            dim: Some(20),
            depth: Some(2),
            width: Some(8),
            ptr: Some(4),
            batch: Some(4),
            temp: Some(1.0),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let r = bench_steps(&spec, 0.2, 3);
        assert_eq!(r.repeats.len(), 3);
        assert!(r.steps_per_sec > 100.0, "{r:?}");
        assert!(r.gflops().unwrap() > 0.0);
    }

    #[test]
    fn fma_chains_count_their_flops_at_every_simd_level() {
        for level in Level::ALL.into_iter().filter(|&l| l <= simd::supported()) {
            // (accumulators, f32 lanes, f64 lanes) of the loops of each level.
            let (acc, l32, l64) = match level {
                Level::Avx512F => (16.0, 16.0, 8.0),
                Level::Avx2Fma => (12.0, 8.0, 4.0),
                Level::Portable => (0.0, 0.0, 0.0),
            };
            let iters = 8;
            for (dtype, lanes) in [(Dtype::F32, l32), (Dtype::F64, l64)] {
                let flops = simd::dispatch_at(level, FmaChains { iters, dtype });
                assert_eq!(flops, iters as f64 * acc * 2.0 * lanes, "{}", level.name());
            }
        }
        let peak = fma_peak(0.01);
        assert_eq!(peak.is_some(), simd::level() != Level::Portable);
        if let Some(p) = peak {
            assert_eq!(p.isa, simd::level().name());
            assert!(p.f32_gflops > 0.0 && p.f64_gflops > 0.0, "{p:?}");
        }
    }

    #[test]
    fn training_bench_accumulates_runs() {
        let config = RunConfig {
            arch: Some(Arch::Linear),
            dataset: Some(crate::settings::DatasetName::DepletedSign),
            dim: Some(8),
            ptr: Some(64),
            pte: Some(64),
            batch: Some(2),
            temp: Some(1.0),
            ..Default::default()
        };
        let r = bench_training(&config, 0.05).unwrap();
        assert!(r.runs >= 1 && r.steps > 0, "{r:?}");
        assert!(r.check_share() >= 0.0 && r.check_share() <= 1.0);
    }
}
