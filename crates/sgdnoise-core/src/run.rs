//! One run from a resolved spec to a summary: load data, build the model, train, store.

use crate::numeric::real::Real;
use crate::rundir::{ConfigRecord, RunWriter, Summary};
use crate::settings::{Dtype, RunSpec};
use crate::train::{self, Observer, Progress};
use crate::Error;
use std::path::Path;

/// Forwards checkpoints to the run directory (if any) and progress to a callback.
struct Tee<'a> {
    writer: Option<&'a mut RunWriter>,
    progress: &'a mut dyn FnMut(&Progress) -> bool,
    stop: bool,
}

impl Observer for Tee<'_> {
    fn checkpoint(&mut self, record: &crate::observe::Record) -> std::io::Result<()> {
        match self.writer.as_deref_mut() {
            Some(w) => w.checkpoint(record),
            None => Ok(()),
        }
    }
    fn progress(&mut self, p: &Progress) {
        self.stop = !(self.progress)(p);
    }
    fn should_stop(&self) -> bool {
        self.stop
    }
}

/// Runs `spec`; writes the run directory `out` when given. `progress` is called about every
/// 0.1 s and returns false to interrupt the run.
///
/// Image data are opened first, and a run whose data are not the ones its identity names is
/// refused ([`crate::data::DataError::NotTheRunsData`]): a spec names the canonical data set
/// unless [`crate::data::bind`] gave it the digest of the data found.
///
/// An interrupted run (stop reason `interrupted`) returns its summary but does **not** publish
/// `summary.json`: its directory stays partial (config and checkpoints only), so a sweep runs it
/// again from the start instead of taking it for a finished result.
pub fn execute(
    spec: &RunSpec,
    out: Option<&Path>,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Summary, Error> {
    match spec.dtype {
        Dtype::F32 => execute_as::<f32>(spec, out, progress),
        Dtype::F64 => execute_as::<f64>(spec, out, progress),
    }
}

/// The error of a run directory that cannot be created: the user's choice of folder (a file in
/// the way, a folder without write permission, a read-only file system) is bad input; anything
/// else (a full disk, an I/O error) is a failure.
fn run_dir_error(dir: &Path, e: std::io::Error) -> Error {
    if dir.exists() && !dir.is_dir() {
        return Error::RunDir {
            path: dir.to_path_buf(),
            error: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "a file is in the way (a run directory must be a folder)",
            ),
        };
    }
    let bad_input = [
        libc::EEXIST,
        libc::ENOTDIR,
        libc::EACCES,
        libc::EPERM,
        libc::EROFS,
        libc::ENAMETOOLONG,
        libc::EISDIR,
        libc::ELOOP,
        libc::ENOENT,
    ];
    match e.raw_os_error() {
        Some(code) if bad_input.contains(&code) => Error::RunDir {
            path: dir.to_path_buf(),
            error: e,
        },
        _ => Error::io(dir, e),
    }
}

fn execute_as<R: Real>(
    spec: &RunSpec,
    out: Option<&Path>,
    progress: &mut dyn FnMut(&Progress) -> bool,
) -> Result<Summary, Error> {
    // Before anything that grows with the run's sizes is allocated.
    crate::memory::check(spec)?;
    // Never train or store a run under an identity that does not describe its data: checked
    // before anything else is asked of the data, and again on the data loaded (a file replaced
    // in between is read again, see `data::images::pool`).
    crate::data::check_source(spec, crate::data::source_of(spec)?.as_ref())?;
    let (data, source) = crate::data::load_with_source::<R>(spec)?;
    crate::data::check_source(spec, source.as_ref())?;
    let mut model = crate::model::build::<R>(spec);
    let mut writer = match out {
        Some(dir) => Some(
            RunWriter::create(dir, &ConfigRecord::new(spec, source))
                .map_err(|e| run_dir_error(dir, e))?,
        ),
        None => None,
    };
    let mut tee = Tee {
        writer: writer.as_mut(),
        progress,
        stop: false,
    };
    let outcome = train::train(spec, model.as_mut(), &data, &mut tee)
        .map_err(|e| Error::io(out.unwrap_or(Path::new(".")), e))?;
    let summary = Summary::new(spec, &outcome);
    if let (Some(w), Some(dir)) = (writer, out) {
        if outcome.stop_reason == train::StopReason::Interrupted {
            w.abandon().map_err(|e| Error::io(dir, e))?;
        } else {
            use crate::rundir::arrays;
            let dtype = match spec.dtype {
                Dtype::F32 => arrays::Dtype::F32,
                Dtype::F64 => arrays::Dtype::F64,
            };
            let labels: Vec<f64> = data.test.y.iter().map(|v| v.to_f64()).collect();
            let mut files = vec![
                (
                    arrays::PREDICTIONS_FILE,
                    arrays::encode(&outcome.test_pred, dtype),
                ),
                (arrays::LABELS_FILE, arrays::encode(&labels, dtype)),
            ];
            if spec.exec.save_params {
                let params: Vec<f64> = model.params().iter().map(|v| v.to_f64()).collect();
                files.push((arrays::PARAMS_FILE, arrays::encode(&params, dtype)));
            }
            w.write_arrays(&files).map_err(|e| Error::io(dir, e))?;
            w.finish(&summary).map_err(|e| Error::io(dir, e))?;
        }
    }
    Ok(summary)
}
