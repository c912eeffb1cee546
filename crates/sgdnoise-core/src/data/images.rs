//! The image tasks mnist_parity, cifar_animal and fashion_parity (SPEC §6).
//!
//! A task pools the training and test files of its data set (training files first, in file
//! order), maps every pixel p in 0..=255 to (p - mean) / std with one global scalar pair per data
//! set (no per-pixel centring), relabels each class ±1, and splits the pool ([`split_indices`]):
//! shuffle the pool with the `seed_testset` stream and take the first `pte` points as the test
//! set; shuffle the rest with the `seed_trainset` stream and take the first `P` as the training
//! set. The test set therefore depends only on (`seed_testset`, `pte`), never on P or the
//! training seed. Inputs are stored NHWC: MNIST-like 28x28x1, CIFAR-10 32x32x3.
//!
//! Parsed pools (raw u8 pixels and class labels, and the [`DataSource`] with the files' SHA-256)
//! are cached for the life of the process, keyed by data set and file paths and checked against
//! each file's size and modification time, so a sweep running many runs in one process parses
//! and hashes the files once, and a file replaced meanwhile is read again.

use super::cifar;
use super::idx;
use super::locate::{self, Located, RawSet};
use super::source::{DataSource, FileDigest};
use super::{DataError, Dataset, Split};
use crate::numeric::real::Real;
use crate::numeric::rng::{self, Stream};
use crate::settings::{DatasetName, RunSpec};
use rand::seq::SliceRandom;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

/// mnist_parity pixel mean (SPEC §6, from the paper's code). Note: the 70k pool's exact mean is
/// 33.38596, and its std 78.65437; the SPEC's constants are kept as given.
pub const MNIST_MEAN: f64 = 33.31002426147461;
/// mnist_parity pixel scale (SPEC §6).
pub const MNIST_STD: f64 = 78.56748962402344;
/// cifar_animal pixel mean (SPEC §6).
pub const CIFAR_MEAN: f64 = 120.93118286132812;
/// cifar_animal pixel scale (SPEC §6).
pub const CIFAR_STD: f64 = 64.14186096191406;
/// fashion_parity pixel mean: the exact mean over all 54,880,000 pixels of the 70,000-image pool
/// (train + t10k). Computed once from the pixel-value histogram of the uncompressed files of
/// Debian's dataset-fashion-mnist (content identical to upstream, SHA-256 checked), with exact
/// rational arithmetic: sum(v * count_v) / N, rounded to f64.
pub const FASHION_MEAN: f64 = 72.96981142492712;
/// fashion_parity pixel scale: the population standard deviation (divided by N, not N-1; the two
/// differ by 8e-7 here) of the same 54,880,000 pixels, sqrt(sum(v² count_v)/N - mean²) from the
/// same histogram.
pub const FASHION_STD: f64 = 90.00009426846663;

/// How an image task turns its data set into a ±1 problem.
#[derive(Clone, Copy, Debug)]
pub struct Task {
    pub set: RawSet,
    /// Pixel normalisation: (p - mean) / std.
    pub mean: f64,
    pub std: f64,
    /// The ±1 label of a class.
    pub label: fn(u8) -> f64,
}

fn parity(class: u8) -> f64 {
    if class.is_multiple_of(2) {
        1.0
    } else {
        -1.0
    }
}

/// -1 for airplane, automobile, ship, truck (0, 1, 8, 9); +1 for the six animals.
fn animal(class: u8) -> f64 {
    if matches!(class, 0 | 1 | 8 | 9) {
        -1.0
    } else {
        1.0
    }
}

/// The recipe of an image task; `None` for synthetic data.
pub fn task(name: DatasetName) -> Option<Task> {
    match name {
        DatasetName::MnistParity => Some(Task {
            set: RawSet::Mnist,
            mean: MNIST_MEAN,
            std: MNIST_STD,
            label: parity,
        }),
        DatasetName::FashionParity => Some(Task {
            set: RawSet::Fashion,
            mean: FASHION_MEAN,
            std: FASHION_STD,
            label: parity,
        }),
        DatasetName::CifarAnimal => Some(Task {
            set: RawSet::Cifar10,
            mean: CIFAR_MEAN,
            std: CIFAR_STD,
            label: animal,
        }),
        _ => None,
    }
}

/// A parsed data set: training and test files pooled, raw bytes.
#[derive(Debug)]
pub struct RawPool {
    pub set: RawSet,
    /// (height, width, channels).
    pub shape: [usize; 3],
    /// `len() * height * width * channels` pixels, image after image, HWC.
    pub pixels: Vec<u8>,
    /// Class of each image, 0..=9.
    pub labels: Vec<u8>,
    /// How many of the images (the first ones) come from the training files.
    pub n_train: usize,
    /// The files read, in pool order.
    pub files: Vec<PathBuf>,
    /// Where the files were found, their SHA-256s, and whether they are the canonical set.
    pub source: DataSource,
}

impl RawPool {
    pub fn len(&self) -> usize {
        self.labels.len()
    }
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }
    /// Pixels of one image.
    pub fn dim(&self) -> usize {
        self.shape.iter().product()
    }
    pub fn image(&self, i: usize) -> &[u8] {
        let d = self.dim();
        &self.pixels[i * d..(i + 1) * d]
    }
}

fn format_err(path: &Path, reason: String) -> DataError {
    DataError::Format {
        path: path.to_path_buf(),
        reason,
    }
}

fn digest_of(path: &Path, dims: &[usize], data: &[u8]) -> FileDigest {
    FileDigest {
        path: path.to_path_buf(),
        bytes: (4 + 4 * dims.len() + data.len()) as u64,
        sha256: idx::content_sha256(dims, data),
    }
}

/// An IDX images + labels pair: pixels, labels, and the two files' digests.
type IdxPair = (Vec<u8>, Vec<u8>, [FileDigest; 2]);

/// Reads one IDX images + labels pair, checking that they agree and that images are 28x28.
fn read_idx_pair(images: &Path, labels: &Path) -> Result<IdxPair, DataError> {
    let im = idx::read_images(images)?;
    if (im.rows, im.cols) != (28, 28) {
        return Err(format_err(
            images,
            format!(
                "images are {}x{}, expected 28x28 (MNIST / Fashion-MNIST)",
                im.rows, im.cols
            ),
        ));
    }
    let lab = idx::read_labels(labels, 10)?;
    if lab.len() != im.n {
        return Err(format_err(
            labels,
            format!(
                "holds {} labels but {} holds {} images",
                lab.len(),
                images.display(),
                im.n
            ),
        ));
    }
    let digests = [
        digest_of(images, &[im.n, im.rows, im.cols], &im.pixels),
        digest_of(labels, &[lab.len()], &lab),
    ];
    Ok((im.pixels, lab, digests))
}

/// Parses a located set into a pool (no cache).
pub fn read_pool(found: &Located) -> Result<RawPool, DataError> {
    let f = &found.files;
    match found.set {
        RawSet::Mnist | RawSet::Fashion => {
            let (mut pixels, mut labels, [d0, d1]) = read_idx_pair(&f[0], &f[1])?;
            let n_train = labels.len();
            let other = if found.set == RawSet::Mnist {
                RawSet::Fashion
            } else {
                RawSet::Mnist
            };
            if let Some(sig) = other.first_train_labels() {
                if labels.len() >= sig.len() && labels.starts_with(sig) {
                    return Err(format_err(
                        &f[1],
                        format!(
                            "these look like {} files, not {}: the first training labels are {:?}",
                            other.title(),
                            found.set.title(),
                            sig
                        ),
                    ));
                }
            }
            let (test_pixels, test_labels, [d2, d3]) = read_idx_pair(&f[2], &f[3])?;
            pixels.extend_from_slice(&test_pixels);
            labels.extend_from_slice(&test_labels);
            let source = DataSource::new(
                found.set,
                found.dir.clone(),
                vec![d0, d1, d2, d3],
                &labels,
                n_train,
            );
            Ok(RawPool {
                set: found.set,
                shape: [28, 28, 1],
                pixels,
                labels,
                n_train,
                files: f.clone(),
                source,
            })
        }
        RawSet::Cifar10 => {
            let mut pixels = Vec::new();
            let mut labels = Vec::new();
            let mut n_train = 0;
            let mut digests = Vec::with_capacity(f.len());
            for (i, path) in f.iter().enumerate() {
                let (batch, sha256) = cifar::read_batch_with_sha256(path)?;
                digests.push(FileDigest {
                    path: path.clone(),
                    bytes: (batch.labels.len() * cifar::RECORD_BYTES) as u64,
                    sha256,
                });
                if pixels.is_empty() {
                    pixels.reserve(batch.pixels.len() * f.len());
                }
                pixels.extend_from_slice(&batch.pixels);
                labels.extend_from_slice(&batch.labels);
                if i + 1 < f.len() {
                    n_train = labels.len();
                }
            }
            let source = DataSource::new(
                RawSet::Cifar10,
                found.dir.clone(),
                digests,
                &labels,
                n_train,
            );
            Ok(RawPool {
                set: RawSet::Cifar10,
                shape: [cifar::SIDE, cifar::SIDE, cifar::CHANNELS],
                pixels,
                labels,
                n_train,
                files: f.clone(),
                source,
            })
        }
    }
}

/// What a cached pool was parsed from: each file's size and modification time.
type Stamp = Vec<(u64, Option<std::time::SystemTime>)>;
type PoolCache = Mutex<HashMap<(RawSet, Vec<PathBuf>), (Stamp, Arc<RawPool>)>>;

fn cache() -> &'static PoolCache {
    static CACHE: OnceLock<PoolCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn stamp(files: &[PathBuf]) -> Result<Stamp, DataError> {
    files
        .iter()
        .map(|p| {
            let m = std::fs::metadata(p).map_err(|e| DataError::Io {
                path: p.clone(),
                error: e,
            })?;
            Ok((m.len(), m.modified().ok()))
        })
        .collect()
}

/// The pooled raw data set, parsed (and hashed) on first use and then cached for the process;
/// parsed again when a file's size or modification time changed. `data_dir` is searched first
/// (see [`locate`]).
pub fn pool(set: RawSet, data_dir: Option<&Path>) -> Result<Arc<RawPool>, DataError> {
    let found = locate::locate(set, data_dir)?;
    let key = (set, found.files.clone());
    let now = stamp(&found.files)?;
    // Holding the lock while parsing makes concurrent first loads wait instead of parsing twice.
    let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
    if let Some((was, p)) = map.get(&key) {
        if *was == now {
            return Ok(Arc::clone(p));
        }
    }
    let p = Arc::new(read_pool(&found)?);
    map.insert(key, (now, Arc::clone(&p)));
    Ok(p)
}

/// Pool indices of the test set (first) and training set (second) (module doc: the split).
/// Panics if `ptr + pte > n`; [`load_task`] checks that first.
pub fn split_indices(
    n: usize,
    ptr: usize,
    pte: usize,
    seed_trainset: i64,
    seed_testset: i64,
) -> (Vec<usize>, Vec<usize>) {
    assert!(
        ptr + pte <= n,
        "split of {ptr} + {pte} points from a pool of {n}"
    );
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut rng::stream(seed_testset, Stream::Testset));
    let mut rest = perm.split_off(pte);
    let test = perm;
    rest.shuffle(&mut rng::stream(seed_trainset, Stream::Trainset));
    rest.truncate(ptr);
    (test, rest)
}

/// Normalised, relabelled points `indices` of `pool`.
pub fn gather<R: Real>(pool: &RawPool, task: &Task, indices: &[usize]) -> Dataset<R> {
    let lut: [R; 256] = std::array::from_fn(|p| R::from_f64((p as f64 - task.mean) / task.std));
    let dim = pool.dim();
    let mut x = Vec::with_capacity(indices.len() * dim);
    let mut y = Vec::with_capacity(indices.len());
    for &i in indices {
        x.extend(pool.image(i).iter().map(|&p| lut[p as usize]));
        y.push(R::from_f64((task.label)(pool.labels[i])));
    }
    Dataset {
        x,
        y,
        dim,
        image_shape: Some(pool.shape),
        teacher: None,
    }
}

/// Loads the pooled, normalised, relabelled image task of `spec` and splits it.
pub fn load_task<R: Real>(spec: &RunSpec) -> Result<Split<R>, DataError> {
    load_task_with_source(spec).map(|(split, _)| split)
}

/// The pool of the image task of `spec` (parsed, or from the cache).
pub fn task_pool(spec: &RunSpec) -> Result<Arc<RawPool>, DataError> {
    let task = task(spec.dataset)
        .ok_or_else(|| DataError::Other(format!("{} is not an image task", spec.dataset.name())))?;
    pool(task.set, spec.exec.data_dir.as_deref())
}

/// [`load_task`], with where the data came from.
pub fn load_task_with_source<R: Real>(spec: &RunSpec) -> Result<(Split<R>, DataSource), DataError> {
    let task = task(spec.dataset)
        .ok_or_else(|| DataError::Other(format!("{} is not an image task", spec.dataset.name())))?;
    let pool = task_pool(spec)?;
    if let Some(shape) = spec.dataset.image_shape() {
        if shape != pool.shape {
            return Err(DataError::Other(format!(
                "{}: images are {:?} but the task expects {:?}",
                spec.dataset.name(),
                pool.shape,
                shape
            )));
        }
    }
    let wanted = spec.ptr.saturating_add(spec.pte);
    if wanted > pool.len() {
        return Err(DataError::TooFew {
            dataset: spec.dataset.name().to_string(),
            wanted,
            available: pool.len(),
        });
    }
    let (test_idx, train_idx) = split_indices(
        pool.len(),
        spec.ptr,
        spec.pte,
        spec.seeds.trainset,
        spec.seeds.testset,
    );
    let split = Split {
        train: gather(&pool, &task, &train_idx),
        test: gather(&pool, &task, &test_idx),
    };
    Ok((split, pool.source.clone()))
}
