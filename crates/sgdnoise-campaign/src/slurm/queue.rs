//! What the scheduler says about a sweep's jobs: pending and running array tasks, from `squeue`
//! (or `sacct` where squeue does not answer), mapped back to runs through the frozen task lists.
//!
//! This is information only: the result files decide what is done ([`crate::status`]). A job
//! the scheduler no longer lists (finished and forgotten after `MinJobAge`) counts as ended.

use super::{read_tasks, SubmissionRecord};
use crate::Store;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::process::Command;

/// How the scheduler sees one array task (or a plain job: `task` None).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskState {
    pub job: String,
    pub task: Option<usize>,
    pub state: String,
}

/// Reads `squeue -h -r -o '%F|%K|%T'`: array job id, array task id (`N/A` for a plain job),
/// state.
pub fn parse_squeue(text: &str) -> Vec<TaskState> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.trim().split('|');
            let (job, task, state) = (f.next()?, f.next()?, f.next()?);
            if job.is_empty() || state.is_empty() {
                return None;
            }
            Some(TaskState {
                job: job.to_string(),
                task: task.trim().parse().ok(),
                state: state.trim().to_string(),
            })
        })
        .collect()
}

/// Array indices of a sacct job id: `12_3` is task 3, `12_[0-4,7%2]` tasks 0..=4 and 7, `12`
/// a plain job. At most `limit` indices are expanded (a hostile range stays small).
fn sacct_indices(spec: &str, limit: usize) -> Option<Vec<usize>> {
    let inner = spec.strip_prefix('[').and_then(|s| s.strip_suffix(']'));
    let Some(inner) = inner else {
        return spec.parse().ok().map(|i| vec![i]);
    };
    let inner = inner.split('%').next().unwrap_or("");
    let mut out = Vec::new();
    for part in inner.split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?),
            None => {
                let a = part.parse::<usize>().ok()?;
                (a, a)
            }
        };
        for i in a..=b {
            if out.len() >= limit {
                return Some(out);
            }
            out.push(i);
        }
    }
    Some(out)
}

/// Reads `sacct -n -X -P -o JobID,State`: `12_3|RUNNING`, `12_[4-9]|PENDING`, `13|COMPLETED`.
pub fn parse_sacct(text: &str, max_tasks: usize) -> Vec<TaskState> {
    let mut out = Vec::new();
    for l in text.lines() {
        let Some((id, state)) = l.trim().split_once('|') else {
            continue;
        };
        // "CANCELLED by 0" -> CANCELLED
        let state = state.split_whitespace().next().unwrap_or("").to_string();
        match id.split_once('_') {
            None => out.push(TaskState {
                job: id.to_string(),
                task: None,
                state,
            }),
            Some((job, spec)) => {
                for i in sacct_indices(spec, max_tasks).unwrap_or_default() {
                    out.push(TaskState {
                        job: job.to_string(),
                        task: Some(i),
                        state: state.clone(),
                    });
                }
            }
        }
    }
    out
}

/// The broad state of a scheduler state name.
fn phase(state: &str) -> Phase {
    match state {
        "PENDING" | "REQUEUED" | "REQUEUE_HOLD" | "REQUEUE_FED" | "RESV_DEL_HOLD" => Phase::Pending,
        "RUNNING" | "CONFIGURING" | "COMPLETING" | "STAGE_OUT" | "SIGNALING" | "RESIZING" => {
            Phase::Running
        }
        _ => Phase::Other,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Pending,
    Running,
    Other,
}

/// One submitted job as the scheduler sees it.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct JobCounts {
    pub job_id: String,
    /// `array` or `analysis`.
    pub kind: String,
    pub pending_tasks: usize,
    pub running_tasks: usize,
    /// Unfinished runs in the pending tasks.
    pub pending_runs: usize,
    /// Unfinished runs in the running tasks.
    pub running_runs: usize,
    /// Scheduler states of the tasks listed in neither group (SUSPENDED, ...), with counts.
    pub other: BTreeMap<String, usize>,
}

/// Pending and running counts of a sweep's jobs.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct QueueReport {
    /// `squeue` or `sacct`.
    pub source: String,
    pub pending_tasks: usize,
    pub running_tasks: usize,
    pub pending_runs: usize,
    pub running_runs: usize,
    /// The jobs the scheduler still lists.
    pub jobs: Vec<JobCounts>,
    /// Submitted jobs it no longer lists (ended).
    pub ended_jobs: usize,
    /// The unfinished runs held by pending or running array tasks: already queued.
    #[serde(skip)]
    pub queued_runs: BTreeSet<String>,
}

fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Asks the scheduler about `jobs`: squeue first (jobs it lists are queued or running), sacct
/// when squeue does not answer.
fn ask(jobs: &[&SubmissionRecord], max_tasks: usize) -> Result<(String, Vec<TaskState>), String> {
    // All of this user's jobs: `squeue -j` fails as a whole when one id is already forgotten.
    match run("squeue", &["-h", "-r", "--me", "-o", "%F|%K|%T"]) {
        Ok(text) => Ok(("squeue".into(), parse_squeue(&text))),
        Err(squeue) => {
            let ids: Vec<&str> = jobs.iter().map(|j| j.job_id.as_str()).collect();
            let list = ids.join(",");
            match run(
                "sacct",
                &["-n", "-X", "-P", "-o", "JobID,State", "-j", &list],
            ) {
                // sacct also lists ended jobs: keep what is still queued, running or suspended.
                Ok(text) => Ok((
                    "sacct".into(),
                    parse_sacct(&text, max_tasks)
                        .into_iter()
                        .filter(|s| phase(&s.state) != Phase::Other || s.state == "SUSPENDED")
                        .collect(),
                )),
                Err(sacct) => Err(format!("{squeue}; {sacct}")),
            }
        }
    }
}

/// The unfinished runs of slot `slot` of a task list.
fn unfinished_in_slot<'a>(
    tasks: &'a [super::TaskEntry],
    slot: usize,
    runs_per_task: usize,
    store: &Store,
) -> Vec<&'a str> {
    super::slot_entries(tasks, slot, runs_per_task)
        .iter()
        .filter(|t| !store.is_finished(&t.id))
        .map(|t| t.id.as_str())
        .collect()
}

/// Pending and running counts of the jobs submitted for the sweep `sweep_name` into `store`.
/// None when the store records no submission of it; Err when the scheduler does not answer.
pub fn report(store: &Store, sweep_name: &str) -> Option<Result<QueueReport, String>> {
    let records = super::read_submissions(store).ok()?;
    let prefix = format!("{}-", super::safe_name(sweep_name));
    let mine: Vec<&SubmissionRecord> = records
        .iter()
        .filter(|r| {
            r.script
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|d| d.to_string_lossy().starts_with(&prefix))
        })
        .collect();
    if mine.is_empty() {
        return None;
    }
    let max_tasks: usize = mine.iter().map(|r| r.tasks).sum::<usize>().max(1);
    let (source, states) = match ask(&mine, max_tasks) {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    let listed: HashSet<&str> = states.iter().map(|s| s.job.as_str()).collect();
    let mut out = QueueReport {
        source,
        ..Default::default()
    };
    let mut lists: BTreeMap<std::path::PathBuf, Vec<super::TaskEntry>> = BTreeMap::new();
    for rec in &mine {
        if !listed.contains(rec.job_id.as_str()) {
            out.ended_jobs += 1;
            continue;
        }
        let mut job = JobCounts {
            job_id: rec.job_id.clone(),
            kind: rec.kind.clone(),
            ..Default::default()
        };
        let tasks_file = rec.script.with_file_name("tasks.jsonl");
        if rec.kind == "array" && !lists.contains_key(&tasks_file) {
            let list = read_tasks(&tasks_file).unwrap_or_default();
            lists.insert(tasks_file.clone(), list);
        }
        for s in states.iter().filter(|s| s.job == rec.job_id) {
            let runs = match (rec.kind.as_str(), s.task, lists.get(&tasks_file)) {
                ("array", Some(i), Some(list)) => {
                    unfinished_in_slot(list, rec.offset + i, rec.runs_per_task, store)
                }
                _ => Vec::new(),
            };
            match phase(&s.state) {
                Phase::Pending => {
                    job.pending_tasks += 1;
                    job.pending_runs += runs.len();
                    out.queued_runs.extend(runs.into_iter().map(str::to_string));
                }
                Phase::Running => {
                    job.running_tasks += 1;
                    job.running_runs += runs.len();
                    out.queued_runs.extend(runs.into_iter().map(str::to_string));
                }
                Phase::Other => *job.other.entry(s.state.clone()).or_default() += 1,
            }
        }
        if job.kind == "array" {
            out.pending_tasks += job.pending_tasks;
            out.running_tasks += job.running_tasks;
            out.pending_runs += job.pending_runs;
            out.running_runs += job.running_runs;
        }
        out.jobs.push(job);
    }
    Some(Ok(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squeue_lines_give_array_tasks_and_plain_jobs() {
        let s = parse_squeue("12|3|RUNNING\n12|4|PENDING\n15|N/A|PENDING\n\ngarbage\n");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].task, Some(3));
        assert_eq!(s[2].task, None);
        assert_eq!(s[2].job, "15");
    }

    #[test]
    fn sacct_ranges_are_expanded_within_a_limit() {
        let s = parse_sacct(
            "12_3|RUNNING\n12_[4-6,9%2]|PENDING\n13|CANCELLED by 0\n",
            100,
        );
        let tasks: Vec<Option<usize>> = s.iter().map(|t| t.task).collect();
        assert_eq!(
            tasks,
            vec![Some(3), Some(4), Some(5), Some(6), Some(9), None]
        );
        assert_eq!(s[5].state, "CANCELLED");
        // A hostile range does not allocate beyond the limit.
        assert_eq!(
            parse_sacct("1_[0-18446744073709551614]|PENDING", 10).len(),
            10
        );
        assert!(parse_sacct("1_[x-3]|PENDING", 10).is_empty());
    }
}
