//! SGD steps per second (forward + backward + in-place update) of the mnas CNN on CIFAR-sized
//! input (32×32×3), f32, one thread unless `--threads N`.
//!
//! ```text
//! cargo run --release -p sgdnoise-core --example mnas_bench -- [--width 32,64] [--batch 16,64] [--reps 5] [--secs 2]
//! ```
//! Prints one line per (h, B): the median steps/s over `reps` timing windows of about `secs`
//! seconds each, with the min and max, by wall clock and by the CPU time of the (single) thread
//! (Linux `/proc/self/schedstat`; steps per CPU-second is less sensitive to other processes on a
//! shared machine). See bench/MNAS.md for recorded numbers.
//!
//! `--dump FILE` instead writes a small f64 network (10×8×3 images, h = 2, 3 images: odd and
//! even sizes, asymmetric SAME padding) as JSON: weights in the documented order, inputs,
//! outputs f(x_i) and the gradient of Σ c_i f(x_i), for `bench/pytorch_mnas.py --check FILE`
//! to compare with PyTorch.

use sgdnoise_core::model::mnas::Mnas;
use sgdnoise_core::model::{Model, Target};
use sgdnoise_core::numeric::rng::{stream, Stream};
use sgdnoise_core::settings::Activation;
use std::time::Instant;

fn list(args: &[String], flag: &str, default: &[usize]) -> Vec<usize> {
    match args.iter().position(|a| a == flag) {
        Some(i) => args
            .get(i + 1)
            .unwrap_or_else(|| panic!("{flag} needs a value"))
            .split(',')
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("{flag}: bad number {v}"))
            })
            .collect(),
        None => default.to_vec(),
    }
}

/// Writes the cross-check file of `--dump`.
fn dump(path: &str) {
    let (shape, h, n) = ([10, 8, 3], 2, 3);
    let mut model = Mnas::<f64>::new(
        shape,
        h,
        Activation::Relu,
        n,
        1,
        &mut stream(4, Stream::Init),
    );
    let mut rng = stream(4, Stream::Trainset);
    let x: Vec<f64> = (0..n * 240)
        .map(|_| rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng))
        .collect();
    let c = vec![0.5, -1.0, 2.0];
    let mut out = vec![0.0; n];
    model.forward(&x, n, &mut out);
    let mut grad = vec![0.0; model.params().len()];
    model.backward(&x, &c, Target::Gradient(&mut grad));
    let layers: Vec<_> = model
        .layers()
        .iter()
        .map(|l| serde_json::json!({"name": l.name, "offset": l.offset, "len": l.len}))
        .collect();
    let doc = serde_json::json!({
        "image_shape": shape, "width": h, "n": n, "x": x, "c": c,
        "weights": model.params(), "layers": layers, "out": out, "grad": grad,
    });
    std::fs::write(path, serde_json::to_string(&doc).expect("json")).expect("write dump file");
    println!("wrote {path}");
}

/// CPU seconds the main thread has run (Linux; NaN elsewhere).
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns * 1e-9)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--dump") {
        return dump(args.get(i + 1).expect("--dump FILE"));
    }
    let widths = list(&args, "--width", &[32, 64]);
    let batches = list(&args, "--batch", &[16, 64]);
    let reps = list(&args, "--reps", &[5])[0];
    let threads = list(&args, "--threads", &[1])[0];
    let secs: f64 = list(&args, "--secs", &[2])[0] as f64;
    println!("h\tB\tsteps/s(median)\tmin\tmax\tper-cpu-s(median)\tmin\tmax\treps");
    for &h in &widths {
        for &b in &batches {
            let mut model = Mnas::<f32>::new(
                [32, 32, 3],
                h,
                Activation::Relu,
                b,
                threads,
                &mut stream(0, Stream::Init),
            );
            let mut rng = stream(0, Stream::Trainset);
            let x: Vec<f32> = (0..b * 3072)
                .map(|_| {
                    rand_distr::Distribution::<f64>::sample(&rand_distr::StandardNormal, &mut rng)
                        as f32
                })
                .collect();
            let c: Vec<f32> = (0..b)
                .map(|i| if i % 2 == 0 { 1e-3 } else { -1e-3 })
                .collect();
            let mut out = vec![0.0f32; b];
            let mut step = |model: &mut Mnas<f32>| {
                model.forward(&x, b, &mut out);
                model.backward(&x, &c, Target::Update { lr: 1e-3 });
            };
            // Warm-up and calibration: steps per window.
            let t0 = Instant::now();
            step(&mut model);
            step(&mut model);
            let per_step = t0.elapsed().as_secs_f64() / 2.0;
            let steps = ((secs / per_step).ceil() as usize).max(2);
            let (mut rates, mut cpu_rates): (Vec<f64>, Vec<f64>) = (0..reps)
                .map(|_| {
                    let (t, c0) = (Instant::now(), cpu_seconds());
                    for _ in 0..steps {
                        step(&mut model);
                    }
                    (
                        steps as f64 / t.elapsed().as_secs_f64(),
                        steps as f64 / (cpu_seconds() - c0),
                    )
                })
                .unzip();
            rates.sort_by(|a, b| a.total_cmp(b));
            cpu_rates.sort_by(|a, b| a.total_cmp(b));
            println!(
                "{h}\t{b}\t{:.2}\t{:.2}\t{:.2}\t{:.2}\t{:.2}\t{:.2}\t{reps}x{steps} steps",
                rates[reps / 2],
                rates[0],
                rates[reps - 1],
                cpu_rates[reps / 2],
                cpu_rates[0],
                cpu_rates[reps - 1]
            );
        }
    }
}
