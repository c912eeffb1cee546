//! What kind of sweep a store holds, which decides its figures.

use sgdnoise_core::rundir::Summary;
use sgdnoise_core::settings::Arch;

sgdnoise_core::names! {
    /// What kind of sweep a store holds, which decides its figures. Sweep files name theirs
    /// (`analysis = "tsweep"`).
    pub enum Kind ("kind") {
        /// Perceptron on depleted_sign: signal/noise and test error against P per chi, weight
        /// change and t* against T.
        Perceptron = "perceptron",
        /// Lazy-regime temperature sweep over P: curves against T, T_c(P), collapses.
        TSweep = "tsweep",
        /// Phase diagram over alpha and T at one P: heatmaps, T_opt(alpha).
        Phase = "phase",
        /// The (B, eta) plane of the follow-up paper at one or more P: heatmaps, the three
        /// regions, B* per P and B* ~ P^gamma (figures/batch.rs).
        Batch = "batch",
    }
}

impl Kind {
    /// Guesses the kind of a store: the (B, eta) plane if it has more than one batch size,
    /// perceptron if every run is `arch = linear`, phase if it has more than one alpha, else a
    /// temperature sweep.
    pub fn detect(runs: &[Summary]) -> Kind {
        let batches: std::collections::BTreeSet<Option<usize>> =
            runs.iter().map(|s| s.config.batch).collect();
        if batches.len() > 1 {
            return Kind::Batch;
        }
        let linear = runs.iter().all(|s| s.config.arch == Some(Arch::Linear));
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
