//! `sgdnoise._sgdnoise`: the native half of the Python package `sgdnoise` (PyO3, abi3).
//!
//! Everything heavy happens here, in Rust: resolving settings (the same table, the same
//! messages as the command line), training, reading summaries and checkpoints, building the
//! tables of `sgdnoise_campaign::table`. Columns cross into Python as raw little buffers
//! (`bytes` of f64 / i64 / u8, and dictionary-encoded text), which the pure-Python half
//! (`python/sgdnoise/__init__.py`) turns into numpy arrays and one pandas DataFrame without a
//! Python loop over rows.
//!
//! Errors become Python exceptions with the command line's messages: a bad setting, filter or
//! data file is a `ValueError`, a folder that is not a store a `FileNotFoundError`, other file
//! errors an `OSError`, Ctrl-C during a run a `KeyboardInterrupt` (the run stays partial, as
//! with the command line).

use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyList, PyString, PyTuple};
use sgdnoise_campaign::table::{self, Filter, LoadError, Table, TableError, Values, Wanted};
use sgdnoise_core::settings::{Role, RunConfig, SETTINGS};
use sgdnoise_core::train::StopReason;
use std::collections::HashMap;
use std::path::PathBuf;

/// A library error as the Python exception the command line's exit code stands for, with the
/// message `msg`.
fn core_err_as(e: &sgdnoise_core::Error, msg: String) -> PyErr {
    match e {
        sgdnoise_core::Error::Config(_)
        | sgdnoise_core::Error::Data(_)
        | sgdnoise_core::Error::Memory(_) => PyValueError::new_err(msg),
        sgdnoise_core::Error::Io { error, .. } | sgdnoise_core::Error::RunDir { error, .. }
            if error.kind() == std::io::ErrorKind::NotFound =>
        {
            PyFileNotFoundError::new_err(msg)
        }
        sgdnoise_core::Error::Io { .. } | sgdnoise_core::Error::RunDir { .. } => {
            PyOSError::new_err(msg)
        }
        sgdnoise_core::Error::Other(_) => PyRuntimeError::new_err(msg),
    }
}

fn core_err(e: sgdnoise_core::Error) -> PyErr {
    core_err_as(&e, e.to_string())
}

fn load_err(e: LoadError) -> PyErr {
    match e {
        LoadError::Table(TableError::NotAStore(p)) => {
            PyFileNotFoundError::new_err(TableError::NotAStore(p).to_string())
        }
        LoadError::Table(t) => PyValueError::new_err(t.to_string()),
        LoadError::Store(s) => core_err(s),
    }
}

/// One column as `(name, kind, data, extra)`:
/// - `"float"`: `data` the f64 values (NaN where missing), `extra` None;
/// - `"int"` / `"bool"`: `data` the i64 / u8 values, `extra` a u8 mask (1 = missing) or None;
/// - `"str"`: `data` the i32 codes (-1 = missing), `extra` the list of distinct values.
fn column_to_py<'py>(
    py: Python<'py>,
    name: &str,
    values: &Values,
) -> PyResult<Bound<'py, PyTuple>> {
    fn mask<T>(v: &[Option<T>]) -> Option<Vec<u8>> {
        v.iter()
            .any(Option::is_none)
            .then(|| v.iter().map(|x| u8::from(x.is_none())).collect())
    }
    let bytes = |b: &[u8]| PyBytes::new(py, b).into_any();
    let none = || py.None().into_bound(py);
    let (kind, data, extra) = match values {
        Values::Float(v) => {
            let b: Vec<u8> = v
                .iter()
                .flat_map(|x| x.unwrap_or(f64::NAN).to_le_bytes())
                .collect();
            ("float", bytes(&b), none())
        }
        Values::Int(v) => {
            let b: Vec<u8> = v
                .iter()
                .flat_map(|x| x.unwrap_or(0).to_le_bytes())
                .collect();
            let m = mask(v).map_or_else(none, |m| bytes(&m));
            ("int", bytes(&b), m)
        }
        Values::Bool(v) => {
            let b: Vec<u8> = v.iter().map(|x| u8::from(x.unwrap_or(false))).collect();
            let m = mask(v).map_or_else(none, |m| bytes(&m));
            ("bool", bytes(&b), m)
        }
        Values::Str(v) => {
            let mut index: HashMap<&str, i32> = HashMap::new();
            let mut distinct: Vec<&str> = Vec::new();
            let mut codes: Vec<u8> = Vec::with_capacity(4 * v.len());
            for s in v {
                let code = match s {
                    None => -1,
                    Some(s) => *index.entry(s.as_str()).or_insert_with(|| {
                        distinct.push(s.as_str());
                        (distinct.len() - 1) as i32
                    }),
                };
                codes.extend(code.to_le_bytes());
            }
            let list = PyList::new(py, distinct.iter().map(|s| PyString::new(py, s)))?;
            ("str", bytes(&codes), list.into_any())
        }
    };
    PyTuple::new(
        py,
        [
            PyString::new(py, name).into_any(),
            PyString::new(py, kind).into_any(),
            data,
            extra,
        ],
    )
}

fn table_to_py<'py>(py: Python<'py>, t: &Table) -> PyResult<Bound<'py, PyList>> {
    let cols = t
        .columns
        .iter()
        .map(|c| column_to_py(py, &c.name, &c.values))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, cols)
}

/// Python filter values (`None`, a bool, a number, a string, each or a list of them) as
/// [`Filter`]s.
fn filters_from_py(filters: Vec<(String, Vec<Bound<'_, PyAny>>)>) -> PyResult<Vec<Filter>> {
    let mut out = Vec::with_capacity(filters.len());
    for (column, values) in filters {
        let mut any_of = Vec::with_capacity(values.len());
        for v in values {
            let w = if v.is_none() {
                Wanted::Missing
            } else if v.is_instance_of::<PyBool>() {
                Wanted::Bool(v.extract()?)
            } else if let Ok(s) = v.extract::<String>() {
                Wanted::Text(s)
            } else if let Ok(x) = v.extract::<f64>() {
                Wanted::Number(x)
            } else {
                return Err(PyTypeError::new_err(format!(
                    "cannot select `{column}` by {}: give a number, a string, a bool, None or a list of them",
                    v.repr()?
                )));
            };
            any_of.push(w);
        }
        out.push(Filter { column, any_of });
    }
    Ok(out)
}

/// The runs table of the store at `store` (see `sgdnoise_campaign::table`), filtered.
#[pyfunction]
fn runs_table<'py>(
    py: Python<'py>,
    store: PathBuf,
    filters: Vec<(String, Vec<Bound<'py, PyAny>>)>,
) -> PyResult<Bound<'py, PyList>> {
    let filters = filters_from_py(filters)?;
    let t = py
        .detach(|| table::load_runs(&store, &filters))
        .map_err(load_err)?;
    table_to_py(py, &t)
}

/// The checkpoints table (long format) of the store's runs that pass `filters`.
#[pyfunction]
fn checkpoints_table<'py>(
    py: Python<'py>,
    store: PathBuf,
    filters: Vec<(String, Vec<Bound<'py, PyAny>>)>,
) -> PyResult<Bound<'py, PyList>> {
    let filters = filters_from_py(filters)?;
    let t = py
        .detach(|| table::load_checkpoints(&store, &filters))
        .map_err(load_err)?;
    table_to_py(py, &t)
}

/// Trains one run: `settings` as (name, text as on the command line) over the TOML file
/// `config`. The run directory is `out` when given; or, with `store`, the run's folder in that
/// store, as a sweep runs it (skipped when finished, locked while it runs); else none, or a
/// temporary one when the checkpoints are asked for. Returns the summary as JSON and, with
/// `checkpoints`, its checkpoint columns.
#[pyfunction]
#[pyo3(signature = (settings, config=None, out=None, store=None, checkpoints=false))]
fn run<'py>(
    py: Python<'py>,
    settings: Vec<(String, String)>,
    config: Option<PathBuf>,
    out: Option<PathBuf>,
    store: Option<PathBuf>,
    checkpoints: bool,
) -> PyResult<(String, Option<Bound<'py, PyList>>)> {
    let bad = |e: sgdnoise_core::settings::ConfigError| PyValueError::new_err(e.to_string());
    let base = match &config {
        Some(path) => RunConfig::from_toml_file(path).map_err(bad)?,
        None => RunConfig::default(),
    };
    let mut given = RunConfig::default();
    for (key, text) in &settings {
        given.set_text(key, text).map_err(bad)?;
    }
    let spec = base.merged(&given).resolve().map_err(bad)?;
    let id = spec.identity();

    let summary = match (&out, &store) {
        (Some(_), Some(_)) => {
            return Err(PyValueError::new_err(
                "give `out` (a run directory) or `store` (a run store), not both",
            ))
        }
        (_, Some(root)) => run_in_store(py, &spec, root)?,
        (_, None) => {
            let temp_dir = match (&out, checkpoints) {
                (None, true) => {
                    Some(tempfile::tempdir().map_err(|e| PyOSError::new_err(e.to_string()))?)
                }
                _ => None,
            };
            let dir: Option<PathBuf> = out
                .clone()
                .or_else(|| temp_dir.as_ref().map(|t| t.path().join(&id)));
            let summary = run_in_dir(py, &spec, dir.as_deref())?;
            let columns = match (&dir, checkpoints) {
                (Some(d), true) => Some(checkpoint_columns(py, &summary, d)?),
                _ => None,
            };
            return finish(summary, columns);
        }
    };
    let columns = match (&store, checkpoints) {
        (Some(root), true) => Some(checkpoint_columns(
            py,
            &summary,
            &sgdnoise_campaign::Store::new(root).dir_of(&spec),
        )?),
        _ => None,
    };
    finish(summary, columns)
}

fn finish(
    summary: sgdnoise_core::rundir::Summary,
    columns: Option<Bound<'_, PyList>>,
) -> PyResult<(String, Option<Bound<'_, PyList>>)> {
    let json =
        serde_json::to_string(&summary).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok((json, columns))
}

/// The checkpoint columns of the run `summary` whose directory is `dir`.
fn checkpoint_columns<'py>(
    py: Python<'py>,
    summary: &sgdnoise_core::rundir::Summary,
    dir: &std::path::Path,
) -> PyResult<Bound<'py, PyList>> {
    let records = py
        .detach(|| sgdnoise_core::rundir::read_checkpoints(dir))
        .map_err(|e| core_err(sgdnoise_core::Error::io(dir, e)))?;
    let runs = Table::runs(std::slice::from_ref(summary))
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    table_to_py(py, &Table::checkpoints(&runs, &[0], &[records]))
}

/// Runs `spec` into `dir` (or nowhere), the GIL released; Ctrl-C (any Python signal handler
/// that raises) stops it between steps.
fn run_in_dir(
    py: Python<'_>,
    spec: &sgdnoise_core::settings::RunSpec,
    dir: Option<&std::path::Path>,
) -> PyResult<sgdnoise_core::rundir::Summary> {
    let id = spec.identity();
    let mut interrupt: Option<PyErr> = None;
    let result = py.detach(|| {
        sgdnoise_core::run::execute(spec, dir, &mut |_| match Python::attach(|py| {
            py.check_signals()
        }) {
            Ok(()) => true,
            Err(e) => {
                interrupt = Some(e);
                false
            }
        })
    });
    // The command line's context: `error: run <id>: ...`.
    let summary = result.map_err(|e| core_err_as(&e, format!("run {id}: {e}")))?;
    if summary.stop_reason == StopReason::Interrupted {
        return Err(interrupt.unwrap_or_else(|| {
            PyRuntimeError::new_err(format!(
                "run {id} was interrupted at step {}",
                summary.steps
            ))
        }));
    }
    Ok(summary)
}

/// Runs `spec` in the store at `root` as a sweep does (`sgdnoise_campaign::run_one`): a
/// finished run is read back, not run again; the run is locked while it runs.
fn run_in_store(
    py: Python<'_>,
    spec: &sgdnoise_core::settings::RunSpec,
    root: &std::path::Path,
) -> PyResult<sgdnoise_core::rundir::Summary> {
    use sgdnoise_campaign::{RunOutcome, Store};
    use std::sync::atomic::{AtomicBool, Ordering};
    let store = Store::new(root);
    store.create().map_err(core_err)?;
    let id = spec.identity();
    let stop = AtomicBool::new(false);
    let mut interrupt: Option<PyErr> = None;
    let outcome = py.detach(|| {
        std::thread::scope(|s| {
            let worker = s.spawn(|| {
                sgdnoise_campaign::run_one(&store, spec, false, Some(&stop), &mut |_| {})
            });
            // Python's signal handlers run on this (the calling) thread only.
            while !worker.is_finished() {
                std::thread::sleep(std::time::Duration::from_millis(50));
                if interrupt.is_none() {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        interrupt = Some(e);
                        stop.store(true, Ordering::SeqCst);
                    }
                }
            }
            worker.join().unwrap_or_else(|_| {
                Err(sgdnoise_core::Error::Other(format!(
                    "run {id}: the run's thread panicked"
                )))
            })
        })
    });
    let dir = store.dir_of(spec);
    match outcome.map_err(core_err)? {
        RunOutcome::Finished(s) => Ok(*s),
        RunOutcome::AlreadyDone => sgdnoise_core::rundir::read_summary(&dir)
            .map_err(|e| core_err(sgdnoise_core::Error::io(&dir, e))),
        RunOutcome::Failed(msg) => Err(PyRuntimeError::new_err(format!(
            "run {id} failed: {msg} (recorded in its failed.json)"
        ))),
        RunOutcome::PreviouslyFailed(msg) => Err(PyRuntimeError::new_err(format!(
            "run {id} failed before: {msg} (delete {} to run it again)",
            dir.join(sgdnoise_campaign::FAILED_FILE).display()
        ))),
        RunOutcome::Busy(holder) => Err(PyRuntimeError::new_err(format!(
            "run {id} is being run by {holder}"
        ))),
        RunOutcome::Interrupted => Err(interrupt
            .unwrap_or_else(|| PyRuntimeError::new_err(format!("run {id} was interrupted")))),
    }
}

/// Every run setting as `(name, help)`, in the order of the settings table; the help line is
/// the one `sgdnoise run --help` shows (doc, unit, default, scope). Execution settings
/// (`threads`, `data_dir`) included.
#[pyfunction]
fn settings() -> Vec<(&'static str, String, bool)> {
    SETTINGS
        .iter()
        .map(|s| (s.name, s.help(), s.role == Role::Result))
        .collect()
}

/// Every run setting as `(name, kind)`, kind `"int"`, `"float"`, `"name"` or `"path"` (the
/// value kind of the settings table): how `load_fits` types a condition column of that name.
#[pyfunction]
fn setting_kinds() -> Vec<(&'static str, &'static str)> {
    use sgdnoise_core::settings::ValueKind;
    SETTINGS
        .iter()
        .map(|s| {
            let kind = match s.kind {
                ValueKind::Integer { .. } => "int",
                ValueKind::Number => "float",
                ValueKind::Name(_) => "name",
                ValueKind::Path => "path",
            };
            (s.name, kind)
        })
        .collect()
}

/// The native half of the sgdnoise Python package; use the functions of `sgdnoise` itself.
#[pymodule]
fn _sgdnoise(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", sgdnoise_core::VERSION)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(runs_table, m)?)?;
    m.add_function(wrap_pyfunction!(checkpoints_table, m)?)?;
    m.add_function(wrap_pyfunction!(settings, m)?)?;
    m.add_function(wrap_pyfunction!(setting_kinds, m)?)?;
    Ok(())
}
