//! Golden numbers (in the style of candle's optimiser tests): exact values pinned as literals,
//! each next to the command that printed them.
//!
//! * Random streams (SPEC §7): the first raw draws of every named stream and the derived draws
//!   the project uses (normal weights, batch indices, the Gamma of depleted_sign, the split
//!   shuffles, bootstrap indices). rand, rand_chacha and rand_distr promise no value stability
//!   across versions, so the workspace pins them exactly (Cargo.toml); these tests fail if a
//!   version or a call changes a stream, and with it every result. Regenerate on purpose:
//!   `cargo test --release -p sgdnoise-core --test it -- --ignored --nocapture print_golden`.
//! * One perceptron run end to end, bit for bit (same printer).
//! * Tiny mlp and mnas nets in f64 against PyTorch (`bench/golden_torch.py`, an independent
//!   twin in the paper's parametrisation, SPEC §1): forward outputs and gradients.

// The literals are pasted as the printers write them, `{:.17e}`: 17 significant digits, one or
// two more than the shortest round trip, and still exactly the same f64.
#![allow(clippy::excessive_precision)]

use rand::{Rng, RngCore};
use rand_distr::{Distribution, Gamma, StandardNormal};
use sgdnoise_core::data::images::split_indices;
use sgdnoise_core::data::synthetic::depleted_sign;
use sgdnoise_core::model::{self, Target};
use sgdnoise_core::numeric::rng::{stream, Stream};
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::{RunConfig, RunSpec};
use sgdnoise_core::train::sampler::BatchSampler;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A resolved run from TOML (the keys users write), so the tests need no change when the
/// fields of `RunConfig` change type.
fn spec(toml: &str) -> RunSpec {
    RunConfig::from_toml_str(toml)
        .expect("golden config parses")
        .resolve()
        .expect("golden config resolves")
}

const STREAMS: [Stream; 5] = [
    Stream::Init,
    Stream::Batch,
    Stream::Trainset,
    Stream::Testset,
    Stream::Bootstrap,
];
const SEEDS: [i64; 2] = [0, -1];

fn assert_bits(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(
            g.to_bits(),
            w.to_bits(),
            "{what}[{i}]: got {g:.17e}, pinned {w:.17e}"
        );
    }
}

// What each stream test draws; the printer and the tests share these functions.

fn raw_u64(seed: i64, s: Stream) -> Vec<u64> {
    let mut r = stream(seed, s);
    (0..4).map(|_| r.next_u64()).collect()
}

/// `model::normal_weights`: StandardNormal f64 samples, in order, from the init stream.
fn normals(seed: i64) -> Vec<f64> {
    let mut r = stream(seed, Stream::Init);
    (0..4).map(|_| StandardNormal.sample(&mut r)).collect()
}

/// `random_range(i..p)` on usize as the batch sampler calls it (p = 1024), then the sampler
/// itself: four batches of B = 2 out of P = 256.
fn batch_draws(seed: i64) -> (Vec<usize>, Vec<u32>) {
    let mut r = stream(seed, Stream::Batch);
    let raw = (0..4).map(|i| r.random_range(i..1024usize)).collect();
    let mut r = stream(seed, Stream::Batch);
    let mut s = BatchSampler::new(256);
    let batches = (0..4).flat_map(|_| s.draw(2, &mut r).to_vec()).collect();
    (raw, batches)
}

/// The Gamma((chi+1)/2, 1) of depleted_sign for chi = 0 (shape 1/2: rand_distr's small-shape
/// branch), 1 and 3, three draws each from a fresh trainset stream.
fn gammas(seed: i64) -> Vec<f64> {
    let mut out = Vec::new();
    for chi in [0.0, 1.0, 3.0] {
        let g = Gamma::new((chi + 1.0) / 2.0, 1.0).unwrap();
        let mut r = stream(seed, Stream::Trainset);
        out.extend((0..3).map(|_| g.sample(&mut r)));
    }
    out
}

/// Two depleted_sign points (chi = 1, d = 3): the bool, Gamma and normal draws in the order
/// `data::synthetic` makes them.
fn depleted(seed: i64) -> (Vec<f64>, Vec<f64>) {
    let d = depleted_sign::<f64>(2, 3, 1.0, &mut stream(seed, Stream::Trainset));
    (d.x, d.y)
}

/// The image split (`SliceRandom::shuffle` of the testset, then the trainset stream): the first
/// test and training indices of the paper's split (70,000 MNIST images, pte = 32768, P = 1024),
/// and a whole split of a pool of 10.
fn split(seed_trainset: i64, seed_testset: i64) -> [Vec<usize>; 4] {
    let (test, train) = split_indices(70_000, 1024, 32_768, seed_trainset, seed_testset);
    let (small_test, small_train) = split_indices(10, 4, 3, seed_trainset, seed_testset);
    [
        test[..6].to_vec(),
        train[..6].to_vec(),
        small_test,
        small_train,
    ]
}

/// Bootstrap over 5 seeds as sgdnoise-analysis draws it: `random_range(0..n_seeds)`.
fn bootstrap(seed: i64) -> Vec<usize> {
    let mut r = stream(seed, Stream::Bootstrap);
    (0..8).map(|_| r.random_range(0..5usize)).collect()
}

const PERCEPTRON_TOML: &str = r#"
arch = "linear"
dim = 32
chi = 1.0
ptr = 256
pte = 512
alpha = 32768.0
batch = 2
temp = 1.0
seed_init = 0
"#;

fn perceptron_run() -> Summary {
    sgdnoise_core::run::execute(&spec(PERCEPTRON_TOML), None, &mut |_| true).unwrap()
}

/// Prints every self-pinned number of this file as Rust source (the PyTorch ones come from
/// bench/golden_torch.py).
#[test]
#[ignore = "prints the golden numbers; run on purpose"]
fn print_golden_numbers() {
    println!("const RAW_U64: [[[u64; 4]; 5]; 2] = [");
    for seed in SEEDS {
        println!("    // seed {seed}: {STREAMS:?}");
        println!("    [");
        for s in STREAMS {
            println!("        {:?},", raw_u64(seed, s));
        }
        println!("    ],");
    }
    println!("];");
    let f = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.17e}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for seed in SEEDS {
        let tag = if seed < 0 { "M" } else { "" };
        println!("// seed {seed}");
        println!(
            "const NORMALS{tag}{}: [f64; 4] = [{}];",
            seed.abs(),
            f(&normals(seed))
        );
        let (raw, batches) = batch_draws(seed);
        println!("const RANGE{tag}{}: [usize; 4] = {raw:?};", seed.abs());
        println!("const BATCHES{tag}{}: [u32; 8] = {batches:?};", seed.abs());
        println!(
            "const GAMMAS{tag}{}: [f64; 9] = [{}];",
            seed.abs(),
            f(&gammas(seed))
        );
        let (x, y) = depleted(seed);
        println!(
            "const DEPLETED_X{tag}{}: [f64; 6] = [{}];",
            seed.abs(),
            f(&x)
        );
        println!(
            "const DEPLETED_Y{tag}{}: [f64; 2] = [{}];",
            seed.abs(),
            f(&y)
        );
        println!(
            "const BOOTSTRAP{tag}{}: [usize; 8] = {:?};",
            seed.abs(),
            bootstrap(seed)
        );
    }
    println!(
        "// split (seed_trainset, seed_testset) = (-2, -1): {:?}",
        split(-2, -1)
    );
    println!(
        "// split (seed_trainset, seed_testset) = (5, 6): {:?}",
        split(5, 6)
    );
    let s = perceptron_run();
    println!("// perceptron: id {}", s.id);
    println!(
        "// stop {} steps {} steps_simulated {} full_checks {}",
        s.stop_reason, s.steps, s.steps_simulated, s.full_checks
    );
    for (name, v) in [
        ("t_star", s.t_star),
        ("lr", s.lr),
        ("train_err", s.train_err),
        ("test_err", s.test_err),
        ("train_loss", s.train_loss),
        ("test_loss", s.test_loss),
        ("test_min_margin", s.last.test.min_margin),
        ("rel_weight_change", s.rel_weight_change),
        (
            "rel_weight_change_layer_mean",
            s.rel_weight_change_layer_mean,
        ),
        ("signal", s.signal.unwrap()),
        ("noise", s.noise.unwrap()),
    ] {
        println!("// {name} = {v:.17e}");
    }
    println!("// test unfitted {}", s.last.test.unfitted);
}

// ---------------------------------------------------------------------------------------------
// Random streams (SPEC §7). Every number below was printed by `print_golden_numbers`:
//   cargo test --release -p sgdnoise-core --test it -- --ignored --nocapture print_golden
// with rand 0.9.5, rand_chacha 0.9.0, rand_distr 0.5.1 (the versions pinned in Cargo.toml).
// Arrays indexed by seed follow SEEDS = [0, -1].

/// `next_u64` of each stream, in STREAMS order (Init, Batch, Trainset, Testset, Bootstrap).
const RAW_U64: [[[u64; 4]; 5]; 2] = [
    // seed 0
    [
        [
            15409350052135148902,
            16627767835910838799,
            2883208539217561835,
            12187567542646401695,
        ],
        [
            5312807682473801215,
            16589592119020788482,
            9865088386658435817,
            13231093222555787624,
        ],
        [
            5544437171747700078,
            1515951869991685496,
            4941249155674396658,
            17181117722519395547,
        ],
        [
            3875751637321703230,
            11284302353556324574,
            18044843915383791707,
            13753018129840206197,
        ],
        [
            7861533600988971638,
            5767610484364782988,
            8669201688619346576,
            15391221962975065177,
        ],
    ],
    // seed -1
    [
        [
            8560332473046629944,
            11906303597003028719,
            5509767430448767258,
            17537176883295007771,
        ],
        [
            1651762222068887767,
            636041459450171154,
            1604201576381634328,
            12568717084584945784,
        ],
        [
            16374365242036589025,
            15558980627081559096,
            4539732998709424640,
            16777335586903173317,
        ],
        [
            1414529494787630237,
            5509105564792495486,
            4939697053572180569,
            16577252308868832657,
        ],
        [
            1285583249276162032,
            1168589722524522432,
            8434439020578622933,
            15353203320912646017,
        ],
    ],
];

#[test]
fn raw_u64_draws_of_every_stream_are_pinned() {
    for (s, seed) in SEEDS.into_iter().enumerate() {
        for (k, st) in STREAMS.into_iter().enumerate() {
            assert_eq!(raw_u64(seed, st), RAW_U64[s][k], "seed {seed}, {st:?}");
        }
    }
}

/// StandardNormal f64 draws of the init stream.
const NORMALS: [[f64; 4]; 2] = [
    [
        1.15167420619488881e0,
        2.19376209826385615e0,
        -4.81636283494105533e-1,
        4.26588015381156260e-1,
    ],
    [
        -1.51212215533420069e-1,
        1.88113450952979322e-1,
        -1.00399088657739610e0,
        2.23196324366788046e0,
    ],
];

#[test]
fn standard_normal_init_draws_are_pinned_and_are_the_initial_weights() {
    for (s, seed) in SEEDS.into_iter().enumerate() {
        assert_bits(
            &normals(seed),
            &NORMALS[s],
            &format!("normals, seed {seed}"),
        );
        // model::build draws the weights from the init stream in order: the perceptron's are
        // exactly these draws (f64), or these draws rounded to f32.
        let toml = format!("arch = \"linear\"\ndim = 4\ntemp = 1.0\nseed_init = {seed}\n");
        let w64 = model::build::<f64>(&spec(&toml)).params().to_vec();
        assert_bits(
            &w64,
            &NORMALS[s],
            &format!("perceptron weights, seed {seed}"),
        );
        let w32 = model::build::<f32>(&spec(&toml)).params().to_vec();
        let want32: Vec<f32> = NORMALS[s].iter().map(|&v| v as f32).collect();
        assert_eq!(w32, want32, "f32 perceptron weights, seed {seed}");
    }
}

/// `random_range(i..1024usize)` for i = 0..4, then four batches of `BatchSampler` (P = 256, B = 2).
const RANGE: [[usize; 4]; 2] = [[327, 295, 29, 921], [335, 92, 405, 38]];
const BATCHES: [[u32; 8]; 2] = [
    [81, 74, 6, 230, 196, 137, 64, 183],
    [83, 23, 100, 9, 148, 1, 181, 174],
];

#[test]
fn batch_index_draws_are_pinned() {
    for (s, seed) in SEEDS.into_iter().enumerate() {
        let (raw, batches) = batch_draws(seed);
        assert_eq!(raw, RANGE[s], "random_range, seed {seed}");
        assert_eq!(batches, BATCHES[s], "BatchSampler, seed {seed}");
    }
}

/// Gamma((chi+1)/2, 1) draws for chi = 0, 1, 3 (three each), then two depleted_sign points.
const GAMMAS: [[f64; 9]; 2] = [
    [
        2.16426633665295631e-2,
        1.57444023969432689e0,
        4.61682234158046836e-2,
        5.73267495105110658e-1,
        1.45674680595320599e-1,
        9.54672546777088349e-2,
        9.49766733274849062e-1,
        1.33172083811383546e0,
        2.42262203353576355e0,
    ],
    [
        2.77878177324445419e0,
        2.47969752506826469e0,
        1.09009401731565791e0,
        5.17794413267932851e-1,
        2.42186354717853902e0,
        2.14035555624567309e0,
        2.62180927465457847e0,
        3.74069483039235218e0,
        2.66936677460830962e0,
    ],
];
const DEPLETED_X: [[f64; 6]; 2] = [
    [
        -1.89100380751609043e0,
        -5.67036752142521916e-1,
        -6.37945285152879404e-1,
        1.80444938535079413e0,
        -1.42013968451913386e0,
        3.54499521331910372e-1,
    ],
    [
        7.53276221950685276e-2,
        -1.28496264397514359e0,
        -2.14520856378588830e-2,
        1.59583807083773022e0,
        8.61944063267993332e-1,
        6.58413831547180251e-1,
    ],
];
const DEPLETED_Y: [[f64; 2]; 2] = [[-1.0, 1.0], [1.0, 1.0]];

#[test]
fn gamma_draws_and_depleted_sign_points_are_pinned() {
    for (s, seed) in SEEDS.into_iter().enumerate() {
        assert_bits(&gammas(seed), &GAMMAS[s], &format!("gammas, seed {seed}"));
        let (x, y) = depleted(seed);
        assert_bits(&x, &DEPLETED_X[s], &format!("depleted_sign x, seed {seed}"));
        assert_bits(&y, &DEPLETED_Y[s], &format!("depleted_sign y, seed {seed}"));
    }
}

#[test]
fn image_split_shuffles_are_pinned() {
    // (seed_trainset, seed_testset) = (-2, -1): the defaults of seed_init = 0.
    assert_eq!(
        split(-2, -1),
        [
            vec![18687, 29845, 5811, 20353, 24851, 7567],
            vec![1904, 24120, 6794, 19583, 57669, 11197],
            vec![4, 8, 6],
            vec![5, 3, 1, 0],
        ]
    );
    assert_eq!(
        split(5, 6),
        [
            vec![66938, 69615, 56299, 60054, 35711, 64647],
            vec![8690, 31511, 26632, 45007, 27717, 5706],
            vec![9, 2, 3],
            vec![0, 4, 5, 7],
        ]
    );
}

/// `random_range(0..5usize)`, eight draws of the bootstrap stream.
const BOOTSTRAP: [[usize; 8]; 2] = [[2, 2, 2, 1, 0, 2, 1, 4], [1, 0, 1, 0, 0, 2, 1, 4]];

#[test]
fn bootstrap_index_draws_are_pinned() {
    for (s, seed) in SEEDS.into_iter().enumerate() {
        assert_eq!(bootstrap(seed), BOOTSTRAP[s], "seed {seed}");
    }
}

// ---------------------------------------------------------------------------------------------
// One perceptron run, end to end (data, init, batches, SGD, the exact stop, observables).

/// Pinned from `print_golden_numbers` (command at the top of the file); the same numbers are in
/// the `summary.json` of
///   sgdnoise run --arch linear --dim 32 --chi 1 --ptr 256 --pte 512 --alpha 32768 --batch 2 \
///     --temp 1 --seed-init 0 --out DIR
/// (f32, the default dtype; serde_json writes f64 so that it reads back exactly).
#[test]
fn perceptron_run_summary_is_pinned() {
    let s = perceptron_run();
    assert_eq!(s.stop_reason, sgdnoise_core::train::StopReason::ZeroLoss);
    assert_eq!(s.steps, 934);
    assert_eq!(s.last.train.unfitted, 0);
    assert_eq!(s.last.test.unfitted, 21);
    let got = [
        s.t_star,
        s.lr,
        s.train_err,
        s.test_err,
        s.train_loss,
        s.test_loss,
        s.last.test.min_margin,
        s.rel_weight_change,
        s.rel_weight_change_layer_mean,
        s.signal.unwrap(),
        s.noise.unwrap(),
    ];
    let want = [
        1868.0,                 // t_star = lr * steps
        2.0,                    // lr = T B h
        0.0,                    // train_err
        4.10156250000000000e-2, // test_err = 21 / 512
        0.0,                    // train_loss
        6.99510384583845735e-3, // test_loss
        -1.71370156250000000e4, // test min margin alpha y pred
        1.29576513767250234e0,  // rel_weight_change
        1.29576513767250234e0,  // rel_weight_change_layer_mean (one layer)
        5.73728573322296143e0,  // signal w1 - w0_1
        1.75988447788239188e0,  // noise ||w_perp - w0_perp||
    ];
    assert_bits(&got, &want, "perceptron summary");
    // The run's identity names its directory in a campaign store: the hash of the settings that
    // differ from their declared default, at identity schema 1 (settings/identity.rs); printed
    // by the same `sgdnoise run` command as `"id"` in summary.json.
    assert_eq!(s.id, "566777484e75452a");
}

// ---------------------------------------------------------------------------------------------
// Tiny nets against PyTorch

/// The closed-form weights, inputs and output gradients of bench/golden_torch.py.
fn twin_weight(k: usize) -> f64 {
    std::f64::consts::SQRT_2 * (0.7 * k as f64 + 0.3).sin()
}
fn twin_inputs(n: usize, dim: usize) -> Vec<f64> {
    (0..n)
        .flat_map(|i| (0..dim).map(move |j| (0.37 * j as f64 + 1.3 * i as f64 + 0.1).cos()))
        .collect()
}
const TWIN_C: [f64; 3] = [1.0, -0.75, 0.5];

/// What PyTorch printed for one net.
struct Twin<'a> {
    layers: &'a [(&'a str, usize, usize)],
    out: &'a [f64],
    /// (flat index, gradient entry).
    grad: Vec<(usize, f64)>,
    grad_norm: f64,
    layer_grad_norms: &'a [f64],
}

/// Relative difference |got - want| / |want|; an exact zero must stay an exact zero (a dead ReLU
/// unit gives exactly 0 on both sides).
fn rel(got: f64, want: f64) -> f64 {
    if want == 0.0 {
        if got == 0.0 {
            0.0
        } else {
            f64::INFINITY
        }
    } else {
        (got - want).abs() / want.abs()
    }
}

/// Builds the net of `toml` in f64, sets the twin's weights, runs forward and backward and
/// compares with `twin`; returns the largest relative difference seen.
///
/// Tolerance: 1e-12 relative, entry by entry. Both sides compute in f64 the same mathematics in
/// different orders (gemm's blocking and im2col here, PyTorch's kernels there), so they differ
/// by rounding only: a few 1e-16 per operation, amplified where a sum cancels. Measured
/// (torch 2.15): mlp-relu 6.8e-16; mlp-gelu 3.9e-14, all of it a uniform 1e-14 from the GELU
/// constant c (sgdnoise's Simpson quadrature gives c 4.5e-15 relative below the twin's
/// 40-digit mpmath value; with sgdnoise's c the twin's outputs agree to the last bit or so);
/// mnas-gelu 1.7e-13 (the same c, met a dozen times along the path); mnas-relu 2.7e-13 at
/// block1.proj's last entry, a sum of 147 terms that cancels 200-fold (Σ|terms| / |sum|).
/// A real error (a wrong scale, layout or padding) moves numbers by far more than 1e-12.
fn check_against_torch(name: &str, toml: &str, twin: &Twin) -> f64 {
    let spec = spec(toml);
    let mut net = model::build::<f64>(&spec);
    let layers: Vec<(&str, usize, usize)> = net
        .layers()
        .iter()
        .map(|l| (l.name.as_str(), l.offset, l.len))
        .collect();
    assert_eq!(layers, twin.layers, "{name}: parameter layout");
    for (k, w) in net.params_mut().iter_mut().enumerate() {
        *w = twin_weight(k);
    }
    let n = TWIN_C.len();
    let x = twin_inputs(n, net.input_dim());
    let mut out = vec![0.0; n];
    net.forward(&x, n, &mut out);
    let mut grad = vec![0.0; net.params().len()];
    net.backward(&x, &TWIN_C, Target::Gradient(&mut grad));

    let mut worst = 0.0f64;
    let mut check = |what: String, got: f64, want: f64| {
        let r = rel(got, want);
        worst = worst.max(r);
        assert!(
            r <= 1e-12,
            "{name} {what}: sgdnoise {got:.17e}, PyTorch {want:.17e} (relative {r:.1e})"
        );
    };
    for (i, (&g, &w)) in out.iter().zip(twin.out).enumerate() {
        check(format!("f(w, x_{i})"), g, w);
    }
    for &(i, w) in &twin.grad {
        check(format!("gradient[{i}]"), grad[i], w);
    }
    let norm = |v: &[f64]| v.iter().map(|g| g * g).sum::<f64>().sqrt();
    check("gradient norm".into(), norm(&grad), twin.grad_norm);
    for (l, &w) in net.layers().iter().zip(twin.layer_grad_norms) {
        check(
            format!("{} gradient norm", l.name),
            norm(&grad[l.range()]),
            w,
        );
    }
    eprintln!("{name}: largest relative difference to PyTorch {worst:.2e}");
    worst
}

fn dense(grad: &[f64]) -> Vec<(usize, f64)> {
    grad.iter().copied().enumerate().collect()
}

const MLP_TOML: &str = r#"
arch = "mlp"
depth = 2
width = 4
dataset = "depleted_sign"
dim = 6
ptr = 3
batch = 3
temp = 1.0
dtype = "f64"
"#;

const MNAS_RELU_TOML: &str = r#"
arch = "mnas"
act = "relu"
width = 1
dataset = "mnist_parity"
ptr = 3
batch = 3
temp = 1.0
dtype = "f64"
"#;

const MNAS_GELU_TOML: &str = r#"
arch = "mnas"
act = "gelu"
width = 1
dataset = "cifar_animal"
ptr = 3
batch = 3
temp = 1.0
dtype = "f64"
"#;

#[test]
fn mlp_relu_forward_and_gradient_match_pytorch() {
    let toml = format!("{MLP_TOML}act = \"relu\"\n");
    check_against_torch(
        "mlp-relu",
        &toml,
        &Twin {
            layers: &MLP_RELU_LAYERS,
            out: &MLP_RELU_OUT,
            grad: dense(&MLP_RELU_GRAD),
            grad_norm: MLP_RELU_GRAD_NORM,
            layer_grad_norms: &MLP_RELU_LAYER_GRAD_NORMS,
        },
    );
}

#[test]
fn mlp_gelu_forward_and_gradient_match_pytorch() {
    let toml = format!("{MLP_TOML}act = \"gelu\"\n");
    check_against_torch(
        "mlp-gelu",
        &toml,
        &Twin {
            layers: &MLP_GELU_LAYERS,
            out: &MLP_GELU_OUT,
            grad: dense(&MLP_GELU_GRAD),
            grad_norm: MLP_GELU_GRAD_NORM,
            layer_grad_norms: &MLP_GELU_LAYER_GRAD_NORMS,
        },
    );
}

#[test]
fn mnas_relu_forward_and_gradient_match_pytorch() {
    check_against_torch(
        "mnas-relu",
        MNAS_RELU_TOML,
        &Twin {
            layers: &MNAS_RELU_LAYERS,
            out: &MNAS_RELU_OUT,
            grad: MNAS_RELU_GRAD.to_vec(),
            grad_norm: MNAS_RELU_GRAD_NORM,
            layer_grad_norms: &MNAS_RELU_LAYER_GRAD_NORMS,
        },
    );
}

#[test]
fn mnas_gelu_forward_and_gradient_match_pytorch() {
    check_against_torch(
        "mnas-gelu",
        MNAS_GELU_TOML,
        &Twin {
            layers: &MNAS_GELU_LAYERS,
            out: &MNAS_GELU_OUT,
            grad: MNAS_GELU_GRAD.to_vec(),
            grad_norm: MNAS_GELU_GRAD_NORM,
            layer_grad_norms: &MNAS_GELU_LAYER_GRAD_NORMS,
        },
    );
}

// ---------------------------------------------------------------------------------------------
// PyTorch's numbers, pasted unchanged from the output of
//   /work/venv-torch/bin/python bench/golden_torch.py mlp-relu mlp-gelu mnas-relu mnas-gelu
// (any Python with PyTorch will do; that is the venv they came from).
// torch 2.15.0+cu132, float64
// mlp-relu: 44 parameters; activation c = 0.7071067811865475; smallest nonzero |pre-activation| 3.401e-02
const MLP_RELU_LAYERS: [(&str, usize, usize); 3] = [("W1", 0, 24), ("W2", 24, 16), ("W3", 40, 4)];
const MLP_RELU_OUT: [f64; 3] = [
    -9.09192118475584454e-01,
    -8.84466476903203791e-01,
    -9.70660479226929329e-01,
];
const MLP_RELU_GRAD: [f64; 44] = [
    -1.78932214512612014e-01,
    -1.60331276755442176e-01,
    -1.20030252837443771e-01,
    -6.34836972852681064e-02,
    1.65507887898174257e-03,
    6.65698478812874195e-02,
    1.28942526069099977e-01,
    1.42258801297988347e-01,
    1.36321015137399554e-01,
    1.11932819088755159e-01,
    7.23950410770396180e-02,
    2.30589338760371389e-02,
    -1.06577737299940453e-01,
    -1.38839675207741431e-01,
    -1.52310314402534674e-01,
    -1.45166467062929905e-01,
    -1.18375019413039809e-01,
    -7.55620682079145289e-02,
    -1.06594702189976909e-01,
    -9.55136264536674967e-02,
    -7.15052294515313575e-02,
    -3.78189350893258364e-02,
    9.85974720575229831e-04,
    3.96574374774629479e-02,
    0.00000000000000000e+00,
    0.00000000000000000e+00,
    0.00000000000000000e+00,
    0.00000000000000000e+00,
    -2.94056343358913785e-01,
    -8.71147184220009696e-02,
    1.55371722748533780e-01,
    -3.00211840990135870e-01,
    0.00000000000000000e+00,
    0.00000000000000000e+00,
    0.00000000000000000e+00,
    0.00000000000000000e+00,
    -3.76621501019275662e-01,
    -1.11574794266280530e-01,
    1.98997004346479184e-01,
    -3.84505339643228916e-01,
    0.00000000000000000e+00,
    3.60370826710449399e-01,
    0.00000000000000000e+00,
    3.26909248187790713e-01,
];
const MLP_RELU_GRAD_NORM: f64 = 1.03168514556307223e+00;
const MLP_RELU_LAYER_GRAD_NORMS: [f64; 3] = [
    5.26853838978441957e-01,
    7.41661973296795285e-01,
    4.86556049489346387e-01,
];

// mlp-gelu: 44 parameters; activation c = 0.6520687931753056; smallest nonzero |pre-activation| 3.401e-02
const MLP_GELU_LAYERS: [(&str, usize, usize); 3] = [("W1", 0, 24), ("W2", 24, 16), ("W3", 40, 4)];
const MLP_GELU_OUT: [f64; 3] = [
    -6.35965227500130070e-01,
    -5.09360276448836191e-01,
    -5.68143243108506169e-01,
];
const MLP_GELU_GRAD: [f64; 44] = [
    -2.79312226808262398e-01,
    -2.65847775878281456e-01,
    -2.16402075631469765e-01,
    -1.37667369635967568e-01,
    -4.03000309870630916e-02,
    6.25217277999486620e-02,
    2.14894499899671909e-01,
    2.36975861576722568e-01,
    2.26983652093385696e-01,
    1.86270270127657206e-01,
    1.20346080933489627e-01,
    3.81336142539614800e-02,
    1.57224266539844060e-02,
    -5.12456688928303872e-02,
    -1.11277903559300978e-01,
    -1.56249196007264390e-01,
    -1.80072892773758514e-01,
    -1.79524568263452283e-01,
    -1.68492147249066276e-01,
    -1.62473748844900762e-01,
    -1.34465290733389448e-01,
    -8.82575863263085486e-02,
    -3.01046316450159328e-02,
    3.21228437022182955e-02,
    -8.29654494865458706e-04,
    -4.40048447486704279e-04,
    3.09135197743292236e-03,
    -8.14877370273775817e-04,
    -3.38152556929172232e-01,
    -7.60909983834849174e-02,
    1.64861197464635539e-01,
    -3.44571014767570794e-01,
    4.67995624798365484e-02,
    7.65305866243932986e-03,
    -1.27524422759337456e-02,
    4.78128451355330428e-02,
    -4.55878740369708046e-01,
    -1.05950748711206216e-01,
    2.66759409033996975e-01,
    -4.64030739313330720e-01,
    -6.84885605798781216e-02,
    3.01662908480605507e-01,
    -4.07291444035536229e-02,
    2.61539045352409460e-01,
];
const MLP_GELU_GRAD_NORM: f64 = 1.24637960839159456e+00;
const MLP_GELU_LAYER_GRAD_NORMS: [f64; 3] = [
    7.81933084658350430e-01,
    8.81073237932059938e-01,
    4.07127410930505917e-01,
];

// mnas-relu: 904 parameters; activation c = 0.7071067811865475; smallest nonzero |pre-activation| 2.923e-07
const MNAS_RELU_LAYERS: [(&str, usize, usize); 18] = [
    ("stem.conv", 0, 100),
    ("stem.dw", 100, 100),
    ("stem.proj", 200, 8),
    ("block1.expand", 208, 12),
    ("block1.dw", 220, 150),
    ("block1.proj", 370, 6),
    ("block2.expand", 376, 3),
    ("block2.dw", 379, 75),
    ("block2.proj", 454, 3),
    ("block3.expand", 457, 3),
    ("block3.dw", 460, 75),
    ("block3.proj", 535, 9),
    ("block4.expand", 544, 27),
    ("block4.dw", 571, 225),
    ("block4.proj", 796, 27),
    ("head.conv", 823, 60),
    ("readout.w", 883, 20),
    ("readout.b", 903, 1),
];
const MNAS_RELU_OUT: [f64; 3] = [
    -5.71552510265455269e-02,
    -5.64545668614743062e-02,
    -5.72925999632942079e-02,
];
const MNAS_RELU_GRAD: [(usize, f64); 44] = [
    (0, 1.65450232744368910e-03),
    (97, -8.87268847515128691e-04),
    (99, 1.35737151834455327e-03),
    (100, -3.26299507924555389e-04),
    (194, 1.36528210069446318e-03),
    (199, 7.80195406655217333e-04),
    (200, -3.64455325522877434e-03),
    (207, 3.25706600319962229e-03),
    (208, -7.59784894030594024e-04),
    (219, 1.95469727151856477e-04),
    (220, 6.49088706195354313e-05),
    (291, -1.36906065133549196e-05),
    (369, -1.79466048739189177e-05),
    (370, -6.21539073039922797e-04),
    (375, -1.48414432397762813e-06),
    (376, 1.06695509498230261e-04),
    (378, 2.48075445066879942e-04),
    (379, 6.04392822238701032e-05),
    (388, -1.77584264238021748e-05),
    (453, -2.49243607639520530e-06),
    (454, 5.71146935597029371e-05),
    (456, -2.59057220526064081e-04),
    (457, -2.16272573849902268e-04),
    (459, -3.89130043368683654e-04),
    (460, -2.08379270238893890e-04),
    (485, -2.87268147026817067e-05),
    (534, -6.69977491345961624e-05),
    (535, -3.77237482619944436e-05),
    (543, 1.51009438842069824e-04),
    (544, 0.00000000000000000e+00),
    (570, 0.00000000000000000e+00),
    (571, 0.00000000000000000e+00),
    (582, 0.00000000000000000e+00),
    (679, 0.00000000000000000e+00),
    (776, -1.00906183774226006e-04),
    (795, 0.00000000000000000e+00),
    (796, 0.00000000000000000e+00),
    (822, 0.00000000000000000e+00),
    (823, 0.00000000000000000e+00),
    (873, 0.00000000000000000e+00),
    (882, 0.00000000000000000e+00),
    (883, 0.00000000000000000e+00),
    (902, 0.00000000000000000e+00),
    (903, 3.75000000000000056e-02),
];
const MNAS_RELU_GRAD_NORM: f64 = 4.06356848225817371e-02;
const MNAS_RELU_LAYER_GRAD_NORMS: [f64; 18] = [
    8.74767441484905657e-03,
    7.88306137448007219e-03,
    7.86344739297460855e-03,
    1.03460474310784994e-03,
    1.05211627249900521e-03,
    7.71146000770361428e-04,
    2.80036144569828385e-04,
    4.37253952190218677e-04,
    2.66222930739813169e-04,
    5.54668436649544453e-04,
    9.01258516911976923e-04,
    6.55241583067766361e-04,
    2.87943807925111154e-03,
    1.20761205423854079e-03,
    5.37043933418686163e-03,
    6.28328899512590219e-04,
    9.28941446712110088e-04,
    3.75000000000000056e-02,
];

// mnas-gelu: 1104 parameters; activation c = 0.6520687931753056; smallest nonzero |pre-activation| 4.641e-08
const MNAS_GELU_LAYERS: [(&str, usize, usize); 18] = [
    ("stem.conv", 0, 300),
    ("stem.dw", 300, 100),
    ("stem.proj", 400, 8),
    ("block1.expand", 408, 12),
    ("block1.dw", 420, 150),
    ("block1.proj", 570, 6),
    ("block2.expand", 576, 3),
    ("block2.dw", 579, 75),
    ("block2.proj", 654, 3),
    ("block3.expand", 657, 3),
    ("block3.dw", 660, 75),
    ("block3.proj", 735, 9),
    ("block4.expand", 744, 27),
    ("block4.dw", 771, 225),
    ("block4.proj", 996, 27),
    ("head.conv", 1023, 60),
    ("readout.w", 1083, 20),
    ("readout.b", 1103, 1),
];
const MNAS_GELU_OUT: [f64; 3] = [
    -2.97403176662104432e-02,
    -2.98465343087906468e-02,
    -3.00958270005184450e-02,
];
const MNAS_GELU_GRAD: [(usize, f64); 46] = [
    (0, -7.79039143602195679e-05),
    (97, 9.70011699567614111e-06),
    (194, 1.13273148154674345e-04),
    (291, 1.21259406529662390e-04),
    (299, 6.65527911749995475e-05),
    (300, 9.62421134709590942e-06),
    (388, 6.53546194080503212e-07),
    (399, -4.03219575801284206e-05),
    (400, -1.57000756725244147e-05),
    (407, 1.26950177712468760e-04),
    (408, -6.90711451360435675e-05),
    (419, -1.91933376609678617e-05),
    (420, 5.13938076501342280e-06),
    (485, -4.01962306174769306e-06),
    (569, 1.26641080295176564e-05),
    (570, 2.34463328325343497e-04),
    (575, 8.71725590756785185e-05),
    (576, -1.05668142184828193e-04),
    (578, 1.05824779256790492e-04),
    (579, -1.46262423570433817e-05),
    (582, 1.99364067456503515e-06),
    (653, 3.68994182092515194e-06),
    (654, 2.16726719731194820e-04),
    (656, 4.74636831352979324e-05),
    (657, 2.96521224879888544e-05),
    (659, 2.18071276773000372e-05),
    (660, -1.29737224041059049e-05),
    (679, -7.29718464794586197e-05),
    (734, -7.54949056091971222e-05),
    (735, -8.30855051207460472e-05),
    (743, 6.59019850492213226e-06),
    (744, 3.59473038720050189e-06),
    (770, -4.44427473128924824e-05),
    (771, 8.40034762746445859e-06),
    (776, 1.70756536215732779e-06),
    (873, -4.30613553141250460e-05),
    (970, -9.13830254775715625e-06),
    (995, -4.12343925426946506e-05),
    (996, -2.80220077119043882e-06),
    (1022, 2.03061089107397594e-05),
    (1023, -1.61277017883426993e-07),
    (1067, 2.19542137254664461e-05),
    (1082, -3.10663737854132831e-05),
    (1083, 2.81910060600510256e-05),
    (1102, -2.94323781935225571e-06),
    (1103, 3.75000000000000056e-02),
];
const MNAS_GELU_GRAD_NORM: f64 = 3.75639911560852885e-02;
const MNAS_GELU_LAYER_GRAD_NORMS: [f64; 18] = [
    1.48539960862962271e-03,
    1.87410348859453799e-04,
    4.22910185837483505e-04,
    2.69136357509651013e-04,
    2.07230804360585685e-04,
    3.03547711236391274e-04,
    1.52927822900125558e-04,
    9.94500147456858107e-05,
    3.10669136048432899e-04,
    3.02560463922059897e-04,
    8.72347871568413024e-04,
    2.98521464541723878e-04,
    5.51775383077989586e-04,
    3.87129384857199060e-04,
    7.83784521950128994e-04,
    1.32622513317566423e-04,
    1.33605120461150622e-04,
    3.75000000000000056e-02,
];
