//! Sweep files: fixed settings and axes in TOML, expanded into a [`Plan`](crate::Plan).
//!
//! # Syntax
//!
//! ```toml
//! name = "perceptron-sweep"        # optional; default: the file name without extension
//! description = "free text"        # optional
//! analysis = "perceptron"          # optional: the figures `reproduce`/`analyze` draw
//!                                  # (perceptron, tsweep, phase, batch)
//!
//! [fixed]                          # settings shared by every run: any `sgdnoise run` key
//! dataset = "depleted_sign"
//! dim = 32
//! batch = 2
//! alpha = 32768
//!
//! [axes]                           # the sweep is the Cartesian product of these
//! chi = [1, 3]                                 # explicit list
//! ptr = { log2 = [8, 11] }                     # 2^8, 2^9, 2^10, 2^11
//! temp = { log2 = [-13, 2], step = 0.5 }       # 2^-13, 2^-12.5, ..., 2^2 (31 values)
//! lr = { log2 = [-15, 2], per_octave = 2 }     # the same as step = 0.5
//! pte = { log10 = [2, 4], per_decade = 4 }     # 100, 178, 316, 562, 1000, ... (rounded: integer key)
//! seed_init = { range = [0, 4] }               # 0, 1, 2, 3, 4 (linear, `step` default 1)
//! width = 128                                  # a single value (same as putting it in [fixed])
//!
//! [[zip]]                          # optional: settings that vary together (equal lengths);
//! alpha = [1.0, 32768.0]           # each [[zip]] table is one axis of the product
//! max_wall = [100.0, 10000.0]
//!
//! [[part]]                         # optional: the sweep is the UNION of its parts; each part
//! chi = [1, 3]                     # holds axes of its own, multiplied with the shared [axes]
//! ptr = { log2 = [7, 13] }         # and [[zip]] groups
//! [[part]]
//! chi = 0
//! ptr = { log2 = [7, 11] }
//!
//! [slurm]                          # optional defaults of `sgdnoise sweep slurm`
//! partition = "cpu"
//! cpus_per_task = 1
//! mem = "2G"
//! task_time = "01:00:00"           # runs are packed into array tasks of about this long
//! time_margin = 1.5                # a task's time limit: its estimated cost x this (+ caps)
//! run_seconds = 120                # the cost of a run the store has not measured yet
//! max_running = 50                 # at most this many array tasks at once (`--array=...%50`)
//! preamble = ["module load gcc", "source ~/venv/bin/activate"]   # lines before the run
//! analyze = true                   # a follow-up job draws the figures after the arrays
//! extra_sbatch = ["--account=abc"]
//! # overrides of the sizing (rarely needed): time = "02:00:00", runs_per_task = 4,
//! # max_array_size = 1001, analysis_time = "01:00:00"
//! ```
//!
//! Ranges: `log2 = [a, b]` gives `2^e` and `log10 = [a, b]` gives `10^e` for the exponents
//! `e = a, a + step, ...` up to `b` inclusive (`step` defaults to 1; `per_octave = n` or
//! `per_decade = n` mean `step = 1/n`); `range = [a, b]` gives `a, a + step, ...` up to `b`.
//! Integer exponents give exact powers. For integer settings (ptr, batch, width, dim, seeds,
//! max_steps, ...) the values are rounded to the nearest integer and repeated values dropped.
//!
//! Within one part (or the whole file when it has none), single axes combine in the
//! alphabetical order of their keys (the first varies slowest), then the `[[zip]]` groups in
//! file order; parts follow each other in file order. A value on an axis replaces the same key
//! of `[fixed]`. Of `temp` and `lr` a run is given one, never both: they cannot both be axes
//! (single, `[[zip]]` or `[[part]]` axes of one grid), nor one in `[fixed]` and the other an
//! axis (exit 2, naming both). Every combination is resolved with
//! [`RunConfig::resolve`] before anything runs; all invalid ones are reported together
//! ([`PlanErrors`]). Combinations that resolve to the same run (same
//! [`RunSpec::identity`](sgdnoise_core::settings::RunSpec::identity)) are run once.

mod axis;
mod expand;
pub mod target;

pub use axis::{Axis, MAX_AXIS_POINTS};
pub use expand::{Expansion, MAX_COMBINATIONS};

use axis::axis_points;
use serde::{Deserialize, Serialize};
use sgdnoise_core::settings::{RunConfig, EXCLUSIVE};
use std::collections::HashSet;
use std::path::Path;
use toml::Value;

/// The SLURM defaults a sweep file may carry (`[slurm]`); flags of `sweep slurm` override them.
/// How the sizing fields combine is in [`crate::slurm::sizing`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlurmSettings {
    pub partition: Option<String>,
    /// Time limit of every array task, in a form sbatch takes (`HH:MM:SS`, `D-HH:MM:SS`, ...):
    /// overrides the limit computed from the tasks' estimated cost.
    pub time: Option<String>,
    pub cpus_per_task: Option<usize>,
    /// Memory per task as sbatch takes it (`2G`, `500M`).
    pub mem: Option<String>,
    /// Largest array index + 1 the cluster accepts (default: `scontrol show config`, else 1001).
    pub max_array_size: Option<usize>,
    /// Runs executed one after the other by each array task: overrides the packing to
    /// `task_time`.
    pub runs_per_task: Option<usize>,
    /// Target duration of an array task (default one hour): runs are packed up to it.
    pub task_time: Option<String>,
    /// Factor on the estimated cost of a task for its time limit (default 1.5, at least 1).
    pub time_margin: Option<f64>,
    /// Estimated seconds of a run that the store has not measured (no finished run with the
    /// same settings but seeds).
    pub run_seconds: Option<f64>,
    /// At most this many array tasks running at once (`--array=0-N%M`).
    pub max_running: Option<usize>,
    /// Shell lines run before each task (module loads, a virtual environment, exports): one
    /// string (lines separated by newlines) or a list of lines.
    #[serde(default, deserialize_with = "lines")]
    pub preamble: Option<Vec<String>>,
    /// Submit a follow-up job that runs the sweep's analysis on the store after the arrays.
    pub analyze: Option<bool>,
    /// Time limit of the follow-up analysis job (default one hour).
    pub analysis_time: Option<String>,
    /// Further `#SBATCH` lines, e.g. `--account=abc` or `--qos=short`.
    pub extra_sbatch: Option<Vec<String>>,
}

/// A string of lines or a list of lines.
fn lines<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Lines {
        One(String),
        Many(Vec<String>),
    }
    Ok(Some(match Lines::deserialize(d)? {
        Lines::One(s) => s.lines().map(str::to_string).collect(),
        Lines::Many(v) => v,
    }))
}

impl SlurmSettings {
    /// Everything wrong with these settings; `name` gives a field's name as the user wrote it
    /// (`[slurm].task_time` in a sweep file, `--task-time` on the command line).
    pub fn check(&self, name: &dyn Fn(&str) -> String) -> Vec<PlanError> {
        let mut errors = Vec::new();
        let mut bad = |field: &str, message: String| errors.push(err(name(field), message));
        if let Some(t) = &self.time {
            if let Err(e) = crate::slurm::time::check_limit(t) {
                bad("time", e);
            }
        }
        for (field, value) in [
            ("task_time", &self.task_time),
            ("analysis_time", &self.analysis_time),
        ] {
            match value.as_deref().map(crate::slurm::time::parse) {
                Some(Err(e)) => bad(field, e),
                Some(Ok(0)) => bad(field, "must be longer than zero".into()),
                _ => {}
            }
        }
        for (field, value) in [
            ("cpus_per_task", self.cpus_per_task),
            ("max_array_size", self.max_array_size),
            ("runs_per_task", self.runs_per_task),
            ("max_running", self.max_running),
        ] {
            if value == Some(0) {
                bad(field, "must be at least 1".into());
            }
        }
        if let Some(m) = self.time_margin {
            if !(m.is_finite() && (1.0..=100.0).contains(&m)) {
                bad(
                    "time_margin",
                    format!("{m}: must be a number from 1 to 100"),
                );
            }
        }
        if let Some(s) = self.run_seconds {
            if !(s.is_finite() && s > 0.0 && s <= crate::slurm::time::MAX_SECONDS as f64) {
                bad(
                    "run_seconds",
                    format!("{s}: must be a number of seconds above 0, at most a year"),
                );
            }
        }
        for (field, value) in [
            ("partition", self.partition.as_ref()),
            ("mem", self.mem.as_ref()),
        ] {
            if let Some(v) = value {
                if v.trim().is_empty() || v.chars().any(char::is_whitespace) {
                    bad(field, format!("`{v}`: must be one word"));
                }
            }
        }
        for (field, lines) in [
            ("preamble", &self.preamble),
            ("extra_sbatch", &self.extra_sbatch),
        ] {
            if let Some(l) = lines
                .iter()
                .flatten()
                .find(|l| l.contains(['\n', '\r', '\0']))
            {
                bad(
                    field,
                    format!("{l:?}: one line per entry, without line breaks"),
                );
            }
        }
        errors
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweepFile {
    name: Option<String>,
    description: Option<String>,
    analysis: Option<String>,
    #[serde(default)]
    fixed: toml::Table,
    #[serde(default)]
    axes: toml::Table,
    #[serde(default)]
    zip: Vec<toml::Table>,
    #[serde(default)]
    part: Vec<toml::Table>,
    #[serde(default)]
    slurm: SlurmSettings,
    adaptive: Option<toml::Table>,
}

/// A parsed sweep file.
#[derive(Clone, Debug)]
pub struct SweepFile {
    pub name: String,
    pub description: Option<String>,
    /// The kind of analysis its figures take (`perceptron`, `tsweep`, `phase`), if it says.
    pub analysis: Option<String>,
    pub fixed: RunConfig,
    /// The shared single axes, alphabetical.
    pub axes: Vec<Axis>,
    /// The shared `[[zip]]` groups, in file order.
    pub zips: Vec<Axis>,
    /// The axes of each `[[part]]` (alphabetical within a part); empty: one implicit part.
    pub parts: Vec<Vec<Axis>>,
    pub slurm: SlurmSettings,
    /// The searched axis and its targets, for an adaptive sweep (the `adaptive` module searches it); its
    /// lattice is one more single axis of every grid (the candidates).
    pub adaptive: Option<target::Adaptive>,
}

/// A problem in a sweep file or one of its combinations.
#[derive(Clone, Debug, PartialEq)]
pub struct PlanError {
    /// Where: `[fixed]`, `axes.temp`, or the combination (`run 12: chi=1 ptr=256`).
    pub context: String,
    /// What is wrong (names the setting and its value).
    pub message: String,
}

/// Everything wrong with a sweep file, found before any run starts.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", summary(.0))]
pub struct PlanErrors(pub Vec<PlanError>);

fn summary(errors: &[PlanError]) -> String {
    let mut out = format!("{} invalid setting(s) or combination(s):", errors.len());
    for e in errors.iter().take(20) {
        out.push_str(&format!("\n  {}: {}", e.context, e.message));
    }
    if errors.len() > 20 {
        out.push_str(&format!("\n  ... and {} more", errors.len() - 20));
    }
    out
}

pub(crate) fn err(context: impl Into<String>, message: impl Into<String>) -> PlanError {
    PlanError {
        context: context.into(),
        message: message.into(),
    }
}

/// A [`PlanError`] at `context` (for other modules of the crate).
pub(crate) fn err_at(context: &str, message: String) -> PlanError {
    err(context, message)
}

/// Renders a TOML scalar compactly (`0.5`, `256`, `relu`).
pub fn show_value(v: &Value) -> String {
    sgdnoise_core::settings::show_toml(v)
}

/// Single axes of a table (`[axes]` or a `[[part]]`), alphabetical; problems go to `errors`.
fn single_axes(
    ctx: &str,
    table: &toml::Table,
    seen: &mut HashSet<String>,
    errors: &mut Vec<PlanError>,
) -> Vec<Axis> {
    let mut axes = Vec::new();
    for (key, value) in table {
        let here = format!("{ctx}.{key}");
        if !seen.insert(key.replace('-', "_")) {
            errors.push(err(&here, format!("`{key}` is already a shared axis")));
            continue;
        }
        match axis_points(&here, key, value) {
            Ok(points) => axes.push(Axis::single(key, points)),
            Err(e) => errors.push(e),
        }
    }
    axes
}

impl SweepFile {
    /// Parses a sweep file's text; `default_name` is used when it has no `name`.
    pub fn parse(text: &str, default_name: &str) -> Result<SweepFile, PlanErrors> {
        let raw: RawSweepFile =
            toml::from_str(text).map_err(|e| PlanErrors(vec![err("sweep file", e.to_string())]))?;
        let mut errors = Vec::new();
        let fixed: RunConfig = match Value::Table(raw.fixed.clone()).try_into() {
            Ok(c) => c,
            Err(e) => {
                errors.push(err("[fixed]", e.to_string()));
                RunConfig::default()
            }
        };
        let mut shared = HashSet::new();
        let axes = single_axes("axes", &raw.axes, &mut shared, &mut errors);
        let mut zips = Vec::new();
        for (z, table) in raw.zip.iter().enumerate() {
            let ctx = format!("zip #{}", z + 1);
            if table.is_empty() {
                errors.push(err(&ctx, "an empty [[zip]] group: give it settings to zip"));
                continue;
            }
            let mut keys = Vec::new();
            let mut columns = Vec::new();
            for (key, value) in table {
                if !shared.insert(key.replace('-', "_")) {
                    errors.push(err(&ctx, format!("`{key}` is already an axis")));
                    continue;
                }
                match axis_points(&format!("{ctx}.{key}"), key, value) {
                    Ok(points) => {
                        keys.push(key.clone());
                        columns.push(points);
                    }
                    Err(e) => errors.push(e),
                }
            }
            if columns.is_empty() {
                continue;
            }
            let len = columns[0].len();
            if let Some(bad) = columns.iter().position(|c| c.len() != len) {
                errors.push(err(
                    &ctx,
                    format!(
                        "zipped settings need equal lengths: `{}` has {}, `{}` has {}",
                        keys[0],
                        len,
                        keys[bad],
                        columns[bad].len()
                    ),
                ));
                continue;
            }
            zips.push(Axis {
                keys,
                points: (0..len)
                    .map(|i| columns.iter().map(|c| c[i].clone()).collect())
                    .collect(),
            });
        }
        let mut parts = Vec::new();
        for (p, table) in raw.part.iter().enumerate() {
            let mut seen = shared.clone();
            parts.push(single_axes(
                &format!("part #{}", p + 1),
                table,
                &mut seen,
                &mut errors,
            ));
        }
        let adaptive = raw.adaptive.as_ref().and_then(|t| {
            let a = target::parse(t, &mut errors)?;
            if !shared.insert(a.axis.clone()) {
                errors.push(err(
                    "[adaptive].axis",
                    format!("`{}` is searched, so it cannot also be an axis", a.axis),
                ));
                return None;
            }
            if let Some(t) = a.targets.iter().find(|t| {
                matches!(
                    t,
                    target::Target::TcRwc | target::Target::TcPlateau | target::Target::TcNtk
                ) && a.axis != "temp"
            }) {
                errors.push(err(
                    "[adaptive].targets",
                    format!(
                        "{} is a crossover temperature: search axis = \"temp\"",
                        t.name()
                    ),
                ));
                return None;
            }
            // A [[part]] may restrict the searched axis to some lattice values (its own
            // sub-lattice: B = 1..P per P in the (B, eta) presets); every inner axis is an axis.
            let lattice: Vec<String> = a.values.iter().map(show_value).collect();
            for (p, part) in parts.iter().enumerate() {
                for axis in part
                    .iter()
                    .filter(|x| x.keys[0].replace('-', "_") == a.axis)
                {
                    if let Some(v) = axis
                        .points
                        .iter()
                        .flatten()
                        .map(show_value)
                        .find(|v| !lattice.contains(v))
                    {
                        errors.push(err(
                            format!("part #{}.{}", p + 1, axis.keys[0]),
                            format!("{v} is not a value of the [adaptive] lattice"),
                        ));
                        return None;
                    }
                }
            }
            if let Some(k) = a.inner.iter().find(|k| {
                !shared.contains(*k)
                    && !parts
                        .iter()
                        .flatten()
                        .any(|x| x.keys.iter().any(|y| y.replace('-', "_") == **k))
            }) {
                errors.push(err(
                    "[adaptive].inner",
                    format!("`{k}` is not an axis of the sweep"),
                ));
                return None;
            }
            Some(a)
        });
        let sweep = SweepFile {
            name: raw.name.unwrap_or_else(|| default_name.to_string()),
            description: raw.description,
            analysis: raw.analysis,
            fixed,
            axes,
            zips,
            parts,
            slurm: raw.slurm,
            adaptive,
        };
        errors.extend(sweep.slurm.check(&|f| format!("[slurm].{f}")));
        // Settings of which only one may be given cannot both be axes, nor one fixed and the
        // other an axis: the product would hold combinations labelled with one value and run
        // with the other, or silently drop one of them.
        for (g, grid) in sweep.grids().iter().enumerate() {
            let keys: HashSet<String> = grid
                .iter()
                .flat_map(|a| a.keys.iter().map(|k| k.replace('-', "_")))
                .collect();
            let ctx = if sweep.parts.is_empty() {
                "axes".to_string()
            } else {
                format!("part #{}", g + 1)
            };
            for (a, b) in EXCLUSIVE {
                if keys.contains(*a) && keys.contains(*b) {
                    errors.push(err(
                        &ctx,
                        format!(
                            "`{a}` and `{b}` are both axes: a run is given one of them, never both"
                        ),
                    ));
                }
                for (fixed, axis) in [(a, b), (b, a)] {
                    if sweep.fixed.is_set(fixed) && keys.contains(*axis) {
                        errors.push(err(
                            &ctx,
                            format!(
                                "`{fixed}` is in [fixed] and `{axis}` is an axis: a run is given \
                                 one of them, never both (drop `{fixed}` from [fixed])"
                            ),
                        ));
                    }
                }
            }
        }
        if !errors.is_empty() {
            return Err(PlanErrors(errors));
        }
        Ok(sweep)
    }

    /// Reads and parses a sweep file (its name defaults to the file stem).
    pub fn read(path: &Path) -> Result<SweepFile, PlanErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            PlanErrors(vec![err(
                path.display().to_string(),
                format!("cannot read: {e}"),
            )])
        })?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("sweep");
        Self::parse(&text, stem).map_err(|PlanErrors(v)| {
            PlanErrors(
                v.into_iter()
                    .map(|e| PlanError {
                        context: format!("{}: {}", path.display(), e.context),
                        message: e.message,
                    })
                    .collect(),
            )
        })
    }

    /// The axes of each grid whose union is the sweep: per part, its own and the shared single
    /// axes (alphabetical), then the `[[zip]]` groups.
    pub fn grids(&self) -> Vec<Vec<Axis>> {
        let own: Vec<&[Axis]> = if self.parts.is_empty() {
            vec![&[]]
        } else {
            self.parts.iter().map(Vec::as_slice).collect()
        };
        own.into_iter()
            .map(|part| {
                let mut grid: Vec<Axis> = part.iter().chain(&self.axes).cloned().collect();
                if let Some(a) = &self.adaptive {
                    // Unless the part restricts it to its own sub-lattice.
                    if !part.iter().any(|x| x.keys[0].replace('-', "_") == a.axis) {
                        grid.push(Axis::single(&a.axis, a.values.clone()));
                    }
                }
                grid.sort_by(|a, b| a.keys[0].cmp(&b.keys[0]));
                grid.extend(self.zips.iter().cloned());
                grid
            })
            .collect()
    }

    /// Number of combinations (before dropping duplicates).
    pub fn combinations(&self) -> usize {
        self.grids()
            .iter()
            .map(|g| {
                g.iter()
                    .map(|a| a.points.len())
                    .fold(1usize, |n, k| n.saturating_mul(k))
            })
            .fold(0usize, |n, k| n.saturating_add(k))
    }

    /// Replaces (or adds) the shared single axis `key` with `points`: how a command overrides
    /// one axis of a preset (e.g. the number of seeds). `key` must not be an axis of a part or
    /// a `[[zip]]` group.
    pub fn with_axis(mut self, key: &str, points: Vec<Value>) -> Result<SweepFile, PlanErrors> {
        let ctx = format!("axis {key}");
        if self.adaptive.as_ref().is_some_and(|a| a.axis == key) {
            return Err(PlanErrors(vec![err(
                ctx,
                "is the searched axis of [adaptive]",
            )]));
        }
        let elsewhere = self
            .parts
            .iter()
            .flatten()
            .chain(&self.zips)
            .any(|a| a.keys.iter().any(|k| k == key));
        if elsewhere {
            return Err(PlanErrors(vec![err(
                ctx,
                "is an axis of a [[part]] or [[zip]] group, not a shared axis",
            )]));
        }
        let points =
            axis_points(&ctx, key, &Value::Array(points)).map_err(|e| PlanErrors(vec![e]))?;
        self.axes.retain(|a| a.keys[0] != key);
        self.axes.push(Axis::single(key, points));
        self.axes.sort_by(|a, b| a.keys[0].cmp(&b.keys[0]));
        Ok(self)
    }
}

#[cfg(test)]
mod tests;
