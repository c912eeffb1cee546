//! The command line as a user meets it: exit codes, error messages, the run summary.

use crate::util::{output as sgdnoise, temp_dir};

const BASE: [&str; 10] = [
    "run", "--dim", "32", "--chi", "1", "--ptr", "256", "--pte", "512", "--quiet",
];

#[test]
fn a_run_prints_its_summary_and_writes_its_directory() {
    let out_dir = temp_dir("run");
    let out = out_dir.sub("run");
    let o = sgdnoise(
        &[
            &BASE[..],
            &[
                "--batch", "2", "--temp", "1", "--alpha", "32768", "--out", &out,
            ],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "zero_loss",
        "t* = lr x steps",
        "test error",
        "signal w1 - w0_1",
        "noise",
        "rel. weight change",
        "wall time",
    ] {
        assert!(text.contains(needle), "summary lacks {needle:?}:\n{text}");
    }
    for file in ["config.json", "checkpoints.jsonl", "summary.json"] {
        assert!(
            std::path::Path::new(&out).join(file).is_file(),
            "{file} missing"
        );
    }
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_toml_config_gives_the_same_run_as_flags() {
    let dir_dir = temp_dir("toml");
    let dir = dir_dir.sub("toml");
    std::fs::create_dir_all(&dir).unwrap();
    let file = format!("{dir}/run.toml");
    std::fs::write(
        &file,
        "arch = \"linear\"\ndim = 32\nchi = 1\nptr = 256\npte = 512\nbatch = 2\ntemp = 1\n",
    )
    .unwrap();
    let a = sgdnoise(&[
        "run",
        "--config",
        &file,
        "--json",
        "--quiet",
        "--out",
        &format!("{dir}/a"),
    ]);
    let b = sgdnoise(
        &[
            &BASE[..],
            &[
                "--batch",
                "2",
                "--temp",
                "1",
                "--json",
                "--out",
                &format!("{dir}/b"),
            ],
        ]
        .concat(),
    );
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    let a: serde_json::Value = serde_json::from_slice(&a.stdout).unwrap();
    let b: serde_json::Value = serde_json::from_slice(&b.stdout).unwrap();
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["steps"], b["steps"]);
    // A flag overrides the file, and --lr replaces the file's temp.
    let c = sgdnoise(&[
        "run",
        "--config",
        &file,
        "--lr",
        "0.5",
        "--json",
        "--quiet",
        "--out",
        &format!("{dir}/c"),
    ]);
    assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
    let c: serde_json::Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(c["temp"], 0.25);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_input_exits_2_and_names_the_value() {
    let cases: [(&[&str], &str); 6] = [
        (&["--batch", "2", "--temp", "-1"], "-1"),
        (&["--batch", "5000", "--temp", "1"], "5000"),
        (&["--batch", "2", "--temp", "1", "--lr", "2"], "not both"),
        (
            &["--batch", "2", "--temp", "1", "--arch", "resnet"],
            "resnet",
        ),
        (&["--batch", "2", "--temp", "1", "--dtype", "f16"], "f16"),
        (&["--batch", "2"], "temp"),
    ];
    for (extra, needle) in cases {
        let o = sgdnoise(&[&BASE[..], extra].concat());
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(
            err.contains(needle),
            "{extra:?}: message {err:?} lacks {needle:?}"
        );
    }
    let o = sgdnoise(&["run", "--config", "/nonexistent/run.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/run.toml"));
}

/// Issue 11: `--save-params` alone means true, writes params.bin beside the test predictions and
/// does not change the run's identity; `--ntk-points` records the NTK, and a subset larger than
/// the training set exits 2 naming the flag's setting.
#[test]
fn save_params_alone_keeps_the_identity_and_ntk_points_beyond_ptr_exits_2() {
    let dir = temp_dir("arrays");
    let (plain, kept) = (dir.sub("plain"), dir.sub("kept"));
    let args = [
        &BASE[..],
        &["--batch", "2", "--temp", "1", "--ntk-points", "16"],
    ]
    .concat();
    let o = sgdnoise(&[&args[..], &["--out", &plain]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = sgdnoise(&[&args[..], &["--save-params", "--out", &kept]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let id = |d: &str| {
        let s: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(std::path::Path::new(d).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert!(s["ntk"]["rel_change"].is_number(), "{s}");
        s["id"].as_str().unwrap().to_string()
    };
    assert_eq!(id(&plain), id(&kept));
    let p = std::path::Path::new(&plain);
    let k = std::path::Path::new(&kept);
    assert!(p.join("test_predictions.bin").is_file() && !p.join("params.bin").exists());
    assert!(k.join("params.bin").is_file());
    let o = sgdnoise(&[&BASE[..], &["--temp", "1", "--ntk-points", "257"]].concat());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("ntk_points") && err.contains("257"), "{err}");
}
