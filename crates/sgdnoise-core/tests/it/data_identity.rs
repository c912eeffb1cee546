//! Which data a run used (issue 15, item 7): every run records the folder and the SHA-256 of
//! each file it read; a run on data other than the canonical set is another run (its identity
//! includes the data's digest) and is never stored under the identity of a run on the canonical
//! data. The real files keep the pinned identities (tests that need them are ignored unless
//! enabled, see `util`).

use crate::util::{gz, require_pool, temp_dir, workspace_data};
use sgdnoise_core::data::fetch::{hash_content, MNIST_CONTENT};
use sgdnoise_core::data::locate::RawSet;
use sgdnoise_core::data::{self, idx, images, DataError};
use sgdnoise_core::settings::{RunConfig, RunSpec};
use std::path::Path;

/// Writes a self-consistent MNIST-like set (headers and labels match the images) into `dir`.
fn write_mnist_like(dir: &Path, images: [&[u8]; 2], labels: [&[u8]; 2], gzip: bool) {
    let files = [
        (
            "train-images-idx3-ubyte",
            idx::encode(&[labels[0].len(), 28, 28], images[0]),
        ),
        (
            "train-labels-idx1-ubyte",
            idx::encode(&[labels[0].len()], labels[0]),
        ),
        (
            "t10k-images-idx3-ubyte",
            idx::encode(&[labels[1].len(), 28, 28], images[1]),
        ),
        (
            "t10k-labels-idx1-ubyte",
            idx::encode(&[labels[1].len()], labels[1]),
        ),
    ];
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        if gzip {
            std::fs::write(dir.join(format!("{name}.gz")), gz(&bytes)).unwrap();
        } else {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

/// A small generated set: `n_train` + `n_test` images with pixel values and labels from their index.
fn write_small_set(dir: &Path, n_train: usize, n_test: usize, gzip: bool) {
    let pixels = |n: usize, salt: usize| -> Vec<u8> {
        (0..n * 784).map(|i| ((i * 7 + salt) % 251) as u8).collect()
    };
    let labels =
        |n: usize, off: usize| -> Vec<u8> { (0..n).map(|k| ((k + off) % 10) as u8).collect() };
    write_mnist_like(
        dir,
        [&pixels(n_train, 1), &pixels(n_test, 2)],
        [&labels(n_train, 3), &labels(n_test, 0)],
        gzip,
    );
}

fn mlp_spec(data_dir: &Path) -> RunSpec {
    RunConfig {
        arch: Some(sgdnoise_core::settings::Arch::Mlp),
        dataset: Some(sgdnoise_core::settings::DatasetName::MnistParity),
        depth: Some(1),
        width: Some(4),
        ptr: Some(15),
        pte: Some(8),
        batch: Some(3),
        temp: Some(0.01),
        max_steps: Some(2000),
        data_dir: Some(data_dir.to_path_buf()),
        ..Default::default()
    }
    .resolve()
    .unwrap()
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn self_consistent_other_mnist_files_are_another_run_and_config_names_them() {
    let root = temp_dir();
    let dir = root.path().join("cut");
    write_small_set(&dir, 20, 10, false);
    let spec = mlp_spec(&dir);
    let canonical_id = spec.identity();

    // What the files are: the folder, each file's content hash, and not the canonical MNIST.
    let source = data::source_of(&spec)
        .unwrap()
        .expect("image data have a source");
    assert_eq!(source.set, "mnist");
    assert_eq!(source.dir, std::path::absolute(&dir).unwrap());
    assert!(!source.canonical, "{source:?}");
    assert!(
        source.check.contains("train-images-idx3-ubyte"),
        "{}",
        source.check
    );
    assert_eq!(source.files.len(), 4);
    for f in &source.files {
        let (bytes, sha) = hash_content(&f.path, u64::MAX).unwrap();
        assert_eq!((f.bytes, &f.sha256), (bytes, &sha), "{}", f.path.display());
    }

    // Named after its data, it is another run.
    let bound = data::bind(&spec).unwrap();
    assert_eq!(bound.data_digest.as_deref(), Some(source.digest.as_str()));
    assert_ne!(bound.identity(), canonical_id);
    assert!(
        bound
            .identity_text()
            .starts_with(&format!("{{\"data\":\"{}\",\"schema\":1,", source.digest)),
        "{}",
        bound.identity_text()
    );

    // Under the identity of a run on the canonical data it is refused before anything is written.
    let refused_dir = root.path().join("refused");
    let err = sgdnoise_core::run::execute(&spec, Some(&refused_dir), &mut |_| true).unwrap_err();
    assert!(err.is_bad_input());
    match &err {
        sgdnoise_core::Error::Data(DataError::NotTheRunsData { dir: d, .. }) => {
            assert_eq!(Path::new(d), source.dir)
        }
        other => panic!("{other}"),
    }
    let text = err.to_string();
    for needle in [
        canonical_id.as_str(),
        "not the canonical",
        "sgdnoise data check",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    assert!(!refused_dir.exists());

    // Bound, it runs, and its config.json names the folder and every file's SHA-256.
    let out = root.path().join("run");
    let summary = sgdnoise_core::run::execute(&bound, Some(&out), &mut |_| true).unwrap();
    assert_eq!(summary.id, bound.identity());
    let config = read_json(&out.join("config.json"));
    assert_eq!(config["id"], bound.identity());
    assert_eq!(config["identity_data"], source.digest);
    assert_eq!(config["data_dir"], dir.to_str().unwrap());
    assert_eq!(config["data"]["dir"], source.dir.to_str().unwrap());
    assert_eq!(config["data"]["digest"], source.digest);
    assert_eq!(config["data"]["canonical"], false);
    assert_eq!(config["data"]["files"][0]["sha256"], source.files[0].sha256);
    assert_eq!(config["data"]["files"][1]["bytes"], 8 + 20);
}

#[test]
fn the_same_data_raw_or_gzipped_have_one_fingerprint() {
    let root = temp_dir();
    let (raw, zipped) = (root.path().join("raw"), root.path().join("gz"));
    write_small_set(&raw, 12, 6, false);
    write_small_set(&zipped, 12, 6, true);
    let a = data::source_of(&mlp_spec(&raw)).unwrap().unwrap();
    let b = data::source_of(&mlp_spec(&zipped)).unwrap().unwrap();
    assert_ne!(a.dir, b.dir);
    assert_eq!(a.digest, b.digest);
    assert_eq!(
        data::bind(&mlp_spec(&raw)).unwrap().identity(),
        data::bind(&mlp_spec(&zipped)).unwrap().identity()
    );
    // Other content, another digest.
    let other = root.path().join("other");
    write_small_set(&other, 12, 7, false);
    assert_ne!(
        data::source_of(&mlp_spec(&other)).unwrap().unwrap().digest,
        a.digest
    );
}

#[test]
fn a_data_file_replaced_while_cached_is_read_and_hashed_again() {
    let root = temp_dir();
    let dir = root.path().join("set");
    write_small_set(&dir, 12, 6, false);
    let first = images::pool(RawSet::Mnist, Some(&dir)).unwrap();
    let again = images::pool(RawSet::Mnist, Some(&dir)).unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "cached for the process"
    );
    write_small_set(&dir, 14, 6, false);
    let fresh = images::pool(RawSet::Mnist, Some(&dir)).unwrap();
    assert!(!std::sync::Arc::ptr_eq(&first, &fresh));
    assert_eq!(fresh.n_train, 14);
    assert_ne!(fresh.source.digest, first.source.digest);
}

fn real_mnist_spec(data_dir: &Path) -> RunSpec {
    // One of the identities pinned in settings/tests.rs (identities_of_base_runs_are_pinned).
    let mut c = RunConfig::from_toml_str(
        "arch = \"mlp\"\ntemp = 0.03125\nbatch = 16\ndataset = \"mnist_parity\"",
    )
    .unwrap();
    c.data_dir = Some(data_dir.to_path_buf());
    c.resolve().unwrap()
}

#[test]
#[ignore = "needs the real MNIST / Fashion-MNIST files (scripts/get-data.sh); scripts/test.sh runs it"]
fn real_mnist_is_the_canonical_set_and_keeps_the_pinned_identity() {
    let pool = require_pool(RawSet::Mnist);
    assert!(pool.source.canonical, "{}", pool.source.check);
    for (f, (bytes, sha)) in pool.source.files.iter().zip(MNIST_CONTENT) {
        assert_eq!((f.bytes, f.sha256.as_str()), (bytes, sha));
    }
    let bound = data::bind(&real_mnist_spec(&workspace_data())).unwrap();
    assert_eq!(bound.data_digest, None);
    assert_eq!(bound.identity(), "2cc2a1471c3214a9");
}

#[test]
#[ignore = "needs the real MNIST / Fashion-MNIST files (scripts/get-data.sh); scripts/test.sh runs it"]
fn real_mnist_cut_to_1000_images_with_matching_header_and_labels_is_another_run() {
    let pool = require_pool(RawSet::Mnist);
    let n = 1000;
    let root = temp_dir();
    let dir = root.path().join("mnist-1000");
    let test0 = pool.n_train;
    write_mnist_like(
        &dir,
        [
            &pool.pixels[..n * 784],
            &pool.pixels[test0 * 784..(test0 + n) * 784],
        ],
        [&pool.labels[..n], &pool.labels[test0..test0 + n]],
        false,
    );
    let spec = real_mnist_spec(&dir);
    let source = data::source_of(&spec).unwrap().unwrap();
    assert!(!source.canonical);
    assert!(source.check.contains("784016 bytes"), "{}", source.check);
    let bound = data::bind(&spec).unwrap();
    assert_ne!(bound.identity(), "2cc2a1471c3214a9");
    assert!(matches!(
        sgdnoise_core::run::execute(&spec, None, &mut |_| true),
        Err(sgdnoise_core::Error::Data(DataError::NotTheRunsData { .. }))
    ));
}
