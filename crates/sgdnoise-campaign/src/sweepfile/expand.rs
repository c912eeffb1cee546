//! Expanding a sweep file into its runs: every combination of every part resolved, every
//! invalid one reported, duplicates run once.

use super::axis::config_message;
use super::{err, show_value, PlanErrors, SlurmSettings, SweepFile};
use crate::Plan;
use std::collections::HashSet;

/// Most combinations one sweep file may expand to (the paper's sweeps hold about 17,000 runs).
pub const MAX_COMBINATIONS: usize = 1_000_000;

/// A sweep file expanded into runs.
#[derive(Clone, Debug)]
pub struct Expansion {
    pub plan: Plan,
    /// For each run of `plan.runs`: its axis values as `key=value` pairs.
    pub labels: Vec<Vec<(String, String)>>,
    /// Combinations dropped because they resolve to a run already in the plan.
    pub duplicates: usize,
    /// The sweep file's analysis kind, if it names one.
    pub analysis: Option<String>,
    pub slurm: SlurmSettings,
}

impl Expansion {
    /// `key=value key=value` of run `i`.
    pub fn label(&self, i: usize) -> String {
        self.labels[i]
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl SweepFile {
    /// Expands the union of the parts' products, resolves every combination and reports all
    /// invalid ones.
    pub fn expand(&self) -> Result<Expansion, PlanErrors> {
        let total = self.combinations();
        if total > MAX_COMBINATIONS {
            return Err(PlanErrors(vec![err(
                "axes",
                format!(
                    "{total} combinations is more than the {MAX_COMBINATIONS} a sweep may hold"
                ),
            )]));
        }
        let mut errors = Vec::new();
        let mut runs = Vec::with_capacity(total);
        let mut labels = Vec::with_capacity(total);
        let mut ids = HashSet::new();
        let mut duplicates = 0;
        let mut n = 0;
        for grid in self.grids() {
            let count = grid.iter().map(|a| a.points.len()).product::<usize>();
            let mut index = vec![0usize; grid.len()];
            for g in 0..count {
                // Mixed-radix digits of g, the first axis varying slowest.
                let mut rest = g;
                for (a, axis) in grid.iter().enumerate().rev() {
                    index[a] = rest % axis.points.len();
                    rest /= axis.points.len();
                }
                n += 1;
                let mut config = self.fixed.clone();
                let mut label = Vec::new();
                let mut bad = None;
                for (axis, &i) in grid.iter().zip(&index) {
                    for (key, value) in axis.keys.iter().zip(&axis.points[i]) {
                        label.push((key.clone(), show_value(value)));
                        if let Err(e) = config.set_over(key, value) {
                            bad = Some(config_message(&e));
                        }
                    }
                }
                let resolved = match bad {
                    Some(m) => Err(m),
                    None => config.resolve().map_err(|e| config_message(&e)),
                };
                match resolved {
                    Ok(spec) => {
                        if ids.insert(spec.identity()) {
                            runs.push(spec);
                            labels.push(label);
                        } else {
                            duplicates += 1;
                        }
                    }
                    Err(message) => {
                        let text = label
                            .iter()
                            .map(|(k, v)| format!("{k}={v}"))
                            .collect::<Vec<_>>()
                            .join(" ");
                        errors.push(err(format!("combination {n} ({text})"), message));
                    }
                }
            }
        }
        if let Some(a) = &self.adaptive {
            errors.extend(super::target::check_runs(a, &runs));
        }
        if !errors.is_empty() {
            return Err(PlanErrors(errors));
        }
        Ok(Expansion {
            plan: Plan {
                name: self.name.clone(),
                runs,
            },
            labels,
            duplicates,
            analysis: self.analysis.clone(),
            slurm: self.slurm.clone(),
        })
    }
}
