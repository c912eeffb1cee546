//! One module per subcommand.
pub mod info;
pub mod run;
pub mod study;
