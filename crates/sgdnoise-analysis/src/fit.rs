//! Power-law fits and their confidence intervals.
//!
//! A power law y = c x^e is fitted by ordinary least squares of ln y on ln x over an explicit
//! fit range of x (inclusive); points with x or y not finite and positive are left out. Two
//! regressors (y = c x1^e1 x2^e2, e.g. weight change ~ T^delta P^gamma) use the same least
//! squares on (ln x1, ln x2).
//!
//! Confidence intervals come from resampling seeds ([`bootstrap`]): a resample draws as many
//! seeds as the sweep has, uniformly with replacement, from the named stream
//! `rng::stream(seed, Stream::Bootstrap)`; every curve of the fit is re-averaged with those seed
//! multiplicities and the fit repeated. The interval is the percentile interval of the resampled
//! estimates (95 % by default over 1000 resamples). With few seeds (2-3 in quick sweeps) the
//! percentile interval is narrow and undercovers: read it as a spread, not a guarantee.

use rand::Rng;
use sgdnoise_core::numeric::rng::{self, Stream};

/// An inclusive range of x over which a fit is made.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitRange {
    pub lo: f64,
    pub hi: f64,
}

impl FitRange {
    /// Every x.
    pub const ALL: FitRange = FitRange {
        lo: f64::NEG_INFINITY,
        hi: f64::INFINITY,
    };
    pub fn new(lo: f64, hi: f64) -> Self {
        FitRange { lo, hi }
    }
    pub fn contains(&self, x: f64) -> bool {
        x >= self.lo * (1.0 - 1e-12) && x <= self.hi * (1.0 + 1e-12)
    }
    /// "[lo, hi]" with compact numbers, for the method column.
    pub fn describe(&self) -> String {
        let f = |v: f64| {
            if v.is_infinite() {
                if v < 0.0 { "-∞" } else { "∞" }.to_string()
            } else {
                crate::fmt_num(v)
            }
        };
        format!("[{}, {}]", f(self.lo), f(self.hi))
    }
}

/// y = prefactor * x^exponent, fitted in log-log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerLaw {
    pub exponent: f64,
    pub prefactor: f64,
    /// Points used.
    pub n: usize,
}

impl PowerLaw {
    pub fn eval(&self, x: f64) -> f64 {
        self.prefactor * x.powf(self.exponent)
    }
}

/// Least-squares line y = intercept + slope x; None with fewer than two distinct x.
pub fn fit_line(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= 1e-300 * n {
        return None;
    }
    let slope = sxy / sxx;
    Some((my - slope * mx, slope))
}

fn log_points(points: &[(f64, f64)], range: FitRange) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter(|(x, y)| *x > 0.0 && *y > 0.0 && x.is_finite() && y.is_finite())
        .filter(|(x, _)| range.contains(*x))
        .map(|(x, y)| (x.ln(), y.ln()))
        .collect()
}

/// Least squares of ln y on ln x over the points with x in `range`; None with fewer than two
/// usable points.
pub fn fit_power_law(points: &[(f64, f64)], range: FitRange) -> Option<PowerLaw> {
    let lp = log_points(points, range);
    let (intercept, slope) = fit_line(&lp)?;
    Some(PowerLaw {
        exponent: slope,
        prefactor: intercept.exp(),
        n: lp.len(),
    })
}

/// y = c x1^e1 x2^e2 fitted in logs: returns (c, e1, e2); None when fewer than four usable
/// points or the regressors are collinear.
pub fn fit_power_law_2(points: &[(f64, f64, f64)]) -> Option<(f64, f64, f64)> {
    let lp: Vec<[f64; 3]> = points
        .iter()
        .filter(|(a, b, y)| *a > 0.0 && *b > 0.0 && *y > 0.0 && y.is_finite())
        .map(|(a, b, y)| [a.ln(), b.ln(), y.ln()])
        .collect();
    if lp.len() < 4 {
        return None;
    }
    let n = lp.len() as f64;
    let m: Vec<f64> = (0..3)
        .map(|k| lp.iter().map(|p| p[k]).sum::<f64>() / n)
        .collect();
    let c = |i: usize, j: usize| -> f64 {
        lp.iter()
            .map(|p| (p[i] - m[i]) * (p[j] - m[j]))
            .sum::<f64>()
    };
    let (s11, s12, s22, s1y, s2y) = (c(0, 0), c(0, 1), c(1, 1), c(0, 2), c(1, 2));
    let det = s11 * s22 - s12 * s12;
    if det.abs() <= 1e-12 * (s11 * s22).abs().max(1e-300) {
        return None;
    }
    let e1 = (s22 * s1y - s12 * s2y) / det;
    let e2 = (s11 * s2y - s12 * s1y) / det;
    let ln_c = m[2] - e1 * m[0] - e2 * m[1];
    Some((ln_c.exp(), e1, e2))
}

/// How confidence intervals are resampled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BootstrapOptions {
    pub resamples: usize,
    /// Seed of the `Stream::Bootstrap` stream.
    pub seed: i64,
    /// Coverage of the percentile interval (0.95).
    pub level: f64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            resamples: 1000,
            seed: 0,
            level: 0.95,
        }
    }
}

impl BootstrapOptions {
    pub fn describe(&self) -> String {
        format!(
            "{:.0}% percentile CI, bootstrap over seeds, {} resamples, stream seed {}",
            100.0 * self.level,
            self.resamples,
            self.seed
        )
    }
}

/// A fitted number with its confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The estimate on all seeds.
    pub value: f64,
    /// Percentile interval of the resampled estimates (NaN when too few resamples gave one).
    pub ci_low: f64,
    pub ci_high: f64,
    /// Resamples where the statistic existed.
    pub resamples_ok: usize,
}

impl Estimate {
    pub fn covers(&self, v: f64) -> bool {
        v >= self.ci_low && v <= self.ci_high
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let f = pos - i as f64;
    if i + 1 < sorted.len() {
        sorted[i] * (1.0 - f) + sorted[i + 1] * f
    } else {
        sorted[i]
    }
}

/// Bootstrap over seeds of a statistic with `k` components.
///
/// `stat(None)` is the estimate on all seeds; `stat(Some(w))` the estimate on a resample where
/// seed `j` counts `w[j]` times (see [`super::SeedTable::means`]). Returns None when the estimate
/// on all seeds does not exist. Intervals are NaN when fewer than half of the resamples gave a
/// value.
/// A statistic of a seed resample (see [`bootstrap_many`]).
pub type SeedStatistic<'a> = dyn Fn(Option<&[u32]>) -> Option<Vec<f64>> + 'a;

pub fn bootstrap_many(
    n_seeds: usize,
    k: usize,
    stat: &SeedStatistic,
    opts: &BootstrapOptions,
) -> Option<Vec<Estimate>> {
    let point = stat(None)?;
    assert_eq!(point.len(), k, "statistic has {k} components");
    let mut rng = rng::stream(opts.seed, Stream::Bootstrap);
    let mut samples: Vec<Vec<f64>> = vec![Vec::with_capacity(opts.resamples); k];
    let mut weights = vec![0u32; n_seeds];
    if n_seeds > 0 {
        for _ in 0..opts.resamples {
            weights.iter_mut().for_each(|w| *w = 0);
            for _ in 0..n_seeds {
                weights[rng.random_range(0..n_seeds)] += 1;
            }
            if let Some(v) = stat(Some(&weights)) {
                for (s, x) in samples.iter_mut().zip(v) {
                    if x.is_finite() {
                        s.push(x);
                    }
                }
            }
        }
    }
    let lo_q = (1.0 - opts.level) / 2.0;
    Some(
        point
            .into_iter()
            .zip(samples)
            .map(|(value, mut s)| {
                s.sort_by(f64::total_cmp);
                let ok = s.len();
                let enough = 2 * ok >= opts.resamples && ok > 0;
                Estimate {
                    value,
                    ci_low: if enough { quantile(&s, lo_q) } else { f64::NAN },
                    ci_high: if enough {
                        quantile(&s, 1.0 - lo_q)
                    } else {
                        f64::NAN
                    },
                    resamples_ok: ok,
                }
            })
            .collect(),
    )
}

/// Bootstrap over seeds of a one-number statistic (see [`bootstrap_many`]).
pub fn bootstrap(
    n_seeds: usize,
    stat: &dyn Fn(Option<&[u32]>) -> Option<f64>,
    opts: &BootstrapOptions,
) -> Option<Estimate> {
    bootstrap_many(n_seeds, 1, &|w| stat(w).map(|v| vec![v]), opts).map(|mut v| v.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeedTable;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn exact_power_laws_are_recovered() {
        let pts: Vec<(f64, f64)> = (0..8)
            .map(|i| {
                let x = 2f64.powi(i);
                (x, 3.0 * x.powf(-0.75))
            })
            .collect();
        let f = fit_power_law(&pts, FitRange::ALL).unwrap();
        assert!((f.exponent + 0.75).abs() < 1e-12);
        assert!((f.prefactor - 3.0).abs() < 1e-12);
        // The range selects points: a broken power law fitted on its upper part only.
        let mut broken = pts.clone();
        broken[0].1 = 100.0;
        let g = fit_power_law(&broken, FitRange::new(2.0, 128.0)).unwrap();
        assert_eq!(g.n, 7);
        assert!((g.exponent + 0.75).abs() < 1e-12);
        let p2: Vec<(f64, f64, f64)> = [1.0, 2.0, 4.0, 8.0]
            .iter()
            .flat_map(|&t| [64.0, 256.0, 1024.0].map(|p: f64| (t, p, 0.5 * t * p.powf(0.25))))
            .collect();
        let (c, d, g) = fit_power_law_2(&p2).unwrap();
        assert!((c - 0.5).abs() < 1e-12 && (d - 1.0).abs() < 1e-12 && (g - 0.25).abs() < 1e-12);
    }

    #[test]
    fn degenerate_inputs_give_none() {
        assert!(fit_power_law(&[(1.0, 1.0)], FitRange::ALL).is_none());
        assert!(fit_power_law(&[(1.0, 1.0), (1.0, 2.0)], FitRange::ALL).is_none());
        assert!(fit_power_law(&[(1.0, 0.0), (2.0, -1.0), (4.0, 1.0)], FitRange::ALL).is_none());
    }

    /// Noisy synthetic sweep: y = 2 P^0.5 e^(sigma z) per seed, 8 seeds, 7 values of P.
    fn noisy_table(data_seed: i64, n_seeds: usize, sigma: f64) -> SeedTable {
        let mut rng = rng::stream(data_seed, Stream::Bootstrap);
        let normal = Normal::new(0.0, sigma).unwrap();
        let xs: Vec<f64> = (7..14).map(|k| 2f64.powi(k)).collect();
        let values = xs
            .iter()
            .map(|x| {
                (0..n_seeds)
                    .map(|_| 2.0 * x.sqrt() * f64::exp(normal.sample(&mut rng)))
                    .collect()
            })
            .collect();
        SeedTable::from_values(xs, (0..n_seeds as i64).collect(), values)
    }

    fn slope_ci(t: &SeedTable, seed: i64) -> Estimate {
        let opts = BootstrapOptions {
            resamples: 400,
            seed,
            level: 0.95,
        };
        bootstrap(
            t.seeds.len(),
            &|w| fit_power_law(&t.means(w), FitRange::ALL).map(|f| f.exponent),
            &opts,
        )
        .unwrap()
    }

    #[test]
    fn bootstrap_interval_covers_the_truth() {
        let t = noisy_table(11, 8, 0.3);
        let e = slope_ci(&t, 0);
        assert!(e.covers(0.5), "{e:?}");
        assert!(e.ci_low < e.value && e.value < e.ci_high);
        assert_eq!(e.resamples_ok, 400);
        // The interval is reproducible: same stream seed, same interval.
        assert_eq!(slope_ci(&t, 0), e);
        // Its width matches the spread of the slope: sigma / sqrt(seeds) per point in log
        // space, over 7 points spaced ln 2 apart (sd of the slope ≈ 0.3/sqrt(8)/(ln2 * sqrt(28))
        // ≈ 0.029, so the 95% interval is ≈ 0.11 wide). Allow a factor 2 either way.
        let width = e.ci_high - e.ci_low;
        assert!(width > 0.055 && width < 0.23, "width {width}");
    }

    #[test]
    fn bootstrap_coverage_is_near_nominal() {
        // 60 independent synthetic sweeps: the 95% interval should cover the true exponent in
        // most of them. With 8 seeds the percentile bootstrap undercovers somewhat (its nominal
        // 95% is ~88-90% here); the binomial sd over 60 trials is ~4%, so ≥ 45 of 60 (75%) is a
        // safe bound that still fails for a broken interval (e.g. one a quarter as wide).
        let covered = (0..60)
            .filter(|&k| slope_ci(&noisy_table(100 + k, 8, 0.3), k).covers(0.5))
            .count();
        assert!(covered >= 45, "covered {covered}/60");
        assert!(covered <= 60);
    }

    #[test]
    fn bootstrap_of_two_exponents() {
        let t = noisy_table(5, 6, 0.1);
        let est = bootstrap_many(
            6,
            2,
            &|w| {
                let f = fit_power_law(&t.means(w), FitRange::ALL)?;
                Some(vec![f.exponent, f.prefactor])
            },
            &BootstrapOptions::default(),
        )
        .unwrap();
        assert!(est[0].covers(0.5), "{:?}", est[0]);
        assert!(est[1].covers(2.0), "{:?}", est[1]);
    }
}
