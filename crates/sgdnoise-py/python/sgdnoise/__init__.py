"""sgdnoise from Python: train runs, and read run stores and fits as pandas DataFrames.

The heavy work happens in Rust (the extension module ``sgdnoise._sgdnoise``, the same code as
the ``sgdnoise`` command line): settings are resolved by the same table, with the same names
and the same error messages; summaries and checkpoints are read and tabulated in Rust and handed
over as whole columns.

>>> import sgdnoise
>>> s = sgdnoise.run(dim=8, ptr=64, pte=256, batch=2, temp=0.25)   # doctest: +SKIP
>>> runs = sgdnoise.load_runs("store/p")                            # doctest: +SKIP
>>> ck = sgdnoise.load_checkpoints("store/p", ptr=1024, temp=[0.5, 1.0])  # doctest: +SKIP

Columns are named as the settings (``ptr``, ``dim``, ``seed_init``, ... as in
``sgdnoise run --help``; :data:`SETTINGS` lists them). Missing values (a setting that does not
apply, the observables of a diverged run) are NaN, or ``<NA>`` in integer and boolean columns
(pandas' nullable ``Int64`` and ``boolean``, used only where a value is missing).
"""

from __future__ import annotations

import json
import numbers
import os
from pathlib import Path
from typing import Any, Dict, List, Literal, Tuple, Union, overload

import numpy as np
import pandas as pd

from . import _sgdnoise

__all__ = [
    "run",
    "load_runs",
    "load_checkpoints",
    "load_fits",
    "load_arrays",
    "SETTINGS",
    "__version__",
]

__version__: str = _sgdnoise.__version__

#: Every run setting, name -> help line (doc, unit, default, where it applies), in the order of
#: the settings table; the keyword arguments of :func:`run` and the setting columns of the tables.
SETTINGS: Dict[str, str] = {name: doc for name, doc, _result in _sgdnoise.settings()}

PathLike = Union[str, "os.PathLike[str]"]

# Text columns: pandas' own string dtype where it is the default (pandas 3), else object.
_STR: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object


def _as_text(name: str, value: Any) -> str:
    """A setting's value as it would be written on the command line."""
    if isinstance(value, bool):
        return str(value)  # refused by every setting, with the command line's message
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))  # the shortest text that reads back as the same double
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise TypeError(
        f"setting `{name}`: expected a number, a name or a path, got {type(value).__name__}"
    )


def _frame(columns: List[Tuple[str, str, bytes, Any]]) -> pd.DataFrame:
    """A DataFrame from the columns the extension hands over (see ``column_to_py`` there)."""
    data: Dict[str, Any] = {}
    for name, kind, raw, extra in columns:
        if kind == "float":
            data[name] = np.frombuffer(raw, dtype="<f8")
        elif kind == "int":
            values = np.frombuffer(raw, dtype="<i8")
            if extra is None:
                data[name] = values
            else:
                mask = np.frombuffer(extra, dtype=np.uint8).astype(bool)
                data[name] = pd.arrays.IntegerArray(values.copy(), mask)
        elif kind == "bool":
            values = np.frombuffer(raw, dtype=np.uint8).astype(bool)
            if extra is None:
                data[name] = values
            else:
                mask = np.frombuffer(extra, dtype=np.uint8).astype(bool)
                data[name] = pd.arrays.BooleanArray(values, mask)
        elif kind == "str":
            codes = np.frombuffer(raw, dtype="<i4")
            if _STR is object:
                # code -1 (missing) picks the None appended last
                data[name] = np.array(list(extra) + [None], dtype=object)[codes]
            else:
                # the distinct values once as strings, then one take (-1: missing)
                data[name] = pd.array(list(extra), dtype=_STR).take(codes, allow_fill=True)
        else:  # pragma: no cover - the extension and this module are built together
            raise RuntimeError(f"column {name}: unknown kind {kind}")
    return pd.DataFrame(data)


def _filters(filters: Dict[str, Any]) -> List[Tuple[str, List[Any]]]:
    out = []
    for column, wanted in filters.items():
        if isinstance(wanted, (list, tuple, set, frozenset, np.ndarray, pd.Series)):
            values = list(wanted)
        else:
            values = [wanted]
        out.append((column, [v.item() if isinstance(v, np.generic) else v for v in values]))
    return out


@overload
def run(
    *,
    checkpoints: Literal[False] = False,
    out: PathLike | None = None,
    store: PathLike | None = None,
    config: PathLike | None = None,
    **settings: Any,
) -> Dict[str, Any]: ...
@overload
def run(
    *,
    checkpoints: Literal[True],
    out: PathLike | None = None,
    store: PathLike | None = None,
    config: PathLike | None = None,
    **settings: Any,
) -> Tuple[Dict[str, Any], pd.DataFrame]: ...
def run(
    *,
    checkpoints: bool = False,
    out: PathLike | None = None,
    store: PathLike | None = None,
    config: PathLike | None = None,
    **settings: Any,
) -> Union[Dict[str, Any], Tuple[Dict[str, Any], pd.DataFrame]]:
    """Train one network in this process, as ``sgdnoise run`` does, and return its summary.

    Args:
        checkpoints: also return the run's checkpoint records as a DataFrame (the long format of
            :func:`load_checkpoints`: one row per record, the run's settings on every row).
        out: the run directory to write (``config.json``, ``checkpoints.jsonl``,
            ``summary.json``), as ``--out``. Without it nothing is kept on disk (with
            ``checkpoints=True`` the records pass through a temporary folder).
        store: a run store to run in, as ``sgdnoise sweep run`` does: the run's folder is
            ``store/runs/<id>``; a run already finished there is read back, not run again,
            so a loop of ``run(store=...)`` calls is a resumable sweep that
            :func:`load_runs` and ``sgdnoise collect`` read. Not with ``out``.
        config: a TOML file of settings (as ``--config``); keyword settings override it.
        **settings: the run settings, named as in the settings table and the TOML files
            (``arch``, ``ptr``, ``temp`` or ``lr``, ``seed_init``, ...; see :data:`SETTINGS`).
            ``None`` leaves a setting at its default.

    Returns:
        The summary as a dict, exactly what ``json.load`` gives for the ``summary.json`` the
        command line writes (a non-finite number is ``None``), or ``(summary, checkpoints)``
        with ``checkpoints=True``.

    Raises:
        ValueError: a bad, unknown, inapplicable or missing setting, or a bad data file, with
            the command line's message (which names the setting or the file).
        KeyboardInterrupt: Ctrl-C stopped the run (its directory, if any, stays partial).
        RuntimeError: with ``store``, the run failed (now or before: its ``failed.json``), or
            another process is running it.
    """
    text = [(k, _as_text(k, v)) for k, v in settings.items() if v is not None]
    summary_json, columns = _sgdnoise.run(
        text,
        None if config is None else os.fspath(config),
        None if out is None else os.fspath(out),
        None if store is None else os.fspath(store),
        bool(checkpoints),
    )
    summary = json.loads(summary_json)
    if checkpoints:
        assert columns is not None, "the extension returns columns with checkpoints=True"
        return summary, _frame(columns)
    return summary


def load_runs(store: PathLike, **filters: Any) -> pd.DataFrame:
    """The finished runs of a store, one row per run (the table of ``sgdnoise collect``).

    Columns: ``id``; every result setting, typed (``ptr`` int, ``temp`` float, ``arch`` str,
    ...; ``temp`` and ``lr`` both resolved); ``given`` (``"temp"`` or ``"lr"``, whichever the
    run was given); ``stop_reason``; ``diverged`` (stopped as ``diverged`` or ``frozen``); the
    summary's numbers (``steps``, ``t_star``, ``train_err``, ``test_err``, ...). The observables
    of a diverged run are NaN, so that means over runs are not contaminated.

    Args:
        store: the store folder (the one holding ``runs/``).
        **filters: keep only the runs whose column equals the value, or one of the values of a
            list (``ptr=1024``, ``temp=[0.5, 1.0]``, ``diverged=False``, ``act=None`` for
            missing). Numbers match within 1e-12 relative.

    Raises:
        FileNotFoundError: ``store`` holds no ``runs/`` folder.
        ValueError: a filter names no column, or a value of the wrong type.
    """
    return _frame(_sgdnoise.runs_table(os.fspath(store), _filters(filters)))


def load_checkpoints(store: PathLike, **filters: Any) -> pd.DataFrame:
    """Every checkpoint of the selected finished runs of a store, in long format.

    One row per record: ``id``, the run's settings, ``given``, ``stop_reason``, ``diverged``,
    then ``step``, ``t`` (= lr x step), ``wall``, ``train_loss``, ``train_alpha_loss``,
    ``train_err``, ``train_min_margin``, ``train_unfitted``, the same for ``test_``,
    ``rel_weight_change``, ``rel_weight_change_layer_mean``, the perceptron's ``signal``,
    ``noise``, ``noise2_per_dim``, ``signal_to_noise`` and ``mean_abs_x1_unfitted`` (when a
    selected run is a perceptron), and per layer ``layer_<name>_norm2``, ``_dist2`` and
    ``_rel_change``. Records are as stored, those of diverged runs included.

    Args:
        store: the store folder.
        **filters: as for :func:`load_runs`; only the selected runs' files are read.

    Raises:
        FileNotFoundError: ``store`` holds no ``runs/`` folder.
        ValueError: a bad filter.
        OSError: a finished run's ``checkpoints.jsonl`` cannot be read.
    """
    return _frame(_sgdnoise.checkpoints_table(os.fspath(store), _filters(filters)))


# fits.csv: its fixed columns (``FITS_COLUMNS`` of sgdnoise-analysis) by type; every other
# column is a condition (a setting such as ``ptr`` or ``temp``, or ``temp_min``, ``tc_method``,
# ``criterion``), typed by the settings table where it names a setting, else by its values.
_FITS_TEXT = ("figure", "quantity", "against", "condition", "method", "left_out_why")
_FITS_FLOAT = ("value", "ci_low", "ci_high", "theory")
_FITS_INT = ("n_points", "n_seeds", "n_left_out", "n_seeds_min")
_SETTING_KINDS: Dict[str, str] = dict(_sgdnoise.setting_kinds())


def _typed(name: str, cells: pd.Series) -> Any:
    """One column of fits.csv (read as text, empty cells as ``""``) with its type."""
    missing = cells == ""
    if name in _FITS_TEXT:
        return cells.astype(_STR)
    kind = _SETTING_KINDS.get(name)
    if name in _FITS_FLOAT or name in _FITS_INT or kind in ("int", "float"):
        numbers = pd.to_numeric(cells.mask(missing), errors="coerce")
        bad = numbers.isna() & ~missing
        if bad.any():
            raise ValueError(
                f"fits.csv: column `{name}`: {cells[bad].iloc[0]!r} is not a number"
            )
        if name in _FITS_INT or kind == "int":
            if not missing.any():
                return numbers.astype(np.int64)
            return numbers.astype("Int64")
        return numbers.astype(np.float64)
    if kind in ("name", "path"):
        return cells.mask(missing).astype(_STR) if _STR is not object else cells.mask(missing)
    # A condition that is no setting: numbers where every cell is one, else text.
    numbers = pd.to_numeric(cells.mask(missing), errors="coerce")
    if not (numbers.isna() & ~missing).any() and not missing.all():
        return numbers.astype(np.float64)
    return cells.mask(missing).astype(_STR) if _STR is not object else cells.mask(missing)


def load_fits(dir: PathLike) -> pd.DataFrame:
    """The fits of an analysis (``fits.csv`` written by ``sgdnoise analyze`` or ``reproduce``).

    Columns: ``figure``, ``quantity``, ``against``, ``condition`` (the conditions as text,
    "chi=1, T=2^-10, d=32"), ``value``, ``ci_low``, ``ci_high`` (the estimate and its 95%
    interval), ``theory``, ``method``, ``n_points``, ``n_seeds``, ``n_left_out``,
    ``left_out_why``, ``n_seeds_min`` (the fewest finished seeds at a point the fit used:
    below ``n_seeds`` on an adaptive sweep's partial points; ``Int64``), then one column per condition, named as the settings: ``ptr``, ``dim``,
    ``batch``, ``width``, ``depth`` as integers (``Int64``, ``<NA>`` where a row has no such
    condition), ``temp``, ``lr``, ``alpha``, ``chi`` as floats (NaN where absent), and
    ``temp_min`` (the lower end of a fit's T range: a float, or text such as ``T_c(P)``),
    ``tc_method`` (``(a)``..``(d)``) and ``criterion`` as text.

    >>> fits = sgdnoise.load_fits("out/perceptron")                   # doctest: +SKIP
    >>> fits[(fits.quantity == "signal_to_noise") & (fits.chi == 1)]  # doctest: +SKIP

    Args:
        dir: the analysis folder holding ``fits.csv``, or the file itself.

    Raises:
        FileNotFoundError: there is no such file.
        ValueError: a numeric column holds a cell that is not a number (naming both).
    """
    path = Path(dir)
    if path.is_dir():
        path = path / "fits.csv"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no fits table (`sgdnoise analyze STORE --out DIR` writes DIR/fits.csv)"
        )
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame({name: _typed(name, raw[name]) for name in raw.columns})


_ARRAY_MAGIC = b"SGDNARR1"
_ARRAY_FILES = ("test_predictions", "test_labels", "params")


def _read_array(path: Path) -> np.ndarray:
    b = path.read_bytes()
    if len(b) < 24 or b[:8] != _ARRAY_MAGIC:
        raise ValueError(f"{path}: not an sgdnoise array file (no SGDNARR1 header)")
    version, size, count = (
        int.from_bytes(b[8:12], "little"),
        int.from_bytes(b[12:16], "little"),
        int.from_bytes(b[16:24], "little"),
    )
    if version != 1:
        raise ValueError(f"{path}: array format version {version}; this package reads version 1")
    if size not in (4, 8):
        raise ValueError(f"{path}: element size {size} bytes; expected 4 (f32) or 8 (f64)")
    if len(b) != 24 + size * count:
        raise ValueError(
            f"{path}: the header says {count} numbers of {size} bytes, the file holds "
            f"{len(b) - 24} bytes after it (truncated or foreign)"
        )
    return np.frombuffer(b, {4: "<f4", 8: "<f8"}[size], count, offset=24)


def load_arrays(run_dir: PathLike) -> Dict[str, np.ndarray]:
    """The arrays a finished run saved (SPEC §10): ``test_predictions`` (f(w, x) - f(w0, x) on
    the test set at the stop), ``test_labels`` (±1), and ``params`` (the final weights, only
    for runs made with ``save_params=True`` / ``--save-params``), in the run's dtype.

    >>> a = sgdnoise.load_arrays("store/runs/566777484e75452a")      # doctest: +SKIP
    >>> (a["test_predictions"] * a["test_labels"] <= 0).mean()        # the run's test_err

    Args:
        run_dir: a run's folder (``STORE/runs/ID``, or what ``run --out`` wrote).

    Raises:
        FileNotFoundError: the folder has no ``test_predictions.bin`` (not a finished run, or made
            by a version before 0.1 saved arrays).
        ValueError: a file is truncated or not in the format (naming the file).
    """
    d = Path(run_dir)
    if not (d / "test_predictions.bin").is_file():
        raise FileNotFoundError(
            f"{d}: no test_predictions.bin (not a finished run's folder, or one made before "
            "runs saved their predictions)"
        )
    return {
        name: _read_array(d / f"{name}.bin")
        for name in _ARRAY_FILES
        if (d / f"{name}.bin").is_file()
    }
