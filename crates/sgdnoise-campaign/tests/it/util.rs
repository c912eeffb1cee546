//! Helpers shared by the campaign tests.
#![allow(dead_code)]

use sgdnoise_campaign::{Plan, Store, SweepFile};

/// A store in a fresh temporary folder, removed when dropped.
pub struct TempStore {
    store: Store,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for TempStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

/// A fresh, empty store named after the test.
pub fn temp_store(name: &str) -> TempStore {
    let dir = tempfile::Builder::new()
        .prefix(&format!("sgdnoise-{name}-"))
        .tempdir()
        .unwrap();
    TempStore {
        store: Store::new(dir.path().join("store")),
        _dir: dir,
    }
}

/// 2 P x 2 T x 3 seeds = 12 perceptron runs of a few milliseconds each.
pub fn small_plan() -> Plan {
    SweepFile::parse(
        "[fixed]\ndim = 8\nbatch = 2\nalpha = 32768\npte = 256\n\
         [axes]\nptr = [32, 64]\ntemp = { log2 = [-4, 0], step = 4 }\nseed_init = [0, 1, 2]\n",
        "small",
    )
    .unwrap()
    .expand()
    .unwrap()
    .plan
}

/// A tiny MNIST look-alike in `dir` (created): 10 training images of 28 x 28 with the official
/// first ten labels (which tell MNIST from Fashion-MNIST) and 4 test images: a pool of 14.
pub fn tiny_mnist(dir: &std::path::Path) {
    use sgdnoise_core::data::idx;
    std::fs::create_dir_all(dir).unwrap();
    let images = |n: usize| {
        let pixels: Vec<u8> = (0..n * 784).map(|k| (k * 37 % 251) as u8).collect();
        idx::encode(&[n, 28, 28], &pixels)
    };
    let write = |name: &str, bytes: Vec<u8>| std::fs::write(dir.join(name), bytes).unwrap();
    write("train-images-idx3-ubyte", images(10));
    write(
        "train-labels-idx1-ubyte",
        idx::encode(&[10], &[5, 0, 4, 1, 9, 2, 1, 3, 1, 4]),
    );
    write("t10k-images-idx3-ubyte", images(4));
    write("t10k-labels-idx1-ubyte", idx::encode(&[4], &[7, 2, 1, 0]));
}
