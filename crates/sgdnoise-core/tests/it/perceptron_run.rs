//! End-to-end runs of the perceptron through `run::execute`: reproducibility, the exact stop,
//! divergence, caps and the run directory.

use sgdnoise_core::rundir::{self, Summary};
use sgdnoise_core::settings::RunConfig;

fn config() -> RunConfig {
    RunConfig {
        arch: Some(sgdnoise_core::settings::Arch::Linear),
        dim: Some(32),
        chi: Some(1.0),
        ptr: Some(256),
        pte: Some(1024),
        alpha: Some(32768.0),
        batch: Some(2),
        temp: Some(1.0),
        ..Default::default()
    }
}

fn run(c: &RunConfig) -> Summary {
    sgdnoise_core::run::execute(&c.resolve().unwrap(), None, &mut |_| true).unwrap()
}

/// Summaries without the fields that measure time.
fn timeless(s: &Summary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap();
    for key in ["wall_seconds", "check_seconds", "checkpoint_seconds"] {
        v.as_object_mut().unwrap().remove(key);
    }
    v["last"].as_object_mut().unwrap().remove("wall");
    v
}

#[test]
fn same_seeds_give_bit_identical_runs_and_other_seeds_differ() {
    let a = run(&config());
    let b = run(&config());
    assert_eq!(timeless(&a), timeless(&b));
    let c = run(&RunConfig {
        seed_batch: Some(99),
        ..config()
    });
    assert_ne!(a.steps, c.steps);
    assert_eq!(a.stop_reason, sgdnoise_core::train::StopReason::ZeroLoss);
}

#[test]
fn the_reported_step_is_exactly_where_the_last_point_got_fitted() {
    let finished = run(&config());
    let s = finished.steps;
    assert!(s > 100, "{s}");
    assert_eq!(finished.t_star, finished.lr * s as f64);
    // Stopping by the step cap at exactly s steps leaves every point fitted ...
    let at = run(&RunConfig {
        max_steps: Some(s),
        ..config()
    });
    assert_eq!(at.last.train.unfitted, 0, "after {s} steps");
    // ... and one step earlier at least one point is still unfitted.
    let before = run(&RunConfig {
        max_steps: Some(s - 1),
        ..config()
    });
    assert_eq!(
        before.stop_reason,
        sgdnoise_core::train::StopReason::MaxSteps
    );
    assert!(before.last.train.unfitted >= 1);
    assert!(before.train_loss > 0.0);
}

#[test]
fn divergence_is_a_recorded_outcome() {
    // MSE with a huge learning rate blows up geometrically: a result, not an error.
    let s = run(&RunConfig {
        loss: Some(sgdnoise_core::settings::Loss::Mse),
        temp: None,
        lr: Some(1e6),
        alpha: Some(1.0),
        ..config()
    });
    assert_eq!(s.stop_reason, sgdnoise_core::train::StopReason::Diverged);
    assert!(s.steps < 1000, "{}", s.steps);
}

#[test]
fn caps_end_runs_with_their_reason() {
    let s = run(&RunConfig {
        max_steps: Some(10),
        ..config()
    });
    assert_eq!((s.stop_reason.name(), s.steps), ("max_steps", 10));
    let s = run(&RunConfig {
        ptr: Some(4096),
        max_wall: Some(1e-9),
        ..config()
    });
    assert_eq!(s.stop_reason, sgdnoise_core::train::StopReason::MaxWall);
    assert_eq!(s.steps, 1024, "the clock is read every 1024 steps");
}

#[test]
fn full_batch_gradient_descent_runs_without_batch_size() {
    let s = run(&RunConfig {
        batch: None,
        ptr: Some(64),
        temp: Some(0.01),
        ..config()
    });
    assert_eq!(s.stop_reason, sgdnoise_core::train::StopReason::ZeroLoss);
    assert_eq!(s.config.batch, None);
}

#[test]
fn run_directory_holds_config_checkpoints_and_summary() {
    let tmp = crate::util::temp_dir();
    let dir = tmp.path().join("rundir");
    let spec = config().resolve().unwrap();
    let summary = sgdnoise_core::run::execute(&spec, Some(&dir), &mut |_| true).unwrap();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["id"], spec.identity());
    assert_eq!(config["lr"], 2.0);
    assert_eq!(config["num_params"], 32);
    assert_eq!(config["seeds"]["trainset"], -2);
    assert!(config["crate_version"].is_string());
    let records = rundir::read_checkpoints(&dir).unwrap();
    assert!(records.len() > 10, "{} records", records.len());
    assert_eq!(records[0].step, 0);
    assert!(records.windows(2).all(|w| w[0].step <= w[1].step));
    assert_eq!(records.last().unwrap().step, summary.steps);
    let stored = rundir::read_summary(&dir).unwrap();
    assert_eq!(timeless(&stored), timeless(&summary));
    for key in [
        "stop_reason",
        "steps",
        "t_star",
        "wall_seconds",
        "train_err",
        "test_err",
        "rel_weight_change",
        "temp",
        "lr",
        "alpha",
        "ptr",
        "signal",
        "noise",
    ] {
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                .unwrap();
        assert!(!v[key].is_null(), "summary.json lacks {key}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sgd_noise_forces_a_larger_signal() {
    // SPEC §8: at larger T the perceptron ends with a larger signal w1 - w0_1 and trains longer
    // (t*). Four seeds each; the effect is many seed spreads wide at a factor 64 in T.
    let mean = |temp: f64, f: fn(&Summary) -> f64| {
        (0..4)
            .map(|seed| {
                f(&run(&RunConfig {
                    temp: Some(temp),
                    seed_init: Some(seed),
                    ..config()
                }))
            })
            .sum::<f64>()
            / 4.0
    };
    let low = mean(1.0 / 64.0, |s| s.signal.unwrap());
    let high = mean(1.0, |s| s.signal.unwrap());
    assert!(high > 2.0 * low, "signal at T=1 {high} vs T=1/64 {low}");
    let t_low = mean(1.0 / 64.0, |s| s.t_star);
    let t_high = mean(1.0, |s| s.t_star);
    assert!(t_high > 4.0 * t_low, "t* at T=1 {t_high} vs T=1/64 {t_low}");
}
