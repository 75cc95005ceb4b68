"""LF development loop: where to write the next LF, and what adding/removing one changes.

Weak supervision meets active learning here. Each helper ranks or samples examples
reproducibly (a ``seed`` breaks ties and draws samples) and returns a pandas DataFrame indexed by
the original row (the label of ``data``'s index when ``data`` is given, else the row position):

* :func:`uncovered_examples`: rows no LF labels, the first place to look for a new LF;
* :func:`conflict_examples`: rows on which the LFs disagree most (entropy of their votes);
* :func:`uncertain_examples`: rows on which the label model is least sure (entropy or margin);
* :func:`lf_ablation` / :func:`lf_addition`: what removing each LF, or adding a candidate LF,
  does to coverage and to metrics on a gold dev set, with a pluggable label model.

Everything works on plain arrays: label matrices ``[N, m]`` (``ABSTAIN = -1``), probabilities
``[N, C]`` and gold labels, so any LF engine or label model plugs in.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import entropy as _entropy
from sklearn.metrics import accuracy_score, f1_score

from tfsnorkel.labelmodel.baselines import MajorityVoter
from tfsnorkel.labels import ABSTAIN, check_label_matrix, probs_to_preds

__all__ = [
    "conflict_examples",
    "lf_ablation",
    "lf_addition",
    "uncertain_examples",
    "uncovered_examples",
]

ModelFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""``(L_train, L_dev) -> probs_dev [N_dev, C]``: fits on ``L_train``, scores ``L_dev``."""

MetricFn = Callable[[np.ndarray, np.ndarray], float]
"""``(y_true, y_pred) -> float``; ``y_pred`` may hold ``ABSTAIN`` with ``tie_break="abstain"``."""

_DECIMALS = 12  # entropies equal to 12 decimals are ties (summation order differs by an ulp)


# --------------------------------------------------------------------------------------------
# Shared checks and frame building
# --------------------------------------------------------------------------------------------


def _as_frame(data: pd.DataFrame | pd.Series | None, n: int) -> pd.DataFrame | None:
    if data is None:
        return None
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        raise TypeError(
            f"data must be a pandas DataFrame or Series. Received: {type(data).__name__}"
        )
    if len(data) != n:
        raise ValueError(
            f"data must have one row per label-matrix row ({n}). Received: {len(data)} rows"
        )
    return data


def _check_n(n: int | None, available: int, what: str) -> int:
    if n is None:
        return available
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        shown = n.item() if isinstance(n, np.generic) else n
        raise ValueError(f"n must be a non-negative integer or None. Received: n={shown!r}")
    if n > available:
        raise ValueError(
            f"asked for {n} {what} examples but only {available} rows are {what}. Received: n={n}"
        )
    return int(n)


def _frame(
    rows: np.ndarray, data: pd.DataFrame | None, columns: Mapping[str, np.ndarray | list]
) -> pd.DataFrame:
    """``data``'s rows (or an empty-column frame) plus diagnostic columns, original index."""
    if data is None:
        out = pd.DataFrame(index=pd.Index(rows.astype(np.int64)))
    else:
        clash = [c for c in columns if c in data.columns]
        if clash:
            raise ValueError(
                f"data already has column(s) {clash} that this helper adds; rename them. "
                f"Received columns: {list(map(str, data.columns))}"
            )
        out = data.iloc[rows].copy()
    for name, values in columns.items():
        out[name] = values
    return out


def _rank(
    keys: Sequence[np.ndarray], n_rows: int, rows: np.ndarray, seed: int | None
) -> np.ndarray:
    """Sorts ``rows`` ascending by ``keys`` (most significant first), ties in seeded order."""
    tie = np.random.default_rng(seed).permutation(n_rows)[rows]
    order = np.lexsort((tie, *reversed([np.asarray(k) for k in keys])))
    return rows[order]


def _vote_counts(L: np.ndarray, cardinality: int) -> np.ndarray:
    """``[N, C]`` number of votes per class (abstains ignored)."""
    return np.stack([(L == c).sum(axis=1) for c in range(cardinality)], axis=1)


def _lf_names(names: Sequence[Hashable] | None, m: int) -> list[Hashable]:
    if names is None:
        return list(range(m))
    names = list(names)
    if len(names) != m:
        raise ValueError(
            f"names must have one entry per LF column ({m}). Received: {len(names)} names"
        )
    if len(set(names)) != m:
        dup = next(x for i, x in enumerate(names) if x in names[:i])
        raise ValueError(f"LF names must be unique. Received: {dup!r} twice")
    return names


# --------------------------------------------------------------------------------------------
# Where to write the next LF
# --------------------------------------------------------------------------------------------


def uncovered_examples(
    L: np.ndarray | Sequence[Sequence[int]],
    data: pd.DataFrame | pd.Series | None = None,
    n: int | None = None,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Rows that no LF labels (every vote ``ABSTAIN``), optionally a reproducible sample.

    With ``n=None`` all uncovered rows come back in their original order. With ``n`` they are a
    random sample in random order, drawn with ``seed``: the sample of size ``n`` is the first
    ``n`` rows of any larger sample with the same seed, so reading further never reshuffles.

    Args:
        L: ``[N, m]`` label matrix.
        data: the ``N`` examples (DataFrame or Series) to show. Defaults to `None` (the result
            then has no columns, only the index of row positions).
        n: how many to return. Defaults to `None` (all).
        seed: sampling seed. Defaults to `0`.

    Returns:
        The uncovered rows of ``data`` (all its columns, its index), or an empty-column
        DataFrame indexed by row position.

    Raises:
        ValueError: ``n`` exceeds the number of uncovered rows; ``data`` has the wrong length.

    Example:
        >>> L = np.array([[0, -1], [-1, -1], [1, 1], [-1, -1]])
        >>> uncovered_examples(L).index.tolist()
        [1, 3]
        >>> df = pd.DataFrame({"text": ["a", "b", "c", "d"]}, index=[10, 11, 12, 13])
        >>> uncovered_examples(L, df)["text"].tolist()
        ['b', 'd']
    """
    L = check_label_matrix(L)
    frame = _as_frame(data, len(L))
    rows = np.flatnonzero((L == ABSTAIN).all(axis=1))
    k = _check_n(n, len(rows), "uncovered")
    if n is not None:
        rows = np.random.default_rng(seed).permutation(rows)[:k]
    return _frame(rows, frame, {})


def conflict_examples(
    L: np.ndarray | Sequence[Sequence[int]],
    n: int | None = None,
    *,
    data: pd.DataFrame | pd.Series | None = None,
    names: Sequence[Hashable] | None = None,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Rows on which the LFs disagree, most conflicted first.

    A row is in conflict when its non-abstain votes name at least two classes. Rows are ranked
    by the entropy (in bits) of their vote distribution, highest first (an even 2-2 split
    outranks a 3-1 split), then by the number of votes (more disagreeing votes first), then in
    a random order drawn with ``seed``.

    Args:
        L: ``[N, m]`` label matrix.
        n: how many to return. Defaults to `None` (every conflicted row).
        data: the ``N`` examples to show alongside. Defaults to `None`.
        names: one name per LF column, used in ``votes``. Defaults to `None` (column indices).
        seed: tie-breaking seed. Defaults to `0`.

    Returns:
        A DataFrame, one row per conflicted example in rank order, indexed like ``data`` (or by
        row position), with ``data``'s columns and ``entropy`` (bits), ``n_classes`` (distinct
        classes voted), ``n_votes`` and ``votes`` (``{lf_name: vote}`` of the LFs that voted).

    Raises:
        ValueError: ``n`` exceeds the number of conflicted rows; bad ``L``/``data``/``names``.

    Example:
        >>> L = np.array([[0, 1, -1], [0, 0, 1], [1, 1, 1], [0, 1, 2]])
        >>> out = conflict_examples(L, names=["a", "b", "c"])
        >>> out.index.tolist(), out["n_classes"].tolist()
        ([3, 0, 1], [3, 2, 2])
        >>> out.loc[0, "votes"]
        {'a': 0, 'b': 1}
    """
    L = check_label_matrix(L)
    lf_names = _lf_names(names, L.shape[1])
    frame = _as_frame(data, len(L))
    cardinality = max(int(L.max(initial=ABSTAIN)) + 1, 1)
    counts = _vote_counts(L, cardinality)
    n_classes = (counts > 0).sum(axis=1)
    rows = np.flatnonzero(n_classes >= 2)
    k = _check_n(n, len(rows), "conflicted")
    ent = _entropy(counts[rows], base=2, axis=1) if len(rows) else np.zeros(0)
    n_votes = counts[rows].sum(axis=1)
    ranked = _rank([-np.round(ent, _DECIMALS), -n_votes], len(L), rows, seed)[:k]
    sel = np.searchsorted(rows, ranked)  # rows is sorted: where each ranked row sits in it
    votes = [
        {lf_names[j]: int(L[r, j]) for j in np.flatnonzero(L[r] != ABSTAIN)} for r in ranked
    ]
    return _frame(
        ranked,
        frame,
        {
            "entropy": ent[sel] if len(sel) else np.zeros(0),
            "n_classes": n_classes[ranked],
            "n_votes": n_votes[sel] if len(sel) else np.zeros(0, np.int64),
            "votes": votes,
        },
    )


def _check_probs(probs: np.ndarray | Sequence[Sequence[float]], what: str = "probs") -> np.ndarray:
    P = np.asarray(probs, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(f"{what} must be 2-D [N, C] with C >= 2. Received shape: {P.shape}")
    bad = ~np.isfinite(P) | (P < 0) | (P > 1)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{what} must be finite and in [0, 1]. "
            f"Received: {float(P[row, col])!r} at row {row}, class {col}"
        )
    off = np.abs(P.sum(axis=1) - 1.0) > 1e-4
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"each row of {what} must sum to 1. "
            f"Received: row {row} sums to {float(P[row].sum())!r}"
        )
    return P


def uncertain_examples(
    probs: np.ndarray | Sequence[Sequence[float]],
    n: int | None = None,
    *,
    data: pd.DataFrame | pd.Series | None = None,
    by: Literal["entropy", "margin"] = "entropy",
    L: np.ndarray | None = None,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Rows on which the label model is least certain, most uncertain first.

    ``by="entropy"`` ranks by the entropy of the soft label (bits, highest first), then by
    margin; ``by="margin"`` ranks by the gap between the two largest probabilities (smallest
    first), then by entropy; remaining ties go in a random order drawn with ``seed``. Passing
    ``L`` leaves out rows that no LF labels: there the label model only repeats its class prior,
    and :func:`uncovered_examples` is the better tool.

    Args:
        probs: ``[N, C]`` soft labels, rows summing to 1.
        n: how many to return. Defaults to `None` (all candidate rows).
        data: the ``N`` examples to show alongside. Defaults to `None`.
        by: ``"entropy"`` or ``"margin"``. Defaults to `"entropy"`.
        L: the ``[N, m]`` label matrix, to skip uncovered rows. Defaults to `None`.
        seed: tie-breaking seed. Defaults to `0`.

    Returns:
        A DataFrame in rank order with ``data``'s columns (if given) and ``entropy`` (bits),
        ``margin``, ``max_prob`` and ``pred`` (the argmax, ``ABSTAIN`` on an exact tie).

    Raises:
        ValueError: malformed ``probs`` (the message names the row), ``L`` of another length,
            ``n`` larger than the candidate rows.

    Example:
        >>> P = np.array([[0.9, 0.1], [0.5, 0.5], [0.3, 0.7]])
        >>> out = uncertain_examples(P)
        >>> out.index.tolist(), out["margin"].round(2).tolist(), out["pred"].tolist()
        ([1, 2, 0], [0.0, 0.4, 0.8], [-1, 1, 0])
    """
    P = _check_probs(probs)
    if by not in ("entropy", "margin"):
        raise ValueError(f"by must be 'entropy' or 'margin'. Received: by={by!r}")
    frame = _as_frame(data, len(P))
    if L is not None:
        L = check_label_matrix(L)
        if len(L) != len(P):
            raise ValueError(
                f"L must have one row per probs row ({len(P)}). Received: {len(L)} rows"
            )
        rows = np.flatnonzero((L != ABSTAIN).any(axis=1))
    else:
        rows = np.arange(len(P))
    k = _check_n(n, len(rows), "covered" if L is not None else "available")
    ent = _entropy(P, base=2, axis=1)
    top2 = np.sort(P, axis=1)[:, -2:]
    margin = top2[:, 1] - top2[:, 0]
    e_key, m_key = -np.round(ent[rows], _DECIMALS), np.round(margin[rows], _DECIMALS)
    keys = [e_key, m_key] if by == "entropy" else [m_key, e_key]
    ranked = _rank(keys, len(P), rows, seed)[:k]
    preds = probs_to_preds(P[ranked], "abstain") if len(ranked) else np.zeros(0, np.int32)
    return _frame(
        ranked,
        frame,
        {
            "entropy": ent[ranked],
            "margin": margin[ranked],
            "max_prob": P[ranked].max(axis=1) if len(ranked) else np.zeros(0),
            "pred": preds,
        },
    )


# --------------------------------------------------------------------------------------------
# What removing / adding an LF changes
# --------------------------------------------------------------------------------------------


def _default_metrics(cardinality: int) -> dict[str, MetricFn]:
    if cardinality == 2:

        def f1(y: np.ndarray, p: np.ndarray) -> float:
            return float(f1_score(y, p, labels=[1], average="macro", zero_division=0))

    else:

        def f1(y: np.ndarray, p: np.ndarray) -> float:
            return float(
                f1_score(y, p, labels=list(range(cardinality)), average="macro", zero_division=0)
            )

    return {"accuracy": lambda y, p: float(accuracy_score(y, p)), "f1": f1}


def _coverage(L: np.ndarray) -> float:
    return float((L != ABSTAIN).any(axis=1).mean()) if len(L) else 0.0


class _Evaluator:
    """Coverage and dev metrics of one LF subset, with shared settings."""

    def __init__(
        self,
        L: np.ndarray,
        L_dev: np.ndarray | None,
        y_dev: np.ndarray | None,
        model_fn: ModelFn | None,
        metrics: Mapping[str, MetricFn] | None,
        cardinality: int,
        tie_break: Literal["abstain", "random", "prior"],
        seed: int | None,
    ) -> None:
        self.L, self.L_dev, self.y_dev = L, L_dev, y_dev
        self.model_fn, self.cardinality = model_fn, cardinality
        self.tie_break, self.seed = tie_break, seed
        self.metrics = dict(_default_metrics(cardinality) if metrics is None else metrics)
        for name, fn in self.metrics.items():
            if not isinstance(name, str) or not callable(fn):
                raise TypeError(
                    f"metrics must map names to callables (y_true, y_pred) -> float. "
                    f"Received: {name!r}: {fn!r}"
                )

    def __call__(self, L: np.ndarray, L_dev: np.ndarray | None, what: str) -> dict[str, float]:
        out = {"coverage": _coverage(L)}
        if L_dev is None:
            return out
        out["dev_coverage"] = _coverage(L_dev)
        if self.y_dev is None:
            return out
        if self.model_fn is None:
            P = MajorityVoter(self.cardinality).predict_proba(L_dev)
        else:
            P = np.asarray(self.model_fn(L, L_dev), dtype=np.float64)
            if P.shape != (len(L_dev), self.cardinality) or not np.isfinite(P).all():
                raise ValueError(
                    f"model_fn must return finite probabilities of shape "
                    f"({len(L_dev)}, {self.cardinality}) for the dev set; with {what} it "
                    f"returned shape {P.shape}" + ("" if np.isfinite(P).all() else " with NaN/inf")
                )
        preds = probs_to_preds(P, self.tie_break, seed=self.seed)
        for name, fn in self.metrics.items():
            out[f"dev_{name}"] = float(fn(self.y_dev, preds))
        return out


def _setup(
    L: np.ndarray | Sequence[Sequence[int]],
    y_dev: np.ndarray | Sequence[int] | None,
    L_dev: np.ndarray | Sequence[Sequence[int]] | None,
    cardinality: int | None,
    extra: Sequence[np.ndarray] = (),
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None, int]:
    L = check_label_matrix(L)
    if y_dev is not None and L_dev is None:
        raise ValueError(
            "y_dev needs L_dev, the label matrix of the same dev rows. Received: L_dev=None"
        )
    Ld = None if L_dev is None else check_label_matrix(L_dev)
    if Ld is not None and Ld.shape[1] != L.shape[1]:
        raise ValueError(
            f"L_dev must have the same LF columns as L ({L.shape[1]}). "
            f"Received: {Ld.shape[1]} columns"
        )
    y = None
    if y_dev is not None:
        y = np.asarray(y_dev)
        assert Ld is not None
        if y.ndim != 1 or len(y) != len(Ld):
            raise ValueError(
                f"y_dev must hold one gold label per L_dev row ({len(Ld)}). "
                f"Received shape: {y.shape}"
            )
        if y.dtype.kind not in "iu":
            raise TypeError(f"y_dev must hold integer class indices. Received dtype: {y.dtype}")
    if cardinality is None:
        highs = [L.max(initial=0)] + [a.max(initial=0) for a in (Ld, y, *extra) if a is not None]
        cardinality = max(2, int(max(highs)) + 1)
    for arr in (L, Ld):
        if arr is not None:
            check_label_matrix(arr, cardinality)
    if y is not None and ((y < 0) | (y >= cardinality)).any():
        row = int(np.flatnonzero((y < 0) | (y >= cardinality))[0])
        raise ValueError(
            f"y_dev must be class indices in [0, {cardinality - 1}] (no ABSTAIN in gold labels). "
            f"Received: {y[row].item()!r} at row {row}"
        )
    return L, Ld, y, cardinality


def _with_deltas(
    rows: list[dict[str, float]], base: dict[str, float], index: pd.Index
) -> pd.DataFrame:
    out = pd.DataFrame(rows, index=index)
    for key, value in base.items():
        out[f"delta_{key}"] = out[key] - value
    order = [c for k in base for c in (k, f"delta_{k}")]
    return out[[c for c in out.columns if c not in order] + order]


def lf_ablation(
    L: np.ndarray | Sequence[Sequence[int]],
    y_dev: np.ndarray | Sequence[int] | None = None,
    L_dev: np.ndarray | Sequence[Sequence[int]] | None = None,
    *,
    names: Sequence[Hashable] | None = None,
    model_fn: ModelFn | None = None,
    metrics: Mapping[str, MetricFn] | None = None,
    cardinality: int | None = None,
    tie_break: Literal["abstain", "random", "prior"] = "random",
    seed: int | None = 0,
) -> pd.DataFrame:
    """What removing each LF does to coverage and to dev metrics, one row per LF.

    For every LF ``j`` the LF set without column ``j`` is evaluated and compared with the full
    set: ``delta_x = x(without j) - x(all LFs)``, so a negative ``delta_dev_accuracy`` means the
    LF helps and a positive one means the set is better without it.

    The label model is ``model_fn(L_train, L_dev) -> probs_dev``; by default, majority vote
    (vote shares per class; rows without votes get the uniform distribution). Hard predictions
    come from :func:`tfsnorkel.labels.probs_to_preds` with ``tie_break`` and ``seed``; the same
    seed is used for every subset, so differences are due to the LF, not to tie-breaking noise.
    With ``tie_break="abstain"``, abstained dev predictions count as errors.

    Args:
        L: ``[N, m]`` label matrix (the unlabeled training set).
        y_dev: gold labels of the dev set. Defaults to `None` (coverage only).
        L_dev: ``[N_dev, m]`` label matrix of the dev set. Defaults to `None`.
        names: one name per LF column (the result's index). Defaults to `None` (``0..m-1``).
        model_fn: the label model, ``(L_train, L_dev) -> [N_dev, C]`` probabilities.
            Defaults to `None` (majority vote).
        metrics: ``{name: fn(y_true, y_pred)}``, reported as ``dev_<name>``. Defaults to
            `None`: ``accuracy`` (sklearn ``accuracy_score``) and ``f1`` (sklearn ``f1_score``:
            of class 1 when binary, macro-averaged otherwise).
        cardinality: number of classes. Defaults to `None` (inferred, at least 2).
        tie_break: ``probs_to_preds`` tie policy. Defaults to `"random"`.
        seed: ``probs_to_preds`` seed. Defaults to `0`.

    Returns:
        A DataFrame indexed by LF (index name ``"lf"``) with ``lf_coverage`` (the LF's own
        coverage of ``L``), then pairs ``x``/``delta_x`` for ``coverage`` (of ``L``), and, with
        ``L_dev``, ``dev_coverage``, and with ``y_dev``, each ``dev_<metric>``. The values of the
        full LF set are in ``result.attrs["baseline"]``.

    Raises:
        ValueError: mismatched shapes, gold labels out of range, ``model_fn`` returning the wrong
            shape (the message names the LF removed).

    Example:
        >>> L = np.array([[1, -1, 1], [0, 0, -1], [-1, 1, -1], [-1, -1, 0]])
        >>> out = lf_ablation(L, y_dev=[1, 0, 1, 0], L_dev=L, names=["a", "b", "c"],
        ...                   tie_break="abstain")
        >>> out["delta_coverage"].tolist()
        [0.0, -0.25, -0.25]
        >>> out["dev_accuracy"].tolist(), out.attrs["baseline"]["dev_accuracy"]
        ([1.0, 0.75, 0.75], 1.0)
    """
    L, Ld, y, c = _setup(L, y_dev, L_dev, cardinality)
    lf_names = _lf_names(names, L.shape[1])
    ev = _Evaluator(L, Ld, y, model_fn, metrics, c, tie_break, seed)
    base = ev(L, Ld, "all LFs")
    rows = []
    for j, name in enumerate(lf_names):
        keep = np.arange(L.shape[1]) != j
        res = ev(L[:, keep], None if Ld is None else Ld[:, keep], f"LF {name!r} removed")
        rows.append({"lf_coverage": _coverage(L[:, j : j + 1]), **res})
    out = _with_deltas(rows, base, pd.Index(lf_names, name="lf"))
    out.attrs["baseline"] = base
    return out


def lf_addition(
    L: np.ndarray | Sequence[Sequence[int]],
    new_column: np.ndarray | Sequence[int] | Sequence[Sequence[int]],
    y_dev: np.ndarray | Sequence[int] | None = None,
    L_dev: np.ndarray | Sequence[Sequence[int]] | None = None,
    new_column_dev: np.ndarray | Sequence[int] | Sequence[Sequence[int]] | None = None,
    *,
    new_names: Sequence[Hashable] | None = None,
    model_fn: ModelFn | None = None,
    metrics: Mapping[str, MetricFn] | None = None,
    cardinality: int | None = None,
    tie_break: Literal["abstain", "random", "prior"] = "random",
    seed: int | None = 0,
) -> pd.DataFrame:
    """What adding a candidate LF (or each of several) does to coverage and dev metrics.

    Each candidate column is appended, alone, to the current LF set and the result compared
    with the current set: ``delta_x = x(with candidate) - x(current LFs)``. The label model,
    tie-breaking and metrics work as in :func:`lf_ablation`.

    Args:
        L: ``[N, m]`` label matrix of the current LFs.
        new_column: the candidate's votes on the same rows, ``[N]``, or ``[N, k]`` for ``k``
            candidates evaluated one at a time.
        y_dev: gold labels of the dev set. Defaults to `None` (coverage only).
        L_dev: ``[N_dev, m]`` current LFs on the dev set. Defaults to `None`.
        new_column_dev: the candidates' votes on the dev set (needed with ``L_dev``).
            Defaults to `None`.
        new_names: one name per candidate. Defaults to `None` (``"candidate"``, or
            ``"candidate_0"...`` for several).
        model_fn: the label model, ``(L_train, L_dev) -> [N_dev, C]``. Defaults to `None`
            (majority vote).
        metrics: ``{name: fn(y_true, y_pred)}``. Defaults to `None` (accuracy and F1).
        cardinality: number of classes. Defaults to `None` (inferred, at least 2).
        tie_break: ``probs_to_preds`` tie policy. Defaults to `"random"`.
        seed: ``probs_to_preds`` seed. Defaults to `0`.

    Returns:
        A DataFrame indexed by candidate (index name ``"lf"``) with ``lf_coverage`` (the
        candidate's own coverage of ``L``'s rows), with ``y_dev`` also ``lf_dev_accuracy`` (its
        accuracy on the dev rows it labels, NaN when it labels none), then pairs ``x``/``delta_x``
        as in :func:`lf_ablation`. ``result.attrs["baseline"]`` holds the current set's values.

    Raises:
        ValueError: a candidate column of the wrong length, ``L_dev`` without
            ``new_column_dev``, and the checks of :func:`lf_ablation`.

    Example:
        >>> L = np.array([[1, -1], [0, 0], [-1, -1], [-1, -1]])
        >>> out = lf_addition(L, [-1, -1, 1, 0], new_names=["kw_new"])
        >>> out.loc["kw_new", ["lf_coverage", "coverage", "delta_coverage"]].tolist()
        [0.5, 1.0, 0.5]
    """

    def columns(arr: object, n: int, what: str) -> np.ndarray:
        a = np.asarray(arr)
        a = a[:, None] if a.ndim == 1 else a
        if a.ndim != 2 or a.shape[0] != n:
            raise ValueError(
                f"{what} must have one vote per row ({n}), shape [{n}] or [{n}, k]. "
                f"Received shape: {np.asarray(arr).shape}"
            )
        return check_label_matrix(a)

    L0 = check_label_matrix(L)
    new = columns(new_column, len(L0), "new_column")
    new_dev = None
    if L_dev is not None:
        if new_column_dev is None:
            raise ValueError(
                "with L_dev, pass new_column_dev (the candidates' votes on the dev rows). "
                "Received: new_column_dev=None"
            )
        new_dev = columns(new_column_dev, len(np.asarray(L_dev)), "new_column_dev")
        if new_dev.shape[1] != new.shape[1]:
            raise ValueError(
                f"new_column_dev must hold the same {new.shape[1]} candidate(s) as new_column. "
                f"Received: {new_dev.shape[1]} columns"
            )
    extra = [a for a in (new, new_dev) if a is not None]
    L, Ld, y, c = _setup(L0, y_dev, L_dev, cardinality, extra=extra)
    check_label_matrix(new, c)
    if new_dev is not None:
        check_label_matrix(new_dev, c)
    k = new.shape[1]
    if new_names is None:
        new_names = ["candidate"] if k == 1 else [f"candidate_{i}" for i in range(k)]
    cand = _lf_names(new_names, k)
    ev = _Evaluator(L, Ld, y, model_fn, metrics, c, tie_break, seed)
    base = ev(L, Ld, "the current LFs")
    rows = []
    for i, name in enumerate(cand):
        row: dict[str, float] = {"lf_coverage": _coverage(new[:, i : i + 1])}
        if y is not None and new_dev is not None:
            voted = new_dev[:, i] != ABSTAIN
            row["lf_dev_accuracy"] = (
                float((new_dev[voted, i] == y[voted]).mean()) if voted.any() else float("nan")
            )
        Ld_i = None if Ld is None or new_dev is None else np.hstack([Ld, new_dev[:, i : i + 1]])
        row.update(ev(np.hstack([L, new[:, i : i + 1]]), Ld_i, f"candidate {name!r} added"))
        rows.append(row)
    out = _with_deltas(rows, base, pd.Index(cand, name="lf"))
    out.attrs["baseline"] = base
    return out
