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
