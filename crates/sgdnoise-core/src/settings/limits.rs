//! The bounds of the run settings: values outside them cannot give a meaningful run (or could
//! not even be represented), so [`resolve`](super::RunConfig::resolve) refuses them with an
//! error that names the setting and the bound. Each bound is also written in its setting's doc
//! line in the table (a test checks that they agree), so `sgdnoise run --help` shows it.
//!
//! They are generous on purpose: the paper's grids use depth 5, widths up to 128 (mlp) and 64
//! (mnas), d up to 128, alpha 2^-14..2^15, T 2^-20..2^2 and chi up to 3. What a run may allocate
//! is bounded separately, by its memory estimate ([`crate::memory`]).

/// Hidden layers of an mlp: 1 to this.
pub const MAX_DEPTH: usize = 1000;
/// Width h (mlp hidden width, mnas base width): 1 to this (2^20).
pub const MAX_WIDTH: usize = 1 << 20;
/// Training-set size P: 1 to this (2^32 - 1: the batch sampler indexes points with 32-bit
/// numbers). Checked with the memory estimate, after it ([`crate::memory::check`]): a set that
/// large needs more memory than most machines have, and the estimate says how much. The test-set
/// size and the input dimension are bounded by the memory estimate alone.
pub const MAX_PTR: usize = u32::MAX as usize;
/// alpha: from MIN_ALPHA to MAX_ALPHA (a margin 1/alpha of 10^12 in output space is never met).
pub const MIN_ALPHA: f64 = 1e-12;
pub const MAX_ALPHA: f64 = 1e12;
/// temp and lr, as given: from MIN_RATE to MAX_RATE.
pub const MIN_RATE: f64 = 1e-30;
pub const MAX_RATE: f64 = 1e30;
/// chi of depleted_sign: 0 to this (the signal exponent 1/(1+chi) is then below 0.01).
pub const MAX_CHI: f64 = 100.0;
/// Threads of one run: 1 to this (more than the machine's cores are clamped to its cores).
pub const MAX_THREADS: usize = 1024;
/// Checkpoint records per decade of steps: above 0, at most this.
pub const MAX_CHECKPOINTS_PER_DECADE: f64 = 1000.0;
/// The default step cap: 10^12 steps, about 14 hours of the fastest loop measured here (the
/// perceptron, about 20 M steps/s) and more steps than any preset run can make within its wall
/// cap (10^4 s at that speed is 2 x 10^11 steps), so it changes no existing run.
pub const DEFAULT_MAX_STEPS: u64 = 1_000_000_000_000;

/// Most points of the NTK subset (`ntk_points`): its Gram matrix and Cholesky factor are
/// 3 n² f64 (96 GiB at this bound; the memory check refuses what does not fit).
pub const MAX_NTK_POINTS: usize = 65536;
