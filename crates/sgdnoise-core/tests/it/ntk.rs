//! The NTK observables (`ntk_points`, SPEC §11) and the binary arrays of a finished run
//! (`rundir::arrays`, SPEC §10), end to end through `run::execute` on synthetic data.

use sgdnoise_core::model::{self, Model, Target};
use sgdnoise_core::ntk::Ntk;
use sgdnoise_core::rundir::{self, arrays, Summary};
use sgdnoise_core::settings::{Arch, RunConfig};

fn mlp(ntk: usize) -> RunConfig {
    RunConfig {
        arch: Some(Arch::Mlp),
        depth: Some(2),
        width: Some(16),
        dataset: Some(sgdnoise_core::settings::DatasetName::DepletedSign),
        dim: Some(12),
        ptr: Some(64),
        pte: Some(128),
        batch: Some(8),
        alpha: Some(64.0),
        temp: Some(0.05),
        ntk_points: Some(ntk),
        ..Default::default()
    }
}

fn run(c: &RunConfig, out: Option<&std::path::Path>) -> Summary {
    sgdnoise_core::run::execute(&c.resolve().unwrap(), out, &mut |_| true).unwrap()
}

/// The summary as JSON without what measures time or is the NTK itself.
fn without_ntk_and_time(s: &Summary) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap();
    let o = v.as_object_mut().unwrap();
    for key in [
        "wall_seconds",
        "check_seconds",
        "checkpoint_seconds",
        "ntk",
        "ntk_seconds",
        "ntk_kernels",
        "id",
    ] {
        o.remove(key);
    }
    o["config"].as_object_mut().unwrap().remove("ntk_points");
    let last = o["last"].as_object_mut().unwrap();
    last.remove("wall");
    last.remove("ntk");
    v
}

#[test]
fn ntk_observables_leave_training_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let (off, on) = (dir.path().join("off"), dir.path().join("on"));
    let a = run(&mlp(0), Some(&off));
    let b = run(&mlp(24), Some(&on));
    assert!(a.ntk.is_none() && a.ntk_kernels == 0);
    assert_eq!(without_ntk_and_time(&a), without_ntk_and_time(&b));
    let (ra, rb) = (
        rundir::read_checkpoints(&off).unwrap(),
        rundir::read_checkpoints(&on).unwrap(),
    );
    assert_eq!(ra.len(), rb.len());
    for (x, y) in ra.iter().zip(&rb) {
        assert_eq!(
            (x.step, &x.train, &x.test, x.rel_weight_change),
            (y.step, &y.train, &y.test, y.rel_weight_change)
        );
        assert!(x.ntk.is_none() && y.ntk.is_some());
    }
    // K0 and one kernel per record; the first record is at initialisation.
    assert_eq!(b.ntk_kernels, rb.len() as u64 + 1);
    assert_eq!(rb[0].ntk.as_ref().unwrap().rel_change, 0.0);
    let end = b.ntk.as_ref().unwrap();
    assert!(
        end.rel_change > 0.0 && end.rel_change.is_finite(),
        "{end:?}"
    );
    assert_eq!(Some(end), rb.last().unwrap().ntk.as_ref());
    // Off by default: the identity of every run without the setting is unchanged.
    assert_eq!(
        mlp(0).resolve().unwrap().identity(),
        RunConfig {
            ntk_points: None,
            ..mlp(0)
        }
        .resolve()
        .unwrap()
        .identity()
    );
    assert_ne!(a.id, b.id, "a run with NTK records is another run");
}

#[test]
fn the_perceptrons_kernel_is_x_xt_over_d_constant_and_singular_beyond_d() {
    let d = 6;
    let c = RunConfig {
        dim: Some(d),
        ptr: Some(32),
        pte: Some(16),
        batch: Some(2),
        temp: Some(1.0),
        ..Default::default()
    };
    let spec = c.resolve().unwrap();
    let data = sgdnoise_core::data::load::<f64>(&spec).unwrap();
    let mut m = model::build::<f64>(&spec);
    let n = 4;
    let ntk = Ntk::new(m.as_mut(), &data.train.x, &data.train.y, n, 1);
    let k = ntk.kernel(m.as_mut());
    for i in 0..n {
        for j in 0..n {
            let want: f64 = (0..d)
                .map(|c| data.train.row(i)[c] * data.train.row(j)[c])
                .sum::<f64>()
                / d as f64;
            assert!((k[i * n + j] - want).abs() < 1e-12 * want.abs().max(1.0));
        }
    }
    let s = ntk.measure(m.as_mut());
    assert!(s.y_kinv_y.is_finite() && s.y_kinv_y > 0.0, "{s:?}");
    // A linear model's kernel does not depend on the weights; with more points than
    // dimensions it is singular and (y/n)ᵀ K⁻¹ (y/n) does not exist.
    let end = run(
        &RunConfig {
            ntk_points: Some(8),
            ..c
        },
        None,
    );
    let ntk = end.ntk.unwrap();
    assert_eq!((ntk.rel_change, ntk.kernel_change), (0.0, 0.0));
    assert!(ntk.y_kinv_y.is_nan());
}

/// Central differences of f(w, x) for one point against its row of J, for the mlp and mnas.
#[test]
fn output_gradient_rows_match_finite_differences_for_mlp_and_mnas() {
    let mnas_spec = RunConfig {
        arch: Some(Arch::Mnas),
        width: Some(1),
        dataset: Some(sgdnoise_core::settings::DatasetName::MnistParity),
        batch: Some(2),
        temp: Some(1.0),
        dtype: Some(sgdnoise_core::settings::Dtype::F64),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let mlp_spec = RunConfig {
        dtype: Some(sgdnoise_core::settings::Dtype::F64),
        ..mlp(0)
    }
    .resolve()
    .unwrap();
    for spec in [mlp_spec, mnas_spec] {
        let mut m = model::build::<f64>(&spec);
        let d = m.input_dim();
        let p = m.params().len();
        let x: Vec<f64> = (0..2 * d).map(|i| ((i as f64) * 0.37).sin()).collect();
        let mut jac = vec![0.0; 2 * p];
        m.output_gradients(&x, 2, &mut jac);
        // The rows are the gradients of each point alone (and Target::Gradient agrees).
        let mut out = [0.0];
        m.forward(&x[d..], 1, &mut out);
        let mut g = vec![0.0; p];
        m.backward(&x[d..], &[1.0], Target::Gradient(&mut g));
        assert_eq!(&jac[p..], &g[..], "{:?}", spec.arch);
        let f = |m: &mut Box<dyn Model<f64>>, i: usize| {
            let mut o = [0.0];
            m.predict(&x[i * d..(i + 1) * d], 1, &mut o);
            o[0]
        };
        let h = 1e-6;
        for c in (0..p).step_by((p / 17).max(1)) {
            for i in 0..2 {
                let w = m.params()[c];
                m.params_mut()[c] = w + h;
                let up = f(&mut m, i);
                m.params_mut()[c] = w - h;
                let down = f(&mut m, i);
                m.params_mut()[c] = w;
                let fd = (up - down) / (2.0 * h);
                let got = jac[i * p + c];
                assert!(
                    (fd - got).abs() < 1e-6 * (1.0 + fd.abs()),
                    "{:?} param {c} point {i}: {got} vs {fd}",
                    spec.arch
                );
            }
        }
    }
}

#[test]
fn ntk_points_beyond_the_training_set_or_the_bound_are_refused_naming_the_setting() {
    for n in [65, 1 << 20] {
        let e = mlp(n).resolve().unwrap_err().to_string();
        assert!(e.contains("ntk_points"), "{e}");
    }
}

#[test]
fn the_ntk_jacobian_enters_the_memory_estimate() {
    let spec = RunConfig {
        arch: Some(Arch::Mlp),
        ptr: Some(4096),
        temp: Some(1.0),
        ntk_points: Some(1024),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let e = sgdnoise_core::memory::estimate(&spec);
    let j = e.parts.iter().find(|p| p.what == "NTK Jacobian").unwrap();
    assert_eq!(j.bytes, 1024 * 166_016 * 4);
    let k = e.parts.iter().find(|p| p.what == "NTK kernels").unwrap();
    assert!(k.bytes >= 3 * 1024 * 1024 * 8);
    let off = sgdnoise_core::memory::estimate(
        &RunConfig {
            ntk_points: None,
            ..spec.to_config()
        }
        .resolve()
        .unwrap(),
    );
    assert_eq!(e.total() - off.total(), j.bytes + k.bytes);
    // A subset too large for the memory is refused before anything is allocated.
    let huge = RunConfig {
        ptr: Some(65536),
        ntk_points: Some(65536),
        max_memory: Some(sgdnoise_core::settings::Bytes(8 << 30)),
        ..spec.to_config()
    }
    .resolve()
    .unwrap();
    let err = sgdnoise_core::memory::check(&huge).unwrap_err().to_string();
    assert!(err.contains("ntk_points"), "{err}");
}

#[test]
fn a_finished_run_holds_its_test_predictions_labels_and_optionally_its_params() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, kept) = (dir.path().join("plain"), dir.path().join("kept"));
    let s = run(&mlp(0), Some(&plain));
    assert!(!plain.join(arrays::PARAMS_FILE).exists());
    let (dtype, pred) = arrays::read(&plain.join(arrays::PREDICTIONS_FILE)).unwrap();
    let (_, y) = arrays::read(&plain.join(arrays::LABELS_FILE)).unwrap();
    assert_eq!(dtype, arrays::Dtype::F32);
    assert_eq!(pred.len(), 128);
    // The saved predictions give the summary's test error exactly.
    let err = pred
        .iter()
        .zip(&y)
        .filter(|(p, y)| (**p * **y).is_nan() || **p * **y <= 0.0)
        .count() as f64
        / 128.0;
    assert_eq!(err, s.test_err);
    // save_params is how a run is kept, not what it is: the same identity.
    let c = RunConfig {
        save_params: Some(true),
        ..mlp(0)
    };
    let k = run(&c, Some(&kept));
    assert_eq!(k.id, s.id);
    let (_, w) = arrays::read(&kept.join(arrays::PARAMS_FILE)).unwrap();
    let spec = c.resolve().unwrap();
    assert_eq!(w.len(), model::param_count(&spec));
    assert_eq!(
        std::fs::read(kept.join(arrays::PREDICTIONS_FILE)).unwrap(),
        std::fs::read(plain.join(arrays::PREDICTIONS_FILE)).unwrap()
    );
}

#[test]
fn the_arrays_of_a_finished_run_are_never_rewritten() {
    let dir = tempfile::tempdir().unwrap();
    let spec = mlp(0).resolve().unwrap();
    let w = rundir::RunWriter::create(dir.path(), &rundir::ConfigRecord::new(&spec, None)).unwrap();
    w.write_arrays(&[(arrays::PREDICTIONS_FILE, vec![1])])
        .unwrap();
    std::fs::write(dir.path().join(rundir::SUMMARY_FILE), "{\"id\": \"x\"}").unwrap();
    let e = w
        .write_arrays(&[(arrays::PREDICTIONS_FILE, vec![2])])
        .unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::AlreadyExists);
    assert_eq!(
        std::fs::read(dir.path().join(arrays::PREDICTIONS_FILE)).unwrap(),
        vec![1]
    );
}
