//! Seed tables: an observable against a swept setting, kept per seed (what every fit and
//! figure starts from).

use sgdnoise_core::rundir::Summary;
use std::collections::BTreeMap;

/// A number read off a finished run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Observable {
    TestErr,
    TrainErr,
    RelWeightChange,
    RelWeightChangeLayerMean,
    TStar,
    Steps,
    Signal,
    Noise,
    SignalToNoise,
    WallSeconds,
}

impl Observable {
    pub const ALL: [Observable; 10] = [
        Observable::TestErr,
        Observable::TrainErr,
        Observable::RelWeightChange,
        Observable::RelWeightChangeLayerMean,
        Observable::TStar,
        Observable::Steps,
        Observable::Signal,
        Observable::Noise,
        Observable::SignalToNoise,
        Observable::WallSeconds,
    ];

    /// The field name in `summary.json` (also the CSV column name).
    pub fn name(self) -> &'static str {
        match self {
            Observable::TestErr => "test_err",
            Observable::TrainErr => "train_err",
            Observable::RelWeightChange => "rel_weight_change",
            Observable::RelWeightChangeLayerMean => "rel_weight_change_layer_mean",
            Observable::TStar => "t_star",
            Observable::Steps => "steps",
            Observable::Signal => "signal",
            Observable::Noise => "noise",
            Observable::SignalToNoise => "signal_to_noise",
            Observable::WallSeconds => "wall_seconds",
        }
    }

    /// An axis label with its unit.
    pub fn label(self) -> &'static str {
        match self {
            Observable::TestErr => "test error (fraction misclassified)",
            Observable::TrainErr => "train error (fraction misclassified)",
            Observable::RelWeightChange => "relative weight change ‖w−w₀‖/‖w₀‖",
            Observable::RelWeightChangeLayerMean => "mean per-layer ‖w_l−w_l0‖/‖w_l0‖",
            Observable::TStar => "t* = η × steps at the stop (time units)",
            Observable::Steps => "SGD steps to the stop",
            Observable::Signal => "signal w₁−w₀₁",
            Observable::Noise => "noise ‖w⊥−w₀⊥‖",
            Observable::SignalToNoise => "signal / noise (w₁−w₀₁)/‖w⊥−w₀⊥‖",
            Observable::WallSeconds => "wall time (s)",
        }
    }

    pub fn parse(name: &str) -> Option<Observable> {
        Observable::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The value for one run (None when the run does not have it, e.g. signal of an mlp).
    pub fn of(self, s: &Summary) -> Option<f64> {
        let v = match self {
            Observable::TestErr => s.test_err,
            Observable::TrainErr => s.train_err,
            Observable::RelWeightChange => s.rel_weight_change,
            Observable::RelWeightChangeLayerMean => s.rel_weight_change_layer_mean,
            Observable::TStar => s.t_star,
            Observable::Steps => s.steps as f64,
            Observable::Signal => s.signal?,
            Observable::Noise => s.noise?,
            Observable::SignalToNoise => s.signal_to_noise?,
            Observable::WallSeconds => s.wall_seconds,
        };
        Some(v)
    }
}

/// A setting that varies across a sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Axis {
    /// Temperature T = lr / (B h).
    Temp,
    /// Learning rate eta.
    Lr,
    /// Training-set size P.
    Ptr,
    /// alpha of the alpha-trick.
    Alpha,
    /// Density exponent chi of depleted_sign.
    Chi,
    /// Input dimension d.
    Dim,
    /// Mini-batch size B.
    Batch,
    /// Width h.
    Width,
}

impl Axis {
    /// Short symbol used in conditions and fits.csv ("T", "P", "alpha", ...).
    pub fn symbol(self) -> &'static str {
        match self {
            Axis::Temp => "T",
            Axis::Lr => "lr",
            Axis::Ptr => "P",
            Axis::Alpha => "alpha",
            Axis::Chi => "chi",
            Axis::Dim => "d",
            Axis::Batch => "B",
            Axis::Width => "h",
        }
    }
    /// An axis label with its unit or definition.
    pub fn label(self) -> &'static str {
        match self {
            Axis::Temp => "temperature T = η/(B h)",
            Axis::Lr => "learning rate η",
            Axis::Ptr => "training-set size P (points)",
            Axis::Alpha => "α (output scale; margin 1/α)",
            Axis::Chi => "χ (density exponent)",
            Axis::Dim => "input dimension d",
            Axis::Batch => "batch size B",
            Axis::Width => "width h",
        }
    }
    pub fn parse(name: &str) -> Option<Axis> {
        [
            Axis::Temp,
            Axis::Lr,
            Axis::Ptr,
            Axis::Alpha,
            Axis::Chi,
            Axis::Dim,
            Axis::Batch,
            Axis::Width,
        ]
        .into_iter()
        .find(|a| a.symbol().eq_ignore_ascii_case(name) || (*a == Axis::Temp && name == "temp"))
    }
    pub fn of(self, s: &Summary) -> f64 {
        match self {
            Axis::Temp => s.temp,
            Axis::Lr => s.lr,
            Axis::Ptr => s.ptr as f64,
            Axis::Alpha => s.alpha,
            Axis::Chi => s.config.chi.unwrap_or(0.0),
            Axis::Dim => s.config.dim.unwrap_or(0) as f64,
            Axis::Batch => s.config.batch.unwrap_or(s.ptr) as f64,
            Axis::Width => s.config.width.unwrap_or(1) as f64,
        }
    }
    /// `symbol=value` with a compact number format.
    pub fn condition(self, v: f64) -> String {
        format!("{}={}", self.symbol(), fmt_num(v))
    }
}

/// A compact, exact-enough number format: integers as integers, powers of two as 2^k when
/// small, otherwise 4 significant digits.
pub fn fmt_num(v: f64) -> String {
    if v.is_finite() && v == v.round() && v.abs() < 1e9 {
        return format!("{}", v as i64);
    }
    if v > 0.0 {
        let k = v.log2();
        if (k - k.round()).abs() < 1e-9 {
            return format!("2^{}", k.round() as i64);
        }
    }
    format!("{:.4}", v)
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
}

/// Whether the run ended by divergence: a non-finite loss, or a frozen net (weights that can
/// no longer move while points remain unfitted, e.g. every ReLU dead after a blow-up at large T).
pub fn diverged(s: &Summary) -> bool {
    s.stop_reason.is_divergence()
}

/// Whether the run was stopped by a cap before reaching zero loss.
pub fn capped(s: &Summary) -> bool {
    s.stop_reason.is_censored()
}

/// The seed of a run (its `seed_init`; the other streams default from it).
pub fn seed_of(s: &Summary) -> i64 {
    s.config.seed_init.unwrap_or(0)
}

/// Groups runs by the value of `axis` (ascending). Values are compared exactly: sweeps set
/// them from the same grid, so equal settings are bit-equal.
pub fn group_by<'a>(runs: &[&'a Summary], axis: Axis) -> Vec<(f64, Vec<&'a Summary>)> {
    let mut map: BTreeMap<OrdF64, Vec<&Summary>> = BTreeMap::new();
    for s in runs {
        map.entry(OrdF64(axis.of(s))).or_default().push(s);
    }
    map.into_iter().map(|(k, v)| (k.0, v)).collect()
}

/// The distinct values of `axis` among `runs`, ascending.
pub fn values_of(runs: &[&Summary], axis: Axis) -> Vec<f64> {
    group_by(runs, axis).into_iter().map(|(v, _)| v).collect()
}

/// The runs whose `axis` equals `value`.
pub fn select<'a>(runs: &[&'a Summary], axis: Axis, value: f64) -> Vec<&'a Summary> {
    runs.iter()
        .copied()
        .filter(|s| axis.of(s) == value)
        .collect()
}

/// f64 with a total order (for map keys).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrdF64(pub f64);
impl Eq for OrdF64 {}
impl PartialOrd for OrdF64 {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for OrdF64 {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// One curve kept per seed: `values[i][j]` is the observable at `xs[i]` for seed `seeds[j]`
/// (NaN where that run is missing, diverged or has no finite value).
///
/// Seeds are the global list of the sweep (pass the same list to every curve of a figure) so
/// that a bootstrap resample picks the same seeds for all curves at once.
#[derive(Clone, Debug)]
pub struct SeedTable {
    pub xs: Vec<f64>,
    pub seeds: Vec<i64>,
    pub values: Vec<Vec<f64>>,
    /// Runs per x.
    pub n_runs: Vec<usize>,
    /// Diverged runs per x.
    pub n_diverged: Vec<usize>,
    /// Runs per x stopped by a cap.
    pub n_capped: Vec<usize>,
}

/// Seed mean and spread at one x.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CurvePoint {
    pub x: f64,
    /// Mean over the seeds with a finite value.
    pub mean: f64,
    /// Sample standard deviation over seeds (0 with one seed).
    pub sd: f64,
    /// Standard error of the mean, sd / sqrt(n).
    pub sem: f64,
    /// Seeds with a finite value.
    pub n: usize,
    pub n_runs: usize,
    pub n_diverged: usize,
    pub n_capped: usize,
}

impl CurvePoint {
    /// Whether most runs at this point diverged (figures show it as diverged).
    pub fn is_diverged(&self) -> bool {
        self.n_diverged > 0 && 2 * self.n_diverged >= self.n_runs
    }
}

impl SeedTable {
    /// The curve `obs` against `axis` over `runs`, with `seeds` as the seed list (see the type doc).
    pub fn new(runs: &[&Summary], axis: Axis, obs: Observable, seeds: &[i64]) -> SeedTable {
        let groups = group_by(runs, axis);
        let mut t = SeedTable {
            xs: Vec::new(),
            seeds: seeds.to_vec(),
            values: Vec::new(),
            n_runs: Vec::new(),
            n_diverged: Vec::new(),
            n_capped: Vec::new(),
        };
        for (x, group) in groups {
            let mut row = vec![f64::NAN; seeds.len()];
            let mut counts = vec![0usize; seeds.len()];
            for s in &group {
                if diverged(s) {
                    continue;
                }
                let Some(j) = seeds.iter().position(|&k| k == seed_of(s)) else {
                    continue;
                };
                if let Some(v) = obs.of(s).filter(|v| v.is_finite()) {
                    // Two runs with the same seed at one x (differing in a setting the caller
                    // did not split on) are averaged.
                    row[j] = if counts[j] == 0 {
                        v
                    } else {
                        (row[j] * counts[j] as f64 + v) / (counts[j] + 1) as f64
                    };
                    counts[j] += 1;
                }
            }
            t.xs.push(x);
            t.values.push(row);
            t.n_runs.push(group.len());
            t.n_diverged
                .push(group.iter().filter(|s| diverged(s)).count());
            t.n_capped.push(group.iter().filter(|s| capped(s)).count());
        }
        t
    }

    /// Seed means, spreads and counts at every x.
    pub fn points(&self) -> Vec<CurvePoint> {
        (0..self.xs.len())
            .map(|i| {
                let vals: Vec<f64> = self.values[i]
                    .iter()
                    .copied()
                    .filter(|v| v.is_finite())
                    .collect();
                let n = vals.len();
                let mean = if n == 0 {
                    f64::NAN
                } else {
                    vals.iter().sum::<f64>() / n as f64
                };
                let sd = if n < 2 {
                    0.0
                } else {
                    (vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
                };
                CurvePoint {
                    x: self.xs[i],
                    mean,
                    sd,
                    sem: if n == 0 {
                        f64::NAN
                    } else {
                        sd / (n as f64).sqrt()
                    },
                    n,
                    n_runs: self.n_runs[i],
                    n_diverged: self.n_diverged[i],
                    n_capped: self.n_capped[i],
                }
            })
            .collect()
    }

    /// (x, mean) with seed `j` counted `weights[j]` times (a bootstrap resample); points with no
    /// finite weighted value are left out. `weights = None` is the plain seed mean.
    pub fn means(&self, weights: Option<&[u32]>) -> Vec<(f64, f64)> {
        let mut out = Vec::with_capacity(self.xs.len());
        for (i, row) in self.values.iter().enumerate() {
            let (mut sum, mut w) = (0.0, 0.0);
            for (j, v) in row.iter().enumerate() {
                let wj = weights.map_or(1.0, |ws| ws[j] as f64);
                if v.is_finite() && wj > 0.0 {
                    sum += wj * v;
                    w += wj;
                }
            }
            if w > 0.0 {
                out.push((self.xs[i], sum / w));
            }
        }
        out
    }
}

/// The sorted distinct seeds of `runs`.
pub fn seeds_of(runs: &[&Summary]) -> Vec<i64> {
    let mut s: Vec<i64> = runs.iter().map(|r| seed_of(r)).collect();
    s.sort_unstable();
    s.dedup();
    s
}

#[cfg(test)]
pub(crate) mod testing {
    //! Synthetic summaries for tests of the analysis and the figures.
    use sgdnoise_core::observe::{Record, SetStats};
    use sgdnoise_core::rundir::Summary;
    use sgdnoise_core::settings::RunConfig;

    /// A finished run with the given settings and observables; everything else zero.
    #[allow(clippy::too_many_arguments)]
    pub fn summary(
        arch: &str,
        ptr: usize,
        temp: f64,
        alpha: f64,
        seed: i64,
        test_err: f64,
        rel_weight_change: f64,
        t_star: f64,
    ) -> Summary {
        let config = RunConfig {
            arch: Some(arch.parse().unwrap()),
            ptr: Some(ptr),
            temp: Some(temp),
            alpha: Some(alpha),
            seed_init: Some(seed),
            batch: Some(16),
            ..Default::default()
        };
        let set = SetStats::default();
        Summary {
            id: format!("{arch}-{ptr}-{temp}-{alpha}-{seed}"),
            stop_reason: sgdnoise_core::train::StopReason::ZeroLoss,
            steps: (t_star / (temp * 16.0)).round() as u64,
            t_star,
            wall_seconds: 0.0,
            train_err: 0.0,
            test_err,
            train_loss: 0.0,
            test_loss: 0.0,
            rel_weight_change,
            rel_weight_change_layer_mean: rel_weight_change,
            temp,
            lr: temp * 16.0,
            alpha,
            ptr,
            signal: None,
            noise: None,
            signal_to_noise: None,
            steps_simulated: 0,
            full_checks: 0,
            check_seconds: 0.0,
            checkpoint_seconds: 0.0,
            crate_version: "test".into(),
            config,
            last: Record {
                step: 0,
                t: t_star,
                wall: 0.0,
                train: set.clone(),
                test: set,
                rel_weight_change,
                rel_weight_change_layer_mean: rel_weight_change,
                layers: Vec::new(),
                perceptron: None,
            },
            unknown: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_table_averages_and_counts_divergence() {
        let mut runs = Vec::new();
        for seed in 0..3 {
            runs.push(testing::summary(
                "mlp",
                1024,
                0.5,
                1.0,
                seed,
                0.1 + 0.1 * seed as f64,
                1.0,
                1.0,
            ));
            let mut d = testing::summary("mlp", 1024, 2.0, 1.0, seed, f64::NAN, f64::NAN, 1.0);
            if seed < 2 {
                d.stop_reason = sgdnoise_core::train::StopReason::Diverged;
            } else {
                d.test_err = 0.4;
            }
            runs.push(d);
        }
        let refs: Vec<&Summary> = runs.iter().collect();
        let seeds = seeds_of(&refs);
        assert_eq!(seeds, vec![0, 1, 2]);
        let t = SeedTable::new(&refs, Axis::Temp, Observable::TestErr, &seeds);
        let p = t.points();
        assert_eq!(p.len(), 2);
        assert!((p[0].mean - 0.2).abs() < 1e-12);
        assert!((p[0].sd - 0.1).abs() < 1e-12);
        assert!(!p[0].is_diverged());
        assert_eq!((p[1].n, p[1].n_diverged, p[1].n_runs), (1, 2, 3));
        assert!(p[1].is_diverged());
        // A resample that takes seed 2 twice and seed 0 once.
        let m = t.means(Some(&[1, 0, 2]));
        assert!((m[0].1 - (0.1 + 2.0 * 0.3) / 3.0).abs() < 1e-12);
        assert_eq!(m[1], (2.0, 0.4));
    }

    #[test]
    fn numbers_format_compactly() {
        assert_eq!(fmt_num(1024.0), "1024");
        assert_eq!(fmt_num(0.125), "2^-3");
        assert_eq!(fmt_num(0.3), "0.3");
    }
}
