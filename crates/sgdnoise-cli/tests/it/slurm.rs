//! `sgdnoise sweep slurm` against a real SLURM cluster (ci/slurm-local.sh). Ignored unless
//! enabled; an enabled test fails if the cluster does not answer `scontrol ping`:
//!
//!   bash ci/slurm-local.sh install && bash ci/slurm-local.sh start
//!   eval "$(bash ci/slurm-local.sh env)"
//!   cargo test --release -p sgdnoise-cli --test it slurm -- --include-ignored
//!   bash ci/slurm-local.sh stop
//!
//! The cluster tests added with sizing, throttle, time limits and the follow-up job take about
//! 2 minutes together (measured 2026-12-01, one at a time: 6, 13, 96 and 6 s), most of it the
//! time-limit test: SLURM's limits are whole minutes and its controller checks them every 30 s,
//! so a task with `--time=1` ends 60 to 90 s after its start.

use crate::util::{require_slurm, sgdnoise, summaries, temp_dir, TempDir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// 2 P x 5 seeds = 10 short perceptron runs.
const SWEEP: &str = r#"
name = "slurm-test"
[fixed]
dim = 16
batch = 2
alpha = 32768
pte = 256
temp = 0.0625
[axes]
ptr = [64, 128]
seed_init = { range = [0, 4] }
[slurm]
time = "00:05:00"
"#;

/// The job ids printed by `sweep slurm`.
fn job_ids(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.strip_prefix("submitted array job "))
        .map(|r| r.split(':').next().unwrap().to_string())
        .collect()
}

/// Polls squeue until none of `ids` is queued or running.
fn wait_for(ids: &[String], store: &Path) {
    let t0 = Instant::now();
    loop {
        let out = Command::new("squeue")
            .args(["-h", "-j", &ids.join(",")])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && text.trim().is_empty() {
            return;
        }
        if !out.status.success() {
            // squeue forgets finished jobs after MinJobAge: an unknown id is a finished job.
            return;
        }
        if t0.elapsed() > Duration::from_secs(300) {
            panic!(
                "jobs {ids:?} still queued after 300 s:\n{text}\n{}",
                logs(store)
            );
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The task logs of a store, for failure messages.
fn logs(store: &Path) -> String {
    let mut out = String::new();
    for sub in std::fs::read_dir(store.join("slurm")).into_iter().flatten() {
        for log in std::fs::read_dir(sub.unwrap().path().join("logs"))
            .into_iter()
            .flatten()
        {
            let p = log.unwrap().path();
            out.push_str(&format!(
                "== {}\n{}\n",
                p.display(),
                std::fs::read_to_string(&p).unwrap_or_default()
            ));
        }
    }
    out
}

fn submissions(store: &Path) -> usize {
    std::fs::read_dir(store.join("slurm"))
        .map(|d| d.filter(|e| e.as_ref().unwrap().path().is_dir()).count())
        .unwrap_or(0)
}

/// Writes the sweep file and runs it locally: the reference results.
fn setup(name: &str) -> (TempDir, PathBuf, PathBuf) {
    let dir = temp_dir(name);
    let file = dir.join("sweep.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let local = dir.join("local");
    let (code, out, err) = sgdnoise(&[
        "sweep",
        "run",
        file.to_str().unwrap(),
        "--out",
        local.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    (dir, file, local)
}

fn submit(file: &Path, store: &Path, extra: &[&str]) -> (String, Vec<String>) {
    let mut args = vec![
        "sweep",
        "slurm",
        file.to_str().unwrap(),
        "--out",
        store.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = sgdnoise(&args);
    assert_eq!(code, 0, "{out}{err}");
    let ids = job_ids(&out);
    (out, ids)
}

#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn a_slurm_array_gives_the_local_results_and_resubmits_only_what_is_missing() {
    require_slurm();
    let (dir, file, local) = setup("slurm-array");
    let reference = summaries(&local);
    assert_eq!(reference.len(), 10);
    let store = dir.join("cluster");

    let (out, ids) = submit(&file, &store, &[]);
    assert!(out.contains("10 queued"), "{out}");
    assert_eq!(ids.len(), 1, "{out}");
    let script =
        std::fs::read_to_string(store.join("slurm/slurm-test-001/array-000.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --array=0-9"), "{script}");
    assert!(script.contains("#SBATCH --time=00:05:00"), "{script}");
    wait_for(&ids, &store);
    assert_eq!(
        summaries(&store),
        reference,
        "cluster results equal local ones\n{}",
        logs(&store)
    );

    // Lose two results: a resubmission queues exactly those two.
    let lost: Vec<String> = reference.keys().take(2).cloned().collect();
    for id in &lost {
        std::fs::remove_dir_all(store.join("runs").join(id)).unwrap();
    }
    let (out, ids) = submit(&file, &store, &[]);
    assert!(out.contains("2 queued"), "{out}");
    let tasks = std::fs::read_to_string(store.join("slurm/slurm-test-002/tasks.jsonl")).unwrap();
    assert_eq!(tasks.lines().count(), 2);
    assert!(lost.iter().all(|id| tasks.contains(id.as_str())));
    wait_for(&ids, &store);
    assert_eq!(summaries(&store), reference, "{}", logs(&store));

    // All done: nothing is queued, no new submission folder.
    let (out, ids) = submit(&file, &store, &[]);
    assert!(out.contains("0 missing: nothing to submit"), "{out}");
    assert!(ids.is_empty());
    assert_eq!(submissions(&store), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn a_small_max_array_size_splits_the_array_with_offsets() {
    require_slurm();
    let (dir, file, local) = setup("slurm-split");
    let reference = summaries(&local);

    // 10 runs, at most 4 array indices per job: 3 jobs (4 + 4 + 2 tasks).
    let store = dir.join("split");
    let (out, ids) = submit(&file, &store, &["--max-array-size", "4"]);
    assert_eq!(ids.len(), 3, "{out}");
    assert!(out.contains("offset 8, tasks 0-1"), "{out}");
    let last =
        std::fs::read_to_string(store.join("slurm/slurm-test-001/array-002.sbatch")).unwrap();
    assert!(
        last.contains("#SBATCH --array=0-1") && last.contains("--offset 8"),
        "{last}"
    );
    wait_for(&ids, &store);
    assert_eq!(summaries(&store), reference, "{}", logs(&store));

    // Several runs per task: 10 runs, 3 per task = 4 tasks, 2 per job = 2 jobs.
    let store = dir.join("packed");
    let (out, ids) = submit(
        &file,
        &store,
        &["--max-array-size", "2", "--runs-per-task", "3"],
    );
    assert_eq!(ids.len(), 2, "{out}");
    wait_for(&ids, &store);
    assert_eq!(summaries(&store), reference, "{}", logs(&store));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dry_run_writes_scripts_with_absolute_paths_and_submits_nothing() {
    // Needs no cluster: --dry-run and --max-array-size never call SLURM.
    let dir = temp_dir("slurm-dry");
    let file = dir.join("sweep.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let store = dir.join("store");
    let (code, out, err) = sgdnoise(&[
        "sweep",
        "slurm",
        file.to_str().unwrap(),
        "--out",
        store.to_str().unwrap(),
        "--dry-run",
        "--max-array-size",
        "6",
        "--partition",
        "cpu",
        "--mem",
        "2G",
        "--extra-sbatch=--qos=short",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("not submitted"), "{out}");
    assert!(!store.join("slurm/submissions.jsonl").exists());
    let script =
        std::fs::read_to_string(store.join("slurm/slurm-test-001/array-001.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=0-3",
        "#SBATCH --partition=cpu",
        "#SBATCH --mem=2G",
        "#SBATCH --qos=short",
        "--offset 6",
    ] {
        assert!(script.contains(line), "{line} missing:\n{script}");
    }
    let exec = script.lines().find(|l| l.starts_with("exec ")).unwrap();
    for path in exec
        .split('\'')
        .skip(1)
        .step_by(2)
        .filter(|p| p.contains('/'))
    {
        assert!(Path::new(path).is_absolute(), "{path} in {exec}");
    }
    // A task of the frozen list runs outside SLURM too (index given by hand).
    let tasks = store.join("slurm/slurm-test-001/tasks.jsonl");
    let (code, out, err) = sgdnoise(&[
        "sweep",
        "task",
        file.to_str().unwrap(),
        "--out",
        store.to_str().unwrap(),
        "--tasks",
        tasks.to_str().unwrap(),
        "--offset",
        "6",
        "--index",
        "3",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("done "), "{out}");
    assert_eq!(summaries(&store).len(), 1);
    let (code, _, err) = sgdnoise(&[
        "sweep",
        "task",
        file.to_str().unwrap(),
        "--out",
        store.to_str().unwrap(),
        "--tasks",
        tasks.to_str().unwrap(),
        "--offset",
        "6",
        "--index",
        "4",
    ]);
    assert_ne!(code, 0);
    assert!(err.contains("past the 10 tasks (10 runs)"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Perceptron runs with the MSE loss, which never reaches zero: each stops at its wall-clock
/// cap, so it lasts `max_wall` seconds on any machine. One run per seed 0..runs-1.
fn capped_sweep(name: &str, runs: usize, max_wall: f64) -> String {
    format!(
        r#"
name = "{name}"
[fixed]
dim = 16
batch = 2
alpha = 1
loss = "mse"
ptr = 256
pte = 256
temp = 0.01
max_wall = {max_wall:?}
[axes]
seed_init = {{ range = [0, {}] }}
"#,
        runs - 1
    )
}

/// A fresh folder with `text` as its sweep file.
fn sweep_dir(name: &str, text: &str) -> (TempDir, PathBuf) {
    let dir = temp_dir(name);
    let file = dir.join("sweep.toml");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

fn scontrol_job(id: &str) -> String {
    let out = Command::new("scontrol")
        .args(["show", "job", id])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn status_json(file: &Path, store: &Path) -> Value {
    let (code, out, err) = sgdnoise(&[
        "sweep",
        "status",
        file.to_str().unwrap(),
        "--out",
        store.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    serde_json::from_str(&out).unwrap()
}

fn mtime(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().modified().unwrap()
}

fn slots(tasks_file: &Path) -> Vec<u64> {
    std::fs::read_to_string(tasks_file)
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["slot"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn runs_are_packed_to_the_task_time_and_each_array_gets_the_limit_its_tasks_need() {
    require_slurm();
    // 6 runs capped at 1 s: each costs its bound, 1.02 s + 10 s of overhead, so a 30 s target
    // takes 2 per task; a task's limit is 2 x 11.02 s + 60 s of slack, rounded up: 00:02:00.
    let (dir, file) = sweep_dir("slurm-packing", &capped_sweep("packing", 6, 1.0));
    let store = dir.join("store");
    let (out, ids) = submit(
        &file,
        &store,
        &["--task-time", "00:00:30", "--max-array-size", "2"],
    );
    assert!(
        out.contains("6 queued in 3 array tasks of 2 runs each") && out.contains("6 max_wall"),
        "{out}"
    );
    assert_eq!(ids.len(), 2, "3 tasks, at most 2 per array: {out}");
    let sub = store.join("slurm/packing-001");
    assert_eq!(slots(&sub.join("tasks.jsonl")), vec![0, 0, 1, 1, 2, 2]);
    let first = std::fs::read_to_string(sub.join("array-000.sbatch")).unwrap();
    let second = std::fs::read_to_string(sub.join("array-001.sbatch")).unwrap();
    assert!(first.contains("#SBATCH --array=0-1\n"), "{first}");
    assert!(second.contains("#SBATCH --array=0-0\n"), "{second}");
    for script in [&first, &second] {
        assert!(script.contains("#SBATCH --time=00:02:00\n"), "{script}");
    }
    // The scheduler took the computed limit (its record lives MinJobAge after the end).
    let job = scontrol_job(&ids[0]);
    assert!(job.contains("TimeLimit=00:02:00"), "{job}");
    wait_for(&ids, &store);
    assert_eq!(summaries(&store).len(), 6, "{}", logs(&store));
    // Each task ran its two runs one after the other.
    let log = logs(&store);
    for task in ["_0.out", "_1.out"] {
        let text = std::fs::read_dir(sub.join("logs"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.to_string_lossy().ends_with(task) && p.to_string_lossy().contains(&ids[0])
            })
            .map(|p| std::fs::read_to_string(p).unwrap())
            .next()
            .unwrap_or_else(|| panic!("no log of task {task}:\n{log}"));
        assert_eq!(text.matches("done ").count(), 2, "{text}");
    }
}

#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn max_running_is_in_the_script_and_the_scheduler_runs_no_more_tasks_at_once() {
    require_slurm();
    // 4 runs of 2 s, one per task, at most one at a time, in two arrays of two tasks: the
    // second array waits for the first, so the throttle holds across arrays.
    let (dir, file) = sweep_dir("slurm-throttle", &capped_sweep("throttle", 4, 2.0));
    let store = dir.join("store");
    let (out, ids) = submit(
        &file,
        &store,
        &[
            "--max-running",
            "1",
            "--runs-per-task",
            "1",
            "--max-array-size",
            "2",
        ],
    );
    assert_eq!(ids.len(), 2, "{out}");
    let sub = store.join("slurm/throttle-001");
    for s in ["array-000.sbatch", "array-001.sbatch"] {
        let script = std::fs::read_to_string(sub.join(s)).unwrap();
        assert!(script.contains("#SBATCH --array=0-1%1\n"), "{script}");
    }
    let records = std::fs::read_to_string(store.join("slurm/submissions.jsonl")).unwrap();
    let second: Value = serde_json::from_str(records.lines().nth(1).unwrap()).unwrap();
    assert_eq!(
        second["dependency"],
        format!("afterany:{}", ids[0]),
        "{records}"
    );
    let job = scontrol_job(&ids[0]);
    assert!(job.contains("ArrayTaskThrottle=1"), "{job}");
    // Submitting again while they wait queues nothing: every missing run is held by a task.
    let (out, again) = submit(&file, &store, &[]);
    assert!(
        again.is_empty() && out.contains("nothing to submit"),
        "{out}"
    );
    assert_eq!(submissions(&store), 1);

    // While they run, `sweep status` sees the scheduler's counts, never two running at once.
    let (mut polls, mut saw_pending) = (0, false);
    let t0 = Instant::now();
    loop {
        let st = status_json(&file, &store);
        let q = &st["slurm"];
        assert!(q.is_object(), "squeue answers: {st}");
        let running = q["running_tasks"].as_u64().unwrap();
        let pending = q["pending_tasks"].as_u64().unwrap();
        assert!(running <= 1, "the throttle holds: {st}");
        // Each task holds one run, unfinished while it is queued.
        assert!(q["pending_runs"].as_u64().unwrap() <= pending, "{st}");
        saw_pending |= pending > 0;
        polls += 1;
        if q["jobs"].as_array().unwrap().is_empty() {
            assert_eq!(q["ended_jobs"], 2, "{st}");
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "{st}\n{}",
            logs(&store)
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(saw_pending && polls > 1, "4 tasks one at a time: some wait");
    wait_for(&ids, &store);
    assert_eq!(summaries(&store).len(), 4, "{}", logs(&store));

    // From the files: no two runs overlapped in time (config.json is written at the start,
    // summary.json at the end).
    let mut spans: Vec<_> = std::fs::read_dir(store.join("runs"))
        .unwrap()
        .map(|e| {
            let d = e.unwrap().path();
            (
                mtime(&d.join("config.json")),
                mtime(&d.join("summary.json")),
            )
        })
        .collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[0].1 <= w[1].0, "runs overlapped: {spans:?}");
    }
}

#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn a_task_killed_at_its_time_limit_leaves_its_run_partial_and_a_resubmission_finishes_it() {
    require_slurm();
    // 16 runs of 7 s in one task with a one-minute limit: SLURM ends it 60-90 s after the start
    // (its controller checks limits every 30 s), well before the 112 s the runs need.
    let (dir, file) = sweep_dir("slurm-timelimit", &capped_sweep("timelimit", 16, 7.0));
    let store = dir.join("store");
    let (code, out, err) = sgdnoise(&[
        "sweep",
        "slurm",
        file.to_str().unwrap(),
        "--out",
        store.to_str().unwrap(),
        "--runs-per-task",
        "16",
        "--time",
        "1",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.contains("the time limit 00:01:00 is shorter than"),
        "a warning says the limit is short: {err}"
    );
    let ids = job_ids(&out);
    let script =
        std::fs::read_to_string(store.join("slurm/timelimit-001/array-000.sbatch")).unwrap();
    assert!(script.contains("#SBATCH --time=1\n"), "{script}");
    wait_for(&ids, &store);

    let log = logs(&store);
    assert!(
        log.contains("DUE TO TIME LIMIT"),
        "SLURM ended it at its limit:\n{log}"
    );
    let interrupted: String = log
        .lines()
        .find_map(|l| l.strip_prefix("interrupted "))
        .and_then(|r| r.split(':').next())
        .unwrap_or_else(|| panic!("the task caught SIGTERM and stopped its run:\n{log}"))
        .to_string();
    assert!(log.contains("interrupted by signal 15"), "{log}");
    let before = summaries(&store);
    assert!(
        !before.is_empty() && before.len() < 16,
        "some runs finished before the limit, not all: {}\n{log}",
        before.len()
    );
    assert!(!before.contains_key(&interrupted));
    // The stopped run is partial: never a summary, half-written or not, and its lock is gone.
    let run = store.join("runs").join(&interrupted);
    if run.exists() {
        let names: Vec<String> = std::fs::read_dir(&run)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(!names.iter().any(|n| n.contains("summary")), "{names:?}");
    }
    let locks: Vec<_> = std::fs::read_dir(store.join("locks"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(locks.is_empty(), "locks left behind: {locks:?}");
    let st = status_json(&file, &store);
    assert_eq!(st["done"], before.len(), "{st}");
    assert_eq!(st["running"].as_array().unwrap().len(), 0, "{st}");
    let kept: Vec<(String, Vec<u8>)> = before
        .keys()
        .map(|id| {
            let p = store.join("runs").join(id).join("summary.json");
            (id.clone(), std::fs::read(p).unwrap())
        })
        .collect();

    // Resubmitted without a given limit: the missing and the partial runs are queued, sized by
    // the durations the store measured, each in a task of its own (17 s > 10 s target).
    let (out, ids) = submit(&file, &store, &["--task-time", "00:00:10"]);
    let missing = 16 - before.len();
    assert!(out.contains(&format!("{missing} queued")), "{out}");
    assert!(out.contains("measured in the store"), "{out}");
    let tasks = std::fs::read_to_string(store.join("slurm/timelimit-002/tasks.jsonl")).unwrap();
    assert!(tasks.contains(&interrupted), "{tasks}");
    wait_for(&ids, &store);
    let after = summaries(&store);
    assert_eq!(after.len(), 16, "{}", logs(&store));
    assert_eq!(after[&interrupted]["stop_reason"], "max_wall");
    // Nothing lost or rewritten: the summaries of the first round are byte for byte the same.
    for (id, bytes) in &kept {
        let now = std::fs::read(store.join("runs").join(id).join("summary.json")).unwrap();
        assert!(&now == bytes, "summary of {id} was rewritten");
    }
    // The resumed run started over: its checkpoints hold one start record, not two attempts.
    let records = std::fs::read_to_string(
        store
            .join("runs")
            .join(&interrupted)
            .join("checkpoints.jsonl"),
    )
    .unwrap();
    let starts = records
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["step"] == 0)
        .count();
    assert_eq!(starts, 1, "{records}");
}

#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn the_follow_up_job_analyses_the_store_after_the_arrays() {
    require_slurm();
    let (dir, file) = sweep_dir("slurm-analysis", SWEEP);
    let store = dir.join("store");
    let (out, mut ids) = submit(&file, &store, &["--analyze", "--max-array-size", "4"]);
    assert_eq!(ids.len(), 3, "{out}");
    let analysis = out
        .lines()
        .find_map(|l| l.strip_prefix("submitted analysis job "))
        .and_then(|r| r.split(' ').next())
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    let records = std::fs::read_to_string(store.join("slurm/submissions.jsonl")).unwrap();
    let last: Value = serde_json::from_str(records.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "analysis");
    assert_eq!(last["dependency"], format!("afterany:{}", ids.join(":")));
    ids.push(analysis);
    wait_for(&ids, &store);

    let runs = summaries(&store);
    assert_eq!(runs.len(), 10, "{}", logs(&store));
    let report = store.join("analysis/report.md");
    assert!(report.exists(), "{}", logs(&store));
    for id in runs.keys() {
        let s = store.join("runs").join(id).join("summary.json");
        assert!(
            mtime(&s) <= mtime(&report),
            "the analysis ran after run {id}"
        );
    }
    let log = logs(&store);
    assert!(
        log.contains("10 done, 0 failed") && log.contains("perceptron analysis"),
        "the job printed the sweep's status, then analysed it:\n{log}"
    );
}

/// `sweep slurm --dry-run` with `extra`: exit code, stdout, stderr.
fn dry_run(file: &Path, store: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "sweep",
        "slurm",
        file.to_str().unwrap(),
        "--out",
        store.to_str().unwrap(),
        "--dry-run",
    ];
    args.extend_from_slice(extra);
    sgdnoise(&args)
}

/// The `#SBATCH --time` of each array script of submission `sub`, in order.
fn time_lines(sub: &Path) -> Vec<String> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(sub)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("array-")
        })
        .collect();
    scripts.sort();
    scripts
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("#SBATCH --time="))
                .unwrap_or("none")
                .to_string()
        })
        .collect()
}

#[test]
fn dry_run_sizing_gives_each_array_the_limit_of_its_longest_task() {
    // Needs no cluster. 4 runs capped at 30 s, then 4 at 3000 s (max_wall varies slowest).
    // With a 2-minute target: the short ones 2 per task (2 x 40.6 s), the long ones alone.
    let text =
        capped_sweep("sizing", 4, 30.0).replace("[axes]\n", "[axes]\nmax_wall = [30.0, 3000.0]\n");
    let (dir, file) = sweep_dir("slurm-sizing", &text);
    let store = dir.join("store");
    let (code, out, err) = dry_run(
        &file,
        &store,
        &["--task-time", "2:00", "--max-array-size", "2"],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("8 queued in 6 array tasks of 1-2 runs"),
        "{out}"
    );
    assert_eq!(
        slots(&store.join("slurm/sizing-001/tasks.jsonl")),
        vec![0, 0, 1, 1, 2, 3, 4, 5]
    );
    // 2 x (30 x 1.02 + 10) + 60 = 141.2 s -> 3 minutes; 3000 x 1.02 + 10 + 60 = 3130 s -> 53.
    assert_eq!(
        time_lines(&store.join("slurm/sizing-001")),
        vec!["00:03:00", "00:53:00", "00:53:00"]
    );
    assert!(err.is_empty(), "no warning: {err}");

    // A given limit overrides them all, and says which arrays it cuts short.
    let (code, out, err) = dry_run(
        &file,
        &store,
        &[
            "--task-time",
            "2:00",
            "--max-array-size",
            "2",
            "--time",
            "00:10:00",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        time_lines(&store.join("slurm/sizing-002")),
        vec!["00:10:00"; 3]
    );
    assert!(
        !err.contains("array-000")
            && err
                .contains("array-001.sbatch: the time limit 00:10:00 is shorter than the 00:53:00"),
        "{err}"
    );

    // Fixed runs per task: the limit grows with what a task holds (4 long runs: 4 x 3070 + 60 s = 12 340 s, 206 minutes).
    let (code, out, err) = dry_run(&file, &store, &["--runs-per-task", "4"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        time_lines(&store.join("slurm/sizing-003")),
        vec!["03:26:00"]
    );
}

#[test]
fn run_seconds_and_the_margin_size_runs_without_caps_and_measured_durations_replace_them() {
    // Needs no cluster. SWEEP without its [slurm] table: runs without caps.
    let text = SWEEP.split("[slurm]").next().unwrap();
    let (dir, file) = sweep_dir("slurm-prior", text);
    let store = dir.join("store");
    let (code, out, err) = dry_run(&file, &store, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("10 array tasks of 1 run each") && out.contains("10 unknown"),
        "{out}"
    );
    assert_eq!(
        time_lines(&store.join("slurm/slurm-test-001")),
        vec!["none"]
    );
    assert!(err.contains("10 run(s) of unknown cost"), "{err}");

    // A prior of 50 s: 60 s with the overhead, 2 per 2-minute task, 2 x 60 x 1.5 + 60 = 240 s.
    let (code, out, err) = dry_run(&file, &store, &["--run-seconds", "50", "--task-time", "2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("5 array tasks of 2 runs each") && out.contains("10 run_seconds"),
        "{out}"
    );
    assert_eq!(
        time_lines(&store.join("slurm/slurm-test-002")),
        vec!["00:04:00"]
    );
    let (code, out, err) = dry_run(
        &file,
        &store,
        &[
            "--run-seconds",
            "50",
            "--task-time",
            "2",
            "--time-margin",
            "2",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        time_lines(&store.join("slurm/slurm-test-003")),
        vec!["00:05:00"]
    );

    // Run it, lose 4 results: their settings but seeds were measured, so the prior yields.
    let (code, out, err) = sgdnoise(&[
        "sweep",
        "run",
        file.to_str().unwrap(),
        "--out",
        store.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let mut ids: Vec<String> = summaries(&store).into_keys().collect();
    ids.truncate(4);
    for id in &ids {
        std::fs::remove_dir_all(store.join("runs").join(id)).unwrap();
    }
    let (code, out, err) = dry_run(&file, &store, &["--run-seconds", "50", "--task-time", "2"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("4 queued in 1 array tasks of 4 runs each")
            && out.contains("4 measured in the store"),
        "{out}"
    );
}

#[test]
fn bad_slurm_settings_are_refused_naming_the_flag_or_the_field() {
    // Needs no cluster: nothing is written, nothing submitted, exit code 2.
    let (dir, file) = sweep_dir("slurm-bad", SWEEP);
    let store = dir.join("store");
    for (flag, value, says) in [
        ("--task-time", "1h", "--task-time: `1h` is not a SLURM time"),
        ("--task-time", "0", "--task-time: must be longer than zero"),
        ("--time", "soon", "--time: `soon` is not a SLURM time"),
        (
            "--time-margin",
            "0.5",
            "--time-margin: 0.5: must be a number from 1 to 100",
        ),
        (
            "--run-seconds",
            "-3",
            "--run-seconds: -3: must be a number of seconds",
        ),
        ("--max-running", "0", "--max-running: must be at least 1"),
        ("--analysis-time", "1:2:3:4", "--analysis-time: `1:2:3:4`"),
    ] {
        let (code, out, err) = dry_run(&file, &store, &[flag, value]);
        assert_eq!(code, 2, "{flag} {value}: {out}{err}");
        assert!(err.contains(says), "{flag} {value}: {err}");
    }
    assert!(!store.exists(), "nothing is written for bad input");
    for (line, says) in [
        ("time_margin = 0.5", "[slurm].time_margin: 0.5"),
        ("task_time = \"an hour\"", "[slurm].task_time: `an hour`"),
        ("preamble = 3", "preamble"),
        ("preamble = [\"a\\nb\"]", "[slurm].preamble"),
        ("max_runing = 3", "max_runing"),
    ] {
        let text = format!(
            "{}[slurm]\n{line}\n",
            SWEEP.split("[slurm]").next().unwrap()
        );
        std::fs::write(&file, text).unwrap();
        let (code, out, err) = dry_run(&file, &store, &[]);
        assert_eq!(code, 2, "{line}: {out}{err}");
        assert!(err.contains(says), "{line}: {err}");
    }
}

#[test]
fn the_preamble_comes_from_the_sweep_file_or_the_flag() {
    // Needs no cluster.
    let text = format!(
        "{}\npreamble = \"\"\"\nmodule load gcc/12\nsource $HOME/venv/bin/activate\n\"\"\"\n",
        SWEEP.trim_end()
    );
    let (dir, file) = sweep_dir("slurm-preamble", &text);
    let store = dir.join("store");
    let (code, out, err) = dry_run(&file, &store, &["--analyze"]);
    assert_eq!(code, 0, "{out}{err}");
    for script in ["array-000.sbatch", "analysis.sbatch"] {
        let s = std::fs::read_to_string(store.join("slurm/slurm-test-001").join(script)).unwrap();
        let at = s.find("module load gcc/12\nsource $HOME/venv/bin/activate\n");
        let exec = s.find("exec ");
        assert!(at.is_some() && at < exec, "{script}:\n{s}");
    }
    assert!(out.contains("analysis.sbatch (analysis into"), "{out}");
    let (code, out, err) = dry_run(
        &file,
        &store,
        &[
            "--preamble",
            "export OMP_NUM_THREADS=1",
            "--preamble",
            "ulimit -c 0",
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    let s = std::fs::read_to_string(store.join("slurm/slurm-test-002/array-000.sbatch")).unwrap();
    let at = s.find("export OMP_NUM_THREADS=1\nulimit -c 0\n");
    assert!(at.is_some() && at < s.find("exec "), "{s}");
    assert!(
        !s.contains("module load"),
        "the flag replaces the file's preamble:\n{s}"
    );
}
