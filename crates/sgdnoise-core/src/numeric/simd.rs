//! Run-time SIMD dispatch: the one place that picks an instruction set and compiles hot loops
//! for it.
//!
//! The crate is built for baseline x86-64 (never `-C target-cpu=native`), so one binary runs on
//! any x86-64 CPU. A hot loop is written once, as the body of a [`Kernel`]; [`dispatch`] runs it
//! inside a function compiled with `#[target_feature(enable = ...)]` for the [`Level`] in use.
//! The kernel's [`Kernel::run`] is `#[inline(always)]` (and so is everything it calls), so its
//! body is compiled again inside each of those functions: the compiler vectorises the same source
//! with 512-bit (zmm) registers for [`Level::Avx512F`], 256-bit (ymm) ones for
//! [`Level::Avx2Fma`], and 128-bit SSE2 ones for [`Level::Portable`] (also the only level on
//! other architectures). This is the design of `pulp`'s `Arch::dispatch`, reduced to what this
//! crate needs.
//!
//! **Detection.** The level is chosen once, on the first dispatch, and cached in a static: the
//! best level the CPU supports ([`supported`]), lowered by the environment variable
//! `SGDNOISE_SIMD` when it is set (read once, at that first dispatch):
//!
//! | `SGDNOISE_SIMD` | level in use                                     |
//! |-----------------|--------------------------------------------------|
//! | unset or empty  | the best the CPU supports                        |
//! | `portable`      | [`Level::Portable`]                              |
//! | `avx2`          | [`Level::Avx2Fma`], or lower if the CPU lacks it |
//! | `avx512`        | [`Level::Avx512F`], or lower if the CPU lacks it |
//!
//! A level above the CPU's is never used (its instructions would fault); any other value panics
//! with a message naming the accepted ones. It is meant for tests and benchmarks of the lower
//! levels; runs do not depend on it (see below).
//!
//! **Results.** Rust never fuses `a * b + c` into a fused multiply-add and never reassociates
//! floating-point sums, so a kernel written in plain arithmetic does exactly the same operations
//! in the same order at every level, and its results are bitwise identical; only the speed
//! changes. A kernel that uses intrinsics (the FMA peak of `bench`) chooses them by
//! [`Isa::LEVEL`] of the token it receives.
//!
//! **Writing a kernel.** A small struct holding the arguments, implementing [`Kernel`] with an
//! `#[inline(always)]` `run` that calls `#[inline(always)]` functions:
//!
//! ```
//! use sgdnoise_core::numeric::simd::{self, Isa, Kernel};
//!
//! struct Sum<'a>(&'a [f32]);
//! impl Kernel for Sum<'_> {
//!     type Output = f32;
//!     #[inline(always)]
//!     fn run<S: Isa>(self, _isa: S) -> f32 {
//!         self.0.iter().sum()
//!     }
//! }
//! assert_eq!(simd::dispatch(Sum(&[1.0, 2.0, 3.0])), 6.0);
//! ```
//!
//! The arguments reach the body as fields of the struct, and a reference stored in a struct,
//! unlike a function's reference argument, tells the compiler nothing about aliasing: copy small
//! `Copy` data (a convolution's geometry) into a local in `run`, so that stores through an output
//! slice are known not to change it and it stays in registers (measured: 2 % of an mnas step).
//!
//! Closures are not kernels: they cannot receive the token's type, and the compiler is free not
//! to inline a large closure body into the feature-enabled function, which would silently leave
//! it compiled for baseline x86-64.

use std::sync::atomic::{AtomicU8, Ordering};

/// An instruction-set level, ordered from the least to the most capable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Level {
    /// No target features beyond the build's baseline (SSE2 on x86-64).
    Portable = 1,
    /// AVX2 and FMA: 256-bit vectors.
    Avx2Fma = 2,
    /// AVX-512F: 512-bit vectors.
    Avx512F = 3,
}

impl Level {
    /// Every level, lowest first.
    pub const ALL: [Level; 3] = [Level::Portable, Level::Avx2Fma, Level::Avx512F];

    /// The name used in reports: "portable", "avx2+fma" or "avx512f".
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Avx2Fma => "avx2+fma",
            Level::Avx512F => "avx512f",
        }
    }

    /// The level a value of `SGDNOISE_SIMD` asks for: "portable", "avx2" or "avx512" (the
    /// [`Level::name`]s are accepted too). `None` for anything else.
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_lowercase().as_str() {
            "portable" => Some(Level::Portable),
            "avx2" | "avx2+fma" => Some(Level::Avx2Fma),
            "avx512" | "avx512f" => Some(Level::Avx512F),
            _ => None,
        }
    }

    fn from_u8(v: u8) -> Option<Level> {
        match v {
            1 => Some(Level::Portable),
            2 => Some(Level::Avx2Fma),
            3 => Some(Level::Avx512F),
            _ => None,
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Portable {}
    impl Sealed for super::Avx2Fma {}
    impl Sealed for super::Avx512F {}
}

/// A token for one [`Level`], handed to [`Kernel::run`]. Only this module creates the tokens of
/// the vector levels, and only for a level the CPU supports: a kernel that receives an
/// [`Avx512F`] token runs inside a function compiled for AVX-512F on a CPU that has it, and may
/// use its intrinsics.
pub trait Isa: sealed::Sealed + Copy {
    const LEVEL: Level;
}

/// Token of [`Level::Portable`].
#[derive(Clone, Copy, Debug)]
pub struct Portable;

/// Token of [`Level::Avx2Fma`] (not constructible outside this module).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub struct Avx2Fma(());

/// Token of [`Level::Avx512F`] (not constructible outside this module).
#[derive(Clone, Copy, Debug)]
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub struct Avx512F(());

impl Isa for Portable {
    const LEVEL: Level = Level::Portable;
}
impl Isa for Avx2Fma {
    const LEVEL: Level = Level::Avx2Fma;
}
impl Isa for Avx512F {
    const LEVEL: Level = Level::Avx512F;
}

/// A loop body to compile for each level. Implement `run` with `#[inline(always)]`, and call
/// only `#[inline(always)]` functions from it, so that all of it is compiled inside the
/// feature-enabled function of [`dispatch`] (see the module doc).
pub trait Kernel {
    type Output;
    fn run<S: Isa>(self, isa: S) -> Self::Output;
}

/// The best level this CPU supports (std caches the CPU feature bits; this is cached too).
pub fn supported() -> Level {
    static SUPPORTED: AtomicU8 = AtomicU8::new(0);
    if let Some(l) = Level::from_u8(SUPPORTED.load(Ordering::Relaxed)) {
        return l;
    }
    let l = detect();
    SUPPORTED.store(l as u8, Ordering::Relaxed);
    l
}

fn detect() -> Level {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return Level::Avx512F;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return Level::Avx2Fma;
        }
    }
    Level::Portable
}

/// The level [`dispatch`] uses: [`supported`], lowered by `SGDNOISE_SIMD` (module doc).
/// Chosen on the first call and cached; later calls cost one relaxed atomic load.
#[inline(always)]
pub fn level() -> Level {
    match Level::from_u8(ACTIVE.load(Ordering::Relaxed)) {
        Some(l) => l,
        None => init_level(),
    }
}

/// 0 until [`level`] first runs, then the `Level` in use.
static ACTIVE: AtomicU8 = AtomicU8::new(0);

#[cold]
#[inline(never)]
fn init_level() -> Level {
    let request = std::env::var("SGDNOISE_SIMD").ok();
    let l = choose(supported(), request.as_deref());
    // Threads racing here compute the same value.
    ACTIVE.store(l as u8, Ordering::Relaxed);
    l
}

/// The level in use for a CPU supporting `cpu` and a `SGDNOISE_SIMD` value `request`.
fn choose(cpu: Level, request: Option<&str>) -> Level {
    match request.map(str::trim) {
        None | Some("") => cpu,
        Some(r) => match Level::parse(r) {
            Some(wanted) => wanted.min(cpu),
            None => panic!("SGDNOISE_SIMD={r:?}: expected portable, avx2 or avx512"),
        },
    }
}

/// Runs `kernel` compiled for [`level`].
#[inline(always)]
pub fn dispatch<K: Kernel>(kernel: K) -> K::Output {
    // SAFETY: `level()` never exceeds `supported()`.
    unsafe { run_at(level(), kernel) }
}

/// Runs `kernel` compiled for `level` (tests and benchmarks of one level). Panics when the CPU
/// does not support `level`.
pub fn dispatch_at<K: Kernel>(level: Level, kernel: K) -> K::Output {
    assert!(
        level <= supported(),
        "SIMD level {} is not supported by this CPU (best: {})",
        level.name(),
        supported().name()
    );
    // SAFETY: checked just above.
    unsafe { run_at(level, kernel) }
}

/// # Safety
/// The CPU must support `level`.
#[inline(always)]
unsafe fn run_at<K: Kernel>(level: Level, kernel: K) -> K::Output {
    match level {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the caller guarantees the CPU has AVX-512F.
        Level::Avx512F => unsafe { x86::avx512f(kernel) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: the caller guarantees the CPU has AVX2 and FMA.
        Level::Avx2Fma => unsafe { x86::avx2_fma(kernel) },
        _ => kernel.run(Portable),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! One function per vector level, each compiled with its target features; the kernel's
    //! `#[inline(always)]` body is compiled inside it.
    use super::{Avx2Fma, Avx512F, Kernel};

    /// # Safety
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn avx512f<K: Kernel>(kernel: K) -> K::Output {
        kernel.run(Avx512F(()))
    }

    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn avx2_fma<K: Kernel>(kernel: K) -> K::Output {
        kernel.run(Avx2Fma(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports the level of the token it was given.
    struct WhichLevel;
    impl Kernel for WhichLevel {
        type Output = Level;
        #[inline(always)]
        fn run<S: Isa>(self, _isa: S) -> Level {
            S::LEVEL
        }
    }

    #[test]
    fn dispatch_runs_the_kernel_at_the_level_asked_for() {
        assert!(level() <= supported());
        assert_eq!(dispatch(WhichLevel), level());
        for l in Level::ALL.into_iter().filter(|&l| l <= supported()) {
            assert_eq!(dispatch_at(l, WhichLevel), l);
        }
        #[cfg(not(target_arch = "x86_64"))]
        assert_eq!(supported(), Level::Portable);
    }

    #[test]
    fn the_environment_can_only_lower_the_level() {
        use Level::*;
        for cpu in Level::ALL {
            assert_eq!(choose(cpu, None), cpu);
            assert_eq!(choose(cpu, Some("")), cpu);
            assert_eq!(choose(cpu, Some("portable")), Portable);
            assert_eq!(choose(cpu, Some("avx2")), Avx2Fma.min(cpu));
            assert_eq!(choose(cpu, Some(" AVX512 ")), Avx512F.min(cpu));
        }
        for l in Level::ALL {
            assert_eq!(Level::parse(l.name()), Some(l));
        }
        assert_eq!(Level::parse("sse"), None);
    }

    #[test]
    #[should_panic(expected = "expected portable, avx2 or avx512")]
    fn an_unknown_level_in_the_environment_is_an_error() {
        choose(Level::Avx512F, Some("neon"));
    }
}
