//! The run store: one directory per run, plain files, safe on a shared filesystem.
//!
//! A run directory holds `config.json` (the resolved settings and derived values),
//! `checkpoints.jsonl` (one [`Record`] per line) and `summary.json`,
//! written last and atomically: a run is finished exactly when its summary exists. Every whole
//! file is published with [`write_atomic`] (temporary file in the same folder, fsync, rename,
//! fsync of the folder), so a reader never sees half a file, whatever kills the writer.

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

/// Whether the run in `dir` finished (its summary exists and parses).
pub fn is_finished(dir: &Path) -> bool {
    read_summary(dir).is_ok()
}

/// Reads the summary of the run in `dir` (a `null` float, which is how JSON stores a NaN of a
/// diverged run, reads back as NaN).
pub fn read_summary(dir: &Path) -> io::Result<Summary> {
    let text = fs::read_to_string(dir.join(SUMMARY_FILE))?;
    nan::from_str(&text).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", dir.join(SUMMARY_FILE).display()),
        )
    })
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
    /// (checkpoints, a stale summary is never there since it is written last), and writes the
    /// config atomically.
    pub fn create(dir: &Path, config: &ConfigRecord) -> io::Result<Self> {
        fs::create_dir_all(dir)?;
        let _ = fs::remove_file(dir.join(SUMMARY_FILE));
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

    /// Publishes the summary: the run is finished from this moment on.
    pub fn finish(mut self, summary: &Summary) -> io::Result<()> {
        self.checkpoints.flush()?;
        self.checkpoints.get_ref().sync_all()?;
        write_json_atomic(&self.dir.join(SUMMARY_FILE), summary)
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
}
