use crate::observe::Record;
use crate::settings::RunSpec;
use crate::train::{Outcome, StopReason};
use serde::{Deserialize, Serialize};

/// What `config.json` holds: the resolved settings plus everything derived from them.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ConfigRecord {
    /// The run's identity (see [`RunSpec::identity`]).
    pub id: String,
    /// Version of the canonical form the identity hashes.
    pub identity_schema: u32,
    /// The settings the identity hashes: those that differ from their declared default.
    pub identity_settings: std::collections::BTreeMap<String, serde_json::Value>,
    /// The digest of the data the identity also hashes, for data other than the canonical set
    /// (see `settings::identity`); absent for canonical and synthetic data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_data: Option<String>,
    #[serde(flatten)]
    pub spec: RunSpec,
    /// The `data_dir` setting as given (an execution setting: not part of the identity).
    #[serde(default)]
    pub data_dir: Option<std::path::PathBuf>,
    /// The image data actually used: the folder, each file's size and SHA-256, the set's digest,
    /// and whether it is the canonical set (`data::source`). `null` for synthetic data.
    #[serde(default)]
    pub data: Option<crate::data::source::DataSource>,
    /// Width h entering T = lr / (B h).
    pub temperature_width: usize,
    pub num_params: usize,
    pub crate_version: String,
    /// The random generator and how streams are keyed (SPEC §7).
    pub rng: String,
    /// How the stop at zero loss is detected.
    pub stop_rule: String,
    /// The loss the run trained on, in its convention (`loss_convention`, SPEC §2); absent in
    /// the records of earlier versions.
    #[serde(default)]
    pub loss_formula: String,
    /// How the relative weight change is defined (OPEN in SPEC §5: both are stored).
    pub rel_weight_change_definition: String,
}

impl ConfigRecord {
    pub fn new(spec: &RunSpec, data: Option<crate::data::source::DataSource>) -> Self {
        ConfigRecord {
            id: spec.identity(),
            identity_schema: crate::settings::IDENTITY_SCHEMA,
            identity_settings: spec
                .identity_settings()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            identity_data: spec.data_digest.clone(),
            spec: spec.clone(),
            data_dir: spec.exec.data_dir.clone(),
            data,
            temperature_width: spec.temperature_width(),
            num_params: crate::model::param_count(spec),
            crate_version: crate::VERSION.to_string(),
            rng: crate::numeric::rng::GENERATOR.to_string(),
            stop_rule: if spec.dynamics.sees_all_points() {
                "exact: every step evaluates all P points and is not taken when no point's loss gradient is non-zero; the last weight-changing step".into()
            } else {
                "exact: last weight-changing step, confirmed by a full pass after ceil(P/B) update-free steps or at a checkpoint".into()
            },
            loss_formula: crate::objective::formula(spec.loss, spec.loss_convention).into(),
            rel_weight_change_definition: "rel_weight_change = ||w-w0||/||w0|| over all layers; rel_weight_change_layer_mean = mean over layers of ||w_l-w_l0||/||w_l0||".into(),
        }
    }
}

/// What `summary.json` holds (SPEC §10), written last and atomically.
///
/// Read back with [`read_summary`](super::read_summary), which accepts the summaries of other
/// versions: the measurements of time and work below (`wall_seconds`, `steps_simulated`,
/// `full_checks`, `check_seconds`, `checkpoint_seconds`, `crate_version`) may be missing (NaN,
/// 0 or `unknown` then), and keys this version does not know, here or in `config`, are kept in
/// [`Summary::unknown`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    pub id: String,
    /// Why the run ended (`interrupted` is never published).
    pub stop_reason: StopReason,
    pub steps: u64,
    /// lr * steps at the stop.
    pub t_star: f64,
    #[serde(default = "not_recorded")]
    pub wall_seconds: f64,
    pub train_err: f64,
    pub test_err: f64,
    pub train_loss: f64,
    pub test_loss: f64,
    pub rel_weight_change: f64,
    pub rel_weight_change_layer_mean: f64,
    pub temp: f64,
    pub lr: f64,
    pub alpha: f64,
    pub ptr: usize,
    /// Perceptron: w1 - w0_1 (change along the teacher).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signal: Option<f64>,
    /// Perceptron: ||w_perp - w0_perp||.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub noise: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signal_to_noise: Option<f64>,
    #[serde(default)]
    pub steps_simulated: u64,
    #[serde(default)]
    pub full_checks: u64,
    #[serde(default = "not_recorded")]
    pub check_seconds: f64,
    #[serde(default = "not_recorded")]
    pub checkpoint_seconds: f64,
    /// The NTK observables at the stop (`ntk_points` > 0; SPEC §11), as in `last.ntk`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ntk: Option<crate::observe::NtkStats>,
    /// Seconds spent on NTK kernels and how many were computed (K0 and one per record).
    #[serde(skip_serializing_if = "is_zero", default)]
    pub ntk_seconds: f64,
    #[serde(skip_serializing_if = "is_zero_u64", default)]
    pub ntk_kernels: u64,
    #[serde(default = "unknown_version")]
    pub crate_version: String,
    /// The settings as given in config files (flat keys), for tables.
    pub config: crate::settings::RunConfig,
    /// The record at the stop.
    pub last: Record,
    /// Keys of the file that this version does not declare (written by another version), by
    /// path (`key`, `config.key`, `last.key`); never written back by this version, which never
    /// rewrites a summary.
    #[serde(skip)]
    pub unknown: super::nan::Unknown,
}

/// A measurement that the version which wrote a summary did not record.
fn not_recorded() -> f64 {
    f64::NAN
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

fn unknown_version() -> String {
    "unknown".to_string()
}

impl Summary {
    /// Settings this version records for every run but older versions did not know: a summary
    /// without them was written by a version that ran what is now their default (sgd, no NTK),
    /// so it reads as that default, and tables, `--where` and the analysis' check for runs that
    /// differ treat it like a run of this version. Settings that this version itself leaves
    /// unset where they do not apply (`sde_noise`, `loss_convention`) are not filled.
    pub(crate) fn fill_settings_older_versions_did_not_record(&mut self) {
        self.config
            .dynamics
            .get_or_insert(crate::settings::Dynamics::Sgd);
        self.config.ntk_points.get_or_insert(0);
    }

    pub fn new(spec: &RunSpec, outcome: &Outcome) -> Self {
        let last = &outcome.last;
        let perceptron = last.perceptron.as_ref();
        let config = spec.result_settings();
        Summary {
            id: spec.identity(),
            stop_reason: outcome.stop_reason,
            steps: outcome.steps,
            t_star: outcome.t_star,
            wall_seconds: outcome.wall_seconds,
            train_err: last.train.err,
            test_err: last.test.err,
            train_loss: last.train.loss,
            test_loss: last.test.loss,
            rel_weight_change: last.rel_weight_change,
            rel_weight_change_layer_mean: last.rel_weight_change_layer_mean,
            temp: spec.temp,
            lr: spec.lr,
            alpha: spec.alpha,
            ptr: spec.ptr,
            signal: perceptron.map(|p| p.signal),
            noise: perceptron.map(|p| p.noise),
            signal_to_noise: perceptron.map(|p| p.signal_to_noise),
            steps_simulated: outcome.steps_simulated,
            full_checks: outcome.full_checks,
            check_seconds: outcome.check_seconds,
            checkpoint_seconds: outcome.checkpoint_seconds,
            ntk: last.ntk.clone(),
            ntk_seconds: outcome.ntk_seconds,
            ntk_kernels: outcome.ntk_kernels,
            crate_version: crate::VERSION.to_string(),
            config,
            last: last.clone(),
            unknown: Default::default(),
        }
    }
}
