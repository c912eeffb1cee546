//! Issue 11: every dynamics (sgd, sgd_only_unfit, gd_sde, gd_sde_only_unfit) on every model
//! (perceptron, mlp, mnas) stops exactly at zero loss, obeys its caps, records divergence and
//! its observables; gd_sde with B = P is gradient descent; the loss conventions.

use sgdnoise_core::model::mnas::Mnas;
use sgdnoise_core::numeric::rng::{stream, Stream};
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::{
    Activation, Arch, DatasetName, Dtype, Dynamics, Loss, LossConvention, RunConfig, SdeNoise,
};
use sgdnoise_core::train::{self, Outcome, StopReason};

fn run(c: &RunConfig) -> Summary {
    sgdnoise_core::run::execute(&c.resolve().unwrap(), None, &mut |_| true).unwrap()
}

/// Every dynamics, with the noise variants of gd_sde.
fn every_dynamics() -> Vec<(Dynamics, Option<SdeNoise>)> {
    vec![
        (Dynamics::Sgd, None),
        (Dynamics::SgdOnlyUnfit, None),
        (Dynamics::GdSde, None),
        (Dynamics::GdSde, Some(SdeNoise::Exact)),
        (Dynamics::GdSdeOnlyUnfit, None),
        (Dynamics::GdSdeOnlyUnfit, Some(SdeNoise::Exact)),
    ]
}

fn perceptron() -> RunConfig {
    RunConfig {
        arch: Some(Arch::Linear),
        dim: Some(16),
        chi: Some(1.0),
        ptr: Some(64),
        pte: Some(256),
        alpha: Some(32768.0),
        batch: Some(4),
        temp: Some(0.5),
        max_steps: Some(2_000_000),
        ..Default::default()
    }
}

/// GELU, whose gradient never vanishes: with ReLU a full-gradient step on the last unfitted
/// points can find all their units dead and freeze (a real outcome, not the one tested here).
fn mlp() -> RunConfig {
    RunConfig {
        arch: Some(Arch::Mlp),
        dataset: Some(DatasetName::RandomSign),
        dim: Some(16),
        act: Some(Activation::Gelu),
        depth: Some(2),
        width: Some(16),
        ptr: Some(48),
        pte: Some(64),
        batch: Some(8),
        alpha: Some(32768.0),
        lr: Some(8.0),
        max_steps: Some(200_000),
        ..Default::default()
    }
}

/// The exact stop of a finished run: one step fewer leaves a point unfitted, and the run
/// stopped at exactly `steps` has every point fitted.
fn assert_exact(name: &str, finished: &Summary, config: &RunConfig) {
    assert_eq!(
        finished.stop_reason,
        StopReason::ZeroLoss,
        "{name}: {finished:?}"
    );
    let s = finished.steps;
    assert!(s > 1, "{name}: {s}");
    assert_eq!(finished.last.train.unfitted, 0, "{name}");
    assert_eq!(finished.train_err, 0.0, "{name}");
    assert_eq!(finished.t_star, finished.lr * s as f64);
    assert!(finished.rel_weight_change > 0.0 && finished.test_err.is_finite());
    let at = run(&RunConfig {
        max_steps: Some(s),
        ..config.clone()
    });
    assert_eq!(at.last.train.unfitted, 0, "{name}: after {s} steps");
    let before = run(&RunConfig {
        max_steps: Some(s - 1),
        ..config.clone()
    });
    assert_eq!(before.stop_reason, StopReason::MaxSteps, "{name}");
    assert_eq!(before.steps, s - 1, "{name}");
    assert!(before.last.train.unfitted >= 1, "{name}: {s} - 1 steps");
}

#[test]
fn every_dynamics_stops_exactly_at_zero_loss_on_the_perceptron_and_the_mlp() {
    for (base, model) in [(perceptron(), "perceptron"), (mlp(), "mlp")] {
        let mut steps = Vec::new();
        for (dynamics, noise) in every_dynamics() {
            let config = RunConfig {
                dynamics: Some(dynamics),
                sde_noise: noise,
                ..base.clone()
            };
            let name = format!("{model} {dynamics} {noise:?}");
            let finished = run(&config);
            assert_exact(&name, &finished, &config);
            if model == "perceptron" {
                let p = finished
                    .last
                    .perceptron
                    .as_ref()
                    .expect("perceptron observables");
                assert!(p.signal > 0.0 && p.noise > 0.0, "{name}: {p:?}");
            }
            assert_eq!(finished.config.dynamics, Some(dynamics));
            steps.push(finished.steps);
        }
        // The dynamics are different runs.
        let mut distinct = steps.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() >= 4, "{model}: {steps:?}");
    }
}

/// The mnas net on synthetic 8x8x3 images (as tests/it/model_training.rs), through the loop.
fn mnas_outcome(config: &RunConfig) -> Outcome {
    let spec = config.resolve().unwrap();
    // The synthetic images of the mnas training tests, one stream per set.
    let images =
        |n: usize, s: Stream| crate::model_training::synthetic_images(n, &mut stream(1, s));
    let split = sgdnoise_core::data::Split {
        train: images(spec.ptr, Stream::Trainset),
        test: images(spec.pte, Stream::Testset),
    };
    let mut model = Mnas::<f64>::new(
        [8, 8, 3],
        2,
        Activation::Relu,
        spec.batch,
        1,
        &mut stream(1, Stream::Init),
    );
    train::train(&spec, &mut model, &split, &mut train::Discard).unwrap()
}

#[test]
fn every_dynamics_stops_exactly_at_zero_loss_on_mnas() {
    let base = RunConfig {
        arch: Some(Arch::Mnas),
        dataset: Some(DatasetName::CifarAnimal),
        width: Some(2),
        ptr: Some(32),
        pte: Some(16),
        batch: Some(16),
        alpha: Some(1024.0),
        lr: Some(0.5),
        dtype: Some(Dtype::F64),
        max_steps: Some(40_000),
        ..Default::default()
    };
    for (dynamics, noise) in every_dynamics() {
        // The full gradient averages over P = 32 points, SGD over B = 16: the same mean step
        // takes a 2x larger learning rate.
        let lr = if dynamics.is_sde() { 1.0 } else { 0.5 };
        let config = RunConfig {
            dynamics: Some(dynamics),
            sde_noise: noise,
            lr: Some(lr),
            ..base.clone()
        };
        let name = format!("mnas {dynamics} {noise:?}");
        let done = mnas_outcome(&config);
        assert_eq!(
            done.stop_reason,
            StopReason::ZeroLoss,
            "{name}: {:?}",
            done.last.train
        );
        assert_eq!(done.last.train.unfitted, 0, "{name}");
        assert!(
            done.steps > 1 && done.last.rel_weight_change > 0.0,
            "{name}"
        );
        let before = mnas_outcome(&RunConfig {
            max_steps: Some(done.steps - 1),
            ..config.clone()
        });
        assert_eq!(before.stop_reason, StopReason::MaxSteps, "{name}");
        assert!(before.last.train.unfitted >= 1, "{name}");
    }
}

#[test]
fn every_dynamics_records_divergence_and_obeys_its_caps() {
    for (dynamics, noise) in every_dynamics() {
        let name = format!("{dynamics} {noise:?}");
        // MSE with a huge learning rate blows up geometrically.
        let s = run(&RunConfig {
            dynamics: Some(dynamics),
            sde_noise: noise,
            loss: Some(Loss::Mse),
            temp: None,
            lr: Some(1e6),
            alpha: Some(1.0),
            ..perceptron()
        });
        assert_eq!(s.stop_reason, StopReason::Diverged, "{name}");
        assert!(s.steps < 1000, "{name}: {}", s.steps);
        let s = run(&RunConfig {
            dynamics: Some(dynamics),
            sde_noise: noise,
            max_steps: Some(3),
            ..perceptron()
        });
        assert_eq!(
            (s.stop_reason, s.steps),
            (StopReason::MaxSteps, 3),
            "{name}"
        );
        let s = run(&RunConfig {
            dynamics: Some(dynamics),
            sde_noise: noise,
            // Large enough that no dynamics fits it within the first 1024 steps.
            dim: Some(256),
            ptr: Some(2048),
            batch: Some(1),
            temp: Some(1e-7),
            max_wall: Some(1e-9),
            ..perceptron()
        });
        assert_eq!(s.stop_reason, StopReason::MaxWall, "{name}");
        assert_eq!(s.steps, 1024, "{name}: the clock is read every 1024 steps");
    }
}

/// Issue 11: with B = P the gd_sde noise vanishes (1/B - 1/n = 0) and the step is gradient
/// descent bit for bit, whatever the noise formula and on every model.
#[test]
fn gd_sde_with_b_equal_p_has_no_noise_and_is_gradient_descent() {
    for (base, model) in [(perceptron(), "perceptron"), (mlp(), "mlp")] {
        let gd = run(&RunConfig {
            batch: None,
            ..base.clone()
        });
        assert_eq!(gd.stop_reason, StopReason::ZeroLoss, "{model}");
        for noise in [SdeNoise::Edm, SdeNoise::Exact] {
            let sde = run(&RunConfig {
                batch: base.ptr,
                dynamics: Some(Dynamics::GdSde),
                sde_noise: Some(noise),
                seed_batch: Some(12345),
                ..base.clone()
            });
            assert_eq!(sde.steps, gd.steps, "{model} {noise}");
            assert_eq!(sde.last.train, gd.last.train, "{model} {noise}");
            assert_eq!(sde.last.test, gd.last.test, "{model} {noise}");
            assert_eq!(sde.last.layers, gd.last.layers, "{model} {noise}");
        }
    }
    let base = RunConfig {
        arch: Some(Arch::Mnas),
        dataset: Some(DatasetName::CifarAnimal),
        width: Some(2),
        ptr: Some(16),
        pte: Some(8),
        batch: Some(16),
        alpha: Some(4.0),
        lr: Some(2.0),
        dtype: Some(Dtype::F64),
        max_steps: Some(3000),
        ..Default::default()
    };
    let gd = mnas_outcome(&base);
    let sde = mnas_outcome(&RunConfig {
        dynamics: Some(Dynamics::GdSde),
        ..base
    });
    assert_eq!((sde.steps, &sde.last.layers), (gd.steps, &gd.last.layers));
}

/// edm's quadratic hinge is twice ours, so at learning rate eta it moves the weights exactly
/// as ours at 2 eta (a factor 2 is exact in binary floating point), and records twice the loss.
#[test]
fn the_edm_quadratic_hinge_at_lr_is_ours_at_twice_the_lr() {
    let base = RunConfig {
        loss: Some(Loss::QuadraticHinge),
        temp: None,
        alpha: Some(4.0),
        max_steps: Some(300),
        ..perceptron()
    };
    let edm = run(&RunConfig {
        lr: Some(0.25),
        loss_convention: Some(LossConvention::Edm),
        ..base.clone()
    });
    let ours = run(&RunConfig {
        lr: Some(0.5),
        ..base
    });
    assert_eq!(edm.last.layers, ours.last.layers);
    assert!(edm.last.train.loss > 0.0);
    assert_eq!(edm.last.train.loss, 2.0 * ours.last.train.loss);
    assert_eq!(edm.last.train.unfitted, ours.last.train.unfitted);
}

/// edm stops mse when alpha * loss < 1e-9; ours goes on to the cap. With gd_sde (B = P) every
/// step sees the loss, so the stop is the first step below the threshold.
#[test]
fn mse_under_the_edm_convention_stops_below_1e_9_and_ours_does_not() {
    let base = RunConfig {
        loss: Some(Loss::Mse),
        dim: Some(32),
        ptr: Some(16),
        batch: Some(16),
        alpha: Some(1.0),
        temp: None,
        lr: Some(0.5),
        max_steps: Some(20_000),
        dtype: Some(Dtype::F64),
        ..perceptron()
    };
    for dynamics in [Dynamics::Sgd, Dynamics::GdSde] {
        let edm = RunConfig {
            dynamics: Some(dynamics),
            loss_convention: Some(LossConvention::Edm),
            ..base.clone()
        };
        let s = run(&edm);
        assert_eq!(s.stop_reason, StopReason::LossBelow, "{dynamics}");
        assert!(s.last.train.alpha_loss < 1e-9, "{dynamics}");
        if dynamics == Dynamics::GdSde {
            let before = run(&RunConfig {
                max_steps: Some(s.steps - 1),
                ..edm
            });
            assert!(before.last.train.alpha_loss >= 1e-9);
        }
        let ours = run(&RunConfig {
            dynamics: Some(dynamics),
            ..base.clone()
        });
        assert_eq!(ours.stop_reason, StopReason::MaxSteps, "{dynamics}");
    }
}

/// The smooth hinge reaches an exact stop under every dynamics: the run ends when no point's
/// gradient is non-zero (some may sit just inside the margin, where it underflows). At
/// alpha = 1 a point near the margin has a gradient like exp(-1/(2u)) and creeps towards it
/// for millions of steps (edm's runs too: they stop when the loss is exactly 0); at the lazy
/// alpha = 32768 a step moves margins by thousands, and runs end quickly.
#[test]
fn the_smooth_hinge_stops_exactly_under_every_dynamics() {
    for (dynamics, noise) in every_dynamics() {
        let config = RunConfig {
            dynamics: Some(dynamics),
            sde_noise: noise,
            loss: Some(Loss::SmoothHinge),
            ..perceptron()
        };
        let s = run(&config);
        assert_eq!(s.stop_reason, StopReason::ZeroLoss, "{dynamics}: {s:?}");
        let before = run(&RunConfig {
            max_steps: Some(s.steps - 1),
            ..config
        });
        assert_eq!(before.stop_reason, StopReason::MaxSteps);
        assert!(before.train_loss > 0.0);
    }
}

/// Settings that would change nothing are refused with the field named.
#[test]
fn sde_noise_without_gd_sde_and_a_convention_that_changes_nothing_are_refused() {
    let e = RunConfig {
        sde_noise: Some(SdeNoise::Exact),
        ..perceptron()
    }
    .resolve()
    .unwrap_err();
    assert!(e.to_string().contains("sde_noise"), "{e}");
    let e = RunConfig {
        loss_convention: Some(LossConvention::Edm),
        ..perceptron()
    }
    .resolve()
    .unwrap_err();
    assert!(e.to_string().contains("loss_convention"), "{e}");
    // At their defaults the new settings leave the identity alone.
    let plain = perceptron().resolve().unwrap();
    let explicit = RunConfig {
        dynamics: Some(Dynamics::Sgd),
        ..perceptron()
    }
    .resolve()
    .unwrap();
    assert_eq!(plain.identity(), explicit.identity());
    let sde = RunConfig {
        dynamics: Some(Dynamics::GdSde),
        ..perceptron()
    }
    .resolve()
    .unwrap();
    let sde_edm = RunConfig {
        dynamics: Some(Dynamics::GdSde),
        sde_noise: Some(SdeNoise::Edm),
        ..perceptron()
    }
    .resolve()
    .unwrap();
    assert_ne!(plain.identity(), sde.identity());
    assert_eq!(sde.identity(), sde_edm.identity());
}
