use super::axis::range_points;
use super::*;

/// Parses the inside of an inline table, `log2 = [1, 2], step = 0.5`.
fn inline(text: &str) -> toml::Table {
    let doc: toml::Table = toml::from_str(&format!("x = {{ {text} }}")).unwrap();
    doc["x"].as_table().unwrap().clone()
}

#[test]
fn log_ranges_are_exact_powers_and_round_for_integer_keys() {
    let t = inline("log2 = [-2, 1]");
    let p = range_points("x", "temp", &t).unwrap();
    assert_eq!(
        p,
        vec![
            Value::Float(0.25),
            Value::Float(0.5),
            Value::Float(1.0),
            Value::Float(2.0)
        ]
    );
    let t = inline("log10 = [2, 3], per_decade = 4");
    let p = range_points("x", "ptr", &t).unwrap();
    // 10^2, 10^2.25, 10^2.5, 10^2.75, 10^3 rounded.
    assert_eq!(p, [100, 178, 316, 562, 1000].map(Value::Integer).to_vec());
    let t = inline("log2 = [0, 1], step = 0.5");
    let p = range_points("x", "alpha", &t).unwrap();
    assert_eq!(p.len(), 3);
    assert_eq!(p[1], Value::Float(2f64.sqrt()));
    let t = inline("range = [0, 4]");
    let p = range_points("x", "seed_init", &t).unwrap();
    assert_eq!(p, (0..5).map(Value::Integer).collect::<Vec<_>>());
}

#[test]
fn bad_ranges_name_the_axis() {
    for (text, needle) in [
        ("log2 = [3, 1]", "below"),
        ("log2 = [1, 3], step = 0", "step"),
        ("log2 = [1]", "two numbers"),
        ("log2 = [1, 2], per_decade = 3", "per_decade"),
        ("log2 = [1, 2], log10 = [1, 2]", "exactly one"),
    ] {
        let t = inline(text);
        let e = range_points("axes.temp", "temp", &t).unwrap_err();
        assert_eq!(e.context, "axes.temp");
        assert!(e.message.contains(needle), "{text}: {}", e.message);
    }
}

#[test]
fn product_resolves_every_combination_and_reports_all_invalid_ones() {
    let f = SweepFile::parse(
        "[fixed]\nbatch = 2\ndim = 8\n[axes]\nptr = [4, 8]\ntemp = { log2 = [-1, 0] }\nseed_init = [0, 1, 2]\n",
        "t",
    )
    .unwrap();
    let e = f.expand().unwrap();
    assert_eq!(e.plan.runs.len(), 12);
    assert_eq!(e.plan.name, "t");
    // Alphabetical axes, the first (ptr) varying slowest.
    assert_eq!(e.label(0), "ptr=4 seed_init=0 temp=0.5");
    assert_eq!(e.label(1), "ptr=4 seed_init=0 temp=1");
    assert_eq!(e.plan.runs[11].ptr, 8);

    let f = SweepFile::parse(
        "[fixed]\ndim = 8\n[axes]\nptr = [1, 4]\nbatch = [2, 3]\ntemp = [1.0, -1.0]\n",
        "t",
    )
    .unwrap();
    let PlanErrors(errors) = f.expand().unwrap_err();
    // ptr=1 with either batch (2 temps each) and every temp=-1 combination: 4 + 2 = 6.
    assert_eq!(errors.len(), 6, "{errors:?}");
    assert!(errors
        .iter()
        .any(|e| e.message.contains("temp") && e.message.contains("-1")));
    assert!(errors
        .iter()
        .any(|e| e.context.contains("ptr=1") && e.message.contains("larger than")));
}

#[test]
fn unknown_keys_and_bad_types_are_reported_before_expansion() {
    let PlanErrors(errors) = SweepFile::parse(
        "[fixed]\nbogus = 1\n[axes]\ntempp = [1]\nptr = [1.5]\n",
        "t",
    )
    .unwrap_err();
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].message.contains("bogus"));
    assert!(errors.iter().any(|e| e.context == "axes.tempp"));
    assert!(errors.iter().any(|e| e.context == "axes.ptr"));
    assert!(SweepFile::parse("nme = \"x\"\n", "t").is_err());
}

#[test]
fn zip_groups_vary_together_and_duplicates_run_once() {
    let f = SweepFile::parse(
        "[fixed]\nbatch = 2\ntemp = 1.0\n[axes]\nseed_init = [0, 0, 1]\n[[zip]]\nalpha = [1.0, 2.0]\nptr = [16, 32]\n",
        "t",
    )
    .unwrap();
    let e = f.expand().unwrap();
    assert_eq!(e.plan.runs.len(), 4);
    assert_eq!(e.duplicates, 2);
    assert!(e
        .plan
        .runs
        .iter()
        .all(|r| (r.alpha == 1.0) == (r.ptr == 16)));
    let bad = SweepFile::parse("[[zip]]\nalpha = [1.0, 2.0]\nptr = [16]\n", "t").unwrap_err();
    assert!(bad.0[0].message.contains("equal lengths"), "{bad}");
}

/// Regression (issue 15, item 6): a `temp` axis silently replaced an `lr` of `[fixed]` (and the
/// reverse), so the file's fixed value was dropped without a word. Both given is refused, as
/// with flags and within `[fixed]`, naming both.
#[test]
fn a_fixed_lr_with_a_temp_axis_is_rejected_naming_both() {
    for text in [
        "[fixed]\nlr = 1.0\nbatch = 2\n[axes]\ntemp = [0.5]\n",
        "[fixed]\ntemp = 1.0\nbatch = 2\n[axes]\nlr = [0.5, 1.0]\n",
        "[fixed]\nlr = 1.0\nbatch = 2\n[[zip]]\ntemp = [0.5]\nptr = [8]\n",
        "[fixed]\nlr = 1.0\nbatch = 2\n[[part]]\nptr = [8]\n[[part]]\ntemp = [0.5]\n",
    ] {
        let bad = SweepFile::parse(text, "t").unwrap_err();
        assert_eq!(bad.0.len(), 1, "{text}: {bad}");
        let m = &bad.0[0].message;
        assert!(
            m.contains("`lr`") && m.contains("`temp`") && m.contains("[fixed]"),
            "{text}: {m}"
        );
    }
    // One of them alone, fixed or on an axis, is fine.
    let f = SweepFile::parse("[fixed]\nbatch = 2\n[axes]\ntemp = [0.5]\n", "t").unwrap();
    assert_eq!(f.expand().unwrap().plan.runs[0].temp, 0.5);
}

#[test]
fn parts_are_a_union_of_products_with_the_shared_axes() {
    let f = SweepFile::parse(
        "[fixed]\nbatch = 2\ndim = 8\ntemp = 1.0\n[axes]\nseed_init = [0, 1]\n\
         [[part]]\nchi = [1, 3]\nptr = [8, 16, 32]\n[[part]]\nchi = 0\nptr = [8, 16]\n",
        "t",
    )
    .unwrap();
    assert_eq!(f.combinations(), 2 * 3 * 2 + 2 * 2);
    let e = f.expand().unwrap();
    assert_eq!(e.plan.runs.len(), 16);
    assert!(e.plan.runs.iter().all(|r| r.chi != 0.0 || r.ptr <= 16));
    assert_eq!(e.label(0), "chi=1 ptr=8 seed_init=0");
    assert_eq!(e.label(12), "chi=0 ptr=8 seed_init=0");
    // A key both shared and in a part is an error.
    let bad = SweepFile::parse("[axes]\nptr = [8]\n[[part]]\nptr = [16]\n", "t").unwrap_err();
    assert!(bad.0[0].message.contains("already a shared axis"), "{bad}");
    // Overlapping parts run each run once.
    let f = SweepFile::parse(
        "[fixed]\nbatch = 2\ndim = 8\n[axes]\nptr = [8]\n[[part]]\ntemp = [1.0, 2.0]\n[[part]]\ntemp = [1.0]\n",
        "t",
    )
    .unwrap();
    let e = f.expand().unwrap();
    assert_eq!((e.plan.runs.len(), e.duplicates), (2, 1));
}

/// Regression: with `temp` and `lr` both axes the lr axis was silently dropped, and the
/// combinations labelled lr = 3 ran with another lr.
#[test]
fn temp_and_lr_both_as_axes_are_rejected() {
    let bad = SweepFile::parse(
        "[fixed]\nbatch = 2\n[axes]\ntemp = [1.0, 2.0]\nlr = [2.0, 3.0]\n",
        "t",
    )
    .unwrap_err();
    assert!(bad.0[0].message.contains("both axes"), "{bad}");
    let bad = SweepFile::parse(
        "[fixed]\nbatch = 2\n[axes]\ntemp = [1.0]\n[[zip]]\nlr = [2.0]\nptr = [8]\n",
        "t",
    )
    .unwrap_err();
    assert!(bad.0[0].message.contains("both axes"), "{bad}");
}

/// Regression: an empty [[zip]] group was accepted.
#[test]
fn an_empty_zip_group_is_rejected() {
    let bad = SweepFile::parse("[fixed]\ntemp = 1.0\n[[zip]]\n", "t").unwrap_err();
    assert!(bad.0[0].message.contains("empty"), "{bad}");
}

#[test]
fn a_shared_axis_can_be_replaced() {
    let f = SweepFile::parse(
        "[fixed]\nbatch = 2\ndim = 8\ntemp = 1.0\n[axes]\nseed_init = [0, 1]\nptr = [8, 16]\n",
        "t",
    )
    .unwrap()
    .with_axis("seed_init", (0..5).map(Value::Integer).collect())
    .unwrap();
    assert_eq!(f.expand().unwrap().plan.runs.len(), 10);
    assert!(f.with_axis("ptr", vec![Value::Float(1.5)]).is_err());
}

#[test]
fn the_slurm_table_takes_a_preamble_as_one_string_or_a_list_and_checks_its_fields() {
    let base = "[fixed]\ntemp = 1.0\n[slurm]\n";
    let s = SweepFile::parse(
        &format!("{base}preamble = \"module load a\\nexport B=1\\n\"\n"),
        "x",
    )
    .unwrap();
    assert_eq!(
        s.slurm.preamble,
        Some(vec!["module load a".to_string(), "export B=1".to_string()])
    );
    let s = SweepFile::parse(
        &format!("{base}preamble = [\"module load a\"]\nmax_running = 4\ntask_time = \"2-00\"\nanalyze = true\n"),
        "x",
    )
    .unwrap();
    assert_eq!(s.slurm.preamble, Some(vec!["module load a".to_string()]));
    assert_eq!(
        (s.slurm.max_running, s.slurm.analyze),
        (Some(4), Some(true))
    );
    let e = SweepFile::parse(
        &format!("{base}max_running = 0\ntime = \"1:2:3:4\"\nmem = \"2 G\"\n"),
        "x",
    )
    .unwrap_err();
    let contexts: Vec<&str> = e.0.iter().map(|e| e.context.as_str()).collect();
    assert_eq!(
        contexts,
        ["[slurm].time", "[slurm].max_running", "[slurm].mem"],
        "{e}"
    );
}

/// Issue 15, item 9: `study --seeds N` once spent time quadratic in N before its first run
/// (100 seeds 1.6 s, 400 seeds 26 s): its plan dropped duplicates by comparing each new run's
/// identity with every run kept so far. Expansion now keeps a hash set: it computes exactly one
/// identity per combination, so the count below is linear in the seeds (an operation count,
/// not a timing).
#[test]
fn study_plan_for_400_seeds_computes_one_identity_per_combination() {
    use sgdnoise_core::settings::identity::computed_on_this_thread;
    let plan_of = |seeds: i64| {
        let file = crate::presets::study()
            .with_axis("seed_init", (0..seeds).map(Value::Integer).collect())
            .unwrap();
        let before = computed_on_this_thread();
        let e = file.expand().unwrap();
        (e, computed_on_this_thread() - before)
    };
    let (e, work) = plan_of(400);
    // 17 distinct runs per seed (8 + 10 grid points, one shared): 18 combinations, 1 duplicate.
    assert_eq!(e.plan.runs.len(), 400 * 17);
    assert_eq!(e.duplicates, 400);
    let ids: HashSet<String> = e.plan.runs.iter().map(|r| r.identity()).collect();
    assert_eq!(ids.len(), 400 * 17, "every run of the plan is distinct");
    assert_eq!(work, 400 * 18, "one identity per combination");
    let (_, work_100) = plan_of(100);
    assert_eq!(
        work,
        4 * work_100,
        "four times the seeds, four times the work"
    );
}
