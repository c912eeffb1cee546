//! The hostile-input campaign (issue 15): a fixed-seed generator feeds a few hundred random and
//! extreme inputs to the binary — flag values for `run`, `info` and `bench` (every setting of the
//! table, and the commands' own number flags), random sweep files for `sweep plan`, and mutated
//! data files (IDX headers and lengths, gzip streams, CIFAR batches) for `run` — and requires each
//! to end with exit 0, or exit 2 with a message on stderr: never a panic (101), an abort (134), a
//! signal or a hang, and within an address-space limit (RLIMIT_AS, so a huge allocation fails
//! in the child instead of taking the machine).
//!
//! Every child is cheap (tiny sets, a step and a wall cap): the values are either small and valid
//! or far out of range, never in between, where a valid run would be slow. A failure prints the
//! seed and the input; `SGDNOISE_HOSTILE_SEED=<n>` replays another seed,
//! `SGDNOISE_HOSTILE_CASES=<n>` changes the number of flag inputs (half as many sweep files and
//! data sets), and `SGDNOISE_HOSTILE_EXE=<path>` runs the campaign against another binary.

use crate::util::{run_limited_exe, temp_dir, Ended, EXE};
use sgdnoise_core::data::{cifar, idx};
use sgdnoise_core::settings::{ValueKind, SETTINGS};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// The address space each child may map.
const LIMIT: u64 = 2 << 30;
/// A child still running after this hangs.
const TIMEOUT: Duration = Duration::from_secs(20);
const DEFAULT_SEED: u64 = 0x5eed_2026_1201;

/// splitmix64: a small, fixed generator (the campaign's own stream, independent of the runs').
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// Whole numbers: small and valid, or far out of range, or not whole numbers at all.
const INTEGERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "16",
    "-1",
    "-0",
    "+5",
    " 5",
    "4294967296",
    "1000000000000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1e3",
    "3.5",
    "0x10",
    "",
    "abc",
    "--",
];
/// Numbers: small and valid, extremes of f64, out of every bound, not numbers.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "0.5",
    "2",
    "-1",
    "1e-300",
    "5e-324",
    "1e308",
    "1.7976931348623157e308",
    "inf",
    "-inf",
    "nan",
    "NaN",
    "1e-31",
    "1e31",
    "1e-12",
    "1e12",
    "3e38",
    "1e",
    "abc",
    "",
    "--",
    "1_000",
    "-1e-3",
    "-.5",
];
/// Wall caps: only short or invalid ones (a long cap with a huge step cap would run long).
const WALLS: &[&str] = &["0", "-1", "nan", "inf", "1e-300", "0.2", "abc", "", "-inf"];
/// Sizes in bytes.
const SIZES: &[&str] = &[
    "1", "1K", "1G", "8G", "0", "-1", "1e30", "99999P", "nan", "abc", "", "16EiB", "1.5T",
];
/// Names: valid ones of every kind, and garbage. (`fashion_parity` is left out: Debian's copy
/// of Fashion-MNIST may be installed, and would be loaded.)
const NAMES: &[&str] = &[
    "linear",
    "mlp",
    "mnas",
    "relu",
    "gelu",
    "silu",
    "depleted_sign",
    "sign",
    "random_sign",
    "mnist_parity",
    "cifar_animal",
    "hinge",
    "quadratic_hinge",
    "mse",
    "f32",
    "f64",
    "",
    "MLP",
    "resnet",
    "relu ",
    "f16",
    "-1",
    "\u{fe0f}",
];

fn value_for(g: &mut Gen, name: &str, kind: ValueKind, dir: &Path) -> String {
    match name {
        "max_wall" => return g.pick(WALLS).to_string(),
        "max_memory" => return g.pick(SIZES).to_string(),
        "data_dir" => {
            let junk = dir.join("junk");
            let _ = std::fs::create_dir_all(&junk);
            let _ = std::fs::write(junk.join("train-images-idx3-ubyte"), b"\0\0\x08\x03");
            let file = dir.join("a-file");
            let _ = std::fs::write(&file, b"x");
            let places = [
                "/nonexistent".to_string(),
                String::new(),
                "/dev/null".into(),
                "/proc".into(),
                junk.display().to_string(),
                file.display().to_string(),
            ];
            return places[g.below(places.len())].clone();
        }
        _ => {}
    }
    match kind {
        ValueKind::Integer { .. } => g.pick(INTEGERS).to_string(),
        ValueKind::Number => {
            if g.chance(0.2) {
                // A random magnitude over most of the f64 range.
                let e = g.below(81) as i32 - 40;
                format!("{}e{e}", 1 + g.below(9))
            } else {
                g.pick(NUMBERS).to_string()
            }
        }
        ValueKind::Name(names) => {
            if g.chance(0.5) {
                names[g.below(names.len())].to_string()
            } else {
                g.pick(NAMES).to_string()
            }
        }
        ValueKind::Path => "/nonexistent".into(),
    }
}

/// One input: the arguments and a description for the failure message.
struct Case {
    args: Vec<String>,
    what: String,
}

fn flags_case(g: &mut Gen, i: usize, dir: &Path) -> Case {
    let out = dir.join(format!("run-{i}")).display().to_string();
    let command = g.pick(&["run", "run", "info", "bench"]);
    let mut flags: BTreeMap<String, String> = BTreeMap::new();
    let mut set = |k: &str, v: &str| flags.insert(k.to_string(), v.to_string());
    // A cheap valid base: tiny sets, a step cap and a wall cap.
    set("ptr", "16");
    set("pte", "16");
    set("batch", "2");
    set("temp", "1");
    set("max-steps", "300");
    set("max-wall", "0.3");
    let mut extra: Vec<String> = Vec::new();
    match command {
        "run" => {
            extra.extend(["--quiet".into(), "--out".into(), out]);
        }
        "bench" => {
            let seconds = g.pick(&[
                "0.01", "0.01", "0", "-1", "nan", "inf", "1e300", "3601", "abc",
            ]);
            let repeats = g.pick(&["1", "1", "2", "0", "1001", "-1", "abc"]);
            extra.extend([
                "--seconds".into(),
                seconds.into(),
                "--repeats".into(),
                repeats.into(),
            ]);
            if g.chance(0.3) {
                extra.push("--train".into());
            }
        }
        _ => {}
    }
    for _ in 0..1 + g.below(3) {
        let s = &SETTINGS[g.below(SETTINGS.len())];
        let v = value_for(g, s.name, s.kind, dir);
        if s.name == "lr" && g.chance(0.7) {
            flags.remove("temp");
        }
        flags.insert(s.flag(), v);
    }
    if g.chance(0.15) {
        let keys: Vec<String> = flags.keys().cloned().collect();
        flags.remove(&keys[g.below(keys.len())]);
    }
    let mut args = vec![command.to_string()];
    for (k, v) in &flags {
        if g.chance(0.1) {
            args.push(format!("--{k}={v}"));
        } else {
            args.push(format!("--{k}"));
            args.push(v.clone());
        }
    }
    args.extend(extra);
    match g.below(20) {
        0 => args.push("--bogus".into()),
        1 => args.push("--ptr".into()), // a flag without its value
        2 => args.extend(["--ptr".into(), "3".into()]), // given twice
        _ => {}
    }
    Case {
        what: format!("flags {args:?}"),
        args,
    }
}

/// A value of a sweep file: a number, a string, a list or a range of some kind.
fn toml_value(g: &mut Gen) -> String {
    let bound = |g: &mut Gen| -> String {
        g.pick(&[
            "0",
            "1",
            "2",
            "3",
            "-2",
            "-1",
            "0.5",
            "1e12",
            "-1e12",
            "1e308",
            "inf",
            "nan",
            "\"x\"",
            "4294967296",
            "9223372036854775807",
        ])
        .to_string()
    };
    match g.below(9) {
        0 => bound(g),
        1 => format!("[{}, {}]", bound(g), bound(g)),
        2 => "[]".into(),
        3 => format!("{{ log2 = [{}, {}] }}", bound(g), bound(g)),
        4 => format!(
            "{{ log2 = [{}, {}], step = {} }}",
            bound(g),
            bound(g),
            bound(g)
        ),
        5 => format!(
            "{{ log10 = [{}, {}], per_decade = {} }}",
            bound(g),
            bound(g),
            bound(g)
        ),
        6 => format!("{{ range = [{}, {}] }}", bound(g), bound(g)),
        7 => format!("{{ bogus = [{}] }}", bound(g)),
        _ => format!("\"{}\"", g.pick(NAMES)),
    }
}

fn sweep_case(g: &mut Gen, i: usize, dir: &Path) -> Case {
    let mut keys: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
    if g.chance(0.2) {
        keys.push("bogus");
    }
    let mut text = String::new();
    if g.chance(0.8) {
        text.push_str("name = \"hostile\"\n");
    }
    text.push_str("[fixed]\nptr = 16\npte = 16\nbatch = 2\nmax_steps = 100\n");
    if g.chance(0.7) {
        text.push_str("temp = 1.0\n");
    }
    for _ in 0..g.below(3) {
        let k = keys[g.below(keys.len())];
        text.push_str(&format!("{k} = {}\n", toml_value(g)));
    }
    text.push_str("[axes]\n");
    for _ in 0..g.below(4) {
        if g.chance(0.5) {
            // A sound axis: the file may well be valid.
            text.push_str(g.pick(&[
                "seed_init = { range = [0, 2] }\n",
                "temp = { log2 = [-2, 0] }\n",
                "ptr = [16, 8]\n",
                "alpha = { log10 = [0, 2], per_decade = 2 }\n",
                "chi = [0, 1, 3]\n",
                "dataset = [\"sign\", \"random_sign\"]\n",
            ]));
        } else {
            let k = keys[g.below(keys.len())];
            text.push_str(&format!("{k} = {}\n", toml_value(g)));
        }
    }
    for table in ["[[zip]]", "[[part]]"] {
        for _ in 0..g.below(3).saturating_sub(1) {
            text.push_str(&format!("{table}\n"));
            for _ in 0..g.below(3) {
                let k = keys[g.below(keys.len())];
                text.push_str(&format!("{k} = {}\n", toml_value(g)));
            }
        }
    }
    if g.chance(0.15) {
        // Broken TOML: cut at a random byte, or a stray byte.
        let mut bytes = text.into_bytes();
        let at = g.below(bytes.len() + 1);
        if g.chance(0.5) {
            bytes.truncate(at);
        } else {
            bytes.insert(at, *g.pick(&[&b'[', &b'"', &b'=', &0xffu8, &b'\n']));
        }
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    let file = dir.join(format!("sweep-{i}.toml"));
    std::fs::write(&file, &text).unwrap();
    let mut args = vec!["sweep".into(), "plan".into(), file.display().to_string()];
    if g.chance(0.3) {
        args.push("--ids".into());
    }
    Case {
        what: format!("sweep file:\n{text}"),
        args,
    }
}

/// `n` images of 28x28 (pixel = image * 7 + position) and their labels (image mod 10, starting
/// at 3 so that they look like neither MNIST's nor Fashion-MNIST's first labels).
fn mnist_like(n: usize) -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..n * 784)
        .map(|k| ((k / 784) * 7 + k % 784) as u8)
        .collect();
    let labels: Vec<u8> = (0..n).map(|i| ((i + 3) % 10) as u8).collect();
    (
        idx::encode(&[n, 28, 28], &pixels),
        idx::encode(&[n], &labels),
    )
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Mutates `bytes` in one of the ways a file goes bad.
fn mutate(g: &mut Gen, bytes: &mut Vec<u8>, idx_file: bool) -> String {
    match g.below(8) {
        0 => {
            let at = g.below(bytes.len() + 1);
            bytes.truncate(at);
            format!("truncated to {at} bytes")
        }
        1 if idx_file && bytes.len() >= 4 => {
            // One of the header's u32 sizes (or the magic) set to a hostile value.
            let field = g.below(bytes.len().min(16) / 4);
            let v: u32 = *g.pick(&[
                &0u32,
                &1,
                &27,
                &28,
                &29,
                &7,
                &9,
                &u32::MAX,
                &(1 << 31),
                &0x0803,
            ]);
            bytes[field * 4..field * 4 + 4].copy_from_slice(&v.to_be_bytes());
            format!("header word {field} = {v}")
        }
        2 => {
            let at = g.below(bytes.len().clamp(1, 24));
            let v = (g.next() & 0xff) as u8;
            if at < bytes.len() {
                bytes[at] = v;
            }
            format!("byte {at} = {v}")
        }
        3 => {
            let n = 1 + g.below(5000);
            bytes.extend((0..n).map(|k| k as u8));
            format!("{n} bytes appended")
        }
        4 => {
            *bytes = gzip(bytes);
            "gzipped".into()
        }
        5 => {
            let z = gzip(bytes);
            let at = g.below(z.len());
            *bytes = z[..at].to_vec();
            format!("gzipped and cut at {at}")
        }
        6 => {
            bytes.clear();
            "emptied".into()
        }
        _ => {
            // A label beyond 9 (or a pixel changed, for an images file).
            if let Some(last) = bytes.last_mut() {
                *last = 200;
            }
            "last byte = 200".into()
        }
    }
}

fn data_case(g: &mut Gen, i: usize, dir: &Path) -> Case {
    let data = dir.join(format!("data-{i}"));
    std::fs::create_dir_all(&data).unwrap();
    let cifar_set = g.chance(0.3);
    let mut notes = Vec::new();
    if cifar_set {
        let names = cifar::BATCH_FILES;
        for (k, name) in names.iter().enumerate() {
            let labels: Vec<u8> = (0..2).map(|j| ((k + j) % 10) as u8).collect();
            let pixels: Vec<u8> = (0..2 * cifar::IMAGE_BYTES).map(|p| (p * 3) as u8).collect();
            let mut bytes = cifar::encode(&pixels, &labels);
            if g.chance(0.3) {
                notes.push(format!("{name}: {}", mutate(g, &mut bytes, false)));
            }
            std::fs::write(data.join(name), &bytes).unwrap();
        }
    } else {
        let (train_im, train_lab) = mnist_like(8);
        let (test_im, test_lab) = mnist_like(8);
        let files = [
            ("train-images-idx3-ubyte", train_im),
            ("train-labels-idx1-ubyte", train_lab),
            ("t10k-images-idx3-ubyte", test_im),
            ("t10k-labels-idx1-ubyte", test_lab),
        ];
        let mutated = g.below(4);
        for (k, (name, mut bytes)) in files.into_iter().enumerate() {
            let mut file = name.to_string();
            if k == mutated || g.chance(0.15) {
                notes.push(format!("{name}: {}", mutate(g, &mut bytes, true)));
            }
            if g.chance(0.2) {
                bytes = gzip(&bytes);
                file.push_str(".gz");
            }
            std::fs::write(data.join(&file), &bytes).unwrap();
        }
    }
    if g.chance(0.05) {
        // A folder where a file should be.
        let name = if cifar_set {
            "test_batch"
        } else {
            "t10k-labels-idx1-ubyte"
        };
        let _ = std::fs::remove_file(data.join(name));
        std::fs::create_dir_all(data.join(name)).unwrap();
        notes.push(format!("{name}: a folder"));
    }
    let dataset = if cifar_set {
        "cifar_animal"
    } else {
        "mnist_parity"
    };
    let args: Vec<String> = [
        "run",
        "--arch",
        "mlp",
        "--dataset",
        dataset,
        "--width",
        "2",
        "--depth",
        "1",
        "--ptr",
        "4",
        "--pte",
        "4",
        "--batch",
        "2",
        "--temp",
        "1",
        "--max-steps",
        "50",
        "--max-wall",
        "0.5",
        "--quiet",
        "--data-dir",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        data.display().to_string(),
        "--out".into(),
        data.join("run").display().to_string(),
    ])
    .collect();
    Case {
        what: format!("{dataset} files: {}", notes.join("; ")),
        args,
    }
}

/// Why `e` breaks the campaign's rule, if it does.
fn broken(e: &Ended) -> Option<String> {
    if e.timed_out {
        return Some(format!("still running after {TIMEOUT:?}"));
    }
    if let Some(sig) = e.signal {
        return Some(format!("killed by signal {sig}"));
    }
    if e.stderr.contains("panicked") || e.stderr.contains("memory allocation of") {
        return Some("a panic or an abort".into());
    }
    match e.code {
        Some(0) => None,
        Some(2) if !e.stderr.trim().is_empty() => None,
        Some(2) => Some("exit 2 without a message".into()),
        other => Some(format!("exit {other:?}")),
    }
}

/// Regression and guard: hostile flags, sweep files and data files never crash the binary
/// (issue 15: exit 134 on huge sizes, 101 on overflow; see the module doc).
#[test]
fn hostile_inputs_exit_0_or_2_with_a_message_never_a_crash() {
    let seed = env_u64("SGDNOISE_HOSTILE_SEED").unwrap_or(DEFAULT_SEED);
    // Another binary (an older build, to see what the campaign finds there).
    let exe = std::env::var("SGDNOISE_HOSTILE_EXE").unwrap_or_else(|_| EXE.to_string());
    let per_kind = env_u64("SGDNOISE_HOSTILE_CASES").unwrap_or(200) as usize;
    let dir = temp_dir("hostile");
    let mut g = Gen(seed);
    let started = Instant::now();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut slowest = (0.0f64, String::new());
    let mut failures = Vec::new();
    let kinds: [(&str, usize); 3] = [
        ("flags", per_kind),
        ("sweep", per_kind / 2),
        ("data", per_kind / 2),
    ];
    let mut i = 0;
    for (kind, n) in kinds {
        for _ in 0..n {
            i += 1;
            let case = match kind {
                "flags" => flags_case(&mut g, i, dir.path()),
                "sweep" => sweep_case(&mut g, i, dir.path()),
                _ => data_case(&mut g, i, dir.path()),
            };
            let e = run_limited_exe(&exe, &case.args, dir.path(), LIMIT, TIMEOUT);
            *counts
                .entry(format!("{kind} exit {:?}", e.code))
                .or_default() += 1;
            if e.seconds > slowest.0 {
                slowest = (e.seconds, case.what.clone());
            }
            if let Some(why) = broken(&e) {
                failures.push(format!(
                    "case {i} (seed {seed}): {why}\n  input: {}\n  args: {:?}\n  stderr: {}",
                    case.what,
                    case.args,
                    e.stderr.chars().take(2000).collect::<String>()
                ));
            }
        }
    }
    let total = started.elapsed().as_secs_f64();
    eprintln!(
        "hostile campaign, seed {seed}: {i} inputs in {total:.1} s (slowest {:.2} s: {}); {counts:?}",
        slowest.0,
        slowest.1.lines().next().unwrap_or("")
    );
    assert!(
        failures.is_empty(),
        "{} of {i} hostile inputs broke the rule (seed {seed}):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    // Both outcomes occur: the campaign reaches valid runs as well as refusals.
    assert!(
        counts.iter().any(|(k, _)| k.ends_with("Some(0)")),
        "{counts:?}"
    );
    assert!(
        counts.iter().any(|(k, _)| k.ends_with("Some(2)")),
        "{counts:?}"
    );
}
