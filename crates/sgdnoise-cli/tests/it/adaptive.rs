//! Adaptive sweeps end to end: rounds until resolved, `sweep plan` over a store, a kill in the
//! middle of a round, and bad `[adaptive]` tables.

use crate::util::{repo_file, sgdnoise, temp_dir, TempDir, EXE};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn raw_summaries(store: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if let Ok(d) = std::fs::read_dir(store.join("runs")) {
        for e in d {
            let dir = e.unwrap().path();
            if let Ok(b) = std::fs::read(dir.join("summary.json")) {
                out.insert(dir.file_name().unwrap().to_string_lossy().into_owned(), b);
            }
        }
    }
    out
}

/// A killed adaptive sweep resumes in the round it was in: the resumed store holds exactly the
/// runs of a clean adaptive run (the plan depends on finished runs only), the summaries written
/// before the kill are untouched, and no run is run twice.
#[test]
fn an_adaptive_sweep_killed_mid_round_resumes_and_reruns_nothing() {
    let file = repo_file("examples", "perceptron-adaptive.toml");
    let file = file.to_str().unwrap();
    let dir = temp_dir("adaptive-kill");
    let (clean, killed) = (dir.path().join("clean"), dir.path().join("killed"));
    let (code, out, err) =
        sgdnoise(&["sweep", "run", file, "--out", clean.to_str().unwrap(), "-q"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("every target located"), "{out}");
    let reference = raw_summaries(&clean);
    let ran_clean = out.lines().filter(|l| l.starts_with("done ")).count();
    assert_eq!(ran_clean, reference.len(), "{out}");
    // Fewer runs than the dense grid of 3 x 5 x 33.
    assert!(reference.len() < 495 / 2, "{}", reference.len());

    let mut child = Command::new(EXE)
        .args([
            "sweep",
            "run",
            file,
            "--out",
            killed.to_str().unwrap(),
            "-q",
            "--workers",
            "2",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    // Round 0 holds 135 runs: kill inside it.
    while raw_summaries(&killed).len() < 60 {
        assert!(t0.elapsed() < Duration::from_secs(300), "sweep too slow");
        assert!(
            child.try_wait().unwrap().is_none(),
            "sweep ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let kept = raw_summaries(&killed);
    assert!(
        kept.len() >= 60 && kept.len() < reference.len(),
        "{}",
        kept.len()
    );

    // The plan of the killed store: round 0 whole, cells waiting (each cell goes on to its
    // next round as soon as its own runs have ended).
    let (code, out, err) = sgdnoise(&["sweep", "plan", file, "--out", killed.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("round 0: 135 runs"), "{out}");
    assert!(out.contains("round 0 waiting"), "{out}");

    let (code, out, err) = sgdnoise(&[
        "sweep",
        "run",
        file,
        "--out",
        killed.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    let ran_now = out.lines().filter(|l| l.starts_with("done ")).count();
    let resumed = raw_summaries(&killed);
    // Exactly the clean run's runs, each run once: the kept ones untouched, the rest run now.
    assert_eq!(
        resumed.keys().collect::<Vec<_>>(),
        reference.keys().collect::<Vec<_>>()
    );
    assert_eq!(ran_now + kept.len(), reference.len(), "{out}");
    for (id, bytes) in &kept {
        assert_eq!(&resumed[id], bytes, "summary {id} rewritten");
    }
    // A third run finds everything done and runs nothing.
    let (code, out, _) = sgdnoise(&[
        "sweep",
        "run",
        file,
        "--out",
        killed.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out.lines().filter(|l| l.starts_with("done ")).count(),
        0,
        "{out}"
    );
    // status and collect see the adaptive plan's runs.
    let (code, out, _) = sgdnoise(&["sweep", "status", file, "--out", killed.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(out.contains(&format!("{} done", reference.len())), "{out}");
}

#[test]
fn a_bad_adaptive_table_exits_2_naming_the_field() {
    let dir = temp_dir("adaptive-bad");
    for (bad, field) in [
        ("axis = \"ptr\"", "[adaptive].axis"),
        ("targets = [\"tc\"]", "[adaptive].targets"),
        ("coarse = -3", "[adaptive].coarse"),
        ("seeds = 0", "[adaptive].seeds"),
        ("ntk_level = 0", "[adaptive].ntk_level"),
        ("separation = -1", "[adaptive].separation"),
    ] {
        let key = bad.split(' ').next().unwrap();
        let text = std::fs::read_to_string(repo_file("examples", "perceptron-adaptive.toml"))
            .unwrap()
            .lines()
            .filter(|l| !l.starts_with(&format!("{key} ")))
            .chain([bad])
            .collect::<Vec<_>>()
            .join("\n");
        let f = dir.path().join("bad.toml");
        std::fs::write(&f, text).unwrap();
        let (code, out, err) = sgdnoise(&["sweep", "plan", f.to_str().unwrap()]);
        assert_eq!(code, 2, "{bad}: {out}\n{err}");
        assert!(err.contains(field), "{bad}: {err}");
    }
}

/// One cell of 3 seeds on a 17-value lattice: 15 runs in round 0, then two rounds of 3.
const SLURM_SWEEP: &str = r#"
name = "slurm-adaptive"
[fixed]
dataset = "depleted_sign"
dim = 16
chi = 1
batch = 2
alpha = 32768
pte = 256
ptr = 128
[axes]
seed_init = { range = [0, 2] }
[adaptive]
axis = "temp"
values = { log2 = [-8, 8] }
coarse = 4
targets = ["tc_rwc"]
rwc_level = 0.3
[slurm]
time = "00:05:00"
"#;

/// Runs `sweep` locally and on SLURM (`sweep slurm --analyze`), waits for the chain of rounds to
/// settle (the analysis job's report), and returns the kinds of the submissions in order, the
/// SLURM store's run ids and the local one's, and `sweep plan --out` of the SLURM store.
fn slurm_chain(name: &str, sweep: &str) -> (Vec<String>, Vec<String>, Vec<String>, String) {
    crate::util::require_slurm();
    let dir = temp_dir(name);
    let file = dir.path().join("sweep.toml");
    std::fs::write(&file, sweep).unwrap();
    let file = file.to_str().unwrap();
    let (local, store) = (dir.path().join("local"), dir.path().join("store"));
    let (code, out, err) =
        sgdnoise(&["sweep", "run", file, "--out", local.to_str().unwrap(), "-q"]);
    assert_eq!(code, 0, "{out}\n{err}");
    let (code, out, err) = sgdnoise(&[
        "sweep",
        "slurm",
        file,
        "--out",
        store.to_str().unwrap(),
        "--analyze",
    ]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("submitted next-round job"), "{out}");
    assert!(
        !out.contains("submitted analysis job"),
        "analysis waits for the last round: {out}"
    );
    let report = store.join("analysis/report.md");
    let t0 = Instant::now();
    while !report.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the chain did not settle in 300 s: {:?}",
            std::fs::read_to_string(store.join("slurm/submissions.jsonl"))
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let records = std::fs::read_to_string(store.join("slurm/submissions.jsonl")).unwrap();
    let kinds = records
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let ids = |d: &Path| raw_summaries(d).keys().cloned().collect::<Vec<String>>();
    let (code, plan, _) = sgdnoise(&["sweep", "plan", file, "--out", store.to_str().unwrap()]);
    assert_eq!(code, 0);
    (kinds, ids(&store), ids(&local), plan)
}

/// `n` rounds (an array and its next-round job each), then the analysis job.
fn rounds_then_analysis(n: usize) -> Vec<String> {
    let mut v: Vec<String> = (0..n)
        .flat_map(|_| ["array".to_string(), "next_round".to_string()])
        .collect();
    v.push("analysis".into());
    v
}

/// On SLURM no process stays alive between rounds: each round is a job array followed
/// (afterany) by a next-round job that plans and submits the next round from the finished
/// runs, until the search settles; then the analysis job runs. The result is the local one.
#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn slurm_rounds_chain_by_next_round_jobs_until_the_adaptive_sweep_settles() {
    let (kinds, runs, reference, plan) = slurm_chain("adaptive-slurm", SLURM_SWEEP);
    // Three rounds: three arrays, each followed by its next-round job; the third finds the
    // search settled and submits the analysis.
    assert_eq!(kinds, rounds_then_analysis(3));
    assert_eq!(runs, reference);
    assert_eq!(runs.len(), 21);
    assert!(plan.contains("every target located"), "{plan}");
}

/// The chain of [`SLURM_SWEEP`] with `seeds` (a TOML value) runs the local search's 17 runs (of
/// the 21 with every seed at once) in `rounds` rounds, two points left with their first seed.
fn seeds_chain(name: &str, seeds: &str, rounds: usize) {
    let sweep = SLURM_SWEEP.replace(
        "rwc_level = 0.3",
        &format!("rwc_level = 0.3\nseeds = {seeds}"),
    );
    let (kinds, runs, reference, plan) = slurm_chain(name, &sweep);
    assert_eq!(kinds, rounds_then_analysis(rounds));
    assert_eq!(runs, reference);
    assert_eq!(runs.len(), 17);
    assert!(plan.contains("every target located"), "{plan}");
    assert!(
        plan.contains("5 full with 3 seeds, 2 partial with 1"),
        "{plan}"
    );
}

/// With seeds on demand the chain also carries the rounds that only give points the rest of
/// their seeds (they do not count against `max_rounds`): 4 rounds.
#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn slurm_chain_carries_the_rounds_that_fill_seeds() {
    seeds_chain("adaptive-slurm-seeds", "1", 4);
}

/// With seeds in steps (`seeds = [1, 2]` of 3) the chain carries a fill round per step: 5
/// rounds instead of 4 (`sweep run` of this file: rounds of 5, 3, 3, 4 and 2 runs, 2026-12-02).
#[test]
#[ignore = "needs a SLURM cluster (ci/slurm-local.sh); scripts/test.sh starts one"]
fn slurm_chain_fills_seeds_a_step_at_a_time() {
    seeds_chain("adaptive-slurm-steps", "[1, 2]", 5);
}

/// `reproduce NAME --adaptive` searches the preset's own grid: round 0 of the fc-mnist paper
/// T-sweep is every 4th temperature and the last (5 of 16) at each P and seed, each run one of
/// the dense preset's; presets without a T or eta axis to search are refused (exit 2).
#[test]
fn reproduce_adaptive_plans_round_0_inside_the_preset_grid() {
    let (code, dense, err) = sgdnoise(&["reproduce", "fc-mnist", "--scale", "paper", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = sgdnoise(&[
        "reproduce",
        "fc-mnist",
        "--scale",
        "paper",
        "--adaptive",
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("fc-mnist-paper-adaptive (paper): 125 runs"),
        "{out}"
    );
    let grid: std::collections::HashSet<&str> = dense.lines().skip(1).collect();
    let ids: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(ids.len(), 125);
    assert!(ids.iter().all(|id| grid.contains(id)), "{out}");
    let (code, _, err) = sgdnoise(&["reproduce", "perceptron", "--adaptive", "--dry-run"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--adaptive"), "{err}");
}

/// `reproduce NAME --adaptive --seeds N [--separation X]` is the measured phase-diagram search
/// (seeds on demand): round 0 of the quick fc-phase preset gives each coarse point its first 2
/// of 5 seeds (30 runs instead of 75), the same runs as the first seeds of the all-seeds plan;
/// bad values exit 2 naming the flag.
#[test]
fn reproduce_adaptive_takes_seeds_on_demand_and_a_separation() {
    let ids = |extra: &[&str]| -> Vec<String> {
        let mut a = vec!["reproduce", "fc-phase", "--adaptive", "--dry-run"];
        a.extend_from_slice(extra);
        let (code, out, err) = sgdnoise(&a);
        assert_eq!(code, 0, "{extra:?}: {err}");
        out.lines().skip(1).map(String::from).collect()
    };
    let all = ids(&[]);
    let two = ids(&["--seeds", "2"]);
    assert_eq!((all.len(), two.len()), (75, 30));
    assert!(two.iter().all(|id| all.contains(id)));
    assert_eq!(ids(&["--seeds", "2", "--separation", "1"]), two);
    // Steps change only the fills: round 0 is the same first seeds.
    assert_eq!(ids(&["--seeds", "2,3"]), two);
    // Round 0 every 8th learning rate (and the last) of the quick preset's 7: the ends, 2 per
    // alpha instead of 3 (0, 4, 6), the same first seeds.
    let coarse = ids(&["--seeds", "2,3", "--coarse", "8"]);
    assert_eq!(coarse.len(), 5 * 2 * 2);
    assert!(coarse.iter().all(|id| two.contains(id)));
    // The recommended form (README): 1 seed first, round 0 the same coarse points' first seeds.
    let one = ids(&["--seeds", "1,2,5", "--separation", "1.5", "--coarse", "8"]);
    assert_eq!(one.len(), 5 * 2);
    assert!(one.iter().all(|id| coarse.contains(id)));
    for (bad, flag) in [
        (&["--seeds", "0"][..], "--seeds"),
        (&["--seeds", "3,2"][..], "--seeds"),
        (&["--seeds", "2,x"][..], "--seeds"),
        (&["--coarse", "0"][..], "--coarse"),
        (&["--seeds", "2", "--separation", "11"][..], "--separation"),
        (&["--separation", "1"][..], "--seeds"),
    ] {
        let mut a = vec!["reproduce", "fc-phase", "--adaptive", "--dry-run"];
        a.extend_from_slice(bad);
        let (code, _, err) = sgdnoise(&a);
        assert_eq!(code, 2, "{bad:?}: {err}");
        assert!(err.contains(flag), "{bad:?}: {err}");
    }
    let (code, _, err) = sgdnoise(&[
        "reproduce",
        "bp-perceptron-chi1",
        "--adaptive",
        "--seeds",
        "2",
        "--dry-run",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--seeds"), "{err}");
}

/// The located targets of `sweep plan`'s cell lines (with their estimates), per cell.
fn located(plan: &str) -> Vec<String> {
    plan.lines()
        .filter(|l| l.starts_with("    ") && l.contains(": resolved;"))
        .flat_map(|l| {
            let cell = l.trim().split(':').next().unwrap_or("").to_string();
            l.split("; ")
                .filter(|d| d.contains(" located"))
                .map(move |d| format!("{cell} {}", d.split(" (").next().unwrap_or(d)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The perceptron example with `tc_rwc` alone, run to the end as it is and with `extra` added
/// to its `[adaptive]` table: per variant, the runs made, the targets located and the plan.
fn tc_rwc_example_with_and_without(
    dir: &TempDir,
    extra: &str,
) -> [(usize, Vec<String>, String); 2] {
    let text = std::fs::read_to_string(repo_file("examples", "perceptron-adaptive.toml")).unwrap();
    let text = text.replace(
        r#"targets = ["tc_rwc", "t_opt"]"#,
        r#"targets = ["tc_rwc"]"#,
    );
    [
        ("base", text.clone()),
        ("variant", format!("{text}{extra}\n")),
    ]
    .map(|(name, text)| {
        let file = dir.path().join(format!("{name}.toml"));
        std::fs::write(&file, text).unwrap();
        let (file, store) = (file.to_str().unwrap(), dir.sub(name));
        let (code, out, err) = sgdnoise(&["sweep", "run", file, "--out", &store, "-q"]);
        assert_eq!(code, 0, "{out}\n{err}");
        assert!(out.contains("every target located"), "{out}");
        let (code, plan, err) = sgdnoise(&["sweep", "plan", file, "--out", &store]);
        assert_eq!(code, 0, "{plan}\n{err}");
        (raw_summaries(Path::new(&store)).len(), located(&plan), plan)
    })
}

/// `warm = true`: each cell after the first starts from the brackets the cell before located,
/// and steps out where its target moved; on the perceptron sweep (T_c by method (a)) it
/// locates exactly what the search from the coarse grid locates, with fewer runs.
#[test]
fn warm_start_locates_what_the_cold_search_locates_with_fewer_runs() {
    let dir = temp_dir("adaptive-warm");
    // tc_rwc only: t_opt starts from the coarse points in a warm sweep too.
    let answers = tc_rwc_example_with_and_without(&dir, "warm = true");
    let ((cold_runs, cold, _), (warm_runs, warm, plan)) = (&answers[0], &answers[1]);
    assert_eq!(cold.len(), 3, "{cold:?}");
    assert_eq!(warm, cold, "{plan}");
    assert!(
        warm_runs < cold_runs,
        "{warm_runs} runs warm, {cold_runs} cold"
    );
}

/// `seeds = 2`: a new point runs 2 of its 5 seeds, and gets the other 3 only where a decision
/// needs them (the ends of the located brackets, points near the minimum or the level given
/// the seed spread); on the perceptron sweep it locates what all seeds at once locate, with
/// fewer runs, and `sweep plan` says how many points are partial.
#[test]
fn partial_seeds_locate_what_all_seeds_locate_with_fewer_runs() {
    let dir = temp_dir("adaptive-seeds");
    // tc_rwc only: the perceptron's test error is flat to within its seed spread over most of
    // the range, so t_opt finds every point near its minimum and fills them all (measured:
    // 225 runs against 200 with all seeds at once, the same answers).
    let answers = tc_rwc_example_with_and_without(&dir, "seeds = 2");
    let ((all_runs, all, _), (part_runs, part, plan)) = (&answers[0], &answers[1]);
    assert_eq!(all.len(), 3, "{all:?}");
    assert_eq!(part, all, "{plan}");
    assert!(
        part_runs < all_runs,
        "{part_runs} runs with 2 seeds, {all_runs} with all"
    );
    assert!(
        plan.contains("a new point gets its first 2 seeds"),
        "{plan}"
    );
    assert!(plan.contains(" partial with 2)"), "{plan}");
}

/// The estimate of every cell's located `target` in `sweep plan --json`, by cell label.
fn estimates(plan_json: &str, target: &str) -> BTreeMap<String, f64> {
    let j: serde_json::Value = serde_json::from_str(plan_json).unwrap();
    let mut out = BTreeMap::new();
    for c in j["adaptive"]["cells"].as_array().unwrap() {
        for d in c["decisions"].as_array().unwrap() {
            if d["target"] == target && d["located"] == true {
                if let Some(e) = d["estimate"].as_f64() {
                    out.insert(c["label"].as_str().unwrap().to_string(), e);
                }
            }
        }
    }
    out
}

/// T_c(P) of `method` ("(a)", "(e)", ...) at the main level in an analysis' fits.csv, by
/// `ptr=P` (the cell labels of the adaptive plan).
fn fits_tc(fits: &str, method: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for l in fits.lines() {
        let Some(rest) = l.strip_prefix("T_c_vs_P,T_c,P,\"P=") else {
            continue;
        };
        let Some((p, rest)) = rest.split_once(&format!(", method {method}\",")) else {
            continue;
        };
        let value = rest.split(',').next().unwrap().parse::<f64>().unwrap();
        out.insert(format!("ptr={p}"), value);
    }
    out
}

/// A dense sweep and its adaptive form, both run to the end in `dir`: writes the two files,
/// runs the dense one (`dense_runs` runs expected) and then the adaptive one (which must locate
/// every target); returns (adaptive file, adaptive store, dense store, runs the search made).
fn run_dense_and_adaptive(
    dir: &TempDir,
    text: &str,
    dense_text: &str,
    dense_runs: usize,
) -> (String, String, String, usize) {
    let (file, dense_file) = (
        dir.path().join("adaptive.toml"),
        dir.path().join("dense.toml"),
    );
    std::fs::write(&file, text).unwrap();
    std::fs::write(&dense_file, dense_text).unwrap();
    let (file, dense_file) = (file.to_str().unwrap(), dense_file.to_str().unwrap());
    let (store, dense) = (dir.sub("adaptive"), dir.sub("dense"));
    let (code, out, err) = sgdnoise(&["sweep", "run", dense_file, "--out", &dense, "-q"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert_eq!(raw_summaries(Path::new(&dense)).len(), dense_runs);
    let (code, out, err) = sgdnoise(&["sweep", "run", file, "--out", &store, "-q"]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("every target located"), "{out}");
    let ran = raw_summaries(Path::new(&store)).len();
    (file.to_string(), store, dense, ran)
}

/// Target `tc_ntk` (T_c by method (e), the NTK change at level 1/2): on a tiny lazy mlp with
/// `ntk_points = 16`, the adaptive search locates at every P the T_c that `analyze` reads by
/// method (e) from the dense grid, with a fraction of its runs, and `analyze --sweep` on the
/// adaptive store gives it too.
#[test]
fn tc_ntk_locates_what_analyze_method_e_reads_on_the_dense_grid() {
    let dir = temp_dir("adaptive-ntk");
    let text = std::fs::read_to_string(repo_file("examples", "mlp-ntk-adaptive.toml")).unwrap();
    let (head, _) = text.split_once("[adaptive]").unwrap();
    let dense_text = format!(
        "{}\ntemp = {{ log2 = [-14, 0], step = 0.5 }}\n",
        head.replace("mlp-ntk-adaptive", "mlp-ntk-dense").trim_end()
    );
    let (file, store, dense, ran) = run_dense_and_adaptive(&dir, &text, &dense_text, 174);
    let file = file.as_str();
    assert!(ran < 174 / 2, "{ran} runs");

    let (code, plan, err) = sgdnoise(&["sweep", "plan", file, "--out", &store, "--json"]);
    assert_eq!(code, 0, "{err}");
    let adaptive = estimates(&plan, "tc_ntk");
    let mut dense_tc = BTreeMap::new();
    for (name, store, sweep) in [
        ("dense", dense.as_str(), None),
        ("adaptive", store.as_str(), Some(file)),
    ] {
        let out_dir = dir.sub(&format!("analysis-{name}"));
        let mut args = vec![
            "analyze",
            store,
            "--out",
            &out_dir,
            "--kind",
            "tsweep",
            "--resamples",
            "20",
        ];
        if let Some(f) = sweep {
            args.extend(["--sweep", f]);
        }
        let (code, out, err) = sgdnoise(&args);
        assert_eq!(code, 0, "{name}: {out}\n{err}");
        let fits = std::fs::read_to_string(Path::new(&out_dir).join("fits.csv")).unwrap();
        let tc = fits_tc(&fits, "(e)");
        assert_eq!(tc.len(), 2, "{name}: {fits}");
        if name == "dense" {
            dense_tc = tc;
        } else {
            assert_eq!(tc, dense_tc, "analyze on the adaptive store");
        }
    }
    assert_eq!(adaptive.len(), 2, "{plan}");
    for (cell, tc) in &dense_tc {
        let a = adaptive[cell];
        assert!(
            (a - tc).abs() <= 1e-12 * tc,
            "{cell}: adaptive {a}, dense {tc}"
        );
    }
}

/// `tc_ntk` reads the NTK change, which only runs with `ntk_points` record: a sweep whose runs
/// lack it is refused when it is planned (exit 2, naming `[adaptive].targets`), before any run.
#[test]
fn tc_ntk_without_ntk_points_exits_2_before_any_run() {
    let dir = temp_dir("adaptive-ntk-bad");
    let text = std::fs::read_to_string(repo_file("examples", "mlp-ntk-adaptive.toml"))
        .unwrap()
        .replace("ntk_points = 16\n", "");
    let f = dir.path().join("bad.toml");
    std::fs::write(&f, text).unwrap();
    let store = dir.sub("store");
    for cmd in ["plan", "run"] {
        let (code, out, err) = sgdnoise(&["sweep", cmd, f.to_str().unwrap(), "--out", &store]);
        assert_eq!(code, 2, "{cmd}: {out}\n{err}");
        assert!(
            err.contains("[adaptive].targets") && err.contains("ntk_points"),
            "{cmd}: {err}"
        );
    }
    assert!(!Path::new(&store).join("runs").exists(), "a run started");
}

/// `reproduce NAME --adaptive --warm` searches the preset's cells one after the other: round 0
/// of the fc-mnist paper T-sweep is the first P's coarse points only (25 runs: 5 values x 5
/// seeds; the other P wait for it), against every P's at once without it (125); `--warm`
/// without `--adaptive` is refused (exit 2).
#[test]
fn reproduce_adaptive_warm_starts_with_the_first_cell_alone() {
    let (code, out, err) = sgdnoise(&[
        "reproduce",
        "fc-mnist",
        "--scale",
        "paper",
        "--adaptive",
        "--warm",
        "--dry-run",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("fc-mnist-paper-adaptive (paper): 25 runs"),
        "{out}"
    );
    let (code, _, err) = sgdnoise(&["reproduce", "fc-mnist", "--warm", "--dry-run"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--adaptive"), "{err}");
}

/// B*(P) of the (B, eta) analysis in an analysis' fits.csv, by `ptr=P`.
fn fits_b_star(fits: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for l in fits.lines() {
        let Some(rest) = l.strip_prefix("batch_B_star_vs_P,B_star,P,\"chi=1, P=") else {
            continue;
        };
        let (p, rest) = rest.split_once("\",").unwrap();
        out.insert(
            format!("ptr={p}"),
            rest.split(',').next().unwrap().parse::<f64>().unwrap(),
        );
    }
    out
}

/// Target `b_star`: each point a whole column of the (B, eta) plane, the search locates at
/// every P the B* that `analyze` reads from the dense grid, with fewer runs, and `analyze` on
/// the adaptive store reads the same B*.
#[test]
fn b_star_locates_what_analyze_reads_on_the_dense_batch_grid() {
    let dir = temp_dir("adaptive-bstar");
    let text =
        std::fs::read_to_string(repo_file("examples", "bp-perceptron-adaptive.toml")).unwrap();
    let (dense_text, _) = text.split_once("\n[adaptive]\n").unwrap();
    let (file, store, dense, ran) = run_dense_and_adaptive(&dir, &text, dense_text, 456);
    let file = file.as_str();
    assert!(ran < 456 * 3 / 4, "{ran} runs");
    // Whole columns: every run count is a multiple of a column's 8 lr x 3 seeds.
    assert_eq!(ran % 24, 0, "{ran}");

    let (code, plan, err) = sgdnoise(&["sweep", "plan", file, "--out", &store, "--json"]);
    assert_eq!(code, 0, "{err}");
    let adaptive = estimates(&plan, "b_star");
    let mut b_star = Vec::new();
    for (name, store) in [("dense", &dense), ("adaptive", &store)] {
        let out_dir = dir.sub(&format!("analysis-{name}"));
        let (code, out, err) = sgdnoise(&[
            "analyze",
            store,
            "--out",
            &out_dir,
            "--kind",
            "batch",
            "--resamples",
            "20",
        ]);
        assert_eq!(code, 0, "{name}: {out}\n{err}");
        let fits = std::fs::read_to_string(Path::new(&out_dir).join("fits.csv")).unwrap();
        b_star.push(fits_b_star(&fits));
    }
    assert_eq!(b_star[0].len(), 2, "{:?}", b_star[0]);
    assert_eq!(b_star[1], b_star[0], "analyze on the adaptive store");
    assert_eq!(adaptive.len(), 2, "{plan}");
    for (cell, b) in &b_star[0] {
        let a = adaptive[cell];
        assert!(
            (a - b).abs() <= 1e-12 * b,
            "{cell}: adaptive {a}, dense {b}"
        );
    }
}

/// `reproduce bp-perceptron-chi1 --adaptive`: round 0 is, per P, every 4th batch size and the
/// largest (3 + 4 x 4 = 19 columns of 15 lr x 5 seeds), each run one of the dense preset's.
#[test]
fn reproduce_adaptive_plans_whole_columns_of_the_batch_presets() {
    let (code, dense, err) = sgdnoise(&["reproduce", "bp-perceptron-chi1", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) =
        sgdnoise(&["reproduce", "bp-perceptron-chi1", "--adaptive", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("bp-perceptron-chi1-quick-adaptive (quick): 1425 runs"),
        "{out}"
    );
    let grid: std::collections::HashSet<&str> = dense.lines().skip(1).collect();
    assert!(out.lines().skip(1).all(|id| grid.contains(id)), "{out}");
    let (code, _, err) = sgdnoise(&[
        "reproduce",
        "bp-perceptron-chi1",
        "--adaptive",
        "--warm",
        "--dry-run",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--warm"), "{err}");
}
