//! The perceptron ("linear"): f(w, x) = w·x / sqrt(d), h = 1 (SPEC §1).

use super::{normal_weights, Layer, Model, Target};
use crate::numeric::real::{axpy, dot, Real};
use crate::numeric::rng::StreamRng;
use crate::numeric::simd::{self, Isa, Kernel};

pub struct Perceptron<R> {
    w: Vec<R>,
    layers: Vec<Layer>,
    /// 1 / sqrt(d).
    scale: R,
}

impl<R: Real> Perceptron<R> {
    pub fn new(dim: usize, rng: &mut StreamRng) -> Self {
        Perceptron {
            w: normal_weights(dim, rng),
            layers: vec![Layer {
                name: "w".into(),
                offset: 0,
                len: dim,
            }],
            scale: R::ONE / R::from_usize(dim).sqrt(),
        }
    }
}

impl<R: Real> Model<R> for Perceptron<R> {
    fn input_dim(&self) -> usize {
        self.w.len()
    }
    fn params(&self) -> &[R] {
        &self.w
    }
    fn params_mut(&mut self) -> &mut [R] {
        &mut self.w
    }
    fn layers(&self) -> &[Layer] {
        &self.layers
    }
    #[inline]
    fn predict(&mut self, x: &[R], n: usize, out: &mut [R]) {
        simd::dispatch(Predict {
            w: &self.w,
            scale: self.scale,
            x,
            n,
            out,
        });
    }
    #[inline]
    fn forward(&mut self, x: &[R], n: usize, out: &mut [R]) {
        self.predict(x, n, out);
    }
    #[inline]
    fn backward(&mut self, x: &[R], c: &[R], target: Target<'_, R>) {
        let d = self.w.len();
        match target {
            Target::Update { lr } => {
                for i in 0..c.len() {
                    if c[i] != R::ZERO {
                        axpy(-lr * c[i] * self.scale, &x[i * d..(i + 1) * d], &mut self.w);
                    }
                }
            }
            Target::Gradient(grad) => {
                grad.iter_mut().for_each(|g| *g = R::ZERO);
                for i in 0..c.len() {
                    axpy(c[i] * self.scale, &x[i * d..(i + 1) * d], grad);
                }
            }
        }
    }
}

/// `out_i = w·x_i * scale` for `n` rows of `x`, compiled for the SIMD level in use
/// ([`simd::dispatch`]); the same operations in the same order at every level.
struct Predict<'a, R> {
    w: &'a [R],
    scale: R,
    x: &'a [R],
    n: usize,
    out: &'a mut [R],
}

impl<R: Real> Kernel for Predict<'_, R> {
    type Output = ();
    #[inline(always)]
    fn run<S: Isa>(self, _isa: S) {
        let d = self.w.len();
        for (o, row) in self.out[..self.n].iter_mut().zip(self.x.chunks_exact(d)) {
            *o = dot(self.w, row) * self.scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::simd::{dispatch_at, supported, Level};

    /// The kernel at every level this CPU has gives bitwise the portable result (plain
    /// arithmetic: no level fuses or reorders an operation, see `numeric::simd`).
    fn levels_agree<R: Real>() {
        for d in [1, 7, 8, 9, 32, 33, 100] {
            let n = 5;
            let w: Vec<R> = (0..d)
                .map(|i| R::from_f64((i as f64 * 0.7).sin()))
                .collect();
            let x: Vec<R> = (0..n * d)
                .map(|i| R::from_f64((i as f64 * 0.3 + 0.1).cos()))
                .collect();
            let scale = R::ONE / R::from_usize(d).sqrt();
            let at = |level: Level| {
                let mut out = vec![R::ZERO; n];
                let (w, x) = (&w[..], &x[..]);
                dispatch_at(
                    level,
                    Predict {
                        w,
                        scale,
                        x,
                        n,
                        out: &mut out,
                    },
                );
                out
            };
            let portable = at(Level::Portable);
            for level in Level::ALL.into_iter().filter(|&l| l <= supported()) {
                let bits = |v: &[R]| v.iter().map(|a| a.to_f64().to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&at(level)), bits(&portable), "{} d={d}", level.name());
            }
        }
    }

    #[test]
    fn predict_is_bitwise_the_same_at_every_simd_level() {
        levels_agree::<f32>();
        levels_agree::<f64>();
    }
}
