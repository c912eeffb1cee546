//! Downloading the official files (`sgdnoise data fetch`), with checksums.
//!
//! Downloads shell out to `curl -fL -C -` (resumable; `wget -c` when curl is missing) into a
//! `.part` file next to the target. A download counts only when its size and SHA-256 match the
//! reference (table from the data-sources note: tensorflow-datasets' url_checksums); a wrong one is
//! deleted and the next mirror tried; a short one is kept so the next try resumes it.
//! MNIST and Fashion-MNIST: the four `.gz` files go to `<root>/mnist/` or `<root>/fashion-mnist/`,
//! are decompressed to the raw idx files (which load fastest), whose size and SHA-256 must match the
//! reference of the uncompressed content, and the `.gz` is removed.
//! CIFAR-10: `cifar-10-binary.tar.gz` goes to `<root>/`, and only the six expected `.bin` members
//! are extracted to `<root>/cifar-10-batches-bin/` (output names come from our own list, never from
//! the archive; any link in the archive is refused), each of the expected size, then parsed.
//! Files are written under a temporary name and renamed, so an interrupted fetch leaves no
//! half-written data file. Nothing here prints; `log` receives one line per step.
//!
//! The work is divided by concern: [`manifest`] (which files, from where, with which checksums),
//! [`download`] (curl/wget with resume, mirror after mirror), [`verify`] (size and SHA-256
//! checks) and [`unpack`] (gunzip and archive extraction); this module holds the error type and
//! [`fetch`], which runs them in order. Every public item is re-exported here, so callers keep
//! using the paths `data::fetch::*`.

pub mod download;
pub mod manifest;
pub mod unpack;
pub mod verify;

pub use download::{download_verified, FetchOptions};
pub use manifest::*;
pub use unpack::{extract_cifar, gunzip_verified};
pub use verify::{hash_content, hash_file, hash_reader, hex};

use super::cifar;
use super::locate::{find_in, Located, RawSet};
use super::DataError;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    // `error`, not `source`: the message already holds it, and as a source it would print twice.
    #[error("{}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("could not download {file}:\n  {}", attempts.join("\n  "))]
    Download { file: String, attempts: Vec<String> },
    #[error("{}: {what} is wrong: {got}, expected {expected}", path.display())]
    Mismatch {
        path: PathBuf,
        what: &'static str,
        got: String,
        expected: String,
    },
    #[error("{}: unsafe or unexpected archive: {reason}", path.display())]
    Archive { path: PathBuf, reason: String },
    #[error("neither curl nor wget could be run: install one of them")]
    NoDownloader,
    #[error(transparent)]
    Data(#[from] DataError),
}

/// Maps an I/O error to [`FetchError::Io`] naming `path`.
fn io_at(path: &Path) -> impl FnOnce(io::Error) -> FetchError + '_ {
    move |error| FetchError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// `dest` with `.part` appended: where a file is written until it is verified and renamed.
fn part_path(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".part");
    PathBuf::from(s)
}

/// Downloads and verifies the files of `plan` under `root` (layout in the module doc) and returns
/// where they are.
pub fn fetch(
    plan: &Plan,
    root: &Path,
    opts: &FetchOptions,
    log: &mut dyn FnMut(&str),
) -> Result<Located, FetchError> {
    let out = root.join(plan.set.folder());
    fs::create_dir_all(&out).map_err(io_at(&out))?;
    match plan.set {
        RawSet::Mnist | RawSet::Fashion => {
            if verify::idx_present(&out, plan)? {
                log(&format!(
                    "{}: {} already present, checksums ok",
                    out.display(),
                    plan.set.title()
                ));
            } else {
                for f in &plan.files {
                    let gz = out.join(&f.name);
                    let raw = out.join(f.name.trim_end_matches(".gz"));
                    download_verified(&plan.mirrors, &f.name, &gz, &f.download, opts, log)?;
                    if let Some(want) = &f.content {
                        gunzip_verified(&gz, &raw, want)?;
                        fs::remove_file(&gz).map_err(io_at(&gz))?;
                        log(&format!("{}: content sha256 ok", raw.display()));
                    }
                }
            }
        }
        RawSet::Cifar10 => {
            let complete = cifar::BATCH_FILES.iter().all(|n| {
                fs::metadata(out.join(n)).is_ok_and(|m| m.len() == plan.cifar_member_bytes)
            });
            if complete {
                log(&format!(
                    "{}: CIFAR-10 batches already present",
                    out.display()
                ));
            } else {
                let f = plan.files.first().ok_or_else(|| {
                    FetchError::Data(DataError::Other("CIFAR-10 plan without archive".into()))
                })?;
                let archive = root.join(&f.name);
                download_verified(&plan.mirrors, &f.name, &archive, &f.download, opts, log)?;
                log(&format!(
                    "extracting the batch files into {}",
                    out.display()
                ));
                extract_cifar(&archive, &out, plan.cifar_member_bytes)?;
            }
            for n in cifar::BATCH_FILES {
                cifar::read_batch(&out.join(n))?;
            }
            log("CIFAR-10 batch files parse (labels 0..=9, whole records)");
        }
    }
    find_in(plan.set, &out).ok().flatten().ok_or_else(|| {
        FetchError::Data(DataError::Other(format!(
            "{}: files missing right after fetching",
            out.display()
        )))
    })
}
