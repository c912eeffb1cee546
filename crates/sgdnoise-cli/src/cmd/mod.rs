//! One module per subcommand.
pub mod data;
pub mod info;
pub mod run;
pub mod study;
