//! The tidy tables of a store: column names equal to the setting names, typed columns, diverged
//! runs' observables missing, the long checkpoint format, selection, CSV and Parquet.

use crate::util::{small_plan, temp_store, TempStore};
use sgdnoise_campaign::table::{
    self, Filter, Kind, Table, TableError, Values, Wanted, RECORD_COLUMNS,
};
use sgdnoise_campaign::{run_local, LocalOptions};
use sgdnoise_core::rundir::{self, Summary};
use sgdnoise_core::settings::{Role, SETTINGS};
use sgdnoise_core::train::StopReason;

/// The 12 runs of `small_plan` in a fresh store.
fn small_store(name: &str) -> TempStore {
    let store = temp_store(name);
    run_local(&small_plan(), &store, &LocalOptions::default(), &mut |_| {}).unwrap();
    store
}

fn floats<'a>(t: &'a Table, name: &str) -> &'a [Option<f64>] {
    match &t
        .column(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .values
    {
        Values::Float(v) => v,
        other => panic!("{name} is {:?}", other.kind()),
    }
}
fn ints<'a>(t: &'a Table, name: &str) -> &'a [Option<i64>] {
    match &t
        .column(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .values
    {
        Values::Int(v) => v,
        other => panic!("{name} is {:?}", other.kind()),
    }
}
fn strs<'a>(t: &'a Table, name: &str) -> &'a [Option<String>] {
    match &t
        .column(name)
        .unwrap_or_else(|| panic!("no column {name}"))
        .values
    {
        Values::Str(v) => v,
        other => panic!("{name} is {:?}", other.kind()),
    }
}

#[test]
fn runs_table_columns_are_the_setting_names_with_their_types() {
    let store = small_store("table-names");
    let t = Table::runs(&store.collect().unwrap()).unwrap();
    assert_eq!(t.len(), 12);
    let names = t.names();
    let settings: Vec<&str> = SETTINGS
        .iter()
        .filter(|s| s.role == Role::Result)
        .map(|s| s.name)
        .collect();
    assert_eq!(names[0], "id");
    assert_eq!(&names[1..=settings.len()], settings.as_slice());
    assert!(!names.iter().any(|n| n == "threads" || n == "data_dir"));
    assert!(!names.iter().any(|n| n == "input_dim"), "{names:?}");
    let kind = |n: &str| t.column(n).unwrap().values.kind();
    for (n, k) in [
        ("ptr", Kind::Int),
        ("dim", Kind::Int),
        ("seed_init", Kind::Int),
        ("temp", Kind::Float),
        ("lr", Kind::Float),
        ("alpha", Kind::Float),
        ("arch", Kind::Str),
        ("given", Kind::Str),
        ("stop_reason", Kind::Str),
        ("diverged", Kind::Bool),
        ("steps", Kind::Int),
        ("test_err", Kind::Float),
        ("signal", Kind::Float),
    ] {
        assert_eq!(kind(n), k, "{n}");
    }
    // temp was given, lr derived (T = lr / B): both hold resolved values, `given` says which.
    for i in 0..t.len() {
        let (temp, lr) = (floats(&t, "temp")[i].unwrap(), floats(&t, "lr")[i].unwrap());
        assert_eq!(lr, 2.0 * temp);
        assert_eq!(strs(&t, "given")[i].as_deref(), Some("temp"));
        assert_eq!(ints(&t, "dim")[i], Some(8));
        // Settings that do not apply to the perceptron are missing, not a made-up value.
        assert_eq!(strs(&t, "act")[i], None);
        assert_eq!(ints(&t, "depth")[i], None);
    }
}

#[test]
fn given_column_says_lr_when_the_learning_rate_was_given() {
    let spec = sgdnoise_core::settings::RunConfig {
        ptr: Some(16),
        pte: Some(16),
        dim: Some(4),
        batch: Some(2),
        lr: Some(0.5),
        ..Default::default()
    }
    .resolve()
    .unwrap();
    let s = sgdnoise_core::run::execute(&spec, None, &mut |_| true).unwrap();
    let t = Table::runs(&[s]).unwrap();
    assert_eq!(strs(&t, "given")[0].as_deref(), Some("lr"));
    assert_eq!(floats(&t, "lr")[0], Some(0.5));
    assert_eq!(floats(&t, "temp")[0], Some(0.25));
}

#[test]
fn diverged_runs_keep_no_finite_observables_that_would_contaminate_a_mean() {
    let store = small_store("table-diverged");
    let mut summaries = store.collect().unwrap();
    // What a blown-up run can store: finite test errors next to a diverged stop.
    summaries[0].stop_reason = StopReason::Diverged;
    summaries[1].stop_reason = StopReason::Frozen;
    assert!(summaries[0].test_err.is_finite() && summaries[0].rel_weight_change.is_finite());
    let t = Table::runs(&summaries).unwrap();
    let diverged = match &t.column("diverged").unwrap().values {
        Values::Bool(v) => v.clone(),
        _ => unreachable!(),
    };
    assert_eq!(&diverged[..3], &[Some(true), Some(true), Some(false)]);
    for col in table::DIVERGED_MISSING {
        assert_eq!(floats(&t, col)[0], None, "{col} of a diverged run");
        assert_eq!(floats(&t, col)[1], None, "{col} of a frozen run");
        if !col.starts_with("signal") && *col != "noise" || summaries[2].signal.is_some() {
            assert!(floats(&t, col)[2].is_some(), "{col} of a finished run");
        }
    }
    // When it diverged stays known.
    assert_eq!(ints(&t, "steps")[0], Some(summaries[0].steps as i64));
    assert_eq!(strs(&t, "stop_reason")[0].as_deref(), Some("diverged"));
}

#[test]
fn huge_max_steps_is_an_error_naming_the_run_not_a_wrapped_number() {
    let store = small_store("table-huge");
    let mut summaries: Vec<Summary> = store.collect().unwrap();
    summaries[3].config.max_steps = Some(u64::MAX);
    let err = Table::runs(&summaries).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, TableError::Value { .. }), "{msg}");
    assert!(
        msg.contains(&summaries[3].id)
            && msg.contains("max_steps")
            && msg.contains("18446744073709551615"),
        "{msg}"
    );
}

#[test]
fn csv_has_empty_cells_for_missing_values_and_floats_that_read_back_exactly() {
    let store = small_store("table-csv");
    let mut summaries = store.collect().unwrap();
    summaries[0].stop_reason = StopReason::Diverged;
    let path = store.root().join("runs.csv");
    assert_eq!(table::write_csv(&summaries, &path).unwrap(), 12);
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let t = Table::runs(&summaries).unwrap();
    assert_eq!(header, t.names());
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(&rows[0][col("test_err")], "");
    assert_eq!(&rows[0][col("diverged")], "true");
    assert_eq!(&rows[1][col("diverged")], "false");
    assert_eq!(&rows[1][col("act")], "", "a setting that does not apply");
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[col("id")], summaries[i].id);
        assert_eq!(r[col("steps")], summaries[i].steps.to_string());
        let temp: f64 = r[col("temp")].parse().unwrap();
        assert_eq!(temp.to_bits(), summaries[i].temp.to_bits());
        if i > 0 {
            let e: f64 = r[col("test_err")].parse().unwrap();
            assert_eq!(e.to_bits(), summaries[i].test_err.to_bits());
        }
    }
}

#[test]
fn checkpoints_table_has_a_row_per_record_with_the_run_settings_on_each() {
    let store = small_store("table-ckpt");
    let t = table::load_checkpoints(store.root(), &[]).unwrap();
    let summaries = store.collect().unwrap();
    let mut expected = 0;
    for s in &summaries {
        expected += rundir::read_checkpoints(&store.run_dir(&s.id))
            .unwrap()
            .len();
    }
    assert_eq!(t.len(), expected);
    let names = t.names();
    for n in [
        "id",
        "ptr",
        "temp",
        "seed_init",
        "given",
        "stop_reason",
        "diverged",
    ] {
        assert!(names.iter().any(|c| c == n), "{n} missing: {names:?}");
    }
    for (n, _) in RECORD_COLUMNS {
        assert!(names.iter().any(|c| c == n), "{n} missing");
    }
    for n in [
        "signal",
        "noise",
        "mean_abs_x1_unfitted",
        "layer_w_norm2",
        "layer_w_rel_change",
    ] {
        assert!(names.iter().any(|c| c == n), "{n} missing: {names:?}");
    }
    // The first run's rows are its records, in order, with its settings.
    let first = &summaries[0];
    let recs = rundir::read_checkpoints(&store.run_dir(&first.id)).unwrap();
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(strs(&t, "id")[i].as_deref(), Some(first.id.as_str()));
        assert_eq!(ints(&t, "ptr")[i], Some(first.ptr as i64));
        assert_eq!(ints(&t, "step")[i], Some(r.step as i64));
        assert_eq!(floats(&t, "t")[i], Some(r.t));
        assert_eq!(floats(&t, "test_err")[i], Some(r.test.err));
        assert_eq!(ints(&t, "train_unfitted")[i], Some(r.train.unfitted as i64));
        let p = r.perceptron.as_ref().unwrap();
        assert_eq!(floats(&t, "signal")[i], Some(p.signal));
        assert_eq!(floats(&t, "layer_w_dist2")[i], Some(r.layers[0].dist2));
    }
    // The last record of a run that fitted every point has no unfitted points to average.
    assert_eq!(floats(&t, "mean_abs_x1_unfitted")[recs.len() - 1], None);
}

/// Guards the long format against a field added to the records: every scalar a checkpoint line
/// holds must have a column.
#[test]
fn every_field_of_a_checkpoint_record_has_a_column() {
    let store = small_store("table-fields");
    let t = table::load_checkpoints(store.root(), &[]).unwrap();
    let names = t.names();
    let s = &store.collect().unwrap()[0];
    let text =
        std::fs::read_to_string(store.run_dir(&s.id).join(rundir::CHECKPOINTS_FILE)).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let mut fields = Vec::new();
    for (k, v) in line.as_object().unwrap() {
        match (k.as_str(), v) {
            ("layers", serde_json::Value::Array(layers)) => {
                for l in layers {
                    let name = l["name"].as_str().unwrap();
                    for stat in l.as_object().unwrap().keys().filter(|k| *k != "name") {
                        fields.push(format!("layer_{name}_{stat}"));
                    }
                }
            }
            ("perceptron", serde_json::Value::Object(m)) => fields.extend(m.keys().cloned()),
            (set, serde_json::Value::Object(m)) => {
                fields.extend(m.keys().map(|f| format!("{set}_{f}")))
            }
            (k, _) => fields.push(k.to_string()),
        }
    }
    for f in fields {
        assert!(
            names.contains(&f),
            "record field {f} has no column: {names:?}"
        );
    }
}

#[test]
fn select_keeps_rows_by_number_text_list_and_missing() {
    let store = small_store("table-select");
    let f = |column: &str, any_of: Vec<Wanted>| Filter {
        column: column.into(),
        any_of,
    };
    let runs = table::load_runs(store.root(), &[f("ptr", vec![Wanted::Number(32.0)])]).unwrap();
    assert_eq!(runs.len(), 6);
    assert!(ints(&runs, "ptr").iter().all(|p| *p == Some(32)));
    let two = table::load_runs(
        store.root(),
        &[
            f("ptr", vec![Wanted::Number(64.0)]),
            f("seed_init", vec![Wanted::Number(0.0), Wanted::Number(2.0)]),
        ],
    )
    .unwrap();
    assert_eq!(two.len(), 4);
    let missing_act = table::load_runs(store.root(), &[f("act", vec![Wanted::Missing])]).unwrap();
    assert_eq!(missing_act.len(), 12);
    let by_id = strs(&runs, "id")[0].clone().unwrap();
    let ckpt = table::load_checkpoints(store.root(), &[f("id", vec![Wanted::Text(by_id.clone())])])
        .unwrap();
    assert!(ckpt.len() > 2);
    assert!(strs(&ckpt, "id")
        .iter()
        .all(|i| i.as_deref() == Some(by_id.as_str())));
    // A temperature derived from a learning rate matches within rounding.
    let t = floats(&runs, "temp")[0].unwrap();
    let near = table::load_runs(
        store.root(),
        &[f("temp", vec![Wanted::Number(t * (1.0 + 1e-15))])],
    )
    .unwrap();
    assert_eq!(near.len(), 6);
    let none = table::load_runs(store.root(), &[f("diverged", vec![Wanted::Bool(true)])]).unwrap();
    assert_eq!(none.len(), 0);
    assert_eq!(
        none.names(),
        runs.names(),
        "an empty table keeps its columns"
    );
}

#[test]
fn select_names_an_unknown_column_and_a_value_of_the_wrong_type() {
    let store = small_store("table-select-bad");
    let err = table::load_runs(
        store.root(),
        &[Filter {
            column: "input_dim".into(),
            any_of: vec![Wanted::Number(8.0)],
        }],
    )
    .unwrap_err()
    .to_string();
    assert!(err.starts_with("unknown column `input_dim`"), "{err}");
    assert!(err.contains("dim"), "{err}");
    let err = table::load_runs(
        store.root(),
        &[Filter {
            column: "ptr".into(),
            any_of: vec![Wanted::Text("many".into())],
        }],
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "cannot select `ptr` (a int column) by the text \"many\""
    );
}

#[test]
fn a_folder_without_runs_is_not_a_store() {
    let dir = tempfile::tempdir().unwrap();
    let err = table::load_runs(dir.path(), &[]).unwrap_err().to_string();
    assert!(
        err.ends_with(": not a run store (no runs/ folder)"),
        "{err}"
    );
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_reads_back_with_the_column_names_types_and_nulls() {
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let store = small_store("table-parquet");
    let mut summaries = store.collect().unwrap();
    summaries[0].stop_reason = StopReason::Diverged;
    let t = Table::runs(&summaries).unwrap();
    let path = store.root().join("runs.parquet");
    t.write_parquet(&path).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let schema = batches[0].schema();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    assert_eq!(names, t.names());
    use arrow_array::Array;
    use arrow_schema::DataType;
    for (n, ty) in [
        ("id", DataType::Utf8),
        ("ptr", DataType::Int64),
        ("temp", DataType::Float64),
        ("diverged", DataType::Boolean),
        ("steps", DataType::Int64),
        ("test_err", DataType::Float64),
    ] {
        assert_eq!(schema.field_with_name(n).unwrap().data_type(), &ty, "{n}");
    }
    let rows: usize = batches.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 12);
    let b = &batches[0];
    let test_err = b
        .column_by_name("test_err")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::Float64Array>()
        .unwrap();
    assert!(test_err.is_null(0), "a diverged run's test error is a null");
    assert_eq!(test_err.value(1).to_bits(), summaries[1].test_err.to_bits());
    let ptr = b
        .column_by_name("ptr")
        .unwrap()
        .as_any()
        .downcast_ref::<arrow_array::Int64Array>()
        .unwrap();
    assert_eq!(ptr.value(1), summaries[1].ptr as i64);
    let act = b.column_by_name("act").unwrap();
    assert_eq!(act.null_count(), 12, "act does not apply to the perceptron");

    // The long format too.
    let ck = table::load_checkpoints(store.root(), &[]).unwrap();
    let path = store.root().join("checkpoints.parquet");
    ck.write_parquet(&path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
        .unwrap()
        .build()
        .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, ck.len());
}

/// Runs with `ntk_points` have the NTK observables (a nested object in their records and
/// summary) as flat columns `ntk_rel_change`, ... in both tables; runs without have none.
#[test]
fn ntk_observables_are_columns_of_the_runs_and_checkpoints_tables() {
    let store = temp_store("table-ntk");
    let plan = sgdnoise_campaign::sweepfile::SweepFile::parse(
        "[fixed]\ndim = 8\nbatch = 2\nalpha = 32768\npte = 256\nptr = 32\nntk_points = 8\n\
         [axes]\ntemp = [0.0625, 1.0]\n",
        "ntk",
    )
    .unwrap()
    .expand()
    .unwrap()
    .plan;
    run_local(&plan, &store, &LocalOptions::default(), &mut |_| {}).unwrap();
    let summaries = store.collect().unwrap();
    let runs = Table::runs(&summaries).unwrap();
    for s in &summaries {
        let row = strs(&runs, "id")
            .iter()
            .position(|id| id.as_deref() == Some(s.id.as_str()))
            .unwrap();
        let ntk = s.ntk.as_ref().expect("an NTK run has its NTK at the stop");
        assert_eq!(floats(&runs, "ntk_rel_change")[row], Some(ntk.rel_change));
        assert_eq!(floats(&runs, "ntk_kernel_norm")[row], Some(ntk.kernel_norm));
    }
    let ck = table::load_checkpoints(store.root(), &[]).unwrap();
    for n in table::NTK_COLUMNS {
        assert!(ck.column(n).is_some(), "{n} missing: {:?}", ck.names());
    }
    // At initialisation K = K0: its relative change is exactly 0.
    assert_eq!(floats(&ck, "ntk_rel_change")[0], Some(0.0));
    let plain = small_store("table-no-ntk");
    let t = Table::runs(&plain.collect().unwrap()).unwrap();
    assert!(t.column("ntk_rel_change").is_none());
}
