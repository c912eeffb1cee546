//! Sweeps: a grid of runs, planned from a sweep file, executed so that no finished run is ever
//! lost or run twice. (Minimal sequential version; the full executor replaces it.)
//!
//! Store layout: `STORE/runs/<id>/` is the run directory of the run with identity `<id>`
//! (see [`crate::config::RunSpec::identity`]); a run is finished when its `summary.json` exists.

use crate::config::RunSpec;
use crate::store::{self, Summary};
use std::path::{Path, PathBuf};

/// A planned sweep: the runs it consists of, in a stable order.
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub runs: Vec<RunSpec>,
}

/// Options of the local executor.
#[derive(Clone, Debug, Default)]
pub struct LocalOptions {
    /// Concurrent runs (0: one per core).
    pub workers: usize,
    /// Run again the runs that failed before.
    pub retry_failed: bool,
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
    pub already_done: usize,
    pub ran: usize,
    pub failed: usize,
}

/// The run directory of `spec` in `store`.
pub fn run_dir(store: &Path, spec: &RunSpec) -> PathBuf {
    store.join("runs").join(spec.identity())
}

/// Runs every run of `plan` whose summary is missing from `store`.
pub fn run_local(
    plan: &Plan,
    store: &Path,
    _opts: &LocalOptions,
    events: &mut dyn FnMut(SweepEvent),
) -> Result<SweepReport, crate::Error> {
    let mut report = SweepReport {
        total: plan.runs.len(),
        ..Default::default()
    };
    for spec in &plan.runs {
        let dir = run_dir(store, spec);
        if store::is_finished(&dir) {
            report.already_done += 1;
            continue;
        }
        let id = spec.identity();
        events(SweepEvent::Started { id: id.clone() });
        match crate::run::execute(spec, Some(&dir), &mut |_| true) {
            Ok(summary) => {
                report.ran += 1;
                events(SweepEvent::Finished {
                    id,
                    summary: Box::new(summary),
                });
            }
            Err(e) => {
                report.failed += 1;
                events(SweepEvent::Failed {
                    id,
                    error: e.to_string(),
                });
            }
        }
    }
    Ok(report)
}

/// The summaries of all finished runs in `store`.
pub fn collect(store: &Path) -> Result<Vec<Summary>, crate::Error> {
    let runs = store.join("runs");
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&runs) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(crate::Error::io(&runs, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| crate::Error::io(&runs, e))?;
        if let Ok(s) = store::read_summary(&entry.path()) {
            out.push(s);
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}
