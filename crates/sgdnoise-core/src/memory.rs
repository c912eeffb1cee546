//! A run's memory, estimated from its resolved settings before anything is allocated, and the
//! memory this machine can give it.
//!
//! [`estimate`] adds up what a run allocates, part by part (the data sets, the pooled image
//! files, the model's parameters and workspaces, the training loop's buffers and test-set
//! predictions), from the same sizes the code allocates (`mlp::buffer_len`, `mnas::memory_len`
//! are checked against the allocations by tests), in saturating arithmetic: a product that
//! does not fit 64 bits is `u64::MAX`, never a wrapped number. [`check`] compares it with
//! [`limit`]: the smallest of the memory the system says is available ([`available`]: on Linux
//! `MemAvailable` of /proc/meminfo, the room left under the process's cgroup `memory.max`, and
//! under an address-space limit such as `ulimit -v`; on other Unix systems the physical memory)
//! and the run's `max_memory`. Where the system gives no figure, the limit is `max_memory`, or
//! [`FALLBACK_LIMIT`] without one. A run above the limit is refused with an error that names the
//! settings behind its largest parts and the estimate, before it allocates anything.
//!
//! The estimate is for one run: a sweep running several at once checks each run as it starts,
//! against what is available at that moment.

use crate::settings::{Arch, Bytes, ConfigError, DatasetName, RunSpec};
use std::fmt;

/// The limit where the system gives no figure of its memory (and no `max_memory` is given).
pub const FALLBACK_LIMIT: u64 = 16 << 30;

/// What every run takes besides its arrays: the program, thread stacks, allocator arenas and
/// small buffers (a run of the perceptron with P = 256 peaks near 10 MiB resident).
const BASE: u64 = 64 << 20;
/// Per thread of the matrix products: a stack and its share of allocator arenas.
const PER_THREAD: u64 = 8 << 20;

/// Images in the pooled files of an image data set (training and test files together).
fn pool_images(dataset: DatasetName) -> Option<u64> {
    match dataset {
        DatasetName::MnistParity | DatasetName::FashionParity => Some(70_000),
        DatasetName::CifarAnimal => Some(60_000),
        _ => None,
    }
}

/// One part of a run's memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What it holds: "training set".
    pub what: &'static str,
    /// How it is counted, with the values of the settings: "ptr 1024 x (32 + 1) numbers x 4 bytes".
    pub how: String,
    /// The settings it grows with, for the message that asks to lower them.
    pub settings: &'static [&'static str],
    pub bytes: u64,
}

/// A run's estimated memory, part by part (see the module doc).
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub parts: Vec<Part>,
}

impl Estimate {
    /// The sum of the parts, bytes (saturating).
    pub fn total(&self) -> u64 {
        self.parts
            .iter()
            .fold(0u64, |acc, p| acc.saturating_add(p.bytes))
    }

    /// The parts, largest first.
    pub fn largest_first(&self) -> Vec<&Part> {
        let mut v: Vec<&Part> = self.parts.iter().collect();
        v.sort_by_key(|p| std::cmp::Reverse(p.bytes));
        v
    }

    /// The settings of the largest parts that grow with settings (those holding at least a
    /// quarter of the total, and the largest in any case), in order of size, without repeats:
    /// what to lower. Empty when the run is only the program.
    pub fn main_settings(&self) -> Vec<&'static str> {
        let total = self.total();
        let mut out: Vec<&'static str> = Vec::new();
        for p in self
            .largest_first()
            .into_iter()
            .filter(|p| !p.settings.is_empty())
        {
            if p.bytes < total / 4 && !out.is_empty() {
                break;
            }
            for s in p.settings {
                if !out.contains(s) {
                    out.push(s);
                }
            }
        }
        out
    }
}

/// `12.3 GiB (13207024435 bytes)`.
fn show(bytes: u64) -> String {
    if bytes == u64::MAX {
        "more than 16 EiB (a count of bytes beyond 64 bits)".into()
    } else {
        format!("{} ({bytes} bytes)", Bytes(bytes))
    }
}

impl Estimate {
    /// The largest parts, as `training set 12.0 GiB (ptr ...)`, at most `n` of them and only
    /// those above a hundredth of the total (at least one).
    pub fn describe_largest(&self, n: usize) -> String {
        let total = self.total();
        let parts: Vec<String> = self
            .largest_first()
            .iter()
            .enumerate()
            .take_while(|(i, p)| *i == 0 || (*i < n && p.bytes >= total / 100))
            .map(|(_, p)| format!("{} {} ({})", p.what, Bytes(p.bytes), p.how))
            .collect();
        parts.join(", ")
    }
}

impl fmt::Display for Estimate {
    /// `about 12.3 GiB (13207024435 bytes)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.total() {
            u64::MAX => f.write_str(&show(u64::MAX)),
            total => write!(f, "about {}", show(total)),
        }
    }
}

/// `a x b` for the formulas.
fn mul(factors: &[u64]) -> u64 {
    factors.iter().fold(1u64, |acc, &x| acc.saturating_mul(x))
}

fn to_u64(x: usize) -> u64 {
    u64::try_from(x).unwrap_or(u64::MAX)
}

/// The estimated memory of `spec` (see the module doc). Allocates nothing that grows with the
/// run's sizes (mnas: its layer shapes only).
pub fn estimate(spec: &RunSpec) -> Estimate {
    let e = spec.dtype.bytes() as u64;
    let et = format!("{e} bytes ({})", spec.dtype);
    let (p, n, b) = (to_u64(spec.ptr), to_u64(spec.pte), to_u64(spec.batch));
    let d0 = to_u64(spec.input_dim);
    let synthetic = spec.dataset.is_synthetic();
    let mut parts = Vec::new();

    // The data sets: inputs and labels.
    parts.push(Part {
        what: "training set",
        how: format!("ptr {p} x (input {d0} + label 1) x {et}"),
        settings: if synthetic { &["ptr", "dim"] } else { &["ptr"] },
        bytes: mul(&[p, d0.saturating_add(1), e]),
    });
    parts.push(Part {
        what: "test set",
        how: format!("pte {n} x (input {d0} + label 1) x {et}"),
        settings: if synthetic { &["pte", "dim"] } else { &["pte"] },
        bytes: mul(&[n, d0.saturating_add(1), e]),
    });
    match pool_images(spec.dataset) {
        Some(images) => parts.push(Part {
            what: "pooled image files",
            how: format!(
                "{images} images x (input {d0} + label 1) bytes, twice while parsed, and the split's index lists"
            ),
            settings: &["dataset"],
            bytes: mul(&[images, d0.saturating_add(1), 2]).saturating_add(mul(&[images, 16])),
        }),
        None => parts.push(Part {
            what: "teacher and generator rows",
            how: format!("4 x dim {d0} x 8 bytes"),
            settings: &["dim"],
            bytes: mul(&[4, d0, 8]),
        }),
    }

    // The model: weights, the initial weights w0 and the copy of the frozen check; buffers.
    let (params, buffers, model_settings): (u64, u64, &'static [&'static str]) = match spec.arch {
        Arch::Linear => (d0, 0, &["dim"]),
        Arch::Mlp => (
            to_u64(crate::model::mlp::param_count(
                spec.input_dim,
                spec.depth,
                spec.width,
            )),
            to_u64(crate::model::mlp::buffer_len(
                spec.depth, spec.width, spec.batch,
            )),
            if synthetic {
                &["width", "depth", "dim"]
            } else {
                &["width", "depth"]
            },
        ),
        Arch::Mnas => {
            let shape = spec
                .dataset
                .image_shape()
                .expect("mnas runs on images (checked when resolved)");
            let (params, other) = crate::model::mnas::memory_len(shape, spec.width, spec.batch);
            (to_u64(params), to_u64(other), &["width"])
        }
    };
    parts.push(Part {
        what: "model weights",
        how: format!("3 copies (w, w0, the frozen check's) x {params} parameters x {et}"),
        settings: model_settings,
        bytes: mul(&[3, params, e]),
    });
    if buffers > 0 {
        parts.push(Part {
            what: "model workspaces",
            how: format!("{buffers} numbers (activations for batch {b}, gradients) x {et}"),
            settings: match spec.arch {
                Arch::Mnas => &["width", "batch"],
                _ => &["width", "depth", "batch"],
            },
            bytes: mul(&[buffers, e]),
        });
    }

    // The training loop: per training point f(w0, x), the current predictions, the sampler's
    // permutation (u32) and, for the perceptron, |x1| of its unfitted points (f64); per test
    // point f(w0, x) and the predictions of a record; per batch point its label, f(w0, x),
    // output and coefficient, and for SGD (B < P) its gathered inputs and 8 draws ahead (u32).
    let per_train = 2 * e + 4 + if spec.arch == Arch::Linear { 8 } else { 0 };
    parts.push(Part {
        what: "per-point training buffers",
        how: format!("ptr {p} x {per_train} bytes"),
        settings: &["ptr"],
        bytes: mul(&[p, per_train]),
    });
    parts.push(Part {
        what: "test-set predictions",
        how: format!("pte {n} x 2 x {e} bytes"),
        settings: &["pte"],
        bytes: mul(&[n, 2, e]),
    });
    let (per_batch, how) = if b < p {
        (
            d0.saturating_add(4).saturating_mul(e).saturating_add(32),
            format!("batch {b} x ((input {d0} + 4) x {e} + 32) bytes"),
        )
    } else {
        (4 * e, format!("batch {b} x 4 x {e} bytes"))
    };
    parts.push(Part {
        what: "batch buffers",
        how,
        settings: &["batch"],
        bytes: mul(&[b, per_batch]),
    });
    // The dynamics that see every point (train/dynamics.rs): per training point its
    // prediction and coefficient, two index lists (u32), l' and the noise draw (f64); gd_sde
    // with B < P sums the full gradient over chunks: two gradient buffers.
    if spec.dynamics.sees_all_points() {
        let per_point = 2 * e + 8 + 16;
        let grads = if spec.dynamics.is_sde() && b < p {
            2
        } else {
            0
        };
        parts.push(Part {
            what: "dynamics buffers",
            how: format!(
                "ptr {p} x {per_point} bytes, and {grads} gradients x {params} parameters x {et}"
            ),
            settings: &["ptr", "dynamics"],
            bytes: mul(&[p, per_point]).saturating_add(mul(&[grads, params, e])),
        });
    }
    // The NTK (`crate::ntk`): J in the run's dtype; K0, K and the Cholesky factor in f64; the
    // subset's inputs; one block of J's columns widened to f64.
    if spec.ntk_points > 0 {
        let k = to_u64(spec.ntk_points);
        let block = to_u64(crate::ntk::COLUMN_BLOCK).min(params);
        parts.push(Part {
            what: "NTK Jacobian",
            how: format!("ntk_points {k} x {params} parameters x {et}"),
            settings: &["ntk_points"],
            bytes: mul(&[k, params, e]),
        });
        parts.push(Part {
            what: "NTK kernels",
            how: format!(
                "ntk_points {k}² x 3 (K0, K, Cholesky factor) x 8 bytes, the subset's {k} x {d0} inputs x {e} bytes, {k} x {block} columns of J x 8 bytes"
            ),
            settings: &["ntk_points"],
            bytes: mul(&[k, k, 24])
                .saturating_add(mul(&[k, d0, e]))
                .saturating_add(mul(&[k, block, 8])),
        });
    }
    let threads = to_u64(spec.exec.threads_here());
    parts.push(Part {
        what: "program",
        how: format!(
            "{} and {} per thread x {threads}",
            Bytes(BASE),
            Bytes(PER_THREAD)
        ),
        // Not a size to lower: the message names the settings of the parts that grow.
        settings: &[],
        bytes: BASE.saturating_add(mul(&[PER_THREAD, threads])),
    });
    Estimate { parts }
}

/// How much memory a run may take here, and who says so.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    pub bytes: u64,
    /// "MemAvailable in /proc/meminfo", "max_memory", ...
    pub source: String,
}

impl fmt::Display for Limit {
    /// `7.6 GiB (8182964224 bytes: MemAvailable in /proc/meminfo)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes == u64::MAX {
            write!(f, "unlimited memory ({})", self.source)
        } else {
            write!(
                f,
                "{} ({} bytes: {})",
                Bytes(self.bytes),
                self.bytes,
                self.source
            )
        }
    }
}

/// The memory the system can give this process now: the smallest figure it offers (module
/// doc), or `None` where it offers none.
pub fn available() -> Option<Limit> {
    let mut best: Option<Limit> = None;
    #[allow(unused_mut, unused_variables)]
    let mut offer = |best: &mut Option<Limit>, bytes: Option<u64>, source: &str| {
        if let Some(bytes) = bytes {
            if best.as_ref().is_none_or(|b| bytes < b.bytes) {
                *best = Some(Limit {
                    bytes,
                    source: source.to_string(),
                });
            }
        }
    };
    #[cfg(target_os = "linux")]
    {
        match meminfo("MemAvailable:") {
            Some(b) => offer(&mut best, Some(b), "MemAvailable in /proc/meminfo"),
            None => offer(&mut best, meminfo("MemTotal:"), "MemTotal in /proc/meminfo"),
        }
        offer(
            &mut best,
            cgroup_room(),
            "the room under the cgroup's memory.max (memory.max - memory.current)",
        );
    }
    #[cfg(unix)]
    {
        offer(
            &mut best,
            address_space_room(),
            "the room under the address-space limit (ulimit -v) of this process",
        );
        if best.is_none() {
            offer(
                &mut best,
                physical_memory(),
                "the physical memory (sysconf)",
            );
        }
    }
    best
}

/// The limit for `spec` here: the smaller of [`available`] and its `max_memory`; without
/// either, [`FALLBACK_LIMIT`].
pub fn limit(spec: &RunSpec) -> Limit {
    limit_given(available(), spec.exec.max_memory)
}

/// The limit for a run with `max_memory` where the system offers `available` (see [`limit`]).
pub fn limit_given(available: Option<Limit>, max_memory: Option<Bytes>) -> Limit {
    let given = max_memory.map(|m| Limit {
        bytes: m.0,
        source: "max_memory".into(),
    });
    match (available, given) {
        (Some(a), Some(g)) => {
            if g.bytes <= a.bytes {
                g
            } else {
                a
            }
        }
        (Some(a), None) => a,
        (None, Some(g)) => g,
        (None, None) => Limit {
            bytes: FALLBACK_LIMIT,
            source: "no figure of this system's memory: the fallback limit; set max_memory".into(),
        },
    }
}

/// A run that needs more memory than it may take.
#[derive(Clone, Debug, PartialEq)]
pub struct TooLarge {
    pub estimate: Estimate,
    pub limit: Limit,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lower: Vec<String> = self
            .estimate
            .main_settings()
            .iter()
            .map(|s| format!("`{s}`"))
            .collect();
        write!(
            f,
            "the run needs {}, more than the {} it may take here, so it is refused before \
             allocating anything; largest parts: {}. ",
            self.estimate,
            self.limit,
            self.estimate.describe_largest(3),
        )?;
        if lower.is_empty() {
            f.write_str("Give it more memory (max_memory) or run it where more memory is free")
        } else {
            write!(
                f,
                "Lower {}, or run it where more memory is free",
                lower.join(" or ")
            )
        }
    }
}

impl std::error::Error for TooLarge {}

/// Refuses `spec` when its [`estimate`] exceeds its [`limit`], and checks the size bounds that
/// come after the memory ([`crate::settings::limits::MAX_PTR`]). Returns the estimate.
pub fn check(spec: &RunSpec) -> Result<Estimate, crate::Error> {
    let estimate = estimate(spec);
    let limit = limit(spec);
    if estimate.total() > limit.bytes {
        return Err(crate::Error::Memory(Box::new(TooLarge { estimate, limit })));
    }
    let max = crate::settings::limits::MAX_PTR;
    if spec.ptr > max {
        return Err(ConfigError::Invalid {
            field: "ptr",
            value: spec.ptr.to_string(),
            reason: format!(
                "must be at most {max} (2^32 - 1): the batch sampler indexes points with 32-bit numbers"
            ),
        }
        .into());
    }
    Ok(estimate)
}

/// A field of /proc/meminfo ("MemAvailable:"), bytes.
#[cfg(target_os = "linux")]
fn meminfo(field: &str) -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib.saturating_mul(1024))
}

/// The least room (memory.max - memory.current) of the process's cgroup (v2) and its
/// ancestors; `None` without a limit.
#[cfg(target_os = "linux")]
fn cgroup_room() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = text.lines().find_map(|l| l.strip_prefix("0::"))?.trim();
    let mut dir = std::path::PathBuf::from("/sys/fs/cgroup");
    dir.push(path.trim_start_matches('/'));
    let read = |d: &std::path::Path, f: &str| -> Option<u64> {
        std::fs::read_to_string(d.join(f)).ok()?.trim().parse().ok()
    };
    let mut room: Option<u64> = None;
    let mut d = dir.as_path();
    loop {
        if let Some(max) = read(d, "memory.max") {
            let used = read(d, "memory.current").unwrap_or(0);
            let r = max.saturating_sub(used);
            room = Some(room.map_or(r, |x| x.min(r)));
        }
        match d.parent() {
            Some(p) if p.starts_with("/sys/fs/cgroup") => d = p,
            _ => break,
        }
    }
    room
}

/// The room under RLIMIT_AS (`ulimit -v`, `prlimit --as`): the limit less the address space
/// the process maps now (VmSize, on Linux); `None` without a limit.
#[cfg(unix)]
fn address_space_room() -> Option<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and reads nothing else.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } != 0 {
        return None;
    }
    if lim.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    // rlim_t is u64 on Linux, not everywhere.
    #[allow(clippy::useless_conversion)]
    let limit = u64::try_from(lim.rlim_cur).unwrap_or(u64::MAX);
    let mapped = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|t| {
            let line = t.lines().find(|l| l.starts_with("VmSize:"))?.to_string();
            line["VmSize:".len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .map_or(0, |kib| kib.saturating_mul(1024));
    Some(limit.saturating_sub(mapped))
}

/// Physical memory, from sysconf (where /proc/meminfo does not exist).
#[cfg(unix)]
fn physical_memory() -> Option<u64> {
    // SAFETY: sysconf only reads system configuration.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages <= 0 || size <= 0 {
        return None;
    }
    Some((pages as u64).saturating_mul(size as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::RunConfig;

    fn spec(toml: &str) -> RunSpec {
        RunConfig::from_toml_str(&format!("temp = 1\n{toml}"))
            .unwrap()
            .resolve()
            .unwrap()
    }

    #[test]
    fn the_estimate_grows_with_the_sizes_and_names_them() {
        let small = estimate(&spec("ptr = 256\npte = 256"));
        assert!(small.total() < 100 << 20, "{small}");
        let big = estimate(&spec("ptr = 1000000000000"));
        // 10^12 points x 33 numbers x 4 bytes, and the loop's 20 bytes per point.
        assert!(big.total() > 132_000_000_000_000, "{big}");
        assert_eq!(big.main_settings()[0], "ptr", "{big}");
        let wide = estimate(&spec(
            "arch = \"mlp\"\ndataset = \"random_sign\"\ndim = 784\nwidth = 100000",
        ));
        assert!(wide.main_settings().contains(&"width"), "{wide}");
        // (L - 1) h^2 = 4 x 10^10 parameters, three copies of 4 bytes.
        assert!(wide.total() > 480_000_000_000, "{wide}");
    }

    /// Regression: the sizes multiplied out of range wrapped; the estimate saturates.
    #[test]
    fn absurd_sizes_saturate_instead_of_wrapping() {
        let s = RunConfig {
            temp: Some(1.0),
            ptr: Some(usize::MAX),
            dim: Some(usize::MAX),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        assert_eq!(estimate(&s).total(), u64::MAX);
        let e = check(&s).unwrap_err();
        assert!(e.is_bad_input());
        assert!(e.to_string().contains("more than 16 EiB"), "{e}");
    }

    #[test]
    fn max_memory_lowers_the_limit_and_the_message_names_settings_and_estimate() {
        let mut c = RunConfig::from_toml_str("temp = 1\npte = 100000").unwrap();
        c.max_memory = Some(Bytes(1 << 20));
        let s = c.resolve().unwrap();
        assert_eq!(limit(&s).bytes, 1 << 20);
        let e = check(&s).unwrap_err().to_string();
        assert!(
            e.contains("max_memory") && e.contains("test set") && e.contains("Lower `pte`"),
            "{e}"
        );
        c.max_memory = Some(Bytes(1 << 40));
        assert!(check(&c.resolve().unwrap()).is_ok());
    }

    /// Regression: a training set beyond the sampler's 32-bit indices panicked.
    #[test]
    fn a_training_set_beyond_32_bit_indices_is_refused() {
        let mut c = RunConfig::from_toml_str("temp = 1\ndim = 2\npte = 1").unwrap();
        c.ptr = Some(crate::settings::limits::MAX_PTR + 1);
        c.max_memory = Some(Bytes(u64::MAX - 1));
        let s = c.resolve().unwrap();
        // Past the memory check only where that much memory is free; then the bound refuses it.
        if let Err(e) = check(&s) {
            assert!(e.is_bad_input(), "{e}");
            assert!(e.to_string().contains("ptr"), "{e}");
        } else {
            panic!("accepted a training set of 2^32 points");
        }
    }

    #[test]
    fn this_machine_reports_its_memory() {
        if cfg!(target_os = "linux") {
            let a = available().expect("Linux has /proc/meminfo");
            assert!(a.bytes > 1 << 20, "{a}");
        }
    }

    #[test]
    fn byte_sizes_parse_with_binary_suffixes() {
        for (text, bytes) in [
            ("1000", 1000),
            ("8G", 8 << 30),
            ("8GiB", 8 << 30),
            ("8gb", 8 << 30),
            ("512M", 512 << 20),
            ("1.5T", 3 << 39),
            ("2k", 2048),
        ] {
            assert_eq!(Bytes::parse(text), Ok(Bytes(bytes)), "{text}");
        }
        for bad in ["", "G", "-1G", "1X", "nanG", "infT", "99999999999P", "1e30"] {
            assert!(Bytes::parse(bad).is_err(), "{bad}");
        }
    }
}
