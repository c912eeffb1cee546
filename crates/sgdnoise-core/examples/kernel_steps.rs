//! A fixed number of SGD steps of one model, for counting its CPU time (or cycles, where the
//! machine has hardware counters) with `perf stat`: wall time is useless on a shared machine.
//!
//! ```text
//! cargo build --release -p sgdnoise-core --example kernel_steps
//! perf stat -e user_time target/release/examples/kernel_steps mnas 64 16 200 cifar_animal
//! ```
//! Arguments: arch (mlp or mnas), width h, batch B, steps, dataset (for the input shape only;
//! mlp: mnist_parity, mnas: cifar_animal by default), dtype (f32 or f64, default f32). The step
//! is the one `sgdnoise bench` times (`bench::bench_steps`): forward of B random inputs, then
//! backward of the hinge gradient with every point unfitted into the in-place update. Set-up is
//! counted too: run it twice with two step counts and take the difference (bench/kernels-cycles.sh
//! does). Prints the FLOPs of one step (`bench::step_flops`) and a hash of the weights after the
//! steps (two builds train bitwise alike when their hashes agree).

use sgdnoise_core::bench;
use sgdnoise_core::model::{self, Target};
use sgdnoise_core::numeric::real::Real;
use sgdnoise_core::settings::{Arch, DatasetName, Dtype, RunConfig, RunSpec};

fn steps<R: Real>(spec: &RunSpec, n: usize) {
    let mut m = model::build::<R>(spec);
    let (b, d) = (spec.batch, spec.input_dim);
    // A fixed pseudo-random input (no rng stream: nothing here is a result).
    let x: Vec<R> = (0..b * d)
        .map(|i| R::from_f64(((i as f64) * 0.618_033_988_7).fract() * 2.0 - 1.0))
        .collect();
    let c: Vec<R> = (0..b)
        .map(|i| R::from_f64(if i % 2 == 0 { 1.0 } else { -1.0 } / b as f64))
        .collect();
    let mut out = vec![R::ZERO; b];
    let lr = R::from_f64(1e-6);
    for _ in 0..n {
        m.forward(&x, b, &mut out);
        m.backward(&x, &c, Target::Update { lr });
    }
    // FNV-1a over the bits of the weights after the steps: equal hashes, bitwise equal training.
    let hash = m.params().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, v| {
        (h ^ v.to_f64().to_bits()).wrapping_mul(0x0100_0000_01b3)
    });
    if n > 0 {
        println!("params_hash {hash:016x} after {n} steps");
    }
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| a.get(i).map(String::as_str);
    let usage = "usage: kernel_steps mlp|mnas WIDTH BATCH STEPS [DATASET] [f32|f64]";
    let num = |i: usize| -> usize {
        arg(i)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{usage}"))
    };
    let arch = match arg(0) {
        Some("mlp") => Arch::Mlp,
        Some("mnas") => Arch::Mnas,
        _ => panic!("{usage}"),
    };
    let dataset = match arg(4) {
        Some("mnist_parity") => DatasetName::MnistParity,
        Some("cifar_animal") => DatasetName::CifarAnimal,
        Some("fashion_parity") => DatasetName::FashionParity,
        None if arch == Arch::Mlp => DatasetName::MnistParity,
        None => DatasetName::CifarAnimal,
        Some(o) => panic!("unknown dataset {o}; {usage}"),
    };
    let dtype = match arg(5) {
        None | Some("f32") => Dtype::F32,
        Some("f64") => Dtype::F64,
        Some(o) => panic!("unknown dtype {o}; {usage}"),
    };
    let spec = RunConfig {
        arch: Some(arch),
        dataset: Some(dataset),
        width: Some(num(1)),
        batch: Some(num(2)),
        dtype: Some(dtype),
        temp: Some(1.0),
        ..Default::default()
    }
    .resolve()
    .expect("settings");
    let n = num(3);
    println!(
        "flops_per_step {}",
        bench::step_flops(&spec).unwrap_or(f64::NAN)
    );
    match dtype {
        Dtype::F32 => steps::<f32>(&spec, n),
        Dtype::F64 => steps::<f64>(&spec, n),
    }
}
