//! The CNN end to end on CIFAR-10 files generated in the real binary format: files -> loader ->
//! cifar_animal task -> mnas -> SGD to zero training loss -> run directory (issue 6 acceptance).

use rand::Rng;
use sgdnoise_core::data::cifar;
use sgdnoise_core::numeric::rng::{self, Stream};
use sgdnoise_core::settings::RunConfig;

/// Six batches of `per_batch` random 32x32x3 images with random labels 0..9.
fn write_random_cifar_set(dir: &std::path::Path, per_batch: usize) {
    let mut rng = rng::stream(42, Stream::Trainset);
    for name in cifar::BATCH_FILES.iter() {
        let labels: Vec<u8> = (0..per_batch).map(|_| rng.random_range(0..10u8)).collect();
        let pixels: Vec<u8> = (0..per_batch * 3072).map(|_| rng.random()).collect();
        std::fs::write(dir.join(name), cifar::encode(&pixels, &labels)).unwrap();
    }
}

#[test]
fn mnas_trains_to_zero_loss_on_generated_cifar_files() {
    let root = crate::util::temp_dir();
    let data = root.path().join("cifar-10-batches-bin");
    std::fs::create_dir(&data).unwrap();
    write_random_cifar_set(&data, 20);
    let spec = RunConfig {
        arch: Some(sgdnoise_core::settings::Arch::Mnas),
        width: Some(2),
        dataset: Some(sgdnoise_core::settings::DatasetName::CifarAnimal),
        ptr: Some(24),
        pte: Some(40),
        batch: Some(8),
        temp: Some(0.01),
        alpha: Some(32768.0),
        max_steps: Some(200_000),
        data_dir: Some(root.path().to_path_buf()),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    // Twenty records per batch file are not the canonical CIFAR-10 (10,000 per file): the run is
    // named after these files (issue 15, item 7) and refused under the canonical data's name.
    assert!(sgdnoise_core::run::execute(&spec, None, &mut |_| true).is_err());
    let spec = sgdnoise_core::data::bind(&spec).unwrap();
    assert!(spec.data_digest.is_some());
    let out = root.path().join("run");
    let summary = sgdnoise_core::run::execute(&spec, Some(&out), &mut |_| true).unwrap();
    assert_eq!(
        summary.stop_reason,
        sgdnoise_core::train::StopReason::ZeroLoss,
        "{} steps",
        summary.steps
    );
    assert_eq!(summary.train_err, 0.0);
    assert!(summary.rel_weight_change > 0.0);
    assert!(sgdnoise_core::rundir::is_finished(&out));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(
        config["num_params"],
        sgdnoise_core::model::param_count(&spec)
    );
    assert_eq!(config["data"]["set"], "cifar10");
    assert_eq!(config["data"]["canonical"], false);
    assert_eq!(config["data"]["files"].as_array().unwrap().len(), 6);
    assert_eq!(config["data"]["files"][5]["bytes"], 20 * 3073);
}
