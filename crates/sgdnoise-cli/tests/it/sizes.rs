//! Absurd sizes, extreme values, overflow and the messages of bad input (issue 15, items 1 and
//! 11-13): one test per defect, named after it. Children that could allocate run under an
//! address-space limit, so a regression fails the test instead of taking the machine's memory.

use crate::util::{run_limited, sgdnoise, temp_dir, Ended};
use std::path::Path;
use std::time::Duration;

/// 2 GiB of address space: far below what the refused runs would take, far above a small run.
const LIMIT: u64 = 2 << 30;

fn limited(cwd: &Path, args: &[&str]) -> Ended {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    run_limited(&args, cwd, LIMIT, Duration::from_secs(30))
}

/// Exit 2, quickly, with a message that contains every needle.
fn refused(e: &Ended, what: &str, needles: &[&str]) {
    assert_eq!(
        e.code,
        Some(2),
        "{what}: exit {:?} signal {:?}\n{}",
        e.code,
        e.signal,
        e.stderr
    );
    assert!(e.seconds < 5.0, "{what}: took {:.1} s", e.seconds);
    for n in needles {
        assert!(
            e.stderr.contains(n),
            "{what}: message lacks {n:?}:\n{}",
            e.stderr
        );
    }
}

/// Regression: `run --ptr 1000000000000` (also a huge pte, dim, width) aborted with "memory
/// allocation of 128000000000000 bytes failed" (exit 134).
#[test]
fn huge_sizes_are_refused_before_allocating() {
    let dir = temp_dir("huge");
    let out = dir.sub("run");
    for (args, setting) in [
        (&["--ptr", "1000000000000"][..], "`ptr`"),
        (&["--pte", "1000000000000"][..], "`pte`"),
        (&["--dim", "1000000000"][..], "`dim`"),
        // The check comes before the data: no MNIST is needed to be refused.
        (&["--arch", "mlp", "--width", "100000"][..], "`width`"),
        (
            &["--arch", "mnas", "--width", "100000", "--batch", "64"][..],
            "`width`",
        ),
        (
            &[
                "--ptr",
                "18446744073709551615",
                "--dim",
                "18446744073709551615",
            ][..],
            "`ptr`",
        ),
    ] {
        let mut a = vec!["run", "--temp", "1", "--quiet", "--out", &out];
        a.extend_from_slice(args);
        let e = limited(&dir, &a);
        refused(
            &e,
            &format!("{args:?}"),
            &[setting, "the run needs", "bytes", "refused"],
        );
        assert!(
            !Path::new(&out).exists(),
            "{args:?}: a run directory was made"
        );
    }
    // Sizes written as floats are not whole numbers: refused by the flag's check, naming it.
    for (flag, value) in [("--pte", "1e12"), ("--dim", "1e9")] {
        let e = limited(&dir, &["run", "--temp", "1", flag, value]);
        refused(&e, value, &[flag, value]);
    }
    // `--max-memory` lowers the limit and is named; it is not part of the run's identity.
    let e = limited(
        &dir,
        &[
            "run",
            "--temp",
            "1",
            "--pte",
            "2000000",
            "--max-memory",
            "100M",
            "--out",
            &out,
        ],
    );
    refused(&e, "--max-memory 100M", &["max_memory", "`pte`"]);
    let (code, a, _) = sgdnoise(&["info", "--temp", "1"]);
    let (_, b, _) = sgdnoise(&["info", "--temp", "1", "--max-memory", "64G"]);
    assert_eq!(code, 0);
    let id = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("identity:"))
            .map(str::to_string)
    };
    assert_eq!(id(&a), id(&b));
}

/// Regression: a sweep with `ptr = [1000000000000, 256]` aborted the executor before any run
/// finished, wrote no failed.json, and every resume aborted again.
#[test]
fn a_huge_run_in_a_sweep_is_recorded_as_failed_and_the_others_run() {
    let dir = temp_dir("huge-sweep");
    let file = dir.path().join("big.toml");
    std::fs::write(
        &file,
        "[fixed]\ntemp = 1.0\nbatch = 2\npte = 64\n[axes]\nptr = [1000000000000, 256]\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();
    let store = dir.sub("store");
    let e = limited(&dir, &["sweep", "plan", file]);
    assert_eq!(e.code, Some(0), "{}", e.stderr);
    assert!(
        e.stderr.contains("1 of 2 runs need more memory") && e.stderr.contains("ptr=1000000000000"),
        "sweep plan does not flag the huge run:\n{}{}",
        e.stdout,
        e.stderr
    );
    assert!(e.stdout.contains("memory: the largest run"), "{}", e.stdout);
    for attempt in ["first run", "resume"] {
        let e = limited(&dir, &["sweep", "run", file, "--out", &store, "--quiet"]);
        assert_eq!(e.code, Some(1), "{attempt}: {}{}", e.stdout, e.stderr);
        assert!(
            e.stderr.contains("runs not done"),
            "{attempt}: {}",
            e.stderr
        );
        assert!(
            e.stdout.contains("1 of 2 runs done"),
            "{attempt}: {}",
            e.stdout
        );
    }
    let runs: Vec<_> = std::fs::read_dir(Path::new(&store).join("runs"))
        .unwrap()
        .map(|d| d.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 2);
    let finished = runs
        .iter()
        .filter(|d| d.join("summary.json").exists())
        .count();
    assert_eq!(finished, 1);
    let failed: Vec<_> = runs
        .iter()
        .filter(|d| d.join("failed.json").exists())
        .collect();
    assert_eq!(failed.len(), 1);
    let record = std::fs::read_to_string(failed[0].join("failed.json")).unwrap();
    assert!(
        record.contains("needs about") && record.contains("ptr"),
        "{record}"
    );
    let e = limited(&dir, &["sweep", "status", file, "--out", &store]);
    assert!(e.stdout.contains("1 done, 1 failed"), "{}", e.stdout);
}

/// `info` prints the memory estimate, part by part, and whether a run may take it here.
#[test]
fn info_prints_the_memory_estimate() {
    let (code, out, err) = sgdnoise(&["info", "--ptr", "4096", "--pte", "1024"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("memory: about") && out.contains("within the"),
        "{out}"
    );
    assert!(
        out.contains("training set") && out.contains("ptr 4096"),
        "{out}"
    );
    let (code, out, _) = sgdnoise(&["info", "--ptr", "1000000000000"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("MORE than") && out.contains("refuses"),
        "{out}"
    );
}

/// Regression: `info --arch mlp --width 2^64-1 --depth 2^64-1` printed a wrapped parameter count,
/// and `bench --seconds 1e300` and `bench --width 1000000000` panicked.
#[test]
fn overflowing_sizes_exit_2_instead_of_wrapping_or_panicking() {
    let dir = temp_dir("overflow");
    let max = "18446744073709551615";
    let e = limited(
        &dir,
        &["info", "--arch", "mlp", "--width", max, "--depth", max],
    );
    refused(&e, "info width depth", &["`depth`", "1 to 1000"]);
    let e = limited(&dir, &["info", "--arch", "mlp", "--width", max]);
    refused(&e, "info width", &["`width`", max, "1048576"]);
    for args in [
        &["bench", "--seconds", "1e300"][..],
        &["bench", "--seconds", "inf"][..],
        &["bench", "--arch", "mlp", "--width", "1000000000"][..],
        &[
            "bench",
            "--arch",
            "mlp",
            "--width",
            "1000000",
            "--seconds",
            "0.01",
        ][..],
        &["bench", "--batch", "1000000000000", "--seconds", "0.01"][..],
    ] {
        let e = limited(&dir, args);
        assert_eq!(e.code, Some(2), "{args:?}: {:?} {}", e.signal, e.stderr);
        assert!(!e.stderr.contains("panicked"), "{args:?}: {}", e.stderr);
    }
    // The default training-set seed -seed_init - 2 does not exist at the ends of the i64 range:
    // the message says to give it, and giving it works.
    for seed in ["9223372036854775807", "-9223372036854775808"] {
        let e = limited(&dir, &["info", "--temp", "1", "--seed-init", seed]);
        refused(&e, seed, &["seed_trainset"]);
        let e = limited(
            &dir,
            &[
                "info",
                "--temp",
                "1",
                "--seed-init",
                seed,
                "--seed-trainset",
                "5",
            ],
        );
        assert_eq!(e.code, Some(0), "{}", e.stderr);
    }
}

/// Regression: `--alpha 1e-300` trained forever, `--depth 1000000` took 1.5 GB, `--threads
/// 100000` made a run 20x slower, `--chi 1e308` "diverged" instead of being refused.
#[test]
fn meaningless_extremes_are_refused_naming_the_bound() {
    let dir = temp_dir("extremes");
    for (args, needles) in [
        (
            &["--alpha", "1e-300"][..],
            &["`alpha`", "1e-300", "1e-12"][..],
        ),
        (
            &["--arch", "mlp", "--depth", "1000000"][..],
            &["`depth`", "1 to 1000"][..],
        ),
        (
            &["--threads", "100000"][..],
            &["`threads`", "1 to 1024"][..],
        ),
        (&["--chi", "1e308"][..], &["`chi`", "1e308", "100"][..]),
        (
            &["--checkpoints-per-decade", "1e9"][..],
            &["checkpoints_per_decade"][..],
        ),
        (&["--lr", "1e-300"][..], &["`lr`"][..]),
    ] {
        let mut a = vec!["run", "--quiet", "--out", "r"];
        if !args.contains(&"--lr") {
            a.extend(["--temp", "1"]);
        }
        a.extend_from_slice(args);
        refused(&limited(&dir, &a), &format!("{args:?}"), needles);
    }
    // More threads than cores (but within the bound) run, with a note, on the cores there are.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if cores < 1024 {
        let e = limited(
            &dir,
            &[
                "run",
                "--temp",
                "1",
                "--ptr",
                "64",
                "--pte",
                "64",
                "--threads",
                "1024",
                "--out",
                "t",
            ],
        );
        assert_eq!(e.code, Some(0), "{}", e.stderr);
        assert!(e.stderr.contains("more than the"), "{}", e.stderr);
    }
}

/// Regression: runs had no step cap by default; now every run has one, recorded in its config.
#[test]
fn the_default_step_cap_is_recorded_in_config_json() {
    let dir = temp_dir("cap");
    let out = dir.sub("run");
    let (code, _, err) = sgdnoise(&[
        "run", "--temp", "1", "--ptr", "64", "--pte", "64", "--quiet", "--out", &out,
    ]);
    assert_eq!(code, 0, "{err}");
    let config: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(&out).join("config.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(config["max_steps"], 1_000_000_000_000u64);
    assert!(config["identity_settings"].get("max_steps").is_none());
}

/// Regression: `--temp -1e-3` (with a space) said "unexpected argument '-1'" without naming the
/// flag, as did negative values of the commands' own number flags.
#[test]
fn negative_and_odd_numbers_reach_the_check_that_names_the_flag() {
    let dir = temp_dir("negative");
    for (args, needle) in [
        (&["run", "--temp", "-1e-3"][..], "`temp`"),
        (&["run", "--temp", "-inf"][..], "`temp`"),
        (&["run", "--temp", "1", "--alpha", "-.5"][..], "`alpha`"),
        (
            &["run", "--temp", "1", "--seed-init", "-x"][..],
            "seed_init",
        ),
        (
            &["info", "--temp", "1", "--max-memory", "-1G"][..],
            "max_memory",
        ),
        (&["bench", "--seconds", "-1"][..], "--seconds"),
        (&["bench", "--repeats", "-1"][..], "--repeats"),
        (
            &["sweep", "plan", "x.toml", "--examples", "-3"][..],
            "--examples",
        ),
        (&["study", "--seeds", "-1"][..], "--seeds"),
    ] {
        refused(&limited(&dir, args), &format!("{args:?}"), &[needle]);
    }
}

/// Regression: a bad `--out` (a file, a folder under a file, a read-only folder) exited 1 and
/// printed the OS error twice.
#[test]
fn a_bad_out_exits_2_with_the_os_error_once_naming_the_path() {
    let dir = temp_dir("bad-out");
    let file = dir.sub("a-file");
    std::fs::write(&file, "x").unwrap();
    let under = format!("{file}/run");
    let mut cases = vec![(file.clone(), "a file is in the way"), (under, "os error")];
    let ro = dir.path().join("read-only");
    std::fs::create_dir(&ro).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    // Root writes into a read-only folder anyway: then there is nothing to refuse.
    if std::fs::write(ro.join("probe"), "x").is_err() {
        cases.push((ro.join("run").display().to_string(), "os error"));
    }
    for (out, needle) in cases {
        let e = limited(
            &dir,
            &[
                "run", "--temp", "1", "--ptr", "16", "--pte", "16", "--quiet", "--out", &out,
            ],
        );
        refused(&e, &out, &[&out, needle, "cannot write the run directory"]);
        if needle == "os error" {
            assert_eq!(e.stderr.matches("os error").count(), 1, "{}", e.stderr);
        }
    }
}

/// Regression: `sweep status --out <typo>` exited 0, reporting every run missing.
#[test]
fn sweep_status_of_a_store_that_does_not_exist_exits_2() {
    let dir = temp_dir("status-typo");
    let file = crate::util::repo_file("examples", "perceptron-sweep.toml");
    let typo = dir.sub("no-such-store");
    let e = limited(
        &dir,
        &["sweep", "status", file.to_str().unwrap(), "--out", &typo],
    );
    refused(&e, "status", &["no-such-store", "no such store"]);
}

/// An empty `[[zip]]` group is refused (exit 2), naming the group.
#[test]
fn an_empty_zip_group_exits_2() {
    let dir = temp_dir("empty-zip");
    let file = dir.path().join("z.toml");
    std::fs::write(&file, "[fixed]\ntemp = 1.0\n[axes]\nptr = [16]\n[[zip]]\n").unwrap();
    let e = limited(&dir, &["sweep", "plan", file.to_str().unwrap()]);
    refused(&e, "empty zip", &["zip #1", "empty"]);
}
