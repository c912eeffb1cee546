//! Sweeps as SLURM job arrays: sbatch scripts, frozen task lists, splitting by `MaxArraySize`.
//!
//! A submission freezes the runs still missing into `STORE/slurm/<name>-<k>/tasks.jsonl` (one
//! `{"id", "config"}` per line, in plan order), so array indices keep their meaning whatever
//! happens to the sweep file or the store afterwards. Array task `i` of a script with offset `O`
//! runs the task-list entries `(O + i) * K .. (O + i + 1) * K` (K = runs per task). SLURM caps
//! the array *index* at `MaxArraySize - 1`, so a long list is split into several scripts, each
//! with `--array=0-(n-1)` and its own offset. Tasks run through the same lock-and-skip logic as
//! the local executor ([`crate::local::run_one`]): the result files, not the scheduler, decide what is
//! done, and submitting again only queues what is still missing.

use crate::{Plan, SlurmSettings, Store};
use serde::{Deserialize, Serialize};
use sgdnoise_core::settings::{RunConfig, RunSpec};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// `MaxArraySize` when the cluster does not say (SLURM's default).
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;

/// One entry of a frozen task list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskEntry {
    pub id: String,
    pub config: RunConfig,
}

/// Settings of a submission (flags over the sweep file's `[slurm]` table).
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    pub settings: SlurmSettings,
    /// Queue runs that failed before too.
    pub retry_failed: bool,
}

/// One sbatch script of a submission.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArrayScript {
    pub path: PathBuf,
    /// Array-task offset: task `i` is slot `offset + i` of the task list.
    pub offset: usize,
    /// Number of array tasks (`--array=0-(tasks-1)`).
    pub tasks: usize,
}

/// A prepared submission.
#[derive(Clone, Debug)]
pub struct Submission {
    /// `STORE/slurm/<name>-<k>`.
    pub dir: PathBuf,
    pub tasks_file: PathBuf,
    /// Runs queued.
    pub runs: usize,
    /// Runs left out because a live executor holds them.
    pub running: usize,
    pub scripts: Vec<ArrayScript>,
    pub max_array_size: usize,
    pub runs_per_task: usize,
}

/// Reads `MaxArraySize` from the output of `scontrol show config`.
pub fn parse_max_array_size(scontrol_config: &str) -> Option<usize> {
    scontrol_config.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        (k.trim() == "MaxArraySize").then(|| v.trim().parse().ok())?
    })
}

/// `MaxArraySize` of the cluster (`scontrol show config`), None when scontrol does not answer.
pub fn cluster_max_array_size() -> Option<usize> {
    let out = std::process::Command::new("scontrol")
        .args(["show", "config"])
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    parse_max_array_size(&String::from_utf8_lossy(&out.stdout))
}

/// Splits `tasks` array tasks into windows of at most `max_array_size`: (offset, count) pairs.
pub fn windows(tasks: usize, max_array_size: usize) -> Vec<(usize, usize)> {
    let m = max_array_size.max(1);
    (0..tasks)
        .step_by(m)
        .map(|o| (o, m.min(tasks - o)))
        .collect()
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn abs(p: &Path) -> std::io::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

/// The text of one sbatch script.
#[allow(clippy::too_many_arguments)]
pub fn script_text(
    job_name: &str,
    settings: &SlurmSettings,
    log_dir: &Path,
    tasks: usize,
    exe: &Path,
    sweep_file: &Path,
    store: &Path,
    tasks_file: &Path,
    offset: usize,
    runs_per_task: usize,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name={job_name}\n"));
    s.push_str(&format!("#SBATCH --array=0-{}\n", tasks.saturating_sub(1)));
    s.push_str(&format!(
        "#SBATCH --cpus-per-task={}\n",
        settings.cpus_per_task.unwrap_or(1)
    ));
    if let Some(p) = &settings.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = &settings.time {
        s.push_str(&format!("#SBATCH --time={t}\n"));
    }
    if let Some(m) = &settings.mem {
        s.push_str(&format!("#SBATCH --mem={m}\n"));
    }
    s.push_str(&format!(
        "#SBATCH --output={}/%A_%a.out\n",
        log_dir.display()
    ));
    s.push_str("#SBATCH --open-mode=append\n");
    for line in settings.extra_sbatch.iter().flatten() {
        s.push_str(&format!("#SBATCH {}\n", line.trim()));
    }
    s.push_str(&format!(
        "# Task i runs entries (offset + i) * K .. +K of the frozen task list; runs already\n\
         # finished are skipped, so requeued or repeated tasks are harmless.\n\
         exec {} sweep task {} --out {} --tasks {} --offset {} --runs-per-task {}\n",
        quote(&exe.display().to_string()),
        quote(&sweep_file.display().to_string()),
        quote(&store.display().to_string()),
        quote(&tasks_file.display().to_string()),
        offset,
        runs_per_task
    ));
    s
}

/// Freezes the missing runs of `plan` and writes the sbatch scripts into a new folder
/// `STORE/slurm/<name>-<k>/`. Returns None when nothing is missing (nothing is written then).
/// `exe` is the `sgdnoise` binary the tasks run; paths are made absolute.
pub fn prepare(
    plan: &Plan,
    store: &Store,
    sweep_file: &Path,
    exe: &Path,
    opts: &SlurmOptions,
    max_array_size: usize,
) -> Result<Option<Submission>, sgdnoise_core::Error> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |e| sgdnoise_core::Error::io(&p, e)
    };
    let store = Store::new(abs(store.root()).map_err(io(store.root()))?);
    let sweep_file = abs(sweep_file).map_err(io(sweep_file))?;
    let exe = abs(exe).map_err(io(exe))?;
    let mut running = 0;
    let queued: Vec<&RunSpec> = crate::local::missing(plan, &store, opts.retry_failed)
        .into_iter()
        .map(|i| &plan.runs[i])
        .filter(|spec| {
            let busy = matches!(
                crate::local::run_state(&store, spec),
                crate::local::RunState::Running(_)
            );
            running += busy as usize;
            !busy
        })
        .collect();
    if queued.is_empty() {
        return Ok(None);
    }
    let runs_per_task = opts.settings.runs_per_task.unwrap_or(1).max(1);
    let slurm_root = store.slurm_dir();
    std::fs::create_dir_all(&slurm_root).map_err(io(&slurm_root))?;
    let safe_name: String = plan
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut k = 1;
    let dir = loop {
        let d = slurm_root.join(format!("{safe_name}-{k:03}"));
        match std::fs::create_dir(&d) {
            Ok(()) => break d,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => k += 1,
            Err(e) => return Err(sgdnoise_core::Error::io(&d, e)),
        }
    };
    let log_dir = dir.join("logs");
    std::fs::create_dir_all(&log_dir).map_err(io(&log_dir))?;

    let mut text = String::new();
    for spec in &queued {
        let entry = TaskEntry {
            id: spec.identity(),
            config: spec.to_config(),
        };
        text.push_str(&serde_json::to_string(&entry).expect("task entry serialises"));
        text.push('\n');
    }
    let tasks_file = dir.join("tasks.jsonl");
    sgdnoise_core::rundir::write_atomic(&tasks_file, text.as_bytes()).map_err(io(&tasks_file))?;

    let tasks = queued.len().div_ceil(runs_per_task);
    let mut scripts = Vec::new();
    for (w, (offset, count)) in windows(tasks, max_array_size).into_iter().enumerate() {
        let path = dir.join(format!("array-{w:03}.sbatch"));
        let body = script_text(
            &format!("sgdnoise-{safe_name}"),
            &opts.settings,
            &log_dir,
            count,
            &exe,
            &sweep_file,
            store.root(),
            &tasks_file,
            offset,
            runs_per_task,
        );
        sgdnoise_core::rundir::write_atomic(&path, body.as_bytes()).map_err(io(&path))?;
        scripts.push(ArrayScript {
            path,
            offset,
            tasks: count,
        });
    }
    Ok(Some(Submission {
        dir,
        tasks_file,
        runs: queued.len(),
        running,
        scripts,
        max_array_size,
        runs_per_task,
    }))
}

/// Submits one script with `sbatch --parsable`; returns the job id.
pub fn sbatch(script: &Path) -> Result<String, sgdnoise_core::Error> {
    let out = std::process::Command::new("sbatch")
        .arg("--parsable")
        .arg(script)
        .output()
        .map_err(|e| sgdnoise_core::Error::Other(format!("cannot run sbatch: {e}")))?;
    if !out.status.success() {
        return Err(sgdnoise_core::Error::Other(format!(
            "sbatch {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let id = text
        .trim()
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    if id.is_empty() {
        return Err(sgdnoise_core::Error::Other(format!(
            "sbatch {} printed no job id",
            script.display()
        )));
    }
    Ok(id)
}

/// Appends a line to `STORE/slurm/submissions.jsonl` (job id, script, offset, tasks).
pub fn record_submission(
    store: &Store,
    job_id: &str,
    script: &ArrayScript,
) -> Result<(), sgdnoise_core::Error> {
    let path = store.slurm_dir().join("submissions.jsonl");
    let line = serde_json::json!({
        "job_id": job_id,
        "script": script.path,
        "offset": script.offset,
        "tasks": script.tasks,
        "time": crate::lock::LockHolder::me().since,
    });
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    writeln!(f, "{line}").map_err(|e| sgdnoise_core::Error::io(&path, e))
}

/// Reads a frozen task list.
pub fn read_tasks(path: &Path) -> Result<Vec<TaskEntry>, sgdnoise_core::Error> {
    let f = std::fs::File::open(path).map_err(|e| sgdnoise_core::Error::io(path, e))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|e| sgdnoise_core::Error::io(path, e))?;
        if line.trim().is_empty() {
            continue;
        }
        let entry: TaskEntry = serde_json::from_str(&line).map_err(|e| {
            sgdnoise_core::Error::Other(format!("{} line {}: {e}", path.display(), n + 1))
        })?;
        out.push(entry);
    }
    Ok(out)
}

/// The runs of array task `index` (slot `offset + index`) of a task list, resolved and checked
/// against their frozen identities.
pub fn task_runs(
    tasks: &[TaskEntry],
    offset: usize,
    index: usize,
    runs_per_task: usize,
) -> Result<Vec<RunSpec>, sgdnoise_core::Error> {
    let k = runs_per_task.max(1);
    let start = (offset + index).saturating_mul(k);
    if start >= tasks.len() {
        return Err(sgdnoise_core::Error::Other(format!(
            "array task {index} with offset {offset}: slot {} is past the {} runs of the task list",
            offset + index,
            tasks.len()
        )));
    }
    tasks[start..(start + k).min(tasks.len())]
        .iter()
        .map(|t| {
            let spec = t.config.resolve()?;
            if spec.identity() != t.id {
                return Err(sgdnoise_core::Error::Other(format!(
                    "task list entry {} resolves to run {} (another version of sgdnoise?)",
                    t.id,
                    spec.identity()
                )));
            }
            Ok(spec)
        })
        .collect()
}

/// Whether every run of a task list is finished in `store`.
pub fn all_finished(tasks: &[TaskEntry], store: &Store) -> bool {
    tasks.iter().all(|t| store.is_finished(&t.id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_respect_the_array_index_cap() {
        assert_eq!(windows(10, 4), vec![(0, 4), (4, 4), (8, 2)]);
        assert_eq!(windows(1001, 1001), vec![(0, 1001)]);
        assert_eq!(windows(1002, 1001), vec![(0, 1001), (1001, 1)]);
        assert!(windows(0, 5).is_empty());
    }

    #[test]
    fn max_array_size_is_read_from_scontrol() {
        let text = "MaxArraySize            = 40001\nMaxJobCount = 10000\n";
        assert_eq!(parse_max_array_size(text), Some(40001));
        assert_eq!(parse_max_array_size("nothing"), None);
    }

    #[test]
    fn task_slots_map_to_the_frozen_list() {
        let tasks: Vec<TaskEntry> = (0..5)
            .map(|s| {
                let c = RunConfig {
                    temp: Some(1.0),
                    batch: Some(2),
                    seed_init: Some(s),
                    ..Default::default()
                };
                let id = c.resolve().unwrap().identity();
                TaskEntry { id, config: c }
            })
            .collect();
        let r = task_runs(&tasks, 2, 1, 1).unwrap();
        assert_eq!(r[0].seeds.init, 3);
        let r = task_runs(&tasks, 0, 2, 2).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].seeds.init, 4);
        assert!(task_runs(&tasks, 4, 1, 1).is_err());
        let mut bad = tasks.clone();
        bad[0].id = "0000".into();
        assert!(task_runs(&bad, 0, 0, 1).is_err());
    }
}
