//! The store's layout and identities.

use crate::util::{small_plan, temp_store};
use serde_json::Value;
use sgdnoise_campaign::{run_local, LocalOptions, SkipReason, Store, SweepEvent};
use sgdnoise_core::rundir;

/// Regression: the literal "runs" was joined in seven places across two crates; the layout now
/// lives in `Store` alone, and every path of a run comes from it.
#[test]
fn every_run_lives_in_the_folder_named_by_its_identity() {
    let store = temp_store("layout");
    assert!(!Store::exists_at(store.root()));
    let plan = small_plan();
    let r = run_local(&plan, &store, &LocalOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(r.ran, plan.runs.len());
    assert!(Store::exists_at(store.root()));
    let collected = store.collect().unwrap();
    assert_eq!(collected.len(), plan.runs.len());
    for spec in &plan.runs {
        let id = spec.identity();
        assert_eq!(store.dir_of(spec), store.runs_dir().join(&id));
        assert!(store.is_finished(&id));
        assert!(collected.iter().any(|s| s.id == id));
    }
    // Locks are released and cleaned up once the runs are done.
    assert!(!store.lock_path(&plan.runs[0].identity()).exists());
}

/// The identity a plan stores each run under is the one its settings resolve to again (what a
/// SLURM task checks before it runs a frozen entry).
#[test]
fn plan_identities_are_those_of_the_resolved_settings() {
    for spec in small_plan().runs {
        assert_eq!(
            spec.to_config().resolve().unwrap().identity(),
            spec.identity()
        );
    }
}

/// Rewrites the summary of `dir` through `edit` (as JSON), as another version might have
/// written it.
fn edit_summary(dir: &std::path::Path, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) {
    let path = dir.join(rundir::SUMMARY_FILE);
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(v.as_object_mut().unwrap());
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Regression (issue 15, item 4): a summary that lacked `check_seconds`, or held a key unknown
/// to this version inside its config, did not parse, so the run counted as unfinished and was
/// deleted and run again: hours of a long run lost across versions. It is finished, never
/// rewritten, and its unknown keys are kept.
#[test]
fn a_summary_of_another_version_counts_as_finished_and_is_never_rerun() {
    let plan = small_plan();
    let store = temp_store("schema");
    run_local(&plan, &store, &LocalOptions::default(), &mut |_| {}).unwrap();
    let (a, b) = (store.dir_of(&plan.runs[0]), store.dir_of(&plan.runs[1]));
    edit_summary(&a, |m| {
        m.remove("check_seconds");
        m.insert("gpu_seconds".into(), Value::from(1.5));
        let config = m.get_mut("config").unwrap().as_object_mut().unwrap();
        config.insert("new_setting".into(), Value::from(3));
    });
    edit_summary(&b, |m| {
        for k in [
            "wall_seconds",
            "crate_version",
            "steps_simulated",
            "full_checks",
        ] {
            m.remove(k);
        }
        m.get_mut("last")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("wall");
    });
    let before: Vec<Vec<u8>> = [&a, &b]
        .iter()
        .map(|d| std::fs::read(d.join(rundir::SUMMARY_FILE)).unwrap())
        .collect();
    let r = run_local(&plan, &store, &LocalOptions::default(), &mut |e| {
        panic!("nothing to do: {e:?}")
    })
    .unwrap();
    assert_eq!((r.ran, r.already_done), (0, plan.runs.len()));
    for (d, bytes) in [&a, &b].iter().zip(&before) {
        assert_eq!(&std::fs::read(d.join(rundir::SUMMARY_FILE)).unwrap(), bytes);
    }
    let c = store.scan().unwrap();
    assert!(c.skipped.is_empty(), "{:?}", c.skipped);
    assert_eq!(c.summaries.len(), plan.runs.len());
    let sa = c
        .summaries
        .iter()
        .find(|s| s.id == plan.runs[0].identity())
        .unwrap();
    assert!(sa.check_seconds.is_nan());
    assert_eq!(sa.unknown["gpu_seconds"], Value::from(1.5));
    assert_eq!(sa.unknown["config.new_setting"], Value::from(3));
    // The table shows what this version does not know, by its path.
    let t = sgdnoise_campaign::table::Table::runs(&c.summaries).unwrap();
    assert!(
        t.names().iter().any(|n| n == "config.new_setting"),
        "{:?}",
        t.names()
    );
    let csv = String::from_utf8(t.to_csv().unwrap()).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|h| *h == "config.new_setting")
        .unwrap();
    assert_eq!(
        lines
            .filter(|l| l.split(',').nth(col).and_then(|v| v.parse::<f64>().ok()) == Some(3.0))
            .count(),
        1,
        "{csv}"
    );
}

/// Regression (issue 15, items 4 and 5): a truncated summary made its run look unfinished and
/// the next attempt deleted it; a summary naming another run (a copied or misplaced file) made
/// `<id>` count as done with another run's results. Both are moved aside, never deleted, and
/// the run runs again; `scan` lists each id once and reports what it left out.
#[test]
fn a_corrupt_or_mislabelled_summary_is_moved_aside_not_deleted() {
    let plan = small_plan();
    let store = temp_store("aside");
    run_local(&plan, &store, &LocalOptions::default(), &mut |_| {}).unwrap();
    let (a, b, c) = (
        store.dir_of(&plan.runs[0]),
        store.dir_of(&plan.runs[1]),
        store.dir_of(&plan.runs[2]),
    );
    let truncated = std::fs::read(a.join(rundir::SUMMARY_FILE)).unwrap()[..100].to_vec();
    std::fs::write(a.join(rundir::SUMMARY_FILE), &truncated).unwrap();
    std::fs::copy(c.join(rundir::SUMMARY_FILE), b.join(rundir::SUMMARY_FILE)).unwrap();
    let copy = store
        .runs_dir()
        .join(format!("{}.bak", plan.runs[3].identity()));
    std::fs::create_dir_all(&copy).unwrap();
    let d = store.dir_of(&plan.runs[3]);
    std::fs::copy(
        d.join(rundir::SUMMARY_FILE),
        copy.join(rundir::SUMMARY_FILE),
    )
    .unwrap();
    std::fs::write(store.runs_dir().join("notes.txt"), "mine").unwrap();

    let scan = store.scan().unwrap();
    assert_eq!(scan.summaries.len(), plan.runs.len() - 2);
    let ids: std::collections::HashSet<&str> =
        scan.summaries.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids.len(), scan.summaries.len(), "each id once");
    let why = |p: &std::path::Path| {
        scan.skipped
            .iter()
            .find(|s| s.path == p)
            .map(|s| s.why.clone())
            .unwrap_or_else(|| panic!("{} not reported: {:?}", p.display(), scan.skipped))
    };
    assert!(matches!(why(&a), SkipReason::Corrupt { .. }));
    assert_eq!(
        why(&b),
        SkipReason::OtherRun {
            id: plan.runs[2].identity()
        }
    );
    assert_eq!(
        why(&copy),
        SkipReason::OtherRun {
            id: plan.runs[3].identity()
        }
    );
    assert_eq!(
        why(&store.runs_dir().join("notes.txt")),
        SkipReason::NotAFolder
    );
    assert_eq!(scan.skipped.len(), 4);
    assert!(!store.is_finished(&plan.runs[0].identity()));
    assert!(!store.is_finished(&plan.runs[1].identity()));

    let mut aside = Vec::new();
    let r = run_local(&plan, &store, &LocalOptions::default(), &mut |e| {
        if let SweepEvent::SetAside { id, to, .. } = e {
            aside.push((id, to));
        }
    })
    .unwrap();
    assert_eq!(r.ran, 2, "{r:?}");
    aside.sort();
    let mut expected = vec![
        (
            plan.runs[0].identity(),
            store
                .runs_dir()
                .join(format!("{}.aside-1", plan.runs[0].identity())),
        ),
        (
            plan.runs[1].identity(),
            store
                .runs_dir()
                .join(format!("{}.aside-1", plan.runs[1].identity())),
        ),
    ];
    expected.sort();
    assert_eq!(aside, expected);
    assert_eq!(
        std::fs::read(
            expected
                .iter()
                .find(|(id, _)| *id == plan.runs[0].identity())
                .unwrap()
                .1
                .join(rundir::SUMMARY_FILE)
        )
        .unwrap(),
        truncated,
        "the truncated summary is kept as it was"
    );
    assert!(store.is_finished(&plan.runs[0].identity()));
    assert!(store.is_finished(&plan.runs[1].identity()));
    let scan = store.scan().unwrap();
    assert_eq!(scan.summaries.len(), plan.runs.len());
    // The two folders set aside, the copy and the note are still reported, never counted.
    assert_eq!(scan.skipped.len(), 4, "{:?}", scan.skipped);
}
