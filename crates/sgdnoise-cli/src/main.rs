//! The `sgdnoise` command line: parses flags, calls the library, renders progress and results.
//!
//! Exit codes: 0 success, 2 bad input (the message names the offending value), 1 other failure.

mod cmd;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sgdnoise",
    version,
    about = "Study how the noise of SGD shapes what neural networks learn (arXiv:2301.13703)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train one network with plain SGD until the training hinge loss is exactly zero.
    Run(cmd::run::RunArgs),
    /// Print a model's parameter count and derived settings.
    Info(cmd::info::InfoArgs),
    /// The built-in perceptron study (the README's main job): a small grid, a table of the effects.
    Study(cmd::study::StudyArgs),
    /// Get the image data sets (fetch) and check where they are and that they are the official ones.
    Data(cmd::data::DataArgs),
    /// Grids of runs from a sweep file: plan, run locally, status, SLURM arrays.
    Sweep(cmd::sweep::SweepArgs),
    /// Gather the summaries of a run store into one CSV table.
    Collect(cmd::collect::CollectArgs),
    /// SGD steps per second of a configuration on one thread (and the core's FMA peak).
    Bench(cmd::bench::BenchArgs),
    /// Run (or resume) one of the paper's sweeps and draw its figures and fits.
    Reproduce(cmd::reproduce::ReproduceArgs),
    /// Draw figures, fits.csv and report.md for an existing store.
    Analyze(cmd::analyze::AnalyzeArgs),
}

/// A user error found by the command line itself (exit code 2).
#[derive(Debug)]
pub struct BadInput(pub String);
impl std::fmt::Display for BadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for BadInput {}

fn exit_code(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause.downcast_ref::<BadInput>().is_some()
            || cause
                .downcast_ref::<sgdnoise_core::settings::ConfigError>()
                .is_some()
        {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<sgdnoise_core::Error>() {
            return if e.is_bad_input() { 2 } else { 1 };
        }
        if cause
            .downcast_ref::<sgdnoise_core::data::DataError>()
            .is_some()
        {
            return 2;
        }
    }
    1
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => cmd::run::main(args),
        Command::Info(args) => cmd::info::main(args),
        Command::Study(args) => cmd::study::main(args),
        Command::Data(args) => cmd::data::main(args),
        Command::Sweep(args) => cmd::sweep::main(args),
        Command::Collect(args) => cmd::collect::main(args),
        Command::Bench(args) => cmd::bench::main(args),
        Command::Reproduce(args) => cmd::reproduce::main(args),
        Command::Analyze(args) => cmd::analyze::main(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code(&err))
        }
    }
}
