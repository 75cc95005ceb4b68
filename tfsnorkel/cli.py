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

Errors a shell user can act on (a missing file, a missing column, an LF file that fails to import)
print one line ``tfsnorkel: error: ...`` and exit with status 2; ``--verbose`` adds the traceback.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

EXIT_USAGE = 2


class CLIError(Exception):
    """An error with a one-line message for the shell user."""


def _quiet_tensorflow() -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


# ----------------------------------------------------------------------------- input helpers
def read_table(path: str | os.PathLike) -> "pd.DataFrame":  # noqa: F821
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
            f"column {missing[0]!r} not found in {path}; available columns: {', '.join(map(str, df.columns))}"
        )


def load_lf_file(path: str | os.PathLike, cardinality: int | None = None):
    """Imports a Python file that defines ``lfs`` (an LFSet or a list of LFs).

    The file may also define ``cardinality`` (default 2) and ``signed`` (default False).

    Returns:
        A compiled :class:`tfsnorkel.LFSet`.
    """
    import tfsnorkel as ts

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"LF file not found: {p}")
    spec = importlib.util.spec_from_file_location(f"tfsnorkel_user_lfs_{p.stem}", p)
    if spec is None or spec.loader is None:
        raise CLIError(f"cannot import LF file {p}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SystemExit as exc:  # sys.exit() in the LF file: not the command's exit status
        raise CLIError(
            f"LF file {p} called sys.exit({exc.code!r}) while being imported; an LF file must "
            "only define `lfs` (and optionally `cardinality`)"
        ) from exc
    except Exception as exc:  # the user's code: anything can happen
        raise CLIError(f"LF file {p} failed to import: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, "lfs"):
        raise CLIError(f"LF file {p} must define `lfs` (an LFSet or a list of labeling functions)")
    lfs = module.lfs
    if isinstance(lfs, ts.LFSet):
        return lfs
    card = cardinality or getattr(module, "cardinality", 2)
    try:
        return ts.LFSet(list(lfs), cardinality=card, signed=getattr(module, "signed", False))
    except (TypeError, ValueError) as exc:
        raise CLIError(f"LF file {p}: {exc}") from exc


def _load_npy(path: str, what: str):
    import numpy as np

    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{what} file not found: {p}")
    try:
        return np.load(p, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise CLIError(f"cannot read {what} {p}: {exc}") from exc


def _save_npy(path: str, array) -> Path:
    from tfsnorkel.outputs import save_npy

    return save_npy(path, array)


def _gold(df, column: str | None, path: str, cardinality: int | None = None):
    """The gold column as int64 class indices, checked (integral, in range) with one-line errors."""
    from tfsnorkel.labels import check_gold_labels

    if column is None:
        return None
    _require_columns(df, [column], path)
    try:
        return check_gold_labels(df[column].to_numpy(), cardinality=cardinality)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"gold column {column!r} of {path}: {exc}") from exc


# ----------------------------------------------------------------------------- LF names
def lf_names_path(label_matrix: str | os.PathLike) -> Path:
    """Where ``tfsnorkel apply`` records the LFs behind a label matrix: ``L.npy -> L.lfs.json``."""
    p = Path(label_matrix)
    return p.with_name(p.stem + ".lfs.json")


def _write_lf_names(label_matrix: Path, lfset) -> Path:
    import json

    from tfsnorkel.outputs import file_sha256, write_text

    record = {
        "lf_names": lfset.names,
        "cardinality": lfset.cardinality,
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
    except (ValueError, KeyError, TypeError) as exc:
        raise CLIError(f"cannot read the LF names {side}: {type(exc).__name__}: {exc}") from exc
    if digest != file_sha256(label_matrix):
        raise CLIError(
            f"{side} describes another label matrix than {label_matrix} (its SHA-256 differs): "
            "rerun `tfsnorkel apply`, or pass --lfs"
        )
    return {"lf_names": names, "cardinality": card}


def _check_columns(L, names: Sequence[str], what: str, path: str) -> None:
    if L.ndim != 2 or L.shape[1] != len(names):
        raise CLIError(
            f"{what} {path} has {L.shape[1] if L.ndim == 2 else L.shape} columns but {len(names)} "
            f"LFs were given ({', '.join(names)})"
        )


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
    try:
        return keras.saving.load_model(p)
    except Exception as exc:  # keras raises many kinds
        raise CLIError(f"cannot load {what} {p}: {type(exc).__name__}: {exc}") from exc


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


def _read_dev_set(args, columns: Sequence[str]):
    """The gold dev set of ``--dev-input``/``--dev-gold-column`` (None without one), checked."""
    if (args.dev_input is None) != (args.dev_gold_column is None):
        raise CLIError("give --dev-input and --dev-gold-column together (the gold dev set)")
    if args.dev_input is None:
        return None
    dev = read_table(args.dev_input)
    _require_columns(dev, [*columns, args.dev_gold_column], args.dev_input)
    return dev


# ----------------------------------------------------------------------------- commands
def cmd_apply(args) -> int:
    lfset = load_lf_file(args.lfs, args.cardinality)
    df = read_table(args.input)
    _require_columns(df, list(lfset.fields), args.input)
    L = lfset.apply(
        df, batch_size=args.batch_size, progress=not args.quiet, fault_tolerant=args.fault_tolerant
    )
    from tfsnorkel.outputs import OutputLock

    with OutputLock(args.out, is_dir=False):
        out = _save_npy(args.out, L)
        side = _write_lf_names(out, lfset)
    print(f"label matrix {L.shape[0]} x {L.shape[1]} -> {out} (LF names -> {side})")
    return 0


def cmd_analyze(args) -> int:
    import tfsnorkel as ts

    lfset = load_lf_file(args.lfs, args.cardinality)
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
        L = lfset.apply(df, progress=not args.quiet)
    y = None
    if args.gold_column:
        if df is None:
            raise CLIError("--gold-column needs --input (the file that holds the gold column)")
        y = _gold(df, args.gold_column, args.input, lfset.cardinality)
    try:
        summary = ts.lf_summary(L, lfset, y=y)
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(summary.to_string())
    if args.out:
        from tfsnorkel.outputs import write_csv

        write_csv(args.out, summary)
        print(f"summary -> {args.out}")
    return 0


def cmd_fit(args) -> int:
    import pandas as pd

    import tfsnorkel as ts

    L = _load_npy(args.label_matrix, "label matrix")
    # The LFs behind the columns: from --lfs, else the record `tfsnorkel apply` wrote.
    if args.lfs:
        lfset = load_lf_file(args.lfs, args.cardinality)
        names, card = lfset.names, lfset.cardinality
        _check_columns(L, names, "label matrix", args.label_matrix)
        record = _read_lf_names(args.label_matrix)
        if record is not None and record["lf_names"] != names:
            raise CLIError(
                f"label matrix {args.label_matrix} was made by the LFs {record['lf_names']}, "
                f"not by those of {args.lfs} ({names})"
            )
    else:
        record = _read_lf_names(args.label_matrix)
        names = None if record is None else record["lf_names"]
        card = None if record is None else record["cardinality"]
        if names is not None:
            _check_columns(L, names, "label matrix", args.label_matrix)
        else:
            print(
                f"tfsnorkel: warning: no LF names for {args.label_matrix} (neither --lfs nor "
                f"{lf_names_path(args.label_matrix).name} from `tfsnorkel apply`): the label "
                "model cannot check that an LF set exported with it is the same",
                file=sys.stderr,
            )
    if args.cardinality is not None and card is not None and args.cardinality != card:
        raise CLIError(
            f"--cardinality {args.cardinality} differs from the LFs' cardinality {card}"
        )
    cardinality = args.cardinality or card or 2
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
        y_dev = _gold(dev, args.dev_gold_column, args.dev_input, cardinality)
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
        balance = " ".join(f"{k}: {v:.3f}" for k, v in lm.class_balance_.items())
        print(
            f"class balance ({'from the gold dev set' if y_dev is not None else 'learned'}): "
            f"{balance}"
        )
        groups = lm.dependencies_
        print(f"dependency groups (LF columns modelled jointly): {groups if groups else 'none'}")
        with pd.option_context("display.precision", 3, "display.max_rows", 200):
            print(lm.lf_table().to_string())
    print(f"label model -> {args.out}")
    if args.soft_labels:
        out = _save_npy(args.soft_labels, lm.predict_proba(L))
        print(f"soft labels {L.shape[0]} x {cardinality} -> {out}")
    return 0


def cmd_train(args) -> int:
    import tfsnorkel as ts

    df = read_table(args.input)
    _require_columns(df, [args.text_column], args.input)
    P = _load_npy(args.soft_labels, "soft labels")
    L = _load_npy(args.label_matrix, "label matrix") if args.label_matrix else None
    texts = df[args.text_column].fillna("").astype(str).to_numpy()
    dev = _read_dev_set(args, [args.text_column])
    if args.label_type == "auto" and dev is None:
        raise CLIError(
            "--label-type auto picks soft or hard labels on a gold dev set: "
            "give --dev-input and --dev-gold-column"
        )
    dev_texts = dev_y = None
    if dev is not None:
        dev_texts = dev[args.text_column].fillna("").astype(str).to_numpy()
        dev_y = _gold(dev, args.dev_gold_column, args.dev_input,
                      P.shape[1] if P.ndim == 2 else 2)
    try:
        clf = ts.fit_text_classifier(
            texts,
            P,
            L,
            dev_texts=dev_texts,
            dev_y=dev_y,
            label_type=args.label_type,
            epochs=args.epochs,
            patience=args.patience,
            batch_size=args.batch_size,
            learning_rate=args.learning_rate,
            self_training=args.self_training,
            seed=args.seed,
            verbose=0 if args.quiet else "auto",
        )
    except ValueError as exc:
        raise CLIError(str(exc)) from exc
    history = clf.history.history
    print(f"trained {len(history['loss'])} epochs")
    if dev_texts is not None:
        probs = ts.predict_proba(clf, dev_texts)
        print(
            f"dev accuracy {ts.metric_score(dev_y, probs):.3f} "
            f"(best dev loss {min(history['val_loss']):.4f})"
        )
    _save_keras(clf, args.out)
    print(f"classifier -> {args.out}")
    return 0


def cmd_pipeline(args) -> int:
    from tfsnorkel.outputs import MANIFEST_NAME, OutputLockedError
    from tfsnorkel.pipeline import run_pipeline

    lfset = load_lf_file(args.lfs, args.cardinality)
    df = read_table(args.input)
    text_column = None if args.no_classifier else args.text_column
    columns = [*lfset.fields, *([text_column] if text_column else [])]
    _require_columns(df, columns, args.input)
    dev = _read_dev_set(args, columns)
    try:
        run_pipeline(
            df,
            lfset,
            text_column=text_column,
            dev=dev,
            gold_column=args.dev_gold_column,
            out_dir=args.out,
            label_type=args.label_type,
            epochs=args.epochs,
            seed=args.seed,
            verbose=not args.quiet,
        )
    except (ValueError, OutputLockedError) as exc:
        raise CLIError(str(exc)) from exc
    print(f"outputs -> {args.out} (manifest: {Path(args.out) / MANIFEST_NAME})")
    return 0


def cmd_export(args) -> int:
    import warnings

    import tfsnorkel as ts
    from tfsnorkel.outputs import OutputLockedError

    lfset = load_lf_file(args.lfs, args.cardinality) if args.lfs else None
    lm = clf = None
    if args.label_model:
        lm = _load_label_model(args.label_model)
    if args.classifier:
        clf = _load_keras(args.classifier, "classifier")
    if lfset is None and lm is None and clf is None:
        raise CLIError("nothing to export: give at least one of --lfs, --label-model, --classifier")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            ts.export_pipeline(args.out, lfset=lfset, label_model=lm, classifier=clf)
    except (ValueError, OutputLockedError) as exc:
        where = f" ({args.classifier})" if "classifier holds" in str(exc) else ""
        if lfset is not None and "does not match the label model" in str(exc):
            where = f" ({args.lfs} vs {args.label_model})"
        raise CLIError(f"{exc}{where}") from exc
    for w in caught:
        if "lf_names" in str(w.message):
            print(f"tfsnorkel: warning: {w.message}", file=sys.stderr)
    print(f"SavedModel -> {args.out}")
    return 0


def cmd_demo(args) -> int:
    from tfsnorkel.demo import run_demo

    run_demo(
        out_dir=Path(args.out), epochs=args.epochs, data_dir=args.data_dir, verbose=not args.quiet
    )
    return 0


# ----------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    """Builds the argument parser of the ``tfsnorkel`` command."""
    parser = argparse.ArgumentParser(
        prog="tfsnorkel",
        description="Weak supervision in TensorFlow/Keras: labeling functions -> label model -> classifier.",
    )
    parser.add_argument("--verbose", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_: str, fn):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--verbose", action="store_true", help="show full tracebacks on errors")
        p.add_argument("--quiet", action="store_true", help="no progress bars")
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
            type=int, default=None, help="number of classes (default: the LF file's, else 2)"
        )
    }

    p = add(
        "apply", "apply the LFs of a Python file to a data file -> label matrix (.npy)", cmd_apply
    )
    p.add_argument("--input", required=True, help="data file: .csv, .tsv, .parquet or .jsonl")
    p.add_argument(
        "--lfs", required=True, help="Python file defining `lfs` (and optionally `cardinality`)"
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
    p.add_argument("--gold-column", help="column of --input holding gold class indices")
    p.add_argument("--out", help="write the summary as CSV here")
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
        help="number of classes (default: the LFs' cardinality, else 2)",
    )
    p.add_argument("--out", required=True, help="where to save the label model (.keras)")
    p.add_argument("--soft-labels", help="also write the soft labels (.npy) here")
    p.add_argument(
        "--dev-label-matrix",
        help="label matrix (.npy) of a small gold dev set: sets "
        "the class balance from its gold labels",
    )
    p.add_argument("--dev-input", help="the dev set's data file (holds --dev-gold-column)")
    p.add_argument("--dev-gold-column", help="column of --dev-input holding gold class indices")
    p.add_argument("--seed", type=int, default=0)

    p = add(
        "train",
        "train the noise-aware text classifier on soft labels -> classifier (.keras)",
        cmd_train,
    )
    p.add_argument("--input", required=True, help="data file with the text column")
    p.add_argument("--text-column", default="text", help="default: %(default)s")
    p.add_argument("--soft-labels", required=True, help="soft labels (.npy) from `tfsnorkel fit`")
    p.add_argument("--label-matrix", help="label matrix (.npy): rows no LF labels are left out")
    p.add_argument("--out", required=True, help="where to save the classifier (.keras)")
    p.add_argument("--dev-input", help="gold dev set file (same text column): early stopping on it")
    p.add_argument("--dev-gold-column", help="column of --dev-input holding gold class indices")
    p.add_argument(
        "--label-type",
        choices=("soft", "hard", "auto"),
        default="soft",
        help="train on soft labels, their argmax, or whichever wins on the dev set "
        "(default: %(default)s)",
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
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)

    p = add(
        "export", "write ONE SavedModel serving the LFs, label model and/or classifier", cmd_export
    )
    p.add_argument("--lfs", help="Python file defining `lfs` (compiled LFs only)")
    p.add_argument("--label-model", help="label model (.keras) from `tfsnorkel fit`")
    p.add_argument("--classifier", help="classifier (.keras) from `tfsnorkel train`")
    p.add_argument("--out", required=True, help="SavedModel directory")
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
        "--text-column", default="text", help="the classifier's text (default: %(default)s)"
    )
    p.add_argument("--no-classifier", action="store_true", help="stop at the label model")
    p.add_argument("--dev-input", help="gold dev set file (same fields)")
    p.add_argument("--dev-gold-column", help="column of --dev-input holding gold class indices")
    p.add_argument(
        "--label-type",
        choices=("soft", "hard", "auto"),
        default=None,
        help="classifier targets (default: auto with a dev set, else soft)",
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
    _quiet_tensorflow()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    start = time.perf_counter()
    previous = _terminate_cleanly()
    try:
        return _run(args, start)
    finally:
        if previous is not None:
            import signal

            signal.signal(signal.SIGTERM, previous)


def _run(args, start: float) -> int:
    from tfsnorkel.datasets import DatasetNotFoundError
    from tfsnorkel.outputs import OutputLockedError

    try:
        code = args.func(args)
    except (CLIError, DatasetNotFoundError, OutputLockedError) as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"tfsnorkel: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tfsnorkel: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # anything else: one line unless --verbose
        if args.verbose:
            traceback.print_exc()
        print(
            f"tfsnorkel: error: {type(exc).__name__}: {exc} (run with --verbose for the traceback)",
            file=sys.stderr,
        )
        return 1
    if not getattr(args, "quiet", False) and args.command != "demo":
        print(f"done in {time.perf_counter() - start:.1f} s")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
