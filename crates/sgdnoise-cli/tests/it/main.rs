//! The command line's integration tests, one binary (see `util` for the shared helpers and how
//! tests that need data or a cluster are enabled).

mod adaptive;
mod analyze;
mod browser;
mod collect;
mod data_identity;
mod hostile;
mod integrity;
mod regression;
mod run;
mod sizes;
mod slurm;
mod sweep;
mod util;
