//! SIGINT and SIGTERM (Ctrl-C, and the signal SLURM sends at a time limit), through signal-hook.
//!
//! The first signal raises a stop flag: a run in flight is interrupted and stays partial (never
//! a half-written summary), no new run starts, and the command ends with exit code 128 + the
//! signal (130 for Ctrl-C). A second signal ends the process at once with that code.

use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

struct Handlers {
    stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

static HANDLERS: OnceLock<Handlers> = OnceLock::new();

fn handlers() -> &'static Handlers {
    HANDLERS.get_or_init(|| {
        let stop = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM] {
            // The shutdown must be registered before the flag: it fires only once the flag is
            // already up, i.e. on the second signal.
            let _ = signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, stop.clone());
            let _ = signal_hook::flag::register(sig, stop.clone());
            let _ = signal_hook::flag::register_usize(sig, which.clone(), sig as usize);
        }
        Handlers { stop, which }
    })
}

/// Installs the handlers (once) and returns the stop flag they raise.
pub fn stop_flag() -> Arc<AtomicBool> {
    handlers().stop.clone()
}

/// Raises the stop flag from inside the program (e.g. when stdout was closed).
pub fn request_stop() {
    if let Some(h) = HANDLERS.get() {
        h.stop.store(true, Ordering::SeqCst);
    }
}

/// The signal that raised the stop flag, if one did.
pub fn received() -> Option<i32> {
    match HANDLERS.get()?.which.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s as i32),
    }
}

/// The error to end with when a signal stopped the command, or Ok.
pub fn check(note: &str) -> anyhow::Result<()> {
    match received() {
        Some(signal) => Err(crate::exit::Interrupted {
            signal,
            note: note.to_string(),
        }
        .into()),
        None => Ok(()),
    }
}
