//! Sizing a submission: what each run will cost, how runs are packed into array tasks, and
//! each array's time limit.
//!
//! **Cost of a run** (seconds), the first that applies:
//! 1. *measured*: the longest `wall_seconds` among the finished runs of the plan with the same
//!    settings but seeds (its cell);
//! 2. *given*: `run_seconds` (`[slurm]` or `--run-seconds`), the prior for unmeasured runs;
//! 3. *capped*: the run's own caps, `max_wall` (an upper bound) and `max_steps` (its FLOPs at a
//!    deliberately low [`NOMINAL_FLOPS`], a step priced under the run's dynamics, plus its
//!    checkpoint records with their NTK kernels), the smaller of the two;
//! 4. *unknown*: no measurement, no prior, no cap.
//!
//! Whatever the source, a cost never exceeds the bound of `max_wall` ([`CAP_OVERSHOOT`] more, for
//! the final record after the cap, plus [`RUN_OVERHEAD_SECONDS`]), and a
//! run left partial by an earlier attempt (killed at a time limit, say) costs at least twice the
//! training time its checkpoints record, so a run that outgrew its limit gets a longer one next
//! time. Every run also costs [`RUN_OVERHEAD_SECONDS`] (start, data, the last record).
//!
//! **Packing.** Runs keep plan order; a task takes runs while its cost stays within the target
//! task duration (`task_time`, default [`DEFAULT_TASK_SECONDS`]) and holds at least one. A run of
//! unknown cost is a task of its own. `runs_per_task` overrides the packing with fixed groups.
//!
//! **Time limit** of a task: its capped runs at their bound, the others times the margin
//! (`time_margin`, default [`DEFAULT_MARGIN`]), plus [`LIMIT_SLACK_SECONDS`], rounded up to a
//! minute. An array's limit is that of its longest task; an explicit `time` overrides it, and an
//! array holding a task of unknown cost gets no limit line (the partition's default).

use crate::{Plan, SlurmSettings, Store};
use serde::Serialize;
use sgdnoise_core::rundir;
use sgdnoise_core::settings::RunSpec;
use std::collections::HashMap;
use std::ops::Range;

/// Target duration of an array task when the settings give none.
pub const DEFAULT_TASK_SECONDS: f64 = 3600.0;
/// Factor on estimated (not capped) costs for the time limit when the settings give none.
pub const DEFAULT_MARGIN: f64 = 1.5;
/// Added to every run: process start, loading the data, the final record.
pub const RUN_OVERHEAD_SECONDS: f64 = 10.0;
/// Share of `max_wall` a run may pass its cap by: the records at the stop evaluate the whole
/// training and test sets (about a minute for the paper's CNN).
pub const CAP_OVERSHOOT: f64 = 0.02;
/// Added to every task's time limit.
pub const LIMIT_SLACK_SECONDS: f64 = 60.0;
/// FLOP rate assumed for a step-capped run that nothing was measured for: deliberately low (the
/// perceptron's training loop reaches about 1.1 GFLOP/s effective with its test-set records,
/// an FC step 95 GFLOP/s, README "Speed"), so that such an estimate errs long.
pub const NOMINAL_FLOPS: f64 = 1e9;

/// Where a run's cost estimate came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CostSource {
    /// Finished runs of the same cell in the store.
    Measured,
    /// Twice the training time of a partial earlier attempt.
    Partial,
    /// `run_seconds`.
    Given,
    /// `max_wall`: an upper bound.
    WallCap,
    /// `max_steps` at [`NOMINAL_FLOPS`].
    StepCap,
    /// Nothing to go by.
    Unknown,
}

impl CostSource {
    pub fn name(self) -> &'static str {
        match self {
            CostSource::Measured => "measured in the store",
            CostSource::Partial => "2x a partial attempt",
            CostSource::Given => "run_seconds",
            CostSource::WallCap => "max_wall",
            CostSource::StepCap => "max_steps",
            CostSource::Unknown => "unknown",
        }
    }
}

/// The estimated cost of one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cost {
    /// Seconds, overhead included; None when unknown.
    pub seconds: Option<f64>,
    /// Whether `seconds` is an upper bound (the `max_wall` cap), which takes no margin.
    pub bound: bool,
    pub source: CostSource,
}

/// The sizing settings, resolved to numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizingOptions {
    pub task_seconds: f64,
    pub margin: f64,
    pub run_seconds: Option<f64>,
    pub runs_per_task: Option<usize>,
}

impl SizingOptions {
    /// From checked settings (see [`SlurmSettings::check`]).
    pub fn from_settings(s: &SlurmSettings) -> SizingOptions {
        SizingOptions {
            task_seconds: s
                .task_time
                .as_deref()
                .and_then(|t| super::time::parse(t).ok())
                .map_or(DEFAULT_TASK_SECONDS, |t| t as f64),
            margin: s.time_margin.unwrap_or(DEFAULT_MARGIN),
            run_seconds: s.run_seconds,
            runs_per_task: s.runs_per_task,
        }
    }
}

/// The runs of a submission packed into array tasks.
#[derive(Clone, Debug, PartialEq)]
pub struct Packing {
    /// Per task, its range of the queued runs.
    pub tasks: Vec<Range<usize>>,
    /// Per task, its time limit in seconds (None: a run of unknown cost).
    pub limits: Vec<Option<u64>>,
    /// Per task, its estimated cost in seconds, before the margin (None: unknown).
    pub costs: Vec<Option<f64>>,
}

/// Settings but seeds: the runs whose durations tell about each other.
fn cell(spec: &RunSpec) -> String {
    let mut s = spec.clone();
    s.seeds = sgdnoise_core::settings::Seeds {
        init: 0,
        batch: 0,
        trainset: 0,
        testset: 0,
    };
    serde_json::to_string(&s).unwrap_or_default()
}

/// The longest training time of a finished run of the plan, per cell.
fn measured(plan: &Plan, store: &Store) -> HashMap<String, f64> {
    let mut out: HashMap<String, f64> = HashMap::new();
    for spec in &plan.runs {
        if let Ok(s) = rundir::read_summary(&store.dir_of(spec)) {
            if s.wall_seconds.is_finite() {
                let e = out.entry(cell(spec)).or_insert(0.0);
                *e = e.max(s.wall_seconds);
            }
        }
    }
    out
}

/// Training seconds recorded by a partial attempt at `spec` (its last checkpoint), if any.
fn partial_seconds(spec: &RunSpec, store: &Store) -> Option<f64> {
    let dir = store.dir_of(spec);
    if rundir::is_finished(&dir) {
        return None;
    }
    let records = rundir::read_checkpoints(&dir).ok()?;
    records.last().map(|r| r.wall).filter(|w| w.is_finite())
}

/// Seconds of `spec` from its step cap, where the FLOPs of a step are known.
fn step_cap_seconds(spec: &RunSpec) -> Option<f64> {
    // The default cap every run carries (10^12 steps, a safety net against runs that never end)
    // says nothing about what a run costs: only a cap the sweep set sizes a task.
    let steps =
        spec.max_steps
            .filter(|&s| s != sgdnoise_core::settings::limits::DEFAULT_MAX_STEPS)? as f64;
    let sgd_step = sgdnoise_core::bench::step_flops(spec)?;
    // A forward pass is about a third of a step's FLOPs per sample.
    let forward = sgd_step / (3.0 * spec.batch.max(1) as f64);
    // A step under the run's dynamics (SPEC §11): an SGD step of B points; every other dynamics
    // first predicts all P training points; gd_sde* then takes the gradient (plus noise) over
    // all of them in chunks of B, P/B steps' worth (gd_sde_only_unfit's sum is bounded by P),
    // while sgd_only_unfit's step is one batch again.
    let p = spec.ptr as f64;
    let step = if !spec.dynamics.sees_all_points() {
        sgd_step
    } else if spec.dynamics.is_sde() {
        p * forward + (p / spec.batch.max(1) as f64).ceil() * sgd_step
    } else {
        p * forward + sgd_step
    };
    // A record evaluates the training and test sets; records come `checkpoints_per_decade` per
    // decade of steps.
    let records = spec.checkpoints_per_decade * steps.max(10.0).log10() + 2.0;
    let record = forward * (spec.ptr + spec.pte) as f64;
    let mut flops = steps * step + records * record;
    if spec.ntk_points > 0 {
        // The NTK at every record and at init: a per-sample gradient for each of its n points
        // (about a step's FLOPs per point) and the Gram matrix, 2 n^2 parameters.
        let n = spec.ntk_points as f64;
        let params = sgdnoise_core::model::param_count(spec) as f64;
        flops += (records + 1.0) * (n * 3.0 * forward + 2.0 * n * n * params);
    }
    Some(flops / NOMINAL_FLOPS)
}

/// The cost of each of `queued` (runs of `plan`), by the rules of the module doc.
pub fn costs(plan: &Plan, store: &Store, queued: &[&RunSpec], opts: &SizingOptions) -> Vec<Cost> {
    let measured = measured(plan, store);
    queued
        .iter()
        .map(|spec| {
            let wall_cap = spec
                .max_wall
                .map(|w| w * (1.0 + CAP_OVERSHOOT) + RUN_OVERHEAD_SECONDS);
            let estimate = |seconds: f64, source| Cost {
                seconds: Some(seconds + RUN_OVERHEAD_SECONDS),
                bound: false,
                source,
            };
            let mut cost = if let Some(&m) = measured.get(&cell(spec)) {
                estimate(m, CostSource::Measured)
            } else if let Some(s) = opts.run_seconds {
                estimate(s, CostSource::Given)
            } else {
                match step_cap_seconds(spec) {
                    Some(s) if wall_cap.is_none_or(|w| s + RUN_OVERHEAD_SECONDS < w) => {
                        estimate(s, CostSource::StepCap)
                    }
                    _ => Cost {
                        seconds: wall_cap,
                        bound: wall_cap.is_some(),
                        source: if wall_cap.is_some() {
                            CostSource::WallCap
                        } else {
                            CostSource::Unknown
                        },
                    },
                }
            };
            if let Some(p) = partial_seconds(spec, store) {
                let floor = 2.0 * p + RUN_OVERHEAD_SECONDS;
                if cost.seconds.is_none_or(|s| s < floor) {
                    cost = Cost {
                        seconds: Some(floor),
                        bound: false,
                        source: CostSource::Partial,
                    };
                }
            }
            // Nothing outlasts the wall-clock cap: there the cap is the bound.
            if let (Some(w), Some(s)) = (wall_cap, cost.seconds) {
                let with_margin = if cost.bound { s } else { s * opts.margin };
                if with_margin >= w {
                    cost = Cost {
                        seconds: Some(w),
                        bound: true,
                        source: if cost.source == CostSource::Unknown {
                            CostSource::WallCap
                        } else {
                            cost.source
                        },
                    };
                }
            }
            cost
        })
        .collect()
}

/// The time limit (seconds, whole minutes) of a task holding runs of these costs; None when
/// one is unknown.
pub fn limit(costs: &[Cost], margin: f64) -> Option<u64> {
    let mut total = LIMIT_SLACK_SECONDS;
    for c in costs {
        let s = c.seconds?;
        total += if c.bound { s } else { s * margin };
    }
    Some(super::time::ceil_minutes(total))
}

/// Packs runs of these costs into array tasks (see the module doc).
pub fn pack(costs: &[Cost], opts: &SizingOptions) -> Packing {
    let mut tasks: Vec<Range<usize>> = Vec::new();
    match opts.runs_per_task {
        Some(k) => {
            let k = k.max(1);
            tasks.extend(
                (0..costs.len())
                    .step_by(k)
                    .map(|a| a..(a + k).min(costs.len())),
            );
        }
        None => {
            let mut start = 0;
            let mut sum = 0.0;
            for (i, c) in costs.iter().enumerate() {
                let open = i > start;
                match c.seconds {
                    None => {
                        if open {
                            tasks.push(start..i);
                        }
                        tasks.push(i..i + 1);
                        start = i + 1;
                        sum = 0.0;
                    }
                    Some(s) => {
                        if open && sum + s > opts.task_seconds {
                            tasks.push(start..i);
                            start = i;
                            sum = 0.0;
                        }
                        sum += s;
                    }
                }
            }
            if start < costs.len() {
                tasks.push(start..costs.len());
            }
        }
    }
    let limits = tasks
        .iter()
        .map(|r| limit(&costs[r.clone()], opts.margin))
        .collect();
    let task_costs = tasks
        .iter()
        .map(|r| costs[r.clone()].iter().map(|c| c.seconds).sum())
        .collect();
    Packing {
        tasks,
        limits,
        costs: task_costs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est(s: f64) -> Cost {
        Cost {
            seconds: Some(s),
            bound: false,
            source: CostSource::Given,
        }
    }
    const UNKNOWN: Cost = Cost {
        seconds: None,
        bound: false,
        source: CostSource::Unknown,
    };
    fn opts(task: f64) -> SizingOptions {
        SizingOptions {
            task_seconds: task,
            margin: 1.5,
            run_seconds: None,
            runs_per_task: None,
        }
    }

    #[test]
    fn runs_are_packed_up_to_the_target_duration() {
        let costs = [est(40.0), est(40.0), est(40.0), est(100.0), est(10.0)];
        let p = pack(&costs, &opts(100.0));
        assert_eq!(p.tasks, vec![0..2, 2..3, 3..4, 4..5]);
        // 80 s estimated x 1.5 + 60 s = 180 s; 100 x 1.5 + 60 = 210 s -> 4 minutes.
        assert_eq!(p.limits, vec![Some(180), Some(120), Some(240), Some(120)]);
        assert_eq!(p.costs[0], Some(80.0));
    }

    #[test]
    fn a_run_of_unknown_cost_is_a_task_of_its_own_without_a_limit() {
        let costs = [est(1.0), UNKNOWN, est(1.0), est(1.0)];
        let p = pack(&costs, &opts(3600.0));
        assert_eq!(p.tasks, vec![0..1, 1..2, 2..4]);
        assert_eq!(p.limits[1], None);
        assert_eq!(p.costs[1], None);
    }

    #[test]
    fn runs_per_task_scales_the_time_limit_with_what_a_task_holds() {
        // The defect of the first `sweep slurm`: 4 runs per task kept the limit of one.
        let capped = Cost {
            seconds: Some(10_010.0),
            bound: true,
            source: CostSource::WallCap,
        };
        let o = SizingOptions {
            runs_per_task: Some(4),
            ..opts(3600.0)
        };
        let p = pack(&[capped; 6], &o);
        assert_eq!(p.tasks, vec![0..4, 4..6]);
        // Caps take no margin: 4 x 10 010 + 60 s = 40 100 s -> 11:09:00.
        assert_eq!(p.limits[0], Some(40_140));
        assert_eq!(super::super::time::format(p.limits[0].unwrap()), "11:09:00");
        assert_eq!(p.limits[1], Some(20_100));
    }

    /// Regression: the step-cap estimate priced a gd_sde step as one SGD step of B points,
    /// though it takes the gradient over all P (P/B times the work, plus predicting all P), so a
    /// step-capped gd_sde sweep on SLURM got time limits P/B times too short; the NTK's kernels
    /// at each record were not counted either.
    #[test]
    fn step_cap_cost_counts_the_dynamics_and_the_ntk() {
        let ratio_of = |a: &f64, b: &f64| a / b;
        let spec = |extra: &str| {
            let text = format!(
                "arch = \"mlp\"\nptr = 1024\nbatch = 16\ntemp = 0.01\nmax_steps = 10000\n{extra}"
            );
            sgdnoise_core::settings::RunConfig::from_toml_str(&text)
                .unwrap()
                .resolve()
                .unwrap()
        };
        let sgd = step_cap_seconds(&spec("")).unwrap();
        let unfit = step_cap_seconds(&spec("dynamics = \"sgd_only_unfit\"")).unwrap();
        let sde = step_cap_seconds(&spec("dynamics = \"gd_sde\"")).unwrap();
        let ntk = step_cap_seconds(&spec("ntk_points = 128")).unwrap();
        // Per step, P/B = 64 batches' worth of gradient plus a forward pass over P (64/3 steps'
        // worth); the records (the same for all three) dilute the ratio of the whole runs.
        let ratio = sde / sgd;
        assert!(ratio > 30.0 && ratio < 90.0, "gd_sde / sgd = {ratio}");
        // sgd_only_unfit: one batch, plus the forward pass over all P.
        let ratio = unfit / sgd;
        assert!(
            ratio > 5.0 && ratio < ratio_of(&sde, &sgd) / 2.0,
            "sgd_only_unfit / sgd = {ratio}"
        );
        assert!(ntk > 1.5 * sgd, "ntk {ntk} vs sgd {sgd}");
    }
}
