//! `sgdnoise sweep plan|run|status|slurm|task`: grids of runs from a sweep file (syntax: the
//! doc of `sgdnoise_campaign::sweepfile`, examples in `examples/*.toml`).

use crate::output::outln;
use crate::progress::SweepProgress;
use crate::BadInput;
use anyhow::Context;
use clap::{Args, Subcommand};
use sgdnoise_campaign::sweepfile::Axis;
use sgdnoise_campaign::{self as sweep, adaptive, slurm, Expansion, Store, SweepEvent, SweepFile};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(subcommand)]
    pub command: SweepCommand,
}

#[derive(Subcommand, Debug)]
pub enum SweepCommand {
    /// Show how many runs a sweep file makes and what they are; check every combination.
    Plan(PlanArgs),
    /// Execute the missing runs on local cores (resumable: kill it and run it again).
    Run(RunArgs),
    /// Count the runs of a sweep that are done, failed, partial, running or missing (and, where
    /// SLURM answers, its pending and running array tasks).
    Status(StatusArgs),
    /// Write (and submit) SLURM job arrays for the missing runs.
    Slurm(Box<SlurmArgs>),
    /// Run one array task of a SLURM submission (used by the generated scripts).
    Task(TaskArgs),
}

#[derive(Args, Debug)]
pub struct PlanArgs {
    /// The sweep file (TOML).
    pub file: PathBuf,
    /// Example runs to show.
    #[arg(long, default_value_t = 5, allow_hyphen_values = true)]
    pub examples: usize,
    /// Print only the id of every run, one per line, in plan order.
    #[arg(long)]
    pub ids: bool,
    /// Print the plan as one JSON object (name, counts, fixed settings, axes, every run's id and
    /// axis values, the [slurm] table).
    #[arg(long, conflicts_with = "ids")]
    pub json: bool,
    /// The run store an adaptive sweep plans from (its rounds so far follow from the finished
    /// runs there; without it: round 0).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Print the counts as one JSON object.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct StoreArgs {
    /// The sweep file (TOML).
    pub file: PathBuf,
    /// The run store (runs go to STORE/runs/<id>).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Runs at the same time (default: one per core; each run is single-threaded).
    #[arg(long, allow_hyphen_values = true)]
    pub workers: Option<usize>,
    /// Run again the runs that failed before.
    #[arg(long)]
    pub retry_failed: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct SlurmArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Write the scripts but do not submit them.
    #[arg(long)]
    pub dry_run: bool,
    /// SLURM partition (#SBATCH --partition).
    #[arg(long)]
    pub partition: Option<String>,
    /// Time limit of every array task (HH:MM:SS, D-HH:MM:SS, ...): overrides the limit computed
    /// from what each array's tasks hold.
    #[arg(long)]
    pub time: Option<String>,
    /// CPUs per array task (#SBATCH --cpus-per-task).
    #[arg(long, allow_hyphen_values = true)]
    pub cpus_per_task: Option<usize>,
    /// Memory per task (e.g. 2G).
    #[arg(long)]
    pub mem: Option<String>,
    /// Largest array index + 1 the cluster accepts (default: scontrol show config, else 1001).
    #[arg(long, allow_hyphen_values = true)]
    pub max_array_size: Option<usize>,
    /// Runs per array task, one after the other: overrides the packing to --task-time.
    #[arg(long, allow_hyphen_values = true)]
    pub runs_per_task: Option<usize>,
    /// Target duration of an array task (default 01:00:00): runs are packed up to it by their
    /// estimated cost.
    #[arg(long)]
    pub task_time: Option<String>,
    /// Factor on a task's estimated cost for its time limit (default 1.5; caps take none).
    #[arg(long, allow_negative_numbers = true)]
    pub time_margin: Option<f64>,
    /// Estimated seconds of a run that the store has not measured yet (no finished run with
    /// the same settings but seeds).
    #[arg(long, allow_negative_numbers = true)]
    pub run_seconds: Option<f64>,
    /// At most N array tasks running at once (#SBATCH --array=...%N; later arrays wait for
    /// earlier ones).
    #[arg(long, value_name = "N")]
    pub max_running: Option<usize>,
    /// A shell line run before each task (repeatable; replaces the sweep file's [slurm]
    /// preamble), e.g. --preamble 'module load gcc'.
    #[arg(long, allow_hyphen_values = true)]
    pub preamble: Vec<String>,
    /// Also submit a follow-up job, after the arrays (afterany), that runs the sweep's analysis
    /// on the store.
    #[arg(long)]
    pub analyze: bool,
    /// Where the follow-up analysis writes its figures (default STORE/analysis).
    #[arg(long)]
    pub analysis_out: Option<PathBuf>,
    /// Time limit of the follow-up analysis job (default 01:00:00).
    #[arg(long)]
    pub analysis_time: Option<String>,
    /// Further #SBATCH lines (repeatable), e.g. --extra-sbatch=--account=abc.
    #[arg(long, allow_hyphen_values = true)]
    pub extra_sbatch: Vec<String>,
    /// Queue runs that failed before too.
    #[arg(long)]
    pub retry_failed: bool,
}

#[derive(Args, Debug)]
pub struct TaskArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The frozen task list of the submission (STORE/slurm/<name>-<k>/tasks.jsonl).
    #[arg(long)]
    pub tasks: PathBuf,
    /// Array-task offset of the script.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub offset: usize,
    /// Array index (default: $SLURM_ARRAY_TASK_ID).
    #[arg(long, allow_hyphen_values = true)]
    pub index: Option<usize>,
    /// Runs per array task, for task lists without slots (written by earlier versions, whose
    /// scripts pass it).
    #[arg(long, allow_hyphen_values = true)]
    pub runs_per_task: Option<usize>,
    /// Run again runs that failed before.
    #[arg(long)]
    pub retry_failed: bool,
}

pub fn main(args: SweepArgs) -> anyhow::Result<()> {
    match args.command {
        SweepCommand::Plan(a) => plan(a),
        SweepCommand::Run(a) => run(a),
        SweepCommand::Status(a) => status(a),
        SweepCommand::Slurm(a) => submit(*a),
        SweepCommand::Task(a) => task(a),
    }
}

/// Reads and expands a sweep file; every problem goes to stderr, grouped by message (exit 2).
/// An adaptive sweep expands to the runs it has planned so far from the finished runs of the
/// store at `store` (round 0 without one).
pub fn expand(file: &Path, store: Option<&Path>) -> anyhow::Result<(SweepFile, Expansion)> {
    let (sweep, e) = expand_all(file)?;
    match &sweep.adaptive {
        None => Ok((sweep, e)),
        Some(_) => {
            let p = adaptive_plan(&sweep, e, store)?;
            Ok((sweep, p.expansion()))
        }
    }
}

/// The plan of an adaptive sweep from the runs in the store at `store` (none: round 0).
pub fn adaptive_plan(
    sweep: &SweepFile,
    candidates: Expansion,
    store: Option<&Path>,
) -> anyhow::Result<adaptive::AdaptivePlan> {
    let judge = crate::cmd::adaptive::AnalysisJudge::default();
    let store = store.map(Store::new);
    adaptive::plan(sweep, candidates, store.as_ref(), &judge).with_context(|| {
        format!(
            "planning adaptive sweep {} from {}",
            sweep.name,
            store
                .as_ref()
                .map_or("no store".into(), |s| s.root().display().to_string())
        )
    })
}

/// Reads a sweep file and expands every candidate run (the dense grid of an adaptive sweep).
pub fn expand_all(file: &Path) -> anyhow::Result<(SweepFile, Expansion)> {
    let bad = |errors: Vec<sweep::PlanError>| -> anyhow::Error {
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for e in &errors {
            match groups.iter_mut().find(|(m, _)| *m == e.message) {
                Some((_, c)) => c.push(e.context.clone()),
                None => groups.push((e.message.clone(), vec![e.context.clone()])),
            }
        }
        for (message, contexts) in &groups {
            if contexts.len() == 1 {
                eprintln!("invalid: {}: {message}", contexts[0]);
            } else {
                eprintln!("invalid in {} places: {message}", contexts.len());
                for c in contexts.iter().take(5) {
                    eprintln!("    {c}");
                }
                if contexts.len() > 5 {
                    eprintln!("    ... and {} more", contexts.len() - 5);
                }
            }
        }
        BadInput(format!(
            "{}: {} invalid setting(s) or combination(s), nothing was run",
            file.display(),
            errors.len()
        ))
        .into()
    };
    let sweep = SweepFile::read(file).map_err(|e| bad(e.0))?;
    let expansion = sweep.expand().map_err(|e| bad(e.0))?;
    Ok((sweep, expansion))
}

fn values_text(values: &[String]) -> String {
    if values.len() <= 8 {
        values.join(", ")
    } else {
        format!(
            "{}, ..., {}",
            values[..3].join(", "),
            values[values.len() - 2..].join(", ")
        )
    }
}

fn plan(args: PlanArgs) -> anyhow::Result<()> {
    let (sweep, e) = expand_all(&args.file)?;
    let (e, ap) = match &sweep.adaptive {
        None => (e, None),
        Some(_) => {
            let p = adaptive_plan(&sweep, e, args.out.as_deref())?;
            (p.expansion(), Some(p))
        }
    };
    if args.ids {
        for r in &e.plan.runs {
            outln!("{}", r.identity());
        }
        return Ok(());
    }
    if args.json {
        let mut j = plan_json(&sweep, &e);
        if let Some(p) = &ap {
            j["adaptive"] = adaptive_json(p, args.out.as_deref());
        }
        outln!("{j}");
        return Ok(());
    }
    outln!(
        "sweep {}: {} runs ({} combinations{})",
        sweep.name,
        e.plan.runs.len(),
        sweep.combinations(),
        if e.duplicates > 0 {
            format!(", {} duplicates dropped", e.duplicates)
        } else {
            String::new()
        }
    );
    if let Some(d) = &sweep.description {
        outln!("  {d}");
    }
    let fixed = sweep.fixed.given();
    if !fixed.is_empty() {
        let items: Vec<String> = fixed.iter().map(|(k, v)| format!("{k}={v}")).collect();
        outln!("fixed: {}", items.join(" "));
    }
    if let Some(kind) = &sweep.analysis {
        outln!("analysis: {kind}");
    }
    let print_axes = |axes: &[Axis], indent: &str| {
        for axis in axes {
            let name = axis.keys.join("+");
            let values: Vec<String> = axis
                .points
                .iter()
                .map(|p| {
                    let v: Vec<String> = p.iter().map(sweep::sweepfile::show_value).collect();
                    if v.len() == 1 {
                        v[0].clone()
                    } else {
                        format!("({})", v.join(", "))
                    }
                })
                .collect();
            outln!(
                "{indent}{name:<16} {:>4} values: {}",
                values.len(),
                values_text(&values)
            );
        }
    };
    outln!("axes (the first varies slowest):");
    print_axes(&sweep.axes, "  ");
    print_axes(&sweep.zips, "  ");
    for (p, part) in sweep.parts.iter().enumerate() {
        outln!("part {} (its axes times the shared ones):", p + 1);
        print_axes(part, "    ");
    }
    if let (Some(a), Some(p)) = (&sweep.adaptive, &ap) {
        print_adaptive(a, p, args.out.as_deref());
    }
    flag_memory(&e);
    outln!("example runs:");
    let n = e.plan.runs.len();
    let mut shown: Vec<usize> = (0..n.min(args.examples)).collect();
    if n > args.examples && args.examples > 0 {
        shown.pop();
        shown.push(n - 1);
    }
    for i in shown {
        let spec = &e.plan.runs[i];
        outln!(
            "  #{:<6} {}  {}  (T = {}, lr = {})",
            i + 1,
            spec.identity(),
            e.label(i),
            spec.temp,
            spec.lr
        );
    }
    Ok(())
}

/// Ended runs of `plan` indices: finished or failed.
fn ended_in(p: &adaptive::AdaptivePlan, store: Option<&Path>, idx: &[usize]) -> usize {
    let Some(root) = store else { return 0 };
    let store = Store::new(root);
    idx.iter()
        .filter(|&&i| {
            let id = p.candidates.plan.runs[i].identity();
            store.is_finished(&id) || sweep::read_failure(&store.run_dir(&id)).is_some()
        })
        .count()
}

/// The runs of each round so far: (round, runs, ended).
fn round_counts(p: &adaptive::AdaptivePlan, store: Option<&Path>) -> Vec<(usize, usize, usize)> {
    (0..p.rounds())
        .map(|r| {
            let idx: Vec<usize> = p
                .planned
                .iter()
                .zip(&p.round_of)
                .filter(|(_, &k)| k == r)
                .map(|(&i, _)| i)
                .collect();
            (r, idx.len(), ended_in(p, store, &idx))
        })
        .collect()
}

fn cell_line(a: &adaptive::Adaptive, c: &adaptive::Cell) -> String {
    let state = match &c.status {
        adaptive::CellStatus::Waiting { round, not_ended } => {
            format!("round {round} waiting ({not_ended} runs not ended)")
        }
        adaptive::CellStatus::Pending => "waits for the cell before it (warm start)".into(),
        adaptive::CellStatus::Resolved => "resolved".into(),
        adaptive::CellStatus::Capped => "UNRESOLVED at the round cap".into(),
    };
    let mut points: Vec<usize> = c.rounds.iter().flatten().copied().collect();
    points.sort_unstable();
    let shown: Vec<String> = points
        .iter()
        .map(|&l| sweep::sweepfile::show_value(&a.values[l]))
        .collect();
    let decisions: Vec<String> = c
        .decisions
        .iter()
        .map(|d| {
            format!(
                "{} {}{} ({})",
                d.target.name(),
                if d.located { "located" } else { "bracketed" },
                d.estimate
                    .map(|v| format!(" at {v:.4e}"))
                    .unwrap_or_default(),
                d.note
            )
        })
        .collect();
    // With `[adaptive].seeds`: how many points have all their seeds and how many the first few.
    let seeds = if a.seeds.is_some_and(|n| n < c.seeds) {
        // Partial points by their seed count, fewest first ("6 partial with 2, 3 with 5").
        let mut by: BTreeMap<usize, usize> = BTreeMap::new();
        for &n in &c.partial_seeds {
            *by.entry(n).or_default() += 1;
        }
        let parts: Vec<String> = by
            .iter()
            .enumerate()
            .map(|(i, (n, k))| format!("{k}{} with {n}", if i == 0 { " partial" } else { "" }))
            .collect();
        format!(
            " ({} full with {} seeds{})",
            points.len() - c.partial.len(),
            c.seeds,
            if parts.is_empty() {
                String::new()
            } else {
                format!(", {}", parts.join(", "))
            }
        )
    } else {
        String::new()
    };
    format!(
        "{}: {state}; {} at {} = {}{seeds}{}",
        if c.label.is_empty() {
            "(one cell)"
        } else {
            &c.label
        },
        points.len(),
        a.axis,
        values_text(&shown),
        if decisions.is_empty() {
            String::new()
        } else {
            format!("; {}", decisions.join("; "))
        }
    )
}

/// The rounds planned so far and what is still unresolved.
fn print_adaptive(a: &adaptive::Adaptive, p: &adaptive::AdaptivePlan, store: Option<&Path>) {
    let names: Vec<&str> = a.targets.iter().map(|t| t.name()).collect();
    outln!(
        "adaptive: search {} over {} values ({} .. {}), round 0 every {}{} value, then bisection to the lattice step; targets {}; at most {} rounds after round 0{}",
        a.axis,
        a.values.len(),
        sweep::sweepfile::show_value(&a.values[0]),
        sweep::sweepfile::show_value(&a.values[a.values.len() - 1]),
        a.coarse,
        match a.coarse { 1 => "st", 2 => "nd", 3 => "rd", _ => "th" },
        names.join(", "),
        a.max_rounds,
        a.seeds
            .map(|n| format!(
                "; a new point gets its first {n} seeds, {} when a decision needs them{}",
                if a.seed_steps.is_empty() {
                    "the rest".to_string()
                } else {
                    format!(
                        "then {} and all, a step at a time,",
                        a.seed_steps.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(", ")
                    )
                },
                a.separation
                    .map(|x| format!(" or its mean lies within {x} standard errors of one"))
                    .unwrap_or_default()
            ))
            .unwrap_or_default()
    );
    outln!(
        "  {} of {} candidate runs planned so far{}",
        p.planned.len(),
        p.candidates.plan.runs.len(),
        match store {
            Some(s) => format!(" from the runs in {}", s.display()),
            None => " (no --out: round 0 only)".into(),
        }
    );
    for (r, n, ended) in round_counts(p, store) {
        outln!("  round {r}: {n} runs, {ended} ended");
    }
    let waiting = p
        .cells
        .iter()
        .filter(|c| {
            matches!(
                c.status,
                adaptive::CellStatus::Waiting { .. } | adaptive::CellStatus::Pending
            )
        })
        .count();
    let capped = p
        .cells
        .iter()
        .filter(|c| c.status == adaptive::CellStatus::Capped)
        .count();
    outln!(
        "  cells: {} ({} resolved, {waiting} waiting for runs, {capped} unresolved at the round cap){}",
        p.cells.len(),
        p.cells.len() - waiting - capped,
        if p.resolved() { ": every target located" } else { "" }
    );
    for c in &p.cells {
        outln!("    {}", cell_line(a, c));
    }
}

fn adaptive_json(p: &adaptive::AdaptivePlan, store: Option<&Path>) -> serde_json::Value {
    let rounds: Vec<serde_json::Value> = round_counts(p, store)
        .into_iter()
        .map(|(r, n, ended)| serde_json::json!({ "round": r, "runs": n, "ended": ended }))
        .collect();
    serde_json::json!({
        "candidates": p.candidates.plan.runs.len(),
        "planned": p.planned.len(),
        "resolved": p.resolved(),
        "rounds": rounds,
        "cells": serde_json::to_value(&p.cells).unwrap_or_default(),
    })
}

/// Flags the runs whose memory estimate exceeds what a run may take on this machine (they would
/// be recorded as failed by `sweep run` here; another machine may have the memory).
fn flag_memory(e: &Expansion) {
    use sgdnoise_core::memory;
    let available = memory::available();
    let mut largest: Option<(usize, memory::Estimate, memory::Limit)> = None;
    let mut over: Vec<(usize, u64)> = Vec::new();
    for (i, spec) in e.plan.runs.iter().enumerate() {
        let est = memory::estimate(spec);
        let lim = memory::limit_given(available.clone(), spec.exec.max_memory);
        if est.total() > lim.bytes {
            over.push((i, est.total()));
        }
        if largest
            .as_ref()
            .is_none_or(|(_, l, _)| est.total() > l.total())
        {
            largest = Some((i, est, lim));
        }
    }
    let Some((i, est, lim)) = largest else {
        return;
    };
    outln!(
        "memory: the largest run (#{}) needs {est}; a run may take {lim} here",
        i + 1
    );
    if !over.is_empty() {
        eprintln!(
            "warning: {} of {} runs need more memory than a run may take here; `sweep run` records them as failed here:",
            over.len(),
            e.plan.runs.len()
        );
        for &(i, bytes) in over.iter().take(5) {
            eprintln!(
                "    #{:<6} {}  {}  needs {}",
                i + 1,
                e.plan.runs[i].identity(),
                e.label(i),
                sgdnoise_core::settings::Bytes(bytes)
            );
        }
        if over.len() > 5 {
            eprintln!("    ... and {} more", over.len() - 5);
        }
    }
}

/// One line for a run folder moved aside (never deleted) before its run starts again.
pub fn set_aside_line(id: &str, to: &Path, why: &str) -> String {
    format!(
        "moved  {id}: {why}; the old folder is kept as {}",
        to.display()
    )
}

/// Why a sweep ended with runs not done, if it did: what the command says before it exits with 1.
pub fn not_done(report: &sweep::SweepReport) -> Option<String> {
    let done = report.already_done + report.ran;
    if done >= report.total {
        return None;
    }
    let mut why = Vec::new();
    if report.failed > 0 {
        why.push(format!(
            "{} failed now (errors in STORE/runs/<id>/failed.json)",
            report.failed
        ));
    }
    if report.skipped_failed > 0 {
        why.push(format!(
            "{} failed before and were skipped (`sgdnoise sweep status` shows their errors; rerun with --retry-failed)",
            report.skipped_failed
        ));
    }
    if report.busy > 0 {
        why.push(format!(
            "{} are held by another live executor (run the same command again once it ends)",
            report.busy
        ));
    }
    if report.interrupted > 0 {
        why.push(format!(
            "{} were stopped or not started (run the same command again to continue)",
            report.interrupted
        ));
    }
    Some(format!(
        "{} of {} runs not done: {}",
        report.total - done,
        report.total,
        why.join("; ")
    ))
}

/// The context of an error that stopped a sweep before its end.
pub const STOPPED: &str = "the sweep stopped starting runs; finished runs are kept, nothing was \
     recorded as failed: fix the cause and run the same command again";

/// An axis as JSON: its keys and its values (one value per point for a single setting, a list
/// per point for a `[[zip]]` group).
fn axes_json(axes: &[Axis]) -> Vec<serde_json::Value> {
    axes.iter()
        .map(|a| {
            let values: Vec<serde_json::Value> = a
                .points
                .iter()
                .map(|p| match p.as_slice() {
                    [one] => serde_json::to_value(one).unwrap_or_default(),
                    many => serde_json::to_value(many).unwrap_or_default(),
                })
                .collect();
            serde_json::json!({ "keys": a.keys, "values": values })
        })
        .collect()
}

/// A serialised table without its unset (null) fields.
fn given_json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(m)) => {
            serde_json::Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        Ok(v) => v,
        Err(_) => serde_json::Value::Null,
    }
}

/// A label value as JSON: a number or boolean where it reads as one, else a string.
fn label_value(v: &str) -> serde_json::Value {
    match serde_json::from_str::<serde_json::Value>(v) {
        Ok(n @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => n,
        _ => serde_json::Value::String(v.to_string()),
    }
}

/// `sweep plan --json`.
fn plan_json(sweep: &SweepFile, e: &Expansion) -> serde_json::Value {
    let runs: Vec<serde_json::Value> = e
        .plan
        .runs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let axes: serde_json::Map<String, serde_json::Value> = e.labels[i]
                .iter()
                .map(|(k, v)| (k.clone(), label_value(v)))
                .collect();
            serde_json::json!({ "id": spec.identity(), "axes": axes, "temp": spec.temp, "lr": spec.lr })
        })
        .collect();
    serde_json::json!({
        "name": sweep.name,
        "description": sweep.description,
        "analysis": sweep.analysis,
        "runs": e.plan.runs.len(),
        "combinations": sweep.combinations(),
        "duplicates": e.duplicates,
        "fixed": given_json(&sweep.fixed),
        "axes": axes_json(&sweep.axes),
        "zips": axes_json(&sweep.zips),
        "parts": sweep.parts.iter().map(|p| axes_json(p)).collect::<Vec<_>>(),
        "slurm": given_json(&sweep.slurm),
        "run_list": runs,
    })
}

/// One line for a finished run.
fn finished_line(id: &str, label: &str, s: &sgdnoise_core::rundir::Summary) -> String {
    format!(
        "done   {id}  {label}  {}  steps {}  test_err {:.4}  {:.2} s",
        s.stop_reason, s.steps, s.test_err, s.wall_seconds
    )
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let (sweep, all) = expand_all(&args.store.file)?;
    let Some(a) = &sweep.adaptive else {
        return match run_expansion(&args, all)? {
            Some(why) => anyhow::bail!(why),
            None => Ok(()),
        };
    };
    // Rounds until every cell is resolved or capped; the plan is recomputed from the store
    // before each round, so a killed search resumes in the round it was in.
    let started = Instant::now();
    let mut not_done_why = None;
    let mut last = None;
    loop {
        let p = adaptive_plan(&sweep, all.clone(), Some(&args.store.out))?;
        let store = Store::new(&args.store.out);
        let open = p
            .planned
            .iter()
            .filter(|&&i| {
                let id = p.candidates.plan.runs[i].identity();
                !store.is_finished(&id)
                    && (args.retry_failed || sweep::read_failure(&store.run_dir(&id)).is_none())
            })
            .count();
        if open == 0 || last == Some((p.planned.len(), open)) {
            print_adaptive(a, &p, Some(&args.store.out));
            outln!(
                "adaptive sweep {}: {} of {} candidate runs in {} rounds; {}; {:.1} s",
                sweep.name,
                p.planned.len(),
                p.candidates.plan.runs.len(),
                p.rounds(),
                if p.resolved() {
                    "every target located"
                } else if p.settled() {
                    "some targets unresolved at the round cap"
                } else {
                    "runs not ended"
                },
                started.elapsed().as_secs_f64()
            );
            break;
        }
        last = Some((p.planned.len(), open));
        outln!(
            "adaptive round {}: {} runs planned so far, {open} to run",
            p.rounds() - 1,
            p.planned.len()
        );
        if let Some(why) = run_expansion(&args, p.expansion())? {
            not_done_why = Some(why);
        }
    }
    match not_done_why {
        Some(why) => anyhow::bail!(why),
        None => Ok(()),
    }
}

/// Runs the missing runs of `e`; the reason when some are left not done.
fn run_expansion(args: &RunArgs, e: Expansion) -> anyhow::Result<Option<String>> {
    let store = Store::new(&args.store.out);
    let labels: HashMap<String, String> = e
        .plan
        .runs
        .iter()
        .enumerate()
        .map(|(i, s)| (s.identity(), e.label(i)))
        .collect();
    let already = e
        .plan
        .runs
        .iter()
        .filter(|s| store.is_finished(&s.identity()))
        .count();
    let total = e.plan.runs.len();
    sweep::check_data(&e.plan, &store)
        .map_err(anyhow::Error::from)
        .context("the data of the sweep is not usable; nothing was run")?;
    let stop = crate::signals::stop_flag();
    let opts = sweep::LocalOptions {
        workers: args.workers.unwrap_or(0),
        retry_failed: args.retry_failed,
        stop: Some(stop),
    };
    outln!(
        "sweep {}: {total} runs, {already} already done, {} to do -> {}",
        e.plan.name,
        total - already,
        store.root().display()
    );
    let started = Instant::now();
    let mut progress = SweepProgress::new(total, already, args.quiet, 0);
    let report = sweep::run_local(&e.plan, &store, &opts, &mut |event| match event {
        SweepEvent::Started { .. } => progress.started(),
        SweepEvent::SetAside { id, to, why } => progress.say(set_aside_line(&id, &to, &why)),
        SweepEvent::Finished { id, summary } => {
            progress.finished();
            let label = labels.get(&id).map(String::as_str).unwrap_or("");
            progress.say(finished_line(&id, label, &summary));
        }
        SweepEvent::Failed { id, error } => {
            progress.failed();
            let label = labels.get(&id).map(String::as_str).unwrap_or("");
            progress.say(format!("FAILED {id}  {label}  {error}"));
        }
    })
    .context(STOPPED)?;
    progress.finish();
    outln!(
        "{} of {total} runs done ({} ran now, {} before); {} failed now, {} failed before, {} busy elsewhere, {} interrupted; {:.1} s",
        report.already_done + report.ran,
        report.ran,
        report.already_done,
        report.failed,
        report.skipped_failed,
        report.busy,
        report.interrupted,
        started.elapsed().as_secs_f64()
    );
    if report.skipped_failed > 0 {
        outln!("(runs that failed before are skipped: see `sgdnoise sweep status`, rerun with --retry-failed)");
    }
    crate::signals::check("runs in flight stay partial; run the same command again to continue")?;
    Ok(not_done(&report))
}

fn status(args: StatusArgs) -> anyhow::Result<()> {
    let (_sweep, e) = expand(&args.store.file, Some(&args.store.out))?;
    if !args.store.out.is_dir() {
        // A typo in the store's name would otherwise report every run missing, with exit 0.
        return Err(BadInput(format!(
            "--out {}: no such store (folder); `sgdnoise sweep run` creates it",
            args.store.out.display()
        ))
        .into());
    }
    let store = Store::new(&args.store.out);
    let r = sweep::status(&e.plan, &store);
    let queue = slurm::queue::report(&store, &e.plan.name);
    if args.json {
        let (queue_json, queue_error) = match &queue {
            Some(Ok(q)) => (serde_json::to_value(q)?, None),
            Some(Err(msg)) => (serde_json::Value::Null, Some(msg.clone())),
            None => (serde_json::Value::Null, None),
        };
        let ids =
            |v: &[usize]| -> Vec<String> { v.iter().map(|&i| e.plan.runs[i].identity()).collect() };
        let value = serde_json::json!({
            "name": e.plan.name,
            "store": args.store.out,
            "total": r.total,
            "done": r.done,
            "failed": r.failed.iter().map(|(i, f)| serde_json::json!({
                "id": f.id, "label": e.label(*i), "error": f.error,
            })).collect::<Vec<_>>(),
            "running": r.running.iter().map(|(i, h)| serde_json::json!({
                "id": e.plan.runs[*i].identity(), "label": e.label(*i), "host": h.host, "pid": h.pid,
            })).collect::<Vec<_>>(),
            "partial": ids(&r.partial),
            "missing": ids(&r.missing),
            "slurm": queue_json,
            "slurm_error": queue_error,
        });
        outln!("{value}");
        return Ok(());
    }
    outln!(
        "sweep {}: {} runs in {}: {} done, {} failed, {} running, {} partial, {} missing",
        e.plan.name,
        r.total,
        args.store.out.display(),
        r.done,
        r.failed.len(),
        r.running.len(),
        r.partial.len(),
        r.missing.len()
    );
    match &queue {
        Some(Ok(q)) => {
            let analysis: Vec<String> = q
                .jobs
                .iter()
                .filter(|j| j.kind == "analysis")
                .map(|j| {
                    let state = if j.running_tasks > 0 {
                        "running"
                    } else {
                        "pending"
                    };
                    format!("; analysis job {} {state}", j.job_id)
                })
                .collect();
            if q.jobs.is_empty() {
                outln!(
                    "slurm ({}): none of the {} submitted jobs is queued or running",
                    q.source,
                    q.ended_jobs
                );
            } else {
                outln!(
                    "slurm ({}): array tasks: {} running, {} pending, holding {} and {} unfinished runs; {} of {} jobs ended{}",
                    q.source,
                    q.running_tasks,
                    q.pending_tasks,
                    q.running_runs,
                    q.pending_runs,
                    q.ended_jobs,
                    q.ended_jobs + q.jobs.len(),
                    analysis.concat()
                );
            }
        }
        Some(Err(msg)) => {
            outln!("slurm: not reachable ({msg}); the counts above come from the files")
        }
        None => {}
    }
    for (i, f) in &r.failed {
        outln!("failed  {}  {}  {}", f.id, e.label(*i), f.error);
    }
    for (i, h) in &r.running {
        outln!(
            "running {}  {}  ({h})",
            e.plan.runs[*i].identity(),
            e.label(*i)
        );
    }
    Ok(())
}

/// The settings of a submission: the sweep file's [slurm] table under the flags, checked.
fn slurm_settings(sweep: &SweepFile, args: &SlurmArgs) -> anyhow::Result<sweep::SlurmSettings> {
    let mut settings = sweep.slurm.clone();
    macro_rules! over {
        ($($f:ident),*) => { $( if args.$f.is_some() { settings.$f = args.$f.clone(); } )* };
    }
    over!(
        partition,
        time,
        cpus_per_task,
        mem,
        max_array_size,
        runs_per_task,
        task_time,
        time_margin,
        run_seconds,
        max_running,
        analysis_time
    );
    if !args.extra_sbatch.is_empty() {
        settings.extra_sbatch = Some(args.extra_sbatch.clone());
    }
    if !args.preamble.is_empty() {
        settings.preamble = Some(args.preamble.clone());
    }
    if args.analyze {
        settings.analyze = Some(true);
    }
    // The sweep file's [slurm] table was checked when it was read: what is wrong now is a flag.
    let errors = settings.check(&|field| format!("--{}", field.replace('_', "-")));
    if !errors.is_empty() {
        let all: Vec<String> = errors
            .iter()
            .map(|e| format!("{}: {}", e.context, e.message))
            .collect();
        return Err(BadInput(all.join("; ")).into());
    }
    Ok(settings)
}

fn submit(args: SlurmArgs) -> anyhow::Result<()> {
    let (sweep, all) = expand_all(&args.store.file)?;
    let ap = match &sweep.adaptive {
        Some(_) => Some(adaptive_plan(&sweep, all.clone(), Some(&args.store.out))?),
        None => None,
    };
    let e = match &ap {
        Some(p) => p.expansion(),
        None => all,
    };
    let mut settings = slurm_settings(&sweep, &args)?;
    // An adaptive sweep's analysis follows its last round, not each round.
    let analyze_at_end = ap.is_some() && settings.analyze == Some(true);
    if analyze_at_end {
        settings.analyze = None;
    }
    let (max_array_size, source) = match settings.max_array_size {
        Some(m) => (m, "given"),
        None => match slurm::cluster_max_array_size() {
            Some(m) => (m, "scontrol show config"),
            None => (slurm::DEFAULT_MAX_ARRAY_SIZE, "default"),
        },
    };
    let exe = std::env::current_exe()?;
    let store = Store::new(&args.store.out);
    // Runs that tasks of earlier submissions still hold are not queued twice.
    let already_queued = match slurm::queue::report(&store, &e.plan.name) {
        Some(Ok(q)) => q.queued_runs,
        Some(Err(msg)) => {
            eprintln!(
                "warning: cannot ask SLURM about earlier submissions ({msg}): runs they still hold are queued again (they run once: the locks and result files see to it)"
            );
            Default::default()
        }
        None => Default::default(),
    };
    let opts = slurm::SlurmOptions {
        settings,
        retry_failed: args.retry_failed,
        analysis_out: args.analysis_out.clone(),
        already_queued,
    };
    let Some(sub) = slurm::prepare(
        &e.plan,
        &store,
        &args.store.file,
        &exe,
        &opts,
        max_array_size,
    )?
    else {
        let waiting = opts.already_queued.len();
        if waiting > 0 {
            outln!(
                "sweep {}: {} runs, the {waiting} missing are queued or running on SLURM already: nothing to submit",
                e.plan.name,
                e.plan.runs.len()
            );
        } else {
            outln!(
                "sweep {}: {} runs, 0 missing: nothing to submit",
                e.plan.name,
                e.plan.runs.len()
            );
            if let Some(p) = &ap {
                adaptive_settled(&args, &sweep, p, &opts.settings, analyze_at_end, &exe)?;
            }
        }
        return Ok(());
    };
    let (fewest, most) = sub.scripts.iter().fold((usize::MAX, 0), |(a, b), s| {
        (a.min(s.runs_per_task.0), b.max(s.runs_per_task.1))
    });
    outln!(
        "sweep {}: {} runs, {} queued{} in {} array tasks of {} (MaxArraySize {max_array_size} from {source}); task list {}",
        e.plan.name,
        e.plan.runs.len(),
        sub.runs,
        if sub.running > 0 {
            format!(", {} running elsewhere left out", sub.running)
        } else {
            String::new()
        } + &if sub.already_queued > 0 {
            format!(", {} already queued on SLURM left out", sub.already_queued)
        } else {
            String::new()
        },
        sub.tasks,
        match (fewest, most) {
            (1, 1) => "1 run each".to_string(),
            (a, b) if a == b => format!("{a} runs each"),
            (a, b) => format!("{a}-{b} runs"),
        },
        sub.tasks_file.display()
    );
    let sources: Vec<String> = sub
        .sources
        .iter()
        .map(|(s, n)| format!("{n} {}", s.name()))
        .collect();
    outln!(
        "sizing: cost per run from {}; {}, time margin {}",
        sources.join(", "),
        match opts.settings.runs_per_task {
            Some(k) => format!("runs per task {k} (given)"),
            None => format!(
                "tasks packed to {}",
                slurm::time::format(sub.sizing.task_seconds as u64)
            ),
        },
        sub.sizing.margin
    );
    for w in &sub.warnings {
        eprintln!("warning: {w}");
    }
    let describe = |script: &slurm::ArrayScript| {
        format!(
            "offset {}, tasks 0-{}{}, {} runs, time {}",
            script.offset,
            script.tasks - 1,
            sub.max_running.map(|m| format!("%{m}")).unwrap_or_default(),
            script.runs,
            match (&script.time, &opts.settings.time) {
                (Some(t), Some(_)) => format!("{t} (given)"),
                (Some(t), None) => format!("{t} (computed)"),
                (None, _) => "not set (partition default)".into(),
            }
        )
    };
    let mut jobs: Vec<String> = Vec::new();
    let abs_store = Store::new(std::fs::canonicalize(store.root())?);
    for script in &sub.scripts {
        if args.dry_run {
            outln!(
                "wrote {} ({}): not submitted (--dry-run)",
                script.path.display(),
                describe(script)
            );
            continue;
        }
        // With a throttle, each array waits for the one before, so the limit holds across arrays.
        let dependency = match (sub.max_running, jobs.last()) {
            (Some(_), Some(prev)) => Some(format!("afterany:{prev}")),
            _ => None,
        };
        let job = match slurm::sbatch(&script.path, dependency.as_deref()) {
            Ok(job) => job,
            Err(e) => {
                if jobs.is_empty() {
                    // Nothing of this submission was queued: leave no folder behind.
                    let _ = std::fs::remove_dir_all(&sub.dir);
                }
                return Err(e.into());
            }
        };
        slurm::record_submission(
            &abs_store,
            &slurm::SubmissionRecord::array(&job, script, dependency.as_deref()),
        )?;
        outln!(
            "submitted array job {job}: {} ({})",
            describe(script),
            script.path.display()
        );
        jobs.push(job);
    }
    if let Some(p) = &ap {
        next_round(&args, &sweep, p, &opts.settings, &sub.dir, &jobs)?;
    }
    if let Some(a) = &sub.analysis {
        if args.dry_run {
            outln!(
                "wrote {} (analysis into {}, after the arrays): not submitted (--dry-run)",
                a.path.display(),
                a.out.display()
            );
        } else {
            let dependency = format!("afterany:{}", jobs.join(":"));
            let job = slurm::sbatch(&a.path, Some(&dependency))?;
            slurm::record_submission(
                &abs_store,
                &slurm::SubmissionRecord::analysis(&job, a, &dependency),
            )?;
            outln!(
                "submitted analysis job {job} ({dependency}): figures into {}",
                a.out.display()
            );
        }
    }
    Ok(())
}

/// Most next-round jobs one adaptive sweep submits (rounds, and resubmissions of runs a time
/// limit cut): a chain that does not settle stops here, saying so.
/// A warm-started sweep searches its cells one after the other, so its cap counts cells too;
/// seeds in steps (`seeds = [2, 5]`) add a round per step where a point is filled.
fn chain_cap(sweep: &SweepFile) -> usize {
    let Some(a) = &sweep.adaptive else { return 0 };
    let cells = if a.warm {
        sweep.expand().map_or(1, |e| {
            let mut labels: Vec<_> = e
                .labels
                .iter()
                .map(|l| {
                    l.iter()
                        .filter(|(k, _)| !k.starts_with("seed") && k.replace('-', "_") != a.axis)
                        .collect::<Vec<_>>()
                })
                .collect();
            labels.sort();
            labels.dedup();
            labels.len().max(1)
        })
    } else {
        1
    };
    (4 + a.seed_steps.len()) * (a.max_rounds + 1) * cells
}

/// Writes and (unless --dry-run) submits the next-round job of an adaptive sweep after this
/// round's arrays `jobs`.
fn next_round(
    args: &SlurmArgs,
    sweep: &SweepFile,
    p: &adaptive::AdaptivePlan,
    settings: &sweep::SlurmSettings,
    dir: &Path,
    jobs: &[String],
) -> anyhow::Result<()> {
    let store = Store::new(&args.store.out);
    let chained = slurm::read_submissions(&store)
        .map(|r| r.iter().filter(|r| r.kind == "next_round").count())
        .unwrap_or(0);
    if chained >= chain_cap(sweep) {
        eprintln!(
            "warning: adaptive sweep {}: {chained} next-round jobs submitted already (the cap is {}): no further round is chained; `sweep plan --out` shows what is unresolved",
            sweep.name,
            chain_cap(sweep)
        );
        return Ok(());
    }
    let mut command: Vec<String> = std::env::args().collect();
    command[0] = std::env::current_exe()?.display().to_string();
    command.retain(|a| a != "--dry-run");
    let body = slurm::next_round_script_text(
        &format!("sgdnoise-{}-next", slurm::safe_name(&sweep.name)),
        settings,
        &std::fs::canonicalize(dir)?.join("logs"),
        &std::env::current_dir()?,
        &command,
    );
    let path = slurm::write_script(dir, "next-round.sbatch", &body)?;
    if args.dry_run || jobs.is_empty() {
        outln!(
            "wrote {} (plans and submits round {} of the adaptive sweep after these arrays): not submitted{}",
            path.display(),
            p.rounds(),
            if args.dry_run { " (--dry-run)" } else { "" }
        );
        return Ok(());
    }
    let dependency = format!("afterany:{}", jobs.join(":"));
    let job = slurm::sbatch(&path, Some(&dependency))?;
    let abs_store = Store::new(std::fs::canonicalize(store.root())?);
    slurm::record_submission(
        &abs_store,
        &slurm::SubmissionRecord::other(&job, "next_round", &path, Some(&dependency)),
    )?;
    outln!(
        "submitted next-round job {job} ({dependency}): plans the adaptive sweep's next round from the finished runs"
    );
    Ok(())
}

/// An adaptive sweep with nothing left to submit: says where it stands and, when it is settled
/// and an analysis was asked for, submits the analysis of its runs.
fn adaptive_settled(
    args: &SlurmArgs,
    sweep: &SweepFile,
    p: &adaptive::AdaptivePlan,
    settings: &sweep::SlurmSettings,
    analyze: bool,
    exe: &Path,
) -> anyhow::Result<()> {
    if let Some(a) = &sweep.adaptive {
        print_adaptive(a, p, Some(&args.store.out));
    }
    if !p.settled() || !analyze {
        return Ok(());
    }
    let store = Store::new(std::fs::canonicalize(&args.store.out)?);
    let dir = store
        .slurm_dir()
        .join(format!("{}-final", slurm::safe_name(&sweep.name)));
    let out = match &args.analysis_out {
        Some(o) if o.is_absolute() => o.clone(),
        Some(o) => std::env::current_dir()?.join(o),
        None => store.analysis_dir(),
    };
    let paths = slurm::ScriptPaths {
        exe: exe.to_path_buf(),
        sweep_file: std::fs::canonicalize(&args.store.file)?,
        store: store.root().to_path_buf(),
        tasks_file: dir.join("tasks.jsonl"),
        log_dir: dir.join("logs"),
    };
    std::fs::create_dir_all(&paths.log_dir)?;
    let body = slurm::analysis_script_text(
        &format!("sgdnoise-{}-analysis", slurm::safe_name(&sweep.name)),
        settings,
        &paths,
        &out,
    );
    let path = slurm::write_script(&dir, "analysis.sbatch", &body)?;
    if args.dry_run {
        outln!(
            "wrote {} (analysis into {}): not submitted (--dry-run)",
            path.display(),
            out.display()
        );
        return Ok(());
    }
    let job = slurm::sbatch(&path, None)?;
    slurm::record_submission(
        &store,
        &slurm::SubmissionRecord::other(&job, "analysis", &path, None),
    )?;
    outln!(
        "submitted analysis job {job}: the adaptive sweep is settled; figures into {}",
        out.display()
    );
    Ok(())
}

fn task(args: TaskArgs) -> anyhow::Result<()> {
    let index = match args.index {
        Some(i) => i,
        None => std::env::var("SLURM_ARRAY_TASK_ID")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| BadInput("give --index or set SLURM_ARRAY_TASK_ID".into()))?,
    };
    let tasks = slurm::read_tasks(&args.tasks)?;
    let runs = slurm::task_runs(&tasks, args.offset, index, args.runs_per_task.unwrap_or(1))?;
    let stop = crate::signals::stop_flag();
    let store = Store::new(&args.store.out);
    let mut failed = 0;
    for spec in &runs {
        let id = spec.identity();
        let label = format!(
            "ptr={} temp={} seed_init={}",
            spec.ptr, spec.temp, spec.seeds.init
        );
        let t0 = Instant::now();
        match sweep::run_one(
            &store,
            spec,
            args.retry_failed,
            Some(&stop),
            &mut |event| match event {
                SweepEvent::Started { .. } => outln!("start  {id}  {label}"),
                SweepEvent::SetAside { to, why, .. } => {
                    outln!("{}", set_aside_line(&id, &to, &why))
                }
                SweepEvent::Finished { .. } | SweepEvent::Failed { .. } => {}
            },
        )
        .context(STOPPED)?
        {
            sweep::RunOutcome::Finished(s) => outln!("{}", finished_line(&id, &label, &s)),
            sweep::RunOutcome::AlreadyDone => outln!("skip   {id}: already done"),
            sweep::RunOutcome::PreviouslyFailed(e) => {
                outln!("skip   {id}: failed before ({e}); use --retry-failed")
            }
            sweep::RunOutcome::Busy(h) => outln!("skip   {id}: running elsewhere ({h})"),
            sweep::RunOutcome::Failed(e) => {
                failed += 1;
                outln!(
                    "FAILED {id}  {label}  {e}  ({:.1} s)",
                    t0.elapsed().as_secs_f64()
                );
            }
            sweep::RunOutcome::Interrupted => {
                outln!("interrupted {id}: left partial");
                crate::signals::check("the run stays partial and runs again when resubmitted")?;
                anyhow::bail!("interrupted");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} run(s) failed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_cap_grows_with_the_steps_of_seeds() {
        let text = include_str!("../../../../examples/perceptron-adaptive.toml");
        let cap = |extra: &str| {
            let f = SweepFile::parse(
                &text.replace("[adaptive]", &format!("[adaptive]\n{extra}")),
                "t",
            )
            .unwrap();
            (chain_cap(&f), f.adaptive.unwrap().max_rounds)
        };
        let (base, rounds) = cap("");
        assert_eq!(base, 4 * (rounds + 1));
        assert_eq!(cap("seeds = 2").0, base);
        assert_eq!(cap("seeds = [2, 3, 4]").0, 6 * (rounds + 1));
    }
}
