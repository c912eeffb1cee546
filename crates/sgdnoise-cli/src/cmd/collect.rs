//! `sgdnoise collect STORE --output TABLE [--format csv|parquet] [--checkpoints]`: the tidy
//! table of a store's finished runs (one row per run, or one row per checkpoint), columns named
//! as the settings (see `sgdnoise_campaign::table`).

use crate::output::outln;
use clap::Args;
use sgdnoise_campaign::table::{self, Table};
use sgdnoise_campaign::Store;
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
        return Err(crate::BadInput(format!("--format parquet: {}", table::NO_PARQUET)).into());
    }
    if !Store::exists_at(&args.store) {
        return Err(crate::BadInput(format!(
            "{}: not a run store (no runs/ folder)",
            args.store.display()
        ))
        .into());
    }
    let store = Store::new(&args.store);
    let summaries = store.collect()?;
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
