//! The run store: one folder of plain files, safe on a shared filesystem, no database.
//!
//! Layout (the only place these names are written):
//! - `STORE/runs/<id>/` is the run directory of the run with identity `<id>`
//!   (see [`RunSpec::identity`]): `config.json`, `checkpoints.jsonl`, and `summary.json`,
//!   published last and atomically (see [`sgdnoise_core::rundir`]). A run is finished exactly
//!   when its summary parses as JSON and names `<id>` (whichever version wrote it); finished
//!   runs are never run again, rewritten or deleted. A directory without a summary is
//!   *partial* (an attempt that was killed or interrupted): the next attempt resets it.
//! - `STORE/runs/<id>.aside-N/`: a folder moved aside, never deleted, because its summary
//!   could not count for `<id>` (corrupt, or naming another run) when `<id>` had to run again.
//!   Such folders, and copies like `runs/<id>.bak`, are not runs of the store: [`Store::scan`]
//!   reports them and leaves them out.
//! - `STORE/runs/<id>/failed.json`: the error of a failed attempt (see [`crate::local`]).
//! - `STORE/locks/<id>.lock`: held while an executor runs `<id>` (see [`crate::lock`]).
//! - `STORE/slurm/`: job-array scripts, frozen task lists and logs (see [`crate::slurm`]):
//!   `STORE/slurm/<name>-<k>/` per submission (`tasks.jsonl`, `array-*.sbatch`,
//!   `analysis.sbatch`, `logs/`), and `STORE/slurm/submissions.jsonl`, one line per submitted job.
//! - `STORE/analysis/`: where the follow-up job of a SLURM submission draws its figures unless
//!   told otherwise (`sweep slurm --analyze`).

use sgdnoise_core::rundir::{self, Summary, SummaryState};
use sgdnoise_core::settings::RunSpec;
use sgdnoise_core::Error;
use std::path::{Path, PathBuf};

/// The finished runs of a store, and what was left out of them.
#[derive(Clone, Debug, Default)]
pub struct Collection {
    /// The summaries of the finished runs, sorted by id; each id is its folder's name, so no
    /// id appears twice.
    pub summaries: Vec<Summary>,
    /// Entries of `STORE/runs` that hold a summary (or something else) but are not counted.
    pub skipped: Vec<Skipped>,
    /// Run folders without a summary (partial or failed runs): not results, so not reported.
    pub unfinished: usize,
}

/// An entry of `STORE/runs` left out of a [`Collection`], and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    pub path: PathBuf,
    pub why: SkipReason,
}

/// Why an entry of `STORE/runs` is not a finished run of the store.
#[derive(Clone, Debug, PartialEq)]
pub enum SkipReason {
    /// Its summary names another run: a copy (`runs/<id>.bak`), a folder moved aside
    /// (`runs/<id>.aside-N`), or a summary put into the wrong folder.
    OtherRun { id: String },
    /// Its `summary.json` is not a JSON object with an id (truncated, edited, damaged).
    Corrupt { reason: String },
    /// A finished run whose summary this version cannot read (another version wrote it); kept.
    Unreadable { reason: String },
    /// Not a folder.
    NotAFolder,
}

impl SkipReason {
    /// A short name of the kind, for grouped reports.
    pub fn kind(&self) -> &'static str {
        match self {
            SkipReason::OtherRun { .. } => {
                "copies or folders set aside (their summary names another run)"
            }
            SkipReason::Corrupt { .. } => "corrupt or truncated summaries",
            SkipReason::Unreadable { .. } => {
                "finished runs this version cannot read (kept; another version wrote them)"
            }
            SkipReason::NotAFolder => "entries that are not folders",
        }
    }
    /// The detail of one entry.
    pub fn detail(&self) -> String {
        match self {
            SkipReason::OtherRun { id } => format!("summary of run {id}"),
            SkipReason::Corrupt { reason } | SkipReason::Unreadable { reason } => reason.clone(),
            SkipReason::NotAFolder => "not a folder".into(),
        }
    }
}

impl Collection {
    /// Keeps only the summaries of the runs of `plan` (the skipped entries stay, as they may
    /// hold any run).
    pub fn of_plan(mut self, plan: &crate::Plan) -> Collection {
        let ids: std::collections::HashSet<String> =
            plan.runs.iter().map(|r| r.identity()).collect();
        self.summaries.retain(|s| ids.contains(&s.id));
        self
    }
}

/// A run store rooted at a folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    const RUNS: &'static str = "runs";
    const LOCKS: &'static str = "locks";
    const SLURM: &'static str = "slurm";
    const ANALYSIS: &'static str = "analysis";

    /// The store at `root` (nothing is created until a run is written).
    pub fn new(root: impl Into<PathBuf>) -> Store {
        Store { root: root.into() }
    }

    /// Whether `root` holds a store (a `runs/` folder).
    pub fn exists_at(root: &Path) -> bool {
        root.join(Self::RUNS).is_dir()
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    /// `STORE/runs`.
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join(Self::RUNS)
    }
    /// `STORE/runs/<id>`.
    pub fn run_dir(&self, id: &str) -> PathBuf {
        self.runs_dir().join(id)
    }
    /// The run directory of `spec`.
    pub fn dir_of(&self, spec: &RunSpec) -> PathBuf {
        self.run_dir(&spec.identity())
    }
    /// `STORE/locks`.
    pub fn locks_dir(&self) -> PathBuf {
        self.root.join(Self::LOCKS)
    }
    /// `STORE/locks/<id>.lock`.
    pub fn lock_path(&self, id: &str) -> PathBuf {
        self.locks_dir().join(format!("{id}.lock"))
    }
    /// `STORE/slurm`.
    pub fn slurm_dir(&self) -> PathBuf {
        self.root.join(Self::SLURM)
    }

    /// `STORE/analysis`.
    pub fn analysis_dir(&self) -> PathBuf {
        self.root.join(Self::ANALYSIS)
    }

    /// Whether run `id` is finished: its summary parses and names `id` (see
    /// [`rundir::summary_state`]).
    pub fn is_finished(&self, id: &str) -> bool {
        rundir::is_finished_as(&self.run_dir(id), id)
    }

    /// Creates `STORE/runs` if needed.
    pub fn create(&self) -> Result<(), Error> {
        std::fs::create_dir_all(self.runs_dir()).map_err(|e| Error::io(&self.root, e))
    }

    /// Moves the folder of run `id` aside (to `runs/<id>.aside-N`) and returns where it went.
    pub fn set_aside(&self, id: &str) -> Result<PathBuf, Error> {
        let dir = self.run_dir(id);
        rundir::move_aside(&dir).map_err(|e| Error::io(&dir, e))
    }

    /// The finished runs of `plan`, sorted by id, and what [`Store::scan`] left out.
    pub fn summaries_of(&self, plan: &crate::Plan) -> Result<Collection, Error> {
        Ok(self.scan()?.of_plan(plan))
    }

    /// The summaries of all finished runs, sorted by id (see [`Store::scan`] for what is left
    /// out, and why).
    pub fn collect(&self) -> Result<Vec<Summary>, Error> {
        Ok(self.scan()?.summaries)
    }

    /// Reads every entry of `STORE/runs`: a folder whose summary parses and names the folder is
    /// a finished run; copies, folders set aside, corrupt summaries and summaries this version
    /// cannot read are left out and listed in [`Collection::skipped`]; folders without a
    /// summary are counted as unfinished.
    pub fn scan(&self) -> Result<Collection, Error> {
        let runs = self.runs_dir();
        let mut out = Collection::default();
        let entries = match std::fs::read_dir(&runs) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&runs, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&runs, e))?;
            let path = entry.path();
            let skip = |why| Skipped {
                path: path.clone(),
                why,
            };
            if !path.is_dir() {
                out.skipped.push(skip(SkipReason::NotAFolder));
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            match rundir::summary_state(&path) {
                SummaryState::Absent => out.unfinished += 1,
                SummaryState::Corrupt { reason } => {
                    out.skipped.push(skip(SkipReason::Corrupt { reason }))
                }
                SummaryState::Finished { id } if id != name => {
                    out.skipped.push(skip(SkipReason::OtherRun { id }))
                }
                SummaryState::Finished { .. } => match rundir::read_summary(&path) {
                    Ok(s) => out.summaries.push(s),
                    Err(e) => out.skipped.push(skip(SkipReason::Unreadable {
                        reason: e.to_string(),
                    })),
                },
            }
        }
        out.summaries.sort_by(|a, b| a.id.cmp(&b.id));
        out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }
}
