//! CPU time and share of the f32 FMA peak of the matrix products of an mnas step (h = 32,
//! B = 16), alone, with hot caches: whether the gemm crate's blocking for the small-K, small-N
//! products of the 1 × 1 convolutions is where a step loses time (bench/MNAS.md, round three).
//!
//! ```text
//! cargo build --release -p sgdnoise-core --example gemm_shapes
//! target/release/examples/gemm_shapes [PEAK_GFLOPS]    # default 117.1 (`sgdnoise bench --peak`)
//! ```
use sgdnoise_core::bench::thread_cpu_seconds;
use sgdnoise_core::numeric::gemm::{Cpu, Gemm, MatMut, MatRef};

fn main() {
    let peak: f64 = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(117.1);
    let g = Cpu::default();
    // (name, m, k, n, how): dst (m × n) = A (m × k) · B (k × n). "fwd": A row-major, B the
    // weights; "dx": B the transposed weights (stored n × k); "dW": A the transposed
    // activations (stored k × m), B the output gradient.
    let shapes: &[(&str, usize, usize, usize, &str)] = &[
        ("stem.conv", 4096, 75, 128, "fwd"),
        ("stem.conv", 75, 4096, 128, "dW"),
        ("stem.proj", 4096, 128, 64, "fwd"),
        ("stem.proj", 4096, 64, 128, "dx"),
        ("stem.proj", 128, 4096, 64, "dW"),
        ("b1.expand", 4096, 64, 192, "fwd"),
        ("b1.expand", 4096, 192, 64, "dx"),
        ("b1.expand", 64, 4096, 192, "dW"),
        ("b1.proj", 1024, 192, 32, "fwd"),
        ("b1.proj", 192, 1024, 32, "dW"),
        ("b4.expand", 256, 96, 288, "fwd"),
        ("head", 256, 96, 640, "fwd"),
        ("head", 96, 256, 640, "dW"),
    ];
    for &(name, m, k, n, how) in shapes {
        let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut c = vec![0f32; m * n];
        let mut best = f64::MAX;
        for _ in 0..30 {
            let t = thread_cpu_seconds();
            for _ in 0..5 {
                let am = if how == "dW" {
                    MatRef::rows(&a, k, m).t()
                } else {
                    MatRef::rows(&a, m, k)
                };
                let bm = if how == "dx" {
                    MatRef::rows(&b, n, k).t()
                } else {
                    MatRef::rows(&b, k, n)
                };
                g.gemm(0.5, am, bm, 0.0, MatMut::rows(&mut c, m, n));
            }
            best = best.min((thread_cpu_seconds() - t) / 5.0);
        }
        let gflops = 2.0 * (m * n * k) as f64 / best / 1e9;
        println!(
            "{name:10} {how:3} {m:5} x {k:5} x {n:4}: {:.3} ms  {gflops:6.1} GFLOP/s  {:3.0} % of peak",
            best * 1e3,
            100.0 * gflops / peak
        );
        std::hint::black_box(&c);
    }
}
