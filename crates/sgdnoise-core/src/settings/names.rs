//! Enumerated settings and outcomes, each a type with ONE list of names.
//!
//! [`names!`] declares an enum together with the name of every variant. From that one list come
//! `FromStr` (an unknown name is a [`ConfigError::Unknown`](super::ConfigError::Unknown) that lists the valid ones),
//! `Display`, serde as the bare name (so TOML, JSON and the command line all spell a value the
//! same way), [`SettingValue`](super::SettingValue), and with the `clap` feature `clap::ValueEnum`. Nothing else in
//! the workspace writes these names as literals: output goes through `Display`, never `Debug`.

/// Declares an enum whose variants each have one name (see the module doc).
///
/// ```ignore
/// names! {
///     /// Doc of the enum.
///     pub enum Arch ("arch") {
///         /// Doc of the variant.
///         Linear = "linear",
///     }
/// }
/// ```
/// The string in parentheses names the setting (or field) in error messages. Other crates use
/// it as `sgdnoise_core::names!`; a crate that does should declare a `clap` feature forwarding
/// to `sgdnoise-core/clap`, since the `clap::ValueEnum` impl is compiled where it expands.
#[macro_export]
macro_rules! names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($field:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// Every name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The name of this value, as written in settings, files and output.
            pub fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::settings::ConfigError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err($crate::settings::ConfigError::Unknown {
                        field: $field,
                        value: s.to_string(),
                        expected: $name::NAMES,
                    }),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                text.parse().map_err(::serde::de::Error::custom)
            }
        }

        impl $crate::settings::SettingValue for $name {
            const KIND: $crate::settings::ValueKind = $crate::settings::ValueKind::Name($name::NAMES);
            fn parse_text(text: &str) -> Result<Self, String> {
                text.parse().map_err(|e: $crate::settings::ConfigError| e.to_string())
            }
            fn show(&self) -> String {
                self.name().to_string()
            }
        }

        #[cfg(feature = "clap")]
        impl ::clap::ValueEnum for $name {
            fn value_variants<'a>() -> &'a [Self] {
                $name::ALL
            }
            fn to_possible_value(&self) -> Option<::clap::builder::PossibleValue> {
                Some(::clap::builder::PossibleValue::new(self.name()))
            }
        }
    };
}

crate::names! {
    /// Model architecture (SPEC §1).
    pub enum Arch ("arch") {
        /// The perceptron f = w·x/sqrt(d) (h = 1).
        Linear = "linear",
        /// Fully connected net with mean-field read-out.
        Mlp = "mlp",
        /// MnasNet-like CNN.
        Mnas = "mnas",
    }
}

crate::names! {
    /// Activation, normalised to unit second moment under N(0,1) (SPEC §1).
    pub enum Activation ("act") {
        Relu = "relu",
        /// GELU, tanh form.
        Gelu = "gelu",
        Silu = "silu",
    }
}

crate::names! {
    /// Data set and task (SPEC §6).
    pub enum DatasetName ("dataset") {
        /// x1 with density ∝ |x1|^chi exp(-x1²/2), other coordinates N(0,1), label sign(x1).
        DepletedSign = "depleted_sign",
        /// depleted_sign with chi = 0: Gaussian inputs, label sign(x1).
        Sign = "sign",
        /// Gaussian inputs, label sign(u·x) for a random unit teacher u.
        RandomSign = "random_sign",
        /// MNIST, label +1 for even digits.
        MnistParity = "mnist_parity",
        /// CIFAR-10, label +1 for the six animal classes.
        CifarAnimal = "cifar_animal",
        /// Fashion-MNIST, label +1 for even classes.
        FashionParity = "fashion_parity",
    }
}

impl DatasetName {
    /// Whether the data are generated (the perceptron's data sets) rather than read from files.
    pub fn is_synthetic(self) -> bool {
        self.image_shape().is_none()
    }
    /// Image shape (height, width, channels) of the image data sets.
    pub fn image_shape(self) -> Option<[usize; 3]> {
        match self {
            DatasetName::MnistParity | DatasetName::FashionParity => Some([28, 28, 1]),
            DatasetName::CifarAnimal => Some([32, 32, 3]),
            DatasetName::DepletedSign | DatasetName::Sign | DatasetName::RandomSign => None,
        }
    }
}

crate::names! {
    /// Per-sample loss, applied as loss(alpha * pred, y) / alpha (SPEC §2).
    pub enum Loss ("loss") {
        /// max(0, 1 - o y).
        Hinge = "hinge",
        /// max(0, 1 - o y)² / 2.
        QuadraticHinge = "quadratic_hinge",
        /// (o - y)² / 2.
        Mse = "mse",
        /// The authors' smooth hinge: s(1 - o y) with s(u) = u exp(-1/(2u)) for u > 0, else 0.
        SmoothHinge = "smooth_hinge",
    }
}

crate::names! {
    /// The training dynamics (SPEC §11, the authors' edm/dynamics.py).
    pub enum Dynamics ("dynamics") {
        /// Plain SGD: B distinct points drawn uniformly among all P each step.
        Sgd = "sgd",
        /// SGD whose B points are drawn among the unfitted ones, topped up with fitted points
        /// when fewer than B remain.
        SgdOnlyUnfit = "sgd_only_unfit",
        /// Full-batch gradient descent plus Gaussian noise meant to mimic mini-batch sampling.
        GdSde = "gd_sde",
        /// gd_sde with the gradient and the noise restricted to the unfitted points.
        GdSdeOnlyUnfit = "gd_sde_only_unfit",
    }
}

impl Dynamics {
    /// Whether a step evaluates the whole training set (gd_sde*, and sgd_only_unfit, which
    /// needs every point's margin to know which are unfitted).
    pub fn sees_all_points(self) -> bool {
        self != Dynamics::Sgd
    }
    /// Whether a step computes the full gradient plus noise (gd_sde, gd_sde_only_unfit).
    pub fn is_sde(self) -> bool {
        matches!(self, Dynamics::GdSde | Dynamics::GdSdeOnlyUnfit)
    }
    /// Whether only unfitted points are sampled or summed over.
    pub fn only_unfit(self) -> bool {
        matches!(self, Dynamics::SgdOnlyUnfit | Dynamics::GdSdeOnlyUnfit)
    }
}

crate::names! {
    /// The covariance of the gd_sde noise (SPEC §11).
    pub enum SdeNoise ("sde_noise") {
        /// The authors' formula: sigma * grad_w (1/n) sum_i f(w, x_i) xi_i with
        /// sigma² = (1/B - 1/n) sum_i l'_i²: every point's gradient weighted by the rms l'.
        Edm = "edm",
        /// The exact covariance of a B-point mini-batch gradient drawn without replacement:
        /// each point's gradient weighted by its own l', the mean term subtracted.
        Exact = "exact",
    }
}

crate::names! {
    /// Whose convention the quadratic hinge and mse follow (SPEC §2).
    pub enum LossConvention ("loss_convention") {
        /// sgdnoise's: quadratic hinge max(0, 1 - o y)² / 2; mse never stops at a small loss.
        Sgdnoise = "sgdnoise",
        /// The authors' (edm/train.py): quadratic hinge max(0, 1 - o y)² (twice ours, twice
        /// the gradient); mse stops when alpha * loss < 1e-9.
        Edm = "edm",
    }
}

crate::names! {
    /// Element type of weights and data.
    pub enum Dtype ("dtype") {
        F32 = "f32",
        F64 = "f64",
    }
}

impl Dtype {
    /// Bytes of one number.
    pub fn bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F64 => 8,
        }
    }
}

crate::names! {
    /// Which of the temperature and the learning rate a run was given (the other is derived,
    /// SPEC §3).
    pub enum Given ("given") {
        Temp = "temp",
        Lr = "lr",
    }
}
