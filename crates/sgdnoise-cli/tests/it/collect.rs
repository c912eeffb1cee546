//! `sgdnoise collect`: the formats (csv, parquet) and the long checkpoint table.

use crate::util::{sgdnoise, temp_dir, TempDir};

/// A store of 4 tiny perceptron runs (P = 16 and 32, two seeds), made with the command line.
fn tiny_store(name: &str) -> (TempDir, String) {
    let dir = temp_dir(name);
    let sweep = dir.sub("tiny.toml");
    std::fs::write(
        &sweep,
        "[fixed]\ndim = 4\nbatch = 2\npte = 64\ntemp = 0.5\n[axes]\nptr = [16, 32]\nseed_init = [0, 1]\n",
    )
    .unwrap();
    let store = dir.sub("store");
    let (code, _, err) = sgdnoise(&["sweep", "run", &sweep, "--out", &store, "--quiet"]);
    assert_eq!(code, 0, "{err}");
    (dir, store)
}

#[test]
fn collect_checkpoints_writes_one_row_per_record_with_the_run_settings() {
    let (dir, store) = tiny_store("collect-ckpt");
    let out = dir.sub("ckpt.csv");
    let (code, stdout, err) = sgdnoise(&["collect", &store, "--output", &out, "--checkpoints"]);
    assert_eq!(code, 0, "{err}");
    let mut records = 0;
    for e in std::fs::read_dir(dir.join("store").join("runs")).unwrap() {
        let text = std::fs::read_to_string(e.unwrap().path().join("checkpoints.jsonl")).unwrap();
        records += text.lines().count();
    }
    assert!(
        stdout.contains(&format!("{records} checkpoints of 4 finished runs")),
        "{stdout}"
    );
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    for c in [
        "id", "ptr", "temp", "given", "diverged", "step", "t", "test_err", "signal",
    ] {
        assert!(header.iter().any(|h| h == c), "{c} missing: {header:?}");
    }
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), records);
    let given = header.iter().position(|h| h == "given").unwrap();
    assert!(rows.iter().all(|r| &r[given] == "temp"));
}

#[cfg(not(feature = "parquet"))]
#[test]
fn collect_parquet_without_the_feature_is_bad_input_saying_how_to_build_it() {
    let (dir, store) = tiny_store("collect-noparquet");
    let out = dir.sub("runs.parquet");
    let (code, _, err) = sgdnoise(&["collect", &store, "--output", &out]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--features parquet"), "{err}");
    assert!(!dir.join("runs.parquet").exists());
}

#[cfg(feature = "parquet")]
#[test]
fn collect_parquet_writes_a_parquet_file_by_flag_or_extension() {
    let (dir, store) = tiny_store("collect-parquet");
    for (out, extra) in [
        (dir.sub("runs.parquet"), None),
        (dir.sub("runs.bin"), Some("parquet")),
        (dir.sub("ckpt.parquet"), None),
    ] {
        let mut args = vec!["collect", store.as_str(), "--output", out.as_str()];
        if let Some(f) = extra {
            args.extend(["--format", f]);
        }
        if out.ends_with("ckpt.parquet") {
            args.push("--checkpoints");
        }
        let (code, _, err) = sgdnoise(&args);
        assert_eq!(code, 0, "{err}");
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[..4], b"PAR1", "{out}");
        assert_eq!(&bytes[bytes.len() - 4..], b"PAR1", "{out}");
    }
}

#[test]
fn collect_of_a_folder_that_is_no_store_exits_2_naming_it() {
    let dir = temp_dir("collect-nostore");
    let out = dir.sub("t.csv");
    let (code, _, err) = sgdnoise(&["collect", dir.str(), "--output", &out]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not a run store"), "{err}");
}
