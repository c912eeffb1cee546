//! The `[adaptive]` table of a sweep file: the searched axis, its lattice and the targets
//! ([`crate::adaptive`]).

use super::axis::axis_points;
use super::{err, PlanError};
use crate::adaptive::{Adaptive, Target, DEFAULT_COARSE, DEFAULT_MAX_ROUNDS};
use toml::Value;

/// Settings an adaptive sweep may search (the judges read curves against them).
pub const SEARCHABLE: [&str; 2] = ["temp", "lr"];

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
        ]
        .contains(&k.as_str())
        {
            errors.push(err(
                ctx(k),
                "unknown key (known: axis, values, coarse, targets, max_rounds, rwc_level, warm)",
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
                format!("{v}: the searched axis must be \"temp\" or \"lr\""),
            ));
            String::new()
        }
        None => {
            errors.push(err(
                ctx("axis"),
                "missing: the setting to search (temp or lr)",
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
    let warm = match table.get("warm") {
        None => false,
        Some(Value::Boolean(b)) => *b,
        Some(v) => {
            errors.push(err(ctx("warm"), format!("{v}: must be true or false")));
            false
        }
    };
    (errors.len() == before).then_some(Adaptive {
        axis,
        values,
        coarse,
        targets,
        max_rounds,
        rwc_level,
        warm,
    })
}
