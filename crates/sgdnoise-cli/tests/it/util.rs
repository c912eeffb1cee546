//! Helpers shared by the command-line tests (in the manner of ripgrep's tests/util.rs): running
//! the binary, temporary folders, reading a store, and the requirements of the tests that need
//! data files or a SLURM cluster.
//!
//! Tests that need something outside the repository are `#[ignore]`d with the reason, so a
//! plain `cargo test` never counts them as passed without running them; `scripts/test.sh`
//! installs what they need and runs them with `--include-ignored`. An enabled test whose
//! requirement is missing fails, saying how to provide it.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const EXE: &str = env!("CARGO_BIN_EXE_sgdnoise");

/// Runs the binary and returns its whole output.
pub fn output(args: &[&str]) -> Output {
    Command::new(EXE)
        .args(args)
        .output()
        .expect("the binary runs")
}

/// Runs the binary: exit code, stdout, stderr.
pub fn sgdnoise(args: &[&str]) -> (i32, String, String) {
    let out = output(args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A fresh folder for one test, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn path(&self) -> &Path {
        &self.0
    }
    /// The path of `name` inside the folder (not created), as a string for arguments.
    pub fn sub(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
    pub fn str(&self) -> &str {
        self.0.to_str().expect("temporary paths are UTF-8")
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh, empty folder named after the test.
pub fn temp_dir(name: &str) -> TempDir {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "sgdnoise-cli-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    TempDir(d)
}

/// A file of the repository's `examples/` or `presets/` folder.
pub fn repo_file(folder: &str, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(folder)
        .join(name)
}

/// Fields that measure time, not results.
const WALL_FIELDS: &[&str] = &["wall_seconds", "check_seconds", "checkpoint_seconds"];

/// Every summary of a store, by run id, minus the wall-time fields. Panics on one that does not
/// parse or whose id differs from its folder.
pub fn summaries(store: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(store.join("runs")) else {
        return out;
    };
    for e in entries {
        let dir = e.unwrap().path();
        let path = dir.join("summary.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: corrupt summary: {e}", path.display()));
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(v["id"], Value::String(id.clone()), "{}", path.display());
        for f in WALL_FIELDS {
            v.as_object_mut().unwrap().remove(*f);
        }
        v["last"].as_object_mut().unwrap().remove("wall");
        assert!(out.insert(id, v).is_none());
    }
    out
}

/// The folder of the real MNIST files for an enabled data test (see the module doc).
pub fn require_mnist() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.data/mnist");
    assert!(
        d.join("train-labels-idx1-ubyte").exists() || d.join("train-labels-idx1-ubyte.gz").exists(),
        "this test needs MNIST in {}: run `bash scripts/get-data.sh`",
        d.display()
    );
    d
}

/// Checks that a SLURM cluster answers, for an enabled cluster test (see the module doc).
pub fn require_slurm() {
    let ping = Command::new("scontrol").arg("ping").output();
    match ping {
        Ok(o) if o.status.success() && String::from_utf8_lossy(&o.stdout).contains("UP") => {}
        Ok(o) => panic!(
            "this test needs a SLURM cluster, and `scontrol ping` fails: {}{}\n\
             start one: bash ci/slurm-local.sh install && bash ci/slurm-local.sh start && \
             eval \"$(bash ci/slurm-local.sh env)\"",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!(
            "this test needs a SLURM cluster, and scontrol cannot run ({e}): \
             bash ci/slurm-local.sh install && bash ci/slurm-local.sh start"
        ),
    }
}

/// A tiny MNIST look-alike in `dir` (created): 10 training images of 28 x 28 with the official
/// first ten labels (which tell MNIST from Fashion-MNIST) and 4 test images, a pool of 14: too
/// small for any preset, so its runs fail by themselves (a failure of the run, recorded).
pub fn tiny_mnist(dir: &Path) {
    use sgdnoise_core::data::idx;
    std::fs::create_dir_all(dir).unwrap();
    let images = |n: usize| {
        let pixels: Vec<u8> = (0..n * 784).map(|k| (k * 37 % 251) as u8).collect();
        idx::encode(&[n, 28, 28], &pixels)
    };
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).unwrap();
    write("train-images-idx3-ubyte", images(10));
    write(
        "train-labels-idx1-ubyte",
        idx::encode(&[10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
    );
    write("t10k-images-idx3-ubyte", images(4));
    write("t10k-labels-idx1-ubyte", idx::encode(&[4], &[7, 2, 1, 0]));
}

/// How a child run by [`run_limited`] ended.
#[derive(Debug)]
pub struct Ended {
    /// The exit code, `None` when a signal ended it.
    pub code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
    /// Killed at the timeout.
    pub timed_out: bool,
}

/// Runs the binary with `args` in `cwd` (also its HOME, and no SGDNOISE_DATA_DIR, so that no
/// installed data set is found by accident) under an address-space limit of `limit_bytes`
/// (RLIMIT_AS, set in the child before exec: an allocation beyond it fails there instead of
/// taking the machine's memory), killed after `timeout`.
pub fn run_limited(
    args: &[String],
    cwd: &Path,
    limit_bytes: u64,
    timeout: std::time::Duration,
) -> Ended {
    run_limited_exe(EXE, args, cwd, limit_bytes, timeout)
}

/// [`run_limited`] with another binary than this build's.
pub fn run_limited_exe(
    exe: &str,
    args: &[String],
    cwd: &Path,
    limit_bytes: u64,
    timeout: std::time::Duration,
) -> Ended {
    use std::io::Read;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use std::process::Stdio;
    let mut cmd = Command::new(exe);
    cmd.args(args)
        .current_dir(cwd)
        .env("HOME", cwd)
        .env_remove("SGDNOISE_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let limit = limit_bytes as libc::rlim_t;
    // SAFETY: the closure runs in the forked child before exec and calls only setrlimit, which
    // is async-signal-safe, on a struct it owns.
    unsafe {
        cmd.pre_exec(move || {
            let r = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &r) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = std::time::Instant::now();
    let mut child = cmd.spawn().expect("the binary starts");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = out.read_to_end(&mut b);
        b
    });
    let err_reader = std::thread::spawn(move || {
        let mut b = Vec::new();
        let _ = err.read_to_end(&mut b);
        b
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the child") {
            break s;
        }
        if start.elapsed() > timeout {
            timed_out = true;
            let _ = child.kill();
            break child.wait().expect("wait for the killed child");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    };
    let seconds = start.elapsed().as_secs_f64();
    Ended {
        code: status.code(),
        signal: status.signal(),
        stdout: String::from_utf8_lossy(&out_reader.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned(),
        seconds,
        timed_out,
    }
}
