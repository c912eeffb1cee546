//! `sgdnoise sweep plan|run|status|slurm|task`: grids of runs from a sweep file (syntax: the
//! doc of `sgdnoise_campaign::sweepfile`, examples in `examples/*.toml`).

use crate::output::outln;
use crate::progress::SweepProgress;
use crate::BadInput;
use clap::{Args, Subcommand};
use sgdnoise_campaign::sweepfile::Axis;
use sgdnoise_campaign::{self as sweep, slurm, Expansion, Store, SweepEvent, SweepFile};
use std::collections::HashMap;
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
    /// Count the runs of a sweep that are done, failed, partial, running or missing.
    Status(StoreArgs),
    /// Write (and submit) SLURM job arrays for the missing runs.
    Slurm(SlurmArgs),
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
    /// Time limit per array task (HH:MM:SS).
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
    /// Runs per array task, one after the other.
    #[arg(long, allow_hyphen_values = true)]
    pub runs_per_task: Option<usize>,
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
    /// Runs per array task of the submission (as written into its script).
    #[arg(long, default_value_t = 1, allow_hyphen_values = true)]
    pub runs_per_task: usize,
    /// Run again runs that failed before.
    #[arg(long)]
    pub retry_failed: bool,
}

pub fn main(args: SweepArgs) -> anyhow::Result<()> {
    match args.command {
        SweepCommand::Plan(a) => plan(a),
        SweepCommand::Run(a) => run(a),
        SweepCommand::Status(a) => status(a),
        SweepCommand::Slurm(a) => submit(a),
        SweepCommand::Task(a) => task(a),
    }
}

/// Reads and expands a sweep file; every problem goes to stderr, grouped by message (exit 2).
pub fn expand(file: &Path) -> anyhow::Result<(SweepFile, Expansion)> {
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
    let (sweep, e) = expand(&args.file)?;
    if args.ids {
        for r in &e.plan.runs {
            outln!("{}", r.identity());
        }
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

/// One line for a finished run.
fn finished_line(id: &str, label: &str, s: &sgdnoise_core::rundir::Summary) -> String {
    format!(
        "done   {id}  {label}  {}  steps {}  test_err {:.4}  {:.2} s",
        s.stop_reason, s.steps, s.test_err, s.wall_seconds
    )
}

fn run(args: RunArgs) -> anyhow::Result<()> {
    let (_sweep, e) = expand(&args.store.file)?;
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
    })?;
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
    if report.failed > 0 || report.skipped_failed > 0 {
        // A sweep with runs that cannot finish is not done, now or on a resume.
        anyhow::bail!(
            "{} run(s) failed now and {} failed before; the sweep is not complete (errors in STORE/runs/<id>/failed.json, `sgdnoise sweep status` lists them)",
            report.failed,
            report.skipped_failed
        );
    }
    Ok(())
}

fn status(args: StoreArgs) -> anyhow::Result<()> {
    let (_sweep, e) = expand(&args.file)?;
    if !args.out.is_dir() {
        // A typo in the store's name would otherwise report every run missing, with exit 0.
        return Err(BadInput(format!(
            "--out {}: no such store (folder); `sgdnoise sweep run` creates it",
            args.out.display()
        ))
        .into());
    }
    let r = sweep::status(&e.plan, &Store::new(&args.out));
    outln!(
        "sweep {}: {} runs in {}: {} done, {} failed, {} running, {} partial, {} missing",
        e.plan.name,
        r.total,
        args.out.display(),
        r.done,
        r.failed.len(),
        r.running.len(),
        r.partial.len(),
        r.missing.len()
    );
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

fn submit(args: SlurmArgs) -> anyhow::Result<()> {
    let (sweep, e) = expand(&args.store.file)?;
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
        runs_per_task
    );
    if !args.extra_sbatch.is_empty() {
        settings.extra_sbatch = Some(args.extra_sbatch.clone());
    }
    if settings.runs_per_task == Some(0) || settings.max_array_size == Some(0) {
        return Err(
            BadInput("--runs-per-task and --max-array-size must be at least 1".into()).into(),
        );
    }
    let (max_array_size, source) = match settings.max_array_size {
        Some(m) => (m, "given"),
        None => match slurm::cluster_max_array_size() {
            Some(m) => (m, "scontrol show config"),
            None => (slurm::DEFAULT_MAX_ARRAY_SIZE, "default"),
        },
    };
    let exe = std::env::current_exe()?;
    let opts = slurm::SlurmOptions {
        settings,
        retry_failed: args.retry_failed,
    };
    let store = Store::new(&args.store.out);
    let Some(sub) = slurm::prepare(
        &e.plan,
        &store,
        &args.store.file,
        &exe,
        &opts,
        max_array_size,
    )?
    else {
        outln!(
            "sweep {}: {} runs, 0 missing: nothing to submit",
            e.plan.name,
            e.plan.runs.len()
        );
        return Ok(());
    };
    outln!(
        "sweep {}: {} runs, {} queued{} ({} per task, MaxArraySize {max_array_size} from {source}); task list {}",
        e.plan.name,
        e.plan.runs.len(),
        sub.runs,
        if sub.running > 0 {
            format!(", {} running elsewhere left out", sub.running)
        } else {
            String::new()
        },
        sub.runs_per_task,
        sub.tasks_file.display()
    );
    for script in &sub.scripts {
        if args.dry_run {
            outln!(
                "wrote {} (offset {}, tasks 0-{}): not submitted (--dry-run)",
                script.path.display(),
                script.offset,
                script.tasks - 1
            );
        } else {
            let job = match slurm::sbatch(&script.path) {
                Ok(job) => job,
                Err(e) => {
                    if script.offset == 0 {
                        // Nothing of this submission was queued: leave no folder behind.
                        let _ = std::fs::remove_dir_all(&sub.dir);
                    }
                    return Err(e.into());
                }
            };
            let abs_store = Store::new(std::fs::canonicalize(store.root())?);
            slurm::record_submission(&abs_store, &job, script)?;
            outln!(
                "submitted array job {job}: offset {}, tasks 0-{} ({})",
                script.offset,
                script.tasks - 1,
                script.path.display()
            );
        }
    }
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
    let runs = slurm::task_runs(&tasks, args.offset, index, args.runs_per_task)?;
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
        match sweep::run_one(&store, spec, args.retry_failed, Some(&stop), &mut || {
            outln!("start  {id}  {label}");
        })? {
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
