//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const EXE: &str = env!("CARGO_BIN_EXE_sgdnoise");

/// A fresh folder for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sgdnoise-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the binary: exit code, stdout, stderr.
pub fn sgdnoise(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(EXE).args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Fields that measure time, not results.
const WALL_FIELDS: &[&str] = &["wall_seconds", "check_seconds", "checkpoint_seconds"];

/// Every summary of a store, by run id, minus the wall-time fields. Panics on one that does not
/// parse or whose id differs from its folder.
pub fn summaries(store: &Path) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(store.join("runs")) else {
        return out;
    };
    for e in entries {
        let dir = e.unwrap().path();
        let path = dir.join("summary.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let mut v: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{}: corrupt summary: {e}", path.display()));
        let id = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(v["id"], Value::String(id.clone()), "{}", path.display());
        for f in WALL_FIELDS {
            v.as_object_mut().unwrap().remove(*f);
        }
        v["last"].as_object_mut().unwrap().remove("wall");
        assert!(out.insert(id, v).is_none());
    }
    out
}
