//! `sgdnoise sweep slurm` against a real SLURM cluster (ci/slurm-local.sh). Ignored unless
//! enabled; an enabled test fails if the cluster does not answer `scontrol ping`:
//!
//!   bash ci/slurm-local.sh install && bash ci/slurm-local.sh start
//!   eval "$(bash ci/slurm-local.sh env)"
//!   cargo test --release -p sgdnoise-cli --test it slurm -- --include-ignored
//!   bash ci/slurm-local.sh stop

use crate::util::{require_slurm, sgdnoise, summaries, temp_dir, TempDir};
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
    assert!(err.contains("past the 10 runs"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
