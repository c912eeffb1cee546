//! One module per subcommand.
pub mod bench;
pub mod collect;
pub mod data;
pub mod info;
pub mod run;
pub mod study;
pub mod sweep;
