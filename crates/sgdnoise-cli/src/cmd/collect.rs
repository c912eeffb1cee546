//! `sgdnoise collect STORE --output TABLE.csv`: one CSV row per finished run of a store.

use crate::output::outln;
use clap::Args;
use sgdnoise_campaign::Store;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CollectArgs {
    /// The run store (the folder holding runs/).
    pub store: PathBuf,
    /// The CSV file to write (atomically): an `id` column, the flat settings, the summary scalars.
    #[arg(long, short)]
    pub output: PathBuf,
}

pub fn main(args: CollectArgs) -> anyhow::Result<()> {
    if !Store::exists_at(&args.store) {
        return Err(crate::BadInput(format!(
            "{}: not a run store (no runs/ folder)",
            args.store.display()
        ))
        .into());
    }
    let summaries = Store::new(&args.store).collect()?;
    let n = sgdnoise_campaign::table::write_csv(&summaries, &args.output)?;
    outln!("{n} finished runs -> {}", args.output.display());
    Ok(())
}
