//! One CSV table of a store's finished runs: a row per run, an `id` column, the flat settings
//! (the [`RunConfig`] keys, resolved `temp`, `lr`, `alpha`, `ptr` filled in) and every scalar
//! field of the summary, including those this version does not know ([`Summary::unknown`],
//! named by their path: `gpu_seconds`, `config.new_setting`).

use serde_json::Value;
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::{Role, RunConfig};
use std::path::Path;

/// Summary fields in table order (scalars only; others found in a summary follow, sorted).
const SUMMARY_COLUMNS: &[&str] = &[
    "stop_reason",
    "steps",
    "t_star",
    "wall_seconds",
    "train_err",
    "test_err",
    "train_loss",
    "test_loss",
    "rel_weight_change",
    "rel_weight_change_layer_mean",
    "signal",
    "noise",
    "signal_to_noise",
    "steps_simulated",
    "full_checks",
    "check_seconds",
    "checkpoint_seconds",
    "crate_version",
];

/// Whether `key` says how a run was executed, not what it is (left out of the table).
fn is_execution_key(key: &str) -> bool {
    sgdnoise_core::settings::setting(key).is_some_and(|s| s.role == Role::Execution)
}

fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The header and rows of the table of `summaries`.
pub fn rows(summaries: &[Summary]) -> (Vec<String>, Vec<Vec<String>>) {
    let config_keys: Vec<String> = match serde_json::to_value(RunConfig::default()) {
        Ok(Value::Object(m)) => m.keys().filter(|k| !is_execution_key(k)).cloned().collect(),
        _ => Vec::new(),
    };
    let flat: Vec<serde_json::Map<String, Value>> = summaries
        .iter()
        .map(|s| {
            let mut m = match serde_json::to_value(s) {
                Ok(Value::Object(m)) => m,
                _ => serde_json::Map::new(),
            };
            for (k, v) in &s.unknown {
                m.entry(k.clone()).or_insert_with(|| v.clone());
            }
            m
        })
        .collect();
    let mut summary_keys: Vec<String> = SUMMARY_COLUMNS.iter().map(|s| s.to_string()).collect();
    let mut extra: Vec<String> = flat
        .iter()
        .flat_map(|m| m.iter())
        .filter(|(k, v)| {
            !matches!(v, Value::Object(_) | Value::Array(_))
                && k.as_str() != "id"
                && !summary_keys.contains(k)
                && !config_keys.contains(k)
        })
        .map(|(k, _)| k.clone())
        .collect();
    extra.sort();
    extra.dedup();
    summary_keys.extend(extra);

    let mut header = vec!["id".to_string()];
    header.extend(config_keys.iter().cloned());
    header.extend(summary_keys.iter().cloned());
    let rows = flat
        .iter()
        .map(|m| {
            let config = m.get("config").and_then(Value::as_object);
            let mut row = vec![cell(m.get("id"))];
            for k in &config_keys {
                // The summary holds the resolved value (temp and lr both known).
                let v = m.get(k).or_else(|| config.and_then(|c| c.get(k)));
                row.push(cell(v));
            }
            for k in &summary_keys {
                row.push(cell(m.get(k)));
            }
            row
        })
        .collect();
    (header, rows)
}

/// Writes the table of `summaries` to `path` as CSV, atomically. Returns the number of rows.
pub fn write_csv(summaries: &[Summary], path: &Path) -> Result<usize, sgdnoise_core::Error> {
    let (header, rows) = rows(summaries);
    let mut w = csv::Writer::from_writer(Vec::new());
    let to_err = |e: csv::Error| sgdnoise_core::Error::io(path, std::io::Error::other(e));
    w.write_record(&header).map_err(to_err)?;
    for r in &rows {
        w.write_record(r).map_err(to_err)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| sgdnoise_core::Error::io(path, std::io::Error::other(e.to_string())))?;
    sgdnoise_core::rundir::write_atomic(path, &bytes)
        .map_err(|e| sgdnoise_core::Error::io(path, e))?;
    Ok(rows.len())
}
