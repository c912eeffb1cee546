//! One axis of a sweep: the values of a setting, written as a list, a single value or a range
//! (`{ log2 = [a, b] }`, `{ log10 = [a, b], per_decade = n }`, `{ range = [a, b] }`).

use super::{err, PlanError};
use sgdnoise_core::settings::{setting, ConfigError, RunConfig};
use toml::Value;

/// Most points one range axis may hold.
pub const MAX_AXIS_POINTS: usize = 1_000_000;

/// One axis of the product: one setting, or several zipped settings, and its points.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The settings this axis sets (one, or several for a `[[zip]]` group).
    pub keys: Vec<String>,
    /// The points: `points[i][k]` is the value of `keys[k]` at point `i`.
    pub points: Vec<Vec<Value>>,
}

impl Axis {
    /// An axis of one setting.
    pub fn single(key: &str, points: Vec<Value>) -> Axis {
        Axis {
            keys: vec![key.to_string()],
            points: points.into_iter().map(|p| vec![p]).collect(),
        }
    }
}

/// Whether `key` takes whole numbers (sweep ranges are then rounded).
fn is_integer_key(key: &str) -> bool {
    setting(&key.replace('-', "_")).is_some_and(|s| s.kind.is_integer())
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Points of a range axis `{ log2 = [a, b], ... }` etc. `ctx` names the axis for errors.
pub(crate) fn range_points(
    ctx: &str,
    key: &str,
    table: &toml::Table,
) -> Result<Vec<Value>, PlanError> {
    let kinds: Vec<&str> = ["log2", "log10", "range"]
        .into_iter()
        .filter(|k| table.contains_key(*k))
        .collect();
    if kinds.len() != 1 {
        return Err(err(
            ctx,
            "a range axis needs exactly one of `log2 = [a, b]`, `log10 = [a, b]`, `range = [a, b]`",
        ));
    }
    let kind = kinds[0];
    for k in table.keys() {
        let allowed = match kind {
            "log2" => ["log2", "step", "per_octave"].contains(&k.as_str()),
            "log10" => ["log10", "step", "per_decade"].contains(&k.as_str()),
            _ => ["range", "step"].contains(&k.as_str()),
        };
        if !allowed {
            return Err(err(ctx, format!("unknown key `{k}` in a `{kind}` range")));
        }
    }
    let bounds = match table[kind]
        .as_array()
        .map(|a| a.iter().map(number).collect::<Vec<_>>())
    {
        Some(b) if b.len() == 2 && b.iter().all(|x| x.is_some_and(f64::is_finite)) => {
            [b[0].unwrap(), b[1].unwrap()]
        }
        _ => {
            return Err(err(
                ctx,
                format!("`{kind}` = {} must be two numbers [from, to]", table[kind]),
            ))
        }
    };
    let per = match kind {
        "log2" => table.get("per_octave"),
        "log10" => table.get("per_decade"),
        _ => None,
    };
    let step = match (table.get("step"), per) {
        (Some(_), Some(_)) => {
            return Err(err(
                ctx,
                "give `step` or `per_octave`/`per_decade`, not both",
            ))
        }
        (Some(s), None) => {
            number(s).ok_or_else(|| err(ctx, format!("`step` = {s} is not a number")))?
        }
        (None, Some(n)) => {
            let n = number(n).ok_or_else(|| err(ctx, format!("`{n}` is not a number")))?;
            if n.is_nan() || n <= 0.0 {
                return Err(err(
                    ctx,
                    format!("points per octave/decade = {n} must be > 0"),
                ));
            }
            1.0 / n
        }
        (None, None) => 1.0,
    };
    if !(step.is_finite() && step > 0.0) {
        return Err(err(ctx, format!("`step` = {step} must be a number > 0")));
    }
    let [a, b] = bounds;
    if b < a {
        return Err(err(
            ctx,
            format!("`{kind}` = [{a}, {b}]: the end is below the start"),
        ));
    }
    let n = ((b - a) / step + 1e-9).floor();
    if n >= MAX_AXIS_POINTS as f64 {
        return Err(err(
            ctx,
            format!("{} points is too many for one axis", n + 1.0),
        ));
    }
    let n = n as usize;
    let integer = is_integer_key(key);
    let mut out: Vec<Value> = Vec::with_capacity(n + 1);
    for k in 0..=n {
        let e = a + k as f64 * step;
        let x = match kind {
            "log2" if e.fract() == 0.0 => e.exp2(),
            "log2" => 2f64.powf(e),
            "log10" if e.fract() == 0.0 && e.abs() <= 300.0 => 10f64.powi(e as i32),
            "log10" => 10f64.powf(e),
            _ => e,
        };
        let v = if integer {
            let r = x.round();
            if !r.is_finite() || r.abs() >= 9.0e15 {
                return Err(err(ctx, format!("value {x} is out of range for `{key}`")));
            }
            Value::Integer(r as i64)
        } else if kind == "range" && a.fract() == 0.0 && step.fract() == 0.0 && x.abs() < 9.0e15 {
            Value::Integer(x as i64)
        } else {
            Value::Float(x)
        };
        if out.last() != Some(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

/// Points of one axis value as written (list, range table or single value), each checked
/// against the setting's type.
pub(crate) fn axis_points(ctx: &str, key: &str, value: &Value) -> Result<Vec<Value>, PlanError> {
    let points = match value {
        Value::Array(items) => items.clone(),
        Value::Table(t) => range_points(ctx, key, t)?,
        scalar => vec![scalar.clone()],
    };
    if points.is_empty() {
        return Err(err(ctx, "an axis needs at least one value"));
    }
    for p in &points {
        let mut c = RunConfig::default();
        c.set(key, p).map_err(|e| err(ctx, config_message(&e)))?;
    }
    Ok(points)
}

/// The message of a settings error, without the `config:` prefix of TOML errors.
pub(crate) fn config_message(e: &ConfigError) -> String {
    match e {
        ConfigError::Toml { message } => message.clone(),
        other => other.to_string(),
    }
}
