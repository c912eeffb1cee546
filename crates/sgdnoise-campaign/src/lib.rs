//! sgdnoise-campaign: many runs. A grid of runs is planned from a sweep file ([`SweepFile`],
//! syntax in [`sweepfile`]) or a preset ([`presets`]) and executed, locally ([`local`]) or as
//! SLURM job arrays ([`slurm`]), so that no finished run is ever lost or run twice.
//!
//! The store's layout is in [`store`]; a run's own files are `sgdnoise_core::rundir`'s.

// Nothing below the command line prints: progress and results reach it through values and callbacks.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod adaptive;
pub mod local;
pub mod lock;
pub mod presets;
pub mod slurm;
pub mod store;
pub mod sweepfile;
pub mod table;

pub use local::{
    bind_data, check_data, missing, read_failure, run_local, run_one, run_state, status,
    FailureRecord, LocalOptions, RunOutcome, RunState, StatusReport, SweepEvent, SweepReport,
    FAILED_FILE,
};
pub use store::{Collection, SkipReason, Skipped, Store};
pub use sweepfile::{Axis, Expansion, PlanError, PlanErrors, SlurmSettings, SweepFile};

use sgdnoise_core::settings::RunSpec;

/// A planned sweep: the runs it consists of, in a stable order.
#[derive(Clone, Debug)]
pub struct Plan {
    pub name: String,
    pub runs: Vec<RunSpec>,
}
