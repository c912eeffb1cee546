//! Model tests that train: the whole run pipeline (`run::execute`) or the SGD loop
//! (`train::train`) driving a model until the training loss is exactly zero. The unit tests
//! next to each model check the model alone (outputs, gradients, updates).

use rand_distr::{Distribution, StandardNormal};
use sgdnoise_core::model::mnas::Mnas;
use sgdnoise_core::numeric::rng::{stream, Stream, StreamRng};
use sgdnoise_core::settings::{Activation, RunConfig};

/// `n` i.i.d. N(0,1) numbers, drawn as the models draw their initial weights.
fn normal(n: usize, rng: &mut StreamRng) -> Vec<f64> {
    (0..n).map(|_| StandardNormal.sample(rng)).collect()
}

#[test]
fn end_to_end_run_on_random_sign_784_reaches_zero_loss() {
    // The whole pipeline (config -> data -> mlp -> SGD loop with exact stop) in both dtypes.
    for dtype in ["f32", "f64"] {
        let cfg = RunConfig {
            arch: Some(sgdnoise_core::settings::Arch::Mlp),
            dataset: Some(sgdnoise_core::settings::DatasetName::RandomSign),
            dim: Some(784),
            depth: Some(2),
            width: Some(32),
            ptr: Some(128),
            pte: Some(256),
            batch: Some(16),
            alpha: Some(32768.0),
            temp: Some(0.25),
            dtype: Some(dtype.parse().unwrap()),
            max_steps: Some(200_000),
            ..Default::default()
        };
        let spec = cfg.resolve().expect("valid config");
        let summary = sgdnoise_core::run::execute(&spec, None, &mut |_| true).expect("run");
        assert_eq!(
            summary.stop_reason,
            sgdnoise_core::train::StopReason::ZeroLoss,
            "{dtype}: {summary:?}"
        );
        assert_eq!(summary.train_err, 0.0);
        assert_eq!(summary.last.train.unfitted, 0);
        assert!(summary.steps > 0 && summary.rel_weight_change > 0.0);
    }
}

/// n synthetic 8×8×3 images (N(0,1) pixels from `stream`) labelled by a fixed rule: +1 when
/// the left half of channel 0 is brighter than its right half.
pub(crate) fn synthetic_images(n: usize, rng: &mut StreamRng) -> sgdnoise_core::data::Dataset<f64> {
    let dim = 8 * 8 * 3;
    let x: Vec<f64> = normal(n * dim, rng);
    let y = (0..n)
        .map(|i| {
            let img = &x[i * dim..(i + 1) * dim];
            let d: f64 = (0..64)
                .map(|p| if p % 8 < 4 { img[p * 3] } else { -img[p * 3] })
                .sum();
            if d > 0.0 {
                1.0
            } else {
                -1.0
            }
        })
        .collect();
    sgdnoise_core::data::Dataset {
        x,
        y,
        dim,
        image_shape: Some([8, 8, 3]),
        teacher: None,
    }
}

#[test]
fn sgd_training_reaches_zero_loss() {
    use sgdnoise_core::settings::RunConfig;
    let spec = RunConfig {
        arch: Some(sgdnoise_core::settings::Arch::Mnas),
        dataset: Some(sgdnoise_core::settings::DatasetName::CifarAnimal),
        width: Some(2),
        ptr: Some(32),
        pte: Some(64),
        batch: Some(8),
        alpha: Some(4.0),
        lr: Some(2.0),
        dtype: Some(sgdnoise_core::settings::Dtype::F64),
        max_steps: Some(20_000),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let split = sgdnoise_core::data::Split {
        train: synthetic_images(32, &mut stream(1, Stream::Trainset)),
        test: synthetic_images(64, &mut stream(1, Stream::Testset)),
    };
    let mut model = Mnas::<f64>::new(
        [8, 8, 3],
        2,
        Activation::Relu,
        8,
        1,
        &mut stream(1, Stream::Init),
    );
    let outcome = sgdnoise_core::train::train(
        &spec,
        &mut model,
        &split,
        &mut sgdnoise_core::train::Discard,
    )
    .unwrap();
    assert_eq!(
        outcome.stop_reason,
        sgdnoise_core::train::StopReason::ZeroLoss,
        "after {} steps: {:?}",
        outcome.steps,
        outcome.last.train
    );
    assert_eq!(outcome.last.train.unfitted, 0);
    assert!(
        outcome.steps > 0,
        "the initial net cannot fit: pred starts at 0"
    );
    assert!(outcome.last.rel_weight_change > 0.0);
}
