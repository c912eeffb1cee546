//! The store's layout and identities.

use crate::util::{small_plan, temp_store};
use sgdnoise_campaign::{run_local, LocalOptions, Store};

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
