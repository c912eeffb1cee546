//! The built-in perceptron study: the README's main job and the embedded default.
//!
//! Two small grids on the perceptron (d = 32, alpha = 32768, B = 2, depleted_sign) that show the
//! perceptron effects of SPEC §8 in seconds:
//! 1. a P-scan at T = 1 for chi = 1 and chi = 3: the signal-to-noise ratio
//!    (w1 - w0_1) / ||w_perp - w0_perp|| grows as P^(1/(1+chi)), and t* grows with P;
//! 2. a T-scan at P = 1024, chi = 1, T = 2^-16 .. 2^2: the relative weight change grows linearly
//!    in T once T is well above 1/alpha ≈ 2^-15, and t* grows with T.
//! Slopes are least-squares fits in log-log over all seeds' points, with a 95% interval from the
//! fit's standard error.

use sgdnoise_campaign::Plan;
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::{RunConfig, RunSpec};
use std::fmt::Write;

pub const DIM: usize = 32;
pub const ALPHA: f64 = 32768.0;
pub const BATCH: usize = 2;
pub const PTE: usize = 4096;
pub const P_SCAN_CHI: [f64; 2] = [1.0, 3.0];
pub const P_SCAN_P: [usize; 4] = [256, 1024, 4096, 16384];
pub const P_SCAN_T: f64 = 1.0;
pub const T_SCAN_CHI: f64 = 1.0;
pub const T_SCAN_P: usize = 1024;
/// log2 of the temperatures of the T-scan.
pub const T_SCAN_LOG2: [i32; 10] = [-16, -14, -12, -10, -8, -6, -4, -2, 0, 2];
/// The T-scan's weight-change slope is fitted for T >= 2^-8 (T alpha >= 128).
pub const T_FIT_MIN_LOG2: i32 = -8;

fn spec(chi: f64, ptr: usize, temp: f64, seed: i64) -> RunSpec {
    RunConfig {
        arch: Some("linear".into()),
        dataset: Some("depleted_sign".into()),
        dim: Some(DIM),
        chi: Some(chi),
        ptr: Some(ptr),
        pte: Some(PTE),
        alpha: Some(ALPHA),
        batch: Some(BATCH),
        temp: Some(temp),
        seed_init: Some(seed),
        ..Default::default()
    }
    .resolve()
    .expect("the study's settings are valid")
}

/// The runs of the study with `seeds` seeds per point.
pub fn plan(seeds: usize) -> Plan {
    let mut runs = Vec::new();
    for seed in 0..seeds as i64 {
        for chi in P_SCAN_CHI {
            for p in P_SCAN_P {
                runs.push(spec(chi, p, P_SCAN_T, seed));
            }
        }
        for e in T_SCAN_LOG2 {
            let s = spec(T_SCAN_CHI, T_SCAN_P, 2f64.powi(e), seed);
            if !runs.iter().any(|r: &RunSpec| r.identity() == s.identity()) {
                runs.push(s);
            }
        }
    }
    Plan {
        name: "perceptron-study".into(),
        runs,
    }
}

/// Least-squares slope of y against x with its standard error.
pub fn fit_slope(x: &[f64], y: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mx = x.iter().sum::<f64>() / n;
    let my = y.iter().sum::<f64>() / n;
    let sxx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let sxy: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let slope = sxy / sxx;
    let resid: f64 = x
        .iter()
        .zip(y)
        .map(|(a, b)| (b - my - slope * (a - mx)).powi(2))
        .sum();
    let se = (resid / (n - 2.0) / sxx).sqrt();
    (slope, se)
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let sd = if v.len() > 1 {
        (v.iter().map(|a| (a - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    (m, sd)
}

/// A fitted exponent with its theory value.
#[derive(Clone, Debug)]
pub struct Slope {
    pub what: String,
    pub value: f64,
    /// Half-width of the 95% interval (1.96 standard errors).
    pub ci95: f64,
    pub theory: f64,
}

/// The study's tables and slopes.
#[derive(Clone, Debug)]
pub struct Report {
    pub text: String,
    pub slopes: Vec<Slope>,
}

fn matches(s: &Summary, chi: f64, p: usize, temp: f64) -> bool {
    s.config.chi == Some(chi) && s.ptr == p && (s.temp - temp).abs() <= 1e-12 * temp
}

/// Builds the tables and fits from the study's finished runs.
pub fn report(runs: &[Summary]) -> Report {
    let mut text = String::new();
    let mut slopes = Vec::new();
    let seeds = runs
        .iter()
        .filter_map(|s| s.config.seed_init)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let _ = writeln!(text, "Perceptron study: d = {DIM}, alpha = {ALPHA}, B = {BATCH}, depleted_sign, {seeds} seeds (mean ± sd)\n");
    let _ = writeln!(text, "(1) Against P at T = {P_SCAN_T}: SGD noise forces a larger signal; signal/noise ~ P^(1/(1+chi))");
    let _ = writeln!(
        text,
        "  chi       P   signal/noise        signal      t* = lr·steps    test error"
    );
    for chi in P_SCAN_CHI {
        let (mut xs, mut ys) = (Vec::new(), Vec::new());
        for p in P_SCAN_P {
            let here: Vec<&Summary> = runs
                .iter()
                .filter(|s| matches(s, chi, p, P_SCAN_T) && s.stop_reason == "zero_loss")
                .collect();
            if here.is_empty() {
                continue;
            }
            let ratio: Vec<f64> = here
                .iter()
                .map(|s| s.signal_to_noise.unwrap_or(f64::NAN))
                .collect();
            let signal: Vec<f64> = here.iter().map(|s| s.signal.unwrap_or(f64::NAN)).collect();
            let tstar: Vec<f64> = here.iter().map(|s| s.t_star).collect();
            let err: Vec<f64> = here.iter().map(|s| s.test_err).collect();
            for &r in &ratio {
                xs.push((p as f64).ln());
                ys.push(r.ln());
            }
            let (r, rs) = mean_sd(&ratio);
            let (g, gs) = mean_sd(&signal);
            let (t, ts) = mean_sd(&tstar);
            let (e, es) = mean_sd(&err);
            let _ = writeln!(text, "  {chi:>3} {p:>7}   {r:>6.2} ± {rs:<5.2}  {g:>6.2} ± {gs:<5.2}  {t:>9.3e} ± {ts:<9.2e}  {e:.4} ± {es:.4}");
        }
        if xs.len() >= 3 {
            let (slope, se) = fit_slope(&xs, &ys);
            slopes.push(Slope {
                what: format!("signal/noise vs P, chi = {chi}"),
                value: slope,
                ci95: 1.96 * se,
                theory: 1.0 / (1.0 + chi),
            });
        }
    }
    let _ = writeln!(text, "\n(2) Against T at P = {T_SCAN_P}, chi = {T_SCAN_CHI} (1/alpha = 2^{:.0}): weight change ∝ T for T >> 1/alpha", -ALPHA.log2());
    let _ = writeln!(
        text,
        "     T     ||w-w0||/||w0||        t* = lr·steps          steps    test error"
    );
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    for e in T_SCAN_LOG2 {
        let temp = 2f64.powi(e);
        let here: Vec<&Summary> = runs
            .iter()
            .filter(|s| matches(s, T_SCAN_CHI, T_SCAN_P, temp) && s.stop_reason == "zero_loss")
            .collect();
        if here.is_empty() {
            continue;
        }
        let dw: Vec<f64> = here.iter().map(|s| s.rel_weight_change).collect();
        if e >= T_FIT_MIN_LOG2 {
            for &v in &dw {
                xs.push(temp.ln());
                ys.push(v.ln());
            }
        }
        let (w, ws) = mean_sd(&dw);
        let (t, ts) = mean_sd(&here.iter().map(|s| s.t_star).collect::<Vec<_>>());
        let (n, _) = mean_sd(&here.iter().map(|s| s.steps as f64).collect::<Vec<_>>());
        let (er, ers) = mean_sd(&here.iter().map(|s| s.test_err).collect::<Vec<_>>());
        let _ = writeln!(text, "  2^{e:<3}   {w:>9.3e} ± {ws:<9.2e}  {t:>9.3e} ± {ts:<9.2e}  {n:>9.0}    {er:.4} ± {ers:.4}");
    }
    if xs.len() >= 3 {
        let (slope, se) = fit_slope(&xs, &ys);
        slopes.push(Slope {
            what: format!("rel. weight change vs T, T >= 2^{T_FIT_MIN_LOG2}"),
            value: slope,
            ci95: 1.96 * se,
            theory: 1.0,
        });
    }
    let _ = writeln!(
        text,
        "\nFitted exponents (least squares in log-log over all seeds, ± 95% interval):"
    );
    for s in &slopes {
        let _ = writeln!(
            text,
            "  {:<42} {:>6.3} ± {:.3}   (theory {:.3})",
            s.what, s.value, s.ci95, s.theory
        );
    }
    Report { text, slopes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_an_exact_power_law() {
        let x: Vec<f64> = (1..6).map(|i| (i as f64).ln()).collect();
        let y: Vec<f64> = x.iter().map(|v| 0.5 * v + 2.0).collect();
        let (s, se) = fit_slope(&x, &y);
        assert!((s - 0.5).abs() < 1e-12 && se < 1e-6);
    }

    #[test]
    fn plan_has_no_duplicate_runs() {
        let p = plan(2);
        let mut ids: Vec<String> = p.runs.iter().map(|r| r.identity()).collect();
        let n = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), n);
        assert_eq!(n, 2 * (8 + 10 - 1));
    }
}
