"""The ``tfsnorkel`` command: the demo pipeline and the everyday steps on a user's own data.

Commands (each has ``--help``):

- ``tfsnorkel demo``: the whole pipeline on real YouTube spam data, nothing to configure.
- ``tfsnorkel apply``: apply the LFs of a Python file to CSV/Parquet/JSONL data -> label matrix (.npy).
- ``tfsnorkel analyze``: LF summary (coverage, overlaps, conflicts; accuracy with a gold column).
- ``tfsnorkel fit``: fit the label model on a label matrix -> model (.keras) and soft labels (.npy).
- ``tfsnorkel train``: train the noise-aware text classifier on soft labels (early stopping on a gold
  dev set when given) -> model (.keras).
- ``tfsnorkel export``: one SavedModel from any of LF file, label model and classifier.
- ``tfsnorkel pipeline``: all of the above on a user's data in one go, scored on a gold dev set.

Errors a shell user can act on (a missing file or column, an LF file that fails to import, an LF
that raises, a bad option) print one line ``tfsnorkel: error: ...`` and exit with status 2;
``--verbose`` adds the traceback and TensorFlow's own log lines.

Start-up: parsing the arguments (and ``--help``) never imports TensorFlow (the package resolves
its names lazily in this command, see ``tfsnorkel/__init__.py``); the files and options that can
be checked without it are checked first, then TensorFlow is imported once with its start-up logs
silenced (``TF_CPP_MIN_LOG_LEVEL=3``, absl at ERROR, and the lines its C++ libraries print
before their logging is set up filtered out of stderr). The ``done in N s`` footer counts from
the start of the command, TensorFlow's start-up included (shown apart).

Output: progress bars only on a terminal; otherwise (a file, a pipe) Keras logs nothing
interactive and ``train`` prints one plain line per epoch. Probabilities and scores print with 3
decimals in every command.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import re
import sys
import time
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["main"]

#: When this module was imported: in the ``tfsnorkel`` command, about when the process started.
_IMPORTED_AT = time.perf_counter()
_first_call = True

EXIT_USAGE = 2


class CLIError(Exception):
    """An error with a one-line message for the shell user."""


# ----------------------------------------------------------------------------- TensorFlow start-up
#: Lines TensorFlow's C++ libraries print to stderr while they load (before absl logging is
#: initialised, so TF_CPP_MIN_LOG_LEVEL cannot hide them), e.g.
#: ``I0000 00:00:1796171124.823003   27411 cudart_stub.cc:31] Could not find cuda drivers``.
_TF_NOISE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.-]+:\d+\]"
    r"|To enable the following instructions: .* rebuild TensorFlow with the appropriate compiler"
    r")"
)


def _quiet_tensorflow() -> None:
    """Sets TensorFlow's log level before its first import (a user's own setting wins)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@contextlib.contextmanager
def _stderr_without_tf_noise(enabled: bool) -> Iterator[None]:
    """Captures file descriptor 2 (C++ writes there directly) and replays it without the
    lines matching :data:`_TF_NOISE`; everything else (a Python warning, an import error) is
    kept."""
    if not enabled:
        yield
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            kept = [ln for ln in text.splitlines(keepends=True) if not _TF_NOISE.match(ln)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def _start_tensorflow(show_logs: bool) -> float:
    """Imports TensorFlow, Keras and the package's stages quietly; returns the seconds spent.

    Args:
        show_logs: keep TensorFlow's start-up and log lines (``--verbose``).
    """
    t0 = time.perf_counter()
    if not show_logs:
        _quiet_tensorflow()
    fresh = "tensorflow" not in sys.modules
    with _stderr_without_tf_noise(enabled=fresh and not show_logs):
        import keras
        import tensorflow as tf

        if fresh:
            tf.config.list_physical_devices()  # device discovery logs here (cuInit)
        import tfsnorkel

        tfsnorkel._import_all()  # registers the Keras classes, as `import tfsnorkel` does
    if fresh and not show_logs:  # the command's own process (in-process callers keep theirs)
        import logging

        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
        tf.get_logger().setLevel(logging.ERROR)
    if _interactive():
        keras.config.enable_interactive_logging()
    else:  # Keras's progress bars are ANSI-coloured carriage-return animations: not for a file
        keras.config.disable_interactive_logging()
    return time.perf_counter() - t0 if fresh else 0.0


def _interactive() -> bool:
    """Whether stdout is a terminal (progress bars) rather than a file or a pipe."""
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


# ----------------------------------------------------------------------------- input helpers
_TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson", ".json")


def _check_input(path: str | None, what: str = "input") -> None:
    """An input data file that exists and has a format :func:`read_table` reads (no TF)."""
    if path is None:
        return
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {p}")
    if p.suffix.lower() not in _TABLE_SUFFIXES:
        raise CLIError(
            f"unsupported input format {p.suffix.lower()!r} for {p}; use .csv, .tsv, .parquet "
            "or .jsonl"
        )


def _check_file(path: str | None, what: str, suffixes: Sequence[str] = ()) -> None:
    """A file that must exist (and, with ``suffixes``, end so), checked before any work."""
    if path is None:
        return
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {p}")
    if suffixes and p.suffix.lower() not in suffixes:
        raise CLIError(
            f"{what} {p} must be a {' or '.join(suffixes)} file"
            + (" (a NumPy array saved by `tfsnorkel apply` / `fit`, not a table: "
               "CSV/Parquet data goes to --input)" if ".npy" in suffixes else "")
            + f"; got {p.suffix or 'no suffix'!r}"
        )


def _check_out(path: str | None, what: str, suffix: str | None = None,
               is_dir: bool = False) -> None:
    """An output path that can be written: the right suffix, a parent directory that exists
    (or can be created) and is writable, not a directory where a file goes."""
    if path is None:
        return
    p = Path(path)
    if suffix is not None and p.suffix.lower() != suffix:
        raise CLIError(f"{what} {p} must end in {suffix} (got {p.suffix or 'no suffix'!r})")
    if not is_dir and p.is_dir():
        raise CLIError(f"{what} {p} is a directory; give a file name ending in {suffix}")
    if is_dir and p.exists() and not p.is_dir():
        raise CLIError(f"{what} {p} exists and is not a directory")
    parent = p.parent if not (is_dir and p.is_dir()) else p
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise CLIError(f"cannot write {what} {p}: {parent} is not a writable directory")


def read_table(path: str | os.PathLike) -> pd.DataFrame:  # noqa: F821
    """Reads CSV, Parquet or JSON Lines by file extension, with one-line errors."""
    import pandas as pd

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"input file not found: {p}")
    suffix = p.suffix.lower()
    try:
        if suffix in (".csv", ".tsv"):
            return pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",", low_memory=False)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if suffix in (".jsonl", ".ndjson"):
            return pd.read_json(p, lines=True)
        if suffix == ".json":
            return pd.read_json(p)
    except ImportError as exc:
        raise CLIError(f"cannot read {p}: {exc} (pip install 'tfsnorkel[parquet]')") from exc
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise CLIError(f"cannot read {p}: {exc}") from exc
    raise CLIError(
        f"unsupported input format {suffix!r} for {p}; use .csv, .tsv, .parquet or .jsonl"
    )


def _require_columns(df, columns: Sequence[str], path: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CLIError(
            f"column {missing[0]!r} not found in {path}; available columns: "
            f"{', '.join(map(repr, map(str, df.columns)))}"
        )


def _texts(column) -> np.ndarray:  # noqa: F821
    """The missing-value policy for the classifier's text: a missing cell is the empty string
    (the LFs abstain on it, see ``columns_to_features``)."""
    return column.fillna("").astype(str).to_numpy()


class LFFile:
    """What an LF file defines: the compiled LF set and the class names (or None)."""

    def __init__(self, lfset, classes: list[str] | None, path: Path) -> None:
        self.lfset = lfset
        self.classes = classes
        self.path = path

    def text_fields(self) -> list[str]:
        import tensorflow as tf

        return [f for f, d in self.lfset.fields.items() if d == tf.string]


#: LF-file folders this process put on ``sys.path`` (removed when the command returns).
_added_paths: list[str] = []


def _lf_dir_on_path(p: Path) -> None:
    """Puts the LF file's folder first on ``sys.path``, so ``from kb import WORDS`` beside it
    works from the console script as from ``python -m tfsnorkel`` (which adds the cwd)."""
    folder = str(p.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
        _added_paths.append(folder)


def _classes_of(module, p: Path, cardinality: int | None) -> list[str] | None:
    if not hasattr(module, "classes"):
        return None
    classes = module.classes
    if (isinstance(classes, (str, bytes)) or not hasattr(classes, "__iter__")
            or not all(isinstance(c, str) and c.strip() for c in classes)):
        raise CLIError(
            f"LF file {p}: `classes` must be a list of class names (non-empty strings, in index "
            f"order); got {classes!r}"
        )
    classes = list(classes)
    if len(set(classes)) != len(classes):
        dup = next(c for c in classes if classes.count(c) > 1)
        raise CLIError(f"LF file {p}: `classes` names {dup!r} twice: {classes}")
    if len(classes) < 2:
        raise CLIError(f"LF file {p}: `classes` needs at least 2 names; got {classes}")
    if cardinality is not None and cardinality != len(classes):
        raise CLIError(
            f"LF file {p} names {len(classes)} classes ({', '.join(classes)}) but the "
            f"cardinality is {cardinality}"
        )
    return classes


def read_lf_file(path: str | os.PathLike, cardinality: int | None = None) -> LFFile:
    """Imports a Python file that defines ``lfs`` (an LFSet or a list of LFs).

    The file may also define ``classes`` (the class names, in index order), ``cardinality``
    (default: ``len(classes)``, else 2) and ``signed`` (default False). Its folder is put on
    ``sys.path`` first, so it can import a module beside it.

    Returns:
        An :class:`LFFile` (the compiled LF set and the class names).
    """
    import tfsnorkel as ts

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"LF file not found: {p}")
    _lf_dir_on_path(p)
    spec = importlib.util.spec_from_file_location(f"tfsnorkel_user_lfs_{p.stem}", p)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot import LF file {p}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:  # sys.exit() in the LF file: not the command's exit status
        raise CLIError(
            f"LF file {p} called sys.exit({exc.code!r}) while being imported; an LF file must "
            "only define `lfs` (and optionally `classes`, `cardinality`)"
        ) from exc
    except Exception as exc:  # the user's code: anything can happen
        raise CLIError(f"LF file {p} failed to import: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, "lfs"):
        raise CLIError(f"LF file {p} must define `lfs` (an LFSet or a list of labeling functions)")
    lfs = module.lfs
    declared = getattr(module, "cardinality", None)
    if cardinality is not None and declared is not None and cardinality != declared:
        raise CLIError(
            f"--cardinality {cardinality} differs from the cardinality {declared} that {p} "
            "declares"
        )
    if isinstance(lfs, ts.LFSet):
        if cardinality is not None and cardinality != lfs.cardinality:
            raise CLIError(
                f"--cardinality {cardinality} differs from the cardinality {lfs.cardinality} of "
                f"the LFSet in {p}"
            )
        return LFFile(lfs, _classes_of(module, p, lfs.cardinality), p)
    classes = _classes_of(module, p, cardinality or declared)
    card = cardinality or declared or (len(classes) if classes else 2)
    try:
        lfset = ts.LFSet(list(lfs), cardinality=card, signed=getattr(module, "signed", False))
    except (TypeError, ValueError) as exc:
        raise CLIError(f"LF file {p}: {exc}") from exc
    return LFFile(lfset, classes, p)


def load_lf_file(path: str | os.PathLike, cardinality: int | None = None):
    """Imports a Python file that defines ``lfs`` (see :func:`read_lf_file`).

    Returns:
        A compiled :class:`tfsnorkel.LFSet`.
    """
    return read_lf_file(path, cardinality).lfset


def _apply(lf_file: LFFile, df, what: str, *, batch_size: int = 1024, progress: bool = False,
           fault_tolerant: bool = False, tolerant_hint: str = "use --fault-tolerant to make "
           "it abstain on such rows instead"):
    """``lfset.apply`` with one-line errors; a raising LF is reported on its first row in the
    file's order (the parallel applier could report a later batch's row first)."""
    from tfsnorkel.labeling import LabelingFunctionError

    lfset = lf_file.lfset
    try:
        return lfset.apply(df, batch_size=batch_size, progress=progress,
                           fault_tolerant=fault_tolerant)
    except LabelingFunctionError:
        try:  # again on one core, batch after batch: the first failing row, every run
            lfset.apply(df, batch_size=batch_size, progress=False, num_parallel_calls=1)
        except LabelingFunctionError as exc:
            msg = str(exc).split(". Pass fault_tolerant=True", 1)[0]
            raise CLIError(f"{msg} of {what} ({tolerant_hint})") from exc
        raise  # pragma: no cover (it raised once: it raises again)
    except (ValueError, TypeError, KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        raise CLIError(f"applying the LFs of {lf_file.path} to {what}: {msg}") from exc


def _load_npy(path: str, what: str):
    import numpy as np

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {p}")
    if p.suffix.lower() != ".npy":
        raise CLIError(
            f"{what} {p} must be a .npy file (a NumPy array written by `tfsnorkel apply` or "
            f"`tfsnorkel fit`); got {p.suffix or 'no suffix'!r}"
        )
    try:
        return np.load(p, allow_pickle=False)
    except ValueError as exc:
        raise CLIError(
            f"cannot read {what} {p}: not a NumPy .npy array of numbers (write it with "
            "`tfsnorkel apply`, or numpy.save an int array)"
        ) from exc
    except OSError as exc:
        raise CLIError(f"cannot read {what} {p}: {exc}") from exc


def _save_npy(path: str, array) -> Path:
    from tfsnorkel.outputs import save_npy

    return save_npy(path, array)


def _gold(df, column: str | None, path: str, cardinality: int | None = None,
          classes: Sequence[str] | None = None):
    """The gold column as int64 class indices, checked (integral, in range) with one-line
    errors; a column of class names is mapped through ``classes`` (the LF file's)."""
    import numpy as np
    import pandas as pd

    from tfsnorkel.labels import check_gold_labels

    if column is None:
        return None
    _require_columns(df, [column], path)
    values = df[column]
    if values.dtype == object or pd.api.types.is_string_dtype(values):
        names = values.astype(object)
        numeric = pd.to_numeric(names, errors="coerce")
        if numeric.isna().any() and not names.isna().all():
            if not classes:
                bad = names[numeric.isna()].iloc[0]
                raise CLIError(
                    f"gold column {column!r} of {path} holds class names ({bad!r}, ...); "
                    "declare them in the LF file, `classes = [...]` in index order, or use "
                    "class indices 0..C-1"
                )
            index = {c: i for i, c in enumerate(classes)}
            for i, v in enumerate(names.tolist()):
                if v is None or (isinstance(v, float) and np.isnan(v)):
                    raise CLIError(f"gold column {column!r} of {path} is empty at row {i}")
                if str(v).strip() not in index:
                    raise CLIError(
                        f"gold column {column!r} of {path} holds {v!r} at row {i}, which is not "
                        f"one of the classes {list(classes)}"
                    )
            return np.array([index[str(v).strip()] for v in names.tolist()], dtype=np.int64)
        values = numeric
    try:
        return check_gold_labels(values.to_numpy(), cardinality=cardinality)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"gold column {column!r} of {path}: {exc}") from exc


def _class_label(k: int, classes: Sequence[str] | None) -> str:
    return f"{k} ({classes[k]})" if classes else str(k)


# ----------------------------------------------------------------------------- LF names
def lf_names_path(label_matrix: str | os.PathLike) -> Path:
    """Where ``tfsnorkel apply`` records the LFs behind a label matrix: ``L.npy -> L.lfs.json``."""
    p = Path(label_matrix)
    return p.with_name(p.stem + ".lfs.json")


def _write_lf_names(label_matrix: Path, lf_file: LFFile) -> Path:
    import json

    from tfsnorkel.outputs import file_sha256, write_text

    record = {
        "lf_names": lf_file.lfset.names,
        "cardinality": lf_file.lfset.cardinality,
        "classes": lf_file.classes,
        "text_fields": lf_file.text_fields(),
        "label_matrix_sha256": file_sha256(label_matrix),
    }
    return write_text(lf_names_path(label_matrix), json.dumps(record, indent=2) + "\n")


def _read_lf_names(label_matrix: str) -> dict | None:
    """The record ``tfsnorkel apply`` wrote beside ``label_matrix``; None when there is none."""
    import json

    from tfsnorkel.outputs import file_sha256

    side = lf_names_path(label_matrix)
    if not side.is_file():
        return None
    try:
        record = json.loads(side.read_text(encoding="utf-8"))
        names, card = list(record["lf_names"]), int(record["cardinality"])
        digest = record["label_matrix_sha256"]
        classes = record.get("classes")
        text_fields = list(record.get("text_fields") or [])
    except (ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"cannot read the LF names {side}: {type(exc).__name__}: {exc}") from exc
    if digest != file_sha256(label_matrix):
        raise CLIError(
            f"{side} describes another label matrix than {label_matrix} (its SHA-256 differs): "
            "rerun `tfsnorkel apply`, or pass --lfs"
        )
    return {"lf_names": names, "cardinality": card, "classes": classes,
            "text_fields": text_fields}


def _check_columns(L, names: Sequence[str], what: str, path: str) -> None:
    if L.ndim != 2 or L.shape[1] != len(names):
        raise CLIError(
            f"{what} {path} has {L.shape[1] if L.ndim == 2 else L.shape} columns but {len(names)} "
            f"LFs were given ({', '.join(names)})"
        )


def _text_column(args, lf_file: LFFile | None, record: dict | None = None) -> str:
    """``--text-column``, else the LFs' own text field (the one string field they read)."""
    if args.text_column is not None:
        return args.text_column
    fields = (lf_file.text_fields() if lf_file is not None
              else (record or {}).get("text_fields") or [])
    if len(fields) == 1:
        return fields[0]
    if len(fields) > 1:
        raise CLIError(
            f"the LFs read several text fields ({', '.join(map(repr, fields))}): say which one "
            "the classifier reads with --text-column"
        )
    return "text"


def _load_keras(path: str, what: str):
    """Loads a ``.keras`` file with one-line errors (missing, truncated, not a Keras archive)."""
    import zipfile

    import keras

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {p}")
    if not zipfile.is_zipfile(p):
        raise CLIError(
            f"{what} {p} is not a complete .keras archive (truncated, or not written by "
            "Keras); write it again"
        )
    import warnings

    try:
        with warnings.catch_warnings():
            # a compiled model's optimizer state is not needed to predict or export
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return keras.saving.load_model(p)
    except Exception as exc:  # keras raises many kinds
        raise CLIError(f"cannot load {what} {p}: {type(exc).__name__}: {_one_line(exc)}") from exc


def _load_label_model(path: str):
    import zipfile

    import tfsnorkel as ts

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"label model file not found: {p}")
    if not zipfile.is_zipfile(p):
        raise CLIError(
            f"label model {p} is not a complete .keras archive (truncated, or not written by "
            "`tfsnorkel fit`); write it again"
        )
    try:
        return ts.LabelModel.load(p)
    except ValueError as exc:
        raise CLIError(
            f"{exc} (is {p} a classifier? pass it as --classifier)"
            if "holds no LabelModel" in str(exc)
            else str(exc)
        ) from exc


def _save_keras(model, path: str) -> Path:
    from tfsnorkel.outputs import atomic_path

    with atomic_path(path) as tmp:
        model.save(tmp)
    return Path(path)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _one_line(exc: BaseException) -> str:
    """An exception's message without ANSI codes and without the graph trace TensorFlow
    puts around it (``Graph execution error: ... Detected at node ...``, the indented
    ``File ...`` lines, ``[[{{node ...}}]]``): its first meaningful line."""
    text = _ANSI.sub("", str(exc)).strip()
    raw = [ln for ln in text.splitlines() if ln.strip()]
    if "in user code:" in text and raw:  # autograph: the code lines, then the error last
        return raw[-1].strip()
    for ln in raw:
        if ln[:1].isspace():
            continue
        line = ln.strip()
        if not line.startswith(("Graph execution error", "Detected at node", "[[", "Traceback")):
            return line
    return raw[0].strip() if raw else type(exc).__name__


def _read_dev_set(args, columns: Sequence[str]):
    """The gold dev set of ``--dev-input``/``--dev-gold-column`` (None without one), checked."""
    if (args.dev_input is None) != (args.dev_gold_column is None):
        raise CLIError("give --dev-input and --dev-gold-column together (the gold dev set)")
    if args.dev_input is None:
        return None
    dev = read_table(args.dev_input)
    _require_columns(dev, [*columns, args.dev_gold_column], args.dev_input)
    return dev


def _fmt(x: float) -> str:
    """Probabilities and scores, 3 decimals in every command."""
    return f"{x:.3f}"


def _print_table(frame, classes: Sequence[str] | None = None) -> None:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 30,
                           "display.precision", 3, "display.max_rows", 500):
        print(frame.to_string(float_format=_fmt))


def _named_polarity(summary, classes: Sequence[str] | None):
    """The LF summary with each LF's polarity as class names (when the LF file names them)."""
    if not classes or "Polarity" not in summary.columns:
        return summary
    out = summary.copy()
    out["Polarity"] = [
        [classes[int(k)] if 0 <= int(k) < len(classes) else k for k in pol]
        for pol in summary["Polarity"]
    ]
    return out


class _EpochLines:
    """A Keras callback printing one plain line per epoch (for output that is not a terminal)."""

    def __new__(cls, epochs: int, prefix: str = ""):
        import keras

        class EpochLines(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                logs = logs or {}
                parts = " ".join(f"{k} {v:.4f}" for k, v in logs.items()
                                 if isinstance(v, (int, float)))
                print(f"{prefix}epoch {epoch + 1}/{epochs}: {parts}", flush=True)

        return EpochLines()


# ----------------------------------------------------------------------------- checks (no TF)
def _pre_dev(args) -> None:
    _check_input(getattr(args, "dev_input", None), "dev input")


def pre_apply(args) -> None:
    _check_file(args.lfs, "LF file", (".py",))
    _check_input(args.input)
    _check_out(args.out, "label matrix", ".npy")


def pre_analyze(args) -> None:
    _check_file(args.lfs, "LF file", (".py",))
    _check_input(args.input)
    _check_file(args.label_matrix, "label matrix", (".npy",))
    _check_out(args.out, "summary", ".csv")


def pre_fit(args) -> None:
    _check_file(args.label_matrix, "label matrix", (".npy",))
    _check_file(args.lfs, "LF file", (".py",))
    _check_out(args.out, "label model", ".keras")
    _check_out(args.soft_labels, "soft labels", ".npy")
    _check_file(args.dev_label_matrix, "dev label matrix", (".npy",))
    _pre_dev(args)


def pre_train(args) -> None:
    _check_input(args.input)
    _check_file(args.soft_labels, "soft labels", (".npy",))
    _check_file(args.label_matrix, "label matrix", (".npy",))
    _check_out(args.out, "classifier", ".keras")
    _pre_dev(args)


def pre_export(args) -> None:
    _check_file(args.lfs, "LF file", (".py",))
    _check_file(args.label_model, "label model", (".keras",))
    _check_file(args.classifier, "classifier", (".keras",))
    if not (args.lfs or args.label_model or args.classifier):
        raise CLIError("nothing to export: give at least one of --lfs, --label-model, --classifier")
    out = Path(args.out)
    if out.is_dir() and any(out.iterdir()) and not (out / "saved_model.pb").is_file():
        raise CLIError(
            f"--out {out} is a non-empty directory that holds no SavedModel; the export "
            "replaces the whole directory: choose a new or empty one"
        )
    _check_out(args.out, "SavedModel directory", is_dir=True)


def pre_pipeline(args) -> None:
    _check_file(args.lfs, "LF file", (".py",))
    _check_input(args.input)
    _pre_dev(args)
    _check_out(args.out, "output directory", is_dir=True)


def pre_demo(args) -> None:
    _check_out(args.out, "output directory", is_dir=True)


# ----------------------------------------------------------------------------- commands
def cmd_apply(args) -> int:
    lf = read_lf_file(args.lfs, args.cardinality)
    df = read_table(args.input)
    _require_columns(df, list(lf.lfset.fields), args.input)
    L = _apply(lf, df, args.input, batch_size=args.batch_size,
               progress=not args.quiet and _interactive(), fault_tolerant=args.fault_tolerant)
    from tfsnorkel.outputs import OutputLock

    with OutputLock(args.out, is_dir=False):
        out = _save_npy(args.out, L)
        side = _write_lf_names(out, lf)
    failed = {k: v for k, v in (getattr(lf.lfset, "failures_", {}) or {}).items() if v}
    if failed:
        print("LFs that raised and abstained there (--fault-tolerant): "
              + ", ".join(f"{k} on {v} rows" for k, v in failed.items()))
    print(f"label matrix {L.shape[0]} x {L.shape[1]} -> {out} (LF names -> {side})")
    return 0


def cmd_analyze(args) -> int:
    import tfsnorkel as ts

    lf = read_lf_file(args.lfs, args.cardinality)
    lfset = lf.lfset
    if args.label_matrix:
        L = _load_npy(args.label_matrix, "label matrix")
        _check_columns(L, lfset.names, "label matrix", args.label_matrix)
        record = _read_lf_names(args.label_matrix)
        if record is not None and record["lf_names"] != lfset.names:
            j = next(i for i, (a, b) in enumerate(zip(record["lf_names"], lfset.names)) if a != b)
            raise CLIError(
                f"label matrix {args.label_matrix} was made by other LFs than {args.lfs}: column "
                f"{j} is LF {record['lf_names'][j]!r} there but {lfset.names[j]!r} in {args.lfs}"
            )
        df = read_table(args.input) if args.input else None
    else:
        if not args.input:
            raise CLIError("give --label-matrix, or --input to apply the LFs first")
        df = read_table(args.input)
        _require_columns(df, list(lfset.fields), args.input)
        L = _apply(lf, df, args.input, progress=not args.quiet and _interactive(),
                   fault_tolerant=args.fault_tolerant)
    y = None
    if args.gold_column:
        if df is None:
            raise CLIError("--gold-column needs --input (the file that holds the gold column)")
        y = _gold(df, args.gold_column, args.input, lfset.cardinality, lf.classes)
    try:
        summary = ts.lf_summary(L, lfset, y=y)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    if lf.classes:
        print("classes: " + ", ".join(_class_label(k, lf.classes) for k in range(len(lf.classes))))
    _print_table(_named_polarity(summary, lf.classes))
    if args.out:
        from tfsnorkel.outputs import write_csv

        write_csv(args.out, summary)
        print(f"summary -> {args.out}")
    return 0


def _lfs_of_label_matrix(args, L):
    """(LF names, cardinality, classes) behind a label matrix: --lfs, else L.lfs.json."""
    if args.lfs:
        lf = read_lf_file(args.lfs, None)
        names, card, classes = lf.lfset.names, lf.lfset.cardinality, lf.classes
        _check_columns(L, names, "label matrix", args.label_matrix)
        record = _read_lf_names(args.label_matrix)
        if record is not None and record["lf_names"] != names:
            raise CLIError(
                f"label matrix {args.label_matrix} was made by the LFs {record['lf_names']}, "
                f"not by those of {args.lfs} ({names})"
            )
        return names, card, classes
    record = _read_lf_names(args.label_matrix)
    if record is None:
        print(
            f"tfsnorkel: warning: no LF names for {args.label_matrix} (neither --lfs nor "
            f"{lf_names_path(args.label_matrix).name} from `tfsnorkel apply`): the tables "
            "number the LFs 0..m-1 and the label model cannot check that an LF set exported "
            "with it is the same",
            file=sys.stderr,
        )
        return None, None, None
    _check_columns(L, record["lf_names"], "label matrix", args.label_matrix)
    return record["lf_names"], record["cardinality"], record["classes"]


def cmd_fit(args) -> int:
    import numpy as np

    import tfsnorkel as ts

    L = _load_npy(args.label_matrix, "label matrix")
    if L.ndim != 2 or not np.issubdtype(L.dtype, np.number):
        raise CLIError(
            f"label matrix {args.label_matrix} must be a 2-D array of votes (rows x LFs, -1 = "
            f"abstain); it holds {L.dtype} of shape {L.shape}"
        )
    names, card, classes = _lfs_of_label_matrix(args, L)
    if args.cardinality is not None and card is not None and args.cardinality != card:
        raise CLIError(
            f"--cardinality {args.cardinality} differs from the LFs' cardinality {card}"
        )
    top = int(L.max()) if L.size else -1
    if args.cardinality is not None:
        if top >= args.cardinality:
            raise CLIError(
                f"--cardinality {args.cardinality} contradicts the votes: the label matrix "
                f"{args.label_matrix} votes class {top} (classes are 0..{args.cardinality - 1})"
            )
        if card is None and top + 1 < args.cardinality:
            raise CLIError(
                f"--cardinality {args.cardinality} contradicts the votes: no LF in "
                f"{args.label_matrix} votes a class above {top}, so the label model could never "
                f"learn classes {top + 1}..{args.cardinality - 1}; drop --cardinality (the votes "
                f"say {max(top + 1, 2)}) or pass --lfs with an LF file that declares the classes"
            )
    cardinality = args.cardinality or card or max(top + 1, 2)
    L_dev = y_dev = None
    dev_args = (args.dev_label_matrix, args.dev_input, args.dev_gold_column)
    if any(a is not None for a in dev_args):
        if any(a is None for a in dev_args):
            raise CLIError(
                "a gold dev set takes --dev-label-matrix, --dev-input and "
                "--dev-gold-column together"
            )
        L_dev = _load_npy(args.dev_label_matrix, "dev label matrix")
        if L_dev.ndim != 2 or L.ndim != 2 or L_dev.shape[1] != L.shape[1]:
            raise CLIError(
                f"the dev label matrix {args.dev_label_matrix} has shape {L_dev.shape} but the "
                f"label matrix {args.label_matrix} {L.shape}: they must come from the same LFs"
            )
        dev = read_table(args.dev_input)
        y_dev = _gold(dev, args.dev_gold_column, args.dev_input, cardinality, classes)
        if len(y_dev) != len(L_dev):
            raise CLIError(
                f"{args.dev_input} has {len(y_dev)} rows but the dev label matrix "
                f"{args.dev_label_matrix} has {len(L_dev)}"
            )
    try:
        lm = ts.LabelModel(cardinality=cardinality, seed=args.seed).fit(
            L, L_dev=L_dev, y_dev=y_dev, lf_names=names
        )
    except (TypeError, ValueError) as exc:
        raise CLIError(str(exc)) from exc
    _save_keras(lm, args.out)
    if not args.quiet:
        balance = " ".join(
            f"{_class_label(int(k), classes)}: {_fmt(v)}" for k, v in lm.class_balance_.items()
        )
        print(
            f"class balance ({'from the gold dev set' if y_dev is not None else 'learned'}): "
            f"{balance}"
        )
        groups = lm.dependencies_
        print(f"dependency groups (LF columns modelled jointly): {groups if groups else 'none'}")
        table = lm.lf_table()
        if names is None:
            table.index.name = "lf (column)"
        _print_table(table)
        print("(accuracy: P(vote is right | it votes); propensity: P(it votes); group: the "
              "dependency group it is modelled in, -1 = none, modelled on its own)")
    print(f"label model -> {args.out}")
    if args.soft_labels:
        out = _save_npy(args.soft_labels, lm.predict_proba(L))
        print(f"soft labels {L.shape[0]} x {cardinality} -> {out}")
    return 0


def _fit_classifier(args, texts, P, L, dev_texts, dev_y, label_type: str, quiet: bool):
    """``fit_text_classifier`` with the command's options; ``auto`` is run here as soft and
    hard (what ``label_type="auto"`` does) so the command can say which won and by how much.

    Returns:
        ``(classifier, kept label type, {label type: gold dev accuracy})``.
    """
    import tfsnorkel as ts

    verbose = 0 if quiet or not _interactive() else "auto"
    kinds = ["soft", "hard"] if label_type == "auto" else [label_type]
    encoder: dict = {}
    if getattr(args, "backbone", None):
        try:
            encoder = {"backbone": ts.load_bert_encoder(args.backbone),
                       "fine_tune": bool(args.fine_tune)}
        except (ImportError, OSError, ValueError) as exc:
            raise CLIError(f"--backbone {args.backbone}: {' '.join(str(exc).split())}") from exc
    elif getattr(args, "fine_tune", False):
        raise CLIError("--fine-tune trains a pretrained encoder: give --backbone too")
    best = None
    scores: dict[str, float] = {}
    for kind in kinds:
        prefix = f"[{kind} targets] " if len(kinds) > 1 else ""
        callbacks = [] if quiet or _interactive() else [_EpochLines(args.epochs, prefix)]
        if prefix and not quiet and _interactive():
            print(prefix.strip(), flush=True)
        try:
            clf = ts.fit_text_classifier(
                texts, P, L, dev_texts=dev_texts, dev_y=dev_y, label_type=kind,
                epochs=args.epochs, patience=args.patience, batch_size=args.batch_size,
                learning_rate=args.learning_rate, self_training=args.self_training,
                seed=args.seed, verbose=verbose, callbacks=callbacks, **encoder,
            )
        except ValueError as exc:
            raise CLIError(str(exc)) from exc
        if dev_texts is not None:
            scores[kind] = float(ts.metric_score(dev_y, ts.predict_proba(clf, dev_texts)))
        if best is None or (dev_texts is not None and scores[kind] > scores[best[1]]):
            best = (clf, kind)
    assert best is not None
    return best[0], best[1], scores


def cmd_train(args) -> int:
    record = _read_lf_names(args.label_matrix) if args.label_matrix else None
    classes = (record or {}).get("classes")
    text_column = _text_column(args, None, record)
    df = read_table(args.input)
    _require_columns(df, [text_column], args.input)
    P = _load_npy(args.soft_labels, "soft labels")
    L = _load_npy(args.label_matrix, "label matrix") if args.label_matrix else None
    texts = _texts(df[text_column])
    dev = _read_dev_set(args, [text_column])
    label_type = args.label_type or ("auto" if dev is not None else "soft")
    if label_type == "auto" and dev is None:
        raise CLIError(
            "--label-type auto picks soft or hard labels on a gold dev set: "
            "give --dev-input and --dev-gold-column"
        )
    dev_texts = dev_y = None
    if dev is not None:
        dev_texts = _texts(dev[text_column])
        dev_y = _gold(dev, args.dev_gold_column, args.dev_input,
                      P.shape[1] if P.ndim == 2 else 2, classes)
    why = ("--label-type" if args.label_type else
           "the default with a gold dev set" if dev is not None else
           "the default without a gold dev set")
    if not args.quiet:
        print(f"training on {text_column!r}, {label_type} targets ({why})", flush=True)
    clf, kept, scores = _fit_classifier(args, texts, P, L, dev_texts, dev_y, label_type,
                                        args.quiet)
    history = clf.history.history
    print(f"trained {len(history['loss'])} epochs")
    if label_type == "auto":
        other = "hard" if kept == "soft" else "soft"
        print(
            f"targets: auto kept {kept} (gold dev accuracy {_fmt(scores[kept])} with {kept} "
            f"targets, {_fmt(scores[other])} with {other}"
            + ("; a tie keeps soft)" if scores[kept] == scores[other] else ")")
        )
    if dev_texts is not None:
        print(
            f"dev accuracy {_fmt(scores[kept])} "
            f"(best dev loss {min(history['val_loss']):.4f})"
        )
    _save_keras(clf, args.out)
    print(f"classifier -> {args.out}")
    return 0


def cmd_pipeline(args) -> int:
    from tfsnorkel.labeling import LabelingFunctionError
    from tfsnorkel.outputs import MANIFEST_NAME, OutputLockedError
    from tfsnorkel.pipeline import run_pipeline

    lf = read_lf_file(args.lfs, args.cardinality)
    df = read_table(args.input)
    text_column = None if args.no_classifier else _text_column(args, lf)
    columns = [*lf.lfset.fields, *([text_column] if text_column else [])]
    _require_columns(df, list(dict.fromkeys(columns)), args.input)
    dev = _read_dev_set(args, list(dict.fromkeys(columns)))
    if dev is not None:
        y = _gold(dev, args.dev_gold_column, args.dev_input, lf.lfset.cardinality, lf.classes)
        dev = dev.assign(**{args.dev_gold_column: y})
    label_type = args.label_type or ("auto" if dev is not None else "soft")
    if not args.quiet and text_column is not None:
        how = ("trains on soft and on hard targets and keeps the one with the better gold dev "
               "accuracy" if label_type == "auto" else f"{label_type} targets")
        why = ("--label-type" if args.label_type else
               "the default with a gold dev set" if dev is not None else
               "the default without a gold dev set")
        print(f"classifier: reads {text_column!r}; targets {label_type} ({why}): {how}",
              flush=True)
    try:
        result = run_pipeline(
            df,
            lf.lfset,
            text_column=text_column,
            dev=dev,
            gold_column=args.dev_gold_column,
            out_dir=args.out,
            label_type=label_type,
            epochs=args.epochs,
            seed=args.seed,
            verbose=not args.quiet,
            class_names=lf.classes,
        )
    except LabelingFunctionError:
        hint = ("fix the LF, or run `tfsnorkel apply --fault-tolerant` to make it abstain on "
                "such rows")
        _apply(lf, df, args.input, tolerant_hint=hint)
        if dev is not None:
            _apply(lf, dev, args.dev_input, tolerant_hint=hint)
        raise
    except (ValueError, TypeError, OutputLockedError) as exc:
        raise CLIError(_one_line(exc)) from exc
    if result.export_signatures:
        _print_signature_map(Path(args.out) / "saved_model")
    print(f"outputs -> {args.out} (manifest: {Path(args.out) / MANIFEST_NAME})")
    return 0


def _print_signature_map(saved_model: Path) -> None:
    """Says which argument of the SavedModel serves which column (when a name was changed)."""
    from tfsnorkel.export import SIGNATURE_INFO, read_signature_info

    info = read_signature_info(saved_model)
    renamed = {a: c for a, c in info["inputs"].items() if a != c}
    for arg, col in renamed.items():
        print(f"SavedModel argument {arg!r} = column {col!r} "
              f"(map in {saved_model / SIGNATURE_INFO})")
    if info.get("class_names"):
        print(f"SavedModel outputs class_name: one of {info['class_names']}")


def cmd_export(args) -> int:
    import warnings

    import tfsnorkel as ts
    from tfsnorkel.outputs import OutputLockedError

    lf = read_lf_file(args.lfs, args.cardinality) if args.lfs else None
    lfset = None if lf is None else lf.lfset
    lm = clf = None
    if args.label_model:
        lm = _load_label_model(args.label_model)
    if args.classifier:
        clf = _load_keras(args.classifier, "classifier")
    if lfset is None and lm is None and clf is None:
        raise CLIError("nothing to export: give at least one of --lfs, --label-model, --classifier")
    text_column = args.text_column
    if text_column is None and clf is not None and lf is not None:
        fields = lf.text_fields()
        text_column = fields[0] if len(fields) == 1 else None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            signatures = ts.export_pipeline(
                args.out, lfset=lfset, label_model=lm, classifier=clf,
                classifier_input=text_column, class_names=None if lf is None else lf.classes,
            )
    except (ValueError, OutputLockedError) as exc:
        where = f" ({args.classifier})" if "classifier holds" in str(exc) else ""
        if lfset is not None and "does not match the label model" in str(exc):
            where = f" ({args.lfs} vs {args.label_model})"
        raise CLIError(f"{_one_line(exc)}{where}") from exc
    for w in caught:
        if "lf_names" in str(w.message):
            print(f"tfsnorkel: warning: {w.message}", file=sys.stderr)
    what = ", ".join(f"{k}({', '.join(v)})" for k, v in signatures.items())
    print(f"SavedModel -> {args.out}: {what}")
    _print_signature_map(Path(args.out))
    return 0


def cmd_demo(args) -> int:
    from tfsnorkel.demo import run_demo

    scores = run_demo(
        out_dir=Path(args.out), epochs=args.epochs, data_dir=args.data_dir, verbose=not args.quiet
    )
    acc = ", ".join(f"{k.replace('_', ' ')} {_fmt(v['accuracy'])}" for k, v in scores.items())
    print(f"demo: test accuracy {acc}; outputs in {Path(args.out).resolve()}")
    return 0


PRECHECKS = {
    "demo": pre_demo,
    "apply": pre_apply,
    "analyze": pre_analyze,
    "fit": pre_fit,
    "train": pre_train,
    "export": pre_export,
    "pipeline": pre_pipeline,
}


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """Builds the argument parser of the ``tfsnorkel`` command."""
    parser = argparse.ArgumentParser(
        prog="tfsnorkel",
        description="Weak supervision in TensorFlow/Keras: labeling functions -> label model -> classifier.",
    )
    verbose_help = "show full tracebacks on errors and TensorFlow's own log lines"
    parser.add_argument("--verbose", action="store_true", help=verbose_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str, fn):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--verbose", action="store_true", help=verbose_help)
        p.add_argument("--quiet", action="store_true",
                       help="no progress, no tables: the result lines only")
        p.set_defaults(func=fn)
        return p

    p = add(
        "demo", "run the whole pipeline on the YouTube spam data and export a SavedModel", cmd_demo
    )
    p.add_argument(
        "--out", default="tfsnorkel_output", help="output directory (default: %(default)s)"
    )
    p.add_argument(
        "--epochs",
        type=int,
        default=40,
        help="most classifier epochs; early stopping on the gold valid split "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--data-dir", default=None, help="data root (default: $TFSNORKEL_DATA_DIR or download)"
    )

    lf_args = {
        "--cardinality": dict(
            type=int, default=None,
            help="number of classes (default: the LF file's `cardinality`, else the number of "
            "its `classes`, else 2)"
        )
    }

    p = add(
        "apply", "apply the LFs of a Python file to a data file -> label matrix (.npy)", cmd_apply
    )
    p.add_argument("--input", required=True, help="data file: .csv, .tsv, .parquet or .jsonl")
    p.add_argument(
        "--lfs", required=True,
        help="Python file defining `lfs` (and optionally `classes = [names in index order]`, "
        "`cardinality`); it may import modules beside it",
    )
    p.add_argument("--out", required=True, help="where to write the label matrix (.npy)")
    p.add_argument("--batch-size", type=int, default=1024)
    p.add_argument(
        "--fault-tolerant",
        action="store_true",
        help="a Python LF that raises abstains on that row instead of stopping",
    )
    p.add_argument("--cardinality", **lf_args["--cardinality"])

    p = add(
        "analyze",
        "LF summary: polarity, coverage, overlaps, conflicts (+ accuracy with gold)",
        cmd_analyze,
    )
    p.add_argument("--lfs", required=True, help="Python file defining `lfs`")
    p.add_argument("--input", help="data file (to apply the LFs, or to read --gold-column from)")
    p.add_argument("--label-matrix", help="a label matrix (.npy) from `tfsnorkel apply`")
    p.add_argument("--gold-column", help="column of --input holding gold class indices, or the "
                   "class names of the LF file's `classes`")
    p.add_argument("--out", help="write the summary as CSV here")
    p.add_argument("--fault-tolerant", action="store_true",
                   help="a Python LF that raises abstains on that row instead of stopping")
    p.add_argument("--cardinality", **lf_args["--cardinality"])

    p = add(
        "fit",
        "fit the label model on a label matrix -> label model (.keras) + soft labels",
        cmd_fit,
    )
    p.add_argument(
        "--label-matrix",
        required=True,
        help="label matrix (.npy); the LF names `tfsnorkel apply` wrote beside it "
        "(L.lfs.json) are recorded in the label model",
    )
    p.add_argument(
        "--lfs",
        help="the LF file that made the label matrix (records its LF names in the label model; "
        "default: the names beside the label matrix)",
    )
    p.add_argument(
        "--cardinality",
        type=int,
        default=None,
        help="number of classes (default: the LFs' cardinality; without an LF file or "
        "L.lfs.json, 1 + the largest vote); refused when it contradicts the votes",
    )
    p.add_argument("--out", required=True, help="where to save the label model (.keras)")
    p.add_argument("--soft-labels", help="also write the soft labels (.npy) here")
    p.add_argument(
        "--dev-label-matrix",
        help="label matrix (.npy) of a small gold dev set: sets "
        "the class balance from its gold labels",
    )
    p.add_argument("--dev-input", help="the dev set's data file (holds --dev-gold-column)")
    p.add_argument("--dev-gold-column", help="column of --dev-input holding gold class indices "
                   "(or class names, with an LF file declaring `classes`)")
    p.add_argument("--seed", type=int, default=0)

    p = add(
        "train",
        "train the noise-aware text classifier on soft labels -> classifier (.keras)",
        cmd_train,
    )
    p.add_argument("--input", required=True, help="data file with the text column")
    p.add_argument(
        "--text-column",
        default=None,
        help="the text column (default: the LFs' own text field, recorded in the L.lfs.json "
        "beside --label-matrix; else 'text')",
    )
    p.add_argument("--soft-labels", required=True, help="soft labels (.npy) from `tfsnorkel fit`")
    p.add_argument("--label-matrix", help="label matrix (.npy): rows no LF labels are left out")
    p.add_argument("--out", required=True, help="where to save the classifier (.keras)")
    p.add_argument("--dev-input", help="gold dev set file (same text column): early stopping on it")
    p.add_argument("--dev-gold-column", help="column of --dev-input holding gold class indices "
                   "(or class names, with the classes recorded beside --label-matrix)")
    p.add_argument(
        "--label-type",
        choices=("soft", "hard", "auto"),
        default=None,
        help="train on soft labels, their argmax, or both and keep the better gold dev "
        "accuracy (default: auto with a gold dev set, else soft; as `pipeline`)",
    )
    p.add_argument("--epochs", type=int, default=40, help="most epochs (default: %(default)s)")
    p.add_argument(
        "--patience",
        type=int,
        default=None,
        help="epochs without improvement (on the dev set, else training loss) before "
        "stopping (default: the recipe's for the number of classes)",
    )
    p.add_argument(
        "--learning-rate",
        type=float,
        default=None,
        help="Adam's learning rate (default: the recipe's for the number of classes)",
    )
    p.add_argument(
        "--self-training",
        action="store_true",
        help="confidence-thresholded self-training on the rows no LF covers; a round is kept "
        "only when the gold dev score rises (needs --dev-input)",
    )
    p.add_argument(
        "--backbone",
        default=None,
        help="a pretrained BERT-family encoder instead of tf-idf features: a directory of "
        "Hugging Face files (e.g. all-MiniLM-L6-v2) or a keras-hub preset handle; needs "
        "pip install 'tfsnorkel[encoders]' (frozen unless --fine-tune)",
    )
    p.add_argument(
        "--fine-tune",
        action="store_true",
        help="fine-tune the --backbone encoder too (learning rate 3e-5 unless --learning-rate)",
    )
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)

    p = add(
        "export", "write ONE SavedModel serving the LFs, label model and/or classifier", cmd_export
    )
    p.add_argument("--lfs", help="Python file defining `lfs` (compiled LFs only)")
    p.add_argument("--label-model", help="label model (.keras) from `tfsnorkel fit`")
    p.add_argument("--classifier", help="classifier (.keras) from `tfsnorkel train`")
    p.add_argument("--out", required=True, help="SavedModel directory")
    p.add_argument(
        "--text-column",
        default=None,
        help="the column the classifier reads, served under the same argument name as in "
        "weak_label (default: the LFs' text field when --lfs reads one, else the classifier's "
        "input name)",
    )
    p.add_argument("--cardinality", **lf_args["--cardinality"])

    p = add(
        "pipeline",
        "the whole pipeline on your data: apply the LFs, fit the label model, train the text "
        "classifier, export one SavedModel, score on a gold dev set",
        cmd_pipeline,
    )
    p.add_argument("--input", required=True, help="unlabeled data: .csv, .tsv, .parquet or .jsonl")
    p.add_argument("--lfs", required=True, help="Python file defining `lfs`")
    p.add_argument("--out", required=True, help="output directory")
    p.add_argument(
        "--text-column",
        default=None,
        help="the classifier's text (default: the LFs' own text field when they read one, "
        "else 'text')",
    )
    p.add_argument("--no-classifier", action="store_true", help="stop at the label model")
    p.add_argument("--dev-input", help="gold dev set file (same fields)")
    p.add_argument("--dev-gold-column", help="column of --dev-input holding gold class indices "
                   "(or the class names of the LF file's `classes`)")
    p.add_argument(
        "--label-type",
        choices=("soft", "hard", "auto"),
        default=None,
        help="classifier targets (default: auto with a gold dev set, else soft; auto trains "
        "on both and keeps the better gold dev accuracy)",
    )
    p.add_argument(
        "--epochs", type=int, default=40, help="most classifier epochs (default: %(default)s)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cardinality", **lf_args["--cardinality"])
    return parser


def _terminate_cleanly():
    """Makes SIGTERM raise SystemExit(143) in the main thread, so the temporary file of an
    output being written is removed (outputs are renamed into place only when complete).

    Returns:
        The previous handler (to restore), or None when nothing was installed.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGTERM)
    if previous not in (signal.SIG_DFL, None):
        return None

    def stop(signum, frame):  # noqa: ARG001
        print("tfsnorkel: terminated", file=sys.stderr)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    return previous


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tfsnorkel`` command; returns the exit status."""
    global _first_call
    # As the command, count from the process start (this module is imported first).
    start = _IMPORTED_AT if (_first_call and argv is None) else time.perf_counter()
    _first_call = False
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    previous = _terminate_cleanly()
    try:
        return _run(args, start)
    finally:
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)


def _user_errors() -> tuple[type[BaseException], ...]:
    """The errors a shell user can act on (imported only once an error is being handled, so
    that an early error does not wait for pandas)."""
    from tfsnorkel.datasets import DatasetNotFoundError
    from tfsnorkel.outputs import OutputLockedError

    return (CLIError, DatasetNotFoundError, OutputLockedError)


def _run(args, start: float) -> int:
    interactive_before = None
    tf_seconds = 0.0
    try:
        PRECHECKS[args.command](args)  # everything checkable without TensorFlow, first
        if "keras" in sys.modules:
            interactive_before = sys.modules["keras"].config.is_interactive_logging_enabled()
        tf_seconds = _start_tensorflow(show_logs=args.verbose)
        if interactive_before is None:
            interactive_before = True
        code = args.func(args)
    except KeyboardInterrupt:
        print("tfsnorkel: interrupted", file=sys.stderr)
        return 130
    except CLIError as exc:  # (checked first: no import needed)
        if args.verbose:
            traceback.print_exc()
        print(f"tfsnorkel: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except _user_errors() as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"tfsnorkel: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # anything else: one line unless --verbose
        if args.verbose:
            traceback.print_exc()
        print(
            f"tfsnorkel: error: {type(exc).__name__}: {_one_line(exc)} (run with --verbose for "
            "the traceback)",
            file=sys.stderr,
        )
        return 1
    finally:
        for folder in _added_paths:
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)
        _added_paths.clear()
        if interactive_before is not None and "keras" in sys.modules:
            config = sys.modules["keras"].config
            (config.enable_interactive_logging if interactive_before
             else config.disable_interactive_logging)()
    if not getattr(args, "quiet", False) and args.command != "demo":
        total = time.perf_counter() - start
        tf_part = f" (TensorFlow start-up {tf_seconds:.1f} s)" if tf_seconds else ""
        print(f"done in {total:.1f} s{tf_part}")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
