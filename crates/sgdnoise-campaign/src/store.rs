//! The run store: one folder of plain files, safe on a shared filesystem, no database.
//!
//! Layout (the only place these names are written):
//! - `STORE/runs/<id>/` is the run directory of the run with identity `<id>`
//!   (see [`RunSpec::identity`]): `config.json`, `checkpoints.jsonl`, and `summary.json`,
//!   published last and atomically (see [`sgdnoise_core::rundir`]). A run is finished exactly
//!   when its summary exists; finished runs are never run again. A directory without a summary
//!   is *partial* (an attempt that was killed or interrupted): the next attempt resets it.
//! - `STORE/runs/<id>/failed.json`: the error of a failed attempt (see [`crate::local`]).
//! - `STORE/locks/<id>.lock`: held while an executor runs `<id>` (see [`crate::lock`]).
//! - `STORE/slurm/`: job-array scripts, frozen task lists and logs (see [`crate::slurm`]):
//!   `STORE/slurm/<name>-<k>/` per submission (`tasks.jsonl`, `array-*.sbatch`,
//!   `analysis.sbatch`, `logs/`), and `STORE/slurm/submissions.jsonl`, one line per submitted job.
//! - `STORE/analysis/`: where the follow-up job of a SLURM submission draws its figures unless
//!   told otherwise (`sweep slurm --analyze`).

use sgdnoise_core::rundir::{self, Summary};
use sgdnoise_core::settings::RunSpec;
use sgdnoise_core::Error;
use std::path::{Path, PathBuf};

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

    /// Whether run `id` is finished (its summary exists and parses).
    pub fn is_finished(&self, id: &str) -> bool {
        rundir::is_finished(&self.run_dir(id))
    }

    /// Creates `STORE/runs` if needed.
    pub fn create(&self) -> Result<(), Error> {
        std::fs::create_dir_all(self.runs_dir()).map_err(|e| Error::io(&self.root, e))
    }

    /// The summaries of the finished runs of `plan`, sorted by id.
    pub fn summaries_of(&self, plan: &crate::Plan) -> Result<Vec<Summary>, Error> {
        let ids: std::collections::HashSet<String> =
            plan.runs.iter().map(|r| r.identity()).collect();
        Ok(self
            .collect()?
            .into_iter()
            .filter(|s| ids.contains(&s.id))
            .collect())
    }

    /// The summaries of all finished runs, sorted by id.
    pub fn collect(&self) -> Result<Vec<Summary>, Error> {
        let runs = self.runs_dir();
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&runs) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(Error::io(&runs, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&runs, e))?;
            if let Ok(s) = rundir::read_summary(&entry.path()) {
                out.push(s);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }
}
