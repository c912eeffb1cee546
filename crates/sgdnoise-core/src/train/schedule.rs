//! When to record a checkpoint (SPEC §4): at log-spaced steps (a fixed number per decade), and
//! whenever the training loss has fallen by a further constant factor, plus at start and stop.

pub struct CheckpointSchedule {
    ratio: f64,
    next: u64,
    loss_factor: f64,
    last_loss: f64,
}

impl CheckpointSchedule {
    pub fn new(per_decade: f64, loss_factor: f64) -> Self {
        CheckpointSchedule {
            ratio: 10f64.powf(1.0 / per_decade),
            next: 1,
            loss_factor,
            last_loss: f64::INFINITY,
        }
    }

    /// Whether step `step` is due on the log-spaced grid.
    #[inline(always)]
    pub fn due(&self, step: u64) -> bool {
        step >= self.next
    }

    /// Whether a training loss seen at a stop check is low enough to record.
    pub fn loss_due(&self, loss: f64) -> bool {
        loss * self.loss_factor <= self.last_loss
    }

    /// Notes that a checkpoint was recorded at `step` with training loss `loss`.
    pub fn recorded(&mut self, step: u64, loss: f64) {
        self.last_loss = loss;
        while self.next <= step {
            self.next = ((self.next as f64 * self.ratio).ceil() as u64).max(self.next + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_spacing_keeps_a_few_hundred_records_for_ten_million_steps() {
        let mut s = CheckpointSchedule::new(10.0, 2.0);
        let mut n = 0;
        let mut step = 0;
        while step < 10_000_000 {
            step += 1;
            if s.due(step) {
                s.recorded(step, 1.0);
                n += 1;
            }
        }
        assert!((60..200).contains(&n), "{n} checkpoints");
        assert!(s.loss_due(0.5) && !s.loss_due(0.6));
    }
}
