//! Helpers shared by the core tests: temporary folders, gzip, the workspace's real data files.
//!
//! Tests that need the real MNIST or Fashion-MNIST files are `#[ignore]`d with the reason, so a
//! plain `cargo test` never counts them as passed without running them; `scripts/test.sh`
//! installs the files and runs them with `--include-ignored`. An enabled test whose files are
//! missing fails, saying how to get them.
#![allow(dead_code)]

use flate2::{write::GzEncoder, Compression};
use sgdnoise_core::data::images::{self, RawPool};
use sgdnoise_core::data::locate::{self, RawSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// A fresh temporary folder, removed when dropped.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("sgdnoise-core-")
        .tempdir()
        .unwrap()
}

/// `bytes` gzipped.
pub fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// The workspace's `.data` folder, where scripts/get-data.sh puts MNIST.
pub fn workspace_data() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.data");
    p.canonicalize().unwrap_or(p)
}

/// The pool of a real data set, for an enabled data test (see the module doc).
pub fn require_pool(set: RawSet) -> Arc<RawPool> {
    match locate::locate(set, Some(&workspace_data())) {
        Ok(_) => images::pool(set, Some(&workspace_data())).expect("the real files parse"),
        Err(e) => panic!(
            "this test needs the real {} files (run `bash scripts/get-data.sh`): {e}",
            set.title()
        ),
    }
}
