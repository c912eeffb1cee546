//! Models in the paper's parametrisation (SPEC §1): weights N(0,1), all scaling in the forward pass.
//!
//! A model owns one flat parameter vector (so w0, ||w - w0|| and per-layer norms are simple
//! slices), computes outputs f(w, x) for a batch, and runs the backward pass of a per-sample
//! output gradient either into an SGD update in place or into a gradient buffer.

pub mod activation;
pub mod conv;
pub mod mlp;
pub mod mnas;
pub mod perceptron;

use crate::numeric::real::Real;
use crate::numeric::rng::{self, Stream};
use crate::settings::{Arch, RunSpec};
use rand_distr::{Distribution, StandardNormal};

/// A named slice of the parameter vector (one layer's weights).
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub name: String,
    pub offset: usize,
    pub len: usize,
}

impl Layer {
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len
    }
}

/// Where [`Model::backward`] puts the result.
pub enum Target<'a, R> {
    /// `w -= lr * Σ_i c_i ∇f(w, x_i)`, in place.
    Update { lr: R },
    /// `grad = Σ_i c_i ∇f(w, x_i)`; the weights are not touched.
    Gradient(&'a mut [R]),
}

/// A trainable network.
pub trait Model<R: Real>: Send {
    /// Numbers per input point.
    fn input_dim(&self) -> usize;
    /// All weights, layer after layer (see [`Model::layers`]).
    fn params(&self) -> &[R];
    fn params_mut(&mut self) -> &mut [R];
    /// How the parameter vector is divided into layers.
    fn layers(&self) -> &[Layer];
    /// f(w, x_i) for `n` points stored row-major in `x`; any `n`. Each output is bitwise the
    /// one [`Model::forward`] computes for the point in a batch of the size the model was built
    /// for, whatever the other points of that batch and the point's place in it: the training
    /// step and the stop check decide "fitted" on the same numbers (`objective`, SPEC §4;
    /// tests/it/forward_predict.rs checks every model and layout).
    fn predict(&mut self, x: &[R], n: usize, out: &mut [R]);
    /// f(w, x_i) for measurements that no decision of the run depends on (the test set): equal
    /// to [`Model::predict`] up to rounding, in whatever layout is fastest. By default `predict`.
    fn evaluate(&mut self, x: &[R], n: usize, out: &mut [R]) {
        self.predict(x, n, out)
    }
    /// Like [`Model::predict`] for one batch (n at most the batch size the model was built for),
    /// keeping what [`Model::backward`] needs.
    fn forward(&mut self, x: &[R], n: usize, out: &mut [R]);
    /// Backward pass of the last [`Model::forward`], whose inputs were `x`, with output
    /// gradients `c` (one per point).
    fn backward(&mut self, x: &[R], c: &[R], target: Target<'_, R>);
    /// The output gradients ∇_w f(w, x_i) of `n` points of `x` into the rows of `jac`
    /// (`n` x `params().len()`, row-major), for the NTK (`crate::ntk`). By default one
    /// [`Model::forward`] and one [`Model::backward`] of each point alone, with output gradient
    /// 1, into [`Target::Gradient`]: the weights are not touched, and the next forward pass
    /// overwrites what this one left in the model's workspaces.
    fn output_gradients(&mut self, x: &[R], n: usize, jac: &mut [R]) {
        let (d, p) = (self.input_dim(), self.params().len());
        assert!(
            x.len() >= n * d && jac.len() >= n * p,
            "output_gradients: buffers too small"
        );
        let mut out = [R::ZERO];
        for i in 0..n {
            let xi = &x[i * d..(i + 1) * d];
            self.forward(xi, 1, &mut out);
            self.backward(
                xi,
                &[R::ONE],
                Target::Gradient(&mut jac[i * p..(i + 1) * p]),
            );
        }
    }
}

/// Draws `n` i.i.d. N(0,1) numbers from the init stream.
pub(crate) fn normal_weights<R: Real>(n: usize, rng: &mut rng::StreamRng) -> Vec<R> {
    (0..n)
        .map(|_| R::from_f64(StandardNormal.sample(rng)))
        .collect()
}

/// Builds the model of `spec` with its initial weights drawn from the `seed_init` stream.
pub fn build<R: Real>(spec: &RunSpec) -> Box<dyn Model<R>> {
    let mut rng = rng::stream(spec.seeds.init, Stream::Init);
    match spec.arch {
        Arch::Linear => Box::new(perceptron::Perceptron::new(spec.input_dim, &mut rng)),
        Arch::Mlp => Box::new(mlp::Mlp::<R>::from_spec(spec, &mut rng)),
        Arch::Mnas => Box::new(mnas::Mnas::<R>::from_spec(spec, &mut rng)),
    }
}

/// Number of trainable parameters of `spec`'s model (without building it).
pub fn param_count(spec: &RunSpec) -> usize {
    match spec.arch {
        Arch::Linear => spec.input_dim,
        Arch::Mlp => mlp::param_count(spec.input_dim, spec.depth, spec.width),
        Arch::Mnas => mnas::param_count(
            spec.dataset.image_shape().expect("mnas runs on images"),
            spec.width,
        ),
    }
}
