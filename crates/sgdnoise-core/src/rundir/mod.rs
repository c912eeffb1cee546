//! The run store: one directory per run, plain files, safe on a shared filesystem.
//!
//! A run directory holds `config.json` (the resolved settings and derived values),
//! `checkpoints.jsonl` (one [`Record`] per line) and `summary.json`,
//! written last and atomically: a run is finished exactly when its summary exists. Every whole
//! file is published with [`write_atomic`] (temporary file in the same folder, fsync, rename,
//! fsync of the folder), so a reader never sees half a file, whatever kills the writer.
//!
//! A finished run is never overwritten or deleted here: [`RunWriter::create`] refuses a folder
//! that holds a `summary.json`, the summary is published only where none exists, and what has to
//! make room for a new attempt is renamed aside ([`move_aside`]). Whether a run is finished is
//! decided on the JSON alone ([`summary_state`]: it parses and names its run), not on this
//! version's [`Summary`] type, so that a summary written by another version (a key more, a key
//! less) still counts as the result it is.

pub mod arrays;
pub mod nan;
mod summary;

pub use summary::{ConfigRecord, Summary};

use crate::observe::Record;
use crate::train::Observer;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "config.json";
pub const CHECKPOINTS_FILE: &str = "checkpoints.jsonl";
pub const SUMMARY_FILE: &str = "summary.json";

/// Writes `bytes` to `path` so that `path` holds either its old content or all of the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)?;
        // Make the rename itself durable.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Serialises `value` as pretty JSON and writes it atomically.
pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut text = serde_json::to_string_pretty(value).map_err(io::Error::other)?;
    text.push('\n');
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` only if `path` does not exist yet, whole or not at all: a temporary
/// file is written and synced, then hard-linked to `path`, which fails if `path` exists (where
/// the filesystem has no hard links, it is renamed after a check, which a concurrent writer could
/// race). An existing file is an error of kind [`io::ErrorKind::AlreadyExists`].
pub fn write_new_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.{}.new.tmp", std::process::id()));
    let result = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        match fs::hard_link(&tmp, path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
            Err(_) if fs::symlink_metadata(path).is_ok() => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!("{} exists", path.display()),
                ))
            }
            Err(_) => fs::rename(&tmp, path)?,
        }
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// What the `summary.json` of a run directory says, read as plain JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SummaryState {
    /// There is none: the run is new, partial (killed or interrupted) or failed.
    Absent,
    /// A summary that parses as a JSON object with a string `id`: the finished run `id`. Its
    /// other keys may differ from this version's [`Summary`] (another version wrote it).
    Finished { id: String },
    /// A `summary.json` that is not a JSON object with an `id` (truncated, edited, damaged).
    Corrupt { reason: String },
}

/// The state of the summary in `dir` (see [`SummaryState`]).
pub fn summary_state(dir: &Path) -> SummaryState {
    let path = dir.join(SUMMARY_FILE);
    let text = match fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return SummaryState::Absent,
        Err(e) => {
            return SummaryState::Corrupt {
                reason: format!("{}: {e}", path.display()),
            }
        }
    };
    match serde_json::from_slice::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(m)) => match m.get("id") {
            Some(serde_json::Value::String(id)) => SummaryState::Finished { id: id.clone() },
            _ => SummaryState::Corrupt {
                reason: format!("{}: has no run id", path.display()),
            },
        },
        Ok(_) => SummaryState::Corrupt {
            reason: format!("{}: not a JSON object", path.display()),
        },
        Err(e) => SummaryState::Corrupt {
            reason: format!("{}: {e}", path.display()),
        },
    }
}

/// Whether `dir` holds a finished run, of any id (see [`SummaryState::Finished`]).
pub fn is_finished(dir: &Path) -> bool {
    matches!(summary_state(dir), SummaryState::Finished { .. })
}

/// Whether `dir` holds the finished run `id`: its summary parses and names `id`.
pub fn is_finished_as(dir: &Path, id: &str) -> bool {
    matches!(summary_state(dir), SummaryState::Finished { id: found } if found == id)
}

/// Reads the summary of the run in `dir` (a `null` float, which is how JSON stores a NaN of a
/// diverged run, reads back as NaN). A summary of another version reads too: the measurements
/// it lacks take their defaults (see [`Summary`]) and keys this version does not know are kept
/// in [`Summary::unknown`]; what still fails (a result this version cannot interpret) is an
/// error of kind [`io::ErrorKind::InvalidData`].
pub fn read_summary(dir: &Path) -> io::Result<Summary> {
    let text = fs::read_to_string(dir.join(SUMMARY_FILE))?;
    let (mut summary, unknown) = nan::from_str_keeping_unknown::<Summary>(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", dir.join(SUMMARY_FILE).display()),
        )
    })?;
    summary.unknown = unknown;
    summary.fill_settings_older_versions_did_not_record();
    Ok(summary)
}

/// Renames the folder `dir` to the first free `<dir>.aside-N` (N = 1, 2, ...) beside it and
/// returns the new path: how a finished (or unreadable) result makes room for a new attempt
/// without being deleted.
pub fn move_aside(dir: &Path) -> io::Result<PathBuf> {
    let name = dir
        .file_name()
        .ok_or_else(|| io::Error::other(format!("{}: has no folder name", dir.display())))?
        .to_string_lossy()
        .into_owned();
    for n in 1..=100_000 {
        let to = dir.with_file_name(format!("{name}.aside-{n}"));
        match fs::symlink_metadata(&to) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::rename(dir, &to)?;
                if let Some(parent) = to.parent().and_then(|p| File::open(p).ok()) {
                    let _ = parent.sync_all();
                }
                return Ok(to);
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    }
    Err(io::Error::other(format!(
        "{}: no free name to move it aside",
        dir.display()
    )))
}

/// Reads the checkpoints of the run in `dir` (a torn last line, left by a kill, is skipped).
pub fn read_checkpoints(dir: &Path) -> io::Result<Vec<Record>> {
    let text = fs::read_to_string(dir.join(CHECKPOINTS_FILE))?;
    Ok(text.lines().filter_map(|l| nan::from_str(l).ok()).collect())
}

/// A run directory being written.
pub struct RunWriter {
    dir: PathBuf,
    checkpoints: BufWriter<File>,
}

impl RunWriter {
    /// Starts a run in `dir`: creates it, drops what an interrupted earlier attempt left
    /// (checkpoints, temporary files), and writes the config atomically. A folder that holds a
    /// `summary.json` is refused (an error of kind [`io::ErrorKind::AlreadyExists`]): a finished
    /// run is never overwritten; move it aside first ([`move_aside`]).
    pub fn create(dir: &Path, config: &ConfigRecord) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        if fs::symlink_metadata(dir.join(SUMMARY_FILE)).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} holds a summary.json: a finished run is never overwritten (move the folder aside first)",
                    dir.display()
                ),
            ));
        }
        // Temporary files of atomic writes cut short by a kill.
        for entry in fs::read_dir(dir)?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') && name.ends_with(".tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
        write_json_atomic(&dir.join(CONFIG_FILE), config)?;
        let checkpoints = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(dir.join(CHECKPOINTS_FILE))?;
        Ok(RunWriter {
            dir: dir.to_path_buf(),
            checkpoints: BufWriter::new(checkpoints),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes the run's binary arrays ([`arrays`]: file name, bytes), each atomically, before
    /// [`RunWriter::finish`] publishes the summary. The folder holds no summary (`create`
    /// checked), so what they replace is at most the leftover of a killed attempt; a finished
    /// run's arrays are never written again.
    pub fn write_arrays(&self, files: &[(&str, Vec<u8>)]) -> io::Result<()> {
        if fs::symlink_metadata(self.dir.join(SUMMARY_FILE)).is_ok() {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} holds a summary.json: the arrays of a finished run are never rewritten",
                    self.dir.display()
                ),
            ));
        }
        for (name, bytes) in files {
            write_atomic(&self.dir.join(name), bytes)?;
        }
        Ok(())
    }

    /// Publishes the summary: the run is finished from this moment on. Where another attempt
    /// at the same run published its summary first (two executors that broke the same stale
    /// lock), that one is kept and this is not an error; any other summary found there is.
    pub fn finish(mut self, summary: &Summary) -> io::Result<()> {
        self.checkpoints.flush()?;
        self.checkpoints.get_ref().sync_all()?;
        let mut text = serde_json::to_string_pretty(summary).map_err(io::Error::other)?;
        text.push('\n');
        match write_new_atomic(&self.dir.join(SUMMARY_FILE), text.as_bytes()) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if is_finished_as(&self.dir, &summary.id) {
                    Ok(())
                } else {
                    Err(io::Error::new(
                        io::ErrorKind::AlreadyExists,
                        format!(
                            "{}: another summary appeared during the run; it is kept and this run's is not published",
                            self.dir.join(SUMMARY_FILE).display()
                        ),
                    ))
                }
            }
            other => other,
        }
    }

    /// Leaves the run partial: flushes the checkpoints written so far and publishes no summary
    /// (an interrupted run must never look finished).
    pub fn abandon(mut self) -> io::Result<()> {
        self.checkpoints.flush()
    }
}

impl Observer for RunWriter {
    fn checkpoint(&mut self, record: &Record) -> io::Result<()> {
        serde_json::to_writer(&mut self.checkpoints, record).map_err(io::Error::other)?;
        self.checkpoints.write_all(b"\n")?;
        self.checkpoints.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temporary() {
        let dir = std::env::temp_dir().join(format!("sgdnoise-store-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("a.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Regression (issue 15, item 4): starting a run deleted the summary found in its folder.
    /// A folder with a summary is refused, whatever the summary holds, and left as it was.
    #[test]
    fn a_run_writer_never_starts_over_a_summary() {
        let dir = tempfile::tempdir().unwrap();
        let spec = crate::settings::RunConfig {
            temp: Some(1.0),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        for text in ["{\"id\": \"x\"}", "{\"id\": tru", ""] {
            fs::write(dir.path().join(SUMMARY_FILE), text).unwrap();
            let e = RunWriter::create(dir.path(), &ConfigRecord::new(&spec, None))
                .err()
                .expect("refused");
            assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
            assert_eq!(
                fs::read_to_string(dir.path().join(SUMMARY_FILE)).unwrap(),
                text
            );
            assert!(!dir.path().join(CONFIG_FILE).exists());
        }
    }

    /// Regression: a store holding runs from before `dynamics` and `ntk_points` existed (their
    /// summaries lack the keys) next to newer runs warned that the runs differ in dynamics
    /// (none, sgd) and ntk_points (none, 0), and `--where dynamics=sgd` dropped the older
    /// runs, though they ran exactly that. Such a summary reads as the defaults it ran with.
    #[test]
    fn a_summary_from_before_a_setting_existed_reads_as_its_default() {
        let dir = tempfile::tempdir().unwrap();
        let spec = crate::settings::RunConfig {
            temp: Some(1.0),
            ptr: Some(16),
            pte: Some(16),
            dim: Some(4),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let summary = crate::run::execute(&spec, None, &mut |_| true).unwrap();
        let mut json: serde_json::Value = serde_json::to_value(summary).unwrap();
        let config = json["config"].as_object_mut().unwrap();
        assert_eq!(config["dynamics"], "sgd", "this version records it");
        assert_eq!(config["ntk_points"], 0, "this version records it");
        config.remove("dynamics");
        config.remove("ntk_points");
        fs::write(dir.path().join(SUMMARY_FILE), json.to_string()).unwrap();
        let s = read_summary(dir.path()).unwrap();
        assert_eq!(s.config.dynamics, Some(crate::settings::Dynamics::Sgd));
        assert_eq!(s.config.ntk_points, Some(0));
        // A setting that newer versions leave unset where it does not apply stays unset.
        assert_eq!(s.config.sde_noise, None);
    }

    #[test]
    fn a_new_file_is_published_only_where_none_exists() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        write_new_atomic(&p, b"one").unwrap();
        let e = write_new_atomic(&p, b"two").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"one");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn summary_state_reads_the_json_not_this_versions_type() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(summary_state(dir.path()), SummaryState::Absent);
        fs::write(
            dir.path().join(SUMMARY_FILE),
            "{\"id\": \"abc\", \"future\": 1}",
        )
        .unwrap();
        assert_eq!(
            summary_state(dir.path()),
            SummaryState::Finished { id: "abc".into() }
        );
        assert!(is_finished_as(dir.path(), "abc") && !is_finished_as(dir.path(), "abd"));
        for bad in ["{\"id\": \"ab", "[1]", "{\"steps\": 3}"] {
            fs::write(dir.path().join(SUMMARY_FILE), bad).unwrap();
            assert!(
                matches!(summary_state(dir.path()), SummaryState::Corrupt { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn moving_aside_takes_the_first_free_name_and_keeps_the_files() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run");
        for n in 1..=2 {
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(SUMMARY_FILE), format!("{n}")).unwrap();
            let to = move_aside(&dir).unwrap();
            assert_eq!(to, root.path().join(format!("run.aside-{n}")));
            assert_eq!(
                fs::read_to_string(to.join(SUMMARY_FILE)).unwrap(),
                n.to_string()
            );
            assert!(!dir.exists());
        }
    }
}
