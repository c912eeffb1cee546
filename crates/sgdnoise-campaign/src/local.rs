//! The local executor: runs the missing runs of a plan on this machine's cores, one thread per
//! run, resumable and safe beside other executors on the same store.
//!
//! What a run's attempt leaves:
//! - it finished: its summary (see [`crate::store`]); `failed.json` of earlier attempts is gone;
//! - it failed by itself (a panic, settings the data cannot serve): `failed.json` with the error,
//!   and later sweeps skip it unless asked to retry ([`LocalOptions::retry_failed`]);
//! - its surroundings failed (a data set missing or damaged, a full disk, a folder that cannot be
//!   written; [`sgdnoise_core::Error::is_environment`]): nothing is recorded, the sweep stops
//!   starting runs and returns the error, and the next sweep, once the cause is fixed, runs it;
//! - a folder whose summary cannot count for this run (corrupt, or naming another run) is moved
//!   aside to `runs/<id>.aside-N` before the run starts again ([`SweepEvent::SetAside`]), never
//!   deleted.

use crate::{lock, Plan, Store};
use serde::{Deserialize, Serialize};
use sgdnoise_core::rundir::{self, Summary, SummaryState};
use sgdnoise_core::settings::RunSpec;
use std::path::{Path, PathBuf};
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
    Started {
        id: String,
    },
    /// The folder of run `id` held a summary that cannot count for it (`why`); it was moved to
    /// `to` (never deleted) before the run started again.
    SetAside {
        id: String,
        to: PathBuf,
        why: String,
    },
    Finished {
        id: String,
        summary: Box<Summary>,
    },
    Failed {
        id: String,
        error: String,
    },
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

/// Reads the failure record of the run in `dir`, if any. An unreadable record is none: it says
/// nothing about the run (a damaged file, cut short by a full disk), so the run is tried again.
pub fn read_failure(dir: &Path) -> Option<FailureRecord> {
    let text = std::fs::read_to_string(dir.join(FAILED_FILE)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Checks, before anything runs, that the data sets of the runs of `plan` not finished in
/// `store` are there and readable (each is read once, then cached for the runs). The error
/// names the data set, where it was looked for and how to get it.
pub fn check_data(plan: &Plan, store: &Store) -> Result<(), sgdnoise_core::data::DataError> {
    use sgdnoise_core::data::{images, locate::RawSet};
    let mut checked = Vec::new();
    for spec in &plan.runs {
        let Some(set) = RawSet::of_task(spec.dataset) else {
            continue;
        };
        let key = (set, spec.exec.data_dir.clone());
        if checked.contains(&key) || store.is_finished(&spec.identity()) {
            continue;
        }
        images::pool(set, spec.exec.data_dir.as_deref())?;
        checked.push(key);
    }
    Ok(())
}

/// `plan` with each run named after the data it would train on ([`sgdnoise_core::data::bind`]):
/// on the canonical data sets (and synthetic data) every run keeps its planned id; on other
/// files found at its `data_dir` the data's digest enters its id, as `sgdnoise run` does, so a
/// sweep on custom data stores, finds and resumes its runs under the ids their data give them.
/// A run whose data cannot be opened keeps its planned id (its run reports the data error).
pub fn bind_data(plan: &Plan) -> Plan {
    let runs = plan
        .runs
        .iter()
        .map(|spec| sgdnoise_core::data::bind(spec).unwrap_or_else(|_| spec.clone()))
        .collect();
    Plan {
        name: plan.name.clone(),
        runs,
    }
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
    if store.is_finished(&spec.identity()) {
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
/// held by another executor. `events` hears [`SweepEvent::SetAside`] when the run's folder had to
/// be moved aside, and [`SweepEvent::Started`] once the run is locked and about to start.
/// `stop` interrupts it (the directory stays partial). The errors returned are those of the
/// store and of the run's surroundings ([`sgdnoise_core::Error::is_environment`]: a missing data
/// set, a full disk), which are not recorded as the run's failure; a run's own error is
/// [`RunOutcome::Failed`], recorded in `failed.json`.
pub fn run_one(
    store: &Store,
    spec: &RunSpec,
    retry_failed: bool,
    stop: Option<&AtomicBool>,
    events: &mut dyn FnMut(SweepEvent),
) -> Result<RunOutcome, sgdnoise_core::Error> {
    let dir = store.dir_of(spec);
    let id = spec.identity();
    if store.is_finished(&id) {
        return Ok(RunOutcome::AlreadyDone);
    }
    if !retry_failed {
        if let Some(f) = read_failure(&dir) {
            return Ok(RunOutcome::PreviouslyFailed(f.error));
        }
    }
    let mut held = match lock::acquire(store, &id)
        .map_err(|e| sgdnoise_core::Error::io(&store.lock_path(&id), e))?
    {
        lock::Acquire::Taken(l) => l,
        lock::Acquire::Busy(h) => return Ok(RunOutcome::Busy(h)),
    };
    // Another executor may have finished it between the first check and the lock.
    if store.is_finished(&id) {
        return Ok(RunOutcome::AlreadyDone);
    }
    if stop.is_some_and(|s| s.load(Ordering::SeqCst)) {
        return Ok(RunOutcome::Interrupted);
    }
    // A summary that cannot count for this run is kept, out of the way.
    let why = match rundir::summary_state(&dir) {
        SummaryState::Absent => None,
        SummaryState::Finished { id: other } => Some(format!("its summary names run {other}")),
        SummaryState::Corrupt { reason } => Some(reason),
    };
    if let Some(why) = why {
        let to = store.set_aside(&id)?;
        events(SweepEvent::SetAside {
            id: id.clone(),
            to,
            why,
        });
    }
    events(SweepEvent::Started { id: id.clone() });
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
        // Two executors that broke the same stale lock: the other one finished it.
        Ok(Err(_)) if store.is_finished(&id) => return Ok(RunOutcome::AlreadyDone),
        Ok(Err(e)) if e.is_environment() => return Err(e),
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
/// the next call picks up where it stopped. An error of the store or of the runs' surroundings
/// (see [`run_one`]) stops it from starting further runs; the runs in flight end, and the first
/// such error is returned.
pub fn run_local(
    plan: &Plan,
    store: &Store,
    opts: &LocalOptions,
    events: &mut dyn FnMut(SweepEvent),
) -> Result<SweepReport, sgdnoise_core::Error> {
    store.create()?;
    lock::clean_finished(store);
    let bound = bind_data(plan);
    let plan = &bound;
    let mut report = SweepReport {
        total: plan.runs.len(),
        ..Default::default()
    };
    let pending: Vec<&RunSpec> = plan
        .runs
        .iter()
        .filter(|spec| {
            let done = store.is_finished(&spec.identity());
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
    // Set on the first error of the store or the surroundings: no further run starts.
    let broken = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<Result<Message, sgdnoise_core::Error>>();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, pending, broken) = (&next, &pending, &broken);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(spec) = pending.get(i) else { break };
                if stop.is_some_and(|s| s.load(Ordering::SeqCst)) || broken.load(Ordering::SeqCst) {
                    let _ = tx.send(Ok(Message::Outcome(
                        spec.identity(),
                        RunOutcome::Interrupted,
                    )));
                    continue;
                }
                let id = spec.identity();
                let outcome = run_one(store, spec, opts.retry_failed, stop, &mut |event| {
                    let _ = tx.send(Ok(Message::Event(event)));
                });
                if outcome.is_err() {
                    broken.store(true, Ordering::SeqCst);
                }
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
    let plan = &bind_data(plan);
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
    bind_data(plan)
        .runs
        .iter()
        .enumerate()
        .filter(|(_, spec)| {
            let dir = store.dir_of(spec);
            !store.is_finished(&spec.identity()) && (retry_failed || read_failure(&dir).is_none())
        })
        .map(|(i, _)| i)
        .collect()
}
