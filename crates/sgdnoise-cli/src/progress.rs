//! Progress display: a live line on a terminal, nothing otherwise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sgdnoise_core::train::Progress;
use std::io::IsTerminal;

/// A spinner line for one run: steps, unfitted points, training loss, rate.
pub struct RunProgress {
    bar: Option<ProgressBar>,
}

impl RunProgress {
    pub fn new(quiet: bool, max_steps: Option<u64>) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
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

/// 12345678 -> "12.3M".
pub fn human(v: f64) -> String {
    match v {
        v if v >= 1e9 => format!("{:.2}G", v / 1e9),
        v if v >= 1e6 => format!("{:.2}M", v / 1e6),
        v if v >= 1e4 => format!("{:.1}k", v / 1e3),
        v => format!("{v:.0}"),
    }
}
