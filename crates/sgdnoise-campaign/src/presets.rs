//! One preset per sweep of the paper (SPEC §9), at two scales, and the analysis that turns its
//! store into figures, fitted exponents (`fits.csv`) and a short report.
//!
//! * `paper`: the authors' grid (SPEC §9 table): about 17,000 runs in all, GPU-sized.
//! * `quick`: the same effect on two CPU cores: a few minutes for the perceptron, well under an
//!   hour for an FC sweep (smaller P, a coarser grid, 2-4 seeds, a smaller test set, and step
//!   and wall-clock caps; runs stopped by a cap are counted in the report).
//!
//! [`plan`] builds the [`Plan`] of a preset; [`report::analyze`] draws its figures.

use crate::Plan;
use sgdnoise_core::settings::{ConfigError, RunConfig, RunSpec};

/// The presets, in SPEC §9 order.
pub const PRESETS: [&str; 7] = [
    "perceptron",
    "fc-mnist",
    "fc-cifar",
    "fc-phase",
    "cnn-mnist",
    "cnn-cifar",
    "cnn-phase-cifar",
];

const PRESET_LIST: &str =
    "perceptron, fc-mnist, fc-cifar, fc-phase, cnn-mnist, cnn-cifar, cnn-phase-cifar";

/// How big a preset's grid is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Quick,
    Paper,
}

impl Scale {
    pub fn parse(s: &str) -> Result<Scale, ConfigError> {
        match s {
            "quick" => Ok(Scale::Quick),
            "paper" => Ok(Scale::Paper),
            _ => Err(ConfigError::Unknown {
                field: "scale",
                value: s.into(),
                expected: "quick, paper",
            }),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Scale::Quick => "quick",
            Scale::Paper => "paper",
        }
    }
}

/// What kind of sweep a store holds, which decides its figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Perceptron on depleted_sign: signal/noise and test error against P per chi, weight change
    /// and t* against T.
    Perceptron,
    /// Lazy-regime temperature sweep over P: curves against T, T_c(P), collapses.
    TSweep,
    /// Phase diagram over alpha and T at one P: heatmaps, T_opt(alpha).
    Phase,
}

impl Kind {
    pub fn parse(s: &str) -> Result<Kind, ConfigError> {
        match s {
            "perceptron" => Ok(Kind::Perceptron),
            "tsweep" => Ok(Kind::TSweep),
            "phase" => Ok(Kind::Phase),
            _ => Err(ConfigError::Unknown {
                field: "kind",
                value: s.into(),
                expected: "perceptron, tsweep, phase",
            }),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Kind::Perceptron => "perceptron",
            Kind::TSweep => "tsweep",
            Kind::Phase => "phase",
        }
    }
    /// The kind of a preset.
    pub fn of_preset(name: &str) -> Result<Kind, ConfigError> {
        match name {
            "perceptron" => Ok(Kind::Perceptron),
            "fc-mnist" | "fc-cifar" | "cnn-mnist" | "cnn-cifar" => Ok(Kind::TSweep),
            "fc-phase" | "cnn-phase-cifar" => Ok(Kind::Phase),
            _ => Err(unknown_preset(name)),
        }
    }
    /// Guesses the kind of a store: perceptron if every run is `arch = linear` on depleted_sign
    /// or sign, phase if it has more than one alpha, else a temperature sweep.
    pub fn detect(runs: &[sgdnoise_core::rundir::Summary]) -> Kind {
        let linear = runs
            .iter()
            .all(|s| s.config.arch.as_deref() == Some("linear"));
        let alphas: std::collections::BTreeSet<u64> =
            runs.iter().map(|s| s.alpha.to_bits()).collect();
        if linear && !runs.is_empty() {
            Kind::Perceptron
        } else if alphas.len() > 1 {
            Kind::Phase
        } else {
            Kind::TSweep
        }
    }
}

fn unknown_preset(name: &str) -> ConfigError {
    ConfigError::Unknown {
        field: "preset",
        value: name.into(),
        expected: PRESET_LIST,
    }
}

/// 2^k for k = from, from+step, ..., up to `to` inclusive.
pub fn pow2_grid(from: i32, to: i32, step: i32) -> Vec<f64> {
    (from..=to)
        .step_by(step.max(1) as usize)
        .map(|k| 2f64.powi(k))
        .collect()
}

/// Everything a grid point varies; `None` keeps the base value.
#[derive(Clone, Copy, Debug, Default)]
struct Point {
    ptr: Option<usize>,
    temp: Option<f64>,
    lr: Option<f64>,
    alpha: Option<f64>,
    chi: Option<f64>,
    dim: Option<usize>,
    seed: i64,
}

fn build(name: &str, base: &RunConfig, points: &[Point]) -> Result<Plan, ConfigError> {
    let mut runs: Vec<RunSpec> = Vec::with_capacity(points.len());
    for p in points {
        let mut c = base.clone();
        c.ptr = p.ptr.or(c.ptr);
        c.temp = p.temp.or(c.temp);
        c.lr = p.lr.or(c.lr);
        c.alpha = p.alpha.or(c.alpha);
        c.chi = p.chi.or(c.chi);
        c.dim = p.dim.or(c.dim);
        c.seed_init = Some(p.seed);
        runs.push(c.resolve()?);
    }
    Ok(Plan {
        name: name.into(),
        runs,
    })
}

/// The sweep of preset `name` at `scale` (see the module doc and SPEC §9).
pub fn plan(name: &str, scale: Scale) -> Result<Plan, ConfigError> {
    let quick = scale == Scale::Quick;
    let seeds = |n: i64| (1..=n).collect::<Vec<i64>>();
    match name {
        "perceptron" => {
            // Quick: d = 32 as in the acceptance check (chi = 1, P = 1024, alpha = 2^15, T = 1
            // takes ~10^4 steps); T = 2^-18..2^2 reaches below 1/alpha = 2^-15 so the flat part
            // of the weight change below T ~ 1/alpha shows.
            let base = RunConfig {
                arch: Some("linear".into()),
                dataset: Some("depleted_sign".into()),
                batch: Some(2),
                alpha: Some(32768.0),
                pte: Some(if quick { 16384 } else { 32768 }),
                max_steps: Some(if quick { 20_000_000 } else { 1_000_000_000 }),
                max_wall: Some(if quick { 30.0 } else { 1e4 }),
                ..Default::default()
            };
            let chis = [0.0, 1.0, 3.0];
            let dims: Vec<usize> = if quick {
                vec![32]
            } else {
                vec![16, 32, 64, 128]
            };
            let ptrs: Vec<usize> = if quick {
                pow2_grid(7, 13, 1).iter().map(|&p| p as usize).collect()
            } else {
                pow2_grid(10, 14, 1).iter().map(|&p| p as usize).collect()
            };
            let mut points = Vec::new();
            for &chi in &chis {
                for &dim in &dims {
                    for &ptr in &ptrs {
                        // chi = 0 needs ~P^2 steps: quick stops it at P = 2^11.
                        if quick && chi == 0.0 && ptr > 2048 {
                            continue;
                        }
                        if quick {
                            for temp in pow2_grid(-18, 2, 2) {
                                for seed in seeds(4) {
                                    points.push(Point {
                                        ptr: Some(ptr),
                                        temp: Some(temp),
                                        chi: Some(chi),
                                        dim: Some(dim),
                                        seed,
                                        ..Default::default()
                                    });
                                }
                            }
                        } else {
                            for lr in pow2_grid(-15, 2, 1) {
                                for seed in seeds(5) {
                                    points.push(Point {
                                        ptr: Some(ptr),
                                        lr: Some(lr),
                                        chi: Some(chi),
                                        dim: Some(dim),
                                        seed,
                                        ..Default::default()
                                    });
                                }
                            }
                        }
                    }
                }
            }
            build(name, &base, &points)
        }
        "fc-mnist" | "fc-cifar" | "cnn-mnist" | "cnn-cifar" => {
            let fc = name.starts_with("fc");
            let dataset = if name.ends_with("mnist") {
                "mnist_parity"
            } else {
                "cifar_animal"
            };
            let cap = match (quick, fc, dataset) {
                (true, true, _) => 60.0,
                (true, false, _) => 90.0,
                (false, false, "cifar_animal") => 8000.0,
                (false, _, _) => 1e4,
            };
            let base = RunConfig {
                arch: Some(if fc { "mlp" } else { "mnas" }.into()),
                act: Some("relu".into()),
                depth: if fc { Some(5) } else { None },
                width: Some(match (fc, quick) {
                    (true, _) => 128,
                    (false, false) => 64,
                    (false, true) => 8,
                }),
                dataset: Some(dataset.into()),
                batch: Some(16),
                alpha: Some(32768.0),
                pte: Some(if quick { 2048 } else { 32768 }),
                max_steps: if quick { Some(200_000) } else { None },
                max_wall: Some(cap),
                ..Default::default()
            };
            let ptrs: Vec<usize> = match (quick, fc) {
                (true, true) => vec![256, 512, 1024, 2048],
                (true, false) => vec![256, 512, 1024],
                (false, _) => pow2_grid(10, 14, 1).iter().map(|&p| p as usize).collect(),
            };
            let temps = match (quick, fc) {
                // An FC run at P <= 2048 takes about a second here: a fine T grid and three
                // seeds keep the quick sweep (120 runs) to a few minutes on two cores.
                (true, true) => pow2_grid(-10, -1, 1),
                (true, false) => pow2_grid(-12, -2, 2),
                (false, true) => pow2_grid(-13, 2, 1),
                (false, false) => pow2_grid(-20, 0, 1),
            };
            let mut points = Vec::new();
            for &ptr in &ptrs {
                for &temp in &temps {
                    for seed in seeds(match (quick, fc) {
                        (true, true) => 3,
                        (true, false) => 2,
                        (false, _) => 5,
                    }) {
                        points.push(Point {
                            ptr: Some(ptr),
                            temp: Some(temp),
                            seed,
                            ..Default::default()
                        });
                    }
                }
            }
            build(name, &base, &points)
        }
        "fc-phase" | "cnn-phase-cifar" => {
            let fc = name == "fc-phase";
            let base = RunConfig {
                arch: Some(if fc { "mlp" } else { "mnas" }.into()),
                act: Some(if fc { "gelu" } else { "relu" }.into()),
                depth: if fc { Some(5) } else { None },
                width: Some(match (fc, quick) {
                    (true, _) => 128,
                    (false, false) => 32,
                    (false, true) => 8,
                }),
                dataset: Some(if fc { "mnist_parity" } else { "cifar_animal" }.into()),
                ptr: Some(if quick { 256 } else { 1024 }),
                batch: Some(if fc { 16 } else { 64 }),
                pte: Some(if quick { 2048 } else { 32768 }),
                max_steps: if quick { Some(100_000) } else { None },
                max_wall: Some(match (quick, fc) {
                    (true, _) => 30.0,
                    (false, true) => 14400.0,
                    (false, false) => 3600.0,
                }),
                ..Default::default()
            };
            let alphas = if quick {
                pow2_grid(-8, 8, 4)
            } else {
                pow2_grid(-14, 11, 1)
            };
            let lrs = match (quick, fc) {
                (true, true) => pow2_grid(-3, 9, 2),
                (true, false) => pow2_grid(-5, 7, 2),
                (false, true) => pow2_grid(-15, 15, 1),
                (false, false) => pow2_grid(-13, 10, 1),
            };
            let n_seeds = match (quick, fc) {
                (true, _) => 2,
                (false, true) => 9,
                (false, false) => 4,
            };
            let mut points = Vec::new();
            for &alpha in &alphas {
                for &lr in &lrs {
                    for seed in seeds(n_seeds) {
                        points.push(Point {
                            alpha: Some(alpha),
                            lr: Some(lr),
                            seed,
                            ..Default::default()
                        });
                    }
                }
            }
            build(name, &base, &points)
        }
        _ => Err(unknown_preset(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sgdnoise_core::settings::Arch;

    #[test]
    fn every_preset_plans_and_resolves_at_both_scales() {
        for name in PRESETS {
            for scale in [Scale::Quick, Scale::Paper] {
                let plan = plan(name, scale).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert!(!plan.runs.is_empty());
                let mut ids: Vec<String> = plan.runs.iter().map(|r| r.identity()).collect();
                ids.sort();
                ids.dedup();
                assert_eq!(ids.len(), plan.runs.len(), "{name}: duplicate runs");
            }
        }
    }

    #[test]
    fn paper_grids_match_spec_section_9() {
        // perceptron: chi {0,1,3} x d {16,32,64,128} x P {2^10..2^14} x eta {2^-15..2^2} x 5 seeds.
        assert_eq!(
            plan("perceptron", Scale::Paper).unwrap().runs.len(),
            3 * 4 * 5 * 18 * 5
        );
        let fc = plan("fc-mnist", Scale::Paper).unwrap();
        assert_eq!(fc.runs.len(), 5 * 16 * 5);
        let r = &fc.runs[0];
        assert_eq!((r.arch, r.depth, r.width, r.batch), (Arch::Mlp, 5, 128, 16));
        assert_eq!((r.alpha, r.pte, r.max_wall), (32768.0, 32768, Some(1e4)));
        let cnn = plan("cnn-cifar", Scale::Paper).unwrap();
        assert_eq!(cnn.runs.len(), 5 * 21 * 5);
        assert_eq!(cnn.runs[0].max_wall, Some(8000.0));
        let phase = plan("fc-phase", Scale::Paper).unwrap();
        assert_eq!(phase.runs.len(), 26 * 31 * 9);
        assert_eq!(phase.runs[0].ptr, 1024);
        let cphase = plan("cnn-phase-cifar", Scale::Paper).unwrap();
        assert_eq!(cphase.runs.len(), 26 * 24 * 4);
        assert_eq!((cphase.runs[0].batch, cphase.runs[0].width), (64, 32));
        // T = eta / (B h) is derived for runs given by eta.
        let p = &phase.runs[0];
        assert!((p.temp - p.lr / (16.0 * 128.0)).abs() < 1e-15 * p.lr);
    }

    #[test]
    fn unknown_names_are_bad_input() {
        let e = plan("fc-imagenet", Scale::Quick).unwrap_err();
        assert!(e.to_string().contains("fc-imagenet"), "{e}");
        assert!(Scale::parse("huge").is_err());
        assert!(Kind::parse("heatmap").is_err());
    }
}
