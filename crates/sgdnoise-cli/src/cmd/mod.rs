//! One module per subcommand.
pub mod analyze;
pub mod info;
pub mod reproduce;
pub mod run;
pub mod study;
