//! Adaptive sweeps: a sweep file whose `[adaptive]` table names one axis (the temperature or
//! the learning rate; the batch size for B*, each point then a whole column of learning rates,
//! `inner`) to search instead of to run densely, and the targets to locate on it
//! (SPEC §12).
//!
//! The axis' values are the *lattice*: every point the search may ask for (so the finest
//! resolution is the lattice step, and every run it makes is a run of the dense sweep, with
//! the dense sweep's id). Each *cell* (a combination of the other axes, the seed axes left
//! out: a curve against the searched axis) starts from every `coarse`-th lattice point (and
//! the last); once every run of a cell's points has ended, a [`Judge`] reads the finished
//! summaries and says, for each target, either that it is resolved (located between two
//! neighbouring lattice points, or absent from the range) or between which sampled points it
//! lies; the lattice point in the middle of each such bracket (or, where that one is sampled
//! but does not enter, the unsampled point nearest it) joins the cell in its next round. A
//! cell stops when every target is resolved or after `max_rounds` rounds.
//!
//! With `warm = true` the cells go one after the other: a cell's round 0 waits for the cell
//! before it and takes the ends of the brackets that cell located its targets in (the coarse
//! points for `tc_plateau`, `t_opt` and a target it found absent); where its target lies
//! beyond them, the judge brackets it with the lattice's end and the search steps out from the
//! sampled end with a doubling step before it bisects.
//!
//! With `seeds = N` a newly sampled point gets only its first N seed combinations (in
//! candidate order); it gets the rest in a later round when a decision needs them: the ends of
//! the brackets a target is located in (its decisive points: a target counts as located only
//! once they are full, and is judged again then), and the points the judge finds ambiguous
//! given the seed spread ([`Judge::needs_seeds`]; SPEC §12 has the rule), except the ends
//! whose part in the decision no further seed can change ([`Judge::settled`]: a point where
//! most seeds of the full point diverge, or cannot; for `t_opt`, one above the last point
//! below divergence that could no longer enter). With `seeds = [N, M, ...]` a point is
//! filled one step at a time (to M seeds, ..., then all), judged again after each. Without
//! the key every point gets all its seeds at once (the plan of a file without it, bit for bit).
//!
//! The plan is a function of the store's finished (and failed) runs only, computed afresh each
//! time ([`plan`]): a killed adaptive sweep resumes where it was, and nothing is ever run twice.
//! The campaign crate knows nothing of figures: the command line hands in a judge built on
//! the analysis crate's estimators, so that the adaptive answer is the one `analyze` gives.

use crate::sweepfile::{show_value, Expansion, SweepFile};
use crate::Store;
use serde::Serialize;
use sgdnoise_core::rundir::Summary;
use std::collections::{BTreeMap, HashMap};

pub use crate::sweepfile::target::{
    Adaptive, Target, DEFAULT_COARSE, DEFAULT_MAX_ROUNDS, DEFAULT_SEPARATION,
};

impl SweepFile {
    /// The adaptive form of a dense sweep: its shared single axis `axis` becomes the lattice of
    /// a search for `targets` (how `reproduce NAME --adaptive` turns a preset into an adaptive
    /// sweep; every run it can ask for is a run of the dense preset, under the same id).
    pub fn into_adaptive(
        mut self,
        axis: &str,
        targets: &[Target],
        coarse: usize,
    ) -> Result<SweepFile, crate::PlanErrors> {
        let bad = |m: String| crate::PlanErrors(vec![crate::sweepfile::err_at("[adaptive]", m)]);
        if self.adaptive.is_some() {
            return Err(bad("the sweep is adaptive already".into()));
        }
        let in_parts = |p: &Vec<crate::sweepfile::Axis>| p.iter().any(|a| a.keys == [axis]);
        let mut values: Vec<toml::Value> = match self.axes.iter().position(|a| a.keys == [axis]) {
            Some(pos) => self.axes.remove(pos).points.into_iter().flatten().collect(),
            // An axis of every [[part]] (B = 1..P per P): the lattice is their union, and each
            // part keeps its values as its own sub-lattice.
            None if !self.parts.is_empty() && self.parts.iter().all(in_parts) => self
                .parts
                .iter()
                .flatten()
                .filter(|a| a.keys == [axis])
                .flat_map(|a| a.points.iter().flatten().cloned())
                .collect(),
            None => {
                return Err(bad(format!(
                    "`{axis}` is not a shared single axis of the sweep, nor an axis of every part"
                )))
            }
        };
        let num = |v: &toml::Value| v.as_float().or(v.as_integer().map(|i| i as f64));
        values.sort_by(|a, b| num(a).unwrap_or(0.0).total_cmp(&num(b).unwrap_or(0.0)));
        values.dedup_by(|a, b| num(a) == num(b));
        if values.len() < 2 {
            return Err(bad(format!("`{axis}` has fewer than two values")));
        }
        self.name = format!("{}-adaptive", self.name);
        self.adaptive = Some(Adaptive {
            axis: axis.to_string(),
            values,
            coarse,
            targets: targets.to_vec(),
            max_rounds: DEFAULT_MAX_ROUNDS,
            rwc_level: None,
            warm: false,
            ntk_level: None,
            inner: Vec::new(),
            seeds: None,
            seed_steps: Vec::new(),
            separation: None,
        });
        Ok(self)
    }
}

/// One sampled point of a cell as a judge sees it.
#[derive(Clone, Debug)]
pub struct Point<'a> {
    /// Index into the lattice.
    pub lattice: usize,
    /// Seed combinations of the point when full (the dense sweep's; `runs` may have fewer).
    pub seeds: usize,
    /// The finished runs there (every seed whose run finished; failed runs are absent).
    pub runs: Vec<&'a Summary>,
}

/// A judge's answer for one target of one cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Located: the estimate (if it has one) and the pairs of neighbouring lattice points
    /// around it (`brackets`; empty when absent from the range, `note` says why).
    Resolved {
        estimate: Option<f64>,
        brackets: Vec<(usize, usize)>,
        note: String,
    },
    /// The target lies between these lattice points (each pair `lo < hi`); pairs of sampled
    /// neighbours need nothing more. One end may be unsampled only where the sampled points
    /// do not reach the lattice's end (a warm-started cell): the target may lie beyond them,
    /// and the search steps out from the sampled end, doubling its step.
    Refine {
        brackets: Vec<(usize, usize)>,
        note: String,
    },
}

/// Decides targets from finished runs (the command line implements it with the analysis
/// crate's estimators).
pub trait Judge {
    /// `points` are the cell's sampled points, ascending along the axis, all ended.
    fn judge(&self, target: Target, adaptive: &Adaptive, points: &[Point]) -> Decision;

    /// With `[adaptive].seeds`: the lattice indices of the points (`partial[k]`: `points[k]`
    /// has only its first seeds) whose evidence on `target` is ambiguous given the seed spread,
    /// so that `decision` could change with the rest of their seeds (SPEC §12). The plan fills
    /// them (and, once a target is located, the ends of its brackets) and judges again. The
    /// default fills every partial point: a judge that knows nothing of partial points gets
    /// the answer of full points, in more rounds.
    fn needs_seeds(
        &self,
        target: Target,
        adaptive: &Adaptive,
        points: &[Point],
        partial: &[bool],
        decision: &Decision,
    ) -> Vec<usize> {
        let _ = (target, adaptive, decision);
        partial_points(points, partial)
    }

    /// The ends of a located target's `brackets` whose part in the decision the rest of their
    /// seeds cannot change (whatever those runs give, the decision over every seed is this
    /// one), so that they need not be filled. The default: none (every end gets all its seeds).
    fn settled(
        &self,
        target: Target,
        adaptive: &Adaptive,
        points: &[Point],
        brackets: &[(usize, usize)],
    ) -> Vec<usize> {
        let _ = (target, adaptive, points, brackets);
        Vec::new()
    }
}

/// The lattice indices of the partial points (`partial[k]`: `points[k]` has only its first
/// seeds): what [`Judge::needs_seeds`] fills by default.
pub fn partial_points(points: &[Point], partial: &[bool]) -> Vec<usize> {
    points
        .iter()
        .zip(partial)
        .filter(|(_, &p)| p)
        .map(|(p, _)| p.lattice)
        .collect()
}

/// Where one cell stands.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CellStatus {
    /// Round `round` has runs not ended.
    Waiting { round: usize, not_ended: usize },
    /// Warm start: waits for the cell before it to settle before its round 0.
    Pending,
    /// Every target resolved.
    Resolved,
    /// `max_rounds` reached with targets still unresolved.
    Capped,
}

/// One cell of an adaptive plan.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    /// `key=value` of its axes (the seed axes and the searched axis left out).
    pub label: String,
    /// Lattice indices added in each round (round 0: the coarse points).
    pub rounds: Vec<Vec<usize>>,
    /// Lattice indices given the rest of their seeds in each round (`[adaptive].seeds`; empty
    /// when every point gets all its seeds at once).
    pub filled: Vec<Vec<usize>>,
    /// Sampled lattice indices that have only their first seeds (`[adaptive].seeds`, or a
    /// step of it).
    pub partial: Vec<usize>,
    /// The seed combinations each of `partial` has.
    pub partial_seeds: Vec<usize>,
    /// Seed combinations of a full point.
    pub seeds: usize,
    pub status: CellStatus,
    /// The last decision per target (empty while round 0 is not complete).
    pub decisions: Vec<TargetState>,
}

/// The last decision on one target of a cell.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetState {
    pub target: Target,
    /// The judge's note (what it found).
    pub note: String,
    /// The estimate, once located (None: absent from the range, or not located yet).
    pub estimate: Option<f64>,
    /// Located: nothing left to refine for it.
    pub located: bool,
    /// Located: the pairs of sampled neighbours around it (what a warm start starts from).
    pub brackets: Vec<(usize, usize)>,
}

/// An adaptive sweep's plan so far: the dense expansion (the candidates), the runs planned in
/// rounds, and each cell's state.
#[derive(Clone, Debug)]
pub struct AdaptivePlan {
    /// Every candidate run (the dense grid over the lattice).
    pub candidates: Expansion,
    /// The planned runs: indices into `candidates`, by round, then in candidate order.
    pub planned: Vec<usize>,
    /// The round of each planned run.
    pub round_of: Vec<usize>,
    pub cells: Vec<Cell>,
}

impl AdaptivePlan {
    /// The planned runs as an [`Expansion`] (labels kept): what `sweep run`, `status`,
    /// `slurm` and `analyze --sweep` work on.
    pub fn expansion(&self) -> Expansion {
        let mut e = self.candidates.clone();
        e.plan.runs = self
            .planned
            .iter()
            .map(|&i| self.candidates.plan.runs[i].clone())
            .collect();
        e.labels = self
            .planned
            .iter()
            .map(|&i| self.candidates.labels[i].clone())
            .collect();
        e
    }

    /// Whether every cell is resolved.
    pub fn resolved(&self) -> bool {
        self.cells.iter().all(|c| c.status == CellStatus::Resolved)
    }

    /// Whether no cell waits for runs (resolved or capped everywhere).
    pub fn settled(&self) -> bool {
        self.cells
            .iter()
            .all(|c| !matches!(c.status, CellStatus::Waiting { .. } | CellStatus::Pending))
    }

    /// Rounds planned so far (the most of any cell).
    pub fn rounds(&self) -> usize {
        self.round_of.iter().map(|r| r + 1).max().unwrap_or(0)
    }
}

/// Seed settings: runs that differ only in them are one point of a curve.
const SEED_KEYS: [&str; 4] = ["seed_init", "seed_batch", "seed_trainset", "seed_testset"];

/// The plan of an adaptive sweep given the runs of `store` (see the module doc; None: no runs
/// yet, round 0). `sweep` must have an `[adaptive]` table; `candidates` is its expansion.
pub fn plan(
    sweep: &SweepFile,
    candidates: Expansion,
    store: Option<&Store>,
    judge: &dyn Judge,
) -> Result<AdaptivePlan, sgdnoise_core::Error> {
    let adaptive = sweep
        .adaptive
        .as_ref()
        .expect("adaptive::plan needs an [adaptive] table");
    let finished: HashMap<String, Summary> = match store.filter(|s| s.root().is_dir()) {
        Some(store) => store
            .collect()?
            .into_iter()
            .map(|s| (s.id.clone(), s))
            .collect(),
        None => HashMap::new(),
    };
    let ended = |i: usize| -> bool {
        let id = candidates.plan.runs[i].identity();
        finished.contains_key(&id)
            || store.is_some_and(|s| crate::read_failure(&s.run_dir(&id)).is_some())
    };
    let lattice_text: Vec<String> = adaptive.values.iter().map(show_value).collect();
    let key = adaptive.axis.as_str();
    // Cells in order of first appearance; per cell, the runs at each lattice index.
    let mut cell_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut cells_runs: Vec<(String, Vec<Vec<usize>>)> = Vec::new();
    for (i, label) in candidates.labels.iter().enumerate() {
        let mut at = None;
        let mut rest = Vec::new();
        for (k, v) in label {
            let k_ = k.replace('-', "_");
            if k_ == key {
                at = lattice_text.iter().position(|t| t == v);
            } else if !SEED_KEYS.contains(&k_.as_str()) && !adaptive.inner.contains(&k_) {
                rest.push(format!("{k}={v}"));
            }
        }
        let Some(at) = at else { continue };
        let name = rest.join(" ");
        let c = *cell_index.entry(name.clone()).or_insert_with(|| {
            cells_runs.push((name, vec![Vec::new(); lattice_text.len()]));
            cells_runs.len() - 1
        });
        cells_runs[c].1[at].push(i);
    }
    let mut planned: Vec<(usize, usize)> = Vec::new(); // (round, candidate index)
    let mut cells: Vec<Cell> = Vec::new();
    for (label, at) in cells_runs {
        // Seed combinations of a full point.
        let full_seeds = at.iter().map(Vec::len).max().unwrap_or(0);
        // Round 0: the coarse points, or (warm start) what the cell before located.
        let start = match cells.last() {
            Some(prev) if adaptive.warm => match prev.status {
                CellStatus::Waiting { .. } | CellStatus::Pending => None,
                CellStatus::Capped => Some(adaptive.coarse_points()),
                CellStatus::Resolved => Some(warm_points(adaptive, &prev.decisions)),
            },
            _ => Some(adaptive.coarse_points()),
        };
        let Some(mut selected) = start else {
            cells.push(Cell {
                label,
                rounds: Vec::new(),
                filled: Vec::new(),
                partial: Vec::new(),
                partial_seeds: Vec::new(),
                seeds: full_seeds,
                status: CellStatus::Pending,
                decisions: Vec::new(),
            });
            continue;
        };
        within_cell(adaptive, &at, &mut selected);
        // Seeds per point: a new point gets the first `seeds` of its seed combinations, a
        // filled one all of them; `round_runs[r]` are the runs round r added.
        let first = |l: usize| adaptive.seeds.map_or(at[l].len(), |n| n.min(at[l].len()));
        let mut n_of: BTreeMap<usize, usize> = selected.iter().map(|&l| (l, first(l))).collect();
        let mut round_runs: Vec<Vec<usize>> = vec![selected
            .iter()
            .flat_map(|&l| at[l][..first(l)].to_vec())
            .collect()];
        let mut rounds = vec![selected.clone()];
        let mut filled: Vec<Vec<usize>> = vec![Vec::new()];
        let mut decisions = Vec::new();
        let status = loop {
            let round = rounds.len() - 1;
            let not_ended = round_runs[round].iter().filter(|&&i| !ended(i)).count();
            if not_ended > 0 {
                break CellStatus::Waiting { round, not_ended };
            }
            let points: Vec<Point> = selected
                .iter()
                .map(|&l| Point {
                    lattice: l,
                    seeds: at[l].len(),
                    runs: at[l][..n_of[&l]]
                        .iter()
                        .filter_map(|&i| finished.get(&candidates.plan.runs[i].identity()))
                        .collect(),
                })
                .collect();
            let partial: Vec<bool> = selected.iter().map(|&l| n_of[&l] < at[l].len()).collect();
            let is_partial = |l: usize| n_of.get(&l).is_some_and(|&n| n < at[l].len());
            decisions.clear();
            let mut add = Vec::new();
            let mut fill = Vec::new();
            for &t in &adaptive.targets {
                let decision = judge.judge(t, adaptive, &points);
                // Partial points the decision needs all seeds of: the judge's ambiguous ones
                // and, once located, the ends of its brackets (its decisive points).
                let mut needs: Vec<usize> = if partial.iter().any(|&p| p) {
                    judge.needs_seeds(t, adaptive, &points, &partial, &decision)
                } else {
                    Vec::new()
                };
                match decision {
                    Decision::Resolved {
                        estimate,
                        brackets,
                        note,
                    } => {
                        let settled = judge.settled(t, adaptive, &points, &brackets);
                        needs.extend(
                            brackets
                                .iter()
                                .flat_map(|&(lo, hi)| [lo, hi])
                                .filter(|l| !settled.contains(l)),
                        );
                        needs.retain(|&l| is_partial(l));
                        decisions.push((t, note, estimate, needs.is_empty(), brackets));
                    }
                    Decision::Refine { brackets, note } => {
                        needs.retain(|&l| is_partial(l));
                        let mids: Vec<usize> = brackets
                            .iter()
                            .filter_map(|&(lo, hi)| next_point(lo, hi, &selected))
                            .collect();
                        decisions.push((
                            t,
                            note,
                            None,
                            mids.is_empty() && needs.is_empty(),
                            brackets,
                        ));
                        add.extend(mids);
                    }
                }
                fill.extend(needs);
            }
            add.sort_unstable();
            add.dedup();
            fill.sort_unstable();
            fill.dedup();
            if add.is_empty() && fill.is_empty() {
                break CellStatus::Resolved;
            }
            // `max_rounds` counts the rounds that sample new points; a round that only gives
            // points the rest of their seeds does not count (there are finitely many).
            let refinements = rounds.iter().skip(1).filter(|r| !r.is_empty()).count();
            if !add.is_empty() && refinements >= adaptive.max_rounds {
                break CellStatus::Capped;
            }
            let mut runs: Vec<usize> = Vec::new();
            for &l in &add {
                n_of.insert(l, first(l));
                runs.extend(&at[l][..first(l)]);
            }
            for &l in &fill {
                let next = adaptive.next_seeds(n_of[&l], at[l].len());
                runs.extend(&at[l][n_of[&l]..next]);
                n_of.insert(l, next);
            }
            selected.extend(&add);
            selected.sort_unstable();
            rounds.push(add);
            filled.push(fill);
            round_runs.push(runs);
        };
        for (r, runs) in round_runs.iter().enumerate() {
            planned.extend(runs.iter().map(|&i| (r, i)));
        }
        let (partial, partial_seeds): (Vec<usize>, Vec<usize>) = n_of
            .iter()
            .filter(|&(&l, &n)| n < at[l].len())
            .map(|(&l, &n)| (l, n))
            .unzip();
        cells.push(Cell {
            label,
            rounds,
            filled,
            partial,
            partial_seeds,
            seeds: full_seeds,
            status,
            decisions: decisions
                .into_iter()
                .map(|(target, note, estimate, located, brackets)| TargetState {
                    target,
                    note,
                    estimate,
                    located,
                    brackets,
                })
                .collect(),
        });
    }
    planned.sort_unstable();
    Ok(AdaptivePlan {
        round_of: planned.iter().map(|p| p.0).collect(),
        planned: planned.iter().map(|p| p.1).collect(),
        candidates,
        cells,
    })
}

/// The lattice point a bracket `(lo, hi)` asks for next, given the sampled points `selected`
/// (ascending): its middle when both ends are sampled (None once every point between them is
/// sampled); when one end is not (a warm start whose target may lie beyond its points), a step
/// out from the sampled end as wide as the sampled points' span, so the step doubles each
/// round. Where that point is sampled already (a bracket between the points that enter can
/// span one that does not, capped or diverged), the unsampled point of the bracket nearest to
/// it: the grid reads every point, and one not yet run may enter and move the answer.
fn next_point(lo: usize, hi: usize, selected: &[usize]) -> Option<usize> {
    if hi <= lo {
        return None;
    }
    let span = match (selected.first(), selected.last()) {
        (Some(&f), Some(&l)) => (l - f).max(1),
        _ => 1,
    };
    let p = match (selected.contains(&lo), selected.contains(&hi)) {
        (false, true) => hi.saturating_sub(span).max(lo),
        (true, false) => (lo + span).min(hi),
        _ => lo + (hi - lo) / 2,
    };
    (lo..=hi)
        .filter(|l| !selected.contains(l))
        .min_by_key(|&l| (l.abs_diff(p), l))
}

/// Round 0 of a cell whose [[part]] restricts the searched axis to some lattice points (`at`:
/// the runs at each lattice point): every `coarse`-th point of its own and its last (the
/// (B, eta) rule reads its smallest and largest B), with the warm points it has. A cell that
/// has every lattice point keeps `selected` as it is.
fn within_cell(adaptive: &Adaptive, at: &[Vec<usize>], selected: &mut Vec<usize>) {
    if at.iter().all(|r| !r.is_empty()) {
        return;
    }
    let own: Vec<usize> = (0..at.len()).filter(|&l| !at[l].is_empty()).collect();
    let mut v = adaptive.coarse_of(&own);
    v.extend(
        selected
            .iter()
            .filter(|&&l| adaptive.warm && own.contains(&l)),
    );
    v.sort_unstable();
    v.dedup();
    *selected = v;
}

/// Round 0 of a warm-started cell: for each target, the ends of the brackets the cell before
/// located it in; the coarse points for a target it found absent (no bracket), for
/// `tc_plateau`, whose estimate reads the whole low end of the curve, and for `t_opt`, a
/// global minimum that a search from the minimum next door can miss (a curve with two dips:
/// measured on the phase-diagram stand-in, README).
fn warm_points(adaptive: &Adaptive, before: &[TargetState]) -> Vec<usize> {
    let mut v = Vec::new();
    for &t in &adaptive.targets {
        let brackets = before
            .iter()
            .find(|d| d.target == t)
            .map(|d| d.brackets.as_slice())
            .unwrap_or_default();
        if matches!(t, Target::TcPlateau | Target::TOpt) || brackets.is_empty() {
            v.extend(adaptive.coarse_points());
        } else {
            v.extend(brackets.iter().flat_map(|&(lo, hi)| [lo, hi]));
        }
    }
    v.retain(|&l| l < adaptive.values.len());
    v.sort_unstable();
    v.dedup();
    v
}

#[cfg(test)]
mod tests;
