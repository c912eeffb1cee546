//! The local executor: runs the missing runs of a plan on this machine's cores, one thread per
//! run, resumable and safe beside other executors on the same store.

use crate::{lock, Plan, Store};
use serde::{Deserialize, Serialize};
use sgdnoise_core::rundir::{self, Summary};
use sgdnoise_core::settings::RunSpec;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};

/// The file that records a failed attempt in a run directory.
pub const FAILED_FILE: &str = "failed.json";

/// Options of the local executor.
#[derive(Clone, Debug, Default)]
pub struct LocalOptions {
    /// Concurrent runs (0: one per core). Each run uses its own `threads` setting (default 1).
    pub workers: usize,
    /// Run again the runs that failed before.
    pub retry_failed: bool,
    /// Set to true to stop: running runs are interrupted and stay partial, no new run starts.
    pub stop: Option<Arc<AtomicBool>>,
}

/// What the executor reports while it works.
#[derive(Clone, Debug)]
pub enum SweepEvent {
    Started { id: String },
    Finished { id: String, summary: Box<Summary> },
    Failed { id: String, error: String },
}

/// Counts at the end of a sweep.
#[derive(Clone, Debug, Default)]
pub struct SweepReport {
    pub total: usize,
    /// Finished before this call.
    pub already_done: usize,
    /// Finished by this call.
    pub ran: usize,
    /// Failed in this call.
    pub failed: usize,
    /// Skipped because an earlier attempt failed (see [`LocalOptions::retry_failed`]).
    pub skipped_failed: usize,
    /// Skipped because another live executor holds their lock.
    pub busy: usize,
    /// Interrupted by a stop request (left partial) or never started because of it.
    pub interrupted: usize,
}

/// What `failed.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub id: String,
    pub error: String,
    pub host: String,
    pub pid: u32,
    /// Unix seconds.
    pub time: u64,
    pub crate_version: String,
}

/// Reads the failure record of the run in `dir`, if any (an unreadable one counts as a failure
/// with its parse error).
pub fn read_failure(dir: &Path) -> Option<FailureRecord> {
    let path = dir.join(FAILED_FILE);
    let text = std::fs::read_to_string(&path).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| {
        FailureRecord {
            id: dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            error: format!("{}: unreadable failure record: {e}", path.display()),
            host: String::new(),
            pid: 0,
            time: 0,
            crate_version: String::new(),
        }
    }))
}

/// Where a run stands in a store.
#[derive(Clone, Debug)]
pub enum RunState {
    Done,
    Failed(FailureRecord),
    /// A live executor holds its lock.
    Running(lock::LockHolder),
    /// Its directory exists without a summary (an attempt was killed or interrupted).
    Partial,
    Missing,
}

/// The state of `spec` in `store`.
pub fn run_state(store: &Store, spec: &RunSpec) -> RunState {
    let dir = store.dir_of(spec);
    if rundir::is_finished(&dir) {
        return RunState::Done;
    }
    if let Ok((holder, age)) = lock::read_lock(&store.lock_path(&spec.identity())) {
        if !lock::is_stale(holder.as_ref(), age) {
            if let Some(h) = holder {
                return RunState::Running(h);
            }
        }
    }
    if let Some(f) = read_failure(&dir) {
        return RunState::Failed(f);
    }
    if dir.exists() {
        RunState::Partial
    } else {
        RunState::Missing
    }
}

/// How one attempt at one run ended.
#[derive(Debug)]
pub enum RunOutcome {
    Finished(Box<Summary>),
    /// Its summary already existed.
    AlreadyDone,
    /// It failed now; the error is in `failed.json`.
    Failed(String),
    /// It failed before and retrying was not asked for.
    PreviouslyFailed(String),
    /// Another live executor holds it.
    Busy(lock::LockHolder),
    /// Stopped on request; its directory stays partial.
    Interrupted,
}

/// Runs one run of a sweep in `store` unless it is finished, failed before (without `retry`), or
/// held by another executor. `started` is called once the run is locked and about to start.
/// `stop` interrupts it (the directory stays partial). Errors are only those of the store itself
/// (cannot create the lock or write `failed.json`); a run's own error is [`RunOutcome::Failed`].
pub fn run_one(
    store: &Store,
    spec: &RunSpec,
    retry_failed: bool,
    stop: Option<&AtomicBool>,
    started: &mut dyn FnMut(),
) -> Result<RunOutcome, sgdnoise_core::Error> {
    let dir = store.dir_of(spec);
    let id = spec.identity();
    if rundir::is_finished(&dir) {
        return Ok(RunOutcome::AlreadyDone);
    }
    if !retry_failed {
        if let Some(f) = read_failure(&dir) {
            return Ok(RunOutcome::PreviouslyFailed(f.error));
        }
    }
    let mut held =
        match lock::acquire(store, &id).map_err(|e| sgdnoise_core::Error::io(store.root(), e))? {
            lock::Acquire::Taken(l) => l,
            lock::Acquire::Busy(h) => return Ok(RunOutcome::Busy(h)),
        };
    // Another executor may have finished it between the first check and the lock.
    if rundir::is_finished(&dir) {
        return Ok(RunOutcome::AlreadyDone);
    }
    if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
        return Ok(RunOutcome::Interrupted);
    }
    started();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        sgdnoise_core::run::execute(spec, Some(&dir), &mut |_| {
            held.heartbeat();
            !stop.is_some_and(|s| s.load(Ordering::SeqCst))
        })
    }));
    let error = match result {
        Ok(Ok(summary)) if summary.stop_reason == sgdnoise_core::train::StopReason::Interrupted => {
            return Ok(RunOutcome::Interrupted)
        }
        Ok(Ok(summary)) => {
            let _ = std::fs::remove_file(dir.join(FAILED_FILE));
            return Ok(RunOutcome::Finished(Box::new(summary)));
        }
        Ok(Err(e)) => e.to_string(),
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            format!("panicked: {what}")
        }
    };
    let me = lock::LockHolder::me();
    let record = FailureRecord {
        id,
        error: error.clone(),
        host: me.host,
        pid: me.pid,
        time: me.since,
        crate_version: sgdnoise_core::VERSION.to_string(),
    };
    std::fs::create_dir_all(&dir).map_err(|e| sgdnoise_core::Error::io(&dir, e))?;
    rundir::write_json_atomic(&dir.join(FAILED_FILE), &record)
        .map_err(|e| sgdnoise_core::Error::io(&dir, e))?;
    Ok(RunOutcome::Failed(error))
}

enum Message {
    Event(SweepEvent),
    Outcome(String, RunOutcome),
}

/// Runs every run of `plan` whose summary is missing from `store`, `opts.workers` at a time.
/// Safe to run concurrently with other executors on the same store, and to kill at any moment:
/// the next call picks up where it stopped.
pub fn run_local(
    plan: &Plan,
    store: &Store,
    opts: &LocalOptions,
    events: &mut dyn FnMut(SweepEvent),
) -> Result<SweepReport, sgdnoise_core::Error> {
    store.create()?;
    lock::clean_finished(store);
    let mut report = SweepReport {
        total: plan.runs.len(),
        ..Default::default()
    };
    let pending: Vec<&RunSpec> = plan
        .runs
        .iter()
        .filter(|spec| {
            let done = rundir::is_finished(&store.dir_of(spec));
            report.already_done += done as usize;
            !done
        })
        .collect();
    let workers = match opts.workers {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(pending.len().max(1));
    let next = AtomicUsize::new(0);
    let stop = opts.stop.as_deref();
    let (tx, rx) = mpsc::channel::<Result<Message, sgdnoise_core::Error>>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, pending) = (&next, &pending);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(spec) = pending.get(i) else { break };
                if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
                    let _ = tx.send(Ok(Message::Outcome(
                        spec.identity(),
                        RunOutcome::Interrupted,
                    )));
                    continue;
                }
                let id = spec.identity();
                let outcome = run_one(store, spec, opts.retry_failed, stop, &mut || {
                    let _ = tx.send(Ok(Message::Event(SweepEvent::Started { id: id.clone() })));
                });
                if tx.send(outcome.map(|o| Message::Outcome(id, o))).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        let mut first_error = None;
        for msg in rx {
            match msg {
                Ok(Message::Event(e)) => events(e),
                Ok(Message::Outcome(id, o)) => match o {
                    RunOutcome::Finished(summary) => {
                        report.ran += 1;
                        events(SweepEvent::Finished { id, summary });
                    }
                    RunOutcome::Failed(error) => {
                        report.failed += 1;
                        events(SweepEvent::Failed { id, error });
                    }
                    RunOutcome::AlreadyDone => report.already_done += 1,
                    RunOutcome::PreviouslyFailed(_) => report.skipped_failed += 1,
                    RunOutcome::Busy(_) => report.busy += 1,
                    RunOutcome::Interrupted => report.interrupted += 1,
                },
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    })?;
    Ok(report)
}

/// Counts of a plan's runs by state in a store.
#[derive(Clone, Debug, Default)]
pub struct StatusReport {
    pub total: usize,
    pub done: usize,
    /// Failed runs: index in the plan and the failure.
    pub failed: Vec<(usize, FailureRecord)>,
    /// Runs held by a live executor: index in the plan and the holder.
    pub running: Vec<(usize, lock::LockHolder)>,
    /// Indices of runs with a directory but no summary.
    pub partial: Vec<usize>,
    /// Indices of runs never started.
    pub missing: Vec<usize>,
}

/// Where each run of `plan` stands in `store`.
pub fn status(plan: &Plan, store: &Store) -> StatusReport {
    let mut r = StatusReport {
        total: plan.runs.len(),
        ..Default::default()
    };
    for (i, spec) in plan.runs.iter().enumerate() {
        match run_state(store, spec) {
            RunState::Done => r.done += 1,
            RunState::Failed(f) => r.failed.push((i, f)),
            RunState::Running(h) => r.running.push((i, h)),
            RunState::Partial => r.partial.push(i),
            RunState::Missing => r.missing.push(i),
        }
    }
    r
}

/// Indices of the runs of `plan` that are not finished (and, unless `retry_failed`, did not
/// fail), in plan order: what an executor still has to do.
pub fn missing(plan: &Plan, store: &Store, retry_failed: bool) -> Vec<usize> {
    plan.runs
        .iter()
        .enumerate()
        .filter(|(_, spec)| {
            let dir = store.dir_of(spec);
            !rundir::is_finished(&dir) && (retry_failed || read_failure(&dir).is_none())
        })
        .map(|(i, _)| i)
        .collect()
}
