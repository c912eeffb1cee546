//! One module per subcommand.
pub mod adaptive;
pub mod analyze;
pub mod bench;
pub mod collect;
pub mod data;
pub mod info;
pub mod reproduce;
pub mod run;
pub mod study;
pub mod sweep;
