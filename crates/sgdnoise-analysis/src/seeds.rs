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
    /// ‖K − K0‖_F / ‖K0‖_F of the NTK at the stop (runs with `ntk_points` > 0).
    NtkRelChange,
}

impl Observable {
    pub const ALL: [Observable; 11] = [
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
        Observable::NtkRelChange,
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
            Observable::NtkRelChange => "ntk_rel_change",
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
            Observable::NtkRelChange => "relative NTK change ‖K−K₀‖_F/‖K₀‖_F",
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
            Observable::NtkRelChange => s.ntk.as_ref()?.rel_change,
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

/// How the run of one seed at one point of a curve ended, as the fits see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// No run of this seed at this point.
    Missing,
    /// Reached zero training loss: its observables are results.
    Finished,
    /// Stopped by a step or wall-clock cap: censored (t* is a lower bound, the weight change
    /// too small), never averaged as finished.
    Capped,
    /// Diverged or frozen: no result.
    Diverged,
}

impl Outcome {
    /// The outcome of one run.
    pub fn of(s: &Summary) -> Outcome {
        if diverged(s) {
            Outcome::Diverged
        } else if capped(s) {
            Outcome::Capped
        } else {
            Outcome::Finished
        }
    }
}

/// One curve kept per seed: `values[i][j]` is the observable at `xs[i]` for seed `seeds[j]`
/// when that run finished (reached zero loss) with a finite value, NaN otherwise;
/// `outcomes[i][j]` says how the run ended.
///
/// **Censoring rule** (every fit and crossover goes through [`SeedTable::means`]): a point
/// enters only where a strict majority of the seeds that have a run there finished; its value
/// is then the mean over the finished seeds. Capped runs are censored (their value at the cap
/// is kept apart in `capped_values`, a lower bound for t*), diverged and frozen runs have no
/// value. A bootstrap resample applies the same rule with the resample's seed multiplicities.
///
/// Seeds are the global list of the sweep (pass the same list to every curve of a figure) so
/// that a bootstrap resample picks the same seeds for all curves at once.
#[derive(Clone, Debug)]
pub struct SeedTable {
    pub xs: Vec<f64>,
    pub seeds: Vec<i64>,
    pub values: Vec<Vec<f64>>,
    /// The value at the cap of capped runs (NaN for the others).
    pub capped_values: Vec<Vec<f64>>,
    pub outcomes: Vec<Vec<Outcome>>,
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
    /// Mean over the finished seeds with a finite value.
    pub mean: f64,
    /// Sample standard deviation over those seeds (0 with one seed).
    pub sd: f64,
    /// Standard error of the mean, sd / sqrt(n).
    pub sem: f64,
    /// Finished seeds with a finite value.
    pub n: usize,
    pub n_runs: usize,
    pub n_diverged: usize,
    pub n_capped: usize,
    /// Whether the point enters fits: a strict majority of its seeds finished.
    pub in_fit: bool,
    /// Mean of the capped runs' values at their cap (NaN when none was capped): for t* a lower
    /// bound of what the run would have needed.
    pub capped_mean: f64,
}

impl CurvePoint {
    /// Whether most runs at this point diverged (figures show it as diverged).
    pub fn is_diverged(&self) -> bool {
        self.n_diverged > 0 && 2 * self.n_diverged >= self.n_runs
    }
    /// Whether most runs at this point were stopped by a cap (figures show it as a bound).
    pub fn is_capped(&self) -> bool {
        self.n_capped > 0 && 2 * self.n_capped >= self.n_runs
    }
}

/// Mean and sample standard deviation of `values` with frequency weights (`None`: weight 1);
/// entries that are not finite or have weight 0 are skipped. Returns (mean, sd, total weight);
/// sd is NaN below a total weight of 2.
pub fn weighted_mean_sd(values: &[f64], weights: Option<&[u32]>) -> (f64, f64, f64) {
    let (mut sum, mut w) = (0.0, 0.0);
    for (j, v) in values.iter().enumerate() {
        let wj = weights.map_or(1.0, |ws| ws[j] as f64);
        if v.is_finite() && wj > 0.0 {
            sum += wj * v;
            w += wj;
        }
    }
    if w == 0.0 {
        return (f64::NAN, f64::NAN, 0.0);
    }
    let mean = sum / w;
    if w < 2.0 {
        return (mean, f64::NAN, w);
    }
    let ss: f64 = values
        .iter()
        .enumerate()
        .map(|(j, v)| {
            let wj = weights.map_or(1.0, |ws| ws[j] as f64);
            if v.is_finite() && wj > 0.0 {
                wj * (v - mean).powi(2)
            } else {
                0.0
            }
        })
        .sum();
    (mean, (ss / (w - 1.0)).sqrt(), w)
}

impl SeedTable {
    /// The curve `obs` against `axis` over `runs`, with `seeds` as the seed list (see the type doc).
    pub fn new(runs: &[&Summary], axis: Axis, obs: Observable, seeds: &[i64]) -> SeedTable {
        let groups = group_by(runs, axis);
        let mut t = SeedTable::empty(seeds);
        for (x, group) in groups {
            let n = seeds.len();
            let (mut row, mut capped_row) = (vec![f64::NAN; n], vec![f64::NAN; n]);
            let mut outcomes = vec![Outcome::Missing; n];
            let (mut counts, mut capped_counts) = (vec![0usize; n], vec![0usize; n]);
            for s in &group {
                let Some(j) = seeds.iter().position(|&k| k == seed_of(s)) else {
                    continue;
                };
                let outcome = Outcome::of(s);
                // Two runs with the same seed at one x (differing in a setting the caller did
                // not split on; the report warns about those) are averaged, and the seed counts
                // as finished when one of them finished.
                outcomes[j] = match (outcomes[j], outcome) {
                    (Outcome::Finished, _) | (_, Outcome::Finished) => Outcome::Finished,
                    (Outcome::Capped, _) | (_, Outcome::Capped) => Outcome::Capped,
                    (_, o) => o,
                };
                let value = obs.of(s).filter(|v| v.is_finite());
                let (slot, count) = match outcome {
                    Outcome::Finished => (&mut row[j], &mut counts[j]),
                    Outcome::Capped => (&mut capped_row[j], &mut capped_counts[j]),
                    _ => continue,
                };
                if let Some(v) = value {
                    *slot = if *count == 0 {
                        v
                    } else {
                        (*slot * *count as f64 + v) / (*count + 1) as f64
                    };
                    *count += 1;
                }
            }
            t.xs.push(x);
            t.values.push(row);
            t.capped_values.push(capped_row);
            t.outcomes.push(outcomes);
            t.n_runs.push(group.len());
            t.n_diverged
                .push(group.iter().filter(|s| diverged(s)).count());
            t.n_capped.push(group.iter().filter(|s| capped(s)).count());
        }
        t
    }

    fn empty(seeds: &[i64]) -> SeedTable {
        SeedTable {
            xs: Vec::new(),
            seeds: seeds.to_vec(),
            values: Vec::new(),
            capped_values: Vec::new(),
            outcomes: Vec::new(),
            n_runs: Vec::new(),
            n_diverged: Vec::new(),
            n_capped: Vec::new(),
        }
    }

    /// A table of finished runs only: `values[i][j]` for seed j at `xs[i]` (NaN: no run).
    pub fn from_values(xs: Vec<f64>, seeds: Vec<i64>, values: Vec<Vec<f64>>) -> SeedTable {
        let outcomes: Vec<Vec<Outcome>> = values
            .iter()
            .map(|row| {
                row.iter()
                    .map(|v| {
                        if v.is_finite() {
                            Outcome::Finished
                        } else {
                            Outcome::Missing
                        }
                    })
                    .collect()
            })
            .collect();
        let n_runs = outcomes
            .iter()
            .map(|r| r.iter().filter(|o| **o != Outcome::Missing).count())
            .collect();
        SeedTable {
            capped_values: values.iter().map(|r| vec![f64::NAN; r.len()]).collect(),
            n_diverged: vec![0; xs.len()],
            n_capped: vec![0; xs.len()],
            n_runs,
            outcomes,
            xs,
            seeds,
            values,
        }
    }

    /// Whether point `i` enters fits on a resample where seed j counts `weights[j]` times
    /// (None: every seed once): a strict majority of the seeds with a run there finished with a
    /// finite value, counted both with the resample's multiplicities and over its distinct
    /// seeds (so a resample that repeats one survivor of a diverged point does not make it a
    /// majority).
    pub fn enters(&self, i: usize, weights: Option<&[u32]>) -> bool {
        let (mut ran, mut finished) = (0u64, 0u64);
        let (mut ran_distinct, mut finished_distinct) = (0u64, 0u64);
        for (j, o) in self.outcomes[i].iter().enumerate() {
            let w = weights.map_or(1, |ws| ws[j] as u64);
            if w == 0 {
                continue;
            }
            if *o != Outcome::Missing {
                ran += w;
                ran_distinct += 1;
            }
            if *o == Outcome::Finished && self.values[i][j].is_finite() {
                finished += w;
                finished_distinct += 1;
            }
        }
        finished > 0 && 2 * finished > ran && 2 * finished_distinct > ran_distinct
    }

    /// The fewest distinct seeds with a finished value at a point that enters fits (None when
    /// none enters): what an interval read off this table rests on at its thinnest (an
    /// adaptive sweep's partial points, or points some of whose seeds were capped).
    pub fn fewest_seeds(&self) -> Option<usize> {
        (0..self.xs.len())
            .filter(|&i| self.enters(i, None))
            .map(|i| self.distinct_finished(i, None))
            .min()
    }

    /// [`SeedTable::fewest_seeds`] over several tables.
    pub fn fewest_of<'a>(tables: impl IntoIterator<Item = &'a SeedTable>) -> Option<usize> {
        tables.into_iter().filter_map(|t| t.fewest_seeds()).min()
    }

    /// The number of distinct seeds with a finished value at point `i` in a resample.
    pub fn distinct_finished(&self, i: usize, weights: Option<&[u32]>) -> usize {
        (0..self.seeds.len())
            .filter(|&j| weights.is_none_or(|w| w[j] > 0) && self.values[i][j].is_finite())
            .count()
    }

    /// Why point `i` does not enter fits (None when it does), counted over all seeds: "diverged"
    /// when most of its runs diverged or froze, "capped" when most were stopped by a cap,
    /// "no finished majority" otherwise.
    pub fn left_out_reason(&self, i: usize) -> Option<&'static str> {
        if self.enters(i, None) {
            return None;
        }
        let count = |o: Outcome| self.outcomes[i].iter().filter(|x| **x == o).count();
        let ran = self.outcomes[i]
            .iter()
            .filter(|o| **o != Outcome::Missing)
            .count();
        Some(if ran == 0 {
            "no run"
        } else if 2 * count(Outcome::Diverged) >= ran {
            "diverged"
        } else if 2 * count(Outcome::Capped) >= ran {
            "capped"
        } else {
            "no finished majority"
        })
    }

    /// Seed means, spreads and counts at every x.
    pub fn points(&self) -> Vec<CurvePoint> {
        (0..self.xs.len())
            .map(|i| {
                let (mean, sd, w) = weighted_mean_sd(&self.values[i], None);
                let n = w as usize;
                let (capped_mean, _, _) = weighted_mean_sd(&self.capped_values[i], None);
                CurvePoint {
                    x: self.xs[i],
                    mean,
                    sd: if n == 1 { 0.0 } else { sd },
                    sem: if n == 0 {
                        f64::NAN
                    } else if n == 1 {
                        0.0
                    } else {
                        sd / (n as f64).sqrt()
                    },
                    n,
                    n_runs: self.n_runs[i],
                    n_diverged: self.n_diverged[i],
                    n_capped: self.n_capped[i],
                    in_fit: self.enters(i, None),
                    capped_mean,
                }
            })
            .collect()
    }

    /// (x, mean) at the points that enter fits (see the type doc), with seed `j` counted
    /// `weights[j]` times (a bootstrap resample); `weights = None` is the plain seed mean.
    pub fn means(&self, weights: Option<&[u32]>) -> Vec<(f64, f64)> {
        (0..self.xs.len())
            .filter(|&i| self.enters(i, weights))
            .map(|i| (self.xs[i], weighted_mean_sd(&self.values[i], weights).0))
            .collect()
    }

    /// Counts, by reason, the points of this table that do not enter fits.
    pub fn count_left_out(&self, left: &mut LeftOut) {
        for i in 0..self.xs.len() {
            if let Some(r) = self.left_out_reason(i) {
                left.add(r);
            }
        }
    }
}

/// What a fit left out, counted by reason (the `n_left_out` and `left_out_why` of fits.csv).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeftOut(pub BTreeMap<String, usize>);

impl LeftOut {
    pub fn add(&mut self, reason: &str) {
        self.add_n(reason, 1);
    }
    pub fn add_n(&mut self, reason: &str, n: usize) {
        if n > 0 {
            *self.0.entry(reason.to_string()).or_default() += n;
        }
    }
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }
    /// "3 diverged; 1 capped" (empty when nothing was left out).
    pub fn describe(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join("; ")
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
            ntk: None,
            ntk_seconds: 0.0,
            ntk_kernels: 0,
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
                ntk: None,
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
        // A resample that takes seed 0 twice and seed 2 once. The diverged point has one
        // finished seed of three: it does not enter.
        let m = t.means(Some(&[2, 0, 1]));
        assert_eq!(m.len(), 1);
        assert!((m[0].1 - (2.0 * 0.1 + 0.3) / 3.0).abs() < 1e-12);
        assert!(!p[1].in_fit && p[0].in_fit);
        assert_eq!(t.left_out_reason(1), Some("diverged"));
    }

    /// Regression (issue 10, item 1): a (T, P) point entered every fit as soon as one seed
    /// survived, so where 4 of 5 seeds diverged the lucky survivor's value was fitted.
    #[test]
    fn lucky_survivor_of_a_diverged_point_is_not_fitted() {
        let mut runs = Vec::new();
        for seed in 0..5 {
            let mut s = testing::summary("mlp", 1024, 0.25, 1.0, seed, 0.08, 0.4, 1.0);
            if seed != 2 {
                s.stop_reason = sgdnoise_core::train::StopReason::Diverged;
            }
            runs.push(s);
            // 2 of 5 diverged one octave lower: a majority finished, the point enters with the
            // mean over its three finished seeds.
            let mut s =
                testing::summary("mlp", 1024, 0.125, 1.0, seed, 0.1 + seed as f64, 0.2, 1.0);
            if seed < 2 {
                s.stop_reason = sgdnoise_core::train::StopReason::Frozen;
            }
            runs.push(s);
        }
        let refs: Vec<&Summary> = runs.iter().collect();
        let t = SeedTable::new(&refs, Axis::Temp, Observable::TestErr, &seeds_of(&refs));
        let m = t.means(None);
        assert_eq!(m.len(), 1, "{m:?}");
        assert_eq!(m[0].0, 0.125);
        assert!((m[0].1 - (2.1 + 3.1 + 4.1) / 3.0).abs() < 1e-12);
        // A resample that draws the survivor three times and two diverged seeds: 3 of 5 by
        // multiplicity, but one of three distinct seeds: the point stays out in every resample.
        assert_eq!(t.means(Some(&[1, 0, 3, 0, 1])).len(), 1);
        assert_eq!(t.means(Some(&[2, 0, 2, 0, 1])).len(), 1);
        // One octave lower, a resample that draws only the two frozen seeds and one finished
        // seed has no finished majority there.
        assert_eq!(t.means(Some(&[2, 2, 1, 0, 0])).len(), 0);
        let mut left = LeftOut::default();
        t.count_left_out(&mut left);
        assert_eq!(left.describe(), "1 diverged");
    }

    /// Regression (issue 10, item 2): runs stopped by max_wall or max_steps were averaged in
    /// with their values at the cap, although their t* is only a lower bound.
    #[test]
    fn capped_runs_are_censored_not_averaged() {
        let mut runs = Vec::new();
        for seed in 0..5 {
            // One of five capped: the point enters with the four finished seeds only.
            let mut s = testing::summary("mlp", 4096, 2f64.powi(-10), 1.0, seed, 0.1, 0.01, 10.0);
            if seed == 0 {
                s.stop_reason = sgdnoise_core::train::StopReason::MaxSteps;
                s.t_star = 3.0;
            }
            runs.push(s);
            // Three of five capped by the wall clock: censored, left out, kept as a bound.
            let mut s = testing::summary("mlp", 4096, 2f64.powi(-11), 1.0, seed, 0.1, 0.01, 10.0);
            if seed < 3 {
                s.stop_reason = sgdnoise_core::train::StopReason::MaxWall;
                s.t_star = 4.0;
            }
            runs.push(s);
        }
        let refs: Vec<&Summary> = runs.iter().collect();
        let t = SeedTable::new(&refs, Axis::Temp, Observable::TStar, &seeds_of(&refs));
        assert_eq!(t.means(None), vec![(2f64.powi(-10), 10.0)]);
        let p = t.points();
        assert!(p[0].is_capped() && !p[0].in_fit);
        assert_eq!((p[0].n, p[0].capped_mean), (2, 4.0));
        assert_eq!((p[1].n, p[1].n_capped, p[1].capped_mean), (4, 1, 3.0));
        assert!(p[1].in_fit && !p[1].is_capped());
        assert_eq!(t.left_out_reason(0), Some("capped"));
    }

    #[test]
    fn numbers_format_compactly() {
        assert_eq!(fmt_num(1024.0), "1024");
        assert_eq!(fmt_num(0.125), "2^-3");
        assert_eq!(fmt_num(0.3), "0.3");
    }
}
