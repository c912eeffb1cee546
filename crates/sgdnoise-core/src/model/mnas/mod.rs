//! MnasNet-like CNN ("mnas"), SPEC §1, on NHWC images with SAME padding.
//!
//! ```text
//! stem:   sigma(conv(4h, 5, 2)) -> sigma(dwconv(5, 1)) -> sigma(conv(2h, 1, 1))
//! blocks: IR(h, 5, 2), IR(h, 5, 1), IR(3h, 5, 2), IR(3h, 5, 1) where IR(out, k, s) on x with C_in
//!         channels is  u = sigma(conv(3 C_in, 1, 1)(x)); u = sigma(dwconv(k, s)(u));
//!         u = conv(out, 1, 1)(u);  output (u + x)/sqrt(2) if u and x have the same shape, else u
//! head:   z = mean over positions of sigma(conv(20h, 1, 1)(x));  f = (W·z + b) / (20h)
//! ```
//! `conv(c, k, s)` divides by `k·sqrt(C_in)`, `dwconv(k, s)` by `k` (see [`super::conv`]); no
//! biases except `b`. sigma is the activation normalised to unit second moment (ReLU:
//! `sqrt(2)·max(z, 0)`).
//!
//! **Parameters.** One flat vector; all weights i.i.d. N(0,1) drawn from the init stream in this
//! order (which is also the order of [`Model::layers`]): `stem.conv` `[5][5][C][4h]`,
//! `stem.dw` `[5][5][4h]`, `stem.proj` `[4h][2h]`, then for blocks i = 1..4 `block{i}.expand`
//! `[C_in][3C_in]`, `block{i}.dw` `[k][k][3C_in]`, `block{i}.proj` `[3C_in][out]`, then
//! `head.conv` `[C_in][20h]`, `readout.w` `[20h]`, `readout.b` `[1]`. Convolution weights are
//! HWIO, each tensor row-major. For h = 64 on 32×32×3 images this is 707,649 numbers.
//!
//! **Memory.** Activations of a batch are kept for the backward pass in a workspace allocated
//! once, for min(batch size, [`TRAIN_CHUNK`]) images (about 0.7 M numbers per image at h = 64 on
//! CIFAR-10, plus three gradient buffers); larger batches are processed chunk by chunk, with
//! recomputation. `predict` uses a second workspace of [`PREDICT_CHUNK`] images. No step
//! allocates.
//!
//! **Code.** `arch.rs` holds the shapes and the parameter layout, `workspace.rs` the buffers,
//! `pass.rs` the forward and backward passes; this file the model itself ([`Mnas`]).

mod arch;
mod pass;
mod workspace;

pub use arch::{param_count, step_flops};

use super::{normal_weights, Layer, Model, Target};
use crate::numeric::gemm::Cpu;
use crate::numeric::real::Real;
use crate::numeric::rng::StreamRng;
use crate::settings::{Activation, RunSpec};
use arch::Arch;
#[cfg(test)]
use arch::Post;
use pass::{batch_gradient, forward};
use workspace::{BigBatch, Workspace};

/// Images per pass in [`Model::predict`].
pub const PREDICT_CHUNK: usize = 32;

/// Most images whose activations a training step keeps at once. Larger batches (full-batch
/// gradient descent on P points) run in chunks of this size: `forward` keeps only the inputs and
/// the last chunk's activations, and `backward` recomputes the other chunks' forward passes
/// (one extra forward per step, instead of gigabytes of stored activations).
pub const TRAIN_CHUNK: usize = 64;

/// Numbers a [`Mnas`] for images of `image_shape`, base width `h` and batches of `batch` images
/// holds: (parameters, everything else: the gradient buffer, both workspaces and, for batches
/// larger than [`TRAIN_CHUNK`], the copy of the batch's inputs and the chunk buffers). For the
/// memory estimate of a run; saturating.
pub fn memory_len(image_shape: [usize; 3], h: usize, batch: usize) -> (usize, usize) {
    let arch = Arch::new(image_shape, h);
    let batch = batch.max(1);
    let cap = batch.min(TRAIN_CHUNK);
    let mut other = arch
        .n_params
        .saturating_add(Workspace::<f32>::len(&arch, cap, true))
        .saturating_add(Workspace::<f32>::len(&arch, PREDICT_CHUNK, false));
    if batch > TRAIN_CHUNK {
        other = other
            .saturating_add(batch.saturating_mul(arch.input_dim))
            .saturating_add(arch.n_params)
            .saturating_add(cap);
    }
    (arch.n_params, other)
}

/// The MnasNet-like CNN with its weights and workspaces.
pub struct Mnas<R> {
    w: Vec<R>,
    arch: Arch,
    gemm: Cpu,
    train: Workspace<R>,
    pred: Workspace<R>,
    /// Gradient buffer for [`Target::Update`].
    grad: Vec<R>,
    /// Images in the last forward batch.
    batch_n: usize,
    /// For batches larger than the workspace: their inputs, one chunk's gradient, and
    /// recomputed outputs (allocated on first use).
    big: BigBatch<R>,
}

impl<R: Real> Mnas<R> {
    /// The network of `spec` (image shape from its data set, width h, activation, batch size,
    /// threads for the matrix products), weights drawn from `rng`.
    pub fn from_spec(spec: &RunSpec, rng: &mut StreamRng) -> Self {
        let shape = spec
            .dataset
            .image_shape()
            .expect("mnas needs an image data set (checked when the config is resolved)");
        Self::new(
            shape,
            spec.width,
            spec.act,
            spec.batch,
            spec.exec.threads_here(),
            rng,
        )
    }

    /// The network for images of shape (height, width, channels) and base width `h`, with its
    /// training workspace sized for batches of `batch` images (at most [`TRAIN_CHUNK`] at once;
    /// `forward` accepts any n). Matrix products use `threads` threads.
    ///
    pub fn new(
        image_shape: [usize; 3],
        h: usize,
        act: Activation,
        batch: usize,
        threads: usize,
        rng: &mut StreamRng,
    ) -> Self {
        let mut arch = Arch::new(image_shape, h);
        arch.act = act;
        let w = normal_weights(arch.n_params, rng);
        let batch = batch.max(1);
        Mnas {
            train: Workspace::new(&arch, batch.min(TRAIN_CHUNK), true),
            big: BigBatch::default(),
            pred: Workspace::new(&arch, PREDICT_CHUNK, false),
            grad: vec![R::ZERO; arch.n_params],
            w,
            arch,
            gemm: Cpu {
                threads: threads.max(1),
            },
            batch_n: 0,
        }
    }

    /// Smallest nonzero |pre-activation| of the last forward batch (tests use it to stay away
    /// from the ReLU kink when comparing with finite differences). Exact zeros are skipped: they
    /// come from all-zero inputs (a pixel whose channels were all cut by the ReLU below), stay
    /// exactly zero when any weight moves a little, and so have no kink to cross.
    #[cfg(test)]
    fn min_abs_preactivation(&self) -> f64 {
        let n = self.batch_n;
        let ws = &self.train;
        let mut m = f64::INFINITY;
        let mut see = |v: &[R]| {
            for &z in v {
                if z != R::ZERO {
                    m = m.min(z.to_f64().abs());
                }
            }
        };
        // The pre-activations recomputed from the stored activations (with ReLU the passes
        // keep only the activations).
        let (w, gemm) = (&self.w, &self.gemm);
        for (i, (u, b)) in self.arch.units.iter().zip(&ws.units).enumerate() {
            let input = if i == 0 { &ws.x } else { &ws.units[i - 1].out };
            let mut z = vec![R::ZERO; n * u.a.out_len()];
            let mut patches = b.patches.clone();
            u.a.forward(gemm, &w[u.a_off..], input, n, &mut patches, &mut z);
            see(&z);
            let mut z = vec![R::ZERO; n * u.d.out_len()];
            u.d.forward(&w[u.d_off..], &b.aa, n, &mut z);
            see(&z);
            if u.post == Post::Act {
                let mut z = vec![R::ZERO; n * u.b.out_len()];
                u.b.forward(gemm, &w[u.b_off..], &b.ad, n, &mut [], &mut z);
                see(&z);
            }
        }
        see(&ws.zh[..n * self.arch.head.conv.out_len()]);
        m
    }
}

impl<R: Real> Model<R> for Mnas<R> {
    fn input_dim(&self) -> usize {
        self.arch.input_dim
    }
    fn params(&self) -> &[R] {
        &self.w
    }
    fn params_mut(&mut self) -> &mut [R] {
        &mut self.w
    }
    fn layers(&self) -> &[Layer] {
        &self.arch.layers
    }
    fn predict(&mut self, x: &[R], n: usize, out: &mut [R]) {
        let dim = self.arch.input_dim;
        let chunk = self.pred.cap;
        let mut start = 0;
        while start < n {
            let m = chunk.min(n - start);
            forward(
                &self.arch,
                &self.gemm,
                &self.w,
                &mut self.pred,
                &x[start * dim..(start + m) * dim],
                m,
                &mut out[start..start + m],
            );
            start += m;
        }
    }
    fn forward(&mut self, x: &[R], n: usize, out: &mut [R]) {
        let cap = self.train.cap;
        if n > cap {
            let dim = self.arch.input_dim;
            self.big.x.clear();
            self.big.x.extend_from_slice(&x[..n * dim]);
        }
        let mut start = 0;
        while start < n {
            let m = cap.min(n - start);
            forward(
                &self.arch,
                &self.gemm,
                &self.w,
                &mut self.train,
                &x[start * self.arch.input_dim..],
                m,
                &mut out[start..start + m],
            );
            self.big.held = start;
            start += m;
        }
        self.batch_n = n;
    }
    fn backward(&mut self, _input: &[R], c: &[R], target: Target<'_, R>) {
        let n = self.batch_n;
        let (arch, gemm, w) = (&self.arch, &self.gemm, &self.w);
        match target {
            Target::Gradient(grad) => {
                batch_gradient(arch, gemm, w, &mut self.train, &mut self.big, n, c, grad)
            }
            Target::Update { lr } => {
                batch_gradient(
                    arch,
                    gemm,
                    w,
                    &mut self.train,
                    &mut self.big,
                    n,
                    c,
                    &mut self.grad,
                );
                for (w, &g) in self.w.iter_mut().zip(&self.grad) {
                    *w -= lr * g;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::activation;
    use crate::numeric::rng::{stream, Stream};

    fn tiny(seed: i64) -> (Mnas<f64>, Vec<f64>) {
        tiny_with(seed, Activation::Relu)
    }

    fn tiny_with(seed: i64, act: Activation) -> (Mnas<f64>, Vec<f64>) {
        let mut rng = stream(seed, Stream::Init);
        let model = Mnas::<f64>::new([8, 8, 3], 2, act, 2, 1, &mut rng);
        let x: Vec<f64> = normal_weights(2 * 8 * 8 * 3, &mut stream(seed, Stream::Trainset));
        (model, x)
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let n = 2;
        let mut out = [0.0; 2];
        // Stay clear of ReLU kinks: the first init seed whose nonzero pre-activations all exceed
        // 1e-4 in size (a step of 1e-6 in one weight moves them by ~1e-6).
        let (model, x) = (0..100)
            .map(tiny)
            .find_map(|(mut model, x)| {
                model.forward(&x, n, &mut out);
                (model.min_abs_preactivation() > 1e-4).then_some((model, x))
            })
            .expect("some seed keeps pre-activations away from 0");
        assert_gradient_matches(model, &x);
    }

    #[test]
    fn gradient_matches_finite_differences_for_smooth_activations() {
        for act in [Activation::Gelu, Activation::Silu] {
            let (model, x) = tiny_with(0, act);
            assert_gradient_matches(model, &x);
        }
    }

    /// Central finite differences of Σ_i c_i f(x_i) against `Target::Gradient` (2 images).
    fn assert_gradient_matches(mut model: Mnas<f64>, x: &[f64]) {
        let n = 2;
        let c = [0.7, -1.3];
        let mut out = [0.0; 2];
        model.forward(x, n, &mut out);
        let mut grad = vec![f64::NAN; model.params().len()];
        model.backward(x, &c, Target::Gradient(&mut grad));

        let eps = 1e-6;
        let mut pred = [0.0; 2];
        let mut w = model.params().to_vec();
        let mut worst = 0.0f64;
        let gmax = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
        for k in 0..w.len() {
            let old = w[k];
            let mut l = [0.0; 2];
            for (j, d) in [eps, -eps].into_iter().enumerate() {
                w[k] = old + d;
                model.params_mut().copy_from_slice(&w);
                model.predict(x, n, &mut pred);
                l[j] = c[0] * pred[0] + c[1] * pred[1];
            }
            w[k] = old;
            let fd = (l[0] - l[1]) / (2.0 * eps);
            let err = (fd - grad[k]).abs() / (grad[k].abs() + 1e-3 * gmax);
            worst = worst.max(err);
        }
        assert!(worst < 1e-6, "worst relative error {worst}");
    }

    #[test]
    fn update_is_w_minus_lr_times_gradient() {
        let (mut model, x) = tiny(5);
        let c = [0.25, 0.5];
        let mut out = [0.0; 2];
        model.forward(&x, 2, &mut out);
        let w0 = model.params().to_vec();
        let mut grad = vec![0.0; w0.len()];
        model.backward(&x, &c, Target::Gradient(&mut grad));
        assert_eq!(
            model.params(),
            &w0[..],
            "Gradient must not touch the weights"
        );
        model.backward(&x, &c, Target::Update { lr: 0.1 });
        for ((w, w0), g) in model.params().iter().zip(&w0).zip(&grad) {
            assert!((w - (w0 - 0.1 * g)).abs() < 1e-14);
        }
    }

    #[test]
    fn predict_chunks_match_forward_and_f32_agrees() {
        let mut rng = stream(9, Stream::Init);
        let mut model = Mnas::<f64>::new([9, 7, 2], 2, Activation::Relu, 4, 1, &mut rng);
        let n = 70; // three chunks
        let x: Vec<f64> = normal_weights(n * 9 * 7 * 2, &mut stream(9, Stream::Trainset));
        let mut all = vec![0.0; n];
        model.predict(&x, n, &mut all);
        let mut part = [0.0; 4];
        model.forward(&x[4 * 126..], 4, &mut part);
        for j in 0..4 {
            assert!((part[j] - all[4 + j]).abs() < 1e-12);
        }
        let mut m32 = Mnas::<f32>::new(
            [9, 7, 2],
            2,
            Activation::Relu,
            4,
            1,
            &mut stream(9, Stream::Init),
        );
        assert_eq!(m32.params()[0] as f64, model.params()[0] as f32 as f64);
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut o32 = vec![0.0f32; n];
        m32.predict(&x32, n, &mut o32);
        for (a, b) in all.iter().zip(&o32) {
            assert!((a - *b as f64).abs() < 1e-4 * (1.0 + a.abs()), "{a} vs {b}");
        }
        // Outputs are O(1/sqrt(20h)) at init, not degenerate.
        assert!(all.iter().any(|v| v.abs() > 1e-3));
    }

    #[test]
    fn model_build_makes_the_spec_network() {
        use crate::settings::RunConfig;
        let spec = RunConfig {
            arch: Some(crate::settings::Arch::Mnas),
            dataset: Some(crate::settings::DatasetName::MnistParity),
            width: Some(3),
            batch: Some(4),
            temp: Some(1.0),
            threads: Some(2),
            ..Default::default()
        }
        .resolve()
        .unwrap();
        let mut model = crate::model::build::<f32>(&spec);
        assert_eq!(model.input_dim(), 28 * 28);
        assert_eq!(model.params().len(), crate::model::param_count(&spec));
        assert_eq!(model.params().len(), param_count([28, 28, 1], 3));
        // Same seed, same weights: the init stream is the only source.
        let again = crate::model::build::<f32>(&spec);
        assert_eq!(model.params(), again.params());
        let x = vec![0.5f32; 4 * 784];
        let mut out = [0.0f32; 4];
        model.forward(&x, 4, &mut out);
        assert!(out.iter().all(|v| v.is_finite()));
        assert_eq!(out[0], out[3], "identical images, identical outputs");
    }

    /// The fused ReLU passes (the ReLU in place on the matrix products' outputs, the backward
    /// masked by the activations, the linear projections written straight into the output,
    /// the head's activations summed as they are computed) give the bits of the unfused passes
    /// (`fuse_relu` false: every pre-activation stored, masks from the pre-activations), for
    /// the output, the gradient and the head's means, in f32 and f64, on a batch larger than
    /// the workspace too.
    #[test]
    fn fused_relu_passes_equal_the_unfused_ones_bit_for_bit() {
        fn check<R: Real>(h: usize, batch: usize, n: usize) {
            let x: Vec<R> = normal_weights(n * 8 * 8 * 3, &mut stream(4, Stream::Trainset));
            let c: Vec<R> = (0..n).map(|i| R::from_f64(0.3 - 0.2 * i as f64)).collect();
            let bits = |v: &[R]| v.iter().map(|a| a.to_f64().to_bits()).collect::<Vec<u64>>();
            let run = |fuse: bool| {
                let mut rng = stream(4, Stream::Init);
                let mut m = Mnas::<R>::new([8, 8, 3], h, Activation::Relu, batch, 1, &mut rng);
                m.arch.fuse_relu = fuse;
                let mut out = vec![R::ZERO; n];
                m.forward(&x, n, &mut out);
                let mean = m.train.mean.clone();
                let mut grad = vec![R::ZERO; m.params().len()];
                m.backward(&x, &c, Target::Gradient(&mut grad));
                (bits(&out), bits(&grad), bits(&mean), m)
            };
            let (out0, grad0, mean0, m0) = run(false);
            let (out1, grad1, mean1, _) = run(true);
            assert_eq!(out1, out0, "output, h = {h}");
            assert_eq!(grad1, grad0, "gradient, h = {h}");
            assert_eq!(mean1, mean0, "head means, h = {h}");
            // The head's means against activations stored first and summed after.
            let (f, p) = (m0.arch.head.features, m0.arch.head.positions);
            // (Only where the batch fit the workspace: else it holds the last chunk's means.)
            let k = if n <= m0.train.cap { n } else { 0 };
            let inv_p = R::ONE / R::from_usize(p);
            let a: Vec<R> = m0.train.zh[..k * p * f]
                .iter()
                .map(|&z| activation::relu_scaled(z, R::from_f64(std::f64::consts::SQRT_2)))
                .collect();
            for i in 0..k {
                for j in 0..f {
                    let mut s = R::ZERO;
                    for pos in 0..p {
                        s += a[(i * p + pos) * f + j];
                    }
                    assert_eq!((s * inv_p).to_f64().to_bits(), mean0[i * f + j]);
                }
            }
            assert!(grad0.iter().any(|&g| f64::from_bits(g).abs() > 1e-6));
        }
        check::<f64>(2, 3, 3);
        check::<f32>(3, 3, 3);
        check::<f32>(2, 2, 5); // chunks of 2, recomputed
    }

    #[test]
    fn batches_larger_than_the_workspace_give_the_same_gradient() {
        let n = 5;
        let x: Vec<f64> = normal_weights(n * 8 * 8 * 3, &mut stream(2, Stream::Trainset));
        let c = [0.3, -0.2, 0.9, -1.1, 0.4];
        let run = |batch: usize| {
            let mut rng = stream(2, Stream::Init);
            let mut m = Mnas::<f64>::new([8, 8, 3], 2, Activation::Relu, batch, 1, &mut rng);
            let mut out = vec![0.0; n];
            m.forward(&x, n, &mut out);
            let mut grad = vec![0.0; m.params().len()];
            m.backward(&x, &c, Target::Gradient(&mut grad));
            // A second backward of the same forward gives the same gradient (up to the order
            // in which chunks are summed).
            let mut again = vec![0.0; m.params().len()];
            m.backward(&x, &c, Target::Gradient(&mut again));
            let d = grad
                .iter()
                .zip(&again)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(d < 1e-13, "repeated backward differs by {d}");
            m.backward(&x, &c, Target::Update { lr: 0.5 });
            (out, grad, m.params().to_vec(), m.train.cap)
        };
        let (out1, grad1, w1, cap1) = run(n);
        let (out2, grad2, w2, cap2) = run(2); // chunks 2 + 2 + 1, recomputed as needed
        assert_eq!((cap1, cap2), (5, 2));
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-12);
        assert!(close(&out1, &out2));
        assert!(close(&grad1, &grad2));
        assert!(close(&w1, &w2));
        assert!(grad1.iter().any(|&g| g.abs() > 1e-6));
    }

    #[test]
    fn a_non_finite_weight_makes_the_output_non_finite() {
        let (mut model, x) = tiny(1);
        let mut out = [0.0; 2];
        for layer in ["stem.conv", "block2.dw", "head.conv"] {
            let (mut m, _) = tiny(1);
            // The middle entry: for a 5×5 kernel a centre tap, used at every pixel even on the
            // 2×2 maps of this tiny net.
            let l = m.layers().iter().find(|l| l.name == layer).unwrap().clone();
            m.params_mut()[l.offset + l.len / 2] = f64::NAN;
            m.predict(&x, 2, &mut out);
            assert!(
                out.iter().all(|v| v.is_nan()),
                "NaN in {layer} gave {out:?}"
            );
        }
        model.predict(&x, 2, &mut out);
        assert!(out.iter().all(|v| v.is_finite()));
    }
}
