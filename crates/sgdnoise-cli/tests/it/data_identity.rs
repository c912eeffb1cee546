//! Issue 15, item 7 through the command line: a run on image files other than the canonical set
//! is another run, named after the data it found, and its config.json says where they came from
//! and what they were; a sweep, whose runs are named for the canonical data, refuses them.

use crate::util::{sgdnoise, temp_dir};
use sgdnoise_core::data::idx;
use std::path::Path;

/// A self-consistent MNIST cut to `n` training and `n` test images (headers and labels match).
fn write_small_mnist(dir: &Path, n: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let pixels: Vec<u8> = (0..n * 784).map(|i| ((i * 13) % 256) as u8).collect();
    let labels: Vec<u8> = (0..n).map(|k| (k % 10) as u8).collect();
    for (prefix, salt) in [("train", 0u8), ("t10k", 1)] {
        let px: Vec<u8> = pixels.iter().map(|p| p.wrapping_add(salt)).collect();
        std::fs::write(
            dir.join(format!("{prefix}-images-idx3-ubyte")),
            idx::encode(&[n, 28, 28], &px),
        )
        .unwrap();
        std::fs::write(
            dir.join(format!("{prefix}-labels-idx1-ubyte")),
            idx::encode(&[n], &labels),
        )
        .unwrap();
    }
}

const SETTINGS: [&str; 16] = [
    "--arch",
    "mlp",
    "--dataset",
    "mnist_parity",
    "--depth",
    "1",
    "--width",
    "4",
    "--ptr",
    "16",
    "--pte",
    "16",
    "--batch",
    "4",
    "--temp",
    "0.01",
];

#[test]
fn a_run_on_truncated_mnist_is_another_run_and_its_config_names_the_files() {
    let root = temp_dir("data-id");
    let data = root.path().join("mnist-cut");
    write_small_mnist(&data, 40);
    let out = root.path().join("run");
    let (code, stdout, err) = sgdnoise(
        &[
            &["run", "--json", "--quiet", "--max-steps", "2000"][..],
            &SETTINGS,
            &[
                "--data-dir",
                data.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // `info` gives the identity on the canonical data; these files make another run.
    let (code, info, err) = sgdnoise(&[&["info"][..], &SETTINGS].concat());
    assert_eq!(code, 0, "{err}");
    let canonical_id = info
        .lines()
        .find_map(|l| l.strip_prefix("identity: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("info prints the identity")
        .to_string();
    let id = summary["id"].as_str().unwrap();
    assert_ne!(id, canonical_id);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["id"], id);
    assert_eq!(config["data_dir"], data.to_str().unwrap());
    assert_eq!(config["data"]["dir"], data.to_str().unwrap());
    assert_eq!(config["data"]["canonical"], false);
    assert_eq!(config["identity_data"], config["data"]["digest"]);
    assert_eq!(config["data"]["files"].as_array().unwrap().len(), 4);
    assert_eq!(config["data"]["files"][0]["bytes"], 16 + 40 * 784);
    assert_eq!(
        config["data"]["files"][0]["sha256"].as_str().unwrap().len(),
        64
    );

    // The same settings in a sweep: the sweep names its runs after the data they train on,
    // as `run` does, so the run is stored under the id of these files (the same id as above),
    // never under the canonical one; a second `sweep run` finds it done.
    let sweep = root.path().join("sweep.toml");
    std::fs::write(
        &sweep,
        format!(
            "[fixed]\narch = \"mlp\"\ndataset = \"mnist_parity\"\ndepth = 1\nwidth = 4\nptr = 16\n\
             pte = 16\nbatch = 4\ntemp = 0.01\nmax_steps = 2000\ndata_dir = {:?}\n[axes]\nseed_init = [0]\n",
            data.to_str().unwrap()
        ),
    )
    .unwrap();
    let store = root.path().join("store");
    let sweep_run = || {
        sgdnoise(&[
            "sweep",
            "run",
            sweep.to_str().unwrap(),
            "--out",
            store.to_str().unwrap(),
            "--quiet",
        ])
    };
    let (code, _, err) = sweep_run();
    assert_eq!(code, 0, "{err}");
    let listed: Vec<_> = std::fs::read_dir(store.join("runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        store.join("runs").join(id).join("summary.json").exists(),
        "{listed:?} {id} {err}"
    );
    assert_eq!(listed.len(), 1, "{listed:?}");
    let (code, out2, err) = sweep_run();
    assert_eq!(code, 0, "{err}");
    assert!(
        format!("{out2}{err}").contains("1 already done")
            || !format!("{out2}{err}").contains("1 ran"),
        "{out2}{err}"
    );
}
