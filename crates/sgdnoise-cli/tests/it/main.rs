//! The command line's integration tests, one binary (see `util` for the shared helpers and how
//! tests that need data or a cluster are enabled).

mod analyze;
mod collect;
mod regression;
mod run;
mod slurm;
mod sweep;
mod util;
