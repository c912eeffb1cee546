//! The `sgdnoise` command line: parses flags, calls the library, renders progress and results.
//!
//! Exit codes ([`exit`]): 0 success, 2 bad input (the message names the offending value),
//! 1 other failure, 128 + N when signal N stopped the command (130 for Ctrl-C).

mod cmd;
mod exit;
mod flags;
mod output;
mod progress;
mod signals;

pub use exit::BadInput;

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

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout (a closed pipe is ignored), errors to stderr.
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
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
    if output::closed() {
        // The reader of stdout went away (`| head`): what it asked for, it got.
        return ExitCode::from(exit::SUCCESS);
    }
    match result {
        Ok(()) => ExitCode::from(exit::SUCCESS),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit::code_of(&err))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every flag of every subcommand says what it does (and clap's own checks pass).
    #[test]
    fn every_flag_has_help_text() {
        let cmd = Cli::command();
        cmd.clone().debug_assert();
        fn walk(cmd: &clap::Command, path: &str) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                assert!(
                    arg.get_help()
                        .is_some_and(|h| !h.to_string().trim().is_empty()),
                    "`{path}` argument `{id}` has no help text"
                );
            }
            for sub in cmd.get_subcommands() {
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&cmd, "sgdnoise");
    }
}
