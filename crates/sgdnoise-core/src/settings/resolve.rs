//! From raw settings to a checked [`RunSpec`]: the table's defaults applied, the temperature and
//! the learning rate both known (T = lr / (B h), SPEC §3), the seeds of SPEC §7 filled in, and
//! every inconsistent, inapplicable or out-of-range value rejected with a [`ConfigError`] that
//! names the field and the value.

use super::error::ConfigError;
use super::limits::*;
use super::names::{
    Activation, Arch, DatasetName, Dtype, Dynamics, Given, Loss, LossConvention, SdeNoise,
};
use super::table::{defaults, Context, RunConfig, SETTINGS};
use super::value::Bytes;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The four seeds of SPEC §7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Seeds {
    pub init: i64,
    pub batch: i64,
    pub trainset: i64,
    pub testset: i64,
}

/// How a run is executed; does not change its results, so not part of its identity.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Execution {
    pub data_dir: Option<PathBuf>,
    pub threads: usize,
    /// `max_memory`: the most a run may take (else the available memory, see [`crate::memory`]).
    pub max_memory: Option<Bytes>,
    /// `save_params`: also write the final parameters (`params.bin`) of a finished run.
    pub save_params: bool,
}

impl Execution {
    /// The threads a run uses here: `threads`, but no more than this machine's cores
    /// (more would only slow the products down; the results do not depend on it).
    pub fn threads_here(&self) -> usize {
        // Asked once: the answer reads cgroup files, and a sweep plan asks for every run.
        static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
        let cores =
            *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        self.threads.clamp(1, cores.max(1))
    }
}

/// A validated, fully resolved run: every default applied, lr and T both known.
///
/// A `RunSpec` comes from [`RunConfig::resolve`]; to change a setting, change the `RunConfig`
/// and resolve again (only `exec` may be changed in place: it is not part of the identity).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub arch: Arch,
    /// Activation of mlp and mnas (relu, unused, for the perceptron).
    pub act: Activation,
    /// Hidden layers L (mlp); 0 for the perceptron and mnas.
    pub depth: usize,
    /// Width h; 1 for the perceptron.
    pub width: usize,
    pub dataset: DatasetName,
    /// Density exponent of depleted_sign; 0 otherwise.
    pub chi: f64,
    /// Number of input coordinates d0 (d for synthetic data).
    pub input_dim: usize,
    /// Training-set size P.
    pub ptr: usize,
    /// Test-set size.
    pub pte: usize,
    pub alpha: f64,
    /// Mini-batch size B (= P for full-batch gradient descent).
    pub batch: usize,
    /// True when no batch size was given: plain gradient descent on all P points.
    pub full_batch: bool,
    /// Temperature T = lr / (B h).
    pub temp: f64,
    /// Learning rate eta.
    pub lr: f64,
    /// Which of `temp` and `lr` the user gave.
    pub given: Given,
    pub loss: Loss,
    /// Training dynamics (SPEC §11); absent from the records of earlier versions (= sgd).
    #[serde(default = "default_dynamics")]
    pub dynamics: Dynamics,
    /// Covariance of the gd_sde noise (edm unless dynamics is gd_sde* and exact was asked).
    #[serde(default = "default_sde_noise")]
    pub sde_noise: SdeNoise,
    /// Convention of the quadratic hinge and mse (sgdnoise unless edm was asked for them).
    #[serde(default = "default_loss_convention")]
    pub loss_convention: LossConvention,
    pub dtype: Dtype,
    pub seeds: Seeds,
    pub max_steps: Option<u64>,
    /// Wall-clock cap, seconds.
    pub max_wall: Option<f64>,
    pub checkpoints_per_decade: f64,
    pub loss_drop_factor: f64,
    /// NTK observables on the first `ntk_points` training points (0: off; SPEC §11). Absent
    /// in the config.json of earlier versions: off.
    #[serde(default)]
    pub ntk_points: usize,
    /// The digest of the image data the run trains on, when they are not the canonical data
    /// set of its task (`data::source`); `None` for the canonical set and synthetic data. Set
    /// by `data::bind`, never by a setting; it enters the identity only when present, so every
    /// run on the canonical data keeps the identity of its settings.
    #[serde(skip)]
    pub data_digest: Option<String>,
    #[serde(skip)]
    pub exec: Execution,
}

fn default_dynamics() -> Dynamics {
    Dynamics::Sgd
}
fn default_sde_noise() -> SdeNoise {
    SdeNoise::Edm
}
fn default_loss_convention() -> LossConvention {
    LossConvention::Sgdnoise
}

/// A number as a message shows it: `1e-300`, not three hundred digits.
fn show_f64(v: f64) -> String {
    if v != 0.0 && v.is_finite() && !(1e-6..1e16).contains(&v.abs()) {
        format!("{v:e}")
    } else {
        v.to_string()
    }
}

fn positive_finite(field: &'static str, v: f64) -> Result<f64, ConfigError> {
    if !v.is_finite() {
        return Err(ConfigError::invalid(field, v, "must be a finite number"));
    }
    if v <= 0.0 {
        return Err(ConfigError::invalid(field, show_f64(v), "must be > 0"));
    }
    Ok(v)
}

/// `v` if it lies in `lo..=hi` (the bounds of [`super::limits`]), else an error naming both.
fn within_f64(field: &'static str, v: f64, lo: f64, hi: f64) -> Result<f64, ConfigError> {
    let v = positive_finite(field, v)?;
    if v < lo || v > hi {
        return Err(ConfigError::invalid(
            field,
            show_f64(v),
            format!("must lie between {lo:e} and {hi:e}"),
        ));
    }
    Ok(v)
}

/// `v` if it lies in `lo..=hi`, else an error naming the bounds.
fn within(field: &'static str, v: usize, lo: usize, hi: usize) -> Result<usize, ConfigError> {
    if !(lo..=hi).contains(&v) {
        return Err(ConfigError::invalid(
            field,
            v,
            format!("must be from {lo} to {hi}"),
        ));
    }
    Ok(v)
}

/// `value`, else the declared default (a setting whose default is `None` has no value).
fn or_default<T>(value: Option<T>, default: fn(&Context) -> Option<T>, c: &Context) -> Option<T> {
    value.or_else(|| default(c))
}

impl RunConfig {
    /// The settings every default depends on (arch, dataset, seed_init), resolved first.
    pub fn context(&self) -> Context {
        // Placeholder values, overwritten in dependency order before any default reads them.
        let mut c = Context {
            arch: Arch::Linear,
            dataset: DatasetName::DepletedSign,
            seed_init: 0,
        };
        c.arch = or_default(self.arch, defaults::arch, &c).expect("arch has a default");
        c.dataset = or_default(self.dataset, defaults::dataset, &c).expect("dataset has a default");
        c.seed_init =
            or_default(self.seed_init, defaults::seed_init, &c).expect("seed_init has a default");
        c
    }

    /// Checks every value and resolves defaults into a [`RunSpec`].
    pub fn resolve(&self) -> Result<RunSpec, ConfigError> {
        let c = self.context();
        let (arch, dataset) = (c.arch, c.dataset);

        // A setting given for a run it does not apply to is an error, never silently dropped.
        for s in SETTINGS {
            if !s.applies.holds(arch, dataset) {
                if let Some(value) = self.show(s.name) {
                    return Err(ConfigError::NotApplicable {
                        field: s.name,
                        value,
                        run: format!("arch {arch}, dataset {dataset}"),
                        applies: s.applies.describe(),
                    });
                }
            }
        }

        let act = or_default(self.act, defaults::act, &c).unwrap_or(Activation::Relu);
        let (depth, width) = match arch {
            Arch::Linear => (0, 1),
            Arch::Mlp => (
                or_default(self.depth, defaults::depth, &c).expect("mlp depth has a default"),
                or_default(self.width, defaults::width, &c).expect("mlp width has a default"),
            ),
            Arch::Mnas => (
                0,
                or_default(self.width, defaults::width, &c).expect("mnas width has a default"),
            ),
        };
        if arch == Arch::Mlp && depth == 0 {
            return Err(ConfigError::invalid(
                "depth",
                depth,
                "an mlp needs at least one hidden layer",
            ));
        }
        if arch == Arch::Mlp {
            within("depth", depth, 1, MAX_DEPTH)?;
        }
        within("width", width, 1, MAX_WIDTH)?;

        // Data.
        let (chi, input_dim) = match dataset.image_shape() {
            Some(shape) => (0.0, shape.iter().product()),
            None => {
                if arch == Arch::Mnas {
                    return Err(ConfigError::invalid(
                        "dataset",
                        dataset,
                        "mnas needs an image data set (mnist_parity, cifar_animal, fashion_parity)",
                    ));
                }
                let chi = if dataset == DatasetName::DepletedSign {
                    or_default(self.chi, defaults::chi, &c).expect("chi has a default")
                } else {
                    0.0
                };
                if !(chi.is_finite() && (0.0..=MAX_CHI).contains(&chi)) {
                    return Err(ConfigError::invalid(
                        "chi",
                        show_f64(chi),
                        format!("must be a finite number from 0 to {MAX_CHI}"),
                    ));
                }
                let dim = or_default(self.dim, defaults::dim, &c).expect("dim has a default");
                if dim < 2 {
                    return Err(ConfigError::invalid(
                        "dim",
                        dim,
                        "must be at least 2 (a signal and a noise direction)",
                    ));
                }
                (chi, dim)
            }
        };

        let ptr = or_default(self.ptr, defaults::ptr, &c).expect("ptr has a default");
        if ptr == 0 {
            return Err(ConfigError::invalid(
                "ptr",
                ptr,
                "the training set needs at least one point",
            ));
        }
        let pte = or_default(self.pte, defaults::pte, &c).expect("pte has a default");
        if pte == 0 {
            return Err(ConfigError::invalid(
                "pte",
                pte,
                "the test set needs at least one point",
            ));
        }
        let alpha = within_f64(
            "alpha",
            or_default(self.alpha, defaults::alpha, &c).expect("alpha has a default"),
            MIN_ALPHA,
            MAX_ALPHA,
        )?;

        let (batch, full_batch) = match or_default(self.batch, defaults::batch, &c) {
            Some(0) => return Err(ConfigError::invalid("batch", 0, "must be at least 1")),
            Some(b) if b > ptr => return Err(ConfigError::BatchTooLarge { batch: b, ptr }),
            Some(b) => (b, false),
            None => (ptr, true),
        };
        let h = width as f64;
        let (temp, lr, given) = match (self.temp, self.lr) {
            (Some(t), Some(l)) => return Err(ConfigError::TempAndLr { temp: t, lr: l }),
            (Some(t), None) => {
                let t = within_f64("temp", t, MIN_RATE, MAX_RATE)?;
                (t, t * batch as f64 * h, Given::Temp)
            }
            (None, Some(l)) => {
                let l = within_f64("lr", l, MIN_RATE, MAX_RATE)?;
                (l / (batch as f64 * h), l, Given::Lr)
            }
            (None, None) => {
                return Err(ConfigError::Missing {
                    field: "temp",
                    hint: " (or `lr`): the SGD temperature T = lr / (B h)",
                })
            }
        };
        let loss = or_default(self.loss, defaults::loss, &c).expect("loss has a default");
        let dtype = or_default(self.dtype, defaults::dtype, &c).expect("dtype has a default");
        let dynamics =
            or_default(self.dynamics, defaults::dynamics, &c).expect("dynamics has a default");
        let sde_noise =
            or_default(self.sde_noise, defaults::sde_noise, &c).expect("sde_noise has a default");
        // A setting that would change nothing is refused, never silently recorded (it would
        // make a second identity for the same run).
        if let (Some(v), false) = (self.sde_noise, dynamics.is_sde()) {
            return Err(ConfigError::invalid(
                "sde_noise",
                v,
                format!("applies only to dynamics gd_sde and gd_sde_only_unfit, not {dynamics}"),
            ));
        }
        let loss_convention = or_default(self.loss_convention, defaults::loss_convention, &c)
            .expect("loss_convention has a default");
        if let (Some(v), false) = (
            self.loss_convention,
            matches!(loss, Loss::QuadraticHinge | Loss::Mse),
        ) {
            return Err(ConfigError::invalid(
                "loss_convention",
                v,
                format!("applies only to loss quadratic_hinge and mse (the conventions agree on {loss})"),
            ));
        }

        let seed = |value: Option<i64>, default: fn(&Context) -> Option<i64>, field| {
            or_default(value, default, &c).ok_or(ConfigError::Missing {
                field,
                hint: ": its default -seed_init - 2 does not exist for this seed_init, give it",
            })
        };
        let seeds = Seeds {
            init: c.seed_init,
            batch: seed(self.seed_batch, defaults::seed_batch, "seed_batch")?,
            trainset: seed(self.seed_trainset, defaults::seed_trainset, "seed_trainset")?,
            testset: seed(self.seed_testset, defaults::seed_testset, "seed_testset")?,
        };
        let max_steps = or_default(self.max_steps, defaults::max_steps, &c);
        if let Some(0) = max_steps {
            return Err(ConfigError::invalid("max_steps", 0, "must be at least 1"));
        }
        let max_wall = or_default(self.max_wall, defaults::max_wall, &c)
            .map(|w| positive_finite("max_wall", w))
            .transpose()?;
        let checkpoints_per_decade = positive_finite(
            "checkpoints_per_decade",
            or_default(
                self.checkpoints_per_decade,
                defaults::checkpoints_per_decade,
                &c,
            )
            .expect("checkpoints_per_decade has a default"),
        )?;
        if checkpoints_per_decade > MAX_CHECKPOINTS_PER_DECADE {
            return Err(ConfigError::invalid(
                "checkpoints_per_decade",
                checkpoints_per_decade,
                format!("must be at most {MAX_CHECKPOINTS_PER_DECADE}"),
            ));
        }
        let loss_drop_factor = or_default(self.loss_drop_factor, defaults::loss_drop_factor, &c)
            .expect("loss_drop_factor has a default");
        if !(loss_drop_factor.is_finite() && loss_drop_factor > 1.0) {
            return Err(ConfigError::invalid(
                "loss_drop_factor",
                loss_drop_factor,
                "must be a finite number > 1",
            ));
        }
        let threads =
            or_default(self.threads, defaults::threads, &c).expect("threads has a default");
        within("threads", threads, 1, MAX_THREADS)?;
        let max_memory = or_default(self.max_memory, defaults::max_memory, &c);
        if max_memory == Some(Bytes(0)) {
            return Err(ConfigError::invalid(
                "max_memory",
                0,
                "must be at least 1 byte",
            ));
        }
        let ntk_points = or_default(self.ntk_points, defaults::ntk_points, &c)
            .expect("ntk_points has a default");
        if ntk_points > 0 {
            within("ntk_points", ntk_points, 1, MAX_NTK_POINTS)?;
            if ntk_points > ptr {
                return Err(ConfigError::invalid(
                    "ntk_points",
                    ntk_points,
                    format!("the NTK subset is taken from the training set: at most ptr = {ptr}"),
                ));
            }
        }
        let save_params = or_default(self.save_params, defaults::save_params, &c)
            .expect("save_params has a default");

        Ok(RunSpec {
            arch,
            act,
            depth,
            width,
            dataset,
            chi,
            input_dim,
            ptr,
            pte,
            alpha,
            batch,
            full_batch,
            temp,
            lr,
            given,
            loss,
            dynamics,
            sde_noise,
            loss_convention,
            dtype,
            seeds,
            max_steps,
            max_wall,
            checkpoints_per_decade,
            loss_drop_factor,
            ntk_points,
            data_digest: None,
            exec: Execution {
                data_dir: self.data_dir.clone(),
                threads,
                max_memory,
                save_params,
            },
        })
    }
}

impl RunSpec {
    /// Width that enters the temperature T = lr / (B h): 1 for the perceptron, h otherwise.
    pub fn temperature_width(&self) -> usize {
        self.width
    }

    /// The context the table's defaults are read in.
    pub fn context(&self) -> Context {
        Context {
            arch: self.arch,
            dataset: self.dataset,
            seed_init: self.seeds.init,
        }
    }

    /// The settings as users write them: every setting that applies to this run, explicit (the
    /// execution settings included). Resolving it gives this spec back.
    pub fn to_config(&self) -> RunConfig {
        let mut c = RunConfig {
            arch: Some(self.arch),
            act: Some(self.act),
            depth: Some(self.depth),
            width: Some(self.width),
            dataset: Some(self.dataset),
            chi: Some(self.chi),
            dim: Some(self.input_dim),
            ptr: Some(self.ptr),
            pte: Some(self.pte),
            alpha: Some(self.alpha),
            batch: (!self.full_batch).then_some(self.batch),
            temp: (self.given == Given::Temp).then_some(self.temp),
            lr: (self.given == Given::Lr).then_some(self.lr),
            loss: Some(self.loss),
            dynamics: Some(self.dynamics),
            sde_noise: self.dynamics.is_sde().then_some(self.sde_noise),
            loss_convention: matches!(self.loss, Loss::QuadraticHinge | Loss::Mse)
                .then_some(self.loss_convention),
            dtype: Some(self.dtype),
            seed_init: Some(self.seeds.init),
            seed_batch: Some(self.seeds.batch),
            seed_trainset: Some(self.seeds.trainset),
            seed_testset: Some(self.seeds.testset),
            max_steps: self.max_steps,
            max_wall: self.max_wall,
            checkpoints_per_decade: Some(self.checkpoints_per_decade),
            loss_drop_factor: Some(self.loss_drop_factor),
            data_dir: self.exec.data_dir.clone(),
            threads: Some(self.exec.threads),
            max_memory: self.exec.max_memory,
            ntk_points: Some(self.ntk_points),
            save_params: Some(self.exec.save_params),
        };
        c.drop_inapplicable(self.arch, self.dataset);
        c
    }

    /// [`RunSpec::to_config`] without the execution settings: what the run is, for records.
    pub fn result_settings(&self) -> RunConfig {
        let mut c = self.to_config();
        for s in SETTINGS {
            if s.role == super::table::Role::Execution {
                c.unset(s.name);
            }
        }
        c
    }
}
