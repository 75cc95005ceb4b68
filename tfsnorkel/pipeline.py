"""The whole pipeline on a user's data in one call: LFs -> label model -> classifier -> SavedModel.

:func:`run_pipeline` strings together the stages a user otherwise calls one by one (and that
``tfsnorkel pipeline`` runs from the shell): apply the LF set to the unlabeled data, summarise
the LFs (with empirical accuracy when a gold dev set is given), fit the label model, train the
noise-aware text classifier on its soft labels (early-stopped on the dev set when there is
one), export one SavedModel, and score majority vote, the label model and the classifier on
the dev set. Every artefact is written to ``out_dir`` when one is given.

Example:
    >>> import pandas as pd
    >>> from tfsnorkel.labeling import LFSet, keyword_lf
    >>> lfs = LFSet([keyword_lf("free", label=1, field="text"),
    ...              keyword_lf("lunch", label=0, field="text"),
    ...              keyword_lf("cash", label=1, field="text")], cardinality=2)
    >>> import tempfile
    >>> df = pd.DataFrame({"text": ["free cash", "lunch at one", "cash now", "lunch?"] * 10})
    >>> result = run_pipeline(df, lfs, out_dir=tempfile.mkdtemp(), verbose=False)
    >>> result.soft_labels.shape, sorted(result.export_signatures)
    ((40, 2), ['serving_default', 'weak_label'])
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from tfsnorkel.classify.models import predict_proba
from tfsnorkel.classify.training import fit_text_classifier
from tfsnorkel.export import export_pipeline
from tfsnorkel.labeling.analysis import lf_summary
from tfsnorkel.labeling.lfset import LFSet
from tfsnorkel.labelmodel.baselines import MajorityVoter
from tfsnorkel.labelmodel.layer import LabelModel
from tfsnorkel.labels import check_gold_labels
from tfsnorkel.metrics import evaluate
from tfsnorkel.outputs import (
    MANIFEST_NAME,
    OutputLock,
    atomic_path,
    save_npy,
    write_csv,
    write_manifest,
    write_text,
)

__all__ = ["OUTPUTS", "PipelineResult", "run_pipeline"]


@dataclass
class PipelineResult:
    """What :func:`run_pipeline` produced.

    Attributes:
        L: ``[N, m]`` label matrix of the unlabeled data.
        label_model: the fitted :class:`tfsnorkel.LabelModel`.
        soft_labels: ``[N, C]`` soft labels of the unlabeled data.
        summary: the LF summary (on the dev set with gold labels when given, else on the data).
        classifier: the trained text classifier, or `None` when no text column was given.
        scores: dev-set scores ``{"majority_vote": {...}, "label_model": {...},
            "classifier": {...}}``; empty without a dev set. The label model's and the
            classifier's are optimistic: the dev set also made the label model's choices
            (abstain model, co-abstention weight, class balance) and the classifier's epoch
            and targets.
        export_signatures: ``{signature: inputs}`` of the SavedModel, or empty when nothing
            was exported.
        skipped_python_lfs: Python LFs left out of the SavedModel (they cannot be served).

    Example:
        >>> empty = PipelineResult(np.zeros((0, 1), np.int32), None, np.zeros((0, 2)),
        ...                        pd.DataFrame())
        >>> empty.scores, empty.classifier
        ({}, None)
    """

    L: np.ndarray
    label_model: Any
    soft_labels: np.ndarray
    summary: pd.DataFrame
    classifier: keras.Model | None = None
    scores: dict[str, dict[str, float]] = field(default_factory=dict)
    export_signatures: dict[str, list[str]] = field(default_factory=dict)
    skipped_python_lfs: list[str] = field(default_factory=list)


def _say(msg: str, verbose: bool) -> None:
    if verbose:
        print(msg, flush=True)


def _missing(frame: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"column {missing[0]!r} not found in {what}. Received columns: {list(frame.columns)}"
        )


#: Every file or directory a run may write into ``out_dir`` (the manifest lists those it did).
OUTPUTS = (
    "L.npy",
    "soft_labels.npy",
    "label_model.keras",
    "lf_summary.csv",
    "classifier.keras",
    "metrics_dev.json",
    "saved_model",
)


def _write_outputs(out: Path, lfset, L, P, lm, summary, clf, scores, skipped, verbose,
                   text_column=None, class_names=None):
    """The write phase: manifest 'running', each output atomically, stale ones removed,
    manifest 'complete' last (with checksums), all under the caller's lock."""
    write_manifest(out, status="running", extra={"lf_names": lfset.names})
    written = []

    def wrote(name: str) -> None:
        written.append(name)

    save_npy(out / "L.npy", L)
    wrote("L.npy")
    save_npy(out / "soft_labels.npy", P)
    wrote("soft_labels.npy")
    with atomic_path(out / "label_model.keras") as tmp:
        lm.save(tmp)
    wrote("label_model.keras")
    write_csv(out / "lf_summary.csv", summary)
    wrote("lf_summary.csv")
    if clf is not None:
        with atomic_path(out / "classifier.keras") as tmp:
            clf.save(tmp)
        wrote("classifier.keras")
    if scores:
        write_text(out / "metrics_dev.json", json.dumps(scores, indent=2))
        wrote("metrics_dev.json")
    signatures: dict[str, list[str]] = {}
    # Python LFs cannot be served, and without the LF set raw input has no votes to label.
    servable = not skipped
    if servable or clf is not None:
        signatures = export_pipeline(
            out / "saved_model",
            lfset=lfset if servable else None,
            label_model=lm if servable else None,
            classifier=clf,
            classifier_input=text_column if clf is not None else None,
            class_names=class_names,
        )
        wrote("saved_model")
    # A previous run's outputs that this run did not produce would pass for this run's.
    for name in OUTPUTS:
        if name not in written and (out / name).exists():
            p = out / name
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    write_manifest(out, written, extra={"lf_names": lfset.names})
    what = ", ".join(f"{k}({', '.join(v)})" for k, v in signatures.items()) or "nothing"
    _say(f"[5/5] SavedModel -> {out / 'saved_model'}: {what}", verbose)
    if skipped:
        _say(
            f"      Python LFs {skipped} cannot be served: the SavedModel leaves the LF set "
            "and label model out",
            verbose,
        )
    _say(f"      run manifest -> {out / MANIFEST_NAME}", verbose)
    return signatures


def run_pipeline(
    data: pd.DataFrame,
    lfset: LFSet,
    *,
    text_column: str | None = "text",
    dev: pd.DataFrame | None = None,
    gold_column: str | None = None,
    out_dir: str | os.PathLike | None = None,
    label_type: str | None = None,
    epochs: int = 40,
    seed: int = 0,
    verbose: bool = True,
    class_names: Sequence[str] | None = None,
) -> PipelineResult:
    """Applies the LFs, fits the label model, trains the classifier and exports one SavedModel.

    Args:
        data: the unlabeled examples, one row each, with every field the LFs read.
        lfset: the compiled LF set (Python LFs are applied but left out of the SavedModel).
        text_column: the text the classifier reads; `None` skips the classifier (the
            SavedModel then serves LF votes and soft labels only). Defaults to `"text"`.
        dev: a small gold dev set with the same fields; it drives the LF summary's
            empirical accuracy, the classifier's early stopping and choice of targets, and
            the scores. Defaults to `None`.
        gold_column: the dev set's column of gold class indices (required with ``dev``).
            Defaults to `None`.
        out_dir: where to write ``L.npy``, ``soft_labels.npy``, ``label_model.keras``,
            ``lf_summary.csv``, ``classifier.keras``, ``saved_model/`` and
            ``metrics_dev.json``, each atomically (a temporary name, then a rename), and
            ``run_manifest.json``: ``"running"`` before the first write, ``"complete"``
            with every file's SHA-256 after the last (check a directory with
            :func:`tfsnorkel.outputs.verify_run`). Outputs of an earlier run that this run does
            not produce are removed. The directory is locked for the whole run.
            Defaults to `None` (nothing is exported or written).
        label_type: the classifier's targets, ``"soft"``, ``"hard"`` or ``"auto"``.
            Defaults to `None`: ``"auto"`` with a dev set, else ``"soft"``.
        epochs: most classifier epochs. Defaults to `40`.
        seed: seed of the label model and the classifier. Defaults to `0`.
        verbose: print each step and the tables. Defaults to `True`.
        class_names: the classes' names in index order (an LF file's ``classes``): shown in
            the printed class balance and served by the SavedModel as ``class_name``.
            Defaults to `None`.

    Missing values: an LF abstains on a row whose field is missing (``None``/``NaN``); the
    classifier reads a missing text as the empty string, in training, scoring and serving.

    The SavedModel serves each column under :func:`tfsnorkel.export.signature_name` of it
    (``Consumer complaint narrative`` -> ``Consumer_complaint_narrative``) in both signatures;
    the map back is in ``saved_model/assets.extra/tfsnorkel_signature.json``.

    Returns:
        A :class:`PipelineResult`.

    Raises:
        ValueError: a field the LFs read or the text column missing from ``data`` or
            ``dev`` (named), ``dev`` without ``gold_column`` or the reverse, and every error
            of the stages (bad gold labels, an LF returning a label out of range, ...).
        OutputLockedError: another run is writing to ``out_dir``.

    Example:
        >>> result = run_pipeline(df, lfs, dev=df_dev, gold_column="label",
        ...                       out_dir="out/spam")                        # doctest: +SKIP
        >>> result.scores["label_model"]["accuracy"]                          # doctest: +SKIP
        0.9
    """
    if (dev is None) != (gold_column is None):
        raise ValueError(
            "a gold dev set takes dev and gold_column together. Received: "
            f"dev={'None' if dev is None else 'a DataFrame'}, gold_column={gold_column!r}"
        )
    needed = sorted(set(lfset.fields) | ({text_column} if text_column else set()))
    _missing(data, needed, "data")
    y_dev = None
    if dev is not None:
        _missing(dev, [*needed, gold_column], "dev")
        y_dev = check_gold_labels(dev[gold_column].to_numpy(), cardinality=lfset.cardinality)
    if class_names is not None and len(class_names) != lfset.cardinality:
        raise ValueError(
            f"class_names has {len(class_names)} names but the LF set has cardinality "
            f"{lfset.cardinality}. Received: class_names={list(class_names)}"
        )
    out = None if out_dir is None else Path(out_dir)
    if out is None:
        return _run(data, lfset, text_column, dev, gold_column, y_dev, None, label_type, epochs,
                    seed, verbose, class_names)
    if out.exists() and not out.is_dir():
        raise ValueError(f"out_dir must be a directory. Received: out_dir={str(out)!r}")
    with OutputLock(out):
        return _run(data, lfset, text_column, dev, gold_column, y_dev, out, label_type, epochs,
                    seed, verbose, class_names)


def _fmt3(x: float) -> str:
    """Scores and probabilities print with 3 decimals (as every ``tfsnorkel`` command)."""
    return f"{x:.3f}"


def _texts(column: pd.Series) -> np.ndarray:
    """The classifier's text: a missing cell (``None``/``NaN``) is the empty string."""
    return column.fillna("").astype(str).to_numpy()


def _run(data, lfset, text_column, dev, gold_column, y_dev, out, label_type, epochs, seed,
         verbose, class_names=None) -> PipelineResult:
    C = lfset.cardinality

    _say(f"[1/5] applying {len(lfset)} LFs to {len(data)} rows", verbose)
    L = lfset.apply(data, progress=verbose)
    L_dev = None if dev is None else lfset.apply(dev, progress=False)
    summary = lf_summary(L_dev, lfset, y=y_dev) if dev is not None else lf_summary(L, lfset)
    if verbose:
        where = "the gold dev set" if dev is not None else "the data (no gold labels)"
        with pd.option_context(
            "display.width", 160, "display.max_columns", 20, "display.precision", 3
        ):
            shown = summary
            if class_names and "Polarity" in summary.columns:  # the LF file's class names
                shown = summary.assign(Polarity=[[class_names[int(k)] for k in pol]
                                                 for pol in summary["Polarity"]])
            print(f"      LF summary on {where}:\n{shown.to_string(float_format=_fmt3)}")

    _say("[2/5] fitting the label model (class balance, accuracies, correlations"
         + ("; its choices made on the gold dev set)" if dev is not None else ")"), verbose)
    # A gold dev set is used fully: it chooses the abstain model and co-abstention weight and
    # sets the class balance (LabelModel.fit), as it chooses the classifier's epoch below.
    lm = LabelModel(cardinality=C, seed=seed).fit(
        L, L_dev, y_dev, lf_names=lfset.names
    )
    P = lm.predict_proba(L)
    if verbose:
        balance = " ".join(
            f"{k} ({class_names[int(k)]}): {v:.3f}" if class_names else f"{k}: {v:.3f}"
            for k, v in lm.class_balance_.items()
        )
        print(f"      class balance {balance}; dependency groups {lm.dependencies_ or 'none'}")

    clf = None
    if text_column is not None:
        kind = label_type or ("auto" if dev is not None else "soft")
        _say(
            f"[3/5] training the noise-aware text classifier on {text_column!r} ({kind} "
            "targets" + (", early stopping on the dev set)" if dev is not None else ")"),
            verbose,
        )
        clf = fit_text_classifier(
            _texts(data[text_column]),
            P,
            L,
            dev_texts=None if dev is None else _texts(dev[text_column]),
            dev_y=y_dev,
            label_type=kind,
            epochs=epochs,
            seed=seed,
        )
        _say(f"      stopped after {len(clf.history.history['loss'])} epochs", verbose)
        if kind == "auto":
            got = clf.label_type_scores_
            other = "hard" if clf.label_type_ == "soft" else "soft"
            _say(
                f"      targets: auto kept {clf.label_type_} (gold dev accuracy "
                f"{got[clf.label_type_]:.3f} with {clf.label_type_} targets, {got[other]:.3f} "
                f"with {other}" + ("; a tie keeps soft)" if got[other] == got[clf.label_type_]
                                   else ")"),
                verbose,
            )
    else:
        _say("[3/5] no text column: no classifier", verbose)

    scores: dict[str, dict[str, float]] = {}
    if dev is not None:
        metrics = ["accuracy", "f1"] if C == 2 else ["accuracy", "f1_macro"]
        scores["majority_vote"] = evaluate(
            y_dev, MajorityVoter(C).predict_proba(L_dev), metrics, cardinality=C, seed=seed
        )
        scores["label_model"] = evaluate(
            y_dev, lm.predict_proba(L_dev), metrics, cardinality=C, seed=seed
        )
        if clf is not None:
            scores["classifier"] = evaluate(
                y_dev, predict_proba(clf, _texts(dev[text_column])), metrics, cardinality=C,
                seed=seed,
            )
        if verbose:
            table = pd.DataFrame(scores).T[metrics]
            with pd.option_context("display.precision", 3):
                print(
                    f"[4/5] scores on the gold dev set (the label model's choices and the "
                    f"classifier's epoch were made there):\n{table.to_string(float_format=_fmt3)}"
                )
    else:
        _say("[4/5] no gold dev set: no scores", verbose)

    signatures: dict[str, list[str]] = {}
    skipped = lfset.python_lf_names
    if out is not None:
        signatures = _write_outputs(out, lfset, L, P, lm, summary, clf, scores, skipped, verbose,
                                    text_column, class_names)
    else:
        _say("[5/5] no out_dir: nothing written", verbose)
    return PipelineResult(
        L=L,
        label_model=lm,
        soft_labels=P,
        summary=summary,
        classifier=clf,
        scores=scores,
        export_signatures=signatures,
        skipped_python_lfs=list(skipped),
    )
