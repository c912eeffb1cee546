//! `forward` and `predict` give bit-identical outputs, point by point, for every model and batch
//! layout (issue 15, item 14).
//!
//! The training step decides which points are fitted from `forward` on its batch of B points;
//! the stop check decides it from `predict` on the whole training set (SPEC §4). Both apply the
//! one margin rule of `objective` to these outputs, so the exact stop holds only if a point's
//! output is the same number in both: whatever the batch size the net was built for (1, 3, 16,
//! the full set), whichever batch the point is drawn in and wherever it sits in it, and however
//! `predict` divides its points into chunks. Before the fix the mlp's `predict` ran products of
//! 512 points while a step ran products of B, and the `gemm` crate sums a dot product in another
//! order for another shape: at B = 1 and B = 3 most outputs differed in their last bits.
//! `evaluate` (the test set, which decides nothing) may take a faster layout: it must agree up
//! to rounding only.

use rand::seq::SliceRandom;
use rand_distr::{Distribution, StandardNormal};
use sgdnoise_core::numeric::real::Real;
use sgdnoise_core::numeric::rng::{stream, Stream};
use sgdnoise_core::settings::{RunConfig, RunSpec};

/// The run of `settings` with batch size `batch` (a training set large enough for every layout).
fn spec(settings: &str, batch: usize) -> RunSpec {
    let mut c = RunConfig::from_toml_str(settings).expect("test settings parse");
    c.batch = Some(batch);
    c.ptr = Some(4096);
    c.temp = Some(1.0);
    c.resolve().expect("test settings resolve")
}

fn bits<R: Real>(v: R) -> u64 {
    v.to_f64().to_bits()
}

/// For each batch size B of `batches` (and the full set of `n` points): a net built for B (the
/// same weights for every B) gives, for each of `n` random points, bitwise the same output in
/// `predict` over all points, in `predict` over shorter prefixes (fewer points than B, a last
/// partial chunk), and in `forward` on batches of B, consecutive or shuffled.
fn forward_and_predict_agree<R: Real>(settings: &str, n: usize) {
    let dim = spec(settings, 1).input_dim;
    let mut rng = stream(5, Stream::Trainset);
    let x: Vec<R> = (0..n * dim)
        .map(|_| R::from_f64(StandardNormal.sample(&mut rng)))
        .collect();
    let what = format!("{settings:?} ({})", std::any::type_name::<R>());
    for b in [1, 3, 16, n] {
        let mut model = sgdnoise_core::model::build::<R>(&spec(settings, b));
        let mut reference = vec![R::ZERO; n];
        model.predict(&x, n, &mut reference);
        assert!(reference.iter().all(|v| v.is_finite()), "{what}");
        let mut evaluated = vec![R::ZERO; n];
        model.evaluate(&x, n, &mut evaluated);
        let scale = reference
            .iter()
            .map(|v| v.to_f64().abs())
            .fold(0.0, f64::max);
        let tol = if size_of::<R>() == 4 { 1e-5 } else { 1e-13 };
        for i in 0..n {
            let d = (evaluated[i].to_f64() - reference[i].to_f64()).abs();
            assert!(
                d <= tol * scale,
                "{what}, B = {b}: evaluate of point {i} off by {d:e}"
            );
        }
        for len in [1, b.saturating_sub(1).max(1), b + 1, 2 * b + 1, n - 1] {
            let len = len.min(n);
            let mut part = vec![R::ZERO; len];
            model.predict(&x, len, &mut part);
            for i in 0..len {
                assert_eq!(
                    bits(part[i]),
                    bits(reference[i]),
                    "{what}, B = {b}: predict of {len} points vs of {n}, point {i}"
                );
            }
        }
        let mut shuffled: Vec<usize> = (0..n).collect();
        shuffled.shuffle(&mut stream(b as i64, Stream::Batch));
        for order in [(0..n).collect::<Vec<_>>(), shuffled] {
            for batch in order.chunks_exact(b) {
                let xb: Vec<R> = batch
                    .iter()
                    .flat_map(|&i| x[i * dim..(i + 1) * dim].iter().copied())
                    .collect();
                let mut out = vec![R::ZERO; b];
                model.forward(&xb, b, &mut out);
                for (slot, &i) in batch.iter().enumerate() {
                    assert_eq!(
                        bits(out[slot]),
                        bits(reference[i]),
                        "{what}, B = {b}: forward of point {i} at slot {slot}: {} vs predict {}",
                        out[slot].to_f64(),
                        reference[i].to_f64()
                    );
                }
            }
        }
    }
}

fn every_layout_agrees(settings: &str, n: usize) {
    forward_and_predict_agree::<f32>(settings, n);
    forward_and_predict_agree::<f64>(settings, n);
}

#[test]
fn perceptron_forward_and_predict_are_bitwise_equal_in_every_layout() {
    every_layout_agrees("arch = \"linear\"\ndim = 32", 1100);
}

#[test]
fn mlp_forward_and_predict_are_bitwise_equal_in_every_layout() {
    // The paper's net (L = 5, h = 128 on 784 inputs), also with its products split over threads;
    // small nets whose products take the crate's other kernels; n > 512, the old predict chunk.
    let paper = "arch = \"mlp\"\ndataset = \"random_sign\"\ndim = 784";
    every_layout_agrees(paper, 530);
    every_layout_agrees(&format!("{paper}\nthreads = 2"), 530);
    every_layout_agrees(
        "arch = \"mlp\"\ndataset = \"random_sign\"\ndim = 10\ndepth = 2\nwidth = 7\nact = \"gelu\"",
        1100,
    );
    every_layout_agrees(
        "arch = \"mlp\"\ndataset = \"random_sign\"\ndim = 50\ndepth = 1\nwidth = 33\nact = \"silu\"",
        600,
    );
}

#[test]
fn mnas_forward_and_predict_are_bitwise_equal_in_every_layout() {
    // 70 images: more than a training chunk (64) and than two predict chunks (32).
    every_layout_agrees("arch = \"mnas\"\ndataset = \"cifar_animal\"\nwidth = 2", 70);
    every_layout_agrees(
        "arch = \"mnas\"\ndataset = \"mnist_parity\"\nwidth = 3\nact = \"gelu\"",
        70,
    );
    every_layout_agrees(
        "arch = \"mnas\"\ndataset = \"cifar_animal\"\nwidth = 8\nact = \"silu\"",
        40,
    );
}
