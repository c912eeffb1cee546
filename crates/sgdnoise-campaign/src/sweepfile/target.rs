//! The `[adaptive]` table of a sweep file: the searched axis, its lattice and the targets
//! (the search itself is the `adaptive` module, above this one).

use super::axis::axis_points;
use super::{err, PlanError};
use serde::Serialize;
use toml::Value;

/// What an adaptive sweep locates on its axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// T_c by method (a): where the seed-mean relative weight change crosses its level.
    TcRwc,
    /// T_c by method (b): where the seed-mean test error leaves its low-T plateau.
    TcPlateau,
    /// The divergence edge: the lowest value at which most seeds diverge.
    Divergence,
    /// The optimal value: the minimum of the seed-mean test error, with both neighbours.
    TOpt,
    /// T_c by method (e): where the seed-mean relative NTK change crosses its level (runs
    /// with `ntk_points` > 0).
    TcNtk,
    /// B*(P) of the (B, eta) study: where the ratio r(B) of a whole column (every `inner`
    /// value and seed at one batch size) to the smallest-B column first reaches 2.
    BStar,
}

impl Target {
    /// Every target, in the order of their names.
    pub const ALL: [Target; 6] = [
        Target::TcRwc,
        Target::TcPlateau,
        Target::Divergence,
        Target::TOpt,
        Target::TcNtk,
        Target::BStar,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Target::TcRwc => "tc_rwc",
            Target::TcPlateau => "tc_plateau",
            Target::Divergence => "divergence",
            Target::TOpt => "t_opt",
            Target::TcNtk => "tc_ntk",
            Target::BStar => "b_star",
        }
    }

    pub fn parse(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// The `[adaptive]` table of a sweep file, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Adaptive {
    /// The searched setting (`temp` or `lr`).
    pub axis: String,
    /// The lattice, ascending.
    pub values: Vec<Value>,
    /// Round 0 takes every `coarse`-th lattice point and the last.
    pub coarse: usize,
    pub targets: Vec<Target>,
    /// Most refinement rounds after round 0.
    pub max_rounds: usize,
    /// Target `tc_rwc`: the level of the relative weight change (default: the analysis'
    /// main level, 1/sqrt(width)).
    pub rwc_level: Option<f64>,
    /// Warm start: every cell after the first starts from the brackets the cell before it
    /// located (its round 0 waits for that cell) instead of from the coarse points.
    pub warm: bool,
    /// Target `tc_ntk`: the level of the relative NTK change (default: the main level of
    /// method (e) in the analysis, 1/2).
    pub ntk_level: Option<f64>,
    /// Axes folded into each point of the search instead of into the cell (`b_star`: `lr`,
    /// so that a point is a whole column of the (B, eta) plane); empty for the other targets.
    pub inner: Vec<String>,
    /// Seed combinations a newly sampled point starts with (the first ones of the point, in
    /// candidate order); it gets the rest only when a decision needs them (None: all at once).
    pub seeds: Option<usize>,
    /// With `seeds` given as a list (`seeds = [2, 5]`): the seed counts, ascending, a partial
    /// point is filled to one step at a time, each judged again before the next (then all of
    /// them); empty: the rest at once.
    pub seed_steps: Vec<usize>,
    /// With `seeds`: standard errors by which a partial point's seed mean must clear the
    /// decisive value (the minimum of `t_opt`, the level of `tc_rwc`) for its other seeds to be
    /// left unrun (None: [`DEFAULT_SEPARATION`]; 0: only the decisive points are filled).
    pub separation: Option<f64>,
}

/// Default of `separation`, in standard errors (SPEC §12).
pub const DEFAULT_SEPARATION: f64 = 3.0;
/// Largest `separation` a sweep file may ask for.
pub const MAX_SEPARATION: f64 = 10.0;

/// Default of `coarse`.
pub const DEFAULT_COARSE: usize = 4;
/// Default of `max_rounds`.
pub const DEFAULT_MAX_ROUNDS: usize = 8;

impl Adaptive {
    /// The seed combinations a partial point with `have` of its `full` is filled to next: the
    /// first of `seed_steps` above `have`, else all of them.
    pub fn next_seeds(&self, have: usize, full: usize) -> usize {
        self.seed_steps
            .iter()
            .copied()
            .find(|&n| n > have)
            .unwrap_or(full)
            .min(full)
    }

    /// The lattice indices of round 0.
    pub fn coarse_points(&self) -> Vec<usize> {
        let all: Vec<usize> = (0..self.values.len()).collect();
        self.coarse_of(&all)
    }

    /// Every `coarse`-th of the lattice indices `own` (ascending) and the last: round 0 over
    /// the whole lattice, or over a part's own sub-lattice.
    pub fn coarse_of(&self, own: &[usize]) -> Vec<usize> {
        let mut v: Vec<usize> = own.iter().copied().step_by(self.coarse.max(1)).collect();
        if let Some(&last) = own.last() {
            if v.last() != Some(&last) {
                v.push(last);
            }
        }
        v
    }
}

/// Settings an adaptive sweep may search (the judges read curves against them).
pub const SEARCHABLE: [&str; 3] = ["temp", "lr", "batch"];

/// Most refinement rounds a sweep file may ask for.
pub const MAX_ROUNDS: usize = 64;

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Parses and checks `[adaptive]`; every problem goes to `errors` (context `[adaptive].KEY`).
pub(crate) fn parse(table: &toml::Table, errors: &mut Vec<PlanError>) -> Option<Adaptive> {
    let ctx = |k: &str| format!("[adaptive].{k}");
    let before = errors.len();
    for k in table.keys() {
        if ![
            "axis",
            "values",
            "coarse",
            "targets",
            "max_rounds",
            "rwc_level",
            "warm",
            "seeds",
            "separation",
            "ntk_level",
            "inner",
        ]
        .contains(&k.as_str())
        {
            errors.push(err(
                ctx(k),
                "unknown key (known: axis, values, coarse, targets, max_rounds, rwc_level, warm, ntk_level, inner, seeds, separation)",
            ));
        }
    }
    let axis = match table.get("axis") {
        Some(Value::String(s)) if SEARCHABLE.contains(&s.replace('-', "_").as_str()) => {
            s.replace('-', "_")
        }
        Some(v) => {
            errors.push(err(
                ctx("axis"),
                format!("{v}: the searched axis must be \"temp\", \"lr\" or \"batch\""),
            ));
            String::new()
        }
        None => {
            errors.push(err(
                ctx("axis"),
                "missing: the setting to search (temp, lr or batch)",
            ));
            String::new()
        }
    };
    let mut values = Vec::new();
    match table.get("values") {
        None => errors.push(err(
            ctx("values"),
            "missing: the lattice of the search, e.g. { log2 = [-13, 2] }",
        )),
        Some(v) if !axis.is_empty() => match axis_points(&ctx("values"), &axis, v) {
            Ok(mut points) => {
                if points.iter().any(|p| number(p).is_none_or(|x| x <= 0.0)) {
                    errors.push(err(ctx("values"), "every value must be a number above 0"));
                } else {
                    points.sort_by(|a, b| {
                        number(a)
                            .unwrap_or(0.0)
                            .total_cmp(&number(b).unwrap_or(0.0))
                    });
                    points.dedup_by(|a, b| number(a) == number(b));
                    if points.len() < 2 {
                        errors.push(err(ctx("values"), "the lattice needs at least two values"));
                    }
                    values = points;
                }
            }
            Err(e) => errors.push(e),
        },
        Some(_) => {}
    }
    let count =
        |k: &str, default: usize, lo: usize, hi: usize, errors: &mut Vec<PlanError>| match table
            .get(k)
        {
            None => default,
            Some(Value::Integer(i)) if (lo as i64..=hi as i64).contains(i) => *i as usize,
            Some(v) => {
                errors.push(err(
                    ctx(k),
                    format!("{v}: must be a whole number from {lo} to {hi}"),
                ));
                default
            }
        };
    let coarse = count("coarse", DEFAULT_COARSE, 1, 1_000_000, errors);
    let max_rounds = count("max_rounds", DEFAULT_MAX_ROUNDS, 0, MAX_ROUNDS, errors);
    let names: Vec<String> = Target::ALL.iter().map(|t| t.name().to_string()).collect();
    let mut targets = Vec::new();
    match table.get("targets") {
        Some(Value::Array(a)) if !a.is_empty() => {
            for v in a {
                match v.as_str().and_then(Target::parse) {
                    Some(t) if !targets.contains(&t) => targets.push(t),
                    Some(_) => errors.push(err(ctx("targets"), format!("{v} is given twice"))),
                    None => errors.push(err(
                        ctx("targets"),
                        format!("{v}: unknown target (known: {})", names.join(", ")),
                    )),
                }
            }
        }
        Some(v) => errors.push(err(
            ctx("targets"),
            format!("{v}: a non-empty list of targets ({})", names.join(", ")),
        )),
        None => errors.push(err(
            ctx("targets"),
            format!("missing: a list of targets ({})", names.join(", ")),
        )),
    }
    let rwc_level = match table.get("rwc_level") {
        None => None,
        Some(v) => match number(v) {
            Some(x) if x.is_finite() && x > 0.0 => Some(x),
            _ => {
                errors.push(err(
                    ctx("rwc_level"),
                    format!("{v}: must be a number above 0"),
                ));
                None
            }
        },
    };
    let ntk_level = match table.get("ntk_level") {
        None => None,
        Some(v) => match number(v) {
            Some(x) if x.is_finite() && x > 0.0 => Some(x),
            _ => {
                errors.push(err(
                    ctx("ntk_level"),
                    format!("{v}: must be a number above 0"),
                ));
                None
            }
        },
    };
    let warm = match table.get("warm") {
        None => false,
        Some(Value::Boolean(b)) => *b,
        Some(v) => {
            errors.push(err(ctx("warm"), format!("{v}: must be true or false")));
            false
        }
    };
    let mut inner = Vec::new();
    match table.get("inner") {
        None => {}
        Some(Value::Array(a)) => {
            for v in a {
                match v.as_str().map(|k| k.replace('-', "_")) {
                    Some(k) if k == axis => {
                        errors.push(err(ctx("inner"), format!("{v} is the searched axis")))
                    }
                    Some(k) if !inner.contains(&k) => inner.push(k),
                    _ => errors.push(err(
                        ctx("inner"),
                        format!("{v}: a list of distinct setting names, e.g. [\"lr\"]"),
                    )),
                }
            }
        }
        Some(v) => errors.push(err(
            ctx("inner"),
            format!("{v}: a list of setting names, e.g. [\"lr\"]"),
        )),
    }
    // b_star reads whole columns of the (B, eta) plane: the batch axis, lr folded into each
    // point; the other targets read one curve per cell, which an inner axis would mix.
    if targets.contains(&Target::BStar) {
        if !axis.is_empty() && axis != "batch" {
            errors.push(err(
                ctx("targets"),
                "b_star is a batch size: search axis = \"batch\"",
            ));
        }
        if !inner.iter().any(|k| k == "lr") {
            errors.push(err(
                ctx("inner"),
                "b_star reads whole columns of the (B, eta) plane: inner = [\"lr\"]",
            ));
        }
        if warm {
            errors.push(err(
                ctx("warm"),
                "b_star starts from the coarse columns (the smallest and largest B decide every ratio): no warm start",
            ));
        }
        if let Some(t) = targets.iter().find(|t| **t != Target::BStar) {
            errors.push(err(
                ctx("targets"),
                format!(
                    "{} reads one curve per cell, b_star whole columns: search them in two sweeps",
                    t.name()
                ),
            ));
        }
    } else if axis == "batch" {
        errors.push(err(
            ctx("axis"),
            "the batch axis is searched for b_star only (targets = [\"b_star\"])",
        ));
    } else if !inner.is_empty() {
        errors.push(err(
            ctx("inner"),
            "inner axes are for b_star only (the other targets read one curve per cell)",
        ));
    }
    // `seeds = N`, or `seeds = [N, M, ...]`: the first N, then M, ... (ascending), then all.
    let (seeds, seed_steps) = match table.get("seeds") {
        None => (None, Vec::new()),
        Some(Value::Array(a)) => {
            let n: Option<Vec<i64>> = a.iter().map(Value::as_integer).collect();
            match n.as_deref().and_then(seed_counts) {
                Some((first, steps)) => (Some(first), steps),
                None => {
                    errors.push(err(
                        ctx("seeds"),
                        format!(
                            "{}: a whole number from 1 to {MAX_SEEDS}, or a list of them in ascending order (the first seeds, then the counts a point is filled to in steps)",
                            Value::Array(a.clone())
                        ),
                    ));
                    (None, Vec::new())
                }
            }
        }
        Some(_) => (Some(count("seeds", 0, 1, MAX_SEEDS, errors)), Vec::new()),
    };
    let separation = match table.get("separation") {
        None => None,
        Some(v) => match number(v) {
            Some(x) => Some(x),
            None => {
                errors.push(err(ctx("separation"), separation_range(v)));
                None
            }
        },
    };
    for (key, message) in on_demand_problems(seeds, separation, &inner) {
        errors.push(err(ctx(key), message));
    }
    (errors.len() == before).then_some(Adaptive {
        axis,
        values,
        coarse,
        targets,
        max_rounds,
        rwc_level,
        warm,
        ntk_level,
        inner,
        seeds,
        seed_steps,
        separation,
    })
}

/// Most seeds `[adaptive].seeds` (or a step of it) may name.
pub const MAX_SEEDS: usize = 1_000_000;

/// A list of seed counts (`seeds = [N, M, ...]`, `reproduce --seeds N,M`) as the first seeds and
/// the steps after them; None unless it is non-empty, each from 1 to [`MAX_SEEDS`], ascending.
pub fn seed_counts(n: &[i64]) -> Option<(usize, Vec<usize>)> {
    let ok = !n.is_empty()
        && n.iter().all(|&k| (1..=MAX_SEEDS as i64).contains(&k))
        && n.windows(2).all(|w| w[0] < w[1]);
    ok.then(|| (n[0] as usize, n[1..].iter().map(|&k| k as usize).collect()))
}

/// What `separation` may be, after the value given.
fn separation_range(v: impl std::fmt::Display) -> String {
    format!(
        "{v}: standard errors, a number from 0 to {MAX_SEPARATION} (default {DEFAULT_SEPARATION})"
    )
}

/// The checks of seeds on demand against each other and the search, as (key, message): `seeds`
/// not with inner axes (a point is then a whole column with every seed), `separation` in
/// 0..=[`MAX_SEPARATION`] and only with `seeds`. Shared by the `[adaptive]` table (errors at
/// `[adaptive].KEY`) and `reproduce --adaptive --seeds --separation` (errors naming `--KEY`).
pub fn on_demand_problems(
    seeds: Option<usize>,
    separation: Option<f64>,
    inner: &[String],
) -> Vec<(&'static str, String)> {
    let mut v = Vec::new();
    if seeds.is_some() && !inner.is_empty() {
        v.push((
            "seeds",
            "a point of an inner-axis search (b_star) is a whole column: seeds on demand is for the one-curve targets".to_string(),
        ));
    }
    if let Some(x) = separation {
        if !(x.is_finite() && (0.0..=MAX_SEPARATION).contains(&x)) {
            v.push(("separation", separation_range(x)));
        } else if seeds.is_none() {
            v.push((
                "separation",
                "decides which partial points get their other seeds: it needs `seeds` (without it every point has all its seeds)".to_string(),
            ));
        }
    }
    v
}

/// Plan-time checks of the candidate runs against the targets (errors at
/// `[adaptive].targets`): `tc_ntk` reads the NTK change, which only runs with `ntk_points`
/// record, so every candidate must have it (found from the settings, before any run).
pub(crate) fn check_runs(
    adaptive: &Adaptive,
    runs: &[sgdnoise_core::settings::RunSpec],
) -> Vec<PlanError> {
    let mut errors = Vec::new();
    if adaptive.targets.contains(&Target::TcNtk) {
        let without = runs.iter().filter(|r| r.ntk_points == 0).count();
        if without > 0 {
            errors.push(err(
                "[adaptive].targets",
                format!(
                    "tc_ntk reads the NTK change, which {without} of the {} runs do not record: give ntk_points (e.g. ntk_points = 16 in [fixed])",
                    runs.len()
                ),
            ));
        }
    }
    errors
}
