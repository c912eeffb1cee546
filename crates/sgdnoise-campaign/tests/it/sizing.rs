//! Sizing of SLURM submissions against a real store: measured durations, partial attempts, caps.

use crate::util::temp_store;
use sgdnoise_campaign::slurm::sizing::{self, CostSource, SizingOptions};
use sgdnoise_campaign::{run_one, SweepFile};
use sgdnoise_core::rundir;

fn options() -> SizingOptions {
    SizingOptions {
        task_seconds: 3600.0,
        margin: 1.5,
        run_seconds: Some(500.0),
        runs_per_task: None,
    }
}

#[test]
fn a_run_killed_at_its_limit_costs_twice_what_it_had_used_next_time() {
    // Four seeds of one cell, capped at 1000 s. Seed 0 finishes (measured); seed 1 is left
    // partial after 40 s of training (its last record); seeds 2 and 3 are new.
    let plan = SweepFile::parse(
        "[fixed]\ndim = 8\nbatch = 2\nalpha = 32768\npte = 256\nptr = 32\ntemp = 0.25\nmax_wall = 1000.0\n\
         [axes]\nseed_init = [0, 1, 2, 3]\n",
        "cost",
    )
    .unwrap()
    .expand()
    .unwrap()
    .plan;
    let store = temp_store("sizing");
    let queued: Vec<_> = plan.runs.iter().collect();

    // Nothing measured yet: the prior for all.
    let costs = sizing::costs(&plan, &store, &queued, &options());
    assert!(
        costs.iter().all(|c| c.source == CostSource::Given),
        "{costs:?}"
    );
    assert_eq!(costs[0].seconds, Some(510.0));

    let outcome = run_one(&store, &plan.runs[0], false, None, &mut |_| {}).unwrap();
    assert!(matches!(
        outcome,
        sgdnoise_campaign::RunOutcome::Finished(_)
    ));
    let wall = rundir::read_summary(&store.dir_of(&plan.runs[0]))
        .unwrap()
        .wall_seconds;
    // A partial attempt at seed 1: seed 0's records, the last one at 40 s.
    let partial = store.dir_of(&plan.runs[1]);
    std::fs::create_dir_all(&partial).unwrap();
    let records =
        std::fs::read_to_string(store.dir_of(&plan.runs[0]).join(rundir::CHECKPOINTS_FILE))
            .unwrap();
    let mut last: serde_json::Value =
        serde_json::from_str(records.lines().last().unwrap()).unwrap();
    last["wall"] = serde_json::json!(40.0);
    std::fs::write(
        partial.join(rundir::CHECKPOINTS_FILE),
        format!("{records}{last}\n"),
    )
    .unwrap();

    let costs = sizing::costs(&plan, &store, &queued[1..], &options());
    assert_eq!(costs[0].source, CostSource::Partial);
    assert_eq!(
        costs[0].seconds,
        Some(2.0 * 40.0 + sizing::RUN_OVERHEAD_SECONDS)
    );
    for c in &costs[1..] {
        assert_eq!(
            c.source,
            CostSource::Measured,
            "same settings but seeds: {c:?}"
        );
        assert_eq!(c.seconds, Some(wall + sizing::RUN_OVERHEAD_SECONDS));
        assert!(!c.bound);
    }

    // A partial attempt longer than the cap allows: the cap bounds it (no margin on a bound).
    last["wall"] = serde_json::json!(900.0);
    std::fs::write(
        partial.join(rundir::CHECKPOINTS_FILE),
        format!("{records}{last}\n"),
    )
    .unwrap();
    let costs = sizing::costs(&plan, &store, &queued[1..2], &options());
    let cap = 1000.0 * (1.0 + sizing::CAP_OVERSHOOT) + sizing::RUN_OVERHEAD_SECONDS;
    assert_eq!(
        (costs[0].seconds, costs[0].bound),
        (Some(cap), true),
        "{costs:?}"
    );
    assert_eq!(
        sizing::limit(&costs, 1.5),
        Some(sgdnoise_campaign::slurm::time::ceil_minutes(
            cap + sizing::LIMIT_SLACK_SECONDS
        ))
    );
}

#[test]
fn a_step_cap_is_priced_at_the_nominal_flop_rate_unless_the_wall_cap_is_smaller() {
    let plan = |max_wall: &str| {
        SweepFile::parse(
            &format!(
                "[fixed]\ndim = 32\nbatch = 2\nalpha = 32768\npte = 1000\nptr = 1000\ntemp = 0.25\n\
                 max_steps = 1000000\n{max_wall}"
            ),
            "steps",
        )
        .unwrap()
        .expand()
        .unwrap()
        .plan
    };
    let store = temp_store("sizing-steps");
    let opts = SizingOptions {
        run_seconds: None,
        ..options()
    };
    let p = plan("");
    let c = sizing::costs(&p, &store, &[&p.runs[0]], &opts)[0];
    assert_eq!(c.source, CostSource::StepCap);
    // 10^6 steps x 4 B d = 256 FLOPs, plus 62 records x 2000 points x 256 / 6 FLOPs, at 1 GFLOP/s.
    let expected = (1e6 * 256.0 + 62.0 * 2000.0 * 256.0 / 6.0) / sizing::NOMINAL_FLOPS;
    assert!(
        (c.seconds.unwrap() - expected - sizing::RUN_OVERHEAD_SECONDS).abs() < 1e-9,
        "{c:?}"
    );
    let p = plan("max_wall = 0.01\n");
    let c = sizing::costs(&p, &store, &[&p.runs[0]], &opts)[0];
    assert_eq!((c.source, c.bound), (CostSource::WallCap, true), "{c:?}");
}
