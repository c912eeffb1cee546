//! `sgdnoise collect STORE --output TABLE [--format csv|parquet] [--checkpoints]`: the tidy
//! table of a store's finished runs (one row per run, or one row per checkpoint), columns named
//! as the settings (see `sgdnoise_campaign::table`).
//!
//! Every row's id is unique and names the folder the summary lives in. What is left out is
//! reported on stderr, grouped, with counts and paths: copies and folders set aside (a summary
//! naming another run), corrupt or truncated summaries, and finished runs this version cannot
//! read. The exit code stays 0 then (the table of the readable runs is written), after a
//! `warning:` line; `sgdnoise sweep run` moves a corrupt summary of a planned run aside and runs
//! it again. The table is never written inside the store's `runs/`, `locks/` or `slurm/`
//! folders, nor over a file of the store that is not a table (exit 2).

use crate::output::outln;
use crate::BadInput;
use clap::Args;
use sgdnoise_campaign::table::{self, Table};
use sgdnoise_campaign::{Collection, Store};
use std::path::{Path, PathBuf};

/// The file format of the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    /// Typed columns (Int64, Float64, Boolean, Utf8), missing values as nulls.
    Parquet,
}

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The run store (the folder holding runs/).
    pub store: PathBuf,
    /// The file to write (atomically): an `id` column, the settings (named as in `run --help`),
    /// `given`, `stop_reason`, `diverged`, the summary scalars (missing for diverged runs).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The format. Default: parquet when the output ends in .parquet, else csv.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// One row per checkpoint of every finished run (long format: id, settings, step, t and
    /// every observable) instead of one row per run.
    #[arg(long)]
    pub checkpoints: bool,
}

/// The format `format`, else the one `output`'s extension names.
fn format_of(format: Option<Format>, output: &Path) -> Format {
    format.unwrap_or_else(|| match output.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("parquet") => Format::Parquet,
        _ => Format::Csv,
    })
}

pub fn main(args: CollectArgs) -> anyhow::Result<()> {
    let format = format_of(args.format, &args.output);
    if format == Format::Parquet && !table::PARQUET {
        return Err(BadInput(format!("--format parquet: {}", table::NO_PARQUET)).into());
    }
    if !Store::exists_at(&args.store) {
        return Err(BadInput(format!(
            "{}: not a run store (no runs/ folder)",
            args.store.display()
        ))
        .into());
    }
    check_output(&args.store, &args.output)?;
    let store = Store::new(&args.store);
    let collection = store.scan()?;
    warn_skipped(&collection, &args.store);
    let summaries = collection.summaries;
    let t = if args.checkpoints {
        table::checkpoints_of(&store, &summaries, &[])?
    } else {
        Table::runs(&summaries)?
    };
    match format {
        Format::Csv => t.write_csv(&args.output)?,
        Format::Parquet => t.write_parquet(&args.output)?,
    }
    if args.checkpoints {
        outln!(
            "{} checkpoints of {} finished runs -> {}",
            t.len(),
            summaries.len(),
            args.output.display()
        );
    } else {
        outln!("{} finished runs -> {}", t.len(), args.output.display());
    }
    Ok(())
}

/// The absolute form of `path`, through every symbolic link of the part that exists.
fn resolved(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = std::fs::canonicalize(path) {
        return Some(p);
    }
    let name = path.file_name()?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Some(resolved(parent)?.join(name))
}

/// Refuses (exit 2) a table that would land inside the store's own folders or replace a file of
/// the store that is not a CSV table, or a folder.
fn check_output(store: &Path, output: &Path) -> Result<(), BadInput> {
    if output.is_dir() {
        return Err(BadInput(format!(
            "--output {}: is a folder; give the path of a CSV file",
            output.display()
        )));
    }
    let (Some(out), Some(root)) = (resolved(output), resolved(store)) else {
        return Ok(());
    };
    let Ok(inside) = out.strip_prefix(&root) else {
        return Ok(());
    };
    let first = inside
        .components()
        .next()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default();
    if ["runs", "locks", "slurm"].contains(&first.as_str()) {
        return Err(BadInput(format!(
            "--output {}: is inside the store's {first}/ folder, which holds the runs' own files; \
             write the table elsewhere (e.g. {}/table.csv)",
            output.display(),
            store.display()
        )));
    }
    let is_csv = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if out.exists() && !is_csv {
        return Err(BadInput(format!(
            "--output {}: would replace a file of the store that is not a CSV table",
            output.display()
        )));
    }
    Ok(())
}

/// Reports on stderr what a scan of `store` left out, grouped by kind, with counts and paths.
pub fn warn_skipped(c: &Collection, store: &Path) {
    if c.skipped.is_empty() {
        return;
    }
    eprintln!(
        "warning: {} entr{} of {} left out of the {} finished runs:",
        c.skipped.len(),
        if c.skipped.len() == 1 { "y" } else { "ies" },
        store.join("runs").display(),
        c.summaries.len()
    );
    let mut kinds: Vec<&'static str> = c.skipped.iter().map(|s| s.why.kind()).collect();
    kinds.dedup();
    kinds.sort();
    kinds.dedup();
    for kind in kinds {
        let of_kind: Vec<_> = c.skipped.iter().filter(|s| s.why.kind() == kind).collect();
        eprintln!("  {} {kind}:", of_kind.len());
        for s in of_kind.iter().take(10) {
            let (path, detail) = (s.path.display().to_string(), s.why.detail());
            if detail.starts_with(&path) {
                eprintln!("    {detail}");
            } else {
                eprintln!("    {path}: {detail}");
            }
        }
        if of_kind.len() > 10 {
            eprintln!("    ... and {} more", of_kind.len() - 10);
        }
    }
}
