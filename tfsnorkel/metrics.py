"""Metrics against gold labels (scikit-learn underneath) and per-LF error analysis.

Predictions may contain ``ABSTAIN`` (``-1``): a label model or a vote abstains on rows no LF
covers, and :func:`tfsnorkel.probs_to_preds` with ``tie_break="abstain"`` abstains on ties.
Every scorer therefore takes an explicit ``abstain=`` policy:

* ``"exclude"`` scores only the rows with a prediction and reports ``coverage`` next to it;
* ``"incorrect"`` counts an abstain as a wrong answer (it is never a true positive);
* ``"random"`` replaces each abstain with a uniformly random class (seeded).

Probabilities ``[N, C]`` are turned into predictions by :func:`tfsnorkel.probs_to_preds`
with the given ``tie_break``; ``roc_auc`` uses the probabilities themselves.

Example:
    >>> import numpy as np
    >>> evaluate([0, 1, 1, 0], [0, 1, -1, 1], metrics=["accuracy"])
    {'accuracy': 0.6666666666666666, 'coverage': 0.75, 'n_scored': 3}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from tfsnorkel.labels import (
    ABSTAIN,
    TieBreak,
    check_gold_labels,
    check_label_matrix,
    probs_to_preds,
)

__all__ = [
    "METRICS",
    "confusion_matrix",
    "evaluate",
    "expected_calibration_error",
    "lf_report",
    "metric_score",
    "multilabel_report",
    "multilabel_scores",
]

AbstainPolicy = Literal["exclude", "incorrect", "random"]

#: Names accepted by :func:`metric_score` / :func:`evaluate`.
METRICS: tuple[str, ...] = (
    "accuracy",
    "coverage",
    "f1",
    "f1_macro",
    "f1_micro",
    "precision",
    "precision_macro",
    "precision_micro",
    "recall",
    "recall_macro",
    "recall_micro",
    "roc_auc",
)

_BINARY_ONLY = ("f1", "precision", "recall")


def _resolve(
    y_true: Any,
    y_pred: Any,
    cardinality: int | None,
    tie_break: TieBreak,
    seed: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, int]:
    """Returns gold, hard predictions (may hold ABSTAIN), probabilities or None, cardinality."""
    y = check_gold_labels(y_true, allow_abstain=True)
    arr = np.asarray(y_pred)
    probs = None
    if arr.ndim == 2:
        probs = arr.astype(np.float64)
        if probs.shape[1] < 2:
            raise ValueError(
                f"probabilities must be [N, C] with C >= 2. Received shape: {probs.shape}"
            )
        preds = probs_to_preds(probs, tie_break=tie_break, seed=seed).astype(np.int64)
        c = probs.shape[1]
        if cardinality is not None and cardinality != c:
            raise ValueError(
                f"probabilities have {c} columns but cardinality={cardinality}. "
                f"Received shape: {probs.shape}"
            )
    elif arr.ndim == 1:
        preds = check_gold_labels(arr, allow_abstain=True)
        seen = max(int(y.max(initial=1)), int(preds.max(initial=1))) + 1
        c = cardinality if cardinality is not None else max(2, seen)
    else:
        raise ValueError(
            f"predictions must be [N] class indices or [N, C] probabilities. "
            f"Received shape: {arr.shape}"
        )
    if len(preds) != len(y):
        raise ValueError(
            f"gold labels and predictions differ in length. Received: len(y_true)={len(y)}, "
            f"len(y_pred)={len(preds)}"
        )
    if len(y) == 0:
        raise ValueError("cannot score zero examples. Received: len(y_true)=0")
    bad = (y < 0) | (y >= c)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"gold labels must be class indices in [0, {c - 1}] (no abstains in gold). "
            f"Received: y_true[{row}]={int(y[row])}"
        )
    bad = (preds < ABSTAIN) | (preds >= c)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"predictions must be ABSTAIN (-1) or class indices in [0, {c - 1}]. "
            f"Received: y_pred[{row}]={int(preds[row])}"
        )
    return y, preds, probs, c


def _apply_policy(
    y: np.ndarray,
    preds: np.ndarray,
    probs: np.ndarray | None,
    c: int,
    abstain: AbstainPolicy,
    seed: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Applies the abstain policy; ``"incorrect"`` maps abstains to the never-gold label ``c``."""
    if abstain not in ("exclude", "incorrect", "random"):
        raise ValueError(
            f"abstain must be 'exclude', 'incorrect' or 'random'. Received: abstain={abstain!r}"
        )
    off = preds == ABSTAIN
    if not off.any():
        return y, preds, probs
    if abstain == "exclude":
        keep = ~off
        return y[keep], preds[keep], None if probs is None else probs[keep]
    preds = preds.copy()
    if abstain == "incorrect":
        preds[off] = c
    else:
        preds[off] = np.random.default_rng(seed).integers(0, c, size=int(off.sum()))
    return y, preds, probs


def _score(
    name: str, y: np.ndarray, preds: np.ndarray, probs: np.ndarray | None, c: int, pos_label: int
) -> float:
    labels = list(range(c))
    if name == "accuracy":
        return float(skm.accuracy_score(y, preds))
    if name in _BINARY_ONLY:
        if c != 2:
            raise ValueError(
                f"metric {name!r} is binary; for {c} classes use {name}_macro or {name}_micro. "
                f"Received: metric={name!r}"
            )
        fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}
        # average="micro" over labels=[pos_label] is the binary score, and tolerates the extra
        # "abstained" label of the "incorrect" policy.
        return float(fn[name](y, preds, labels=[pos_label], average="micro", zero_division=0))
    base, _, avg = name.partition("_")
    if base in ("f1", "precision", "recall") and avg in ("macro", "micro"):
        fn = {"f1": skm.f1_score, "precision": skm.precision_score, "recall": skm.recall_score}
        return float(fn[base](y, preds, labels=labels, average=avg, zero_division=0))
    if name == "roc_auc":
        if probs is None:
            raise ValueError(
                "roc_auc needs probabilities [N, C], not hard predictions. "
                "Received: 1-D predictions"
            )
        present = np.unique(y)
        if len(present) < 2:
            raise ValueError(
                "roc_auc needs both classes in the gold labels. "
                f"Received classes: {present.tolist()}"
            )
        if c == 2:
            return float(skm.roc_auc_score(y, probs[:, 1]))
        p = probs / probs.sum(axis=1, keepdims=True)
        return float(skm.roc_auc_score(y, p, multi_class="ovr", labels=labels))
    raise ValueError(f"unknown metric; choose from {list(METRICS)}. Received: metric={name!r}")


def metric_score(
    y_true: np.ndarray | Sequence[int],
    y_pred: np.ndarray | Sequence[int] | Sequence[Sequence[float]],
    metric: str = "accuracy",
    *,
    abstain: AbstainPolicy = "exclude",
    tie_break: TieBreak = "random",
    cardinality: int | None = None,
    pos_label: int = 1,
    seed: int | None = 0,
) -> float:
    """Scores predictions or probabilities against gold labels with one metric.

    Args:
        y_true: ``[N]`` gold class indices.
        y_pred: ``[N]`` predicted class indices (``ABSTAIN`` allowed) or ``[N, C]``
            probabilities (turned into predictions with :func:`tfsnorkel.probs_to_preds`).
        metric: one of :data:`METRICS`. ``f1``/``precision``/``recall`` are binary (class
            ``pos_label``); the ``_macro``/``_micro`` variants work for any cardinality.
            ``coverage`` is the fraction of rows with a prediction. Defaults to `"accuracy"`.
        abstain: ``"exclude"``, ``"incorrect"`` or ``"random"`` (see the module docstring).
            Defaults to `"exclude"`.
        tie_break: tie policy when probabilities are given. Defaults to `"random"`.
        cardinality: number of classes. Defaults to `None` (from the probabilities' width,
            else from the largest label seen, at least 2).
        pos_label: the positive class of binary metrics. Defaults to `1`.
        seed: seed for random tie-breaks and the ``"random"`` abstain policy. Defaults to `0`.

    Returns:
        The score as a float.

    Raises:
        ValueError: unknown metric or policy, lengths differ, labels out of range, or no row
            left to score.

    Example:
        >>> metric_score([0, 1, 1], [0, 1, -1], "accuracy", abstain="incorrect")
        0.6666666666666666
    """
    return evaluate(
        y_true,
        y_pred,
        metrics=[metric],
        abstain=abstain,
        tie_break=tie_break,
        cardinality=cardinality,
        pos_label=pos_label,
        seed=seed,
    )[metric]


def evaluate(
    y_true: np.ndarray | Sequence[int],
    y_pred: np.ndarray | Sequence[int] | Sequence[Sequence[float]],
    metrics: Sequence[str] | None = None,
    *,
    abstain: AbstainPolicy = "exclude",
    tie_break: TieBreak = "random",
    cardinality: int | None = None,
    pos_label: int = 1,
    seed: int | None = 0,
) -> dict[str, float]:
    """Scores predictions or probabilities against gold labels with several metrics.

    Args:
        y_true: ``[N]`` gold class indices.
        y_pred: ``[N]`` predictions (``ABSTAIN`` allowed) or ``[N, C]`` probabilities.
        metrics: names from :data:`METRICS`. Defaults to `None`: accuracy, precision, recall,
            f1 (binary) or accuracy, f1_macro, f1_micro (multiclass), plus roc_auc when
            probabilities are given and every class occurs in the gold labels.
        abstain: abstain policy. Defaults to `"exclude"`.
        tie_break: tie policy for probabilities. Defaults to `"random"`.
        cardinality: number of classes. Defaults to `None` (inferred).
        pos_label: positive class of binary metrics. Defaults to `1`.
        seed: seed for random tie-breaks and abstains. Defaults to `0`.

    Returns:
        ``{metric: score}`` plus ``coverage`` (fraction of rows with a prediction) and
        ``n_scored`` (rows that entered the scores).

    Example:
        >>> import numpy as np
        >>> r = evaluate([0, 1], np.array([[0.8, 0.2], [0.3, 0.7]]))
        >>> r["accuracy"], r["roc_auc"]
        (1.0, 1.0)
    """
    y, preds, probs, c = _resolve(y_true, y_pred, cardinality, tie_break, seed)
    if metrics is None:
        metrics = (
            ["accuracy", "precision", "recall", "f1"]
            if c == 2
            else ["accuracy", "f1_macro", "f1_micro"]
        )
        if probs is not None and len(np.unique(y)) == c:
            metrics.append("roc_auc")
    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric; choose from {list(METRICS)}. Received: {unknown[0]!r}")
    coverage = float(np.mean(preds != ABSTAIN))
    ys, ps, prs = _apply_policy(y, preds, probs, c, abstain, seed)
    out: dict[str, float] = {}
    scored = [m for m in metrics if m != "coverage"]
    if scored and len(ys) == 0:
        raise ValueError(
            "every prediction is ABSTAIN, so abstain='exclude' leaves no row to score. "
            f"Received: {len(y)} rows, coverage=0.0"
        )
    for m in metrics:
        out[m] = coverage if m == "coverage" else _score(m, ys, ps, prs, c, pos_label)
    out["coverage"] = coverage
    out["n_scored"] = len(ys)
    return out


def confusion_matrix(
    y_true: np.ndarray | Sequence[int],
    y_pred: np.ndarray | Sequence[int] | Sequence[Sequence[float]],
    *,
    abstain: AbstainPolicy = "exclude",
    tie_break: TieBreak = "random",
    cardinality: int | None = None,
    seed: int | None = 0,
) -> np.ndarray:
    """Confusion matrix: rows are gold classes, columns predicted classes.

    Args:
        y_true: ``[N]`` gold class indices.
        y_pred: ``[N]`` predictions (``ABSTAIN`` allowed) or ``[N, C]`` probabilities.
        abstain: ``"exclude"`` drops abstained rows; ``"incorrect"`` adds a last column
            counting abstains per gold class; ``"random"`` assigns a random class.
            Defaults to `"exclude"`.
        tie_break: tie policy for probabilities. Defaults to `"random"`.
        cardinality: number of classes. Defaults to `None` (inferred).
        seed: seed for random tie-breaks and abstains. Defaults to `0`.

    Returns:
        ``int64`` array ``[C, C]`` (``[C, C + 1]`` with ``abstain="incorrect"``).

    Example:
        >>> confusion_matrix([0, 1, 1], [0, 1, 0]).tolist()
        [[1, 0], [1, 1]]
    """
    y, preds, probs, c = _resolve(y_true, y_pred, cardinality, tie_break, seed)
    ys, ps, _ = _apply_policy(y, preds, probs, c, abstain, seed)
    labels = list(range(c + 1)) if abstain == "incorrect" else list(range(c))
    cm = skm.confusion_matrix(ys, ps, labels=labels)
    return (cm[:c] if abstain == "incorrect" else cm).astype(np.int64)


def lf_report(
    L: np.ndarray,
    y: np.ndarray | Sequence[int],
    names: Sequence[str] | None = None,
    cardinality: int | None = None,
) -> pd.DataFrame:
    """Per-LF error analysis on a gold dev set.

    For each labeling function (column of ``L``): the classes it votes for (``polarity``),
    ``coverage`` (fraction of rows it labels), ``n_votes``, ``correct``/``incorrect`` votes,
    ``accuracy`` of its votes (NaN for an LF that never votes), and ``precision``,
    ``recall``, ``f1`` of its votes, macro-averaged over its polarity (an abstain counts as
    not predicting the class, so recall is relative to every gold row of the class).

    Args:
        L: ``[N, m]`` label matrix (``ABSTAIN = -1``).
        y: ``[N]`` gold class indices.
        names: LF names. Defaults to `None` (``lf_0, lf_1, ...``).
        cardinality: number of classes. Defaults to `None` (from ``L`` and ``y``).

    Returns:
        A :class:`pandas.DataFrame` indexed by LF name.

    Example:
        >>> import numpy as np
        >>> L = np.array([[1, -1], [1, 0], [-1, 0]])
        >>> lf_report(L, [1, 0, 0], names=["a", "b"])["accuracy"].tolist()
        [0.5, 1.0]
    """
    gold = check_gold_labels(y, allow_abstain=True)
    c = cardinality
    if c is None:
        arr = np.asarray(L)
        c = max(2, int(gold.max(initial=0)) + 1, int(arr.max(initial=0)) + 1 if arr.size else 2)
    L = check_label_matrix(L, cardinality=c, lf_names=names)
    if len(gold) != len(L):
        raise ValueError(
            f"the label matrix has {len(L)} rows but y has {len(gold)}. "
            f"Received: L.shape={L.shape}, len(y)={len(gold)}"
        )
    bad = (gold < 0) | (gold >= c)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"gold labels must be in [0, {c - 1}]. Received: y[{row}]={int(gold[row])}"
        )
    names = list(names) if names is not None else [f"lf_{j}" for j in range(L.shape[1])]
    rows = []
    for j, name in enumerate(names):
        votes = L[:, j].astype(np.int64)
        on = votes != ABSTAIN
        n_votes = int(on.sum())
        correct = int((votes[on] == gold[on]).sum())
        polarity = sorted(int(v) for v in np.unique(votes[on]))
        if polarity:
            pred = np.where(on, votes, c)
            p, r, f, _ = skm.precision_recall_fscore_support(
                gold, pred, labels=polarity, average="macro", zero_division=0
            )
        else:
            p = r = f = 0.0
        rows.append(
            {
                "lf": name,
                "polarity": polarity,
                "coverage": n_votes / len(L) if len(L) else 0.0,
                "n_votes": n_votes,
                "correct": correct,
                "incorrect": n_votes - correct,
                "accuracy": correct / n_votes if n_votes else float("nan"),
                "precision": float(p),
                "recall": float(r),
                "f1": float(f),
            }
        )
    return pd.DataFrame(rows).set_index("lf")


def expected_calibration_error(
    y_true: np.ndarray | Sequence[int],
    probs: np.ndarray | Sequence[Sequence[float]],
    n_bins: int = 15,
) -> float:
    """Expected calibration error of soft labels, on the probability of the predicted class.

    Each row's confidence is its largest probability and its prediction the argmax (the lowest
    class index on ties); rows fall into ``n_bins`` equal-width bins ``(i / n_bins, (i + 1) /
    n_bins]`` of confidence (a confidence of 0 joins the first bin), and the error is
    ``sum_b |B_b| / N * |accuracy(B_b) - mean confidence(B_b)|`` (Guo et al., 2017).

    Args:
        y_true: ``[N]`` gold class indices.
        probs: ``[N, C]`` probabilities (rows summing to 1).
        n_bins: number of equal-width confidence bins. Defaults to `15`.

    Returns:
        The error in ``[0, 1]``; 0 for perfectly calibrated soft labels.

    Raises:
        ValueError: shapes disagree, gold labels lie outside ``[0, C - 1]``, probabilities
            are not finite rows summing to 1, or ``n_bins < 1``.

    Example:
        >>> round(expected_calibration_error([1, 0, 1, 1], [[0.2, 0.8]] * 4), 6)
        0.05
    """
    y = check_gold_labels(y_true)
    p = np.asarray(probs, dtype=np.float64)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be an integer >= 1. Received: n_bins={n_bins!r}")
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(
            f"probs must be [N, C] with one row per gold label. "
            f"Received: probs.shape={p.shape}, len(y_true)={len(y)}"
        )
    if len(y) == 0:
        raise ValueError("no row to score. Received: 0 rows")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0,
                                                                       atol=1e-4):
        bad = int(np.flatnonzero(~np.isfinite(p).all(1) | (p < 0).any(1)
                                 | ~np.isclose(p.sum(1), 1.0, atol=1e-4))[0])
        raise ValueError(
            f"each row of probs must be probabilities summing to 1. "
            f"Received: probs[{bad}]={p[bad].tolist()}"
        )
    if np.any((y < 0) | (y >= p.shape[1])):
        row = int(np.flatnonzero((y < 0) | (y >= p.shape[1]))[0])
        raise ValueError(
            f"gold labels must be in [0, {p.shape[1] - 1}]. Received: y_true[{row}]={int(y[row])}"
        )
    conf = p.max(axis=1)
    right = (p.argmax(axis=1) == y).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    gap = np.abs(np.bincount(bins, right, n_bins) - np.bincount(bins, conf, n_bins))
    return float(gap.sum() / len(y))


def _multilabel_pair(Y_true: Any, Y_pred: Any, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Gold ``[N, C]`` 0/1 and predictions ``[N, C]`` 0/1 (probabilities thresholded)."""
    Y = np.asarray(Y_true)
    P = np.asarray(Y_pred)
    if Y.ndim != 2 or P.shape != Y.shape:
        raise ValueError(
            "Y_true and Y_pred must both be [N, C] with the same shape. "
            f"Received: Y_true.shape={Y.shape}, Y_pred.shape={P.shape}"
        )
    if Y.shape[0] == 0:
        raise ValueError("no row to score. Received: 0 rows")
    if not np.all(np.isin(Y, (0, 1))):
        raise ValueError(
            f"Y_true must hold 0 (absent) or 1 (present). Received values: {np.unique(Y)[:10].tolist()}"
        )
    if P.dtype.kind == "f":
        if not np.all(np.isfinite(P)) or np.any(P < 0) or np.any(P > 1):
            r, c = (int(i) for i in np.argwhere(~np.isfinite(P) | (P < 0) | (P > 1))[0])
            raise ValueError(
                f"Y_pred must be 0/1 predictions or probabilities in [0, 1]. "
                f"Received: Y_pred[{r}, {c}]={P[r, c].item()!r}"
            )
        P = (P >= threshold).astype(np.int64)
    elif not np.all(np.isin(P, (0, 1))):
        raise ValueError(
            f"Y_pred must hold 0/1 predictions. Received values: {np.unique(P)[:10].tolist()}"
        )
    return Y.astype(np.int64), P.astype(np.int64)


def multilabel_scores(Y_true: Any, Y_pred: Any, *, threshold: float = 0.5) -> dict[str, float]:
    """Micro and macro F1 / precision / recall, and per-class accuracy averaged, for multi-label.

    Micro averages count every (row, class) decision once, so frequent classes weigh more;
    macro averages the per-class scores (a class never predicted nor present scores 0, as in
    scikit-learn with ``zero_division=0``). ``subset_accuracy`` is the share of rows whose whole
    label set is right, ``hamming_accuracy`` the share of right (row, class) decisions.

    Args:
        Y_true: ``[N, C]`` gold 0/1.
        Y_pred: ``[N, C]`` 0/1 predictions, or probabilities (thresholded at ``threshold``).
        threshold: probability at or above which a class is predicted present.
            Defaults to `0.5`.

    Returns:
        ``{"f1_micro", "f1_macro", "precision_micro", "precision_macro", "recall_micro",
        "recall_macro", "subset_accuracy", "hamming_accuracy"}``.

    Raises:
        ValueError: shapes differ, no rows, or values that are not 0/1 (or probabilities).

    Example:
        >>> s = multilabel_scores([[1, 0], [1, 1]], [[1, 0], [0, 1]])
        >>> round(s["f1_micro"], 4), round(s["f1_macro"], 4), s["subset_accuracy"]
        (0.8, 0.8333, 0.5)
    """
    Y, P = _multilabel_pair(Y_true, Y_pred, threshold)
    out = {}
    for avg in ("micro", "macro"):
        out[f"f1_{avg}"] = float(skm.f1_score(Y, P, average=avg, zero_division=0))
        out[f"precision_{avg}"] = float(
            skm.precision_score(Y, P, average=avg, zero_division=0)
        )
        out[f"recall_{avg}"] = float(skm.recall_score(Y, P, average=avg, zero_division=0))
    out["subset_accuracy"] = float(skm.accuracy_score(Y, P))
    out["hamming_accuracy"] = float((Y == P).mean())
    return out


def multilabel_report(
    Y_true: Any,
    Y_pred: Any,
    *,
    threshold: float = 0.5,
    class_names: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-class precision, recall, F1, accuracy and support of multi-label predictions.

    Args:
        Y_true: ``[N, C]`` gold 0/1.
        Y_pred: ``[N, C]`` 0/1 predictions, or probabilities (thresholded at ``threshold``).
        threshold: probability at or above which a class is predicted present.
            Defaults to `0.5`.
        class_names: row labels. Defaults to `None` (class indices).

    Returns:
        A DataFrame indexed by class with columns ``precision``, ``recall``, ``f1``,
        ``accuracy``, ``support`` (gold positives) and ``predicted`` (predicted positives).

    Example:
        >>> multilabel_report([[1, 0], [1, 1]], [[1, 0], [0, 1]])["f1"].round(4).tolist()
        [0.6667, 1.0]
    """
    Y, P = _multilabel_pair(Y_true, Y_pred, threshold)
    c = Y.shape[1]
    if class_names is not None and len(class_names) != c:
        raise ValueError(
            f"class_names needs one name per class ({c}). Received: {len(class_names)} names"
        )
    prec, rec, f1, support = skm.precision_recall_fscore_support(
        Y, P, average=None, zero_division=0
    )
    return pd.DataFrame(
        {
            "precision": prec,
            "recall": rec,
            "f1": f1,
            "accuracy": (Y == P).mean(0),
            "support": support.astype(np.int64),
            "predicted": P.sum(0).astype(np.int64),
        },
        index=pd.Index(list(class_names) if class_names is not None else range(c), name="class"),
    )
