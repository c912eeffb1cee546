//! Standard output that ends quietly when the reader goes away.
//!
//! `sgdnoise sweep plan F | head -1` closes the pipe after one line; `println!` would then
//! panic (exit 101). [`outln!`] instead notes that stdout is closed, stops the work in flight
//! through the stop flag (a sweep leaves its running runs partial and resumable, as after
//! Ctrl-C), prints nothing more, and the command exits with 0.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether stdout was found closed.
pub fn closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

/// Writes one line to stdout (see the module doc).
pub fn line(args: std::fmt::Arguments<'_>) {
    if closed() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let result = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(e) = result {
        // A closed pipe, or any other failure to write: the reader is gone.
        let _ = e;
        CLOSED.store(true, Ordering::SeqCst);
        crate::signals::request_stop();
    }
}

/// `println!` for command output: see [`line`].
macro_rules! outln {
    () => { $crate::output::line(format_args!("")) };
    ($($arg:tt)*) => { $crate::output::line(format_args!($($arg)*)) };
}
pub(crate) use outln;
