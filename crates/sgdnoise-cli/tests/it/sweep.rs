//! `sgdnoise sweep` end to end: plan, run, kill -9 in the middle, resume, status, collect.

use crate::util::{repo_file, sgdnoise, summaries, temp_dir, EXE};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn example(name: &str) -> PathBuf {
    repo_file("examples", name)
}

fn raw_summaries(store: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(store.join("runs")).unwrap() {
        let dir = e.unwrap().path();
        if let Ok(b) = std::fs::read(dir.join("summary.json")) {
            out.insert(dir.file_name().unwrap().to_string_lossy().into_owned(), b);
        }
    }
    out
}

fn partial_dirs(store: &Path) -> usize {
    std::fs::read_dir(store.join("runs"))
        .map(|d| {
            d.filter(|e| !e.as_ref().unwrap().path().join("summary.json").exists())
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn plan_counts_runs_and_reports_every_invalid_combination() {
    let (code, out, err) = sgdnoise(&[
        "sweep",
        "plan",
        example("perceptron-sweep.toml").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("160 runs"), "{out}");
    assert!(out.contains("temp") && out.contains("seed_init"), "{out}");
    // Every preset file plans (the paper's grids live in presets/ now).
    let presets = repo_file("presets", "");
    let mut n = 0;
    for e in std::fs::read_dir(&presets).unwrap() {
        let f = e.unwrap().path();
        let (code, out, err) = sgdnoise(&["sweep", "plan", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{}: {err}", f.display());
        assert!(out.contains(" runs"), "{}: {out}", f.display());
        n += 1;
    }
    // Every file of the folder (the embedded list is checked against the folder elsewhere).
    assert_eq!(n, sgdnoise_campaign::presets::FILES.len());
    assert!(n >= 27, "{n} preset files");
    let dir = temp_dir("plan");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[fixed]\ndim = 8\n[axes]\nptr = [1, 4]\nbatch = [2, 3]\ntemp = [1.0, -1.0]\n",
    )
    .unwrap();
    let (code, _, err) = sgdnoise(&["sweep", "plan", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("6 invalid"), "{err}");
    assert!(err.contains("`temp`: -1"), "{err}");
    assert!(
        err.contains("B = 3 is larger than the training set P = 1"),
        "{err}"
    );
    std::fs::write(&bad, "[axes]\ntempp = [1.0]\n").unwrap();
    let (code, _, err) = sgdnoise(&[
        "sweep",
        "run",
        bad.to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("tempp"), "{err}");
    assert!(
        !dir.join("runs").exists(),
        "nothing runs when the plan is invalid"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The acceptance test: a 160-run sweep killed with SIGKILL mid-flight loses and duplicates
/// nothing, and after a rerun equals a clean run, run by run.
#[test]
fn a_sweep_killed_mid_flight_resumes_to_the_clean_result() {
    let file = example("perceptron-sweep.toml");
    let file = file.to_str().unwrap();
    let dir = temp_dir("kill");
    let (clean, killed) = (dir.join("clean"), dir.join("killed"));

    let (code, out, err) = sgdnoise(&[
        "sweep",
        "run",
        file,
        "--out",
        clean.to_str().unwrap(),
        "--workers",
        "2",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("160 of 160 runs done"), "{out}");
    assert_eq!(
        out.lines().filter(|l| l.starts_with("done ")).count(),
        160,
        "{out}"
    );
    let reference = summaries(&clean);
    assert_eq!(reference.len(), 160);

    // Start, wait until a good part is done and a run is in flight, then SIGKILL.
    let mut child = Command::new(EXE)
        .args([
            "sweep",
            "run",
            file,
            "--out",
            killed.to_str().unwrap(),
            "--workers",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The process is frozen (SIGSTOP) while its folders are inspected, so that the SIGKILL
    // surely lands while a run is in flight.
    let pid = child.id() as libc::pid_t;
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < Duration::from_secs(300), "sweep too slow");
        assert!(
            child.try_wait().unwrap().is_none(),
            "sweep ended before the kill"
        );
        if raw_summaries_count(&killed) >= 40 {
            // SAFETY: kill(2) on our own child process touches no memory of ours.
            unsafe { libc::kill(pid, libc::SIGSTOP) };
            wait_stopped(pid);
            if partial_dirs(&killed) > 0 {
                break;
            }
            // SAFETY: kill(2) on our own child process touches no memory of ours.
            unsafe { libc::kill(pid, libc::SIGCONT) };
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // Invariants after the kill: every summary parses (checked by `summaries`), each is one of
    // the clean run's with the same results, and the run in flight left a partial folder.
    let after_kill = summaries(&killed);
    assert!(
        after_kill.len() >= 40 && after_kill.len() < 160,
        "{}",
        after_kill.len()
    );
    for (id, s) in &after_kill {
        assert_eq!(
            Some(s),
            reference.get(id),
            "run {id} differs from the clean sweep"
        );
    }
    assert!(
        partial_dirs(&killed) > 0,
        "the runs in flight left partial folders"
    );

    let (code, out, err) = sgdnoise(&["sweep", "status", file, "--out", killed.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("{} done", after_kill.len())), "{out}");
    assert!(!out.contains(" 0 partial"), "{out}");

    // Ctrl-C (SIGINT) in the middle: runs in flight are abandoned (left partial) or finish if
    // they end before their next poll; nothing else starts; exit code 1.
    let before_int = raw_summaries_count(&killed);
    let child = Command::new(EXE)
        .args([
            "sweep",
            "run",
            file,
            "--out",
            killed.to_str().unwrap(),
            "--workers",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while raw_summaries_count(&killed) < before_int + 20 {
        assert!(t0.elapsed() < Duration::from_secs(300), "sweep too slow");
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: kill(2) on our own child process touches no memory of ours.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Ctrl-C ends with 128 + SIGINT, the shells' convention.
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("interrupted by signal 2") && stderr.contains("run the same command again"),
        "{stderr}"
    );
    let after_int = summaries(&killed);
    assert!(
        after_int.len() < 160,
        "the interrupt came too late to test anything"
    );
    for (id, s) in &after_int {
        assert_eq!(
            Some(s),
            reference.get(id),
            "run {id} differs from the clean sweep"
        );
    }
    let kept = raw_summaries(&killed);

    let (code, out, err) = sgdnoise(&[
        "sweep",
        "run",
        file,
        "--out",
        killed.to_str().unwrap(),
        "--workers",
        "2",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "({} ran now, {} before)",
            160 - kept.len(),
            kept.len()
        )),
        "{out}"
    );
    let resumed = summaries(&killed);
    assert_eq!(
        resumed, reference,
        "the resumed sweep equals the clean one, run by run"
    );
    // Finished runs were not run again: their files are untouched, wall times included.
    let now = raw_summaries(&killed);
    for (id, bytes) in &kept {
        assert_eq!(Some(bytes), now.get(id), "finished run {id} was rewritten");
    }
    assert_eq!(partial_dirs(&killed), 0);
    let locks = std::fs::read_dir(killed.join("locks")).unwrap().count();
    assert_eq!(
        locks, 0,
        "the stale locks of the killed executor were broken and released"
    );

    let (code, out, _) = sgdnoise(&["sweep", "status", file, "--out", killed.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("160 done, 0 failed, 0 running, 0 partial, 0 missing"),
        "{out}"
    );

    // collect: one row per run, an id column, settings and summary scalars.
    let csv_path = dir.join("table.csv");
    let (code, out, err) = sgdnoise(&[
        "collect",
        killed.to_str().unwrap(),
        "--output",
        csv_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("160 finished runs"), "{out}");
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for col in [
        "id",
        "chi",
        "ptr",
        "temp",
        "lr",
        "seed_init",
        "dim",
        "stop_reason",
        "steps",
        "t_star",
        "test_err",
        "rel_weight_change",
        "signal",
        "noise",
    ] {
        assert!(
            header.iter().any(|h| h == col),
            "missing column {col}: {header:?}"
        );
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 160);
    let id_col = header.iter().position(|h| h == "id").unwrap();
    let steps_col = header.iter().position(|h| h == "steps").unwrap();
    for r in &rows {
        let s = &reference[&r[id_col]];
        assert_eq!(r[steps_col], s["steps"].to_string());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn raw_summaries_count(store: &Path) -> usize {
    std::fs::read_dir(store.join("runs"))
        .map(|d| {
            d.filter(|e| e.as_ref().unwrap().path().join("summary.json").exists())
                .count()
        })
        .unwrap_or(0)
}

/// Waits until process `pid` is stopped (state T in /proc/PID/stat).
fn wait_stopped(pid: libc::pid_t) {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(5) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next();
        if matches!(state, Some("T") | Some("t")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("process {pid} did not stop");
}

#[test]
fn plan_json_lists_every_run_as_plan_ids_does() {
    let file = example("perceptron-sweep.toml");
    let file = file.to_str().unwrap();
    let (code, out, err) = sgdnoise(&["sweep", "plan", file, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["name"], "perceptron-sweep");
    assert_eq!(v["runs"], 160);
    assert_eq!(v["fixed"]["dim"], 32);
    assert!(
        v["fixed"].get("act").is_none(),
        "unset settings are left out: {}",
        v["fixed"]
    );
    assert_eq!(v["slurm"]["time"], "00:10:00");
    let axes: Vec<&str> = v["axes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["keys"][0].as_str().unwrap())
        .collect();
    assert_eq!(axes, ["chi", "ptr", "seed_init", "temp"]);
    assert_eq!(
        v["axes"][1]["values"],
        serde_json::json!([256, 512, 1024, 2048])
    );
    let (_, ids, _) = sgdnoise(&["sweep", "plan", file, "--ids"]);
    let listed: Vec<&str> = v["run_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids.lines().collect::<Vec<_>>());
    let first = &v["run_list"][0];
    assert_eq!(first["axes"]["chi"], 1);
    assert_eq!(first["axes"]["ptr"], 256);
    assert!(first["temp"].as_f64().unwrap() > 0.0);
}

#[test]
fn status_json_counts_what_the_files_say() {
    let dir = temp_dir("status-json");
    let file = dir.join("sweep.toml");
    std::fs::write(
        &file,
        "name = \"s\"\n[fixed]\ndim = 8\nbatch = 2\npte = 64\nalpha = 32768\ntemp = 0.25\n[axes]\nptr = [32, 64]\nseed_init = [0, 1]\n",
    )
    .unwrap();
    let store = dir.join("store");
    let (f, o) = (file.to_str().unwrap(), store.to_str().unwrap());
    let (code, out, err) = sgdnoise(&["sweep", "run", f, "--out", o, "-q"]);
    assert_eq!(code, 0, "{out}{err}");
    // One run loses its summary (partial), one its folder (missing).
    let ids: Vec<String> = summaries(&store).into_keys().collect();
    std::fs::remove_file(store.join("runs").join(&ids[0]).join("summary.json")).unwrap();
    std::fs::remove_dir_all(store.join("runs").join(&ids[1])).unwrap();
    let (code, out, err) = sgdnoise(&["sweep", "status", f, "--out", o, "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["total"], 4);
    assert_eq!(v["done"], 2);
    assert_eq!(v["partial"], serde_json::json!([ids[0]]));
    assert_eq!(v["missing"], serde_json::json!([ids[1]]));
    assert_eq!(v["failed"], serde_json::json!([]));
    // Never submitted to SLURM: no scheduler counts, and no attempt to ask.
    assert!(v["slurm"].is_null() && v["slurm_error"].is_null(), "{v}");
}
