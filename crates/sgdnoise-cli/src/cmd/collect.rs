//! `sgdnoise collect STORE --output TABLE.csv`: one CSV row per finished run of a store.

use clap::Args;
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
    if !args.store.join("runs").is_dir() {
        return Err(crate::BadInput(format!(
            "{}: not a run store (no runs/ folder)",
            args.store.display()
        ))
        .into());
    }
    let summaries = sgdnoise_campaign::collect(&args.store)?;
    let n = sgdnoise_campaign::table::write_csv(&summaries, &args.output)?;
    println!("{n} finished runs -> {}", args.output.display());
    Ok(())
}
