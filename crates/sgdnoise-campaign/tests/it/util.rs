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
