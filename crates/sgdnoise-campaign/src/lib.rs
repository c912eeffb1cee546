//! sgdnoise-campaign: many runs. A grid of runs is planned from a sweep file ([`SweepFile`],
//! syntax in [`sweepfile`]) or a preset ([`presets`]) and executed, locally ([`local`]) or as
//! SLURM job arrays ([`slurm`]), so that no finished run is ever lost or run twice.
//!
//! Store layout (plain files, safe on a shared filesystem, no database):
//! - `STORE/runs/<id>/` is the run directory of the run with identity `<id>`
//!   (see [`sgdnoise_core::settings::RunSpec::identity`]): `config.json`, `checkpoints.jsonl`, and
//!   `summary.json`, published last and atomically. A run is finished exactly when its summary
//!   exists; finished runs are never run again. A directory without a summary is *partial* (an
//!   attempt that was killed or interrupted): the next attempt resets it.
//! - `STORE/runs/<id>/failed.json`: the error of a failed attempt (an `Err` of
//!   [`sgdnoise_core::run::execute`], or a panic), written atomically. Failed runs are skipped unless
//!   retried. A diverged run is a result (a summary with stop reason `diverged`), not a failure.
//! - `STORE/locks/<id>.lock`: held while an executor runs `<id>` (see [`lock`]).
//! - `STORE/slurm/`: job-array scripts, frozen task lists and logs (see [`slurm`]).

pub mod local;
pub mod lock;
pub mod presets;
pub mod slurm;
pub mod sweepfile;
pub mod table;

pub use local::{
    collect, missing, read_failure, run_dir, run_local, run_one, run_state, status, FailureRecord,
    LocalOptions, RunOutcome, RunState, StatusReport, SweepEvent, SweepReport, FAILED_FILE,
};
pub use sweepfile::{Axis, Expansion, PlanError, PlanErrors, SlurmSettings, SweepFile};

use sgdnoise_core::settings::RunSpec;

/// A planned sweep: the runs it consists of, in a stable order.
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub runs: Vec<RunSpec>,
}
