//! The crossover temperature T_c(P) of the lazy regime and the optimal temperature T_opt
//! (SPEC §8). SPEC leaves the T_c extraction open; three methods are offered here and every result
//! carries the description of the method and parameters that produced it (`describe` methods).
//!
//! Method (a) and T_opt take a seed-averaged curve `(T, value)` sorted by increasing T (a
//! [`SeedTable::means`]); methods (b) and (c) take the per-seed tables, since their criteria
//! are judged against the seed spread. All return None when the crossover is not inside the
//! sampled range: a missing T_c is reported as missing, never extrapolated. The fourth
//! estimate, gamma/delta of the weight-change law, and the comparison of all four are in
//! [`crate::tc`].

use crate::{weighted_mean_sd, SeedTable};

/// Method (a): T_c is the temperature where the seed-averaged relative weight change (or any
/// increasing observable) first crosses `threshold` from below.
///
/// Between the two bracketing grid points, ln T is interpolated linearly in ln(value) (the
/// weight change is a power of T above the crossover, so this is exact on a power law). If the
/// curve starts at or above the threshold, or never reaches it, there is no T_c.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdCrossing {
    pub threshold: f64,
}

impl ThresholdCrossing {
    pub fn describe(&self, observable: &str) -> String {
        format!(
            "(a) threshold: T where seed-mean {observable} first crosses {} (log-log interpolation)",
            self.threshold
        )
    }

    pub fn find(&self, curve: &[(f64, f64)]) -> Option<f64> {
        let pts: Vec<(f64, f64)> = curve.iter().copied().filter(|p| p.1.is_finite()).collect();
        let first = pts.first()?;
        if first.1 >= self.threshold {
            return None;
        }
        for w in pts.windows(2) {
            let ((t0, y0), (t1, y1)) = (w[0], w[1]);
            if y0 < self.threshold && y1 >= self.threshold {
                let f = if y0 > 0.0 && y1 > 0.0 {
                    (self.threshold.ln() - y0.ln()) / (y1.ln() - y0.ln())
                } else {
                    (self.threshold - y0) / (y1 - y0)
                };
                return Some((t0.ln() + f * (t1.ln() - t0.ln())).exp());
            }
        }
        None
    }
}

/// Method (b): T_c is where the seed-averaged test error leaves its own low-T plateau, "left"
/// judged against the plateau's seed spread.
///
/// Works on a [`SeedTable`] (per seed), over the points that enter fits (the censoring rule of
/// [`SeedTable::means`], applied with the resample's seed multiplicities). The plateau starts as
/// the `plateau_points` lowest temperatures and grows while the curve stays on it: its value is
/// the mean of the seed means of its points, its spread the seed standard deviation of the
/// observable at one temperature, pooled over its points (the root mean of the variances).
/// The curve has left the plateau at the first higher temperature where its seed mean differs
/// from the plateau by more than `spread_multiple` spreads (either direction: noise can raise
/// or lower the error). T_c is interpolated linearly in ln T on |seed mean − plateau| between
/// the last point on the plateau and the first off it. The criterion is a multiple of the
/// run-to-run spread, not of a standard error, so it does not drift with the number of seeds:
/// "left" means the seed mean has moved by more than that many typical differences between
/// two runs. In a bootstrap resample the spread is the one measured on all seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlateauExit {
    pub plateau_points: usize,
    pub spread_multiple: f64,
}

impl Default for PlateauExit {
    fn default() -> Self {
        PlateauExit {
            plateau_points: 3,
            spread_multiple: 2.0,
        }
    }
}

/// Why a curve has no crossover of method (b) or no normalised curve of method (c).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoCrossover {
    /// No more points than the minimal plateau.
    TooFewPoints,
    /// Fewer than two seeds on the plateau: no spread to judge against.
    NoSpread,
    /// The curve stays on its plateau up to its last point.
    NeverLeaves,
}

impl NoCrossover {
    pub fn describe(self) -> &'static str {
        match self {
            NoCrossover::TooFewPoints => "too few points above the minimal plateau",
            NoCrossover::NoSpread => "fewer than two seeds on the plateau",
            NoCrossover::NeverLeaves => "never leaves its plateau inside the T range",
        }
    }
}

/// A crossover found by [`PlateauExit::find`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exit {
    pub tc: f64,
    /// The plateau value and its seed spread when the curve left it.
    pub plateau: f64,
    pub spread: f64,
    /// Index (into the table's xs) of the first point off the plateau.
    pub first_off: usize,
}

/// Each seed's mean of its finite values over the rows `rows` of `t` (NaN for a seed without one).
fn seed_means_over(t: &SeedTable, rows: &[usize]) -> Vec<f64> {
    (0..t.seeds.len())
        .map(|j| {
            let v: Vec<f64> = rows
                .iter()
                .map(|&i| t.values[i][j])
                .filter(|v| v.is_finite())
                .collect();
            if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            }
        })
        .collect()
}

impl PlateauExit {
    pub fn describe(&self, observable: &str) -> String {
        format!(
            "(b) plateau exit: the plateau of {observable} starts as the {} lowest T and grows while the curve stays on it; the curve has left it where its seed mean differs from the plateau by more than {} seed standard deviations of {observable} on the plateau (pooled over its points); T_c interpolated in ln T on |{observable} - plateau|",
            self.plateau_points, self.spread_multiple
        )
    }

    /// The crossover of one curve on a resample (`weights`, see [`SeedTable::means`]). The
    /// spread that sets the criterion is measured once, on all seeds (on the plateau the curve
    /// has there); a resample re-finds the plateau and the exit with that criterion. (A spread
    /// re-measured in every resample would collapse whenever a resample repeats one seed, and
    /// with it the criterion.)
    pub fn find_exit(&self, t: &SeedTable, weights: Option<&[u32]>) -> Result<Exit, NoCrossover> {
        match weights {
            None => self.exit_with(t, None, None),
            Some(_) => {
                let spread = match self.exit_with(t, None, None) {
                    Ok(e) => e.spread,
                    Err(NoCrossover::NeverLeaves) => self.pooled_spread(t)?,
                    Err(e) => return Err(e),
                };
                self.exit_with(t, weights, Some(spread))
            }
        }
    }

    /// The pooled seed spread over every point of the curve that enters fits (all seeds).
    fn pooled_spread(&self, t: &SeedTable) -> Result<f64, NoCrossover> {
        let vars: Vec<f64> = (0..t.xs.len())
            .filter(|&i| t.enters(i, None))
            .map(|i| weighted_mean_sd(&t.values[i], None).1.powi(2))
            .filter(|v| v.is_finite())
            .collect();
        if vars.is_empty() {
            return Err(NoCrossover::NoSpread);
        }
        Ok((vars.iter().sum::<f64>() / vars.len() as f64).sqrt())
    }

    fn exit_with(
        &self,
        t: &SeedTable,
        weights: Option<&[u32]>,
        fixed_spread: Option<f64>,
    ) -> Result<Exit, NoCrossover> {
        let rows: Vec<usize> = (0..t.xs.len()).filter(|&i| t.enters(i, weights)).collect();
        let m = self.plateau_points.max(2);
        if rows.len() <= m {
            return Err(NoCrossover::TooFewPoints);
        }
        let stats: Vec<(f64, f64)> = rows
            .iter()
            .map(|&i| {
                let (mean, sd, _) = weighted_mean_sd(&t.values[i], weights);
                (mean, sd)
            })
            .collect();
        for k in m..rows.len() {
            let on = &stats[..k];
            let plateau = on.iter().map(|s| s.0).sum::<f64>() / k as f64;
            let vars: Vec<f64> = on
                .iter()
                .map(|s| s.1 * s.1)
                .filter(|v| v.is_finite())
                .collect();
            let spread = match fixed_spread {
                Some(s) => s,
                None if vars.is_empty() => return Err(NoCrossover::NoSpread),
                None => (vars.iter().sum::<f64>() / vars.len() as f64).sqrt(),
            };
            let tol = (self.spread_multiple * spread).max(1e-12 * plateau.abs());
            let dev = (stats[k].0 - plateau).abs();
            if dev > tol {
                let d0 = (stats[k - 1].0 - plateau).abs();
                let f = if d0 < tol {
                    (tol - d0) / (dev - d0)
                } else {
                    0.0
                };
                let (t0, t1) = (t.xs[rows[k - 1]].ln(), t.xs[rows[k]].ln());
                return Ok(Exit {
                    tc: (t0 + f * (t1 - t0)).exp(),
                    plateau,
                    spread,
                    first_off: rows[k],
                });
            }
        }
        Err(NoCrossover::NeverLeaves)
    }

    /// T_c of one curve on a resample, None when it has none.
    pub fn find(&self, t: &SeedTable, weights: Option<&[u32]>) -> Option<f64> {
        self.find_exit(t, weights).ok().map(|e| e.tc)
    }
}

/// How method (c) makes the curves of different P comparable before scaling: each seed's test
/// error is divided by (`Ratio`) or reduced by (`Difference`) that seed's own low-T plateau.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normalise {
    Ratio,
    Difference,
}

impl Normalise {
    pub fn describe(self, observable: &str) -> String {
        match self {
            Normalise::Ratio => format!("{observable} / plateau"),
            Normalise::Difference => format!("{observable} - plateau"),
        }
    }
}

/// One curve of method (c): ln T, the plateau-normalised seed mean and its standard error.
#[derive(Clone, Debug, PartialEq)]
pub struct NormCurve {
    pub p: f64,
    pub ln_t: Vec<f64>,
    pub y: Vec<f64>,
    pub dy: Vec<f64>,
}

/// The best collapse found by [`Collapse::find`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CollapseFit {
    pub a: f64,
    /// The Houdayer-Hartmann quality S at `a` (near 1: the curves coincide within their
    /// errors; much larger: they do not).
    pub s: f64,
    /// Terms (points with a master-curve estimate from other curves) of S.
    pub terms: usize,
}

/// Method (c): the exponent a that best collapses the plateau-normalised curves of different P
/// against T·P^a, scored by the Houdayer-Hartmann quality S (Phys. Rev. B 70, 014418 (2004);
/// the quality function of pyfssa and autoScale).
///
/// Each seed's curve is normalised by that seed's own plateau (its mean over the
/// `plateau_points` lowest temperatures that enter fits), so that the low-T plateau, which
/// itself falls with P, no longer keeps the curves apart; the seed mean and standard error of
/// the normalised values are the points (x = ln T + a ln P, y, dy). S is the mean, over every
/// point of every curve that other curves span, of (y − Y)² / (dy² + dY²), where the master
/// curve Y at the point's x combines, with inverse-variance weights, the linear interpolation
/// of each other curve between its two bracketing points (with the mixed variance of those
/// points); a
/// curve's weight fades linearly to zero over its last interval at each end, and each term
/// counts with the summed fade of its contributors (at most 1), so S is continuous in a.
/// (Houdayer and Hartmann, and pyfssa, fit one weighted line through all those bracketing
/// points instead; on grids in octaves of T and P whole families of a line the points up
/// exactly, where that line jumps and S has spurious pits. The interpolation is continuous in
/// a.) Every curve must share at least two points with the others, so that a cannot slide
/// curves apart. a is scanned on a grid of step `step` over [a_min, a_max] and refined by
/// golden-section search between the best grid point's neighbours; a minimum on the edge of
/// the scan is no answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Collapse {
    pub a_min: f64,
    pub a_max: f64,
    pub step: f64,
    pub plateau_points: usize,
    pub normalise: Normalise,
}

impl Default for Collapse {
    fn default() -> Self {
        Collapse {
            a_min: -1.0,
            a_max: 3.0,
            step: 0.02,
            plateau_points: 3,
            normalise: Normalise::Ratio,
        }
    }
}

impl Collapse {
    pub fn describe(&self, observable: &str) -> String {
        format!(
            "(c) collapse: a minimising the Houdayer-Hartmann quality S of the curves {} (each seed divided by its own plateau, the mean of its {} lowest T) against ln(T P^a); master curve: inverse-variance mean of the other curves' linear interpolations between their bracketing points; grid {}..{} step {}, golden-section refinement",
            self.normalise.describe(observable),
            self.plateau_points,
            self.a_min,
            self.a_max,
            self.step
        )
    }

    /// The plateau-normalised curve of one P on a resample; None with too few points.
    pub fn normalised(&self, p: f64, t: &SeedTable, weights: Option<&[u32]>) -> Option<NormCurve> {
        let rows: Vec<usize> = (0..t.xs.len()).filter(|&i| t.enters(i, weights)).collect();
        let k = self.plateau_points.max(1);
        if rows.len() <= k {
            return None;
        }
        let plateaus = seed_means_over(t, &rows[..k]);
        let mut c = NormCurve {
            p,
            ln_t: Vec::new(),
            y: Vec::new(),
            dy: Vec::new(),
        };
        for &i in &rows {
            let ys: Vec<f64> = t.values[i]
                .iter()
                .zip(&plateaus)
                .map(|(v, pl)| match self.normalise {
                    Normalise::Ratio if *pl > 0.0 => v / pl,
                    Normalise::Ratio => f64::NAN,
                    Normalise::Difference => v - pl,
                })
                .collect();
            let (mean, sd, w) = weighted_mean_sd(&ys, weights);
            // A point needs two distinct seeds for an error bar (a resample that repeats one
            // seed has a spread of zero there).
            if !(mean.is_finite() && sd.is_finite())
                || t.xs[i] <= 0.0
                || t.distinct_finished(i, weights) < 2
            {
                continue;
            }
            c.ln_t.push(t.xs[i].ln());
            c.y.push(mean);
            c.dy.push((sd / w.sqrt()).max(1e-9));
        }
        (c.y.len() >= 2).then_some(c)
    }

    /// The normalised curves of every P on a resample (curves with too few points left out).
    /// The errors dy are those measured on all seeds (where the resample has a point that the
    /// full sample lacks, its own): a resample that repeats a seed would otherwise shrink its
    /// errors and inflate S.
    pub fn curves(&self, tables: &[(f64, SeedTable)], weights: Option<&[u32]>) -> Vec<NormCurve> {
        tables
            .iter()
            .filter_map(|(p, t)| {
                let mut c = self.normalised(*p, t, weights)?;
                if weights.is_some() {
                    if let Some(full) = self.normalised(*p, t, None) {
                        for (l, dy) in c.ln_t.iter().zip(c.dy.iter_mut()) {
                            if let Some(k) = full.ln_t.iter().position(|x| x == l) {
                                *dy = full.dy[k];
                            }
                        }
                    }
                }
                Some(c)
            })
            .collect()
    }

    /// The quality S of the collapse at exponent `a` and its number of terms; None when fewer
    /// than two curves, or when some curve shares fewer than two points with the others.
    pub fn quality(curves: &[NormCurve], a: f64) -> Option<(f64, usize)> {
        if curves.len() < 2 {
            return None;
        }
        let xs: Vec<Vec<f64>> = curves
            .iter()
            .map(|c| c.ln_t.iter().map(|l| l + a * c.p.ln()).collect())
            .collect();
        let (mut sum, mut weight, mut terms) = (0.0, 0.0, 0usize);
        for (i, ci) in curves.iter().enumerate() {
            let mut own = 0usize;
            for (j, &x) in xs[i].iter().enumerate() {
                // Each other curve that spans x gives its linear interpolation there, with the
                // propagated error; they are combined by inverse-variance weights. A curve's
                // weight fades linearly to zero over its last interval at either end, and a
                // point's term counts with the summed fade of its contributors (at most 1), so
                // that S is continuous in a.
                let (mut wsum, mut wy, mut fade) = (0.0, 0.0, 0.0);
                for (i2, c2) in curves.iter().enumerate() {
                    if i2 == i {
                        continue;
                    }
                    let x2 = &xs[i2];
                    let n2 = x2.len();
                    if x <= x2[0] || x >= x2[n2 - 1] {
                        continue;
                    }
                    let r = x2.partition_point(|v| *v <= x).clamp(1, n2 - 1);
                    let f = ((x - x2[r - 1]) / (x2[r] - x2[r - 1])).clamp(0.0, 1.0);
                    let y = (1.0 - f) * c2.y[r - 1] + f * c2.y[r];
                    // The interpolation is taken as uncertain as the curve's own points
                    // (a mix of their variances, not the smaller variance of an average):
                    // between grid points its error is the curve's curvature as much as its
                    // noise, and a smaller variance there would pull a towards values that
                    // line grid points up.
                    let var = (1.0 - f) * c2.dy[r - 1].powi(2) + f * c2.dy[r].powi(2);
                    let taper = ((x - x2[0]) / (x2[1] - x2[0]))
                        .min((x2[n2 - 1] - x) / (x2[n2 - 1] - x2[n2 - 2]))
                        .clamp(0.0, 1.0);
                    if var > 0.0 && taper > 0.0 {
                        wsum += taper / var;
                        wy += taper * y / var;
                        fade += taper;
                    }
                }
                if wsum == 0.0 {
                    continue;
                }
                let (y_master, var_master) = (wy / wsum, fade.min(1.0) / wsum);
                let w = fade.min(1.0);
                sum += w * (ci.y[j] - y_master).powi(2) / (ci.dy[j].powi(2) + var_master);
                weight += w;
                terms += 1;
                own += 1;
            }
            if own < 2 {
                return None;
            }
        }
        (weight > 0.0).then(|| (sum / weight, terms))
    }

    /// The best exponent of the curves (see the type doc), None when the minimum is not inside
    /// the scanned range.
    pub fn find_in(&self, curves: &[NormCurve]) -> Option<CollapseFit> {
        let n = ((self.a_max - self.a_min) / self.step).round() as usize + 1;
        let grid: Vec<f64> = (0..n).map(|i| self.a_min + i as f64 * self.step).collect();
        let s = |a: f64| Collapse::quality(curves, a).map_or(f64::INFINITY, |q| q.0);
        let costs: Vec<f64> = grid.iter().map(|&a| s(a)).collect();
        let (best, _) = costs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_finite())
            .min_by(|x, y| x.1.total_cmp(y.1))?;
        if best == 0 || best == n - 1 {
            return None;
        }
        // Golden-section search on [grid[best-1], grid[best+1]].
        let (mut lo, mut hi) = (grid[best - 1], grid[best + 1]);
        let g = 0.5 * (5f64.sqrt() - 1.0);
        let (mut x1, mut x2) = (hi - g * (hi - lo), lo + g * (hi - lo));
        let (mut f1, mut f2) = (s(x1), s(x2));
        for _ in 0..20 {
            if f1 <= f2 {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - g * (hi - lo);
                f1 = s(x1);
            } else {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + g * (hi - lo);
                f2 = s(x2);
            }
        }
        let (mut a, mut fa) = if f1 <= f2 { (x1, f1) } else { (x2, f2) };
        if costs[best] < fa {
            (a, fa) = (grid[best], costs[best]);
        }
        let (_, terms) = Collapse::quality(curves, a)?;
        Some(CollapseFit { a, s: fa, terms })
    }

    /// The best exponent of the tables' curves on a resample.
    pub fn find(
        &self,
        tables: &[(f64, SeedTable)],
        weights: Option<&[u32]>,
    ) -> Option<CollapseFit> {
        self.find_in(&self.curves(tables, weights))
    }
}

/// The temperature of lowest seed-averaged value (test error) on a curve sorted by T, refined
/// by a parabola in ln T through the lowest point and its neighbours. None when the lowest
/// point is at either end of the range (the optimum is not resolved).
pub fn optimal_temperature(curve: &[(f64, f64)]) -> Option<f64> {
    let pts: Vec<(f64, f64)> = curve
        .iter()
        .copied()
        .filter(|p| p.1.is_finite() && p.0 > 0.0)
        .collect();
    let (i, _) = pts
        .iter()
        .enumerate()
        .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))?;
    if i == 0 || i + 1 == pts.len() {
        return None;
    }
    let (x0, x1, x2) = (pts[i - 1].0.ln(), pts[i].0.ln(), pts[i + 1].0.ln());
    let (y0, y1, y2) = (pts[i - 1].1, pts[i].1, pts[i + 1].1);
    // Vertex of the parabola through three points.
    let num = (x1 - x0).powi(2) * (y1 - y2) - (x1 - x2).powi(2) * (y1 - y0);
    let den = (x1 - x0) * (y1 - y2) - (x1 - x2) * (y1 - y0);
    let x = if den.abs() > 1e-300 {
        (x1 - 0.5 * num / den).clamp(x0, x2)
    } else {
        x1
    };
    Some(x.exp())
}

/// Describes [`optimal_temperature`] for the method column.
pub const OPTIMAL_TEMPERATURE_METHOD: &str =
    "T_opt = argmin over T of the seed-mean test error, parabola in ln T through the minimum and its neighbours; alphas whose minimum is at an end of the curve (the low end, the top of the T range or the last point below divergence) are left out";

#[cfg(test)]
mod tests {
    use super::*;

    /// A sigmoid in ln T rising from `lo` to `hi` around `tc`: value at T = tc is the midpoint.
    fn sigmoid(t: f64, tc: f64, lo: f64, hi: f64, width: f64) -> f64 {
        lo + (hi - lo) / (1.0 + (-(t / tc).ln() / width).exp())
    }

    fn grid() -> Vec<f64> {
        (-16..=4).map(|k| 2f64.powf(k as f64 * 0.5)).collect()
    }

    #[test]
    fn threshold_finds_a_power_law_crossing_exactly() {
        // rel weight change = 0.01 (T / 2^-6) above 2^-6, flat 0.01 below... crossing 0.1 at
        // T = 10 * 2^-6, between grid points.
        let curve: Vec<(f64, f64)> = grid()
            .into_iter()
            .map(|t| (t, 0.01 * (t / 2f64.powi(-6)).max(1.0)))
            .collect();
        let tc = ThresholdCrossing { threshold: 0.1 }.find(&curve).unwrap();
        assert!((tc / (10.0 * 2f64.powi(-6)) - 1.0).abs() < 1e-9, "{tc}");
        assert!(ThresholdCrossing { threshold: 0.001 }
            .find(&curve)
            .is_none());
        assert!(ThresholdCrossing { threshold: 1e6 }.find(&curve).is_none());
    }

    /// A table of `seeds` noisy copies of `f(T)`: seed j multiplies the whole curve by
    /// e^(offset_j) (a persistent seed effect, as a seed's own training set gives) and each
    /// point by e^(noise) (both normal with sd `sigma`).
    fn noisy(
        xs: Vec<f64>,
        f: impl Fn(f64) -> f64,
        seeds: usize,
        sigma: f64,
        stream_seed: i64,
    ) -> SeedTable {
        use rand_distr::{Distribution, Normal};
        let mut rng = sgdnoise_core::numeric::rng::stream(
            stream_seed,
            sgdnoise_core::numeric::rng::Stream::Bootstrap,
        );
        let normal = Normal::new(0.0, sigma).unwrap();
        let offsets: Vec<f64> = (0..seeds).map(|_| normal.sample(&mut rng)).collect();
        let values = xs
            .iter()
            .map(|&t| {
                offsets
                    .iter()
                    .map(|o| f(t) * f64::exp(o + normal.sample(&mut rng)))
                    .collect()
            })
            .collect();
        SeedTable::from_values(xs, (0..seeds as i64).collect(), values)
    }

    #[test]
    fn plateau_exit_tracks_a_sigmoid_crossover() {
        for &tc in &[2f64.powi(-5), 2f64.powi(-3), 0.3] {
            // A drop from 0.1 to 0.05 around tc, 5 seeds with 1% noise: the seed spread on
            // the plateau is ~0.0014, so 2 spreads are crossed early on the sigmoid's flank,
            // about 2 octaves below tc.
            let t = noisy(grid(), |x| sigmoid(x, tc, 0.1, 0.05, 0.5), 5, 0.01, 7);
            let m = PlateauExit::default();
            let e = m.find_exit(&t, None).unwrap();
            assert!(e.tc < tc && e.tc > tc / 8.0, "tc {tc} found {e:?}");
            // The spread is that of one run: ~1.4% of 0.1 (offset and point noise of 1% each).
            assert!((e.plateau - 0.1).abs() < 0.005, "{e:?}");
            assert!(e.spread > 0.0007 && e.spread < 0.003, "{e:?}");
            // A larger multiple finds a later exit; the exit moves with tc (the method sees
            // the shift, which is what a needs).
            let late = PlateauExit {
                spread_multiple: 10.0,
                ..m
            }
            .find(&t, None)
            .unwrap();
            assert!(late > e.tc, "{late} vs {}", e.tc);
            // A rising curve is found too.
            let rising = noisy(grid(), |x| sigmoid(x, tc, 0.1, 0.2, 0.5), 5, 0.01, 7);
            assert!(m.find(&rising, None).unwrap() < tc);
        }
        let flat = noisy(grid(), |_| 0.1, 5, 0.01, 8);
        assert_eq!(
            PlateauExit::default().find_exit(&flat, None),
            Err(NoCrossover::NeverLeaves)
        );
        let one_seed = noisy(grid(), |_| 0.1, 1, 0.01, 8);
        assert_eq!(
            PlateauExit::default().find_exit(&one_seed, None),
            Err(NoCrossover::NoSpread)
        );
    }

    /// Regression (issue 10, item 3): the collapse compared raw test-error curves, but the
    /// low-T plateau itself falls with P, so no shift could make them coincide (its only test
    /// had plateaus equal for every P). Here the plateau falls as P^-0.3 and the drop is a
    /// function of T P^0.6: the normalised curves collapse at a = 0.6 with S near 1.
    #[test]
    fn collapse_recovers_a_with_p_dependent_plateaus() {
        let tables: Vec<(f64, SeedTable)> = [256.0, 512.0, 1024.0, 2048.0]
            .iter()
            .enumerate()
            .map(|(k, &p): (usize, &f64)| {
                let tc = 0.5 * p.powf(-0.6);
                let plateau = 0.6 * p.powf(-0.3);
                (
                    p,
                    noisy(
                        (-28..=4).map(|k| 2f64.powf(k as f64 * 0.5)).collect(),
                        |x| plateau * sigmoid(x, tc, 1.0, 0.6, 0.7),
                        5,
                        0.01,
                        20 + k as i64,
                    ),
                )
            })
            .collect();
        let c = Collapse::default();
        let fit = c.find(&tables, None).unwrap();
        assert!((fit.a - 0.6).abs() < 0.05, "{fit:?}");
        assert!(fit.s < 3.0, "S = {}", fit.s);
        // Away from the best a the quality is much worse.
        let curves = c.curves(&tables, None);
        let (s0, _) = Collapse::quality(&curves, 0.0).unwrap();
        assert!(s0 > 10.0 * fit.s, "S(0) = {s0}, S_min = {}", fit.s);
        // The raw curves (no normalisation is an offset of 0 on the difference scale of
        // unnormalised errors, so compare with a collapse of the raw means) do not collapse.
        let raw: Vec<NormCurve> = tables
            .iter()
            .map(|(p, t)| {
                let pts = t.points();
                NormCurve {
                    p: *p,
                    ln_t: pts.iter().map(|q| q.x.ln()).collect(),
                    y: pts.iter().map(|q| q.mean).collect(),
                    dy: pts.iter().map(|q| q.sem).collect(),
                }
            })
            .collect();
        let best_raw = c.find_in(&raw).map_or(f64::INFINITY, |f| f.s);
        assert!(best_raw > 10.0 * fit.s, "raw S {best_raw} vs {}", fit.s);
        // Curves that cannot overlap (an impossible scan range) give no answer.
        let narrow = Collapse {
            a_min: 20.0,
            a_max: 21.0,
            ..c
        };
        assert!(narrow.find(&tables, None).is_none());
    }

    #[test]
    fn optimal_temperature_of_a_parabola() {
        // err = 0.1 + 0.01 (ln T - ln 2^-4.3)^2 has its minimum at 2^-4.3.
        let t0 = 2f64.powf(-4.3);
        let curve: Vec<(f64, f64)> = grid()
            .into_iter()
            .map(|t| (t, 0.1 + 0.01 * (t.ln() - t0.ln()).powi(2)))
            .collect();
        let t = optimal_temperature(&curve).unwrap();
        assert!((t / t0 - 1.0).abs() < 1e-9, "{t}");
        let monotone: Vec<(f64, f64)> = grid().into_iter().map(|t| (t, t)).collect();
        assert!(optimal_temperature(&monotone).is_none());
    }
}
