//! The report of the built-in perceptron study (`sgdnoise study`, the README's main job; its grid
//! is the preset file `presets/study.toml`).
//!
//! Two tables, mean ± sd over seeds of the runs that reached zero loss:
//! 1. against P at T = 1 for chi = 1 and chi = 3: the signal-to-noise ratio
//!    (w1 - w0_1) / ||w_perp - w0_perp|| grows as P^(1/(1+chi)), and t* grows with P;
//! 2. against T at P = 1024, chi = 1: the relative weight change grows linearly in T once T is
//!    well above 1/alpha, and t* grows with T.
//!
//! The exponents are fitted by the library's power-law fit ([`crate::fit`]) through the seed
//! means, with the percentile interval of a bootstrap over seeds (the same method as the
//! figures of `reproduce`): seeds are resampled, never the per-seed points, and a point enters
//! only where a strict majority of its seeds finished (the rule of [`SeedTable::means`]).

use crate::fit::{bootstrap, fit_power_law, BootstrapOptions, Estimate, FitRange};
use crate::{seeds_of, Axis, Observable, SeedTable};
use sgdnoise_core::rundir::Summary;
use sgdnoise_core::train::StopReason;
use std::fmt::Write;

/// chi of the P-scan.
pub const P_SCAN_CHI: [f64; 2] = [1.0, 3.0];
/// Temperature of the P-scan.
pub const P_SCAN_T: f64 = 1.0;
/// chi and P of the T-scan.
pub const T_SCAN_CHI: f64 = 1.0;
pub const T_SCAN_P: usize = 1024;
/// The T-scan's weight-change exponent is fitted for T >= 2^-8 (T alpha >= 128).
pub const T_FIT_MIN: f64 = 1.0 / 256.0;

/// A fitted exponent with its theory value.
#[derive(Clone, Debug)]
pub struct Slope {
    pub what: String,
    pub estimate: Estimate,
    pub theory: f64,
    /// Seeds the fit rests on.
    pub seeds: usize,
}

/// The study's tables and exponents.
#[derive(Clone, Debug)]
pub struct Report {
    pub text: String,
    pub slopes: Vec<Slope>,
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

fn stats(runs: &[&Summary], f: impl Fn(&Summary) -> f64) -> (f64, f64) {
    mean_sd(&runs.iter().map(|s| f(s)).collect::<Vec<_>>())
}

/// The exponent of `obs` against `axis` over `runs` (fit through the seed means, bootstrap over
/// the seeds).
fn exponent(
    runs: &[&Summary],
    axis: Axis,
    obs: Observable,
    range: FitRange,
    opts: &BootstrapOptions,
) -> Option<(Estimate, usize)> {
    let seeds = seeds_of(runs);
    let table = SeedTable::new(runs, axis, obs, &seeds);
    let e = bootstrap(
        seeds.len(),
        &|w| fit_power_law(&table.means(w), range).map(|law| law.exponent),
        opts,
    )?;
    Some((e, seeds.len()))
}

/// Builds the tables and fits from the study's finished runs.
pub fn report(runs: &[Summary], opts: &BootstrapOptions) -> Report {
    let mut text = String::new();
    let mut slopes = Vec::new();
    let finished: Vec<&Summary> = runs
        .iter()
        .filter(|s| s.stop_reason == StopReason::ZeroLoss)
        .collect();
    let first = runs.first();
    let dim = first.and_then(|s| s.config.dim).unwrap_or(0);
    let batch = first.and_then(|s| s.config.batch).unwrap_or(0);
    let alpha = first.map_or(f64::NAN, |s| s.alpha);
    let n_seeds = seeds_of(&runs.iter().collect::<Vec<_>>()).len();
    let _ = writeln!(text, "Perceptron study: d = {dim}, alpha = {alpha}, B = {batch}, depleted_sign, {n_seeds} seeds (mean ± sd)\n");
    let _ = writeln!(text, "(1) Against P at T = {P_SCAN_T}: SGD noise forces a larger signal; signal/noise ~ P^(1/(1+chi))");
    let _ = writeln!(
        text,
        "  chi       P   signal/noise        signal      t* = lr·steps    test error"
    );
    let at = |chi: f64, temp: f64| -> Vec<&Summary> {
        finished
            .iter()
            .copied()
            .filter(|s| s.config.chi == Some(chi) && s.temp == temp)
            .collect()
    };
    // The fits see every run (the censoring rule of SeedTable::means decides which points
    // enter), the tables the finished ones.
    let all_at = |chi: f64, temp: f64| -> Vec<&Summary> {
        runs.iter()
            .filter(|s| s.config.chi == Some(chi) && s.temp == temp)
            .collect()
    };
    for chi in P_SCAN_CHI {
        let scan = at(chi, P_SCAN_T);
        for (p, here) in crate::group_by(&scan, Axis::Ptr) {
            let (r, rs) = stats(&here, |s| s.signal_to_noise.unwrap_or(f64::NAN));
            let (g, gs) = stats(&here, |s| s.signal.unwrap_or(f64::NAN));
            let (t, ts) = stats(&here, |s| s.t_star);
            let (e, es) = stats(&here, |s| s.test_err);
            let _ = writeln!(text, "  {chi:>3} {p:>7}   {r:>6.2} ± {rs:<5.2}  {g:>6.2} ± {gs:<5.2}  {t:>9.3e} ± {ts:<9.2e}  {e:.4} ± {es:.4}");
        }
        if crate::values_of(&scan, Axis::Ptr).len() >= 3 {
            if let Some((estimate, seeds)) = exponent(
                &all_at(chi, P_SCAN_T),
                Axis::Ptr,
                Observable::SignalToNoise,
                FitRange::ALL,
                opts,
            ) {
                slopes.push(Slope {
                    what: format!("signal/noise vs P, chi = {chi}"),
                    estimate,
                    theory: 1.0 / (1.0 + chi),
                    seeds,
                });
            }
        }
    }
    let _ = writeln!(text, "\n(2) Against T at P = {T_SCAN_P}, chi = {T_SCAN_CHI} (1/alpha = 2^{:.0}): weight change ∝ T for T >> 1/alpha", -alpha.log2());
    let _ = writeln!(
        text,
        "     T     ||w-w0||/||w0||        t* = lr·steps          steps    test error"
    );
    let scan: Vec<&Summary> = finished
        .iter()
        .copied()
        .filter(|s| s.config.chi == Some(T_SCAN_CHI) && s.ptr == T_SCAN_P)
        .collect();
    for (temp, here) in crate::group_by(&scan, Axis::Temp) {
        let (w, ws) = stats(&here, |s| s.rel_weight_change);
        let (t, ts) = stats(&here, |s| s.t_star);
        let (n, _) = stats(&here, |s| s.steps as f64);
        let (er, ers) = stats(&here, |s| s.test_err);
        let e = temp.log2();
        let _ = writeln!(text, "  2^{e:<3}   {w:>9.3e} ± {ws:<9.2e}  {t:>9.3e} ± {ts:<9.2e}  {n:>9.0}    {er:.4} ± {ers:.4}");
    }
    let range = FitRange::new(T_FIT_MIN, f64::INFINITY);
    if crate::values_of(&scan, Axis::Temp)
        .iter()
        .filter(|t| range.contains(**t))
        .count()
        >= 3
    {
        let all_scan: Vec<&Summary> = runs
            .iter()
            .filter(|s| s.config.chi == Some(T_SCAN_CHI) && s.ptr == T_SCAN_P)
            .collect();
        if let Some((estimate, seeds)) = exponent(
            &all_scan,
            Axis::Temp,
            Observable::RelWeightChange,
            range,
            opts,
        ) {
            slopes.push(Slope {
                what: format!("rel. weight change vs T, T >= 2^{}", T_FIT_MIN.log2()),
                estimate,
                theory: 1.0,
                seeds,
            });
        }
    }
    let _ = writeln!(
        text,
        "\nFitted exponents (power law through the seed means; {}):",
        opts.describe()
    );
    for s in &slopes {
        let e = &s.estimate;
        let _ = writeln!(
            text,
            "  {:<42} {:>6.3} [{:.3}, {:.3}]   (theory {:.3}; {})",
            s.what,
            e.value,
            e.ci_low,
            e.ci_high,
            s.theory,
            crate::options::seeds_note(s.seeds).trim_matches(|c| c == '(' || c == ')')
        );
    }
    Report { text, slopes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seeds::testing::summary;

    #[test]
    fn exponents_of_exact_power_laws_are_recovered() {
        let mut runs = Vec::new();
        for seed in 0..4 {
            let wobble = 1.0 + 0.01 * seed as f64;
            for (k, p) in [256usize, 1024, 4096, 16384].into_iter().enumerate() {
                for chi in P_SCAN_CHI {
                    let mut s = summary("linear", p, 1.0, 32768.0, seed, 0.1, wobble, 1.0);
                    s.config.chi = Some(chi);
                    let ratio = wobble * (p as f64).powf(1.0 / (1.0 + chi));
                    s.signal = Some(ratio);
                    s.noise = Some(1.0);
                    s.signal_to_noise = Some(ratio);
                    s.id = format!("{}-{chi}-{k}", s.id);
                    runs.push(s);
                }
            }
            for e in [-8, -6, -4, -2, 0] {
                let t = 2f64.powi(e);
                let mut s = summary("linear", 1024, t, 32768.0, seed, 0.1, wobble * t, 1.0);
                s.config.chi = Some(1.0);
                s.id = format!("{}-t{e}", s.id);
                runs.push(s);
            }
        }
        let r = report(&runs, &BootstrapOptions::default());
        assert_eq!(r.slopes.len(), 3, "{}", r.text);
        for s in &r.slopes {
            assert!(
                (s.estimate.value - s.theory).abs() < 1e-9,
                "{}: {s:?}",
                s.what
            );
            assert!(s.estimate.covers(s.theory), "{s:?}");
            assert_eq!(s.seeds, 4);
        }
        assert!(r.text.contains("4 seeds"), "{}", r.text);
    }
}
