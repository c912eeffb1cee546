//! Progress displays, on stderr: a live line on a terminal, nothing (or sparse lines) otherwise.
//! The library reports progress through callbacks; only this module draws it.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sgdnoise_core::train::Progress;
use std::io::IsTerminal;
use std::time::Instant;

fn on_terminal(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A spinner line for one run: steps, unfitted points, training loss, rate.
pub struct RunProgress {
    bar: Option<ProgressBar>,
}

impl RunProgress {
    pub fn new(quiet: bool, max_steps: Option<u64>) -> Self {
        if !on_terminal(quiet) {
            return RunProgress { bar: None };
        }
        let bar = match max_steps {
            Some(m) => ProgressBar::new(m),
            None => ProgressBar::new_spinner(),
        };
        bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(8));
        bar.set_style(ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").unwrap());
        RunProgress { bar: Some(bar) }
    }

    pub fn update(&mut self, p: &Progress) {
        if let Some(bar) = &self.bar {
            bar.set_position(p.step);
            let rate = p.step as f64 / p.wall.max(1e-9);
            bar.set_message(format!(
                "step {}  ({} steps/s)  unfitted {}  train loss {:.3e}",
                human(p.step as f64),
                human(rate),
                p.unfitted,
                p.train_loss
            ));
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Progress of a sweep: a bar on a terminal; otherwise, with `every` > 0, a line on stderr every
/// `every` finished runs.
pub struct SweepProgress {
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    running: usize,
    failed: usize,
    every: usize,
    started: Instant,
}

impl SweepProgress {
    pub fn new(total: usize, already: usize, quiet: bool, every: usize) -> Self {
        let bar = on_terminal(quiet).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(4));
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} done  {msg}  [{elapsed_precise}, ETA {eta_precise}]",
                )
                .unwrap(),
            );
            bar.set_position(already as u64);
            bar.reset_eta();
            bar
        });
        let p = SweepProgress {
            bar,
            total,
            done: already,
            running: 0,
            failed: 0,
            every: if quiet { 0 } else { every },
            started: Instant::now(),
        };
        p.redraw();
        p
    }

    fn redraw(&self) {
        if let Some(b) = &self.bar {
            b.set_position(self.done as u64);
            b.set_message(format!(
                "running {}  failed {}  left {}",
                self.running,
                self.failed,
                self.total
                    .saturating_sub(self.done + self.failed + self.running)
            ));
        }
    }

    /// Prints a line (command output, on stdout) without breaking the bar.
    pub fn say(&self, line: String) {
        match &self.bar {
            Some(b) => b.suspend(|| crate::output::outln!("{line}")),
            None => crate::output::outln!("{line}"),
        }
    }

    pub fn started(&mut self) {
        self.running += 1;
        self.redraw();
    }

    pub fn finished(&mut self) {
        self.running = self.running.saturating_sub(1);
        self.done += 1;
        if self.bar.is_none() && self.every > 0 && self.done.is_multiple_of(self.every) {
            eprintln!(
                "  {} of {} runs done ({:.1} s)",
                self.done,
                self.total,
                self.started.elapsed().as_secs_f64()
            );
        }
        self.redraw();
    }

    pub fn failed(&mut self) {
        self.running = self.running.saturating_sub(1);
        self.failed += 1;
        self.redraw();
    }

    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// 12345678 -> "12.3M".
pub fn human(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.2}G", v / 1e9),
        v if v >= 1e6 => format!("{:.2}M", v / 1e6),
        v if v >= 1e4 => format!("{:.1}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}
