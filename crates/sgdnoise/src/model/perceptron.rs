//! The perceptron ("linear"): f(w, x) = w·x / sqrt(d), h = 1 (SPEC §1).

use super::{normal_weights, Layer, Model, Target};
use crate::real::{axpy, dot, Real};
use crate::rng::StreamRng;

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
        let d = self.w.len();
        for i in 0..n {
            out[i] = dot(&self.w, &x[i * d..(i + 1) * d]) * self.scale;
        }
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
