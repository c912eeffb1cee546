//! The store's promise under hostile conditions (issue 15): a full disk, stray locks, runs that
//! cannot finish, a `--out` or `--output` over results, copied and damaged run folders, `temp`
//! with `lr`, and presets whose data is missing. Each test is named after the defect it pins.

use crate::util::{repo_file, sgdnoise, summaries, temp_dir, tiny_mnist};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Four perceptron runs of a few milliseconds each.
const SMALL: &str = "[fixed]\ndim = 8\nbatch = 2\nalpha = 32768\nptr = 32\npte = 64\n\
                     [axes]\ntemp = [0.25, 1.0]\nseed_init = [0, 1]\n";

fn small_sweep(dir: &Path) -> String {
    let f = dir.join("small.toml");
    std::fs::write(&f, SMALL).unwrap();
    f.display().to_string()
}

fn ids(file: &str) -> Vec<String> {
    let (code, out, err) = sgdnoise(&["sweep", "plan", file, "--ids"]);
    assert_eq!(code, 0, "{err}");
    out.lines().map(String::from).collect()
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// Mounts a tmpfs of `size` at `dir` (created); None where mounting is not permitted.
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }
    fn resize(&self, size: &str) {
        let o = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.0)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
    }
}

/// Regression (issue 15, item 2): on a full disk, lock attempts left zero-byte files in
/// `locks/`, and once space was back `sweep run` skipped those runs as "busy elsewhere" and
/// exited 0 while `sweep status` called them missing; a run whose folder could not be written
/// could also be recorded as failed and skipped from then on. Now the sweep stops with exit 1
/// saying why, leaves no lock and no failure record, and finishes once space returns.
///
/// Needs a small filesystem: a tmpfs, mounted here. Where mounting is not permitted (not root,
/// no mount namespace), the test says so and checks nothing.
#[test]
fn a_full_disk_leaves_no_lock_nor_failure_and_the_sweep_finishes_once_space_returns() {
    let dir = temp_dir("enospc");
    let Some(fs) = Tmpfs::mount(&dir.join("disk"), "400k") else {
        eprintln!("skipped: mounting a tmpfs is not permitted here (needs root)");
        return;
    };
    let store = dir.join("disk/store");
    let store = store.to_str().unwrap();
    let file = repo_file("examples", "perceptron-sweep.toml");
    let file = file.to_str().unwrap();
    let (code, out, err) = sgdnoise(&["sweep", "run", file, "--out", store, "--workers", "2"]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(
        err.contains("nothing was recorded as failed")
            && err.contains("run the same command again"),
        "{err}"
    );
    let done = summaries(Path::new(store)).len();
    assert!(done < 160, "the disk was not full: {done} runs done");
    let locks = files_under(&Path::new(store).join("locks"));
    assert!(locks.is_empty(), "left in locks/: {locks:?}");
    let failed: Vec<PathBuf> = files_under(Path::new(store))
        .into_iter()
        .filter(|p| p.ends_with("failed.json"))
        .collect();
    assert!(
        failed.is_empty(),
        "a full disk is not a run's failure: {failed:?}"
    );
    let (code, out, _) = sgdnoise(&["sweep", "status", file, "--out", store]);
    assert_eq!(code, 0);
    assert!(
        out.contains(&format!("{done} done, 0 failed, 0 running")),
        "{out}"
    );

    fs.resize("50M");
    let (code, out, err) = sgdnoise(&["sweep", "run", file, "--out", store, "--workers", "2"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains(&format!(
            "160 of 160 runs done ({} ran now, {done} before)",
            160 - done
        )),
        "{out}"
    );
    assert!(out.contains("0 busy elsewhere"), "{out}");
    assert_eq!(summaries(Path::new(store)).len(), 160);
    assert!(files_under(&Path::new(store).join("locks")).is_empty());
}

/// Regression (issue 15, item 2): an empty lock counted as a live executor's, and a sweep that
/// ended with runs not done (held elsewhere, failed before) exited 0. An empty lock is broken;
/// a live holder's is respected, and the sweep then exits 1 saying what is not done and why.
#[test]
fn an_empty_lock_is_not_busy_and_a_sweep_with_runs_not_done_exits_1() {
    let dir = temp_dir("notdone");
    let file = small_sweep(&dir);
    let ids = ids(&file);
    let store = dir.join("store");
    let s = store.to_str().unwrap();
    std::fs::create_dir_all(store.join("locks")).unwrap();
    std::fs::write(store.join("locks").join(format!("{}.lock", ids[0])), "").unwrap();
    let (code, out, err) = sgdnoise(&["sweep", "run", &file, "--out", s]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("4 of 4 runs done"), "{out}");

    // A lock held by a live process of this host (this test): that run is not done.
    let store = dir.join("store2");
    let s = store.to_str().unwrap();
    std::fs::create_dir_all(store.join("locks")).unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into());
    let holder = serde_json::json!({
        "host": host, "pid": std::process::id(), "start_ticks": null, "since": 0
    });
    std::fs::write(
        store.join("locks").join(format!("{}.lock", ids[1])),
        holder.to_string(),
    )
    .unwrap();
    // And a run that failed before.
    std::fs::create_dir_all(store.join("runs").join(&ids[2])).unwrap();
    let record = serde_json::json!({
        "id": ids[2], "error": "panicked: by hand", "host": host, "pid": 1, "time": 0,
        "crate_version": "test"
    });
    std::fs::write(
        store.join("runs").join(&ids[2]).join("failed.json"),
        record.to_string(),
    )
    .unwrap();
    let (code, out, err) = sgdnoise(&["sweep", "run", &file, "--out", s]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(err.contains("2 of 4 runs not done"), "{err}");
    assert!(err.contains("1 are held by another live executor"), "{err}");
    assert!(
        err.contains("1 failed before") && err.contains("--retry-failed"),
        "{err}"
    );
    let (_, out, _) = sgdnoise(&["sweep", "status", &file, "--out", s]);
    assert!(out.contains("2 done, 1 failed, 1 running"), "{out}");
    std::fs::remove_file(store.join("locks").join(format!("{}.lock", ids[1]))).unwrap();
    let (code, out, err) = sgdnoise(&["sweep", "run", &file, "--out", s, "--retry-failed"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("4 of 4 runs done"), "{out}");
    assert!(!store
        .join("runs")
        .join(&ids[2])
        .join("failed.json")
        .exists());
}

/// Regression (issue 15, item 3): `run --out DIR` silently replaced a finished run of other
/// settings in DIR. It is refused (exit 2) unless --force, which moves the old folder aside;
/// the same run again is not rerun but shown.
#[test]
fn run_out_over_another_finished_run_is_refused_and_force_moves_it_aside() {
    let dir = temp_dir("runout");
    let out = dir.sub("run");
    let run = |temp: &str, extra: &[&str]| {
        let mut args = vec![
            "run", "--dim", "8", "--ptr", "64", "--pte", "64", "--temp", temp, "--quiet", "--out",
            &out,
        ];
        args.extend_from_slice(extra);
        sgdnoise(&args)
    };
    let (code, _, err) = run("1", &[]);
    assert_eq!(code, 0, "{err}");
    let first = std::fs::read(dir.join("run/summary.json")).unwrap();
    let (code, text, err) = run("1", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("already finished"), "{text}");
    assert_eq!(std::fs::read(dir.join("run/summary.json")).unwrap(), first);

    let (code, _, err) = run("2", &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--out") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(dir.join("run/summary.json")).unwrap(), first);

    let (code, _, err) = run("2", &["--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("aside"), "{err}");
    assert_eq!(
        std::fs::read(dir.join("run.aside-1/summary.json")).unwrap(),
        first
    );
    let now = std::fs::read_to_string(dir.join("run/summary.json")).unwrap();
    assert!(now.contains("\"temp\": 2.0"), "{now}");
    // A summary that cannot be read is a result nobody can vouch for: refused too.
    std::fs::write(dir.join("run/summary.json"), "{\"id\": ").unwrap();
    let (code, _, err) = run("2", &[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("run/summary.json")).unwrap(),
        "{\"id\": "
    );
}

/// Regression (issue 15, item 3): `collect STORE --output STORE/runs/<id>/summary.json`
/// overwrote a summary with CSV. A table inside the store's runs/, locks/ or slurm/, over a
/// store file that is not CSV, or onto a folder, is refused with exit 2 and nothing is written.
#[test]
fn collect_refuses_to_write_inside_a_run_folder_or_over_a_store_file() {
    let dir = temp_dir("collectout");
    let file = small_sweep(&dir);
    let store = dir.join("store");
    let s = store.to_str().unwrap();
    let (code, _, err) = sgdnoise(&["sweep", "run", &file, "--out", s, "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let id = &ids(&file)[0];
    let summary = store.join("runs").join(id).join("summary.json");
    let before = std::fs::read(&summary).unwrap();
    std::fs::write(store.join("notes.md"), "mine").unwrap();
    std::os::unix::fs::symlink(&summary, dir.join("link.csv")).unwrap();
    let bad = [
        summary.display().to_string(),
        store
            .join("runs")
            .join(id)
            .join("table.csv")
            .display()
            .to_string(),
        store.join("locks/table.csv").display().to_string(),
        store.join("notes.md").display().to_string(),
        store.join("runs").display().to_string(),
        dir.sub("link.csv"),
    ];
    for output in &bad {
        let (code, _, err) = sgdnoise(&["collect", s, "--output", output]);
        assert_eq!(code, 2, "{output}: {err}");
        assert!(err.contains("--output"), "{err}");
    }
    assert_eq!(std::fs::read(&summary).unwrap(), before);
    assert_eq!(
        std::fs::read_to_string(store.join("notes.md")).unwrap(),
        "mine"
    );
    assert!(!store.join("runs").join(id).join("table.csv").exists());
    // Beside the runs, or over an earlier table, is fine.
    for output in [store.join("table.csv"), store.join("table.csv")] {
        let (code, out, err) = sgdnoise(&["collect", s, "--output", output.to_str().unwrap()]);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("4 finished runs"), "{out}");
    }
}

/// Regression (issue 15, item 5): `collect` listed an id twice when a run folder was copied
/// (`runs/<id>.bak`) or a summary sat in another run's folder, and skipped truncated summaries
/// without a word. Every row's id is unique and names its folder; what is left out is reported
/// on stderr with counts and paths (exit 0, after a warning line).
#[test]
fn collect_lists_each_id_once_and_reports_copies_mislabelled_and_truncated_summaries() {
    let dir = temp_dir("collectskip");
    let file = small_sweep(&dir);
    let store = dir.join("store");
    let s = store.to_str().unwrap();
    let (code, _, err) = sgdnoise(&["sweep", "run", &file, "--out", s, "--quiet"]);
    assert_eq!(code, 0, "{err}");
    let ids = ids(&file);
    let runs = store.join("runs");
    let o = Command::new("cp")
        .arg("-a")
        .arg(runs.join(&ids[0]))
        .arg(runs.join(format!("{}.bak", ids[0])))
        .output()
        .unwrap();
    assert!(o.status.success());
    std::fs::copy(
        runs.join(&ids[2]).join("summary.json"),
        runs.join(&ids[1]).join("summary.json"),
    )
    .unwrap();
    let text = std::fs::read(runs.join(&ids[3]).join("summary.json")).unwrap();
    std::fs::write(
        runs.join(&ids[3]).join("summary.json"),
        &text[..text.len() / 2],
    )
    .unwrap();

    let table = dir.join("table.csv");
    let (code, out, err) = sgdnoise(&["collect", s, "--output", table.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("2 finished runs"), "{out}");
    assert!(err.contains("warning: 3 entries"), "{err}");
    assert!(err.contains("2 copies or folders set aside"), "{err}");
    assert!(
        err.contains(&format!("{}.bak: summary of run {}", ids[0], ids[0])),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: summary of run {}", ids[1], ids[2])),
        "{err}"
    );
    assert!(err.contains("1 corrupt or truncated"), "{err}");
    assert!(err.contains(&format!("{}/summary.json", ids[3])), "{err}");
    let mut reader = csv::Reader::from_path(&table).unwrap();
    let rows: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    let mut expected = vec![ids[0].clone(), ids[2].clone()];
    expected.sort();
    assert_eq!(rows, expected, "each id once, in its own folder");
}

/// Regression (issue 15, item 6): with `temp` and `lr` both given in a sweep file one of them
/// was silently dropped and combinations ran with other values than their labels. Every form
/// is refused with exit 2, naming both.
#[test]
fn sweep_plan_refuses_temp_and_lr_together_naming_both() {
    let dir = temp_dir("templr");
    let f = dir.join("s.toml");
    for body in [
        "[fixed]\nbatch = 2\n[axes]\ntemp = [1.0, 2.0]\nlr = [2.0, 3.0]\n",
        "[fixed]\nbatch = 2\nlr = 2.0\n[axes]\ntemp = [1.0, 2.0]\n",
        "[fixed]\nbatch = 2\ntemp = 2.0\n[[zip]]\nlr = [1.0, 2.0]\nptr = [16, 32]\n",
        "[fixed]\nbatch = 2\n[axes]\ntemp = [1.0]\n[[part]]\nlr = [2.0]\n",
        "[fixed]\nbatch = 2\ntemp = 1.0\nlr = 2.0\n",
    ] {
        std::fs::write(&f, body).unwrap();
        let (code, out, err) = sgdnoise(&["sweep", "plan", f.to_str().unwrap()]);
        assert_eq!(code, 2, "{body}: {out}{err}");
        assert!(
            err.contains("`temp`") && err.contains("`lr`"),
            "{body}: {err}"
        );
    }
}

/// Regression (issue 15, item 10): `reproduce` with its data missing printed the same error for
/// each run, exited 0, wrote an empty report and recorded every run as failed, so that each
/// rerun said "0 ran, 0 failed". The data is checked first (exit 2, one message naming the set
/// and how to get it, nothing written); runs that do fail make it exit 1, and --retry-failed
/// runs them again.
#[test]
fn reproduce_with_missing_data_exits_2_first_and_caches_nothing() {
    let dir = temp_dir("reprodata");
    let out = dir.sub("out");
    let data = dir.join("data");
    let (code, _, err) = sgdnoise(&[
        "reproduce",
        "fc-mnist",
        "--out",
        &out,
        "--data-dir",
        data.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.matches("files not found").count(), 1, "{err}");
    for hint in [
        "MNIST",
        "sgdnoise data fetch mnist",
        "scripts/get-data.sh",
        "--data-dir",
    ] {
        assert!(err.contains(hint), "{hint}: {err}");
    }
    assert!(
        !Path::new(&out).join("report.md").exists(),
        "no empty report"
    );
    assert!(
        !Path::new(&out).join("store/runs").exists(),
        "nothing was planned into the store"
    );

    // Data that is there but too small for the preset: each run fails by itself (recorded).
    tiny_mnist(&data);
    let args = [
        "reproduce",
        "fc-mnist",
        "--out",
        &out,
        "--data-dir",
        data.to_str().unwrap(),
        "--quiet",
    ];
    let (code, _, err) = sgdnoise(&args);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("250 failed now"), "{err}");
    assert!(err.contains("250 of 250 runs not done"), "{err}");
    let (code, _, err) = sgdnoise(&args);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("250 failed before") && err.contains("--retry-failed"),
        "{err}"
    );
    let mut retry = args.to_vec();
    retry.push("--retry-failed");
    let (code, _, err) = sgdnoise(&retry);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("0 failed before (skipped)") && err.contains("250 failed now"),
        "{err}"
    );
}
