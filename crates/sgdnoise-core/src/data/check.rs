//! `sgdnoise data check`: where each data set's files are and whether they are the official ones.
//!
//! MNIST and Fashion-MNIST: the SHA-256 of each file's uncompressed content is compared with the
//! reference table ([`super::fetch::content_reference`]), so npm's raw files, Debian's
//! recompressed .gz and fresh downloads all pass. CIFAR-10 has no published per-file hashes: its
//! files are parsed and their class counts compared with the official ones (5000 per class in the
//! five training batches, 1000 in the test batch), and their SHA-256 is reported.

use super::fetch::{content_reference, hash_content};
use super::images::{read_pool, RawPool};
use super::locate::{locate, Located, RawSet};
pub use super::source::histogram;
use super::DataError;
use std::path::{Path, PathBuf};

/// How one file compares with the reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Match,
    Mismatch {
        expected_bytes: u64,
        expected_sha256: String,
    },
    NoReference,
}

/// One file's content size and hash.
#[derive(Clone, Debug)]
pub struct FileReport {
    pub path: PathBuf,
    /// Bytes of content (after decompression).
    pub bytes: u64,
    pub sha256: String,
    pub verdict: Verdict,
}

/// The report of one data set.
#[derive(Debug)]
pub struct SetReport {
    pub set: RawSet,
    /// Where the files are, or why they were not found.
    pub located: Result<Located, DataError>,
    pub files: Vec<FileReport>,
    /// Parse result: a one-line summary (counts, class histogram), or the error.
    pub structure: Result<String, String>,
}

impl SetReport {
    /// Found, every hash matches (or has no reference) and the files parse as expected.
    pub fn ok(&self) -> bool {
        self.located.is_ok()
            && self.structure.is_ok()
            && self
                .files
                .iter()
                .all(|f| !matches!(f.verdict, Verdict::Mismatch { .. }))
    }
}

fn summarize(pool: &RawPool) -> Result<String, String> {
    let [h, w, c] = pool.shape;
    let train = histogram(&pool.labels[..pool.n_train]);
    let test = histogram(&pool.labels[pool.n_train..]);
    let line = format!(
        "{} images {h}x{w}x{c}: {} train, {} test; train classes {train:?}, test classes {test:?}",
        pool.len(),
        pool.n_train,
        pool.len() - pool.n_train
    );
    if pool.set == RawSet::Cifar10 && (train != [5000; 10] || test != [1000; 10]) {
        return Err(format!(
            "{line}; the official CIFAR-10 has 5000 per class in train and 1000 in test"
        ));
    }
    Ok(line)
}

/// Checks one set, searching `data_dir` first (see [`super::locate`]).
pub fn check_set(set: RawSet, data_dir: Option<&Path>) -> SetReport {
    let located = locate(set, data_dir);
    let mut files = Vec::new();
    let mut structure = Err("not found".to_string());
    if let Ok(found) = &located {
        let reference = content_reference(set);
        for (i, path) in found.files.iter().enumerate() {
            let limit = super::idx::MAX_PAYLOAD + 64;
            match hash_content(path, limit) {
                Ok((bytes, sha256)) => {
                    let verdict = match reference.map(|r| r[i]) {
                        None => Verdict::NoReference,
                        Some((b, s)) if b == bytes && s == sha256 => Verdict::Match,
                        Some((b, s)) => Verdict::Mismatch {
                            expected_bytes: b,
                            expected_sha256: s.to_string(),
                        },
                    };
                    files.push(FileReport {
                        path: path.clone(),
                        bytes,
                        sha256,
                        verdict,
                    });
                }
                Err(e) => {
                    structure = Err(e.to_string());
                }
            }
        }
        if files.len() == found.files.len() {
            structure = read_pool(found)
                .map_err(|e: DataError| e.to_string())
                .and_then(|p| summarize(&p));
        }
    }
    SetReport {
        set,
        located,
        files,
        structure,
    }
}
