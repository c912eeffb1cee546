//! The run settings as command-line flags, generated from the one table of settings
//! (`sgdnoise_core::settings::SETTINGS`): one `--kebab-name` flag per setting, its help line and
//! default from the table, its value checked when the flags are parsed (a bad value exits 2,
//! naming the flag). `run`, `info` and `bench` take the same flags with the same defaults.

use clap::builder::PossibleValuesParser;
use clap::{Arg, ArgMatches, Args, Command, FromArgMatches};
use sgdnoise_core::settings::{RunConfig, RunSpec, Setting, ValueKind, SETTINGS};
use std::path::PathBuf;

const HEADING: &str = "Run settings (defaults from the settings table; TOML keys in snake_case)";

/// The run settings given on the command line, and an optional TOML file under them.
#[derive(Clone, Debug, Default)]
pub struct SettingsArgs {
    /// `--config FILE`: settings as TOML, overridden by the flags.
    pub config: Option<PathBuf>,
    /// The settings given as flags.
    pub flags: RunConfig,
}

impl SettingsArgs {
    /// The raw settings: the config file (if any) overridden by the flags.
    pub fn to_config(&self) -> anyhow::Result<RunConfig> {
        let base = match &self.config {
            Some(path) => RunConfig::from_toml_file(path)?,
            None => RunConfig::default(),
        };
        Ok(base.merged(&self.flags))
    }

    /// The checked settings.
    pub fn resolve(&self) -> anyhow::Result<RunSpec> {
        Ok(self.to_config()?.resolve()?)
    }
}

fn arg(s: &'static Setting) -> Arg {
    let a = Arg::new(s.name)
        .long(s.flag())
        .value_name(s.kind.placeholder())
        .help(s.help())
        .help_heading(HEADING)
        .allow_negative_numbers(true);
    let check = move |text: &str| -> Result<String, String> {
        RunConfig::default()
            .set_text(s.name, text)
            .map(|()| text.to_string())
            .map_err(|e| e.to_string())
    };
    match s.kind {
        // A yes/no setting given alone (`--save-params`) means true.
        ValueKind::Name(names) if names == sgdnoise_core::settings::BOOL_NAMES => a
            .value_parser(PossibleValuesParser::new(names))
            .num_args(0..=1)
            .require_equals(false)
            .default_missing_value("true"),
        ValueKind::Name(names) => a.value_parser(PossibleValuesParser::new(names)),
        // Every number that starts with `-` (`-1e-3`, `-inf`, `-.5`) reaches the setting's own
        // check, which names the setting, instead of clap's "unexpected argument".
        ValueKind::Integer { .. } | ValueKind::Number => {
            a.allow_hyphen_values(true).value_parser(check)
        }
        ValueKind::Path => a.value_parser(check),
    }
}

impl Args for SettingsArgs {
    fn augment_args(cmd: Command) -> Command {
        cmd.arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Settings as TOML (the same names in snake_case); flags override it")
                .help_heading(HEADING),
        )
        .args(SETTINGS.iter().map(arg))
    }
    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for SettingsArgs {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let mut s = SettingsArgs::default();
        s.update_from_arg_matches(m)?;
        Ok(s)
    }
    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        if let Some(p) = m.get_one::<PathBuf>("config") {
            self.config = Some(p.clone());
        }
        for s in SETTINGS {
            if let Some(text) = m.get_one::<String>(s.name) {
                self.flags
                    .set_text(s.name, text)
                    .map_err(|e| clap::Error::raw(clap::error::ErrorKind::ValueValidation, e))?;
            }
        }
        Ok(())
    }
}
