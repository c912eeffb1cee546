//! The presets: one sweep file per paper sweep (SPEC §9) and scale, plus the built-in study.
//!
//! The files in the repository's `presets/` folder are the only definition of each grid; the
//! binary embeds them, so `sgdnoise reproduce NAME --scale S` and
//! `sgdnoise sweep plan presets/NAME-S.toml` plan exactly the same runs. Each file names the
//! analysis its figures take (`analysis = "tsweep"`, ...).
//!
//! * `paper`: the authors' grid (about 17,000 runs in all, GPU-sized).
//! * `quick`: the same effect on two CPU cores (smaller P, a coarser grid, fewer seeds, a smaller
//!   test set, and step and wall-clock caps; runs stopped by a cap are counted in the report).

use crate::sweepfile::{PlanErrors, SweepFile};
use sgdnoise_core::settings::ConfigError;

sgdnoise_core::names! {
    /// How big a preset's grid is.
    pub enum Scale ("scale") {
        /// Two CPU cores, minutes.
        Quick = "quick",
        /// The authors' full grid.
        Paper = "paper",
    }
}

/// The presets of the paper's sweeps, in SPEC §9 order, then the follow-up's (B, eta) grids
/// (SPEC §11, `bp-*`).
pub const PRESETS: &[&str] = &[
    "perceptron",
    "fc-mnist",
    "fc-cifar",
    "fc-phase",
    "cnn-mnist",
    "cnn-cifar",
    "cnn-phase-cifar",
    // The (B, eta) grids of the follow-up paper (arXiv:2309.10688, SPEC §11).
    "bp-perceptron-chi0",
    "bp-perceptron-chi1",
    "bp-fc-small-margin",
    "bp-fc-margin-one",
    "bp-cnn-small-margin",
    "bp-cnn-margin-one",
];

/// The name of the study's sweep file.
pub const STUDY: &str = "study";

macro_rules! embedded {
    ($($file:literal),* $(,)?) => {
        /// Every file of `presets/`, by its stem, as embedded in the binary.
        pub const FILES: &[(&str, &str)] = &[
            $( ($file, include_str!(concat!("../../../presets/", $file, ".toml"))) ),*
        ];
    };
}

embedded!(
    "perceptron-quick",
    "perceptron-paper",
    "fc-mnist-quick",
    "fc-mnist-paper",
    "fc-cifar-quick",
    "fc-cifar-paper",
    "fc-phase-quick",
    "fc-phase-paper",
    "cnn-mnist-quick",
    "cnn-mnist-paper",
    "cnn-cifar-quick",
    "cnn-cifar-paper",
    "cnn-phase-cifar-quick",
    "cnn-phase-cifar-paper",
    "bp-perceptron-chi0-quick",
    "bp-perceptron-chi0-paper",
    "bp-perceptron-chi1-quick",
    "bp-perceptron-chi1-paper",
    "bp-fc-small-margin-quick",
    "bp-fc-small-margin-paper",
    "bp-fc-margin-one-quick",
    "bp-fc-margin-one-paper",
    "bp-cnn-small-margin-quick",
    "bp-cnn-small-margin-paper",
    "bp-cnn-margin-one-quick",
    "bp-cnn-margin-one-paper",
    "study",
);

/// The stem of a preset's file: `fc-mnist` at `quick` is `fc-mnist-quick`.
pub fn file_stem(name: &str, scale: Scale) -> String {
    format!("{name}-{scale}")
}

/// The text of an embedded file, by stem.
pub fn text(stem: &str) -> Option<&'static str> {
    FILES.iter().find(|(s, _)| *s == stem).map(|(_, t)| *t)
}

/// A preset name that is not one: bad input listing the valid names.
pub fn unknown(name: &str) -> ConfigError {
    ConfigError::Unknown {
        field: "preset",
        value: name.to_string(),
        expected: PRESETS,
    }
}

/// The sweep file of preset `name` at `scale`.
pub fn sweep(name: &str, scale: Scale) -> Result<SweepFile, ConfigError> {
    if !PRESETS.contains(&name) {
        return Err(unknown(name));
    }
    parse(&file_stem(name, scale))
}

/// The sweep file of the built-in study.
pub fn study() -> SweepFile {
    parse(STUDY).expect("the embedded study parses (tested)")
}

fn parse(stem: &str) -> Result<SweepFile, ConfigError> {
    let text = text(stem).ok_or_else(|| unknown(stem))?;
    SweepFile::parse(text, stem).map_err(|e: PlanErrors| ConfigError::Toml {
        message: format!("embedded preset {stem}: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sgdnoise_core::settings::Arch;

    fn plan(name: &str, scale: Scale) -> crate::Plan {
        sweep(name, scale)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .expand()
            .unwrap_or_else(|e| panic!("{name} {scale}: {e}"))
            .plan
    }

    #[test]
    fn every_preset_plans_and_resolves_at_both_scales() {
        for name in PRESETS {
            for &scale in Scale::ALL {
                let s = sweep(name, scale).unwrap();
                assert!(s.analysis.is_some(), "{name}: names its analysis");
                let plan = plan(name, scale);
                assert!(!plan.runs.is_empty());
                // Seeds follow the authors: seed_init 0..n-1.
                let seeds: std::collections::BTreeSet<i64> =
                    plan.runs.iter().map(|r| r.seeds.init).collect();
                assert_eq!(seeds.first(), Some(&0), "{name} {scale}");
                assert_eq!(*seeds.last().unwrap() as usize, seeds.len() - 1);
            }
        }
        assert_eq!(study().expand().unwrap().plan.runs.len(), 8 * (8 + 10 - 1));
    }

    /// The embedded list and the presets/ folder hold the same files.
    #[test]
    fn every_file_of_the_presets_folder_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../presets");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|(s, _)| s.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        for (stem, text) in FILES {
            assert_eq!(
                std::fs::read_to_string(dir.join(format!("{stem}.toml"))).unwrap(),
                *text
            );
        }
    }

    #[test]
    fn paper_grids_match_spec_section_9() {
        // perceptron: chi {0,1,3} x d {16,32,64,128} x P {2^10..2^14} x eta {2^-15..2^2} x 5 seeds.
        assert_eq!(
            plan("perceptron", Scale::Paper).runs.len(),
            3 * 4 * 5 * 18 * 5
        );
        let fc = plan("fc-mnist", Scale::Paper);
        assert_eq!(fc.runs.len(), 5 * 16 * 5);
        let r = &fc.runs[0];
        assert_eq!((r.arch, r.depth, r.width, r.batch), (Arch::Mlp, 5, 128, 16));
        // Capped in steps set from measured runs (issue 10), not in the authors' GPU seconds.
        assert_eq!(
            (r.alpha, r.pte, r.max_wall, r.max_steps),
            (32768.0, 32768, None, Some(1_000_000))
        );
        let cnn = plan("cnn-cifar", Scale::Paper);
        assert_eq!(cnn.runs.len(), 5 * 21 * 5);
        assert_eq!(cnn.runs[0].max_wall, Some(8000.0));
        let phase = plan("fc-phase", Scale::Paper);
        assert_eq!(phase.runs.len(), 26 * 31 * 9);
        assert_eq!(phase.runs[0].ptr, 1024);
        let cphase = plan("cnn-phase-cifar", Scale::Paper);
        assert_eq!(cphase.runs.len(), 26 * 24 * 4);
        assert_eq!((cphase.runs[0].batch, cphase.runs[0].width), (64, 32));
        // T = eta / (B h) is derived for runs given by eta.
        let p = &phase.runs[0];
        assert!((p.temp - p.lr / (16.0 * 128.0)).abs() < 1e-15 * p.lr);
    }

    /// The follow-up's grids (arXiv:2309.10688) as the authors' regimes_of_SGD README gives
    /// them: 5 seeds, hinge, a test set of 32768, a batch axis and a learning-rate axis.
    #[test]
    fn batch_lr_grids_match_the_follow_up_paper() {
        use sgdnoise_core::settings::DatasetName as D;
        for (name, n_b, n_lr, arch, alpha, ptr, lr0, lr1) in [
            (
                "bp-perceptron-chi0",
                14,
                19,
                Arch::Linear,
                128.0,
                8192,
                -5,
                13,
            ),
            (
                "bp-perceptron-chi1",
                14,
                23,
                Arch::Linear,
                128.0,
                8192,
                -10,
                12,
            ),
            (
                "bp-fc-small-margin",
                11,
                23,
                Arch::Mlp,
                32768.0,
                32768,
                -11,
                11,
            ),
            ("bp-fc-margin-one", 13, 13, Arch::Mlp, 1.0, 16384, -5, 7),
            (
                "bp-cnn-small-margin",
                11,
                17,
                Arch::Mnas,
                32768.0,
                16384,
                -6,
                10,
            ),
            ("bp-cnn-margin-one", 12, 17, Arch::Mnas, 1.0, 16384, -7, 9),
        ] {
            let s = sweep(name, Scale::Paper).unwrap();
            assert_eq!(s.analysis.as_deref(), Some("batch"), "{name}");
            let p = plan(name, Scale::Paper);
            assert_eq!(p.runs.len(), n_b * n_lr * 5, "{name}");
            let batches: std::collections::BTreeSet<usize> =
                p.runs.iter().map(|r| r.batch).collect();
            assert_eq!(batches.len(), n_b, "{name}");
            assert_eq!(*batches.first().unwrap(), 1, "{name}");
            assert_eq!(*batches.last().unwrap(), 1 << (n_b - 1), "{name}");
            let lrs: Vec<f64> = p.runs.iter().map(|r| r.lr).collect();
            let (lo, hi) = lrs
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(*v), b.max(*v)));
            assert_eq!((lo, hi), (2f64.powi(lr0), 2f64.powi(lr1)), "{name}");
            for r in &p.runs {
                assert_eq!((r.arch, r.alpha, r.ptr, r.pte), (arch, alpha, ptr, 32768));
                assert!(r.seeds.init < 5);
            }
            let r = &p.runs[0];
            match arch {
                Arch::Linear => {
                    assert_eq!((r.dataset, r.input_dim), (D::DepletedSign, 128));
                }
                Arch::Mlp => assert_eq!((r.dataset, r.depth, r.width), (D::MnistParity, 5, 128)),
                Arch::Mnas => assert_eq!((r.dataset, r.width), (D::CifarAnimal, 32)),
            }
        }
        // The quick chi = 1 grid varies P so that B*(P) can be fitted, with B up to P.
        let q = plan("bp-perceptron-chi1", Scale::Quick);
        let ps: std::collections::BTreeSet<usize> = q.runs.iter().map(|r| r.ptr).collect();
        assert_eq!(ps.len(), 5);
        assert!(q.runs.iter().all(|r| r.batch <= r.ptr));
        assert!(q.runs.iter().any(|r| r.batch == r.ptr && r.ptr == 4096));
    }

    #[test]
    fn quick_grids_have_their_documented_sizes() {
        for (name, n) in [
            ("perceptron", 1045),
            ("fc-mnist", 250),
            ("fc-cifar", 250),
            ("fc-phase", 175),
            ("cnn-mnist", 90),
            ("cnn-cifar", 90),
            ("cnn-phase-cifar", 175),
            ("bp-perceptron-chi0", 2850),
            ("bp-perceptron-chi1", 4125),
            ("bp-fc-small-margin", 225),
            ("bp-fc-margin-one", 175),
            ("bp-cnn-small-margin", 225),
            ("bp-cnn-margin-one", 225),
        ] {
            assert_eq!(plan(name, Scale::Quick).runs.len(), n, "{name}");
        }
    }

    #[test]
    fn unknown_names_are_bad_input() {
        let e = sweep("fc-imagenet", Scale::Quick).unwrap_err();
        assert!(e.to_string().contains("fc-imagenet"), "{e}");
        assert!("huge".parse::<Scale>().is_err());
    }
}
