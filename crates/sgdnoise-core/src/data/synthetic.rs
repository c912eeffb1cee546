//! The perceptron's synthetic data (SPEC §6): `depleted_sign`, `sign` and `random_sign`.
//!
//! depleted_sign with exponent chi: x1 = s sqrt(2 G), G ~ Gamma((chi+1)/2, 1), s = ±1 with
//! probability 1/2, so x1 has density |x1|^chi exp(-x1²/2) / (2^((chi+1)/2) Γ((chi+1)/2));
//! the other d-1 coordinates are N(0,1); the label is sign(x1). The training set comes from the
//! `seed_trainset` stream and the test set from `seed_testset`.

use super::{Dataset, Split};
use crate::numeric::real::Real;
use crate::numeric::rng::{self, Stream, StreamRng};
use crate::settings::{DatasetName, RunSpec};
use rand::Rng;
use rand_distr::{Distribution, Gamma, StandardNormal};

/// Generates `n` points of dimension `dim` with density exponent `chi` (labels sign(x1)).
pub fn depleted_sign<R: Real>(n: usize, dim: usize, chi: f64, rng: &mut StreamRng) -> Dataset<R> {
    let gamma = Gamma::new((chi + 1.0) / 2.0, 1.0).expect("chi >= 0 gives a valid Gamma shape");
    let mut x = Vec::with_capacity(n * dim);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
        let g: f64 = gamma.sample(rng);
        let x1 = sign * (2.0 * g).sqrt();
        x.push(R::from_f64(x1));
        for _ in 1..dim {
            let z: f64 = StandardNormal.sample(rng);
            x.push(R::from_f64(z));
        }
        y.push(R::from_f64(sign));
    }
    let mut teacher = vec![0.0; dim];
    teacher[0] = 1.0;
    Dataset {
        x,
        y,
        dim,
        image_shape: None,
        teacher: Some(teacher),
    }
}

/// Gaussian inputs labelled by a random unit teacher drawn from `teacher_rng`.
pub fn random_sign<R: Real>(
    n: usize,
    dim: usize,
    teacher: &[f64],
    rng: &mut StreamRng,
) -> Dataset<R> {
    let mut x = Vec::with_capacity(n * dim);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f64> = (0..dim).map(|_| StandardNormal.sample(rng)).collect();
        let proj: f64 = row.iter().zip(teacher).map(|(a, b)| a * b).sum();
        y.push(R::from_f64(if proj >= 0.0 { 1.0 } else { -1.0 }));
        x.extend(row.into_iter().map(R::from_f64));
    }
    Dataset {
        x,
        y,
        dim,
        image_shape: None,
        teacher: Some(teacher.to_vec()),
    }
}

/// The training and test sets of a synthetic run.
pub fn generate<R: Real>(spec: &RunSpec) -> Split<R> {
    let mut train_rng = rng::stream(spec.seeds.trainset, Stream::Trainset);
    let mut test_rng = rng::stream(spec.seeds.testset, Stream::Testset);
    let d = spec.input_dim;
    match spec.dataset {
        DatasetName::DepletedSign | DatasetName::Sign => Split {
            train: depleted_sign(spec.ptr, d, spec.chi, &mut train_rng),
            test: depleted_sign(spec.pte, d, spec.chi, &mut test_rng),
        },
        DatasetName::RandomSign => {
            // The teacher belongs to the task, not to one set: it is drawn from the test-set stream
            // before the test points, so train and test share it.
            let raw: Vec<f64> = (0..d)
                .map(|_| StandardNormal.sample(&mut test_rng))
                .collect();
            let norm = raw.iter().map(|v| v * v).sum::<f64>().sqrt();
            let teacher: Vec<f64> = raw.iter().map(|v| v / norm).collect();
            Split {
                train: random_sign(spec.ptr, d, &teacher, &mut train_rng),
                test: random_sign(spec.pte, d, &teacher, &mut test_rng),
            }
        }
        other => unreachable!("{} is not synthetic", other.name()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// E|x1|^k for the density ∝ |x|^chi exp(-x²/2): 2^(k/2) Γ((chi+k+1)/2) / Γ((chi+1)/2).
    fn abs_moment(chi: f64, k: f64) -> f64 {
        2f64.powf(k / 2.0) * (ln_gamma((chi + k + 1.0) / 2.0) - ln_gamma((chi + 1.0) / 2.0)).exp()
    }

    /// Lanczos approximation of ln Γ (relative error ~1e-15 for x > 0).
    fn ln_gamma(x: f64) -> f64 {
        const G: [f64; 9] = [
            0.999_999_999_999_809_9,
            676.520_368_121_885_1,
            -1_259.139_216_722_402_8,
            771.323_428_777_653_1,
            -176.615_029_162_140_6,
            12.507_343_278_686_905,
            -0.138_571_095_265_720_12,
            9.984_369_578_019_572e-6,
            1.505_632_735_149_311_6e-7,
        ];
        if x < 0.5 {
            std::f64::consts::PI.ln() - (std::f64::consts::PI * x).sin().ln() - ln_gamma(1.0 - x)
        } else {
            let x = x - 1.0;
            let t = x + 7.5;
            let a = G
                .iter()
                .enumerate()
                .skip(1)
                .fold(G[0], |acc, (i, g)| acc + g / (x + i as f64));
            0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
        }
    }

    #[test]
    fn x1_moments_match_the_closed_form() {
        // n = 200k samples: the standard error of the mean of |x1|^k is sqrt(Var/n); we allow 5 of them.
        let n = 200_000;
        for chi in [0.0, 1.0, 3.0] {
            let mut rng = rng::stream(11, Stream::Trainset);
            let data: Dataset<f64> = depleted_sign(n, 3, chi, &mut rng);
            for k in [1.0, 2.0, 4.0] {
                let emp = (0..n).map(|i| data.row(i)[0].abs().powf(k)).sum::<f64>() / n as f64;
                let exact = abs_moment(chi, k);
                let var = abs_moment(chi, 2.0 * k) - exact * exact;
                let tol = 5.0 * (var / n as f64).sqrt();
                assert!(
                    (emp - exact).abs() < tol,
                    "chi={chi} k={k}: {emp} vs {exact} (tol {tol})"
                );
            }
            // Labels are sign(x1), the two signs equally likely, the other coordinates N(0,1).
            assert!((0..n).all(|i| data.y[i] == data.row(i)[0].signum()));
            let plus = data.y.iter().filter(|&&v| v > 0.0).count() as f64 / n as f64;
            assert!((plus - 0.5).abs() < 5.0 * (0.25 / n as f64).sqrt());
            let second = (0..n).map(|i| data.row(i)[1].powi(2)).sum::<f64>() / n as f64;
            assert!((second - 1.0).abs() < 5.0 * (2.0 / n as f64).sqrt());
        }
    }

    #[test]
    fn chi_zero_is_the_gaussian() {
        // E|z| = sqrt(2/pi) for z ~ N(0,1).
        assert!((abs_moment(0.0, 1.0) - (2.0 / std::f64::consts::PI).sqrt()).abs() < 1e-12);
        assert!((abs_moment(0.0, 2.0) - 1.0).abs() < 1e-12);
    }
}
