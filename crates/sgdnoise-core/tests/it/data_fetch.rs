//! `data fetch` logic without internet: downloads from local file:// mirrors with curl, good and bad
//! checksums, resuming, decompression checks, and the CIFAR archive extraction rules.

use crate::util::gz;
use flate2::{write::GzEncoder, Compression};
use sgdnoise_core::data::fetch::{
    self, download_verified, extract_cifar, gunzip_verified, hash_file, Expected, FetchError,
    FetchOptions, Plan, RemoteFile,
};
use sgdnoise_core::data::locate::{RawSet, IDX_FILES};
use sgdnoise_core::data::{cifar, idx};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

fn sha(bytes: &[u8]) -> String {
    fetch::hex(&Sha256::digest(bytes))
}

fn url_of(dir: &Path) -> String {
    format!("file://{}/", dir.canonicalize().unwrap().display())
}

fn have_curl() -> bool {
    std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_ok()
}

fn quiet() -> FetchOptions {
    FetchOptions { progress: false }
}

/// A mirror folder with one file of pseudo-random bytes.
fn mirror_with(name: &str, bytes: &[u8]) -> tempfile::TempDir {
    let m = crate::util::temp_dir();
    std::fs::write(m.path().join(name), bytes).unwrap();
    m
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 2654435761 % 251) as u8).collect()
}

#[test]
fn download_checks_size_and_sha_and_tries_the_next_mirror() {
    if !have_curl() {
        panic!("curl is needed by `data fetch` and this test");
    }
    let bytes = payload(100_000);
    let mirror = mirror_with("f.bin", &bytes);
    let out = crate::util::temp_dir();
    let dest = out.path().join("f.bin");
    let mirrors = vec![
        "file:///nonexistent-sgdnoise-mirror/".to_string(),
        url_of(mirror.path()),
    ];
    let mut log = Vec::new();
    download_verified(
        &mirrors,
        "f.bin",
        &dest,
        &Expected::new(bytes.len() as u64, &sha(&bytes)),
        &quiet(),
        &mut |l| log.push(l.to_string()),
    )
    .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    assert!(!out.path().join("f.bin.part").exists());
    assert!(log.iter().any(|l| l.contains("sha256 ok")), "{log:?}");
    // a second call finds it and downloads nothing
    let mut log = Vec::new();
    download_verified(
        &["file:///nonexistent-sgdnoise-mirror/".to_string()],
        "f.bin",
        &dest,
        &Expected::new(bytes.len() as u64, &sha(&bytes)),
        &quiet(),
        &mut |l| log.push(l.to_string()),
    )
    .unwrap();
    assert!(log[0].contains("already downloaded"), "{log:?}");
}

#[test]
fn bad_checksum_is_an_error_and_leaves_nothing_behind() {
    let bytes = payload(5_000);
    let mirror = mirror_with("f.bin", &bytes);
    let out = crate::util::temp_dir();
    let dest = out.path().join("f.bin");
    let wrong = sha(b"something else");
    let err = download_verified(
        &[url_of(mirror.path())],
        "f.bin",
        &dest,
        &Expected::new(bytes.len() as u64, &wrong),
        &quiet(),
        &mut |_| {},
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("f.bin") && msg.contains(&sha(&bytes)) && msg.contains(&wrong),
        "{msg}"
    );
    assert!(!dest.exists());
    assert!(!out.path().join("f.bin.part").exists());
    // a wrong size is caught too
    let err = download_verified(
        &[url_of(mirror.path())],
        "f.bin",
        &dest,
        &Expected::new(4_000, &sha(&bytes)),
        &quiet(),
        &mut |_| {},
    )
    .unwrap_err();
    assert!(err.to_string().contains("expected 4000"), "{err}");
    assert!(!dest.exists());
}

#[test]
fn an_interrupted_download_is_resumed() {
    let bytes = payload(300_000);
    let mirror = mirror_with("big.bin", &bytes);
    let out = crate::util::temp_dir();
    let dest = out.path().join("big.bin");
    // the first 100 kB arrived before the interruption; mark them so a restart would be noticed
    let mut head = bytes[..100_000].to_vec();
    head[10] ^= 0xff;
    std::fs::write(out.path().join("big.bin.part"), &head).unwrap();
    let err = download_verified(
        &[url_of(mirror.path())],
        "big.bin",
        &dest,
        &Expected::new(bytes.len() as u64, &sha(&bytes)),
        &quiet(),
        &mut |_| {},
    )
    .unwrap_err();
    // the resumed file has the marked head, so its checksum fails: proof that curl resumed
    assert!(err.to_string().contains("sha256"), "{err}");
    std::fs::write(out.path().join("big.bin.part"), &bytes[..100_000]).unwrap();
    download_verified(
        &[url_of(mirror.path())],
        "big.bin",
        &dest,
        &Expected::new(bytes.len() as u64, &sha(&bytes)),
        &quiet(),
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
}

#[test]
fn gunzip_verifies_content_size_and_sha() {
    let dir = crate::util::temp_dir();
    let content = payload(50_000);
    let g = dir.path().join("x.gz");
    std::fs::write(&g, gz(&content)).unwrap();
    let dest = dir.path().join("x");
    let e = gunzip_verified(&g, &dest, &Expected::new(50_000, &sha(b"no"))).unwrap_err();
    assert!(e.to_string().contains("uncompressed content"), "{e}");
    assert!(!dest.exists() && !dir.path().join("x.part").exists());
    let e = gunzip_verified(&g, &dest, &Expected::new(49_999, &sha(&content))).unwrap_err();
    assert!(e.to_string().contains("more than 49999"), "{e}");
    gunzip_verified(&g, &dest, &Expected::new(50_000, &sha(&content))).unwrap();
    assert_eq!(std::fs::read(&dest).unwrap(), content);
}

/// A tar.gz with the six batch files (2 records each) under cifar-10-batches-bin/, plus `extra`.
fn cifar_archive(path: &Path, extra: impl FnOnce(&mut tar::Builder<GzEncoder<std::fs::File>>)) {
    let f = std::fs::File::create(path).unwrap();
    let mut b = tar::Builder::new(GzEncoder::new(f, Compression::fast()));
    let mut readme = tar::Header::new_gnu();
    readme.set_size(5);
    readme.set_mode(0o644);
    readme.set_cksum();
    b.append_data(
        &mut readme,
        "cifar-10-batches-bin/readme.html",
        &b"hello"[..],
    )
    .unwrap();
    for (i, name) in cifar::BATCH_FILES.iter().enumerate() {
        let labels = [i as u8, 9 - i as u8];
        let data = cifar::encode(&vec![i as u8 * 40; 2 * 3072], &labels);
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, format!("cifar-10-batches-bin/{name}"), &data[..])
            .unwrap();
    }
    extra(&mut b);
    b.into_inner().unwrap().finish().unwrap();
}

const TWO_RECORDS: u64 = 2 * 3073;

#[test]
fn cifar_extraction_takes_exactly_the_six_batches() {
    let dir = crate::util::temp_dir();
    let archive = dir.path().join("a.tar.gz");
    cifar_archive(&archive, |b| {
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "elsewhere/data_batch_1.bin", &b"bad"[..])
            .unwrap();
    });
    let out = dir.path().join("out");
    extract_cifar(&archive, &out, TWO_RECORDS).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, cifar::BATCH_FILES.to_vec());
    let b = cifar::read_batch(&out.join("test_batch.bin")).unwrap();
    assert_eq!(b.labels, vec![5, 4]);
    assert!(b.pixels.iter().all(|&p| p == 200));
    // wrong member size
    let e = extract_cifar(&archive, &dir.path().join("o2"), TWO_RECORDS + 1).unwrap_err();
    assert!(e.to_string().contains("expected 6147"), "{e}");
}

#[test]
fn cifar_archive_with_a_link_is_refused() {
    let dir = crate::util::temp_dir();
    let archive = dir.path().join("a.tar.gz");
    cifar_archive(&archive, |b| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_cksum();
        b.append_link(
            &mut h,
            "cifar-10-batches-bin/data_batch_6.bin",
            "/etc/passwd",
        )
        .unwrap();
    });
    let e = extract_cifar(&archive, &dir.path().join("o"), TWO_RECORDS).unwrap_err();
    assert!(matches!(e, FetchError::Archive { .. }), "{e}");
    assert!(e.to_string().contains("link"), "{e}");
}

#[test]
fn cifar_archive_missing_a_batch_is_refused() {
    let dir = crate::util::temp_dir();
    let archive = dir.path().join("a.tar.gz");
    let f = std::fs::File::create(&archive).unwrap();
    let mut b = tar::Builder::new(GzEncoder::new(f, Compression::fast()));
    let data = cifar::encode(&[0; 2 * 3072], &[1, 2]);
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "cifar-10-batches-bin/data_batch_1.bin", &data[..])
        .unwrap();
    b.into_inner().unwrap().finish().unwrap();
    let e = extract_cifar(&archive, &dir.path().join("o"), TWO_RECORDS).unwrap_err();
    assert!(
        e.to_string().contains("missing members data_batch_2.bin"),
        "{e}"
    );
}

/// A plan for an MNIST-like set served from a local mirror folder holding tiny .gz idx files.
fn tiny_idx_plan(mirror: &Path) -> Plan {
    let n = [6usize, 6, 4, 4];
    let files = IDX_FILES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let content = if i % 2 == 0 {
                idx::encode(&[n[i], 28, 28], &payload(n[i] * 784))
            } else {
                idx::encode(&[n[i]], &(0..n[i] as u8).collect::<Vec<u8>>())
            };
            let z = gz(&content);
            std::fs::write(mirror.join(format!("{name}.gz")), &z).unwrap();
            RemoteFile {
                name: format!("{name}.gz"),
                download: Expected::new(z.len() as u64, &sha(&z)),
                content: Some(Expected::new(content.len() as u64, &sha(&content))),
            }
        })
        .collect();
    Plan {
        set: RawSet::Mnist,
        mirrors: vec![url_of(mirror)],
        files,
        cifar_member_bytes: 0,
    }
}

#[test]
fn fetch_idx_set_end_to_end_from_a_local_mirror() {
    let mirror = crate::util::temp_dir();
    let plan = tiny_idx_plan(mirror.path());
    let root = crate::util::temp_dir();
    let found = fetch::fetch(&plan, root.path(), &quiet(), &mut |_| {}).unwrap();
    let sub = root.path().join("mnist");
    assert_eq!(found.dir, sub);
    let want: Vec<PathBuf> = IDX_FILES.iter().map(|n| sub.join(n)).collect();
    assert_eq!(found.files, want, "raw files, the .gz removed");
    assert!(!sub.join("train-images-idx3-ubyte.gz").exists());
    let (_, s) = hash_file(&sub.join("train-labels-idx1-ubyte")).unwrap();
    assert_eq!(s, plan.files[1].content.as_ref().unwrap().sha256);
    // the loader reads what fetch wrote
    let pool = sgdnoise_core::data::images::read_pool(&found).unwrap();
    assert_eq!((pool.len(), pool.n_train), (10, 6));
    // fetching again is a no-op
    let mut log = Vec::new();
    fetch::fetch(&plan, root.path(), &quiet(), &mut |l| {
        log.push(l.to_string())
    })
    .unwrap();
    assert!(log[0].contains("already present"), "{log:?}");
}

#[test]
fn fetch_rejects_a_download_whose_content_is_wrong() {
    let mirror = crate::util::temp_dir();
    let mut plan = tiny_idx_plan(mirror.path());
    plan.files[0].content = Some(Expected::new(
        plan.files[0].content.as_ref().unwrap().bytes,
        &sha(b"other"),
    ));
    let root = crate::util::temp_dir();
    let e = fetch::fetch(&plan, root.path(), &quiet(), &mut |_| {}).unwrap_err();
    assert!(
        e.to_string().contains("sha256 of the uncompressed content"),
        "{e}"
    );
    assert!(!root.path().join("mnist/train-images-idx3-ubyte").exists());
    // the official plan's checksums on the tiny mirror: the download check fails first
    let mut official = Plan::official(RawSet::Mnist);
    official.mirrors = plan.mirrors.clone();
    let e = fetch::fetch(&official, root.path(), &quiet(), &mut |_| {}).unwrap_err();
    assert!(
        e.to_string()
            .contains("could not download train-images-idx3-ubyte.gz"),
        "{e}"
    );
}

#[test]
fn fetch_cifar_end_to_end_from_a_local_mirror() {
    let mirror = crate::util::temp_dir();
    let archive = mirror.path().join(fetch::CIFAR_ARCHIVE);
    cifar_archive(&archive, |_| {});
    let bytes = std::fs::read(&archive).unwrap();
    let mut plan = Plan::official(RawSet::Cifar10);
    plan.mirrors = vec![url_of(mirror.path())];
    plan.files[0].download = Expected::new(bytes.len() as u64, &sha(&bytes));
    plan.cifar_member_bytes = TWO_RECORDS;
    let root = crate::util::temp_dir();
    let found = fetch::fetch(&plan, root.path(), &quiet(), &mut |_| {}).unwrap();
    assert_eq!(found.dir, root.path().join("cifar-10-batches-bin"));
    assert_eq!(found.files.len(), 6);
    let pool = sgdnoise_core::data::images::read_pool(&found).unwrap();
    assert_eq!((pool.len(), pool.n_train), (12, 10));
}

#[test]
fn official_plans_carry_the_reference_checksums() {
    for set in RawSet::ALL {
        let p = Plan::official(set);
        assert!(!p.mirrors.is_empty());
        for f in &p.files {
            assert_eq!(f.download.sha256.len(), 64);
            assert!(f.download.bytes > 0);
        }
    }
    assert_eq!(
        Plan::official(RawSet::Mnist).files[0].download.sha256,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    );
    assert_eq!(
        Plan::official(RawSet::Cifar10).cifar_member_bytes,
        30_730_000
    );
}
