//! The perceptron ("linear"): f(w, x) = w·x / sqrt(d), h = 1 (SPEC §1).

use super::{normal_weights, Layer, Model, Target};
use crate::numeric::real::{axpy, dot, Real};
use crate::numeric::rng::StreamRng;

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
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU supports AVX-512F (checked at run time just above).
            unsafe { predict_avx512(&self.w, self.scale, x, n, out) };
            return;
        }
        predict_portable(&self.w, self.scale, x, n, out);
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

/// out_i = w·x_i * scale for n rows of x.
#[inline(always)]
fn predict_portable<R: Real>(w: &[R], scale: R, x: &[R], n: usize, out: &mut [R]) {
    let d = w.len();
    for (o, row) in out[..n].iter_mut().zip(x.chunks_exact(d)) {
        *o = dot(w, row) * scale;
    }
}

/// [`predict_portable`] compiled for AVX-512, chosen at run time, so one binary runs on any x86-64.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn predict_avx512<R: Real>(w: &[R], scale: R, x: &[R], n: usize, out: &mut [R]) {
    predict_portable(w, scale, x, n, out)
}
