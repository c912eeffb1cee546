//! `sgdnoise reproduce NAME`: one of the paper's sweeps (SPEC §9) from its preset file
//! (presets/NAME-SCALE.toml, embedded), run or resumed in DIR/store, then its figures and fits
//! drawn into DIR by the analysis the preset names.

use crate::output::outln;
use crate::progress::SweepProgress;
use anyhow::Context;
use clap::Args;
use sgdnoise_analysis::{report, Kind};
use sgdnoise_campaign::presets::{self, Scale};
use sgdnoise_campaign::sweepfile::target::{seed_counts, MAX_SEEDS};
use sgdnoise_campaign::{self as sweep, LocalOptions, Store, SweepEvent};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ReproduceArgs {
    /// The sweep: perceptron, fc-mnist, fc-cifar, fc-phase, cnn-mnist, cnn-cifar, cnn-phase-cifar,
    /// or a (B, eta) grid of the follow-up paper: bp-perceptron-chi0, bp-perceptron-chi1,
    /// bp-fc-small-margin, bp-fc-margin-one, bp-cnn-small-margin, bp-cnn-margin-one.
    pub name: String,
    /// quick (two CPU cores: minutes to under an hour) or paper (the authors' full grid).
    #[arg(long, value_enum, default_value_t = Scale::Quick)]
    pub scale: Scale,
    /// Output folder: the store goes to DIR/store, figures, CSVs, fits.csv and report.md to DIR.
    #[arg(long, required_unless_present_any = ["dry_run", "print_sweep"])]
    pub out: Option<PathBuf>,
    /// Concurrent runs (0: one per core).
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub workers: usize,
    /// Where the image data sets are (mnist/cifar presets).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Only plan: print the number of runs and every run id, and exit (the same ids as
    /// `sgdnoise sweep plan presets/NAME-SCALE.toml`).
    #[arg(long)]
    pub dry_run: bool,
    /// Print the preset's sweep file (as embedded in this binary) and exit.
    #[arg(long)]
    pub print_sweep: bool,
    /// Only analyse what is already in DIR/store (no runs).
    #[arg(long)]
    pub no_run: bool,
    /// Run again the runs that failed before (their errors are in DIR/store/runs/<id>/failed.json).
    #[arg(long)]
    pub retry_failed: bool,
    /// Bootstrap resamples of the confidence intervals.
    #[arg(long, default_value_t = 1000, allow_hyphen_values = true)]
    pub resamples: usize,
    /// Also write every figure for print into DIR/print: PDF (vector, font embedded), PNG at
    /// 300 dpi and SVG with the font embedded.
    #[arg(long)]
    pub print: bool,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
    /// Search instead of running the dense grid (T-sweeps: T_c by methods (a) and (b) and the
    /// divergence edge on the temperature axis; phase diagrams: the optimal learning rate and
    /// the divergence edge per alpha; (B, eta) grids: B*(P) on the batch axis, each point a
    /// whole column of learning rates): rounds of runs of the preset's grid, refined where the
    /// targets lie (`sgdnoise_campaign::adaptive`).
    #[arg(long)]
    pub adaptive: bool,
    /// With --adaptive: search the cells one after the other, each starting T_c by method (a)
    /// and the divergence edge from the brackets the cell before located (`warm = true` of the
    /// [adaptive] table, SPEC §12). Off by default: with the T-sweeps' targets the plateau exit
    /// reads the coarse points in every cell anyway, and replayed on the fc-mnist paper store
    /// warm took the same 200 of 400 runs as cold, in 7 waves of runs instead of 3 (in the phase
    /// diagrams only the edge starts warm, and it moves too far between alphas to pay).
    #[arg(long, requires = "adaptive")]
    pub warm: bool,
    /// With --adaptive: round 0 takes every N-th value of the searched axis and the last
    /// (`coarse` of the [adaptive] table; default 4). For the phase diagrams on the paper's
    /// 31 learning rates 8 took the fewest runs (README, "Adaptive sweeps").
    #[arg(long, requires = "adaptive", value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub coarse: Option<u32>,
    /// With --adaptive: seeds on demand (`seeds` of the [adaptive] table, SPEC §12): a new
    /// point runs its first N seeds and gets the rest where a decision needs them; `N,M,...`
    /// (ascending) fills it a step at a time, to M seeds, ..., then all. Off by default (every
    /// seed at once); for the phase diagrams 1,2,5 with --separation 1.5 and --coarse 8 is what
    /// was measured best (README, "Adaptive sweeps"). Not for the (B, eta) presets, whose
    /// points are whole columns.
    #[arg(long, requires = "adaptive", value_name = "N[,M...]", value_parser = seed_list)]
    pub seeds: Option<SeedList>,
    /// With --seeds: the standard errors a partial point must clear to keep only its first seeds
    /// (`separation` of the [adaptive] table, 0 to 10, default 3; smaller: fewer runs, less
    /// certainty, measured in the README).
    #[arg(long, requires = "seeds")]
    pub separation: Option<f64>,
}

pub fn main(args: ReproduceArgs) -> anyhow::Result<()> {
    let sweep_file = presets::sweep(&args.name, args.scale)?;
    let stem = presets::file_stem(&args.name, args.scale);
    if args.print_sweep {
        outln!("{}", presets::text(&stem).unwrap_or_default().trim_end());
        return Ok(());
    }
    let kind: Kind = sweep_file
        .analysis
        .as_deref()
        .unwrap_or_default()
        .parse()
        .with_context(|| format!("preset {stem}"))?;
    let sweep_file = if args.adaptive {
        use sgdnoise_campaign::adaptive::Target;
        match kind {
            Kind::TSweep => sweep_file.into_adaptive(
                "temp",
                &[Target::TcRwc, Target::TcPlateau, Target::Divergence],
                4,
            )?,
            Kind::Phase => {
                sweep_file.into_adaptive("lr", &[Target::TOpt, Target::Divergence], 4)?
            }
            Kind::Batch => {
                // B*(P): whole columns of the (B, eta) plane, every lr in each point.
                let mut f = sweep_file.into_adaptive("batch", &[Target::BStar], 4)?;
                if let Some(a) = f.adaptive.as_mut() {
                    a.inner = vec!["lr".into()];
                }
                f
            }
            other => {
                return Err(crate::BadInput(format!(
                    "--adaptive: preset {stem} draws {other:?} figures; only the T-sweep, phase-diagram and (B, eta) presets have an adaptive form"
                ))
                .into())
            }
        }
    } else {
        sweep_file
    };
    let mut sweep_file = sweep_file;
    if let Some(a) = sweep_file.adaptive.as_mut() {
        if args.warm
            && a.targets
                .contains(&sgdnoise_campaign::adaptive::Target::BStar)
        {
            return Err(crate::BadInput(format!(
                "--warm: preset {stem} searches B*, which starts from the coarse columns in every P (the smallest and largest B decide every ratio)"
            ))
            .into());
        }
        a.warm = args.warm;
        let first = args.seeds.as_ref().map(|l| l.first);
        let problems = sgdnoise_campaign::sweepfile::target::on_demand_problems(
            first,
            args.separation,
            &a.inner,
        );
        if let Some((key, message)) = problems.first() {
            return Err(crate::BadInput(format!("--{key}: preset {stem}: {message}")).into());
        }
        a.seeds = first;
        a.seed_steps = args
            .seeds
            .as_ref()
            .map(|l| l.steps.clone())
            .unwrap_or_default();
        a.separation = args.separation;
        if let Some(c) = args.coarse {
            a.coarse = c as usize;
        }
    }
    let candidates = sweep_file.expand()?;
    let store_root = args.out.as_ref().map(|o| o.join("store"));
    let data_dir = args.data_dir.clone();
    let plan_now =
        |store_root: Option<&std::path::Path>| -> anyhow::Result<sgdnoise_campaign::Plan> {
            let mut plan = match &sweep_file.adaptive {
                Some(_) => {
                    crate::cmd::sweep::adaptive_plan(&sweep_file, candidates.clone(), store_root)?
                        .expansion()
                        .plan
                }
                None => candidates.plan.clone(),
            };
            if let Some(dir) = &data_dir {
                for r in &mut plan.runs {
                    r.exec.data_dir = Some(dir.clone());
                }
            }
            Ok(plan)
        };
    let mut plan = plan_now(store_root.as_deref())?;
    if args.dry_run {
        outln!(
            "{} ({}): {} runs (presets/{stem}.toml)",
            plan.name,
            args.scale,
            plan.runs.len()
        );
        for r in &plan.runs {
            outln!("{}", r.identity());
        }
        return Ok(());
    }
    let out = args.out.clone().expect("--out is required (clap)");
    let store = Store::new(out.join("store"));
    eprintln!(
        "{} ({}): {} runs, store {}",
        plan.name,
        args.scale,
        plan.runs.len(),
        store.root().display()
    );
    let mut not_done = None;
    let mut last = None;
    // One pass for a dense preset; for an adaptive one, rounds until nothing is left to run.
    loop {
        if args.no_run {
            break;
        }
        if sweep_file.adaptive.is_some() {
            plan = plan_now(Some(store.root()))?;
            let open = sweep::missing(&plan, &store, args.retry_failed).len();
            if open == 0 || last == Some((plan.runs.len(), open)) {
                eprintln!(
                    "adaptive: {} of {} candidate runs planned; no runs left to plan",
                    plan.runs.len(),
                    candidates.plan.runs.len()
                );
                break;
            }
            last = Some((plan.runs.len(), open));
            eprintln!(
                "adaptive: {} runs planned so far, {open} to run",
                plan.runs.len()
            );
        }
        // Missing data would fail every run alike: say it once, before anything runs.
        sweep::check_data(&plan, &store).with_context(|| {
            format!(
                "preset {stem} needs its data set; nothing was run (give --data-dir, or get the data as below)"
            )
        })?;
        let started = std::time::Instant::now();
        let stop = crate::signals::stop_flag();
        let opts = LocalOptions {
            workers: args.workers,
            retry_failed: args.retry_failed,
            stop: Some(stop),
        };
        let mut progress = SweepProgress::new(plan.runs.len(), 0, args.quiet, 50);
        let rep = sweep::run_local(&plan, &store, &opts, &mut |ev| match ev {
            SweepEvent::Started { .. } => progress.started(),
            SweepEvent::SetAside { id, to, why } => {
                progress.say(crate::cmd::sweep::set_aside_line(&id, &to, &why))
            }
            SweepEvent::Finished { .. } => progress.finished(),
            SweepEvent::Failed { id, error } => {
                progress.failed();
                eprintln!("  run {id} failed: {error}");
            }
        })
        .context(crate::cmd::sweep::STOPPED)
        .with_context(|| format!("sweep {}", plan.name))?;
        progress.finish();
        eprintln!(
            "sweep: {} of {} already done, {} ran, {} failed now, {} failed before (skipped), {:.1} s",
            rep.already_done,
            rep.total,
            rep.ran,
            rep.failed,
            rep.skipped_failed,
            started.elapsed().as_secs_f64()
        );
        crate::signals::check(
            "finished runs are kept in the store; run the same command again to continue",
        )?;
        not_done = crate::cmd::sweep::not_done(&rep).or(not_done);
        if sweep_file.adaptive.is_none() {
            break;
        }
    }
    let collection = store.summaries_of(&plan)?;
    crate::cmd::collect::warn_skipped(&collection, store.root());
    let left_out = crate::cmd::analyze::left_out(&collection.skipped);
    let runs = collection.summaries;
    if runs.is_empty() {
        if let Some(why) = not_done {
            // Nothing to draw: no empty report over an earlier one.
            anyhow::bail!("{why}; no figures were drawn");
        }
    }
    let opts = report::AnalysisOptions {
        bootstrap: sgdnoise_analysis::fit::BootstrapOptions {
            resamples: args.resamples,
            ..Default::default()
        },
        source: format!(
            "`sgdnoise reproduce {} --scale {}` ({} planned runs, store {})",
            args.name,
            args.scale,
            plan.runs.len(),
            store.root().display()
        ),
        print: args.print,
        store: Some(store.root().to_path_buf()),
        command: crate::cmd::analyze::command_line(),
        git_commit: crate::cmd::analyze::git_commit(),
        left_out,
        ..Default::default()
    };
    let a = report::analyze(&runs, kind, &opts, &out)?;
    crate::cmd::analyze::print_result(&a, &out);
    if let Some(why) = not_done {
        anyhow::bail!("{why}; the figures above show the finished runs only");
    }
    Ok(())
}

/// `--seeds N[,M...]`: the first seeds of a new point, then the counts it is filled to.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedList {
    pub first: usize,
    pub steps: Vec<usize>,
}

fn seed_list(s: &str) -> Result<SeedList, String> {
    let n: Option<Vec<i64>> = s.split(',').map(|p| p.trim().parse().ok()).collect();
    let (first, steps) = n.as_deref().and_then(seed_counts).ok_or_else(|| {
        format!("{s:?}: a whole number of seeds from 1 to {MAX_SEEDS}, or several in ascending order separated by commas (2,5)")
    })?;
    Ok(SeedList { first, steps })
}
