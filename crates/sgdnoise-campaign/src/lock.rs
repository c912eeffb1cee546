//! Per-run lock files, so that several executors (local processes, SLURM tasks on many nodes)
//! can share one store without running a run twice at the same time.
//!
//! `STORE/locks/<id>.lock` is published whole, as a hard link of a private file already written
//! (the link fails if the lock exists: atomic on local filesystems and NFS), and holds the
//! holder's host, pid and process start time as JSON. The holder refreshes the file's
//! modification time while the run goes on ([`RunLock::heartbeat`]) and removes it when done. A
//! lock is stale, and is broken by the next executor, when
//! - its holder is on this host and that process is gone (or the pid now belongs to a process
//!   started at another time), or
//! - its holder is on another host and the file was not refreshed for [`STALE_AFTER_SECONDS`]
//!   (the holder died with its node), or
//! - it cannot be parsed (empty or cut short): locks are published whole (see [`acquire`]), so
//!   such a file names no live holder; it was left by a crash or a full disk, or by a version
//!   that created locks empty and wrote them afterwards.
//!
//! A lock that cannot be written (a full disk) is not left behind: the attempt removes what it
//! wrote and returns the error.
//!
//! Breaking a stale lock and taking it are two steps; two executors breaking the same stale lock
//! at the same instant could both proceed. The run then executes twice, which costs time but
//! loses nothing: both publish the same summary atomically.

use crate::Store;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A lock on another host not refreshed for this long is taken as left by a dead node.
pub const STALE_AFTER_SECONDS: u64 = 600;
/// How often a running run refreshes its lock.
pub const HEARTBEAT_SECONDS: u64 = 30;

/// Who holds a lock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockHolder {
    pub host: String,
    pub pid: u32,
    /// Start time of the process in clock ticks since boot (`/proc/PID/stat` field 22), which
    /// tells a live holder from a recycled pid.
    pub start_ticks: Option<u64>,
    /// Unix seconds when the lock was taken.
    pub since: u64,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "pid {} on {}", self.pid, self.host)
    }
}

/// The name of this machine (`/proc/sys/kernel/hostname`, else `$HOSTNAME`).
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

/// Start time of process `pid` (clock ticks since boot), None when it does not exist.
fn process_start_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // fields[0] is field 3 (state); field 22 is fields[19].
    if fields.first() == Some(&"Z") {
        return None; // a zombie has finished
    }
    fields.get(19)?.parse().ok()
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl LockHolder {
    /// This process.
    pub fn me() -> Self {
        let pid = std::process::id();
        LockHolder {
            host: hostname(),
            pid,
            start_ticks: process_start_ticks(pid),
            since: now_unix(),
        }
    }
}

/// A held run lock; dropping it releases the lock.
#[derive(Debug)]
pub struct RunLock {
    path: PathBuf,
    file: File,
    last_beat: std::time::Instant,
}

/// The result of trying to take a lock.
#[derive(Debug)]
pub enum Acquire {
    Taken(RunLock),
    /// A live executor holds it.
    Busy(LockHolder),
}

/// Reads a lock file: the holder (None when the file does not name one: empty or cut short),
/// and how long ago it was refreshed. A file that is gone is an error of kind `NotFound`.
pub fn read_lock(path: &Path) -> io::Result<(Option<LockHolder>, Duration)> {
    let text = fs::read(path)?;
    let meta = fs::metadata(path)?;
    let age = meta
        .modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .unwrap_or_default();
    let holder = serde_json::from_slice(&text).ok();
    Ok((holder, age))
}

/// Whether a lock with this holder and age is left by a dead executor (a lock that names no
/// holder is: see the module doc).
pub fn is_stale(holder: Option<&LockHolder>, age: Duration) -> bool {
    match holder {
        None => true,
        Some(h) if h.host == hostname() => match process_start_ticks(h.pid) {
            None => true,
            Some(ticks) => h.start_ticks.is_some_and(|t| t != ticks),
        },
        Some(_) => age > Duration::from_secs(STALE_AFTER_SECONDS),
    }
}

/// Tries to take the lock of run `id`, breaking a stale one.
pub fn acquire(store: &Store, id: &str) -> io::Result<Acquire> {
    let path = store.lock_path(id);
    let dir = path.parent().expect("lock path has a parent");
    fs::create_dir_all(dir)?;
    // The lock is published whole: its content is written to a private file first, then linked
    // to the lock's name, which fails if the lock exists. A kill at any moment leaves either no
    // lock or a complete one naming a dead process (never an empty file, which could not be told
    // from a live holder's for a minute), at worst with a stray private file beside it.
    let me = serde_json::to_string(&LockHolder::me()).map_err(io::Error::other)?;
    static N: AtomicUsize = AtomicUsize::new(0);
    for _ in 0..5 {
        let n = N.fetch_add(1, Ordering::Relaxed);
        let private = dir.join(format!(".{id}.{}.{n}.tmp", std::process::id()));
        let written = File::create(&private).and_then(|mut f| {
            f.write_all(me.as_bytes())?;
            f.sync_all()
        });
        if let Err(e) = written {
            // A full disk: leave nothing behind that could pass for a lock.
            let _ = fs::remove_file(&private);
            return Err(e);
        }
        let result = publish(&path, &private);
        let taken_away = !private.exists();
        let _ = fs::remove_file(&private);
        match result {
            // A cleaner took the private file for a dead writer's (see `clean_finished`): again.
            Err(e) if e.kind() == io::ErrorKind::NotFound && taken_away => continue,
            other => return other,
        }
    }
    Err(io::Error::other(format!(
        "{}: could not write the lock after 5 tries",
        path.display()
    )))
}

fn publish(path: &Path, private: &Path) -> io::Result<Acquire> {
    for _ in 0..5 {
        match fs::hard_link(private, path) {
            Ok(()) => {
                let file = match OpenOptions::new().write(true).open(path) {
                    Ok(f) => f,
                    Err(e) => {
                        let _ = fs::remove_file(path);
                        return Err(e);
                    }
                };
                return Ok(Acquire::Taken(RunLock {
                    path: path.to_path_buf(),
                    file,
                    last_beat: std::time::Instant::now(),
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                let (holder, age) = match read_lock(path) {
                    Ok(x) => x,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                if !is_stale(holder.as_ref(), age) {
                    return Ok(Acquire::Busy(holder.unwrap_or(LockHolder {
                        host: "?".into(),
                        pid: 0,
                        start_ticks: None,
                        since: 0,
                    })));
                }
                match fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(format!(
        "{}: could not take the lock after 5 tries",
        path.display()
    )))
}

/// Removes the stale locks of finished runs (an executor killed between publishing a summary and
/// releasing its lock leaves one; no executor would ever take it again), and the private files
/// of lock attempts that a dead executor left (see [`acquire`]). Returns how many locks.
pub fn clean_finished(store: &Store) -> usize {
    let Ok(entries) = fs::read_dir(store.locks_dir()) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with('.') && name.ends_with(".tmp") {
            // A private file holds its writer, as a lock does; one without a readable writer was
            // cut short by a kill (a live writer whose file is taken just writes it again).
            if let Ok((holder, age)) = read_lock(&path) {
                if is_stale(holder.as_ref(), age) {
                    let _ = fs::remove_file(&path);
                }
            }
            continue;
        }
        let Some(id) = name.strip_suffix(".lock") else {
            continue;
        };
        if !store.is_finished(id) {
            continue;
        }
        if let Ok((holder, age)) = read_lock(&path) {
            if is_stale(holder.as_ref(), age) && fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

impl RunLock {
    /// Refreshes the lock's modification time, at most every [`HEARTBEAT_SECONDS`].
    pub fn heartbeat(&mut self) {
        if self.last_beat.elapsed() >= Duration::from_secs(HEARTBEAT_SECONDS) {
            self.last_beat = std::time::Instant::now();
            let _ = self.file.set_modified(SystemTime::now());
        }
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_excludes_others_until_dropped_and_dead_holders_are_broken() {
        let root = std::env::temp_dir().join(format!("sgdnoise-lock-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let store = Store::new(&root);
        let lock = match acquire(&store, "abc").unwrap() {
            Acquire::Taken(l) => l,
            Acquire::Busy(h) => panic!("busy: {h}"),
        };
        match acquire(&store, "abc").unwrap() {
            Acquire::Busy(h) => assert_eq!(h.pid, std::process::id()),
            Acquire::Taken(_) => panic!("taken twice"),
        }
        drop(lock);
        assert!(!store.lock_path("abc").exists());
        // A lock of a process that no longer exists on this host is stale.
        let dead = LockHolder {
            host: hostname(),
            pid: u32::MAX - 1,
            start_ticks: Some(1),
            since: 0,
        };
        fs::write(
            store.lock_path("abc"),
            serde_json::to_string(&dead).unwrap(),
        )
        .unwrap();
        assert!(matches!(acquire(&store, "abc").unwrap(), Acquire::Taken(_)));
        // Another host's fresh lock is respected.
        let remote = LockHolder {
            host: "elsewhere".into(),
            ..dead
        };
        fs::write(
            store.lock_path("r"),
            serde_json::to_string(&remote).unwrap(),
        )
        .unwrap();
        assert!(matches!(acquire(&store, "r").unwrap(), Acquire::Busy(_)));
        assert!(is_stale(
            Some(&remote),
            Duration::from_secs(STALE_AFTER_SECONDS + 1)
        ));
        fs::remove_dir_all(&root).unwrap();
    }

    /// Regression (issue 15, item 2): an empty lock (left by a full disk, or by a crash of a
    /// version that wrote locks in two steps) counted as held by a live executor, so `sweep run`
    /// skipped its run as "busy elsewhere" and exited 0. It names no live holder: it is broken.
    #[test]
    fn an_empty_or_cut_lock_names_no_live_holder_and_is_broken() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::new(root.path());
        fs::create_dir_all(store.locks_dir()).unwrap();
        for (id, text) in [("e", ""), ("c", "{\"host\": \"vm\", \"pi")] {
            fs::write(store.lock_path(id), text).unwrap();
            let (holder, _) = read_lock(&store.lock_path(id)).unwrap();
            assert!(holder.is_none());
            assert!(is_stale(None, Duration::ZERO), "fresh, yet no holder");
            let lock = match acquire(&store, id).unwrap() {
                Acquire::Taken(l) => l,
                Acquire::Busy(h) => panic!("{id}: busy: {h}"),
            };
            let (holder, _) = read_lock(&store.lock_path(id)).unwrap();
            assert_eq!(holder.map(|h| h.pid), Some(std::process::id()));
            drop(lock);
        }
        assert_eq!(fs::read_dir(store.locks_dir()).unwrap().count(), 0);
    }

    /// Regression: the lock file was created empty and then written, so a kill -9 in between left
    /// an empty lock that counted as held by a live executor for a minute (a resumed sweep then
    /// skipped that run as "busy elsewhere"). It is now published whole.
    #[test]
    fn a_lock_is_published_whole_and_leaves_no_private_file() {
        let root = tempfile::tempdir().unwrap();
        let store = Store::new(root.path());
        let lock = match acquire(&store, "r1").unwrap() {
            Acquire::Taken(l) => l,
            Acquire::Busy(h) => panic!("busy: {h}"),
        };
        let (holder, _) = read_lock(&store.lock_path("r1")).unwrap();
        assert_eq!(holder.map(|h| h.pid), Some(std::process::id()));
        let names: Vec<String> = fs::read_dir(store.locks_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec!["r1.lock".to_string()]);
        assert!(matches!(acquire(&store, "r1").unwrap(), Acquire::Busy(_)));
        drop(lock);
        assert_eq!(fs::read_dir(store.locks_dir()).unwrap().count(), 0);
    }
}
