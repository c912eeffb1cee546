use super::{ConfigError, RunConfig};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::PathBuf;

/// Model architecture (SPEC §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arch {
    /// Perceptron f = w·x/sqrt(d).
    Linear,
    /// Fully connected net with mean-field read-out.
    Mlp,
    /// MnasNet-like CNN.
    Mnas,
}

/// Activation, normalised to unit second moment under N(0,1) (SPEC §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    Relu,
    Gelu,
    Silu,
}

/// Data set and task (SPEC §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetName {
    /// x1 with density ∝ |x1|^chi exp(-x1²/2), other coordinates N(0,1), label sign(x1).
    DepletedSign,
    /// depleted_sign with chi = 0: Gaussian inputs, label sign(x1).
    Sign,
    /// Gaussian inputs, label sign(u·x) for a random unit teacher u.
    RandomSign,
    /// MNIST, label +1 for even digits.
    MnistParity,
    /// CIFAR-10, label +1 for the six animal classes.
    CifarAnimal,
    /// Fashion-MNIST, label +1 for even classes.
    FashionParity,
}

impl DatasetName {
    pub fn is_synthetic(self) -> bool {
        matches!(
            self,
            DatasetName::DepletedSign | DatasetName::Sign | DatasetName::RandomSign
        )
    }
    /// Image shape (height, width, channels) of the image data sets.
    pub fn image_shape(self) -> Option<[usize; 3]> {
        match self {
            DatasetName::MnistParity | DatasetName::FashionParity => Some([28, 28, 1]),
            DatasetName::CifarAnimal => Some([32, 32, 3]),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            DatasetName::DepletedSign => "depleted_sign",
            DatasetName::Sign => "sign",
            DatasetName::RandomSign => "random_sign",
            DatasetName::MnistParity => "mnist_parity",
            DatasetName::CifarAnimal => "cifar_animal",
            DatasetName::FashionParity => "fashion_parity",
        }
    }
}

/// Per-sample loss, applied as loss(alpha * pred, y) / alpha (SPEC §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// max(0, 1 - o y).
    Hinge,
    /// max(0, 1 - o y)² / 2.
    QuadraticHinge,
    /// (o - y)² / 2.
    Mse,
}

/// Element type of weights and data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    F32,
    F64,
}

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
}

/// A validated, fully resolved run: every default applied, lr and T both known.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    pub arch: Arch,
    pub act: Activation,
    /// Hidden layers L (mlp); 0 for the perceptron and mnas.
    pub depth: usize,
    /// Width h; 1 for the perceptron.
    pub width: usize,
    pub dataset: DatasetName,
    /// Density exponent of depleted_sign; 0 for sign; unused (0) otherwise.
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
    /// Which of `temp` and `lr` the user gave ("temp" or "lr").
    pub given: String,
    pub loss: Loss,
    pub dtype: Dtype,
    pub seeds: Seeds,
    pub max_steps: Option<u64>,
    /// Wall-clock cap, seconds.
    pub max_wall: Option<f64>,
    pub checkpoints_per_decade: f64,
    pub loss_drop_factor: f64,
    #[serde(skip)]
    pub exec: Execution,
}

fn parse_enum<T: Copy>(
    field: &'static str,
    value: &str,
    table: &[(&str, T)],
    expected: &'static str,
) -> Result<T, ConfigError> {
    table
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, v)| *v)
        .ok_or_else(|| ConfigError::Unknown {
            field,
            value: value.to_string(),
            expected,
        })
}

fn positive_finite(field: &'static str, v: f64) -> Result<f64, ConfigError> {
    if !v.is_finite() {
        return Err(ConfigError::invalid(field, v, "must be a finite number"));
    }
    if v <= 0.0 {
        return Err(ConfigError::invalid(field, v, "must be > 0"));
    }
    Ok(v)
}

impl RunConfig {
    /// Checks every value and resolves defaults into a [`RunSpec`].
    pub fn resolve(&self) -> Result<RunSpec, ConfigError> {
        let arch = parse_enum(
            "arch",
            self.arch.as_deref().unwrap_or("linear"),
            &[
                ("linear", Arch::Linear),
                ("mlp", Arch::Mlp),
                ("mnas", Arch::Mnas),
            ],
            "linear, mlp, mnas",
        )?;
        let act = parse_enum(
            "act",
            self.act.as_deref().unwrap_or("relu"),
            &[
                ("relu", Activation::Relu),
                ("gelu", Activation::Gelu),
                ("silu", Activation::Silu),
            ],
            "relu, gelu, silu",
        )?;
        let default_dataset = if arch == Arch::Linear {
            "depleted_sign"
        } else {
            "mnist_parity"
        };
        let dataset = parse_enum(
            "dataset",
            self.dataset.as_deref().unwrap_or(default_dataset),
            &[
                ("depleted_sign", DatasetName::DepletedSign),
                ("sign", DatasetName::Sign),
                ("random_sign", DatasetName::RandomSign),
                ("mnist_parity", DatasetName::MnistParity),
                ("cifar_animal", DatasetName::CifarAnimal),
                ("fashion_parity", DatasetName::FashionParity),
            ],
            "depleted_sign, sign, random_sign, mnist_parity, cifar_animal, fashion_parity",
        )?;
        let loss = parse_enum(
            "loss",
            self.loss.as_deref().unwrap_or("hinge"),
            &[
                ("hinge", Loss::Hinge),
                ("quadratic_hinge", Loss::QuadraticHinge),
                ("mse", Loss::Mse),
            ],
            "hinge, quadratic_hinge, mse",
        )?;
        let dtype = parse_enum(
            "dtype",
            self.dtype.as_deref().unwrap_or("f32"),
            &[("f32", Dtype::F32), ("f64", Dtype::F64)],
            "f32, f64",
        )?;
        let arch_name = || self.arch.clone().unwrap_or_else(|| "linear".into());

        // Architecture shape.
        let (depth, width) = match arch {
            Arch::Linear => {
                if let Some(w) = self.width.filter(|&w| w != 1) {
                    return Err(ConfigError::NotApplicable {
                        field: "width",
                        value: w.to_string(),
                        arch: arch_name(),
                    });
                }
                if let Some(d) = self.depth {
                    return Err(ConfigError::NotApplicable {
                        field: "depth",
                        value: d.to_string(),
                        arch: arch_name(),
                    });
                }
                (0, 1)
            }
            Arch::Mlp => (self.depth.unwrap_or(5), self.width.unwrap_or(128)),
            Arch::Mnas => {
                if let Some(d) = self.depth {
                    return Err(ConfigError::NotApplicable {
                        field: "depth",
                        value: d.to_string(),
                        arch: arch_name(),
                    });
                }
                (0, self.width.unwrap_or(64))
            }
        };
        if arch == Arch::Mlp && depth == 0 {
            return Err(ConfigError::invalid(
                "depth",
                depth,
                "an mlp needs at least one hidden layer",
            ));
        }
        if width == 0 {
            return Err(ConfigError::invalid("width", width, "must be at least 1"));
        }

        // Data.
        let (chi, input_dim) = if let Some(shape) = dataset.image_shape() {
            if let Some(chi) = self.chi {
                return Err(ConfigError::invalid(
                    "chi",
                    chi,
                    format!("applies only to depleted_sign, not {}", dataset.name()),
                ));
            }
            if let Some(d) = self.dim.filter(|&d| d != shape.iter().product::<usize>()) {
                return Err(ConfigError::invalid(
                    "dim",
                    d,
                    format!(
                        "{} images have {} inputs",
                        dataset.name(),
                        shape.iter().product::<usize>()
                    ),
                ));
            }
            (0.0, shape.iter().product())
        } else {
            if arch == Arch::Mnas {
                return Err(ConfigError::invalid(
                    "dataset",
                    dataset.name(),
                    "mnas needs an image data set (mnist_parity, cifar_animal, fashion_parity)",
                ));
            }
            let chi = match dataset {
                DatasetName::DepletedSign => self.chi.unwrap_or(1.0),
                _ => match self.chi {
                    Some(c) if c != 0.0 => {
                        return Err(ConfigError::invalid(
                            "chi",
                            c,
                            format!("applies only to depleted_sign, not {}", dataset.name()),
                        ))
                    }
                    _ => 0.0,
                },
            };
            if !chi.is_finite() || chi < 0.0 {
                return Err(ConfigError::invalid(
                    "chi",
                    chi,
                    "must be a finite number >= 0",
                ));
            }
            let dim = self.dim.unwrap_or(32);
            if dim < 2 {
                return Err(ConfigError::invalid(
                    "dim",
                    dim,
                    "must be at least 2 (a signal and a noise direction)",
                ));
            }
            (chi, dim)
        };

        let ptr = self.ptr.unwrap_or(1024);
        if ptr == 0 {
            return Err(ConfigError::invalid(
                "ptr",
                ptr,
                "the training set needs at least one point",
            ));
        }
        let pte = self.pte.unwrap_or(8192);
        if pte == 0 {
            return Err(ConfigError::invalid(
                "pte",
                pte,
                "the test set needs at least one point",
            ));
        }
        let alpha = positive_finite("alpha", self.alpha.unwrap_or(32768.0))?;

        let (batch, full_batch) = match self.batch {
            Some(0) => return Err(ConfigError::invalid("batch", 0, "must be at least 1")),
            Some(b) if b > ptr => return Err(ConfigError::BatchTooLarge { batch: b, ptr }),
            Some(b) => (b, false),
            None => (ptr, true),
        };
        let h = width as f64;
        let (temp, lr, given) = match (self.temp, self.lr) {
            (Some(t), Some(l)) => return Err(ConfigError::TempAndLr { temp: t, lr: l }),
            (Some(t), None) => {
                let t = positive_finite("temp", t)?;
                (t, t * batch as f64 * h, "temp")
            }
            (None, Some(l)) => {
                let l = positive_finite("lr", l)?;
                (l / (batch as f64 * h), l, "lr")
            }
            (None, None) => {
                return Err(ConfigError::Missing {
                    field: "temp",
                    hint: " (or `lr`): the SGD temperature T = lr / (B h)",
                })
            }
        };

        let seed_init = self.seed_init.unwrap_or(0);
        let seeds = Seeds {
            init: seed_init,
            batch: self.seed_batch.unwrap_or(seed_init),
            trainset: self.seed_trainset.unwrap_or(-seed_init - 2),
            testset: self.seed_testset.unwrap_or(-1),
        };
        if let Some(0) = self.max_steps {
            return Err(ConfigError::invalid("max_steps", 0, "must be at least 1"));
        }
        let max_wall = self
            .max_wall
            .map(|w| positive_finite("max_wall", w))
            .transpose()?;
        let checkpoints_per_decade = positive_finite(
            "checkpoints_per_decade",
            self.checkpoints_per_decade.unwrap_or(10.0),
        )?;
        let loss_drop_factor = self.loss_drop_factor.unwrap_or(2.0);
        if !(loss_drop_factor.is_finite() && loss_drop_factor > 1.0) {
            return Err(ConfigError::invalid(
                "loss_drop_factor",
                loss_drop_factor,
                "must be a finite number > 1",
            ));
        }
        let threads = self.threads.unwrap_or(1);
        if threads == 0 {
            return Err(ConfigError::invalid("threads", 0, "must be at least 1"));
        }

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
            given: given.to_string(),
            loss,
            dtype,
            seeds,
            max_steps: self.max_steps,
            max_wall,
            checkpoints_per_decade,
            loss_drop_factor,
            exec: Execution {
                data_dir: self.data_dir.clone(),
                threads,
            },
        })
    }
}

impl RunSpec {
    /// Width that enters the temperature T = lr / (B h): 1 for the perceptron, h otherwise.
    pub fn temperature_width(&self) -> usize {
        self.width
    }

    /// A run's identity: the first 16 hex digits of the SHA-256 of its resolved settings as
    /// canonical JSON (execution settings such as threads and the data folder excluded).
    pub fn identity(&self) -> String {
        let json = serde_json::to_string(self).expect("RunSpec serialises");
        let digest = Sha256::digest(json.as_bytes());
        digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
    }

    /// The settings as the flat key/value table users write (TOML keys), for tables and reports.
    pub fn to_config(&self) -> RunConfig {
        RunConfig {
            arch: Some(
                serde_json::to_value(self.arch)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            act: Some(
                serde_json::to_value(self.act)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            depth: (self.arch == Arch::Mlp).then_some(self.depth),
            width: (self.arch != Arch::Linear).then_some(self.width),
            dataset: Some(self.dataset.name().to_string()),
            chi: (self.dataset == DatasetName::DepletedSign).then_some(self.chi),
            dim: self.dataset.is_synthetic().then_some(self.input_dim),
            ptr: Some(self.ptr),
            pte: Some(self.pte),
            alpha: Some(self.alpha),
            batch: (!self.full_batch).then_some(self.batch),
            temp: (self.given == "temp").then_some(self.temp),
            lr: (self.given == "lr").then_some(self.lr),
            loss: Some(
                serde_json::to_value(self.loss)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
            dtype: Some(
                serde_json::to_value(self.dtype)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_string(),
            ),
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> RunConfig {
        RunConfig {
            temp: Some(1.0),
            batch: Some(2),
            ..Default::default()
        }
    }

    #[test]
    fn temperature_and_learning_rate_are_derived_once() {
        let s = base().resolve().unwrap();
        assert_eq!((s.temp, s.lr, s.given.as_str()), (1.0, 2.0, "temp"));
        let s = RunConfig {
            arch: Some("mlp".into()),
            lr: Some(4.0),
            batch: Some(16),
            temp: None,
            ..base()
        }
        .resolve()
        .unwrap();
        assert_eq!(s.temp, 4.0 / (16.0 * 128.0));
    }

    #[test]
    fn bad_values_name_the_field_and_value() {
        let e = RunConfig {
            temp: Some(-1.0),
            ..base()
        }
        .resolve()
        .unwrap_err();
        assert!(
            e.to_string().contains("temp") && e.to_string().contains("-1"),
            "{e}"
        );
        let e = RunConfig {
            lr: Some(1.0),
            ..base()
        }
        .resolve()
        .unwrap_err();
        assert!(matches!(e, ConfigError::TempAndLr { .. }), "{e}");
        let e = RunConfig {
            batch: Some(5000),
            ..base()
        }
        .resolve()
        .unwrap_err();
        assert_eq!(
            e,
            ConfigError::BatchTooLarge {
                batch: 5000,
                ptr: 1024
            }
        );
        let e = RunConfig {
            arch: Some("resnet".into()),
            ..base()
        }
        .resolve()
        .unwrap_err();
        assert!(e.to_string().contains("resnet"), "{e}");
        let e = RunConfig {
            temp: None,
            ..base()
        }
        .resolve()
        .unwrap_err();
        assert!(matches!(e, ConfigError::Missing { field: "temp", .. }));
    }

    #[test]
    fn default_seeds_follow_the_spec() {
        let s = RunConfig {
            seed_init: Some(3),
            ..base()
        }
        .resolve()
        .unwrap();
        assert_eq!(
            s.seeds,
            Seeds {
                init: 3,
                batch: 3,
                trainset: -5,
                testset: -1
            }
        );
    }

    #[test]
    fn identity_ignores_execution_settings_and_round_trips() {
        let a = base().resolve().unwrap();
        let b = RunConfig {
            threads: Some(4),
            data_dir: Some("/x".into()),
            ..base()
        }
        .resolve()
        .unwrap();
        assert_eq!(a.identity(), b.identity());
        let c = RunConfig {
            seed_init: Some(1),
            ..base()
        }
        .resolve()
        .unwrap();
        assert_ne!(a.identity(), c.identity());
        assert_eq!(a.to_config().resolve().unwrap().identity(), a.identity());
    }

    #[test]
    fn toml_rejects_unknown_keys() {
        let e = RunConfig::from_toml_str("temp = 1\nbogus = 3\n").unwrap_err();
        assert!(e.to_string().contains("bogus"), "{e}");
        let mut c = RunConfig::from_toml_str("temp = 1.0\nbatch = 2").unwrap();
        c.set("alpha", &toml::Value::Float(2.0)).unwrap();
        assert_eq!(c.alpha, Some(2.0));
    }
}
