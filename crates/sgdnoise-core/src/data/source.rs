//! Where a run's image data came from and what it was: the folder, each file's SHA-256, one
//! digest of the set, and whether it is the canonical data set (issue 15, item 7).
//!
//! A truncated but self-consistent MNIST (1000 images, header and labels to match) or a CIFAR-10
//! batch cut at a record boundary loads without complaint and trains to other results. So every
//! run records the [`DataSource`] it used (`data` in `config.json`), and a run on data other than
//! the canonical set is another run: its identity includes the set's [`DataSource::digest`]
//! (`settings::identity`). Runs on the canonical set keep the identity of their settings alone,
//! so every existing identity stays what it was.
//!
//! * **Fingerprint.** Each file's SHA-256 is that of its uncompressed content (a raw idx file and
//!   its `.gz` are the same data), computed while the file is parsed, from the bytes parsed
//!   (`idx::content_sha256`, `cifar::read_batch_with_sha256`): no second read. The digest is the
//!   SHA-256 of the files' hashes, each as 64 hex digits and a newline, in pool order.
//! * **Canonical.** MNIST and Fashion-MNIST: every file's size and SHA-256 equal the official
//!   ones (`fetch::manifest`, the table `sgdnoise data fetch` and `data check` use). CIFAR-10 has
//!   no published per-file hashes: its set counts as canonical when it has the official shape,
//!   six batch files of 10,000 records each with 5,000 images of each class in the five
//!   training batches and 1,000 in the test batch (a cut, a duplicate or a relabelling changes
//!   that); its hashes are recorded all the same.
//! * **Cost.** The digest is part of the parsed pool, which is cached for the life of the process
//!   (`images::pool`, keyed by the files' paths and checked against their size and modification
//!   time at every run): a sweep of 400 runs hashes MNIST once. Measured 2026-12-01 on this
//!   project's 2-core machine under load (SHA extensions in use): hashing MNIST's 55 MB takes
//!   0.075-0.10 s of a 0.17-0.22 s first load, and each later run's lookup (locate the files,
//!   compare sizes and times) 35-50 µs (400 lookups 0.014-0.022 s).

use super::cifar;
use super::digest::hex;
use super::fetch::content_reference;
use super::locate::RawSet;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// One data file as it was read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    pub path: PathBuf,
    /// Bytes of content (after decompression).
    pub bytes: u64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
}

/// The data a run used (module doc).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSource {
    /// `mnist`, `fashion` or `cifar10`.
    pub set: String,
    /// The folder the files were found in.
    pub dir: PathBuf,
    /// The files in pool order (training files first).
    pub files: Vec<FileDigest>,
    /// SHA-256 of the files' SHA-256s (module doc); names the data in a run's identity when it
    /// is not canonical.
    pub digest: String,
    /// Whether these are the canonical files of the set (module doc).
    pub canonical: bool,
    /// How that was decided, and for other data the first difference found.
    pub check: String,
}

impl DataSource {
    /// The source of a parsed set: `files` in pool order, `labels` the pooled classes of which
    /// the first `n_train` come from the training files.
    pub fn new(
        set: RawSet,
        dir: PathBuf,
        files: Vec<FileDigest>,
        labels: &[u8],
        n_train: usize,
    ) -> DataSource {
        let mut h = Sha256::new();
        for f in &files {
            h.update(f.sha256.as_bytes());
            h.update(b"\n");
        }
        let digest = hex(&h.finalize());
        let (canonical, check) = match content_reference(set) {
            Some(reference) => {
                let differs = files
                    .iter()
                    .zip(reference.iter())
                    .find(|(f, (bytes, sha))| f.bytes != *bytes || f.sha256 != *sha);
                match differs {
                    None if files.len() == reference.len() => (
                        true,
                        format!(
                            "every file's size and SHA-256 are the official {}'s",
                            set.title()
                        ),
                    ),
                    None => (false, format!("{} files, not {}", files.len(), reference.len())),
                    Some((f, (bytes, sha))) => (
                        false,
                        format!(
                            "{}: {} bytes of content, SHA-256 {}; the official file has {bytes} bytes, SHA-256 {sha}",
                            f.path.display(),
                            f.bytes,
                            f.sha256
                        ),
                    ),
                }
            }
            None => {
                let official = (cifar::BATCH_FILE_BYTES, [5000usize; 10], [1000usize; 10]);
                let short = files.iter().find(|f| f.bytes != official.0);
                let (train, test) = (
                    histogram(&labels[..n_train.min(labels.len())]),
                    histogram(&labels[n_train.min(labels.len())..]),
                );
                match short {
                    Some(f) => (
                        false,
                        format!(
                            "{}: {} bytes; the official batch files have {} (10,000 records)",
                            f.path.display(),
                            f.bytes,
                            official.0
                        ),
                    ),
                    None if files.len() == cifar::BATCH_FILES.len()
                        && train == official.1
                        && test == official.2 =>
                    {
                        (
                            true,
                            "CIFAR-10 has no published per-file SHA-256: six batches of 10,000 \
                             records with the official class counts (5,000 per class in training, \
                             1,000 in test) count as canonical"
                                .to_string(),
                        )
                    }
                    None => (
                        false,
                        format!(
                            "class counts {train:?} in training and {test:?} in test; the official \
                             CIFAR-10 has 5,000 per class in training and 1,000 in test"
                        ),
                    ),
                }
            }
        };
        DataSource {
            set: set.name().to_string(),
            dir,
            files,
            digest,
            canonical,
            check,
        }
    }

    /// The digest that enters a run's identity: `None` for the canonical set.
    pub fn identity_digest(&self) -> Option<String> {
        (!self.canonical).then(|| self.digest.clone())
    }
}

/// Class histogram of `labels`.
pub fn histogram(labels: &[u8]) -> [usize; 10] {
    let mut h = [0usize; 10];
    for &l in labels {
        h[l.min(9) as usize] += 1;
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(bytes: &[u64]) -> Vec<FileDigest> {
        bytes
            .iter()
            .enumerate()
            .map(|(i, &b)| FileDigest {
                path: PathBuf::from(format!("data_batch_{i}.bin")),
                bytes: b,
                sha256: format!("{i:064x}"),
            })
            .collect()
    }

    /// CIFAR-10 has no published per-file hashes: the canonical set is the official shape.
    #[test]
    fn cifar_is_canonical_by_its_official_shape_and_a_cut_batch_is_not() {
        let full = cifar::BATCH_FILE_BYTES;
        let labels: Vec<u8> = (0..60_000).map(|i| (i % 10) as u8).collect();
        let ok = DataSource::new(
            RawSet::Cifar10,
            "d".into(),
            files(&[full; 6]),
            &labels,
            50_000,
        );
        assert!(ok.canonical, "{}", ok.check);
        assert_eq!(ok.identity_digest(), None);
        // A batch cut at a record boundary (9,999 records).
        let mut sizes = [full; 6];
        sizes[2] -= cifar::RECORD_BYTES as u64;
        let cut = DataSource::new(
            RawSet::Cifar10,
            "d".into(),
            files(&sizes),
            &labels[..59_999],
            49_999,
        );
        assert!(!cut.canonical);
        assert!(cut.check.contains("data_batch_2.bin"), "{}", cut.check);
        assert_eq!(cut.identity_digest(), Some(cut.digest.clone()));
        // The right sizes with other labels (a relabelling).
        let mut relabelled = labels.clone();
        relabelled[0] = 1;
        let other = DataSource::new(
            RawSet::Cifar10,
            "d".into(),
            files(&[full; 6]),
            &relabelled,
            50_000,
        );
        assert!(!other.canonical, "{}", other.check);
    }
}
