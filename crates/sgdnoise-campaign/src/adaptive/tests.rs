use super::*;
use crate::sweepfile::SweepFile;

/// A judge of a step at a known lattice index: the target lies between the highest sampled
/// point below `edge` and the lowest at or above it.
struct Step {
    edge: usize,
}

impl Judge for Step {
    fn judge(&self, _t: Target, _a: &Adaptive, points: &[Point]) -> Decision {
        let below = points.iter().rev().find(|p| p.lattice < self.edge);
        let above = points.iter().find(|p| p.lattice >= self.edge);
        match (below, above) {
            (Some(b), Some(a)) if a.lattice - b.lattice > 1 => Decision::Refine {
                brackets: vec![(b.lattice, a.lattice)],
                note: "bracketed".into(),
            },
            (b, a) => Decision::Resolved {
                estimate: Some(self.edge as f64),
                brackets: b
                    .zip(a)
                    .map(|(b, a)| (b.lattice, a.lattice))
                    .into_iter()
                    .collect(),
                note: "located".into(),
            },
        }
    }
}

const FILE: &str = r#"
[fixed]
dataset = "depleted_sign"
dim = 8
ptr = 64
batch = 2
[axes]
seed_init = { range = [0, 2] }
chi = [0, 1]
[adaptive]
axis = "temp"
values = { log2 = [-8, 8] }
coarse = 4
targets = ["divergence"]
"#;

#[test]
fn adaptive_table_parses_and_its_candidates_are_the_dense_grid() {
    let f = SweepFile::parse(FILE, "t").unwrap();
    let a = f.adaptive.as_ref().unwrap();
    assert_eq!(a.values.len(), 17);
    assert_eq!(a.coarse_points(), vec![0, 4, 8, 12, 16]);
    let dense = SweepFile::parse(
        &FILE
            .replace("[adaptive]\naxis = \"temp\"\nvalues =", "temp =")
            .replace("coarse = 4\ntargets = [\"divergence\"]\n", ""),
        "t",
    )
    .unwrap();
    let ids = |f: &SweepFile| {
        let mut v: Vec<String> = f
            .expand()
            .unwrap()
            .plan
            .runs
            .iter()
            .map(|r| r.identity())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids(&f), ids(&dense));
}

#[test]
fn bad_adaptive_tables_name_the_field() {
    for (bad, field) in [
        ("axis = \"ptr\"", "[adaptive].axis"),
        ("targets = []", "[adaptive].targets"),
        ("targets = [\"nonsense\"]", "[adaptive].targets"),
        ("coarse = 0", "[adaptive].coarse"),
        ("max_rounds = 100000", "[adaptive].max_rounds"),
        ("values = { log2 = [1, 1] }", "[adaptive].values"),
        ("rwc_level = -1", "[adaptive].rwc_level"),
        ("warm = 1", "[adaptive].warm"),
        ("seeds = 0", "[adaptive].seeds"),
        ("seeds = \"all\"", "[adaptive].seeds"),
        // Without `seeds` (FILE has none) every point has all its seeds: nothing to separate.
        ("separation = 2", "[adaptive].separation"),
        ("frobnicate = 1", "[adaptive].frobnicate"),
    ] {
        let key = bad.split(' ').next().unwrap();
        let text: String = FILE
            .lines()
            .filter(|l| !l.starts_with(&format!("{key} ")))
            .chain([bad])
            .collect::<Vec<_>>()
            .join("\n");
        let e = SweepFile::parse(&text, "t").unwrap_err();
        assert!(e.0.iter().any(|e| e.context == field), "{bad}: {:?}", e.0);
    }
    for bad in ["separation = -1", "separation = 11", "separation = \"3\""] {
        let text = format!("{FILE}\nseeds = 2\n{bad}");
        let e = SweepFile::parse(&text, "t").unwrap_err();
        assert!(
            e.0.iter().any(|e| e.context == "[adaptive].separation"),
            "{bad}: {:?}",
            e.0
        );
    }
    let ok = format!("{FILE}\nseeds = 2\nseparation = 1.5");
    let a = SweepFile::parse(&ok, "t").unwrap().adaptive.unwrap();
    assert_eq!((a.seeds, a.separation), (Some(2), Some(1.5)));
    let both = FILE.replace("chi = [0, 1]", "chi = [0, 1]\ntemp = [1.0]");
    let e = SweepFile::parse(&both, "t").unwrap_err();
    assert!(
        e.0.iter()
            .any(|e| e.message.contains("cannot also be an axis")),
        "{e:?}"
    );
}

fn finish(store: &Store, spec: &sgdnoise_core::settings::RunSpec) {
    // A run whose summary exists counts as finished: write a real one (tiny perceptron).
    let dir = store.dir_of(spec);
    sgdnoise_core::run::execute(spec, Some(&dir), &mut |_| true).unwrap();
}

#[test]
fn plan_is_a_function_of_finished_runs_and_bisects_to_the_lattice_step() {
    let f = SweepFile::parse(FILE, "t").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::new(tmp.path());
    store.create().unwrap();
    let judge = Step { edge: 11 };
    let mut rounds_seen = Vec::new();
    loop {
        let p = plan(&f, f.expand().unwrap(), Some(&store), &judge).unwrap();
        // Planning twice over the same store gives the same plan.
        let again = plan(&f, f.expand().unwrap(), Some(&store), &judge).unwrap();
        assert_eq!(p.planned, again.planned);
        rounds_seen.push(p.planned.len());
        let e = p.expansion();
        let todo: Vec<_> = e
            .plan
            .runs
            .iter()
            .filter(|r| !store.is_finished(&r.identity()))
            .collect();
        if todo.is_empty() {
            assert!(p.resolved());
            // 2 cells (chi) x 3 seeds x (5 coarse + 8..12 -> 10, 8..10 -> 9? no: 10, then 11-10=1)
            // coarse brackets (8, 12) -> 10; (10, 12) -> 11; then (10, 11): neighbours.
            assert_eq!(p.rounds(), 3);
            assert_eq!(p.planned.len(), 2 * 3 * (5 + 2));
            for c in &p.cells {
                let mut all: Vec<usize> = c.rounds.iter().flatten().copied().collect();
                all.sort_unstable();
                assert_eq!(all, vec![0, 4, 8, 10, 11, 12, 16], "{}", c.label);
            }
            break;
        }
        for r in todo {
            finish(&store, r);
        }
    }
    assert_eq!(rounds_seen, vec![30, 36, 42, 42]);
}

/// A step judge that knows the sampled points may not reach the lattice's ends (as the
/// analysis judge does in a warm-started cell): beyond them it asks to search on.
struct OpenStep {
    edge: usize,
    last: usize,
}

impl Judge for OpenStep {
    fn judge(&self, _t: Target, _a: &Adaptive, points: &[Point]) -> Decision {
        let below = points.iter().rev().find(|p| p.lattice < self.edge);
        let above = points.iter().find(|p| p.lattice >= self.edge);
        let brackets = match (below, above) {
            (Some(b), Some(a)) => vec![(b.lattice, a.lattice)],
            (None, Some(a)) => vec![(0, a.lattice)],
            (Some(b), None) => vec![(b.lattice, self.last)],
            (None, None) => vec![],
        };
        let sampled = |l: usize| points.iter().any(|p| p.lattice == l);
        if brackets
            .iter()
            .all(|&(lo, hi)| hi - lo <= 1 && sampled(lo) && sampled(hi))
        {
            Decision::Resolved {
                estimate: Some(self.edge as f64),
                brackets,
                note: "located".into(),
            }
        } else {
            Decision::Refine {
                brackets,
                note: "bracketed".into(),
            }
        }
    }
}

/// Runs the plan round by round until nothing is left; returns the plan and the number of
/// runs planned after each pass.
fn run_to_the_end(f: &SweepFile, store: &Store, judge: &dyn Judge) -> (AdaptivePlan, Vec<usize>) {
    let mut seen = Vec::new();
    loop {
        let p = plan(f, f.expand().unwrap(), Some(store), judge).unwrap();
        let again = plan(f, f.expand().unwrap(), Some(store), judge).unwrap();
        assert_eq!(p.planned, again.planned);
        seen.push(p.planned.len());
        let e = p.expansion();
        let todo: Vec<_> = e
            .plan
            .runs
            .iter()
            .filter(|r| !store.is_finished(&r.identity()))
            .collect();
        if todo.is_empty() {
            return (p, seen);
        }
        for r in todo {
            finish(store, r);
        }
    }
}

#[test]
fn warm_start_waits_for_the_cell_before_and_starts_from_its_bracket() {
    let f = SweepFile::parse(&format!("{FILE}warm = true\n"), "t").unwrap();
    assert!(f.adaptive.as_ref().unwrap().warm);
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::new(tmp.path());
    store.create().unwrap();
    // Before the first cell settles, the second plans nothing.
    let p = plan(
        &f,
        f.expand().unwrap(),
        Some(&store),
        &OpenStep { edge: 11, last: 16 },
    )
    .unwrap();
    assert_eq!(p.cells[1].status, CellStatus::Pending);
    assert!(p.cells[1].rounds.is_empty());
    assert_eq!(p.planned.len(), 3 * 5);
    assert!(!p.settled());
    let (p, seen) = run_to_the_end(&f, &store, &OpenStep { edge: 11, last: 16 });
    assert!(p.resolved());
    // Cell 0 as from the coarse grid (7 points); cell 1 from cell 0's bracket (10, 11) alone.
    assert_eq!(p.cells[1].rounds, vec![vec![10, 11]]);
    assert_eq!(p.planned.len(), 3 * (7 + 2));
    assert_eq!(seen, vec![15, 18, 21, 27, 27]);
}

#[test]
fn warm_start_steps_out_with_a_doubling_step_when_the_target_moved() {
    // Out of a bracket (10, 11), down: each step as wide as the sampled span (1, 2, 4, 8,
    // clamped at the lattice's end); up likewise.
    assert_eq!(next_point(0, 10, &[10, 11]), Some(9));
    assert_eq!(next_point(0, 9, &[9, 10, 11]), Some(7));
    assert_eq!(next_point(0, 7, &[7, 9, 10, 11]), Some(3));
    assert_eq!(next_point(0, 3, &[3, 7, 9, 10, 11]), Some(0));
    assert_eq!(next_point(11, 16, &[10, 11]), Some(12));
    assert_eq!(next_point(12, 16, &[10, 11, 12]), Some(14));
    // Both ends sampled: the middle, as from the coarse grid; neighbours: nothing.
    assert_eq!(next_point(8, 12, &[0, 4, 8, 12, 16]), Some(10));
    assert_eq!(next_point(10, 11, &[10, 11]), None);
    // A bracket between points that enter, spanning a sampled one that does not (12): the
    // unsampled point nearest the middle (11 before 13), then the other, then nothing.
    assert_eq!(next_point(10, 14, &[10, 12, 14]), Some(11));
    assert_eq!(next_point(10, 14, &[10, 11, 12, 14]), Some(13));
    assert_eq!(next_point(10, 14, &[10, 11, 12, 13, 14]), None);
    assert_eq!(next_point(5, 5, &[5]), None);
}

#[test]
fn warm_start_finds_a_target_that_moved_far_from_the_cell_before() {
    // Each cell's edge is its own: chi = 0 at 11, chi = 1 at 3 (the judge reads chi from the
    // runs' settings).
    struct PerCell;
    impl Judge for PerCell {
        fn judge(&self, t: Target, a: &Adaptive, points: &[Point]) -> Decision {
            let chi = points
                .iter()
                .flat_map(|p| p.runs.first())
                .next()
                .and_then(|s| s.config.chi)
                .unwrap_or(0.0);
            let edge = if chi > 0.5 { 3 } else { 11 };
            OpenStep { edge, last: 16 }.judge(t, a, points)
        }
    }
    let f = SweepFile::parse(&format!("{FILE}warm = true\n"), "t").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::new(tmp.path());
    store.create().unwrap();
    let (p, _) = run_to_the_end(&f, &store, &PerCell);
    assert!(p.resolved());
    let mut all: Vec<usize> = p.cells[1].rounds.iter().flatten().copied().collect();
    all.sort_unstable();
    // From (10, 11): out to 9, 7, 3, 0 (the lattice's end: the edge lies in (0, 3)), then
    // bisection: 1, 2.
    assert_eq!(all, vec![0, 1, 2, 3, 7, 9, 10, 11]);
    assert_eq!(p.cells[1].decisions[0].brackets, vec![(2, 3)]);
}

/// [`Step`] with a seed rule that finds nothing ambiguous: partial points get their other seeds
/// only as the ends of a located bracket (the decisive points).
struct DecisiveOnly(Step);

impl Judge for DecisiveOnly {
    fn judge(&self, t: Target, a: &Adaptive, points: &[Point]) -> Decision {
        self.0.judge(t, a, points)
    }
    fn needs_seeds(
        &self,
        _t: Target,
        _a: &Adaptive,
        _points: &[Point],
        _partial: &[bool],
        _d: &Decision,
    ) -> Vec<usize> {
        Vec::new()
    }
}

fn fresh_store() -> (tempfile::TempDir, Store) {
    let tmp = tempfile::tempdir().unwrap();
    let store = Store::new(tmp.path());
    store.create().unwrap();
    (tmp, store)
}

#[test]
fn seeds_key_parses_and_defaults_to_all() {
    let f = SweepFile::parse(FILE, "t").unwrap();
    assert_eq!(f.adaptive.as_ref().unwrap().seeds, None);
    let f = SweepFile::parse(&format!("{FILE}seeds = 2\n"), "t").unwrap();
    assert_eq!(f.adaptive.as_ref().unwrap().seeds, Some(2));
    // A point of an inner-axis search (b_star) is a whole column, not a set of seeds.
    let e =
        SweepFile::parse(&BP_FILE.replace("coarse = 4", "coarse = 4\nseeds = 1"), "t").unwrap_err();
    assert!(
        e.0.iter().any(|e| e.context == "[adaptive].seeds"),
        "{:?}",
        e.0
    );
}

#[test]
fn seeds_all_reproduces_the_plan_without_the_key_round_by_round() {
    // FILE has 3 seeds: `seeds = 3` and `seeds = 50` are "all", and must give the plan of a
    // file without the key, bit for bit, after every pass (cold and warm).
    for warm in ["", "warm = true\n"] {
        let mut seen = Vec::new();
        let mut finals = Vec::new();
        for key in ["", "seeds = 3\n", "seeds = 50\n"] {
            let f = SweepFile::parse(&format!("{FILE}{warm}{key}"), "t").unwrap();
            let (_tmp, store) = fresh_store();
            let (p, passes) = run_to_the_end(&f, &store, &OpenStep { edge: 11, last: 16 });
            assert!(p.resolved());
            assert!(p
                .cells
                .iter()
                .all(|c| c.partial.is_empty() && c.filled.iter().all(Vec::is_empty)));
            seen.push(passes);
            finals.push((p.planned.clone(), p.round_of.clone()));
        }
        assert_eq!(seen[0], seen[1], "{warm}");
        assert_eq!(seen[0], seen[2], "{warm}");
        assert_eq!(finals[0], finals[1], "{warm}");
        assert_eq!(finals[0], finals[2], "{warm}");
    }
}

#[test]
fn partial_points_get_their_other_seeds_exactly_when_decisive() {
    let f = SweepFile::parse(&format!("{FILE}seeds = 1\n"), "t").unwrap();
    let (_tmp, store) = fresh_store();
    // Round 0: the coarse points with their first seed only.
    let p = plan(
        &f,
        f.expand().unwrap(),
        Some(&store),
        &DecisiveOnly(Step { edge: 11 }),
    )
    .unwrap();
    assert_eq!(p.planned.len(), 2 * 5);
    let (p, passes) = run_to_the_end(&f, &store, &DecisiveOnly(Step { edge: 11 }));
    assert!(p.resolved());
    // Bisection on one seed: 10, then 11; (10, 11) located: both get the other two seeds, and
    // nothing else does.
    for c in &p.cells {
        assert_eq!(
            c.rounds,
            vec![vec![0, 4, 8, 12, 16], vec![10], vec![11], vec![]]
        );
        assert_eq!(
            c.filled,
            vec![vec![], vec![], vec![], vec![10, 11]],
            "{}",
            c.label
        );
        assert_eq!(c.partial, vec![0, 4, 8, 12, 16]);
        assert_eq!(c.seeds, 3);
        assert!(c.decisions.iter().all(|d| d.located));
        assert_eq!(c.decisions[0].brackets, vec![(10, 11)]);
    }
    // 2 cells x (7 points x 1 seed + 2 points x 2 more seeds), against 2 x 7 x 3 with all seeds.
    assert_eq!(p.planned.len(), 2 * (7 + 4));
    assert_eq!(passes, vec![10, 12, 14, 22, 22]);
    // The first seed of a point is its first candidate: the runs of seed_init = 0.
    let e = p.expansion();
    let seeds: Vec<i64> = e.plan.runs.iter().map(|r| r.seeds.init).collect();
    assert_eq!(seeds.iter().filter(|&&s| s == 0).count(), 14);
    assert_eq!(seeds.iter().filter(|&&s| s != 0).count(), 8);
}

/// [`DecisiveOnly`] that calls the upper end of a located bracket settled once it has `after`
/// finished seeds (as the divergence edge's diverged end is, once most of its seeds diverged).
struct SettlesHigh {
    step: Step,
    after: usize,
}

impl Judge for SettlesHigh {
    fn judge(&self, t: Target, a: &Adaptive, points: &[Point]) -> Decision {
        self.step.judge(t, a, points)
    }
    fn needs_seeds(
        &self,
        _t: Target,
        _a: &Adaptive,
        _points: &[Point],
        _partial: &[bool],
        _d: &Decision,
    ) -> Vec<usize> {
        Vec::new()
    }
    fn settled(
        &self,
        _t: Target,
        _a: &Adaptive,
        points: &[Point],
        brackets: &[(usize, usize)],
    ) -> Vec<usize> {
        brackets
            .iter()
            .map(|b| b.1)
            .filter(|&hi| {
                points
                    .iter()
                    .any(|p| p.lattice == hi && p.runs.len() >= self.after && p.seeds == 3)
            })
            .collect()
    }
}

#[test]
fn a_list_of_seeds_fills_a_step_at_a_time_and_a_settled_end_stops_early() {
    // `seeds = [1, 2]` of FILE's 3: the bracket's ends (10, 11) go to 2 seeds, then to 3, a
    // round each; the first seeds and the plan before the fills are `seeds = 1`'s.
    let f = SweepFile::parse(
        &format!(
            "{FILE}seeds = [1, 2]
"
        ),
        "t",
    )
    .unwrap();
    let a = f.adaptive.as_ref().unwrap();
    assert_eq!((a.seeds, a.seed_steps.clone()), (Some(1), vec![2]));
    assert_eq!(
        (a.next_seeds(1, 3), a.next_seeds(2, 3), a.next_seeds(1, 2)),
        (2, 3, 2)
    );
    let (_tmp, store) = fresh_store();
    let (p, passes) = run_to_the_end(&f, &store, &DecisiveOnly(Step { edge: 11 }));
    assert!(p.resolved());
    for c in &p.cells {
        assert_eq!(
            c.rounds,
            vec![vec![0, 4, 8, 12, 16], vec![10], vec![11], vec![], vec![]]
        );
        assert_eq!(
            c.filled,
            vec![vec![], vec![], vec![], vec![10, 11], vec![10, 11]]
        );
        assert_eq!(c.partial, vec![0, 4, 8, 12, 16]);
        assert_eq!(c.partial_seeds, vec![1; 5]);
    }
    // The same runs as `seeds = 1` in the end (2 x (7 + 4)), one pass more.
    assert_eq!(p.planned.len(), 2 * (7 + 4));
    assert_eq!(passes, vec![10, 12, 14, 18, 22, 22]);
    // A judge that settles the upper end once it has 2 seeds: 11 stops at 2, 10 goes on to 3.
    let (_tmp, store) = fresh_store();
    let (p, _) = run_to_the_end(
        &f,
        &store,
        &SettlesHigh {
            step: Step { edge: 11 },
            after: 2,
        },
    );
    assert!(p.resolved());
    for c in &p.cells {
        assert_eq!(
            c.filled,
            vec![vec![], vec![], vec![], vec![10, 11], vec![10]]
        );
        assert_eq!(c.partial, vec![0, 4, 8, 11, 12, 16]);
        assert_eq!(c.partial_seeds, vec![1, 1, 1, 2, 1, 1]);
        assert!(c.decisions.iter().all(|d| d.located));
    }
    assert_eq!(p.planned.len(), 2 * (7 + 3));
    // Settled on its first seed: 11 is never filled; with `seeds = 1` (no steps) alike.
    for key in ["seeds = [1, 2]\n", "seeds = 1\n"] {
        let f = SweepFile::parse(&format!("{FILE}{key}"), "t").unwrap();
        let (_tmp, store) = fresh_store();
        let (p, _) = run_to_the_end(
            &f,
            &store,
            &SettlesHigh {
                step: Step { edge: 11 },
                after: 1,
            },
        );
        assert!(p.cells.iter().all(|c| c.partial.contains(&11)), "{key}");
    }
    // Bad lists name the key.
    for bad in ["[]", "[2, 1]", "[2, 2]", "[0, 2]", "[1, \"x\"]", "[1.5]"] {
        let e = SweepFile::parse(&format!("{FILE}seeds = {bad}\n"), "t").unwrap_err();
        assert!(
            e.0.iter().any(|e| e.context == "[adaptive].seeds"),
            "{bad}: {:?}",
            e.0
        );
    }
}

#[test]
fn a_filled_point_that_moves_the_answer_sends_the_search_on() {
    // On its first seed alone a point at 11 or 12 looks above the target; with all three it is
    // below, so the dense grid's bracket is (12, 13).
    struct Noisy;
    impl Judge for Noisy {
        fn judge(&self, _t: Target, _a: &Adaptive, points: &[Point]) -> Decision {
            let above = |p: &Point| p.lattice >= 13 || (p.lattice >= 11 && p.runs.len() < 3);
            let below = points.iter().rev().find(|p| !above(p));
            let first_above = points.iter().find(|p| above(p));
            match (below, first_above) {
                (Some(b), Some(a)) if a.lattice > b.lattice + 1 => Decision::Refine {
                    brackets: vec![(b.lattice, a.lattice)],
                    note: "bracketed".into(),
                },
                (Some(b), Some(a)) => Decision::Resolved {
                    estimate: Some(a.lattice as f64),
                    brackets: vec![(b.lattice, a.lattice)],
                    note: "located".into(),
                },
                _ => Decision::Resolved {
                    estimate: None,
                    brackets: vec![],
                    note: "absent".into(),
                },
            }
        }
        fn needs_seeds(
            &self,
            _t: Target,
            _a: &Adaptive,
            _p: &[Point],
            _q: &[bool],
            _d: &Decision,
        ) -> Vec<usize> {
            Vec::new()
        }
    }
    let dense = SweepFile::parse(FILE, "t").unwrap();
    let (_tmp, store) = fresh_store();
    let (d, _) = run_to_the_end(&dense, &store, &Noisy);
    assert_eq!(d.cells[0].decisions[0].brackets, vec![(12, 13)]);
    let f = SweepFile::parse(&format!("{FILE}seeds = 1\n"), "t").unwrap();
    let (_tmp2, store) = fresh_store();
    let (p, _) = run_to_the_end(&f, &store, &Noisy);
    assert!(p.resolved());
    for c in &p.cells {
        assert_eq!(c.decisions[0].brackets, vec![(12, 13)], "{}", c.label);
        assert_eq!(c.decisions[0].estimate, Some(13.0));
        // (10, 11) on one seed, filled; 11 then is below: (11, 12), 12 filled; then 14 and
        // 13 on one seed, and (12, 13) filled (12 already full).
        assert_eq!(
            c.filled.iter().flatten().copied().collect::<Vec<_>>(),
            vec![10, 11, 12, 13]
        );
        assert_eq!(c.partial, vec![0, 4, 8, 14, 16]);
    }
}

#[test]
fn a_judge_without_a_seed_rule_fills_every_point_and_gets_the_dense_answer() {
    // The default `needs_seeds` fills every partial point the round after it is sampled: the
    // same points and runs as with all seeds at once, in more rounds.
    let (_tmp, store) = fresh_store();
    let all = SweepFile::parse(FILE, "t").unwrap();
    let (a, _) = run_to_the_end(&all, &store, &Step { edge: 11 });
    let f = SweepFile::parse(&format!("{FILE}seeds = 1\n"), "t").unwrap();
    let (_tmp2, store) = fresh_store();
    let (p, _) = run_to_the_end(&f, &store, &Step { edge: 11 });
    let sorted = |v: &[usize]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v
    };
    assert_eq!(sorted(&p.planned), sorted(&a.planned));
    assert!(p.rounds() > a.rounds());
    assert_eq!(p.cells[0].decisions, a.cells[0].decisions);
}

#[test]
fn a_partial_plan_resumes_from_any_set_of_ended_runs() {
    // Kill in the middle of the fill round: the plan waits for exactly the runs not ended, and
    // a second plan over the same store (a resumed process) is the same.
    let f = SweepFile::parse(&format!("{FILE}seeds = 1\n"), "t").unwrap();
    let (_tmp, store) = fresh_store();
    let judge = DecisiveOnly(Step { edge: 11 });
    for _ in 0..3 {
        let p = plan(&f, f.expand().unwrap(), Some(&store), &judge).unwrap();
        for r in p
            .expansion()
            .plan
            .runs
            .iter()
            .filter(|r| !store.is_finished(&r.identity()))
        {
            finish(&store, r);
        }
    }
    let p = plan(&f, f.expand().unwrap(), Some(&store), &judge).unwrap();
    assert_eq!(p.cells[0].filled.last(), Some(&vec![10, 11]));
    let todo: Vec<_> = p
        .expansion()
        .plan
        .runs
        .into_iter()
        .filter(|r| !store.is_finished(&r.identity()))
        .collect();
    assert_eq!(todo.len(), 8);
    for r in &todo[..3] {
        finish(&store, r);
    }
    let a = plan(&f, f.expand().unwrap(), Some(&store), &judge).unwrap();
    let b = plan(
        &f,
        f.expand().unwrap(),
        Some(&Store::new(store.root())),
        &judge,
    )
    .unwrap();
    assert_eq!(a.planned, b.planned);
    assert_eq!(a.planned, p.planned);
    let waiting: usize = a
        .cells
        .iter()
        .map(|c| match c.status {
            CellStatus::Waiting { not_ended, .. } => not_ended,
            _ => 0,
        })
        .sum();
    assert_eq!(waiting, 5);
    let mut ids: Vec<String> = a
        .expansion()
        .plan
        .runs
        .iter()
        .map(|r| r.identity())
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "a run planned twice");
}

#[test]
fn rounds_that_only_fill_seeds_do_not_count_against_max_rounds() {
    // Two bisections (10, 11) use up max_rounds = 2; the round that fills (10, 11) still runs
    // (measured on the phase-diagram stand-in: cells capped one fill short of resolved).
    let text = FILE.replace("coarse = 4", "coarse = 4\nmax_rounds = 2");
    let f = SweepFile::parse(&format!("{text}seeds = 1\n"), "t").unwrap();
    let (_tmp, store) = fresh_store();
    let (p, _) = run_to_the_end(&f, &store, &DecisiveOnly(Step { edge: 11 }));
    assert!(p.resolved(), "{:?}", p.cells[0].status);
    assert_eq!(p.cells[0].filled.last(), Some(&vec![10, 11]));
    // One bisection fewer allowed: capped with (10, 12) unresolved, nothing filled.
    let text = FILE.replace("coarse = 4", "coarse = 4\nmax_rounds = 1");
    let f = SweepFile::parse(&format!("{text}seeds = 1\n"), "t").unwrap();
    let (_tmp, store) = fresh_store();
    let (p, _) = run_to_the_end(&f, &store, &DecisiveOnly(Step { edge: 11 }));
    assert_eq!(p.cells[0].status, CellStatus::Capped);
    assert!(p.cells[0].filled.iter().all(Vec::is_empty));
}

/// A (B, eta) sweep searched for B*: the batch axis, each [[part]] with its own sub-lattice
/// (B = 1..P), lr folded into every point.
const BP_FILE: &str = r#"
[fixed]
dataset = "depleted_sign"
dim = 8
[axes]
lr = [0.5, 1.0, 2.0]
seed_init = { range = [0, 1] }
[[part]]
ptr = 8
batch = { log2 = [0, 3] }
[[part]]
ptr = 32
batch = { log2 = [0, 5] }
[adaptive]
axis = "batch"
values = { log2 = [0, 5] }
inner = ["lr"]
targets = ["b_star"]
coarse = 4
"#;

#[test]
fn b_star_points_are_whole_columns_and_round_0_holds_each_parts_largest_batch() {
    let f = SweepFile::parse(BP_FILE, "t").unwrap();
    let e = f.expand().unwrap();
    // The candidates are the dense (B, eta) grid: the same file without [adaptive].
    let (dense_text, _) = BP_FILE.split_once("[adaptive]").unwrap();
    let dense = SweepFile::parse(dense_text, "t").unwrap().expand().unwrap();
    let ids = |e: &Expansion| {
        let mut v: Vec<String> = e.plan.runs.iter().map(|r| r.identity()).collect();
        v.sort();
        v
    };
    assert_eq!(ids(&e), ids(&dense));
    assert_eq!(e.plan.runs.len(), (4 + 6) * 3 * 2);
    let p = plan(&f, e, None, &Step { edge: 2 }).unwrap();
    // One cell per P (lr is inside the points), round 0: the part's own coarse points and
    // its largest B (B = 8 for P = 8, lattice index 3; B = 16 and 32 for P = 32).
    let labels: Vec<&str> = p.cells.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["ptr=8", "ptr=32"]);
    assert_eq!(p.cells[0].rounds, vec![vec![0, 3]]);
    assert_eq!(p.cells[1].rounds, vec![vec![0, 4, 5]]);
    // Every lr and seed of each sampled column.
    assert_eq!(p.planned.len(), (2 + 3) * 3 * 2);
}

#[test]
fn bad_b_star_tables_name_the_field() {
    for (from, to, field) in [
        ("axis = \"batch\"", "axis = \"temp\"", "[adaptive].targets"),
        ("inner = [\"lr\"]\n", "", "[adaptive].inner"),
        (
            "inner = [\"lr\"]",
            "inner = [\"lr\", \"nope\"]",
            "[adaptive].inner",
        ),
        ("coarse = 4", "coarse = 4\nwarm = true", "[adaptive].warm"),
        (
            "targets = [\"b_star\"]",
            "targets = [\"divergence\"]",
            "[adaptive].axis",
        ),
        (
            "targets = [\"b_star\"]",
            "targets = [\"b_star\", \"t_opt\"]",
            "[adaptive].targets",
        ),
        (
            "ptr = 8\nbatch = { log2 = [0, 3] }",
            "ptr = 8\nbatch = [3]",
            "part #1.batch",
        ),
    ] {
        let text = BP_FILE.replace(from, to);
        assert_ne!(text, BP_FILE, "{from}");
        let e = SweepFile::parse(&text, "t").unwrap_err();
        assert!(e.0.iter().any(|e| e.context == field), "{to}: {:?}", e.0);
    }
    // An inner axis is for b_star only.
    let text = FILE.replace("coarse = 4", "coarse = 4\ninner = [\"chi\"]");
    let e = SweepFile::parse(&text, "t").unwrap_err();
    assert!(
        e.0.iter().any(|e| e.context == "[adaptive].inner"),
        "{:?}",
        e.0
    );
}
