//! The judge of adaptive sweeps (`sgdnoise_campaign::adaptive`), built on the analysis crate's
//! estimators, so that the bracket an adaptive sweep refines is the one `analyze` reads:
//! method (a) of T_c on the seed-mean weight change ([`ThresholdCrossing`] at the analysis'
//! main level 1/√h), method (e) on the seed-mean NTK change (the same, at method (e)'s main
//! level [`NTK_LEVELS`]`[0]`), method (b) on the test error ([`PlateauExit`] with the analysis'
//! defaults), the divergence edge (the lowest point where most seeds diverged, as the T_c
//! report finds it) and the optimal value ([`optimal_temperature`] of the seed-mean test
//! error), every curve under the analysis' censoring rule ([`SeedTable::means`]); B*(P) by
//! the (B, eta) analysis' rule on the sampled columns ([`b_star_of_columns`]).

use sgdnoise_analysis::crossover::{optimal_temperature, NoCrossover, ThresholdCrossing};
use sgdnoise_analysis::options::AnalysisOptions;
use sgdnoise_analysis::tc::NTK_LEVELS;
use sgdnoise_analysis::{
    b_star_of_columns, seeds_of, Axis, CurvePoint, Observable, SeedTable, B_STAR_RATIO,
};
use sgdnoise_campaign::adaptive::{
    partial_points, Adaptive, Decision, Judge, Point, Target, DEFAULT_SEPARATION,
};
use sgdnoise_core::rundir::Summary;

/// The judge of `sweep plan|run|status|slurm` and `reproduce --adaptive`.
#[derive(Default)]
pub struct AnalysisJudge {
    pub opts: AnalysisOptions,
}

/// A curve of one cell: its table and, for each of its xs, the lattice index.
struct Curve {
    table: SeedTable,
    lattice: Vec<usize>,
}

impl Curve {
    fn new(a: &Adaptive, points: &[Point], obs: Observable) -> Curve {
        let axis = if a.axis == "lr" { Axis::Lr } else { Axis::Temp };
        let runs: Vec<&Summary> = points.iter().flat_map(|p| p.runs.iter().copied()).collect();
        let table = SeedTable::new(&runs, axis, obs, &seeds_of(&runs));
        // The table's xs are the distinct axis values of the runs, ascending like the points.
        let lattice = table
            .xs
            .iter()
            .map(|&x| {
                points
                    .iter()
                    .find(|p| p.runs.first().is_some_and(|s| axis.of(s) == x))
                    .map_or(0, |p| p.lattice)
            })
            .collect();
        Curve { table, lattice }
    }

    /// Indices of the xs that enter fits.
    fn entering(&self) -> Vec<usize> {
        (0..self.table.xs.len())
            .filter(|&i| self.table.enters(i, None))
            .collect()
    }

    /// The bracket from the last entering point to the next sampled point above it (where a
    /// crossover hides just below divergence), if there is one.
    fn up_to_edge(&self) -> Option<(usize, usize)> {
        let last = *self.entering().last()?;
        (last + 1 < self.table.xs.len()).then(|| (self.lattice[last], self.lattice[last + 1]))
    }
}

/// Resolved when every bracket is a pair of sampled neighbours, else refine them.
fn decide(
    points: &[Point],
    brackets: Vec<(usize, usize)>,
    estimate: Option<f64>,
    note: String,
) -> Decision {
    let sampled = |l: usize| points.iter().any(|p| p.lattice == l);
    if brackets
        .iter()
        .all(|&(lo, hi)| hi - lo <= 1 && sampled(lo) && sampled(hi))
    {
        Decision::Resolved {
            estimate,
            brackets,
            note,
        }
    } else {
        Decision::Refine { brackets, note }
    }
}

/// Where the sampled points do not reach the ends of the lattice (a warm-started cell), the
/// ends a target said to be absent may still hide it.
struct Reach {
    /// The lowest sampled point, when above the lattice's first.
    below: Option<usize>,
    /// The highest sampled point, when below the lattice's last.
    above: Option<usize>,
    last: usize,
}

impl Reach {
    fn new(a: &Adaptive, points: &[Point]) -> Reach {
        let first = points.first().map_or(0, |p| p.lattice);
        let high = points.last().map_or(0, |p| p.lattice);
        let last = a.values.len().saturating_sub(1);
        Reach {
            below: (first > 0).then_some(first),
            above: (high < last).then_some(high),
            last,
        }
    }

    /// Absent, unless the low end is unsampled: then search below.
    fn absent_below(&self, note: &str) -> Decision {
        match self.below {
            Some(first) => Decision::Refine {
                brackets: vec![(0, first)],
                note: format!("{note} of the values sampled so far: search below"),
            },
            None => absent(note),
        }
    }

    /// Absent, unless the high end is unsampled: then search above.
    fn absent_above(&self, note: &str) -> Decision {
        match self.above {
            Some(high) => Decision::Refine {
                brackets: vec![(high, self.last)],
                note: format!("{note} of the values sampled so far: search above"),
            },
            None => absent(note),
        }
    }
}

fn absent(note: &str) -> Decision {
    Decision::Resolved {
        estimate: None,
        brackets: Vec::new(),
        note: note.to_string(),
    }
}

/// A threshold target (methods (a) and (e) of T_c): where the seed-mean `obs` first reaches
/// `level`, the analysis' [`ThresholdCrossing`] on the censored seed means, bracketed by the
/// two sampled points around the crossing.
fn crossing(
    a: &Adaptive,
    points: &[Point],
    reach: &Reach,
    obs: Observable,
    level: f64,
) -> Decision {
    let c = Curve::new(a, points, obs);
    let rows = c.entering();
    let means = c.table.means(None);
    if means.first().is_some_and(|m| m.1 >= level) {
        return reach.absent_below("starts above the level");
    }
    let estimate = ThresholdCrossing { threshold: level }.find(&means);
    for k in 1..means.len() {
        if means[k - 1].1 < level && means[k].1 >= level {
            let b = (c.lattice[rows[k - 1]], c.lattice[rows[k]]);
            return decide(
                points,
                vec![b],
                estimate,
                format!("level {level:.4} crossed"),
            );
        }
    }
    match c.up_to_edge() {
        Some(b) => decide(
            points,
            vec![b],
            None,
            format!("level {level:.4} not reached before divergence"),
        ),
        None => reach.absent_above("level not reached in the range"),
    }
}

/// B*(P): each point is a whole column (every lr and seed at one batch size); the (B, eta)
/// analysis' rule ([`b_star_of_columns`]) on the sampled columns gives r(B) at each, and the
/// first crossing of 2 is bracketed by the two sampled columns around it (the smallest and
/// the largest B, which fix the reference and O_GD, are in every round).
fn b_star(points: &[Point]) -> Decision {
    let columns: Vec<(f64, Vec<&Summary>)> = points
        .iter()
        .filter_map(|p| Some((Axis::Batch.of(p.runs.first()?), p.runs.clone())))
        .collect();
    let runs: Vec<&Summary> = points.iter().flat_map(|p| p.runs.iter().copied()).collect();
    let r = b_star_of_columns(&columns, &seeds_of(&runs));
    let lattice = |b: f64| {
        points
            .iter()
            .find(|p| p.runs.first().is_some_and(|s| Axis::Batch.of(s) == b))
            .map_or(0, |p| p.lattice)
    };
    if r.ratios.first().is_some_and(|q| q.1 >= B_STAR_RATIO) {
        return absent("r(B) is above 2 already at the first B with a ratio (B* below the grid)");
    }
    match r
        .ratios
        .windows(2)
        .find(|w| w[0].1 < B_STAR_RATIO && w[1].1 >= B_STAR_RATIO)
    {
        Some(w) => decide(
            points,
            vec![(lattice(w[0].0), lattice(w[1].0))],
            r.b_star,
            "r(B) reaches 2".into(),
        ),
        None => absent(r.why_none),
    }
}

impl Judge for AnalysisJudge {
    fn judge(&self, target: Target, a: &Adaptive, points: &[Point]) -> Decision {
        let reach = Reach::new(a, points);
        match target {
            Target::TcRwc => {
                let level = rwc_level(&self.opts, a, points);
                crossing(a, points, &reach, Observable::RelWeightChange, level)
            }
            Target::TcNtk => {
                // Method (e) of the T_c analysis: its main level unless the sweep sets one.
                let level = a.ntk_level.unwrap_or(NTK_LEVELS[0]);
                crossing(a, points, &reach, Observable::NtkRelChange, level)
            }
            Target::BStar => b_star(points),
            Target::TcPlateau => {
                let c = Curve::new(a, points, Observable::TestErr);
                match self.opts.plateau.find_exit(&c.table, None) {
                    Ok(exit) => {
                        let before = c
                            .entering()
                            .into_iter()
                            .rfind(|&j| j < exit.first_off)
                            .unwrap_or(0);
                        let b = (c.lattice[before], c.lattice[exit.first_off]);
                        decide(points, vec![b], Some(exit.tc), "leaves its plateau".into())
                    }
                    Err(NoCrossover::TooFewPoints) => {
                        // Towards the edge of divergence first (where the exit lies), else
                        // fill the widest gap among the points that enter.
                        let rows = c.entering();
                        let widest = c.up_to_edge().filter(|(lo, hi)| hi - lo > 1).or_else(|| {
                            rows.windows(2)
                                .map(|w| (c.lattice[w[0]], c.lattice[w[1]]))
                                .max_by_key(|(lo, hi)| hi - lo)
                        });
                        match widest {
                            Some(b) => {
                                decide(points, vec![b], None, "too few points for a plateau".into())
                            }
                            None => absent("too few points for a plateau"),
                        }
                    }
                    Err(NoCrossover::NeverLeaves) => match c.up_to_edge() {
                        Some(b) => decide(
                            points,
                            vec![b],
                            None,
                            "stays on its plateau up to divergence".into(),
                        ),
                        None => absent("never leaves its plateau in the range"),
                    },
                    Err(e) => absent(e.describe()),
                }
            }
            Target::Divergence => {
                let c = Curve::new(a, points, Observable::TestErr);
                match c.table.points().iter().position(|q| q.is_diverged()) {
                    Some(0) => reach.absent_below("diverges at the lowest value"),
                    Some(i) => decide(
                        points,
                        vec![(c.lattice[i - 1], c.lattice[i])],
                        Some(c.table.xs[i]),
                        "most seeds diverge from here".into(),
                    ),
                    None => reach.absent_above("no divergence in the range"),
                }
            }
            Target::TOpt => {
                let c = Curve::new(a, points, Observable::TestErr);
                let rows = c.entering();
                let means = c.table.means(None);
                let Some(m) = (0..means.len()).min_by(|&i, &j| means[i].1.total_cmp(&means[j].1))
                else {
                    return absent("no point enters");
                };
                let mut brackets = Vec::new();
                if m > 0 {
                    brackets.push((c.lattice[rows[m - 1]], c.lattice[rows[m]]));
                } else if let Some(b) = below_first(points, &c, &c.table.points(), rows[m]) {
                    brackets.push(b);
                } else if reach.below.is_some() {
                    brackets.push((0, c.lattice[rows[m]]));
                }
                if m + 1 < means.len() {
                    brackets.push((c.lattice[rows[m]], c.lattice[rows[m + 1]]));
                } else if let Some(b) = c.up_to_edge() {
                    brackets.push(b);
                } else if reach.above.is_some() {
                    brackets.push((c.lattice[rows[m]], reach.last));
                }
                decide(
                    points,
                    brackets,
                    optimal_temperature(&means),
                    "lowest seed-mean test error".into(),
                )
            }
        }
    }

    fn needs_seeds(
        &self,
        target: Target,
        a: &Adaptive,
        points: &[Point],
        partial: &[bool],
        decision: &Decision,
    ) -> Vec<usize> {
        seeds_needed(&self.opts, target, a, points, partial, decision)
    }

    fn settled(
        &self,
        target: Target,
        a: &Adaptive,
        points: &[Point],
        brackets: &[(usize, usize)],
    ) -> Vec<usize> {
        // Divergence: the edge's ends play their part by being diverged or not, which a
        // majority of the full point's seeds decides: settled once that majority is out of
        // reach of the seeds still to run, either way. T_opt reads the seed means of the points
        // that enter (`SeedTable::enters`), the minimum and its neighbours exactly: an end that
        // does not enter (above the last point below divergence) plays its part by not
        // entering, settled once the rest of its seeds could no longer make it enter
        // ([`cannot_enter`]); the others are read by value and get every seed.
        if !matches!(target, Target::Divergence | Target::TOpt) {
            return Vec::new();
        }
        let c = Curve::new(a, points, Observable::TestErr);
        let pts = c.table.points();
        let settled = |i: usize| match target {
            Target::Divergence => row_settled(points, &c, &pts, i, divergence_settled),
            _ => !pts[i].in_fit && row_settled(points, &c, &pts, i, cannot_enter),
        };
        brackets
            .iter()
            .flat_map(|&(lo, hi)| [lo, hi])
            .filter(|&l| c.lattice.iter().position(|&m| m == l).is_some_and(settled))
            .collect()
    }
}

/// Whether a point that does not enter fits ([`SeedTable::enters`]: a strict majority of its
/// seeds finished) could not enter whatever the rest of its `full` seeds give: even if every
/// seed still to run finished, they would not be a majority.
fn cannot_enter(q: &CurvePoint, full: usize) -> bool {
    let to_run = full.saturating_sub(q.n_runs);
    2 * (q.n + to_run) <= q.n_runs + to_run
}

/// A settled test (`rule`: [`divergence_settled`], [`cannot_enter`]) of row `i` of the curve
/// `c` (`pts`: its points), against the full seed count of the sampled point it is.
fn row_settled(
    points: &[Point],
    c: &Curve,
    pts: &[CurvePoint],
    i: usize,
    rule: fn(&CurvePoint, usize) -> bool,
) -> bool {
    points
        .iter()
        .find(|p| p.lattice == c.lattice[i])
        .is_some_and(|p| rule(&pts[i], p.seeds))
}

/// Whether the rest of a point's seeds (`full` when all have run) can no longer change whether
/// most of them diverge ([`CurvePoint::is_diverged`] over the full point): half of `full` have
/// diverged already, or fewer than half would even if every seed still to run diverged.
fn divergence_settled(q: &CurvePoint, full: usize) -> bool {
    let to_run = full.saturating_sub(q.n_runs);
    2 * q.n_diverged >= full || 2 * (q.n_diverged + to_run) < full
}

/// Target `tc_rwc`'s level: `rwc_level`, else the analysis' threshold, else its main level 1/√h.
fn rwc_level(opts: &AnalysisOptions, a: &Adaptive, points: &[Point]) -> f64 {
    let width = points
        .iter()
        .flat_map(|p| p.runs.first())
        .next()
        .and_then(|s| s.config.width)
        .unwrap_or(1) as f64;
    a.rwc_level
        .or(opts.rwc_threshold)
        .unwrap_or(opts.rwc_levels.first().copied().unwrap_or(1.0) / width.sqrt())
}

/// Standard errors by which a partial point's seed mean must clear the decisive value (the
/// minimum of `t_opt`, the level of `tc_rwc`) for its other seeds to be left unrun (SPEC §12):
/// `[adaptive].separation`, default [`DEFAULT_SEPARATION`].
fn separation(a: &Adaptive) -> f64 {
    a.separation.unwrap_or(DEFAULT_SEPARATION)
}

/// The partial points whose evidence is ambiguous given the seed spread (SPEC §12; the plan
/// adds the ends of a located target's brackets itself):
/// - `t_opt`: the minimum while its spread is unknown (fewer than 2 finished seeds there), then
///   every point with a finished seed whose mean is within `separation` standard errors
///   of the minimum's (two-sample, with the seed spread pooled over the curve: [`t_opt_ambiguous`]);
/// - `divergence`: every point below the edge where a seed diverged (with all its seeds most
///   may), and the end that decides an absent edge (the highest point; the lowest when it
///   diverges there), each while the rest of its seeds could still turn its majority
///   ([`divergence_settled`]; the same rule settles the edge's own ends, `Judge::settled`);
/// - `tc_rwc`: every point with a finished seed whose mean is within `separation`
///   standard errors of the level (its own spread, else the largest of the full points'),
///   every point whose seeds ended differently, and the end that decides an absent crossing;
///   while no spread is known, the ends of the bracket;
/// - `t_opt` and `tc_rwc`, too: every partial point inside a bracket that does not enter yet
///   but could ([`could_enter_inside`]);
/// - `tc_plateau` and any other target: every partial point (the plateau's mean and spread
///   read the whole curve).
fn seeds_needed(
    opts: &AnalysisOptions,
    target: Target,
    a: &Adaptive,
    points: &[Point],
    partial: &[bool],
    decision: &Decision,
) -> Vec<usize> {
    let is_partial = |l: usize| {
        points
            .iter()
            .zip(partial)
            .any(|(p, &q)| q && p.lattice == l)
    };
    let absent = matches!(decision, Decision::Resolved { brackets, .. } if brackets.is_empty());
    let mut v = Vec::new();
    match target {
        Target::Divergence => {
            let c = Curve::new(a, points, Observable::TestErr);
            let pts = c.table.points();
            let edge = pts.iter().position(|q| q.is_diverged());
            // Whether row i's diverging or not is still open (see `divergence_settled`).
            let open = |i: usize| !row_settled(points, &c, &pts, i, divergence_settled);
            match edge {
                None if !pts.is_empty() && open(pts.len() - 1) => v.extend(c.lattice.last()),
                Some(0) if open(0) => v.push(c.lattice[0]),
                _ => {}
            }
            for (i, q) in pts.iter().enumerate().take(edge.unwrap_or(pts.len())) {
                if q.n_diverged > 0 && open(i) {
                    v.push(c.lattice[i]);
                }
            }
        }
        Target::TOpt => {
            let c = Curve::new(a, points, Observable::TestErr);
            let pts = c.table.points();
            match t_opt_ambiguous(&pts, &c.entering(), separation(a)) {
                Some(rows) => v.extend(rows.into_iter().map(|i| c.lattice[i])),
                None => return partial_points(points, partial),
            }
            v.extend(could_enter_inside(points, &c, &pts, decision));
        }
        Target::TcRwc => {
            let c = Curve::new(a, points, Observable::RelWeightChange);
            let pts = c.table.points();
            let level = rwc_level(opts, a, points);
            let full_sd = pts
                .iter()
                .zip(&c.lattice)
                .filter(|(q, &l)| q.n >= 2 && !is_partial(l))
                .map(|(q, _)| q.sd)
                .fold(f64::NAN, f64::max);
            for (i, q) in pts.iter().enumerate() {
                let sd = if q.n >= 2 { q.sd.max(full_sd) } else { full_sd };
                if q.n > 0 && q.n < q.n_runs {
                    v.push(c.lattice[i]);
                } else if q.n > 0 && !sd.is_finite() {
                    // No spread known yet: the bracket's ends first.
                    let (Decision::Refine { brackets, .. } | Decision::Resolved { brackets, .. }) =
                        decision;
                    v.extend(brackets.iter().flat_map(|&(lo, hi)| [lo, hi]));
                } else if q.n > 0
                    && (q.mean - level).abs() < separation(a) * sd / (q.n as f64).sqrt()
                {
                    v.push(c.lattice[i]);
                }
            }
            if absent {
                v.extend(c.lattice.first());
                v.extend(c.entering().last().map(|&i| c.lattice[i]));
            }
            v.extend(could_enter_inside(points, &c, &pts, decision));
        }
        _ => return partial_points(points, partial),
    }
    v.retain(|&l| is_partial(l));
    v.sort_unstable();
    v.dedup();
    v
}

/// `t_opt` with its lowest mean at the first point that enters, row `f` of the curve: the
/// bracket down to the sampled point below it, which does not enter, while points between them
/// are unsampled or that point could still enter ([`cannot_enter`]); any of them entering
/// could be lower. None once it is a neighbour that cannot enter: the grid, which has every
/// point, then has no bracket below either.
fn below_first(
    points: &[Point],
    c: &Curve,
    pts: &[CurvePoint],
    f: usize,
) -> Option<(usize, usize)> {
    let j = f.checked_sub(1)?;
    let (lj, lf) = (c.lattice[j], c.lattice[f]);
    (lf - lj > 1 || !row_settled(points, c, pts, j, cannot_enter)).then_some((lj, lf))
}

/// The sampled points strictly inside one of `decision`'s brackets (which run between points
/// that enter) that do not enter yet but could with the rest of their seeds ([`cannot_enter`]):
/// entering, such a point would move the bracket, so its first seeds, all capped or diverged,
/// cannot decide it alone.
fn could_enter_inside(
    points: &[Point],
    c: &Curve,
    pts: &[CurvePoint],
    decision: &Decision,
) -> Vec<usize> {
    let (Decision::Refine { brackets, .. } | Decision::Resolved { brackets, .. }) = decision;
    (0..pts.len())
        .filter(|&i| {
            let l = c.lattice[i];
            !pts[i].in_fit
                && brackets.iter().any(|&(lo, hi)| lo < l && l < hi)
                && points.iter().any(|p| p.lattice == l)
                && !row_settled(points, c, pts, i, cannot_enter)
        })
        .map(|i| c.lattice[i])
        .collect()
}

/// `t_opt`'s ambiguous points (indices into `pts`; None when no point enters): the minimum
/// while fewer than 2 of its seeds finished, then every point with a finished seed whose mean
/// is within `separation` standard errors of the minimum's (two-sample), with the seed
/// spread pooled over the entering points (variances weighted by their degrees of freedom),
/// not the minimum's own: a minimum resting on two seeds has one degree of freedom, so its
/// spread is often far too wide (every point looks ambiguous and is filled) or far too narrow
/// (two equal test errors, which come in steps of 1/pte, give 0: every other point looks
/// separated).
fn t_opt_ambiguous(pts: &[CurvePoint], rows: &[usize], sep: f64) -> Option<Vec<usize>> {
    let &m = rows
        .iter()
        .min_by(|&&i, &&j| pts[i].mean.total_cmp(&pts[j].mean))?;
    let min = pts[m];
    if min.n < 2 || !min.sd.is_finite() {
        return Some(vec![m]);
    }
    let (mut ss, mut dof) = (0.0, 0usize);
    for &i in rows {
        let q = pts[i];
        if q.n >= 2 && q.sd.is_finite() {
            ss += (q.n - 1) as f64 * q.sd * q.sd;
            dof += q.n - 1;
        }
    }
    let sd = if dof > 0 {
        (ss / dof as f64).sqrt()
    } else {
        min.sd
    };
    Some(
        (0..pts.len())
            .filter(|&i| {
                let q = pts[i];
                let se = sd * (1.0 / q.n as f64 + 1.0 / min.n as f64).sqrt();
                q.n > 0 && q.mean - min.mean < sep * se
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(mean: f64, sd: f64, n: usize) -> CurvePoint {
        CurvePoint {
            x: 0.0,
            mean,
            sd,
            sem: sd / (n as f64).sqrt(),
            n,
            n_runs: n,
            n_diverged: 0,
            n_capped: 0,
            in_fit: true,
            capped_mean: f64::NAN,
        }
    }

    #[test]
    fn a_two_seed_minimum_with_equal_test_errors_does_not_make_the_others_look_separated() {
        // The minimum's two seeds have the same test error (sd 0); the other points' seeds
        // spread by 0.01 as seeds do (pooled over the four: 0.0087). A point 0.01 above the
        // minimum with 2 seeds is within 3 standard errors (3 x 0.0087 x 1 = 0.026) and must
        // get its other seeds; one 0.1 above is not. With the minimum's own spread alone (0),
        // no point at all was ambiguous, not even the minimum.
        let pts = [
            point(0.20, 0.01, 2),
            point(0.11, 0.01, 2),
            point(0.10, 0.0, 2),
            point(0.30, 0.01, 2),
        ];
        assert_eq!(t_opt_ambiguous(&pts, &[0, 1, 2, 3], 3.0), Some(vec![1, 2]));
        // A two-seed minimum whose seeds came out far apart (sd 0.05) against points that
        // spread by 0.01: pooled over the four, 0.0265; the point 0.1 above is separated
        // (3 x 0.0265 = 0.08), where the minimum's own spread (3 x 0.05 = 0.15) would fill it.
        let pts = [
            point(0.20, 0.01, 2),
            point(0.11, 0.01, 2),
            point(0.10, 0.05, 2),
            point(0.30, 0.01, 2),
        ];
        assert_eq!(t_opt_ambiguous(&pts, &[0, 1, 2, 3], 3.0), Some(vec![1, 2]));
        // A full minimum dominates the pool with its 8 degrees of freedom: spread 0.019 from
        // (8 x 0.02^2 + 0.01^2) / 9; se = 0.019 x sqrt(1/2 + 1/9) = 0.0148: 0.04 is within 3 se.
        let pts = [point(0.14, 0.01, 2), point(0.10, 0.02, 9)];
        assert_eq!(t_opt_ambiguous(&pts, &[0, 1], 3.0), Some(vec![0, 1]));
        // The minimum with fewer than 2 finished seeds: only it, until its spread is known.
        let pts = [point(0.12, 0.01, 2), point(0.10, 0.0, 1)];
        assert_eq!(t_opt_ambiguous(&pts, &[0, 1], 3.0), Some(vec![1]));
        assert_eq!(t_opt_ambiguous(&pts, &[], 3.0), None);
    }

    /// Every (full, n_runs, k) with 1 <= full <= 9 seeds, n_runs <= full run and k <= n_runs of
    /// them counted (diverged or finished), for which `settled` holds: the cases the exhaustive
    /// tests of a settled rule check against every way the seeds still to run can end.
    fn settled_cases(settled: impl Fn(usize, usize, usize) -> bool) -> Vec<(usize, usize, usize)> {
        let all = (1..=9usize).flat_map(|full| {
            (0..=full).flat_map(move |n_runs| (0..=n_runs).map(move |k| (full, n_runs, k)))
        });
        let cases: Vec<_> = all
            .filter(|&(full, n_runs, k)| settled(full, n_runs, k))
            .collect();
        assert!(!cases.is_empty(), "the rule settles no case");
        cases
    }

    #[test]
    fn an_end_of_the_edge_is_settled_once_the_rest_of_its_seeds_cannot_turn_the_majority() {
        let at = |n_runs: usize, n_diverged: usize| CurvePoint {
            n_runs,
            n_diverged,
            n: n_runs - n_diverged,
            ..point(0.1, 0.01, 1)
        };
        // Of 9 seeds, 5 diverged decide "most diverge" (is_diverged: 2 x 5 >= 9), 4 do not.
        assert!(divergence_settled(&at(5, 5), 9));
        assert!(!divergence_settled(&at(5, 4), 9));
        assert!(!divergence_settled(&at(2, 2), 9));
        // 5 finished without divergence: even 4 more diverged seeds stay below half.
        assert!(divergence_settled(&at(5, 0), 9));
        assert!(!divergence_settled(&at(5, 1), 9));
        assert!(divergence_settled(&at(9, 4), 9));
        // An even count: half is "most" (2 x 1 >= 2); a full point is always settled.
        assert!(divergence_settled(&at(1, 1), 2));
        assert!(!divergence_settled(&at(1, 0), 2));
        assert!(divergence_settled(&at(2, 0), 2));
        // The judgement agrees with is_diverged over the full point whatever the rest give.
        for (full, n_runs, d) in
            settled_cases(|full, n_runs, d| divergence_settled(&at(n_runs, d), full))
        {
            let answers: Vec<bool> = (0..=full - n_runs)
                .map(|more| at(full, d + more).is_diverged())
                .collect();
            assert!(
                answers.iter().all(|&x| x == answers[0]),
                "{full} {n_runs} {d}"
            );
        }
    }

    #[test]
    fn a_point_that_does_not_enter_is_settled_once_the_rest_of_its_seeds_cannot_make_it_enter() {
        // n finished of n_runs run, of `full` seeds; it enters when a strict majority of the
        // seeds run finished (SeedTable::enters).
        let at = |n_runs: usize, n: usize| CurvePoint {
            n_runs,
            n,
            n_diverged: n_runs - n,
            in_fit: false,
            ..point(0.1, 0.01, 1)
        };
        // 5 of 9 diverged: 4 more finished would make 4 of 9, not a majority.
        assert!(cannot_enter(&at(5, 0), 9));
        // 1 finished of 5: 4 more would make 5 of 9.
        assert!(!cannot_enter(&at(5, 1), 9));
        // 2 of 2 diverged of 9: the other 7 could finish.
        assert!(!cannot_enter(&at(2, 0), 9));
        assert!(cannot_enter(&at(9, 4), 9));
        // Against every way the seeds still to run can end (finished, diverged or not run at
        // all, as a failed run), by the rule of SeedTable::enters.
        for (full, n_runs, n) in settled_cases(|full, n_runs, n| cannot_enter(&at(n_runs, n), full))
        {
            for ran in 0..=full - n_runs {
                for fin in 0..=ran {
                    let (f, r) = (n + fin, n_runs + ran);
                    assert!(!(f > 0 && 2 * f > r), "{full} {n_runs} {n}: {f} of {r}");
                }
            }
        }
    }

    /// A finished (or diverged) run at learning rate `lr` with `seed` and test error `err`.
    fn run(lr: f64, seed: i64, err: f64, diverged: bool) -> Summary {
        run_ended(
            lr,
            seed,
            err,
            if diverged { "diverged" } else { "zero_loss" },
        )
    }

    /// A run at learning rate `lr` that ended by `stop` (`zero_loss`, `diverged`, `max_steps`).
    fn run_ended(lr: f64, seed: i64, err: f64, stop: &str) -> Summary {
        let set =
            r#"{"loss": 0.0, "alpha_loss": 0.0, "err": 0.0, "min_margin": 0.0, "unfitted": 0}"#;
        let json = format!(
            r#"{{"id": "r-{lr}-{seed}", "stop_reason": "{stop}", "steps": 10, "t_star": 1.0,
            "train_err": 0.0, "test_err": {err}, "train_loss": 0.0, "test_loss": 0.0,
            "rel_weight_change": 0.1, "rel_weight_change_layer_mean": 0.1, "temp": {lr},
            "lr": {lr}, "alpha": 1.0, "ptr": 256,
            "config": {{"arch": "mlp", "lr": {lr}, "batch": 1, "seed_init": {seed}, "ptr": 256}},
            "last": {{"step": 10, "t": 1.0, "train": {set}, "test": {set},
            "rel_weight_change": 0.1, "rel_weight_change_layer_mean": 0.1}}}}"#
        );
        serde_json::from_str(&json).unwrap()
    }

    /// A `t_opt` search on the learning rates 2^0 .. 2^(n-1), round 0 every `coarse`-th, with
    /// `first` seeds and then `steps`.
    fn t_opt_search(n: i32, coarse: usize, first: usize, steps: Vec<usize>) -> Adaptive {
        Adaptive {
            axis: "lr".into(),
            values: (0..n).map(|k| toml::Value::Float(2f64.powi(k))).collect(),
            coarse,
            targets: vec![Target::TOpt],
            max_rounds: 8,
            rwc_level: None,
            warm: false,
            ntk_level: None,
            inner: Vec::new(),
            seeds: Some(first),
            seed_steps: steps,
            separation: None,
        }
    }

    /// The sampled points at lattice indices `at` of 9 seeds each, with the runs `runs`.
    fn points_at<'a>(at: &[usize], runs: &'a [Vec<Summary>]) -> Vec<Point<'a>> {
        at.iter()
            .zip(runs)
            .map(|(&l, r)| Point {
                lattice: l,
                seeds: 9,
                runs: r.iter().collect(),
            })
            .collect()
    }

    #[test]
    fn t_opts_end_above_the_last_point_below_divergence_is_settled_once_it_cannot_enter() {
        // Four learning rates of 9 seeds: the test error falls to the third (no T_opt inside:
        // brackets (1, 2) and (2, 3)); the fourth has 5 seeds run, `diverged_there` of them
        // diverged, the others finished.
        let a = t_opt_search(4, 1, 2, vec![5]);
        let settled = |diverged_there: i64| {
            let runs: Vec<Vec<Summary>> = (0..4)
                .map(|k| {
                    let lr = 2f64.powi(k);
                    let n = if k == 3 { 5 } else { 9 };
                    (0..n)
                        .map(|s| run(lr, s, 0.3 - 0.05 * k as f64, k == 3 && s < diverged_there))
                        .collect()
                })
                .collect();
            let points = points_at(&[0, 1, 2, 3], &runs);
            let j = AnalysisJudge::default();
            let Decision::Resolved {
                brackets, estimate, ..
            } = j.judge(Target::TOpt, &a, &points)
            else {
                panic!("not resolved");
            };
            (
                estimate,
                brackets.clone(),
                j.settled(Target::TOpt, &a, &points, &brackets),
            )
        };
        // 5 of 5 diverged: 4 more finished would be 4 of 9, no majority: settled (the ends that
        // enter never are: T_opt reads their means).
        assert_eq!(settled(5), (None, vec![(1, 2), (2, 3)], vec![3]));
        // 4 of 5 diverged (it does not enter yet): 4 more finished would make 5 of 9.
        assert_eq!(settled(4), (None, vec![(1, 2), (2, 3)], vec![]));
    }

    /// Regression (a replay of the whole lattice with another seed order): the middle of
    /// T_opt's bracket had only its first seed, which hit `max_steps`, so the point did not
    /// enter, was never filled, and the bracket (0, 4) was never narrowed: the minimum the
    /// grid finds inside it was missed.
    #[test]
    fn a_point_inside_a_bracket_that_could_still_enter_gets_its_seeds_and_the_bracket_narrows() {
        let a = t_opt_search(6, 2, 1, vec![2, 5]);
        // Lattice 0, 2, 4 sampled (5: every seed diverges); 2 has one seed, capped.
        let runs: Vec<Vec<Summary>> = vec![
            (0..9).map(|s| run(1.0, s, 0.30, false)).collect(),
            vec![run_ended(4.0, 0, 0.10, "max_steps")],
            (0..9).map(|s| run(16.0, s, 0.20, false)).collect(),
            (0..9).map(|s| run(32.0, s, 0.5, true)).collect(),
        ];
        let points = points_at(&[0, 2, 4, 5], &runs);
        let partial = [false, true, false, false];
        let j = AnalysisJudge::default();
        let d = j.judge(Target::TOpt, &a, &points);
        let (Decision::Refine { brackets, .. } | Decision::Resolved { brackets, .. }) = &d;
        assert_eq!(brackets, &vec![(0, 4), (4, 5)]);
        // The capped point is filled (it could enter), ...
        assert_eq!(
            j.needs_seeds(Target::TOpt, &a, &points, &partial, &d),
            vec![2]
        );
        // ... and the bracket asks for the lattice points beside it (the plan's bisection).
        assert!(matches!(d, Decision::Refine { .. }));
    }

    /// Regression (the whole lattice in another seed order): the lowest mean was at the first
    /// point that entered, the sampled point below it had one of its two seeds capped and did
    /// not enter, and the search bracketed nothing below: the grid's minimum lay between them.
    #[test]
    fn a_minimum_at_the_first_point_that_enters_is_bracketed_down_to_the_sampled_point_below() {
        let a = t_opt_search(8, 4, 1, vec![2, 5]);
        let brackets = |below: Vec<Summary>, at: usize| {
            let runs: Vec<Vec<Summary>> = vec![
                vec![run_ended(1.0, 0, 0.3, "max_steps")],
                below,
                (0..9).map(|s| run(16.0, s, 0.13, false)).collect(),
                (0..9).map(|s| run(32.0, s, 0.5, true)).collect(),
            ];
            let points = points_at(&[0, at, 4, 5], &runs);
            let (Decision::Refine { brackets, .. } | Decision::Resolved { brackets, .. }) =
                AnalysisJudge::default().judge(Target::TOpt, &a, &points);
            brackets
        };
        // Point 2: one seed finished, one capped (no strict majority): bracketed, though
        // nothing enters below the minimum at 4.
        let two = vec![
            run(4.0, 0, 0.15, false),
            run_ended(4.0, 1, 0.17, "max_steps"),
        ];
        assert_eq!(brackets(two, 2), vec![(2, 4), (4, 5)]);
        // Point 3, the neighbour, with 5 of 9 seeds capped: it cannot enter, and no bracket is
        // left below, as in the grid.
        let five = (0..5)
            .map(|s| run_ended(8.0, s, 0.2, "max_steps"))
            .collect();
        assert_eq!(brackets(five, 3), vec![(4, 5)]);
    }

    #[test]
    fn a_smaller_separation_fills_fewer_points_and_zero_only_the_minimum() {
        // Pooled spread 0.01 over four two-seed points: se = 0.01 x 1 = 0.01 to the minimum.
        let pts = [
            point(0.125, 0.01, 2),
            point(0.105, 0.01, 2),
            point(0.10, 0.01, 2),
            point(0.30, 0.01, 2),
        ];
        let rows = [0, 1, 2, 3];
        assert_eq!(t_opt_ambiguous(&pts, &rows, 3.0), Some(vec![0, 1, 2]));
        assert_eq!(t_opt_ambiguous(&pts, &rows, 1.0), Some(vec![1, 2]));
        // Zero: none, not even the minimum (the plan fills the decisive points, the minimum
        // and its neighbours, anyway).
        assert_eq!(t_opt_ambiguous(&pts, &rows, 0.0), Some(vec![]));
    }
}
