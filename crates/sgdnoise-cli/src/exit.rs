//! Exit codes, and the errors that choose them.
//!
//! * 0: success (also when stdout was closed early: `sgdnoise sweep plan F | head -1`);
//! * 1: any other failure (a run or the store failed, a cluster command failed);
//! * 2: bad input, with a message naming the offending flag, setting, file or value;
//! * 128 + N: stopped by signal N (130 for Ctrl-C, 143 for SIGTERM), work in flight left
//!   partial and resumable.

use std::fmt;

pub const SUCCESS: u8 = 0;
pub const FAILURE: u8 = 1;
pub const BAD_INPUT: u8 = 2;

/// A user error found by the command line itself (exit code 2).
#[derive(Debug)]
pub struct BadInput(pub String);
impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadInput {}

/// The command stopped because of a signal (exit code 128 + signal).
#[derive(Debug)]
pub struct Interrupted {
    pub signal: i32,
    /// What was left and how to continue.
    pub note: String,
}
impl fmt::Display for Interrupted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interrupted by signal {}: {}", self.signal, self.note)
    }
}
impl std::error::Error for Interrupted {}

/// The exit code of a failed command.
pub fn code_of(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(i) = cause.downcast_ref::<Interrupted>() {
            return (128 + i.signal).clamp(0, 255) as u8;
        }
        if cause.downcast_ref::<BadInput>().is_some()
            || cause
                .downcast_ref::<sgdnoise_core::settings::ConfigError>()
                .is_some()
            || cause
                .downcast_ref::<sgdnoise_core::data::DataError>()
                .is_some()
            || cause
                .downcast_ref::<sgdnoise_campaign::PlanErrors>()
                .is_some()
        {
            return BAD_INPUT;
        }
        if cause
            .downcast_ref::<sgdnoise_campaign::table::TableError>()
            .is_some()
        {
            return BAD_INPUT;
        }
        if let Some(e) = cause.downcast_ref::<sgdnoise_campaign::table::LoadError>() {
            return match e {
                sgdnoise_campaign::table::LoadError::Table(_) => BAD_INPUT,
                sgdnoise_campaign::table::LoadError::Store(e) if e.is_bad_input() => BAD_INPUT,
                sgdnoise_campaign::table::LoadError::Store(_) => FAILURE,
            };
        }
        if let Some(e) = cause.downcast_ref::<sgdnoise_core::Error>() {
            return if e.is_bad_input() { BAD_INPUT } else { FAILURE };
        }
    }
    FAILURE
}
