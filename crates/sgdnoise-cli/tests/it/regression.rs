//! One test per defect fixed by the re-layering, named after the defect.

use crate::util::{output, repo_file, sgdnoise, summaries, temp_dir, EXE};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs the binary with a stdout whose reader goes away after `lines` lines; returns the exit
/// code and stderr.
fn with_closed_stdout(args: &[&str], lines: usize) -> (Option<i32>, String) {
    let mut child = Command::new(EXE)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        let mut reader = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..lines {
            line.clear();
            if reader.read_line(&mut line).unwrap() == 0 {
                break;
            }
        }
        // The reader is dropped here: the pipe is closed like `| head -1` closes it.
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn sweep_plan_into_a_closed_pipe_exits_0_without_a_panic() {
    // 7254 ids are more than a pipe buffers: the writer must meet the closed pipe.
    let file = repo_file("presets", "fc-phase-paper.toml");
    let (code, err) = with_closed_stdout(&["sweep", "plan", file.to_str().unwrap(), "--ids"], 1);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let (code, err) = with_closed_stdout(&["sweep", "plan", file.to_str().unwrap()], 0);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn data_check_into_a_closed_pipe_exits_0_without_a_panic() {
    let dir = temp_dir("pipe-data");
    let (code, err) = with_closed_stdout(&["data", "check", "--data-dir", dir.str()], 0);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn sweep_run_into_a_closed_pipe_exits_0_and_leaves_a_resumable_store() {
    let dir = temp_dir("pipe-sweep");
    let store = dir.sub("store");
    let file = repo_file("examples", "perceptron-sweep.toml");
    let file = file.to_str().unwrap();
    let (code, err) = with_closed_stdout(&["sweep", "run", file, "--out", &store, "--quiet"], 2);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // Nothing was lost or half-written: the same command finishes the sweep.
    let (code, out, err) = sgdnoise(&["sweep", "run", file, "--out", &store, "--quiet"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(summaries(std::path::Path::new(&store)).len(), 160);
}

#[test]
fn ctrl_c_exits_130_and_leaves_the_run_partial() {
    let dir = temp_dir("sigint");
    let out_dir = dir.sub("run");
    // chi = 0 at P = 16384 needs ~P^2 steps: far more than the half second before the signal.
    let child = Command::new(EXE)
        .args([
            "run", "--dim", "32", "--chi", "0", "--ptr", "16384", "--pte", "512", "--batch", "2",
            "--temp", "1", "--quiet", "--out", &out_dir,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !std::path::Path::new(&out_dir).join("config.json").exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: kill(2) on our own child process touches no memory of ours.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("stays partial"), "{err}");
    let run = std::path::Path::new(&out_dir);
    assert!(run.join("config.json").exists());
    assert!(
        !run.join("summary.json").exists(),
        "an interrupted run must never look finished"
    );
}

#[test]
fn info_and_bench_print_names_not_debug() {
    let o = output(&["info", "--arch", "mlp", "--act", "gelu"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("mlp L = 5 h = 128 gelu"), "{text}");
    assert!(!text.contains("Mlp") && !text.contains("Gelu"), "{text}");
    let o = output(&[
        "bench",
        "--arch",
        "mnas",
        "--width",
        "2",
        "--batch",
        "2",
        "--seconds",
        "0.05",
        "--repeats",
        "1",
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("mnas relu h=2 on mnist_parity"), "{text}");
    assert!(
        !text.contains("Relu") && !text.contains("MnistParity"),
        "{text}"
    );
}

/// Regression: `bench --arch` defaulted to mlp while `run` defaulted to linear.
#[test]
fn bench_info_and_run_take_the_same_defaults() {
    let o = output(&["bench", "--seconds", "0.05", "--repeats", "1"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("linear d=32 "));
    let o = output(&["info"]);
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("perceptron d = 32, dataset depleted_sign")
    );
}

/// Regression: `--act gelu` was accepted for the perceptron and silently changed the run's
/// identity.
#[test]
fn a_setting_that_does_not_apply_exits_2_naming_it() {
    for (args, field) in [
        (&["--act", "gelu"][..], "`act`"),
        (&["--arch", "mnas", "--depth", "3"][..], "`depth`"),
        (
            &["--arch", "mlp", "--dataset", "mnist_parity", "--chi", "1"][..],
            "`chi`",
        ),
    ] {
        let (code, _, err) = sgdnoise(&[&["run", "--temp", "1"][..], args].concat());
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(
            err.contains(field) && err.contains("applies only to"),
            "{args:?}: {err}"
        );
    }
}

/// Regression: `--temp -1` (with a space) was taken for an unknown flag `-1`.
#[test]
fn a_negative_value_names_its_flag() {
    let (code, _, err) = sgdnoise(&["run", "--batch", "2", "--temp", "-1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`temp`") && err.contains("-1"), "{err}");
    let (code, _, err) = sgdnoise(&["run", "--temp", "1", "--ptr", "1e3"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--ptr") && err.contains("1e3"), "{err}");
}

/// Regression: the defaults lived in the code of `resolve`, so `--help` showed none.
#[test]
fn help_shows_every_default() {
    let o = output(&["run", "--help"]);
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "--ptr <N>",
        "[default: 1024]",
        "[default: 128 (mlp), 64 (mnas)]",
        "[default: -seed_init - 2]",
        "[possible values: linear, mlp, mnas]",
        "[only arch mlp, mnas]",
    ] {
        assert!(
            text.contains(needle),
            "run --help lacks {needle:?}:\n{text}"
        );
    }
}
