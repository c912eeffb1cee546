"""The sgdnoise Python package against the command line, on tiny perceptron stores.

Needs the package installed (``pip install "./crates/sgdnoise-py[test]"``) and the command line
built with Parquet (``cargo build --release -p sgdnoise-cli --features parquet``), found at
``$SGDNOISE_BIN`` or ``target/release/sgdnoise``; ``scripts/test.sh`` does both. A missing
binary fails the tests that need it, saying how to build it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sgdnoise

ROOT = Path(__file__).resolve().parents[3]

# A perceptron of a few milliseconds.
TINY = dict(dim=8, pte=256, batch=2)
TIMING = {"wall_seconds", "check_seconds", "checkpoint_seconds"}


def cli_bin() -> str:
    exe = os.environ.get("SGDNOISE_BIN") or str(ROOT / "target" / "release" / "sgdnoise")
    if not os.access(exe, os.X_OK):
        pytest.fail(
            f"{exe}: no sgdnoise binary; build it with "
            "`cargo build --release -p sgdnoise-cli --features parquet` or set SGDNOISE_BIN"
        )
    return exe


def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess:
    p = subprocess.run([cli_bin(), *args], capture_output=True, text=True)
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    return p


def without_timing(summary: dict) -> dict:
    s = {k: v for k, v in summary.items() if k not in TIMING}
    s["last"] = {k: v for k, v in s["last"].items() if k != "wall"}
    return s


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    """12 runs made by the command line (2 P x 3 T x 2 seeds), the 4 at T = 1e10 diverged.

    The hinge perceptron is scale-invariant above T = 1/alpha and never diverges within the
    bounds of T; the square loss at T = 1e10 does, within a few steps."""
    d = tmp_path_factory.mktemp("store")
    sweep = d / "tiny.toml"
    sweep.write_text(
        "[fixed]\ndim = 8\nbatch = 2\npte = 256\n"
        "[axes]\nptr = [32, 64]\ntemp = [0.0625, 1.0]\nseed_init = [0, 1]\n"
    )
    cli("sweep", "run", str(sweep), "--out", str(d / "store"), "--quiet")
    diverging = d / "diverging.toml"
    diverging.write_text(
        "[fixed]\ndim = 8\nbatch = 2\npte = 256\nloss = \"mse\"\ntemp = 1e10\nmax_steps = 10000\n"
        "[axes]\nptr = [32, 64]\nseed_init = [0, 1]\n"
    )
    cli("sweep", "run", str(diverging), "--out", str(d / "store"), "--quiet")
    return d / "store"


def test_run_gives_the_summary_of_the_command_line_bit_for_bit(tmp_path):
    args = dict(TINY, ptr=64, temp=0.25, seed_init=3)
    cli(
        "run", "--dim", "8", "--pte", "256", "--batch", "2", "--ptr", "64", "--temp", "0.25",
        "--seed-init", "3", "--quiet", "--out", str(tmp_path / "cli"),
    )
    summary = sgdnoise.run(out=tmp_path / "py", **args)
    in_memory = sgdnoise.run(**args)
    from_cli = json.loads((tmp_path / "cli" / "summary.json").read_text())
    from_py = json.loads((tmp_path / "py" / "summary.json").read_text())
    assert summary == from_py, "run() returns what summary.json holds"
    assert without_timing(from_py) == without_timing(from_cli)
    assert without_timing(in_memory) == without_timing(from_cli)
    # Floats compare bit for bit (json gives the exact doubles back).
    for k in ("t_star", "test_err", "rel_weight_change", "signal", "noise", "lr"):
        assert from_py[k].hex() == from_cli[k].hex(), k
    records = lambda p: [  # noqa: E731
        {k: v for k, v in json.loads(l).items() if k != "wall"}
        for l in (p / "checkpoints.jsonl").read_text().splitlines()
    ]
    assert records(tmp_path / "py") == records(tmp_path / "cli")


def test_run_reads_a_config_file_under_the_keyword_settings_as_the_cli_does(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text("dim = 8\nptr = 128\npte = 256\nbatch = 2\nlr = 0.5\n")
    p = cli("run", "--config", str(cfg), "--ptr", "32", "--temp", "0.25", "--json", "--quiet",
            "--out", str(tmp_path / "cli"))
    from_cli = json.loads(p.stdout)
    s = sgdnoise.run(config=cfg, ptr=32, temp=0.25)
    assert s["id"] == from_cli["id"] and s["ptr"] == 32 and s["temp"] == 0.25
    assert s["config"] == from_cli["config"] and s["config"]["lr"] is None, "temp replaced lr"
    with pytest.raises(ValueError, match="config file .*missing.toml"):
        sgdnoise.run(config=tmp_path / "missing.toml", temp=1.0)


def test_run_with_checkpoints_returns_the_records_as_a_long_table(tmp_path):
    summary, ck = sgdnoise.run(checkpoints=True, out=tmp_path / "r", ptr=64, temp=0.5, **TINY)
    lines = (tmp_path / "r" / "checkpoints.jsonl").read_text().splitlines()
    assert len(ck) == len(lines)
    assert (ck["id"] == summary["id"]).all()
    assert (ck["ptr"] == 64).all() and ck["ptr"].dtype == np.int64
    assert ck["step"].is_monotonic_increasing
    first = json.loads(lines[0])
    assert ck["test_err"].iloc[0] == first["test"]["err"]
    assert ck["signal"].iloc[-1] == summary["signal"]
    # Without a folder the records pass through a temporary one, left nowhere.
    _, ck2 = sgdnoise.run(checkpoints=True, ptr=64, temp=0.5, **TINY)
    assert len(ck2) == len(ck)


@pytest.mark.parametrize(
    "settings, flags",
    [
        (dict(ptr=64), []),  # no temperature
        (dict(ptr=64, temp=1.0, act="relu"), ["--temp", "1", "--act", "relu"]),
        (dict(ptr=64, temp=1.0, lr=2.0), None),  # both: the CLI refuses it in clap already
        (dict(ptr=64, temp=-1.0), ["--temp", "-1"]),
        (dict(ptr=8, batch=16, temp=1.0), ["--ptr", "8", "--batch", "16", "--temp", "1"]),
        (dict(ptr=-3, temp=1.0), ["--ptr", "-3", "--temp", "1"]),
    ],
)
def test_bad_settings_raise_value_error_with_the_command_lines_message(settings, flags, tmp_path):
    with pytest.raises(ValueError) as err:
        sgdnoise.run(dim=8, **settings)
    if flags is not None:
        p = cli("run", "--dim", "8", *flags, "--out", str(tmp_path / "r"), code=2)
        assert str(err.value) in p.stderr, (str(err.value), p.stderr)


def test_unknown_setting_names_it_and_lists_the_settings():
    with pytest.raises(ValueError, match="unknown setting `input_dim`; expected one of: arch"):
        sgdnoise.run(input_dim=8, temp=1.0)
    with pytest.raises(TypeError, match="setting `ptr`"):
        sgdnoise.run(ptr=[64], temp=1.0)
    assert "ptr" in sgdnoise.SETTINGS and "default: 1024" in sgdnoise.SETTINGS["ptr"]


def test_run_in_a_store_is_a_resumable_sweep_that_collect_reads(tmp_path):
    st = tmp_path / "s"
    first = [sgdnoise.run(store=st, ptr=p, temp=0.5, **TINY) for p in (32, 64)]
    again = [sgdnoise.run(store=st, ptr=p, temp=0.5, **TINY) for p in (32, 64)]
    assert first == again, "a finished run is read back, not run again"
    runs = sgdnoise.load_runs(st)
    assert sorted(runs["id"]) == sorted(s["id"] for s in first)
    with pytest.raises(ValueError, match="not both"):
        sgdnoise.run(store=st, out=tmp_path / "o", ptr=32, temp=0.5, **TINY)


def test_load_runs_equals_the_table_of_collect(store, tmp_path):
    runs = sgdnoise.load_runs(store)
    out = tmp_path / "runs.csv"
    cli("collect", str(store), "--output", str(out))
    csv = pd.read_csv(out)
    assert list(runs.columns) == list(csv.columns)
    assert len(runs) == len(csv) == 12
    for c in runs.columns:
        a, b = runs[c], csv[c]
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            np.testing.assert_array_equal(
                a.astype("float64").to_numpy(), b.astype("float64").to_numpy(), err_msg=c
            )
        else:
            assert a.isna().tolist() == b.isna().tolist(), c
            assert [str(x) for x in a.dropna()] == [str(x) for x in b.dropna()], c


def test_load_runs_has_typed_setting_columns_and_nan_for_diverged_runs(store):
    runs = sgdnoise.load_runs(store)
    # Every result setting is a column; execution settings (threads, data_dir, max_memory,
    # save_params: the table's own role flag) are not.
    results = [name for name, _doc, result in sgdnoise._sgdnoise.settings() if result]
    assert "threads" not in results and "save_params" not in results and "ptr" in results
    for c in results:
        assert c in runs.columns, c
    assert "input_dim" not in runs.columns
    assert runs["ptr"].dtype == np.int64 and runs["dim"].dtype == np.int64
    assert runs["temp"].dtype == np.float64 and runs["seed_init"].dtype == np.int64
    assert runs["diverged"].dtype == bool
    assert str(runs["depth"].dtype) == "Int64" and runs["depth"].isna().all()
    assert (runs["given"] == "temp").all()
    div = runs[runs["temp"] == 1e10]
    assert len(div) == 4 and div["diverged"].all()
    assert (div["stop_reason"] == "diverged").all()
    assert div["test_err"].isna().all() and div["rel_weight_change"].isna().all()
    assert (div["steps"] >= 1).all(), "when it diverged stays known"
    ok = runs[~runs["diverged"]]
    assert ok["test_err"].notna().all() and ok["test_err"].max() < 0.5
    # The stored summary of a diverged run does hold a finite test error: that is what the
    # table must not let into a mean.
    raw = json.loads((store / "runs" / div["id"].iloc[0] / "summary.json").read_text())
    assert math.isfinite(raw["test_err"])
    assert len(sgdnoise.load_runs(store, ptr=32, temp=[0.0625, 1.0])) == 4
    assert len(sgdnoise.load_runs(store, diverged=False, seed_init=np.int64(1))) == 4


def test_load_checkpoints_is_the_long_format_of_collect_checkpoints(store, tmp_path):
    ck = sgdnoise.load_checkpoints(store)
    out = tmp_path / "ck.csv"
    cli("collect", str(store), "--output", str(out), "--checkpoints")
    csv = pd.read_csv(out)
    assert list(ck.columns) == list(csv.columns)
    assert len(ck) == len(csv)
    for c in ("step", "t", "test_err", "signal", "layer_w_rel_change"):
        np.testing.assert_array_equal(ck[c].astype(float), csv[c].astype(float), err_msg=c)
    n_lines = sum(
        len((d / "checkpoints.jsonl").read_text().splitlines()) for d in (store / "runs").iterdir()
    )
    assert len(ck) == n_lines
    one = sgdnoise.load_checkpoints(store, ptr=64, temp=1.0, seed_init=0)
    assert one["id"].nunique() == 1 and len(one) > 2
    assert one["step"].is_monotonic_increasing


def test_bad_filters_and_folders_raise_with_the_file_or_column_named(store, tmp_path):
    with pytest.raises(ValueError, match="unknown column `input_dim`"):
        sgdnoise.load_checkpoints(store, input_dim=8)
    with pytest.raises(ValueError, match="cannot select `ptr`"):
        sgdnoise.load_runs(store, ptr="many")
    with pytest.raises(FileNotFoundError, match="not a run store"):
        sgdnoise.load_runs(tmp_path)
    with pytest.raises(FileNotFoundError, match="fits.csv"):
        sgdnoise.load_fits(tmp_path)


def test_parquet_of_collect_round_trips_through_pyarrow_with_its_types(store, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="pip install pyarrow")
    import pyarrow as pa

    out = tmp_path / "runs.parquet"
    cli("collect", str(store), "--output", str(out))
    t = pq.read_table(out)
    types = {f.name: f.type for f in t.schema}
    assert types["id"] == pa.string() and types["arch"] == pa.string()
    assert types["ptr"] == pa.int64() and types["seed_init"] == pa.int64()
    assert types["temp"] == pa.float64() and types["test_err"] == pa.float64()
    assert types["diverged"] == pa.bool_() and types["steps"] == pa.int64()
    runs = sgdnoise.load_runs(store)
    back = t.to_pandas()
    assert list(back.columns) == list(runs.columns)
    for c in ("ptr", "temp", "test_err", "steps", "t_star"):
        np.testing.assert_array_equal(back[c].astype(float), runs[c].astype(float), err_msg=c)
    assert back["diverged"].tolist() == runs["diverged"].tolist()
    assert t.column("test_err").null_count == 4, "diverged runs' test errors are nulls"

    ck = tmp_path / "ck.parquet"
    cli("collect", str(store), "--output", str(ck), "--checkpoints")
    assert pq.read_table(ck).num_rows == len(sgdnoise.load_checkpoints(store))


def test_load_fits_reads_every_column_with_numbers_as_numbers(tmp_path):
    (tmp_path / "fits.csv").write_text(
        "figure,quantity,against,condition,value,ci_low,ci_high,theory,method,"
        "n_points,n_seeds,n_left_out,left_out_why,n_seeds_min,chi,ptr,temp_min,tc_method\n"
        'snr,signal_to_noise,P,"chi=1",0.481,0.454,0.527,0.5,bootstrap,7,5,0,,2,1,,0.0005,\n'
        'tc,T_c,P,"P=128, method (a)",0.289,0.259,0.322,,bootstrap,7,5,1,1 diverged,,,128,T_c(P),(a)\n'
    )
    fits = sgdnoise.load_fits(tmp_path)
    assert list(fits.columns)[:3] == ["figure", "quantity", "against"]
    assert fits["value"].dtype == np.float64 and fits["n_points"].dtype == np.int64
    # The fewest seeds at a point: an integer, <NA> where not known.
    assert str(fits["n_seeds_min"].dtype) == "Int64" and fits["n_seeds_min"].iloc[0] == 2
    assert fits["n_seeds_min"].isna().iloc[1]
    # chi is a float setting, ptr an integer one (nullable where a row has none).
    assert fits["chi"].dtype == np.float64 and math.isnan(fits["chi"].iloc[1])
    assert str(fits["ptr"].dtype) == "Int64" and fits["ptr"].iloc[1] == 128
    assert fits["ptr"].isna().iloc[0]
    # temp_min is a number in one row and a text in the other: text.
    assert fits["temp_min"].tolist() == ["0.0005", "T_c(P)"]
    assert pd.isna(fits["tc_method"].iloc[0]) and fits["tc_method"].iloc[1] == "(a)"
    assert math.isnan(fits["theory"].iloc[1])
    assert len(sgdnoise.load_fits(tmp_path / "fits.csv")) == 2
    (tmp_path / "bad.csv").write_text("figure,value\nsnr,high\n")
    with pytest.raises(ValueError, match="column `value`: 'high' is not a number"):
        sgdnoise.load_fits(tmp_path / "bad.csv")


def test_fits_and_figure_csvs_of_an_analysis_have_typed_condition_columns(tmp_path):
    """fits.csv and the figure CSVs of `sgdnoise analyze` key everything by setting columns
    holding numbers (issue 12): no "P=128" strings, no 1.28e2, no "2^-10" to parse."""
    sweep = tmp_path / "small.toml"
    sweep.write_text(
        "[fixed]\ndim = 8\nbatch = 2\npte = 256\nalpha = 32768\n"
        "[axes]\nchi = [1.0, 3.0]\nptr = [64, 128, 256]\ntemp = [0.0009765625, 1.0]\n"
        "seed_init = [0, 1]\n"
    )
    cli("sweep", "run", str(sweep), "--out", str(tmp_path / "store"), "--quiet")
    out = tmp_path / "analysis"
    cli("analyze", str(tmp_path / "store"), "--out", str(out), "--resamples", "50")
    fits = sgdnoise.load_fits(out)
    for c in ("chi", "temp", "alpha", "temp_min"):
        assert fits[c].dtype == np.float64, (c, fits[c].dtype)
    assert str(fits["dim"].dtype) in ("int64", "Int64")
    snr = fits[(fits.quantity == "signal_to_noise") & (fits.chi == 1.0) & (fits.temp == 1.0)]
    assert len(snr) == 1 and snr["dim"].iloc[0] == 8 and snr["alpha"].iloc[0] == 32768
    assert snr["condition"].iloc[0] == "chi=1, T=1, d=8, alpha=32768"
    joint = fits[fits.quantity == "rel_weight_change (delta)"]
    assert len(joint) == 2 and (joint["temp_min"] == 16 / 32768).all()
    # A figure's CSV: one tidy long table, the curve key a number column, x named as its setting.
    fig = pd.read_csv(out / "perceptron_snr_vs_P.csv")
    assert list(fig.columns[:3]) == ["series", "ptr", "chi"]
    assert fig["ptr"].dtype == np.int64 and sorted(set(fig["ptr"])) == [64, 128, 256]
    assert fig["chi"].dtype == np.float64 and sorted(set(fig["chi"])) == [1.0, 3.0]
    for c in ("y", "y_lo", "y_hi"):
        assert fig[c].dtype == np.float64
    for c in ("n_seeds", "n_runs", "n_diverged", "n_capped"):
        assert fig[c].dtype == np.int64
    rwc = pd.read_csv(out / "perceptron_rwc_vs_T_chi1.csv")
    assert list(rwc.columns[:3]) == ["series", "temp", "ptr"]
    assert set(rwc["temp"]) == {0.0009765625, 1.0}, "T written exactly, as a plain number"
    text = (out / "perceptron_rwc_vs_T_chi1.csv").read_text()
    assert "0.0009765625" in text and "2^-10" not in text and "e2," not in text


def test_load_checkpoints_reads_1e5_rows_in_seconds(tmp_path, capsys):
    """10^5 checkpoint rows (250 runs x 400 records, copies of one run) all read; the time is printed."""
    st = tmp_path / "big"
    s = sgdnoise.run(
        store=st, ptr=1024, temp=1.0, checkpoints_per_decade=100, loss_drop_factor=1.01, **TINY
    )
    src = st / "runs" / s["id"]
    n = len((src / "checkpoints.jsonl").read_text().splitlines())
    copies = math.ceil(100_000 / n)
    for i in range(1, copies):
        dst = st / "runs" / f"{s['id'][:10]}{i:06x}"
        dst.mkdir()
        shutil.copy(src / "config.json", dst / "config.json")
        shutil.copy(src / "checkpoints.jsonl", dst / "checkpoints.jsonl")
        summary = json.loads((src / "summary.json").read_text())
        summary["id"] = dst.name
        (dst / "summary.json").write_text(json.dumps(summary))
    t0 = time.perf_counter()
    ck = sgdnoise.load_checkpoints(st)
    seconds = time.perf_counter() - t0
    assert len(ck) == n * copies >= 100_000
    with capsys.disabled():
        print(f"\nload_checkpoints: {len(ck)} rows of {copies} runs in {seconds:.2f} s")
    # Speed is a measurement, not a test (the README has the measured figures): printed only.


@pytest.mark.parametrize("where", ["out", "store"])
def test_ctrl_c_raises_keyboard_interrupt_and_leaves_the_run_partial(where, tmp_path):
    target = tmp_path / where
    child = (
        "import signal, sys, sgdnoise\n"
        # A shell starts background jobs with SIGINT ignored; restore Python's own handler.
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "print('start', flush=True)\n"
        "try:\n"
        f"    sgdnoise.run({where}=sys.argv[1], dim=512, ptr=65536, pte=1024, batch=1,\n"
        "                 temp=2.0**-12, max_steps=30_000_000)\n"
        "    print('finished')\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted')\n"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", child, str(target)], stdout=subprocess.PIPE, text=True
    )
    assert p.stdout.readline().strip() == "start"
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    assert out.strip() == "interrupted"
    dirs = [target] if where == "out" else list((target / "runs").iterdir())
    assert len(dirs) == 1 and (dirs[0] / "config.json").exists()
    assert not (dirs[0] / "summary.json").exists(), "an interrupted run never looks finished"
    if where == "store":
        assert sgdnoise.load_runs(target).empty


def test_load_arrays_gives_the_predictions_whose_error_is_the_runs_test_err(tmp_path):
    out = tmp_path / "r"
    cli("run", "--ptr", "64", "--temp", "0.5", "--dim", "8", "--pte", "256", "--batch", "2",
        "--save-params", "--out", str(out), "--quiet")
    summary = json.loads((out / "summary.json").read_text())
    a = sgdnoise.load_arrays(out)
    assert set(a) == {"test_predictions", "test_labels", "params"}
    assert a["test_predictions"].dtype == np.float32 and len(a["test_predictions"]) == 256
    assert len(a["params"]) == 8
    err = float((a["test_predictions"] * a["test_labels"] <= 0).mean())
    assert err == summary["test_err"]
    # A truncated file is refused, naming it.
    p = out / "test_labels.bin"
    p.write_bytes(p.read_bytes()[:-3])
    with pytest.raises(ValueError, match="test_labels.bin.*truncated"):
        sgdnoise.load_arrays(out)
    with pytest.raises(FileNotFoundError, match="no test_predictions.bin"):
        sgdnoise.load_arrays(tmp_path)
