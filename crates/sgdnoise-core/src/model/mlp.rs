//! Fully connected net ("mlp"), SPEC §1:
//!
//! z_0 = x;  z_l = sigma(W_l z_{l-1} / sqrt(n_{l-1})) for l = 1..L;  f(w, x) = W_{L+1} · z_L / h,
//!
//! with n_0 = d0 (the input size), n_l = h for the L hidden layers, no biases, all weights drawn
//! i.i.d. N(0,1) and all scaling done in the forward pass (the read-out divides by h: mean-field).
//!
//! **Layout.** One flat parameter vector holds W_1 (h × d0), W_2 … W_L (h × h) and W_{L+1}
//! (1 × h), each row-major (out × in), in that order; [`Model::layers`] names them "W1" …
//! "W{L+1}". Inputs are row-major n × d0; activations of a batch of n points are kept
//! feature-major (h × n, row-major), so every product is W · A or Wᵀ · dZ with the weights as
//! stored: with the `gemm` crate the row-major alternative Z = A Wᵀ ran at a quarter of the
//! speed at B = 16 (measured, bench/RESULTS.md).
//!
//! **Speed.** Every matrix product goes through the [`Gemm`] backend (generic, so a GPU backend
//! can plug in). All buffers are allocated for the batch size when the model is built, so a step
//! allocates nothing. The 1/sqrt(fan_in) and 1/h factors ride in the GEMM's alpha. With
//! [`Target::Update`] the SGD update is fused into the weight-gradient GEMM,
//! W_l += (-lr s_l) dZ_lᵀ A_{l-1} with beta = 1, and it runs only after dA_{l-1} = s_l dZ_l W_l
//! has used the old W_l. [`Target::Gradient`] writes s_l dZ_lᵀ A_{l-1} into the gradient buffer.
//!
//! **Predict is forward, bit for bit.** The `gemm` crate picks its kernel, and with it the order
//! in which a dot product is summed, from the shape of the product (a matrix-vector kernel for
//! one column, a "horizontal" kernel for small products, a k-blocking from the sizes): the same
//! point in a product of 1, 3 or 512 columns gets outputs that differ in the last bits. The
//! training step decides which points are fitted from `forward` on batches of B points, the stop
//! check from `predict` (SPEC §4): if the two disagreed on a point at the margin, no step would
//! ever update it and no check would ever find it fitted. So `predict` evaluates its points in
//! products of exactly B columns, the batch size the net was built for (a last partial chunk
//! is the window of the last B points; fewer than B points are padded with zeros): every
//! point's output is then bitwise the one a training step computes for it, whatever batch it
//! is drawn in (a product's column does not depend on the other columns; tests/it/forward_predict.rs).
//! At B < 16 such products are slower per point than large ones (about 3x at B = 2), so
//! [`Model::evaluate`], for the test set, which no decision of the run reads, keeps products of
//! [`EVALUATE_CHUNK`] points.

use super::{activation, normal_weights, Layer, Model, Target};
use crate::numeric::gemm::{Cpu, Gemm, MatMut, MatRef};
use crate::numeric::real::Real;
use crate::numeric::rng::StreamRng;
use crate::settings::{Activation, RunSpec};

/// Points per product in [`Model::evaluate`] (bounds its buffers whatever the number of points).
pub const EVALUATE_CHUNK: usize = 512;

/// Parameter count: d0 h + (L-1) h² + h (saturating: `usize::MAX` stands for "more than a
/// machine word counts", never a wrapped number).
pub fn param_count(input_dim: usize, depth: usize, width: usize) -> usize {
    input_dim
        .saturating_mul(width)
        .saturating_add(
            depth
                .saturating_sub(1)
                .saturating_mul(width)
                .saturating_mul(width),
        )
        .saturating_add(width)
}

/// Numbers in the buffers [`Mlp::new`] allocates besides the weights, for batches of `batch`
/// points (saturating): per hidden layer the activations and derivatives (h × B each), two
/// backward scratch buffers (h × B) and the two chunks `predict` and `evaluate` grow on first
/// use (h × max(B, 512) points each; the padding of a short `predict` is small beside them).
pub fn buffer_len(depth: usize, width: usize, batch: usize) -> usize {
    let per_layer = batch.max(1).saturating_mul(width);
    per_layer
        .saturating_mul(depth.saturating_mul(2).saturating_add(2))
        .saturating_add(
            batch
                .max(EVALUATE_CHUNK)
                .saturating_mul(2)
                .saturating_mul(width),
        )
}

/// The fully connected net, generic over the element type `R` and the matrix backend `G`.
pub struct Mlp<R, G = Cpu> {
    gemm: G,
    act: Activation,
    input_dim: usize,
    depth: usize,
    width: usize,
    w: Vec<R>,
    layers: Vec<Layer>,
    /// The batch size the net was built for: `predict` evaluates points B at a time.
    batch: usize,
    /// Points in the last forward batch.
    n: usize,
    /// acts[l-1] = z_l of the last forward batch (h × n, feature-major), l = 1..L.
    acts: Vec<Vec<R>>,
    /// derivs[l-1] = sigma'(pre-activation of layer l) (h × n).
    derivs: Vec<Vec<R>>,
    /// Backward scratch: dZ of the current layer and of the layer below (h × n each).
    dz: Vec<R>,
    dz_below: Vec<R>,
    /// Scratch of `predict` and `evaluate` (h × max(B, EVALUATE_CHUNK) each, grown on first use).
    chunk_a: Vec<R>,
    chunk_b: Vec<R>,
    /// `predict` of fewer than B points: the points padded with zeros to B (grown on first use).
    pad_x: Vec<R>,
    pad_out: Vec<R>,
}

impl<R: Real> Mlp<R, Cpu> {
    /// The net of `spec` (input size, depth, width, activation, batch size, threads) with weights
    /// drawn from `rng` (the init stream).
    pub fn from_spec(spec: &RunSpec, rng: &mut StreamRng) -> Self {
        Mlp::new(
            spec.input_dim,
            spec.depth,
            spec.width,
            spec.act,
            spec.batch,
            Cpu {
                threads: spec.exec.threads_here(),
            },
            rng,
        )
    }
}

impl<R: Real, G: Gemm> Mlp<R, G> {
    /// A net with `depth` hidden layers of `width` units on `input_dim` inputs, buffers sized for
    /// batches of `batch` points, weights N(0,1) drawn from `rng` layer after layer.
    pub fn new(
        input_dim: usize,
        depth: usize,
        width: usize,
        act: Activation,
        batch: usize,
        gemm: G,
        rng: &mut StreamRng,
    ) -> Self {
        assert!(depth >= 1, "an mlp needs at least one hidden layer");
        assert!(width >= 1 && input_dim >= 1, "mlp sizes must be positive");
        let w = normal_weights(param_count(input_dim, depth, width), rng);
        let mut layers = Vec::with_capacity(depth + 1);
        let mut offset = 0;
        for l in 1..=depth + 1 {
            let len = if l == 1 {
                width * input_dim
            } else if l <= depth {
                width * width
            } else {
                width
            };
            layers.push(Layer {
                name: format!("W{l}"),
                offset,
                len,
            });
            offset += len;
        }
        debug_assert_eq!(offset, w.len());
        let _ = activation::norm_constant(act); // compute the constant now, not in a step
        let batch = batch.max(1);
        Mlp {
            gemm,
            act,
            input_dim,
            depth,
            width,
            w,
            layers,
            batch,
            n: 0,
            acts: vec![vec![R::ZERO; batch * width]; depth],
            derivs: vec![vec![R::ZERO; batch * width]; depth],
            dz: vec![R::ZERO; batch * width],
            dz_below: vec![R::ZERO; batch * width],
            chunk_a: Vec::new(),
            chunk_b: Vec::new(),
            pad_x: Vec::new(),
            pad_out: Vec::new(),
        }
    }

    pub fn depth(&self) -> usize {
        self.depth
    }
    pub fn width(&self) -> usize {
        self.width
    }
    pub fn activation(&self) -> Activation {
        self.act
    }

    /// Fan-in of layer l (1-based; l = L+1 is the read-out).
    fn fan_in(&self, l: usize) -> usize {
        if l == 1 {
            self.input_dim
        } else {
            self.width
        }
    }

    /// Grows the batch buffers to hold `n` points (only when a larger batch than planned comes).
    fn reserve(&mut self, n: usize) {
        let h = self.width;
        if self.dz.len() < n * h {
            for buf in self.acts.iter_mut().chain(self.derivs.iter_mut()) {
                buf.resize(n * h, R::ZERO);
            }
            self.dz.resize(n * h, R::ZERO);
            self.dz_below.resize(n * h, R::ZERO);
        }
    }

    /// Outputs of the `m` points of `xs` in one product per layer, the products of
    /// [`Model::forward`] on a batch of `m` (without keeping what a backward pass needs).
    fn outputs(&mut self, xs: &[R], m: usize, out: &mut [R]) {
        let (d0, h, depth) = (self.input_dim, self.width, self.depth);
        if self.chunk_a.len() < h * m {
            self.chunk_a.resize(h * m, R::ZERO);
            self.chunk_b.resize(h * m, R::ZERO);
        }
        let (mut cur, mut next) = (&mut self.chunk_a, &mut self.chunk_b);
        for l in 1..=depth {
            let k = if l == 1 { d0 } else { h };
            let scale = R::ONE / R::from_usize(k).sqrt();
            self.gemm.gemm(
                scale,
                MatRef::rows(&self.w[self.layers[l - 1].range()], h, k),
                layer_input(l, xs, cur, m, k),
                R::ZERO,
                MatMut::rows(&mut next[..h * m], h, m),
            );
            activation::apply(self.act, &mut next[..h * m]);
            std::mem::swap(&mut cur, &mut next);
        }
        let inv_h = R::ONE / R::from_usize(h);
        self.gemm.gemm(
            inv_h,
            MatRef::rows(&self.w[self.layers[depth].range()], 1, h),
            MatRef::rows(&cur[..h * m], h, m),
            R::ZERO,
            MatMut::rows(&mut out[..m], 1, m),
        );
    }
}
/// The input of layer l as a k × n matrix (feature-major): for l = 1 the transpose of the
/// row-major n × d0 inputs, above it the stored h × n activations.
#[inline]
fn layer_input<'a, R>(l: usize, x: &'a [R], below: &'a [R], n: usize, k: usize) -> MatRef<'a, R> {
    if l == 1 {
        MatRef::rows(&x[..n * k], n, k).t()
    } else {
        MatRef::rows(&below[..k * n], k, n)
    }
}

impl<R: Real, G: Gemm> Model<R> for Mlp<R, G> {
    fn input_dim(&self) -> usize {
        self.input_dim
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

    /// f(w, x_i) for `n` points, evaluated B points at a time (module doc: predict is forward,
    /// bit for bit).
    fn predict(&mut self, x: &[R], n: usize, out: &mut [R]) {
        let (d0, b) = (self.input_dim, self.batch);
        assert!(
            x.len() >= n * d0 && out.len() >= n,
            "predict: buffers too small"
        );
        if n == 0 {
            return;
        }
        if n < b {
            let (mut pad_x, mut pad_out) = (
                std::mem::take(&mut self.pad_x),
                std::mem::take(&mut self.pad_out),
            );
            pad_x.clear();
            pad_x.extend_from_slice(&x[..n * d0]);
            pad_x.resize(b * d0, R::ZERO);
            pad_out.resize(b, R::ZERO);
            self.outputs(&pad_x, b, &mut pad_out);
            out[..n].copy_from_slice(&pad_out[..n]);
            (self.pad_x, self.pad_out) = (pad_x, pad_out);
            return;
        }
        let mut done = 0;
        while done < n {
            // B points ending at done + B, or the last B points (some computed again, identically).
            let start = done.min(n - b);
            self.outputs(
                &x[start * d0..(start + b) * d0],
                b,
                &mut out[start..start + b],
            );
            done = start + b;
        }
    }

    /// f(w, x_i) in products of [`EVALUATE_CHUNK`] points: the same up to rounding, faster at
    /// small B (module doc).
    fn evaluate(&mut self, x: &[R], n: usize, out: &mut [R]) {
        let d0 = self.input_dim;
        assert!(
            x.len() >= n * d0 && out.len() >= n,
            "evaluate: buffers too small"
        );
        let mut start = 0;
        while start < n {
            let m = EVALUATE_CHUNK.min(n - start);
            self.outputs(
                &x[start * d0..(start + m) * d0],
                m,
                &mut out[start..start + m],
            );
            start += m;
        }
    }

    fn forward(&mut self, x: &[R], n: usize, out: &mut [R]) {
        let (d0, h, depth) = (self.input_dim, self.width, self.depth);
        assert!(
            x.len() >= n * d0 && out.len() >= n,
            "forward: buffers too small"
        );
        self.reserve(n);
        self.n = n;
        for l in 1..=depth {
            let k = self.fan_in(l);
            let scale = R::ONE / R::from_usize(k).sqrt();
            let (below, here) = self.acts.split_at_mut(l - 1);
            let below: &[R] = if l == 1 { &[] } else { &below[l - 2] };
            let z = &mut here[0][..h * n];
            self.gemm.gemm(
                scale,
                MatRef::rows(&self.w[self.layers[l - 1].range()], h, k),
                layer_input(l, x, below, n, k),
                R::ZERO,
                MatMut::rows(z, h, n),
            );
            activation::apply_with_derivative(self.act, z, &mut self.derivs[l - 1][..h * n]);
        }
        let inv_h = R::ONE / R::from_usize(h);
        self.gemm.gemm(
            inv_h,
            MatRef::rows(&self.w[self.layers[depth].range()], 1, h),
            MatRef::rows(&self.acts[depth - 1][..h * n], h, n),
            R::ZERO,
            MatMut::rows(&mut out[..n], 1, n),
        );
    }

    fn backward(&mut self, x: &[R], c: &[R], target: Target<'_, R>) {
        let n = self.n;
        let (h, depth) = (self.width, self.depth);
        assert!(
            c.len() >= n,
            "backward: {} output gradients for {n} points",
            c.len()
        );
        let c = &c[..n];
        // Weight-gradient GEMMs: an update adds -lr·gradient to the weights (beta = 1), a
        // gradient overwrites the buffer (beta = 0).
        let (factor, beta, mut grad) = match target {
            Target::Update { lr } => (-lr, R::ONE, None),
            Target::Gradient(g) => {
                assert_eq!(g.len(), self.w.len(), "gradient buffer length");
                (R::ONE, R::ZERO, Some(g))
            }
        };
        let d0 = self.input_dim;
        let Mlp {
            gemm,
            w,
            layers,
            acts,
            derivs,
            dz,
            dz_below,
            ..
        } = self;
        let inv_h = R::ONE / R::from_usize(h);

        // Read-out: dZ_L = (W_{L+1}ᵀ c / h) ⊙ sigma'_L (h × n), with the old W_{L+1}.
        let out_range = layers[depth].range();
        gemm.gemm(
            inv_h,
            MatRef::rows(&w[out_range.clone()], 1, h).t(),
            MatRef::rows(c, 1, n),
            R::ZERO,
            MatMut::rows(&mut dz[..h * n], h, n),
        );
        // Its gradient c A_L / h (1 × h).
        {
            let dst = match grad.as_deref_mut() {
                Some(g) => &mut g[out_range],
                None => &mut w[out_range],
            };
            gemm.gemm(
                factor * inv_h,
                MatRef::rows(c, 1, n),
                MatRef::rows(&acts[depth - 1][..h * n], h, n).t(),
                beta,
                MatMut::rows(dst, 1, h),
            );
        }
        mul_in_place(&mut dz[..h * n], &derivs[depth - 1][..h * n]);

        for l in (1..=depth).rev() {
            let k = if l == 1 { d0 } else { h };
            let scale = R::ONE / R::from_usize(k).sqrt();
            let range = layers[l - 1].range();
            // dZ_{l-1} = (s_l W_lᵀ dZ_l) ⊙ sigma'_{l-1}, with the old W_l.
            if l > 1 {
                gemm.gemm(
                    scale,
                    MatRef::rows(&w[range.clone()], h, h).t(),
                    MatRef::rows(&dz[..h * n], h, n),
                    R::ZERO,
                    MatMut::rows(&mut dz_below[..h * n], h, n),
                );
                mul_in_place(&mut dz_below[..h * n], &derivs[l - 2][..h * n]);
            }
            // W_l gradient s_l dZ_l A_{l-1}ᵀ (h × k), fused into the update when training.
            let below: &[R] = if l == 1 { &[] } else { &acts[l - 2] };
            let dst = match grad.as_deref_mut() {
                Some(g) => &mut g[range],
                None => &mut w[range],
            };
            gemm.gemm(
                factor * scale,
                MatRef::rows(&dz[..h * n], h, n),
                layer_input(l, x, below, n, k).t(),
                beta,
                MatMut::rows(dst, h, k),
            );
            std::mem::swap(dz, dz_below);
        }
    }
}

/// `a[i] *= b[i]`.
#[inline]
fn mul_in_place<R: Real>(a: &mut [R], b: &[R]) {
    for (x, &y) in a.iter_mut().zip(b) {
        *x *= y;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::numeric::rng::{self, Stream};
    use rand::Rng;

    fn net<R: Real>(d0: usize, depth: usize, h: usize, act: Activation, b: usize) -> Mlp<R> {
        let mut rng = rng::stream(3, Stream::Init);
        Mlp::new(d0, depth, h, act, b, Cpu::default(), &mut rng)
    }

    fn random_inputs(n: usize, seed: u64) -> Vec<f64> {
        use rand::SeedableRng;
        let mut rng = StreamRng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(-2.0..2.0)).collect()
    }

    /// The memory estimate counts exactly the buffers `new` allocates and the chunks that
    /// `predict` and `evaluate` grow on first use.
    #[test]
    fn buffer_len_counts_what_new_allocates() {
        for (d0, depth, h, b) in [(7, 3, 5, 4), (784, 5, 128, 16), (3, 1, 2, 1)] {
            let mut m = Mlp::<f32>::new(
                d0,
                depth,
                h,
                Activation::Relu,
                b,
                Cpu::default(),
                &mut rng::stream(0, Stream::Init),
            );
            let n = 600;
            let x: Vec<f32> = (0..n * d0).map(|k| (k % 7) as f32 * 0.1).collect();
            let mut out = vec![0.0f32; n];
            m.evaluate(&x, n, &mut out);
            m.predict(&x, n, &mut out);
            let allocated: usize = m.acts.iter().chain(&m.derivs).map(Vec::len).sum::<usize>()
                + m.dz.len()
                + m.dz_below.len()
                + m.chunk_a.len()
                + m.chunk_b.len();
            assert_eq!(buffer_len(depth, h, b), allocated);
            assert_eq!(param_count(d0, depth, h), m.w.len());
        }
        // Regression: the count wrapped at absurd sizes (`info --width 2^64-1 --depth 2^64-1`).
        assert_eq!(param_count(784, usize::MAX, usize::MAX), usize::MAX);
        assert_eq!(buffer_len(usize::MAX, usize::MAX, 2), usize::MAX);
    }

    #[test]
    fn param_counts_of_the_paper() {
        // SPEC §1: L = 5, h = 128.
        assert_eq!(param_count(784, 5, 128), 166_016);
        assert_eq!(param_count(3072, 5, 128), 458_880);
        let m = net::<f32>(784, 5, 128, Activation::Relu, 16);
        assert_eq!(m.params().len(), 166_016);
        let names: Vec<&str> = m.layers().iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["W1", "W2", "W3", "W4", "W5", "W6"]);
        assert_eq!(m.layers()[0].len, 784 * 128);
        assert_eq!(m.layers()[5].range(), 166_016 - 128..166_016);
    }

    /// The forward pass of SPEC §1 written naively, in f64.
    fn naive_f(m: &Mlp<f64>, x: &[f64]) -> f64 {
        let (h, act) = (m.width, m.act);
        let mut z = x.to_vec();
        for l in 1..=m.depth {
            let k = z.len();
            let wl = &m.w[m.layers[l - 1].range()];
            z = (0..h)
                .map(|i| {
                    let pre = (0..k).map(|j| wl[i * k + j] * z[j]).sum::<f64>() / (k as f64).sqrt();
                    activation::sigma(act, pre)
                })
                .collect();
        }
        let wout = &m.w[m.layers[m.depth].range()];
        (0..h).map(|i| wout[i] * z[i]).sum::<f64>() / h as f64
    }

    #[test]
    fn forward_and_predict_match_the_naive_formula() {
        let (d0, depth, h, n) = (7, 3, 5, 601); // 150 chunks of B = 4 and a last window
        let mut m = net::<f64>(d0, depth, h, Activation::Gelu, 4);
        let x = random_inputs(n * d0, 1);
        let mut out = vec![0.0; n];
        m.predict(&x, n, &mut out);
        let mut fwd = vec![0.0; 4];
        m.forward(&x, 4, &mut fwd);
        for i in 0..n {
            let want = naive_f(&m, &x[i * d0..(i + 1) * d0]);
            assert!(
                (out[i] - want).abs() < 1e-12,
                "point {i}: {} vs {want}",
                out[i]
            );
            if i < 4 {
                // Same formula, but GEMM blocking may differ with the number of rows.
                assert!(
                    (fwd[i] - out[i]).abs() < 1e-14,
                    "forward {} vs predict {}",
                    fwd[i],
                    out[i]
                );
            }
        }
    }

    /// Central finite differences of F(w) = Σ_i c_i f(w, x_i) against `Target::Gradient`.
    fn gradient_check(d0: usize, depth: usize, h: usize, act: Activation, n: usize, seed: u64) {
        let mut m = net::<f64>(d0, depth, h, act, n);
        let x = random_inputs(n * d0, seed);
        let c = random_inputs(n, seed + 100);
        let mut out = vec![0.0; n];
        m.forward(&x, n, &mut out);
        let mut grad = vec![f64::NAN; m.params().len()];
        m.backward(&x, &c, Target::Gradient(&mut grad));
        let objective = |m: &mut Mlp<f64>| {
            let mut o = vec![0.0; n];
            m.predict(&x, n, &mut o);
            o.iter().zip(&c).map(|(a, b)| a * b).sum::<f64>()
        };
        let eps = 1e-5;
        let mut errors = Vec::new();
        for (p, &g) in grad.iter().enumerate() {
            let w0 = m.params()[p];
            m.params_mut()[p] = w0 + eps;
            let up = objective(&mut m);
            m.params_mut()[p] = w0 - eps;
            let down = objective(&mut m);
            m.params_mut()[p] = w0;
            let fd = (up - down) / (2.0 * eps);
            let scale = fd.abs().max(g.abs()).max(1e-3);
            errors.push((fd - g).abs() / scale);
        }
        errors.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let median = errors[errors.len() / 2];
        let max = *errors.last().unwrap();
        let what = format!("{act} d0={d0} L={depth} h={h} n={n}: median {median:e}, max {max:e}");
        if act == Activation::Relu {
            // A step of 1e-5 can cross a kink of ReLU for a few weights; the bulk must be exact.
            assert!(median < 1e-6, "{what}");
            let bad = errors.iter().filter(|&&e| e > 1e-6).count();
            assert!(bad * 20 <= errors.len(), "{what}: {bad} weights off");
        } else {
            assert!(max < 1e-6, "{what}");
        }
    }

    #[test]
    fn gradients_match_central_finite_differences() {
        let mut seed = 10;
        for act in [Activation::Relu, Activation::Gelu, Activation::Silu] {
            for &(d0, depth, h, n) in &[
                (2, 1, 3, 1),
                (5, 2, 4, 3),
                (10, 3, 7, 5),
                (3, 3, 3, 2),
                (8, 1, 6, 4),
            ] {
                gradient_check(d0, depth, h, act, n, seed);
                seed += 1;
            }
        }
    }

    #[test]
    fn update_equals_params_minus_lr_times_gradient() {
        let (d0, depth, h, n) = (6, 3, 5, 4);
        for act in [Activation::Relu, Activation::Silu] {
            let mut m = net::<f64>(d0, depth, h, act, n);
            let x = random_inputs(n * d0, 5);
            let c = random_inputs(n, 6);
            let mut out = vec![0.0; n];
            m.forward(&x, n, &mut out);
            let mut grad = vec![0.0; m.params().len()];
            m.backward(&x, &c, Target::Gradient(&mut grad));
            let before = m.params().to_vec();
            let lr = 0.37;
            m.backward(&x, &c, Target::Update { lr });
            for p in 0..before.len() {
                let want = before[p] - lr * grad[p];
                assert!(
                    (m.params()[p] - want).abs() < 1e-13 * (1.0 + want.abs()),
                    "{act:?} param {p}: {} vs {want}",
                    m.params()[p]
                );
            }
        }
    }

    #[test]
    fn f32_and_f64_forwards_agree_to_f32_precision() {
        let (d0, depth, h, n) = (784, 5, 128, 16);
        for act in [Activation::Relu, Activation::Gelu, Activation::Silu] {
            let mut m64 = net::<f64>(d0, depth, h, act, n);
            let mut m32 = net::<f32>(d0, depth, h, act, n);
            // The same draws in both precisions.
            for (a, b) in m32.params().iter().zip(m64.params()) {
                assert_eq!(*a, *b as f32);
            }
            let x64 = random_inputs(n * d0, 9);
            let x32: Vec<f32> = x64.iter().map(|&v| v as f32).collect();
            let (mut o64, mut o32) = (vec![0.0f64; n], vec![0.0f32; n]);
            m64.forward(&x64, n, &mut o64);
            m32.forward(&x32, n, &mut o32);
            // Outputs are O(1/sqrt(h)); each passes through ~6 f32 reductions.
            let scale = o64.iter().map(|v| v.abs()).fold(0.0, f64::max);
            for i in 0..n {
                assert!(
                    (o32[i] as f64 - o64[i]).abs() < 1e-5 * scale,
                    "{act:?} point {i}: {} vs {}",
                    o32[i],
                    o64[i]
                );
            }
        }
    }

    #[test]
    fn forward_reuses_buffers_and_grows_for_larger_batches() {
        let mut m = net::<f64>(4, 2, 3, Activation::Relu, 2);
        let x = random_inputs(5 * 4, 2);
        let mut out = vec![0.0; 5];
        m.forward(&x, 5, &mut out); // larger than planned: buffers grow
        let mut want = vec![0.0; 5];
        m.predict(&x, 5, &mut want); // in products of B = 2 points: the same up to rounding
        for (a, b) in out.iter().zip(&want) {
            assert!((a - b).abs() < 1e-14, "{a} vs {b}");
        }
        let mut grad = vec![0.0; m.params().len()];
        m.backward(&x, &[1.0; 5], Target::Gradient(&mut grad));
        assert!(grad.iter().all(|g| g.is_finite()));
    }
}
