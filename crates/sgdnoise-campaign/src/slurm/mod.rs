//! Sweeps as SLURM job arrays: sized tasks, frozen task lists, arrays split by `MaxArraySize`,
//! a throttle, a preamble, and an optional follow-up analysis job.
//!
//! A submission freezes the runs still missing into `STORE/slurm/<name>-<k>/tasks.jsonl` (one
//! `{"id", "config", "slot"}` per line, in plan order), so array indices keep their meaning
//! whatever happens to the sweep file or the store afterwards. The runs are packed into array
//! tasks by their estimated cost ([`sizing`]): entry `slot` is the array task that runs it, and
//! task `i` of a script with offset `O` runs the entries of slot `O + i`, one after the other.
//! (Lists written before slots existed have none: there task `i` runs entries
//! `(O + i) * K .. (O + i + 1) * K`, K = `--runs-per-task`.) SLURM caps the array *index* at
//! `MaxArraySize - 1`, so a long list is split into several scripts, each with
//! `--array=0-(n-1)` (and `%M` with `max_running`), its own offset, and the time limit of its
//! longest task. With a throttle, each later array depends (`afterany`) on the one before, so
//! that the limit holds across arrays.
//!
//! Tasks run through the same lock-and-skip logic as the local executor
//! ([`crate::local::run_one`]): the result files, not the scheduler, decide what is done, and
//! submitting again only queues what is still missing. At its time limit SLURM sends SIGTERM; the
//! command line stops the run in flight, which stays partial (never a half-written summary) and
//! releases its lock, and the next submission queues it again with at least twice the time it
//! had used ([`sizing`]).
//!
//! Every submitted job is recorded in `STORE/slurm/submissions.jsonl` ([`SubmissionRecord`]);
//! [`queue::report`] maps the scheduler's pending and running tasks back to runs from there.

pub mod queue;
pub mod sizing;
pub mod time;

use crate::{Plan, SlurmSettings, Store};
use serde::{Deserialize, Serialize};
use sgdnoise_core::settings::{RunConfig, RunSpec};
use sizing::CostSource;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// `MaxArraySize` when the cluster does not say (SLURM's default).
pub const DEFAULT_MAX_ARRAY_SIZE: usize = 1001;
/// Time limit of the follow-up analysis job when the settings give none.
pub const DEFAULT_ANALYSIS_TIME: &str = "01:00:00";

/// One entry of a frozen task list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TaskEntry {
    pub id: String,
    pub config: RunConfig,
    /// The array task (slot of the whole list) that runs it; absent in lists written before
    /// runs were packed by cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<usize>,
}

/// Settings of a submission (flags over the sweep file's `[slurm]` table).
#[derive(Clone, Debug, Default)]
pub struct SlurmOptions {
    pub settings: SlurmSettings,
    /// Queue runs that failed before too.
    pub retry_failed: bool,
    /// Where the follow-up analysis writes (default `STORE/analysis`).
    pub analysis_out: Option<PathBuf>,
    /// Runs left out because tasks of earlier submissions still hold them (see
    /// [`queue::report`]): queueing them again would run nothing twice, but hold a task.
    pub already_queued: std::collections::BTreeSet<String>,
}

/// One sbatch array script of a submission.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ArrayScript {
    pub path: PathBuf,
    /// Array-task offset: task `i` is slot `offset + i` of the task list.
    pub offset: usize,
    /// Number of array tasks (`--array=0-(tasks-1)`).
    pub tasks: usize,
    /// Runs it holds.
    pub runs: usize,
    /// Fewest and most runs of one of its tasks.
    pub runs_per_task: (usize, usize),
    /// The `--time` it was written with (None: the partition's default).
    pub time: Option<String>,
    /// The limit its tasks need by their estimates, seconds (None: a cost is unknown).
    pub needed_seconds: Option<u64>,
}

/// The follow-up job of a submission.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AnalysisScript {
    pub path: PathBuf,
    /// Where its figures go.
    pub out: PathBuf,
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
    /// Runs left out because pending or running tasks of earlier submissions hold them.
    pub already_queued: usize,
    /// Array tasks in all.
    pub tasks: usize,
    pub scripts: Vec<ArrayScript>,
    pub analysis: Option<AnalysisScript>,
    pub max_array_size: usize,
    /// At most this many tasks of the submission at once.
    pub max_running: Option<usize>,
    /// How many queued runs took their cost from each source.
    pub sources: BTreeMap<CostSource, usize>,
    pub sizing: sizing::SizingOptions,
    /// What the user should know (a given time limit shorter than the estimates, ...).
    pub warnings: Vec<String>,
}

/// A sweep name made safe for file and job names.
pub fn safe_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
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

fn quote_path(p: &Path) -> String {
    quote(&p.display().to_string())
}

fn abs(p: &Path) -> std::io::Result<PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

/// The absolute paths a script names.
#[derive(Clone, Debug)]
pub struct ScriptPaths {
    /// The `sgdnoise` binary the tasks run.
    pub exe: PathBuf,
    pub sweep_file: PathBuf,
    pub store: PathBuf,
    pub tasks_file: PathBuf,
    pub log_dir: PathBuf,
}

/// The `#SBATCH` lines every script of a submission shares, and its preamble.
fn common_lines(s: &mut String, settings: &SlurmSettings, cpus: usize, time: Option<&str>) {
    s.push_str(&format!("#SBATCH --cpus-per-task={cpus}\n"));
    if let Some(p) = &settings.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    if let Some(t) = time {
        s.push_str(&format!("#SBATCH --time={}\n", t.trim()));
    }
    if let Some(m) = &settings.mem {
        s.push_str(&format!("#SBATCH --mem={m}\n"));
    }
}

fn extra_and_preamble(s: &mut String, settings: &SlurmSettings) {
    s.push_str("#SBATCH --open-mode=append\n");
    for line in settings.extra_sbatch.iter().flatten() {
        s.push_str(&format!("#SBATCH {}\n", line.trim()));
    }
    let preamble = settings.preamble.as_deref().unwrap_or_default();
    if !preamble.is_empty() {
        s.push_str("# Preamble ([slurm] preamble / --preamble):\n");
        for line in preamble {
            s.push_str(line);
            s.push('\n');
        }
    }
}

/// The text of one sbatch array script: `tasks` array tasks from slot `offset` on, limit `time`.
pub fn script_text(
    job_name: &str,
    settings: &SlurmSettings,
    paths: &ScriptPaths,
    tasks: usize,
    offset: usize,
    time: Option<&str>,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name={job_name}\n"));
    let throttle = settings
        .max_running
        .map(|m| format!("%{m}"))
        .unwrap_or_default();
    s.push_str(&format!(
        "#SBATCH --array=0-{}{throttle}\n",
        tasks.saturating_sub(1)
    ));
    common_lines(&mut s, settings, settings.cpus_per_task.unwrap_or(1), time);
    s.push_str(&format!(
        "#SBATCH --output={}/%A_%a.out\n",
        paths.log_dir.display()
    ));
    extra_and_preamble(&mut s, settings);
    s.push_str(&format!(
        "# Task i runs the entries of slot offset + i of the frozen task list, one after the other;\n\
         # runs already finished are skipped, so requeued or repeated tasks are harmless. At the time\n\
         # limit the run in flight stays partial and the next `sweep slurm` queues it again.\n\
         exec {} sweep task {} --out {} --tasks {} --offset {}\n",
        quote_path(&paths.exe),
        quote_path(&paths.sweep_file),
        quote_path(&paths.store),
        quote_path(&paths.tasks_file),
        offset,
    ));
    s
}

/// The text of the follow-up job: the sweep's status, then its analysis into `out`.
pub fn analysis_script_text(
    job_name: &str,
    settings: &SlurmSettings,
    paths: &ScriptPaths,
    out: &Path,
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name={job_name}\n"));
    let time = settings
        .analysis_time
        .as_deref()
        .unwrap_or(DEFAULT_ANALYSIS_TIME);
    common_lines(&mut s, settings, 1, Some(time));
    s.push_str(&format!(
        "#SBATCH --output={}/analysis-%j.out\n",
        paths.log_dir.display()
    ));
    extra_and_preamble(&mut s, settings);
    s.push_str(&format!(
        "# Submitted with --dependency=afterany on the arrays of this submission: it starts once\n\
         # they ended, however they ended, and analyses the runs that finished.\n\
         {exe} sweep status {file} --out {store}\n\
         exec {exe} analyze {store} --out {out} --sweep {file}\n",
        exe = quote_path(&paths.exe),
        file = quote_path(&paths.sweep_file),
        store = quote_path(&paths.store),
        out = quote_path(out),
    ));
    s
}

/// Time limit of the next-round job of an adaptive sweep (it only plans and submits).
pub const NEXT_ROUND_TIME: &str = "00:15:00";

/// The text of the next-round job of an adaptive sweep ([`crate::adaptive`]): submitted with
/// `--dependency=afterany` on a round's arrays, it plans the next round from the runs that
/// finished and submits it, with a next-round job of its own, until the search is settled.
/// `command` is the `sgdnoise sweep slurm ...` command line that submitted this round, run
/// again from `cwd`.
pub fn next_round_script_text(
    job_name: &str,
    settings: &SlurmSettings,
    log_dir: &Path,
    cwd: &Path,
    command: &[String],
) -> String {
    let mut s = String::from("#!/bin/bash\n");
    s.push_str(&format!("#SBATCH --job-name={job_name}\n"));
    common_lines(&mut s, settings, 1, Some(NEXT_ROUND_TIME));
    s.push_str(&format!(
        "#SBATCH --output={}/next-round-%j.out\n",
        log_dir.display()
    ));
    extra_and_preamble(&mut s, settings);
    let words: Vec<String> = command.iter().map(|w| quote(w)).collect();
    s.push_str(&format!(
        "# Submitted with --dependency=afterany on this round's arrays: plans the next round of the\n\
         # adaptive sweep from the runs that finished (the plan is a function of the store) and\n\
         # submits it with its own next-round job; submits nothing once every target is settled.\n\
         cd {}\n\
         exec {}\n",
        quote_path(cwd),
        words.join(" ")
    ));
    s
}

/// Writes `body` as `dir/name` (atomically), creating `dir`.
pub fn write_script(dir: &Path, name: &str, body: &str) -> Result<PathBuf, sgdnoise_core::Error> {
    std::fs::create_dir_all(dir).map_err(|e| sgdnoise_core::Error::io(dir, e))?;
    let path = dir.join(name);
    sgdnoise_core::rundir::write_atomic(&path, body.as_bytes())
        .map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    Ok(path)
}

/// Freezes the missing runs of `plan`, sizes them into array tasks, and writes the sbatch
/// scripts into a new folder `STORE/slurm/<name>-<k>/`. Returns None when nothing is missing
/// that is not already queued or running (nothing is written then). `exe` is the `sgdnoise`
/// binary the tasks run; paths are made absolute. `opts.settings` must have passed [`SlurmSettings::check`].
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
    let mut already_queued = 0;
    let queued: Vec<&RunSpec> = crate::local::missing(plan, &store, opts.retry_failed)
        .into_iter()
        .map(|i| &plan.runs[i])
        .filter(|spec| {
            let queued = opts.already_queued.contains(&spec.identity());
            already_queued += queued as usize;
            !queued
        })
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
    let settings = &opts.settings;
    let sizing = sizing::SizingOptions::from_settings(settings);
    let costs = sizing::costs(plan, &store, &queued, &sizing);
    let packing = sizing::pack(&costs, &sizing);
    let mut sources = BTreeMap::new();
    for c in &costs {
        *sources.entry(c.source).or_insert(0) += 1;
    }

    let slurm_root = store.slurm_dir();
    std::fs::create_dir_all(&slurm_root).map_err(io(&slurm_root))?;
    let safe_name = safe_name(&plan.name);
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
    for (slot, range) in packing.tasks.iter().enumerate() {
        for spec in &queued[range.clone()] {
            let entry = TaskEntry {
                id: spec.identity(),
                config: spec.to_config(),
                slot: Some(slot),
            };
            text.push_str(&serde_json::to_string(&entry).expect("task entry serialises"));
            text.push('\n');
        }
    }
    let tasks_file = dir.join("tasks.jsonl");
    sgdnoise_core::rundir::write_atomic(&tasks_file, text.as_bytes()).map_err(io(&tasks_file))?;

    let paths = ScriptPaths {
        exe,
        sweep_file,
        store: store.root().to_path_buf(),
        tasks_file: tasks_file.clone(),
        log_dir,
    };
    let mut warnings = Vec::new();
    let mut scripts = Vec::new();
    for (w, (offset, count)) in windows(packing.tasks.len(), max_array_size)
        .into_iter()
        .enumerate()
    {
        let slots = offset..offset + count;
        let needed = packing.limits[slots.clone()]
            .iter()
            .try_fold(0u64, |m, l| l.map(|l| m.max(l)));
        let sizes: Vec<usize> = packing.tasks[slots.clone()]
            .iter()
            .map(|r| r.len())
            .collect();
        let time = match (&settings.time, needed) {
            (Some(t), _) => Some(t.trim().to_string()),
            (None, n) => n.map(time::format),
        };
        let name = format!("array-{w:03}.sbatch");
        if let (Some(t), Some(n)) = (&settings.time, needed) {
            if let Some(given) = time::parse(t).ok().filter(|&g| g < n) {
                warnings.push(format!(
                    "{name}: the time limit {} is shorter than the {} its longest task needs by \
                     the estimates; a task that reaches it leaves its run partial for the next submission",
                    time::format(given),
                    time::format(n)
                ));
            }
        }
        let path = dir.join(&name);
        let body = script_text(
            &format!("sgdnoise-{safe_name}"),
            settings,
            &paths,
            count,
            offset,
            time.as_deref(),
        );
        sgdnoise_core::rundir::write_atomic(&path, body.as_bytes()).map_err(io(&path))?;
        scripts.push(ArrayScript {
            path,
            offset,
            tasks: count,
            runs: sizes.iter().sum(),
            runs_per_task: (
                sizes.iter().copied().min().unwrap_or(0),
                sizes.iter().copied().max().unwrap_or(0),
            ),
            time,
            needed_seconds: needed,
        });
    }
    let unknown = sources.get(&CostSource::Unknown).copied().unwrap_or(0);
    if unknown > 0 && settings.time.is_none() {
        warnings.push(format!(
            "{unknown} run(s) of unknown cost (no finished run of their settings, no run_seconds, \
             max_wall or max_steps): one per task, and their arrays get no time limit (the \
             partition's default applies)"
        ));
    }
    let analysis = if settings.analyze == Some(true) {
        let out = match &opts.analysis_out {
            Some(o) => abs(o).map_err(io(o))?,
            None => store.analysis_dir(),
        };
        let path = dir.join("analysis.sbatch");
        let body = analysis_script_text(
            &format!("sgdnoise-{safe_name}-analysis"),
            settings,
            &paths,
            &out,
        );
        sgdnoise_core::rundir::write_atomic(&path, body.as_bytes()).map_err(io(&path))?;
        Some(AnalysisScript { path, out })
    } else {
        None
    };
    Ok(Some(Submission {
        dir,
        tasks_file,
        runs: queued.len(),
        running,
        already_queued,
        tasks: packing.tasks.len(),
        scripts,
        analysis,
        max_array_size,
        max_running: settings.max_running,
        sources,
        sizing,
        warnings,
    }))
}

/// Submits one script with `sbatch --parsable`, after the jobs of `dependency` when given
/// (`afterany:12:13`); returns the job id.
pub fn sbatch(script: &Path, dependency: Option<&str>) -> Result<String, sgdnoise_core::Error> {
    let mut cmd = std::process::Command::new("sbatch");
    cmd.arg("--parsable");
    if let Some(d) = dependency {
        cmd.arg(format!("--dependency={d}"));
    }
    let out = cmd
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

fn array_kind() -> String {
    "array".into()
}
fn one() -> usize {
    1
}

/// One line of `STORE/slurm/submissions.jsonl`: a submitted job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SubmissionRecord {
    pub job_id: String,
    /// `array` or `analysis` (lines written before the follow-up job existed have none).
    #[serde(default = "array_kind")]
    pub kind: String,
    pub script: PathBuf,
    /// Array-task offset (arrays).
    #[serde(default)]
    pub offset: usize,
    /// Array tasks (arrays).
    #[serde(default)]
    pub tasks: usize,
    /// Runs per task of a task list without slots (lists written before slots existed).
    #[serde(default = "one")]
    pub runs_per_task: usize,
    /// The `--dependency` it was submitted with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependency: Option<String>,
    /// Unix seconds.
    #[serde(default)]
    pub time: u64,
}

impl SubmissionRecord {
    /// The record of `script` submitted now as `job_id`.
    pub fn array(job_id: &str, script: &ArrayScript, dependency: Option<&str>) -> Self {
        SubmissionRecord {
            job_id: job_id.to_string(),
            kind: array_kind(),
            script: script.path.clone(),
            offset: script.offset,
            tasks: script.tasks,
            runs_per_task: 1,
            dependency: dependency.map(str::to_string),
            time: crate::lock::LockHolder::me().since,
        }
    }
    /// The record of a job that is no array (`kind`: `next_round`, `analysis`).
    pub fn other(job_id: &str, kind: &str, script: &Path, dependency: Option<&str>) -> Self {
        SubmissionRecord {
            job_id: job_id.to_string(),
            kind: kind.into(),
            script: script.to_path_buf(),
            offset: 0,
            tasks: 0,
            runs_per_task: 1,
            dependency: dependency.map(str::to_string),
            time: crate::lock::LockHolder::me().since,
        }
    }
    /// The record of the follow-up job.
    pub fn analysis(job_id: &str, script: &AnalysisScript, dependency: &str) -> Self {
        SubmissionRecord {
            job_id: job_id.to_string(),
            kind: "analysis".into(),
            script: script.path.clone(),
            offset: 0,
            tasks: 0,
            runs_per_task: 1,
            dependency: Some(dependency.to_string()),
            time: crate::lock::LockHolder::me().since,
        }
    }
}

/// `STORE/slurm/submissions.jsonl`.
fn submissions_file(store: &Store) -> PathBuf {
    store.slurm_dir().join("submissions.jsonl")
}

/// Appends a line to `STORE/slurm/submissions.jsonl`.
pub fn record_submission(
    store: &Store,
    record: &SubmissionRecord,
) -> Result<(), sgdnoise_core::Error> {
    let path = submissions_file(store);
    let line = serde_json::to_string(record).expect("a submission record serialises");
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    writeln!(f, "{line}").map_err(|e| sgdnoise_core::Error::io(&path, e))
}

/// The submitted jobs of a store, oldest first (lines that do not parse, such as one torn by a
/// kill, are skipped). Err when there is no record.
pub fn read_submissions(store: &Store) -> Result<Vec<SubmissionRecord>, sgdnoise_core::Error> {
    let path = submissions_file(store);
    let text = std::fs::read_to_string(&path).map_err(|e| sgdnoise_core::Error::io(&path, e))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
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

/// Number of array tasks of a task list.
pub fn slot_count(tasks: &[TaskEntry], runs_per_task: usize) -> usize {
    match tasks.iter().filter_map(|t| t.slot).max() {
        Some(m) => m + 1,
        None => tasks.len().div_ceil(runs_per_task.max(1)),
    }
}

/// The entries of slot `slot` of a task list (empty past its end): those with that `slot`, or,
/// in a list without slots, entries `slot * K .. (slot + 1) * K`.
pub fn slot_entries(tasks: &[TaskEntry], slot: usize, runs_per_task: usize) -> &[TaskEntry] {
    if tasks.iter().any(|t| t.slot.is_some()) {
        // Slots are written in increasing order.
        let a = tasks.partition_point(|t| t.slot.is_some_and(|s| s < slot));
        let b = tasks.partition_point(|t| t.slot.is_some_and(|s| s <= slot));
        return &tasks[a..b.max(a)];
    }
    let k = runs_per_task.max(1);
    let start = slot.saturating_mul(k).min(tasks.len());
    &tasks[start..start.saturating_add(k).min(tasks.len())]
}

/// The runs of array task `index` (slot `offset + index`) of a task list, resolved and checked
/// against their frozen identities. `runs_per_task` matters only for lists without slots.
pub fn task_runs(
    tasks: &[TaskEntry],
    offset: usize,
    index: usize,
    runs_per_task: usize,
) -> Result<Vec<RunSpec>, sgdnoise_core::Error> {
    let slot = offset.saturating_add(index);
    let entries = slot_entries(tasks, slot, runs_per_task);
    if entries.is_empty() {
        return Err(sgdnoise_core::Error::Other(format!(
            "array task {index} with offset {offset}: slot {slot} is past the {} tasks ({} runs) of the task list",
            slot_count(tasks, runs_per_task),
            tasks.len()
        )));
    }
    entries
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
                TaskEntry {
                    id,
                    config: c,
                    slot: None,
                }
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

        // Packed lists name each entry's slot: slots of 2, 1 and 2 runs.
        let mut packed = tasks.clone();
        for (e, s) in packed.iter_mut().zip([0, 0, 1, 2, 2]) {
            e.slot = Some(s);
        }
        assert_eq!(slot_count(&packed, 1), 3);
        assert_eq!(task_runs(&packed, 0, 0, 1).unwrap().len(), 2);
        let r = task_runs(&packed, 1, 1, 1).unwrap();
        assert_eq!(
            r.iter().map(|s| s.seeds.init).collect::<Vec<_>>(),
            vec![3, 4]
        );
        let e = task_runs(&packed, 2, 1, 1).unwrap_err().to_string();
        assert!(e.contains("past the 3 tasks (5 runs)"), "{e}");
    }

    #[test]
    fn the_throttle_and_the_preamble_are_in_the_script() {
        let settings = SlurmSettings {
            max_running: Some(3),
            preamble: Some(vec!["module load gcc".into(), "export A='b c'".into()]),
            ..Default::default()
        };
        let paths = ScriptPaths {
            exe: "/opt/sgd noise/sgdnoise".into(),
            sweep_file: "/s/it's.toml".into(),
            store: "/s/store".into(),
            tasks_file: "/s/store/slurm/x-001/tasks.jsonl".into(),
            log_dir: "/s/store/slurm/x-001/logs".into(),
        };
        let s = script_text("sgdnoise-x", &settings, &paths, 10, 20, Some("00:05:00"));
        assert!(s.contains("#SBATCH --array=0-9%3\n"), "{s}");
        assert!(s.contains("#SBATCH --time=00:05:00\n"), "{s}");
        let pre = s
            .find("module load gcc\nexport A='b c'\n")
            .expect("preamble");
        let exec = s
            .find("exec '/opt/sgd noise/sgdnoise' sweep task '/s/it'\\''s.toml'")
            .expect("exec");
        assert!(pre < exec && s[exec..].contains("--offset 20"), "{s}");
        // The #SBATCH lines all come before the first command (sbatch stops reading at it).
        let last_sbatch = s.rfind("#SBATCH").unwrap();
        assert!(last_sbatch < pre, "{s}");

        let a = analysis_script_text(
            "sgdnoise-x-analysis",
            &settings,
            &paths,
            Path::new("/s/fig"),
        );
        assert!(
            a.contains("#SBATCH --time=01:00:00") && !a.contains("--array"),
            "{a}"
        );
        assert!(
            a.contains("exec '/opt/sgd noise/sgdnoise' analyze '/s/store' --out '/s/fig' --sweep '/s/it'\\''s.toml'"),
            "{a}"
        );
    }
}
