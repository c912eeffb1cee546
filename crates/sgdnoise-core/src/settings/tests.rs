use super::*;

fn base() -> RunConfig {
    RunConfig {
        temp: Some(1.0),
        batch: Some(2),
        ..Default::default()
    }
}

fn toml(text: &str) -> RunConfig {
    RunConfig::from_toml_str(text).unwrap()
}

#[test]
fn temperature_and_learning_rate_are_derived_once() {
    let s = base().resolve().unwrap();
    assert_eq!((s.temp, s.lr, s.given), (1.0, 2.0, Given::Temp));
    let s = RunConfig {
        arch: Some(Arch::Mlp),
        lr: Some(4.0),
        batch: Some(16),
        temp: None,
        ..base()
    }
    .resolve()
    .unwrap();
    assert_eq!(s.temp, 4.0 / (16.0 * 128.0));
    assert_eq!(s.given, Given::Lr);
}

#[test]
fn bad_values_name_the_field_and_value() {
    let e = RunConfig {
        temp: Some(-1.0),
        ..base()
    }
    .resolve()
    .unwrap_err();
    assert!(
        e.to_string().contains("temp") && e.to_string().contains("-1"),
        "{e}"
    );
    let e = RunConfig {
        lr: Some(1.0),
        ..base()
    }
    .resolve()
    .unwrap_err();
    assert!(matches!(e, ConfigError::TempAndLr { .. }), "{e}");
    let e = RunConfig {
        batch: Some(5000),
        ..base()
    }
    .resolve()
    .unwrap_err();
    assert_eq!(
        e,
        ConfigError::BatchTooLarge {
            batch: 5000,
            ptr: 1024
        }
    );
    let e = RunConfig::from_toml_str("arch = \"resnet\"\ntemp = 1").unwrap_err();
    assert!(
        e.to_string().contains("resnet") && e.to_string().contains("linear, mlp, mnas"),
        "{e}"
    );
    let e = RunConfig {
        temp: None,
        ..base()
    }
    .resolve()
    .unwrap_err();
    assert!(matches!(e, ConfigError::Missing { field: "temp", .. }));
    let mut c = RunConfig::default();
    let e = c.set_text("ptr", "1e3").unwrap_err();
    assert!(
        e.to_string().contains("ptr") && e.to_string().contains("1e3"),
        "{e}"
    );
    let e = c.set_text("sed_init", "3").unwrap_err();
    assert!(e.to_string().contains("sed_init"), "{e}");
}

#[test]
fn default_seeds_follow_the_spec() {
    let s = RunConfig {
        seed_init: Some(3),
        ..base()
    }
    .resolve()
    .unwrap();
    assert_eq!(
        s.seeds,
        Seeds {
            init: 3,
            batch: 3,
            trainset: -5,
            testset: -1
        }
    );
}

/// Regression: the default training-set seed -seed_init - 2 overflowed (wrapped) at the extreme.
#[test]
fn default_trainset_seed_never_wraps() {
    let e = RunConfig {
        seed_init: Some(i64::MIN),
        ..base()
    }
    .resolve()
    .unwrap_err();
    assert!(
        matches!(
            e,
            ConfigError::Missing {
                field: "seed_trainset",
                ..
            }
        ),
        "{e}"
    );
    let ok = RunConfig {
        seed_init: Some(i64::MIN),
        seed_trainset: Some(0),
        ..base()
    };
    assert!(ok.resolve().is_ok());
}

/// Regression: `--act gelu` was accepted for the perceptron and silently changed the identity.
#[test]
fn settings_that_do_not_apply_are_errors_that_name_them() {
    for (text, field) in [
        ("act = \"gelu\"", "act"),
        ("width = 1", "width"),
        ("depth = 3", "depth"),
        ("arch = \"mnas\"\ndepth = 3", "depth"),
        (
            "arch = \"mlp\"\ndataset = \"mnist_parity\"\nchi = 1.0",
            "chi",
        ),
        ("dataset = \"sign\"\nchi = 0.0", "chi"),
        (
            "arch = \"mlp\"\ndataset = \"mnist_parity\"\ndim = 784",
            "dim",
        ),
    ] {
        let e = toml(&format!("temp = 1\n{text}")).resolve().unwrap_err();
        match &e {
            ConfigError::NotApplicable { field: f, .. } => assert_eq!(*f, field, "{text}: {e}"),
            other => panic!("{text}: {other}"),
        }
        assert!(e.to_string().contains("applies only to"), "{e}");
    }
    assert!(toml("temp = 1\narch = \"mlp\"\nact = \"gelu\"")
        .resolve()
        .is_ok());
}

#[test]
fn identity_ignores_execution_settings_and_round_trips() {
    let a = base().resolve().unwrap();
    let b = RunConfig {
        threads: Some(4),
        data_dir: Some("/x".into()),
        ..base()
    }
    .resolve()
    .unwrap();
    assert_eq!(a.identity(), b.identity());
    let c = RunConfig {
        seed_init: Some(1),
        ..base()
    }
    .resolve()
    .unwrap();
    assert_ne!(a.identity(), c.identity());
    assert_eq!(a.to_config().resolve().unwrap().identity(), a.identity());
}

fn examples() -> Vec<RunConfig> {
    [
        "temp = 1\nbatch = 2",
        "lr = 0.5\nbatch = 4\ndim = 16\nchi = 0\nseed_init = 3",
        "dataset = \"random_sign\"\ntemp = 0.01\ndtype = \"f64\"\nalpha = 1",
        "dataset = \"sign\"\ntemp = 0.1\nloss = \"quadratic_hinge\"\nmax_steps = 5000",
        "arch = \"mlp\"\ntemp = 0.03125\nbatch = 16\ndepth = 3\nwidth = 64\nptr = 512",
        "arch = \"mlp\"\nact = \"gelu\"\nlr = 2\nbatch = 16\nseed_batch = 7\nmax_wall = 60",
        "arch = \"mlp\"\ndataset = \"random_sign\"\ndim = 784\ntemp = 1",
        "arch = \"mnas\"\nwidth = 4\ntemp = 0.01\nbatch = 16\ndataset = \"cifar_animal\"",
        "arch = \"mnas\"\ntemp = 0.01\nthreads = 2\ndata_dir = \"/data\"",
    ]
    .iter()
    .map(|t| toml(t))
    .collect()
}

#[test]
fn to_config_resolves_back_to_the_same_spec() {
    for c in examples() {
        let s = c.resolve().unwrap();
        let back = s.to_config().resolve().unwrap();
        assert_eq!(back, s, "{c:?}");
        assert_eq!(back.exec, s.exec);
        // The canonical settings alone give the same run.
        let mut canonical = RunConfig::default();
        for (k, v) in s.identity_settings() {
            canonical
                .set(k, &toml::Value::try_from(v).unwrap())
                .unwrap();
        }
        let again = canonical.resolve().unwrap();
        assert_eq!(again.identity(), s.identity(), "{c:?}");
        assert_eq!(
            RunSpec {
                exec: s.exec.clone(),
                ..again
            },
            s
        );
    }
}

/// A setting written out at its declared default is the same run as one left out: so a setting
/// added to the table later (present in every new config at its default) keeps old identities.
#[test]
fn settings_at_their_default_do_not_enter_the_identity() {
    let short = toml("arch = \"mlp\"\ntemp = 1").resolve().unwrap();
    let long = toml(
        "arch = \"mlp\"\ntemp = 1\nact = \"relu\"\ndepth = 5\nwidth = 128\ndataset = \"mnist_parity\"\n\
         ptr = 1024\npte = 8192\nalpha = 32768\nloss = \"hinge\"\ndtype = \"f32\"\nseed_init = 0\n\
         seed_batch = 0\nseed_trainset = -2\nseed_testset = -1\ncheckpoints_per_decade = 10\n\
         loss_drop_factor = 2",
    )
    .resolve()
    .unwrap();
    assert_eq!(short.identity(), long.identity());
    assert_eq!(
        short.identity_text(),
        r#"{"schema":1,"settings":{"arch":"mlp","temp":1.0}}"#
    );
}

/// The identities of a few base runs, pinned: a change of the canonical form, of a default or
/// of a setting's name fails here. Produced by this code at schema 1; the same ids are printed
/// by `sgdnoise run --arch linear --temp 1 --batch 2 --json | grep '"id"'` (and so on for each).
#[test]
fn identities_of_base_runs_are_pinned() {
    let pinned = [
        ("temp = 1\nbatch = 2", "da196ce954d673a0"),
        (
            "arch = \"mlp\"\ntemp = 0.03125\nbatch = 16\ndataset = \"mnist_parity\"",
            "2cc2a1471c3214a9",
        ),
        (
            "arch = \"mnas\"\nwidth = 32\nlr = 0.5\nbatch = 64\ndataset = \"cifar_animal\"",
            "86f7879d815c04f1",
        ),
        (
            "chi = 3\ndim = 64\nptr = 4096\nlr = 0.25\nbatch = 2\npte = 32768\nseed_init = 4",
            "46b93bb65b1e2245",
        ),
    ];
    for (text, id) in pinned {
        let s = toml(text).resolve().unwrap();
        assert_eq!(s.identity(), id, "{text}\n{}", s.identity_text());
    }
}

/// The declared defaults, pinned: changing one changes what existing identities mean (runs that
/// relied on the old default would be taken for runs at the new one). If a default must change,
/// bump IDENTITY_SCHEMA and update this list together.
///
/// One change was made without a bump, on purpose: `max_steps` had no default ("no cap") and got
/// the finite cap 10^12 (issue 15, item 11). A run that left it out keeps its identity (the
/// canonical form leaves out a setting at its default, and one without a value, alike; the
/// pinned ids below did not change), and it means the same run: no preset run can reach 10^12
/// steps within its wall cap. Only a run that gave exactly `max_steps = 1000000000000` gets a
/// new id. `max_memory` is an execution setting (never in the identity).
#[test]
fn declared_defaults_are_pinned() {
    let expect = |arch: Arch, dataset: DatasetName| -> Vec<(&str, Option<serde_json::Value>)> {
        let c = Context {
            arch,
            dataset,
            seed_init: 3,
        };
        NAMES
            .iter()
            .map(|n| (*n, RunConfig::default_json(n, &c)))
            .collect()
    };
    let show = |v: Vec<(&str, Option<serde_json::Value>)>| {
        v.iter()
            .map(|(k, v)| format!("{k}={}", v.as_ref().map_or("-".into(), |v| v.to_string())))
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        show(expect(Arch::Linear, DatasetName::DepletedSign)),
        "arch=\"linear\" act=\"relu\" depth=5 width=- dataset=\"depleted_sign\" chi=1.0 dim=32 \
         ptr=1024 pte=8192 alpha=32768.0 batch=- temp=- lr=- loss=\"hinge\" \
         dynamics=\"sgd\" sde_noise=\"edm\" loss_convention=\"sgdnoise\" dtype=\"f32\" \
         seed_init=0 seed_batch=3 seed_trainset=-5 seed_testset=-1 max_steps=1000000000000 \
         max_wall=- checkpoints_per_decade=10.0 loss_drop_factor=2.0 data_dir=- threads=1 \
         max_memory=- ntk_points=0 save_params=false"
    );
    let mlp = show(expect(Arch::Mlp, DatasetName::MnistParity));
    assert!(
        mlp.contains("width=128") && mlp.contains("dataset=\"mnist_parity\""),
        "{mlp}"
    );
    let mnas = show(expect(Arch::Mnas, DatasetName::CifarAnimal));
    assert!(mnas.contains("width=64"), "{mnas}");
}

#[test]
fn the_table_is_well_formed() {
    let mut names: Vec<&str> = NAMES.to_vec();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), SETTINGS.len(), "duplicate setting names");
    for s in SETTINGS {
        assert!(
            !s.doc.trim().is_empty() && !s.doc.contains('\n'),
            "{}",
            s.name
        );
        assert!(!s.default.is_empty(), "{}", s.name);
        assert!(s.help().contains("[default: "), "{}", s.name);
        // Every setting can be set from its own shown default form or from a value.
        let mut c = RunConfig::default();
        let sample = match s.kind {
            ValueKind::Integer { .. } => "3",
            ValueKind::Number => "0.5",
            ValueKind::Name(names) => names[0],
            ValueKind::Path => "/tmp",
        };
        c.set_text(s.name, sample).unwrap();
        assert_eq!(c.show(s.name).as_deref(), Some(sample), "{}", s.name);
        assert_eq!(c.given().len(), 1);
    }
    for (a, b) in EXCLUSIVE {
        assert!(setting(a).is_some() && setting(b).is_some());
    }
}

#[test]
fn toml_rejects_unknown_keys() {
    let e = RunConfig::from_toml_str("temp = 1\nbogus = 3\n").unwrap_err();
    assert!(e.to_string().contains("bogus"), "{e}");
    let mut c = RunConfig::from_toml_str("temp = 1.0\nbatch = 2").unwrap();
    c.set("alpha", &toml::Value::Float(2.0)).unwrap();
    assert_eq!(c.alpha, Some(2.0));
    c.set("alpha", &toml::Value::Integer(4)).unwrap();
    assert_eq!(c.alpha, Some(4.0));
    let e = c.set("ptr", &toml::Value::Float(1.5)).unwrap_err();
    assert!(e.to_string().contains("ptr"), "{e}");
}

#[test]
fn a_flag_over_a_file_replaces_the_exclusive_partner() {
    let file = toml("lr = 2\nbatch = 2");
    let flags = RunConfig {
        temp: Some(0.5),
        ..Default::default()
    };
    let m = file.merged(&flags);
    assert_eq!((m.temp, m.lr), (Some(0.5), None));
    let mut c = toml("temp = 1");
    c.set_over("lr", &toml::Value::Float(3.0)).unwrap();
    assert_eq!((c.temp, c.lr), (None, Some(3.0)));
}

/// Regression: a run without a step cap (`--alpha 1e-300`) could train forever. Every run now
/// has a finite cap, recorded in its config; leaving the cap out keeps the identity of the run.
#[test]
fn every_run_has_a_finite_step_cap_that_keeps_its_identity() {
    let s = base().resolve().unwrap();
    assert_eq!(s.max_steps, Some(limits::DEFAULT_MAX_STEPS));
    assert!(!s.identity_settings().contains_key("max_steps"));
    assert_eq!(s.identity(), "da196ce954d673a0"); // pinned above, from before the cap
    assert_eq!(s.to_config().max_steps, Some(limits::DEFAULT_MAX_STEPS));
    let capped = RunConfig {
        max_steps: Some(5000),
        ..base()
    }
    .resolve()
    .unwrap();
    assert_eq!(capped.identity_settings()["max_steps"], 5000);
}

/// Regression: meaningless extremes were accepted (`--alpha 1e-300` trained forever, `--depth
/// 1000000` took 1.5 GB, `--threads 100000` slowed a run down 20x, `--chi 1e308` "diverged").
#[test]
fn values_beyond_the_documented_bounds_are_refused_naming_the_bound() {
    for (text, field) in [
        ("alpha = 1e-300", "alpha"),
        ("alpha = 1e13", "alpha"),
        ("temp = 1e-31", "temp"),
        ("lr = 1e31", "lr"),
        ("lr = 1e-31", "lr"),
        ("chi = 1e308", "chi"),
        ("chi = 101", "chi"),
        ("arch = \"mlp\"\ndepth = 1000000", "depth"),
        ("arch = \"mlp\"\ndepth = 0", "depth"),
        ("arch = \"mlp\"\nwidth = 2000000", "width"),
        ("arch = \"mnas\"\nwidth = 2000000", "width"),
        ("threads = 100000", "threads"),
        ("checkpoints_per_decade = 1e6", "checkpoints_per_decade"),
        ("max_memory = 0", "max_memory"),
        ("max_memory = \"-1G\"", "max_memory"),
    ] {
        let given_rate = text.starts_with("temp") || text.starts_with("lr");
        let base = if given_rate {
            "batch = 2\n"
        } else {
            "temp = 1\nbatch = 2\n"
        };
        let e = RunConfig::from_toml_str(&format!("{base}{text}"))
            .and_then(|c| c.resolve())
            .unwrap_err();
        assert!(e.to_string().contains(field), "{text}: {e}");
    }
    // The bounds themselves are accepted.
    for text in [
        "alpha = 1e-12",
        "alpha = 1e12",
        "chi = 100",
        "arch = \"mlp\"\ndepth = 1000\nwidth = 1048576",
        "threads = 1024",
        "max_memory = \"8G\"",
    ] {
        let c = RunConfig::from_toml_str(&format!("temp = 1\nbatch = 2\n{text}")).unwrap();
        assert!(c.resolve().is_ok(), "{text}");
    }
}

/// Each bound of `limits` is written in its setting's doc line (what `--help` shows).
#[test]
fn the_documented_bounds_are_the_enforced_ones() {
    let doc = |name: &str| setting(name).unwrap().doc;
    assert!(doc("depth").contains(&format!("1 to {}", limits::MAX_DEPTH)));
    assert!(doc("width").contains(&limits::MAX_WIDTH.to_string()));
    assert!(doc("ptr").contains(&limits::MAX_PTR.to_string()));
    assert!(doc("alpha").contains(&format!(
        "{:e} to {:e}",
        limits::MIN_ALPHA,
        limits::MAX_ALPHA
    )));
    for rate in ["temp", "lr"] {
        assert!(doc(rate).contains(&format!("{:e} to {:e}", limits::MIN_RATE, limits::MAX_RATE)));
    }
    assert!(doc("chi").contains(&format!("0 to {}", limits::MAX_CHI)));
    assert!(doc("threads").contains(&format!("1 to {}", limits::MAX_THREADS)));
    assert!(doc("checkpoints_per_decade")
        .contains(&format!("at most {}", limits::MAX_CHECKPOINTS_PER_DECADE)));
    assert!(setting("max_steps")
        .unwrap()
        .default
        .contains(&limits::DEFAULT_MAX_STEPS.to_string()));
}
