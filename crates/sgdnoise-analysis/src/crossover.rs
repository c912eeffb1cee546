//! The crossover temperature T_c(P) of the lazy regime and the optimal temperature T_opt
//! (SPEC §8). SPEC leaves the T_c extraction open; three methods are offered and every result
//! carries the description of the method and parameters that produced it (`describe` methods).
//!
//! All functions take a seed-averaged curve `(T, value)` sorted by increasing T (a
//! [`super::SeedTable::means`]) and return None when the crossover is not inside the sampled
//! range: a missing T_c is reported as missing, never extrapolated.

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

/// Method (b): T_c is where the seed-averaged test error leaves its low-T plateau.
///
/// The plateau is the mean of the `plateau_points` lowest temperatures. The curve has left it at
/// the first higher temperature where |value − plateau| exceeds
/// `max(abs_tolerance, rel_tolerance × plateau)` (either direction: noise can raise or lower
/// the error). T_c is interpolated linearly in ln T on |value − plateau| between that point and
/// the one before it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PlateauExit {
    pub plateau_points: usize,
    pub rel_tolerance: f64,
    pub abs_tolerance: f64,
}

impl Default for PlateauExit {
    fn default() -> Self {
        PlateauExit {
            plateau_points: 2,
            rel_tolerance: 0.2,
            abs_tolerance: 0.005,
        }
    }
}

impl PlateauExit {
    pub fn describe(&self, observable: &str) -> String {
        format!(
            "(b) plateau exit: plateau = mean {observable} of the {} lowest T; T_c where |{observable} - plateau| first exceeds max({}, {} x plateau) (interpolated in ln T)",
            self.plateau_points, self.abs_tolerance, self.rel_tolerance
        )
    }

    pub fn find(&self, curve: &[(f64, f64)]) -> Option<f64> {
        let pts: Vec<(f64, f64)> = curve.iter().copied().filter(|p| p.1.is_finite()).collect();
        let k = self.plateau_points.max(1);
        if pts.len() <= k {
            return None;
        }
        let plateau = pts[..k].iter().map(|p| p.1).sum::<f64>() / k as f64;
        let tol = self.abs_tolerance.max(self.rel_tolerance * plateau.abs());
        let dev = |i: usize| (pts[i].1 - plateau).abs();
        for i in k..pts.len() {
            if dev(i) > tol {
                let (d0, d1) = (dev(i - 1), dev(i));
                let f = if d0 < tol {
                    (tol - d0) / (d1 - d0)
                } else {
                    0.0
                };
                let (t0, t1) = (pts[i - 1].0.ln(), pts[i].0.ln());
                return Some((t0 + f * (t1 - t0)).exp());
            }
        }
        None
    }
}

/// Method (c): the exponent a that best collapses the curves value(T) of different P when
/// plotted against T·P^a. (It gives the exponent of T_c ~ P^-a directly, not T_c itself.)
///
/// Cost of a candidate a: for every pair of curves of consecutive P, the mean squared difference
/// of the two curves (each interpolated linearly in ln(T P^a); values in log if `log_values`)
/// at 16 evenly spaced points of their overlap, averaged over pairs. Every consecutive pair
/// must overlap by at least `min_overlap` in ln(T P^a), otherwise the candidate is rejected
/// (this stops a from sliding the curves apart). a is scanned on a grid of step `step` over
/// [a_min, a_max] and refined by a parabola through the best grid point and its neighbours.
/// The minimum must be inside the scanned range, else None.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Collapse {
    pub a_min: f64,
    pub a_max: f64,
    pub step: f64,
    pub log_values: bool,
    pub min_overlap: f64,
}

impl Default for Collapse {
    fn default() -> Self {
        Collapse {
            a_min: -1.0,
            a_max: 3.0,
            step: 0.02,
            log_values: false,
            min_overlap: 1.0,
        }
    }
}

fn interp(curve: &[(f64, f64)], x: f64) -> f64 {
    // curve sorted by x, x inside its range.
    let i = curve.partition_point(|p| p.0 < x);
    if i == 0 {
        return curve[0].1;
    }
    if i >= curve.len() {
        return curve[curve.len() - 1].1;
    }
    let (x0, y0) = curve[i - 1];
    let (x1, y1) = curve[i];
    if x1 == x0 {
        return y0;
    }
    y0 + (y1 - y0) * (x - x0) / (x1 - x0)
}

impl Collapse {
    pub fn describe(&self, observable: &str) -> String {
        format!(
            "(c) collapse: a minimising the mean squared difference of {}{observable} between curves of consecutive P against ln(T P^a) on their overlap (>= {} in ln), grid {}..{} step {}, parabola refinement",
            if self.log_values { "ln " } else { "" },
            self.min_overlap,
            self.a_min,
            self.a_max,
            self.step
        )
    }

    /// The collapse cost of exponent `a` (infinite when some consecutive curves do not overlap).
    pub fn cost(&self, curves: &[(f64, Vec<(f64, f64)>)], a: f64) -> f64 {
        let shifted: Vec<Vec<(f64, f64)>> = curves
            .iter()
            .map(|(p, c)| {
                c.iter()
                    .filter(|(t, y)| *t > 0.0 && y.is_finite() && (!self.log_values || *y > 0.0))
                    .map(|(t, y)| {
                        (
                            t.ln() + a * p.ln(),
                            if self.log_values { y.ln() } else { *y },
                        )
                    })
                    .collect()
            })
            .filter(|c: &Vec<(f64, f64)>| c.len() >= 2)
            .collect();
        if shifted.len() < 2 {
            return f64::INFINITY;
        }
        let mut total = 0.0;
        for w in shifted.windows(2) {
            let lo = w[0][0].0.max(w[1][0].0);
            let hi = w[0][w[0].len() - 1].0.min(w[1][w[1].len() - 1].0);
            if hi - lo < self.min_overlap {
                return f64::INFINITY;
            }
            let n = 16;
            let mut s = 0.0;
            for k in 0..n {
                let x = lo + (hi - lo) * k as f64 / (n - 1) as f64;
                s += (interp(&w[0], x) - interp(&w[1], x)).powi(2);
            }
            total += s / n as f64;
        }
        total / (shifted.len() - 1) as f64
    }

    /// The best exponent and its cost. `curves` are (P, curve) sorted by P.
    pub fn find(&self, curves: &[(f64, Vec<(f64, f64)>)]) -> Option<(f64, f64)> {
        let n = ((self.a_max - self.a_min) / self.step).round() as usize + 1;
        let grid: Vec<f64> = (0..n).map(|i| self.a_min + i as f64 * self.step).collect();
        let costs: Vec<f64> = grid.iter().map(|&a| self.cost(curves, a)).collect();
        let (best, &c) = costs
            .iter()
            .enumerate()
            .filter(|(_, c)| c.is_finite())
            .min_by(|x, y| x.1.total_cmp(y.1))?;
        if best == 0 || best == n - 1 {
            return None;
        }
        let (cl, cr) = (costs[best - 1], costs[best + 1]);
        let mut a = grid[best];
        if cl.is_finite() && cr.is_finite() {
            let denom = cl - 2.0 * c + cr;
            if denom > 0.0 {
                a += 0.5 * self.step * (cl - cr) / denom;
            }
        }
        Some((a, self.cost(curves, a).min(c)))
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
    "T_opt = argmin over T of the seed-mean test error, parabola in ln T through the minimum and its neighbours; alphas whose minimum is at the edge of the T range are left out";

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

    #[test]
    fn plateau_exit_tracks_a_sigmoid_crossover() {
        for &tc in &[2f64.powi(-5), 2f64.powi(-3), 0.3] {
            let curve: Vec<(f64, f64)> = grid()
                .into_iter()
                .map(|t| (t, sigmoid(t, tc, 0.1, 0.3, 0.5)))
                .collect();
            let m = PlateauExit {
                plateau_points: 2,
                rel_tolerance: 0.0,
                abs_tolerance: 0.1, // half the step: the exit is at the sigmoid's midpoint
            };
            let found = m.find(&curve).unwrap();
            // Linear interpolation in ln T of a sigmoid of width 0.5 on a grid of spacing
            // 0.35 in ln T: within 10 % of the true midpoint.
            assert!((found / tc - 1.0).abs() < 0.1, "tc {tc} found {found}");
            // A smaller tolerance finds an earlier exit; a falling curve is found too.
            let early = PlateauExit {
                abs_tolerance: 0.02,
                ..m
            }
            .find(&curve)
            .unwrap();
            assert!(early < found);
            let falling: Vec<(f64, f64)> = curve.iter().map(|&(t, y)| (t, 0.4 - y)).collect();
            assert!((m.find(&falling).unwrap() / found - 1.0).abs() < 1e-9);
        }
        let flat: Vec<(f64, f64)> = grid().into_iter().map(|t| (t, 0.1)).collect();
        assert!(PlateauExit::default().find(&flat).is_none());
    }

    #[test]
    fn collapse_recovers_the_crossover_exponent() {
        // T_c(P) = 0.5 P^-0.6: curves err(T, P) = sigmoid(T, T_c(P)) collapse at a = 0.6.
        let curves: Vec<(f64, Vec<(f64, f64)>)> = [256.0, 512.0, 1024.0, 2048.0]
            .iter()
            .map(|&p: &f64| {
                let tc = 0.5 * p.powf(-0.6);
                (
                    p,
                    grid()
                        .into_iter()
                        .map(|t| (t, sigmoid(t, tc, 0.05, 0.3, 0.7)))
                        .collect(),
                )
            })
            .collect();
        let (a, cost) = Collapse::default().find(&curves).unwrap();
        assert!((a - 0.6).abs() < 0.02, "a = {a}");
        assert!(cost < 1e-4, "cost {cost}");
        // Without the overlap requirement the search could slide curves apart; with an
        // impossible overlap there is no answer.
        let strict = Collapse {
            min_overlap: 100.0,
            ..Default::default()
        };
        assert!(strict.find(&curves).is_none());
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
