//! CPU time of the depthwise passes of mnas at B = 16, f32 (forward, weight gradient with the
//! input gradient, per layer), for profiling the kernels.
use sgdnoise_core::bench::thread_cpu_seconds;
use sgdnoise_core::model::conv::DwConv;
use std::time::Instant;

fn main() {
    let h: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(32);
    let reps: usize = std::env::args()
        .nth(2)
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let n = 16;
    let layers = [
        ("stem", DwConv::new(16, 16, 4 * h, 5, 1)),
        ("b1", DwConv::new(16, 16, 6 * h, 5, 2)),
        ("b2", DwConv::new(8, 8, 3 * h, 5, 1)),
        ("b3", DwConv::new(8, 8, 3 * h, 5, 2)),
        ("b4", DwConv::new(4, 4, 9 * h, 5, 1)),
    ];
    let _ = Instant::now();
    for (name, d) in layers {
        let w: Vec<f32> = (0..d.weight_len())
            .map(|i| (i as f32 * 0.37).sin())
            .collect();
        let x: Vec<f32> = (0..n * d.in_len())
            .map(|i| (i as f32 * 0.11).cos())
            .collect();
        let dy: Vec<f32> = (0..n * d.out_len())
            .map(|i| (i as f32 * 0.23).sin())
            .collect();
        let mut out = vec![0f32; n * d.out_len()];
        let mut dw = vec![0f32; d.weight_len()];
        let mut dx = vec![0f32; n * d.in_len()];
        let flops = 2.0 * (n * d.out_len() * d.geom.k * d.geom.k) as f64;
        let mut best = [f64::MAX; 3];
        for _ in 0..reps {
            let t = thread_cpu_seconds();
            d.forward(&w, &x, n, &mut out);
            let t1 = thread_cpu_seconds();
            d.backward(&w, &x, n, &dy, &mut dw, None);
            let t2 = thread_cpu_seconds();
            d.backward(&w, &x, n, &dy, &mut dw, Some(&mut dx));
            let t3 = thread_cpu_seconds();
            best[0] = best[0].min(t1 - t);
            best[1] = best[1].min(t2 - t1);
            best[2] = best[2].min((t3 - t2) - (t2 - t1));
        }
        println!(
            "{name}: fwd {:.3} ms ({:.1} GF/s)  dw {:.3} ms ({:.1} GF/s)  dx ~{:.3} ms",
            best[0] * 1e3,
            flops / best[0] / 1e9,
            best[1] * 1e3,
            flops / best[1] / 1e9,
            best[2] * 1e3
        );
        std::hint::black_box((&out, &dw, &dx));
    }
}
