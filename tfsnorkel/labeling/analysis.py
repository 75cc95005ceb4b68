"""LF analysis on a label matrix: Snorkel's summary table, matrix-level rates, buckets, a plot.

Definitions follow Snorkel 0.10's ``LFAnalysis`` exactly (``L`` is ``[N, m]``, ``-1`` abstain):

* **Polarity**: the sorted distinct labels an LF emitted.
* **Coverage**: fraction of rows the LF labels.
* **Overlaps**: fraction of rows the LF labels and at least one other LF labels too.
* **Conflicts**: fraction of rows the LF labels and on which two LFs emitted different labels.
* With gold ``y``: **Correct** / **Incorrect**: rows where the LF votes and ``y`` is not ``-1``,
  its vote equal / unequal to ``y``; **Emp. Acc.**: ``0.5 * (mean of +1 right / -1 wrong over
  the LF's votes + 1)``, i.e. correct / votes when ``y`` has no ``-1`` (0 for an LF with no votes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tfsnorkel.labels import ABSTAIN, check_gold_labels, check_label_matrix, reject_sparse

__all__ = [
    "get_label_buckets",
    "label_conflict",
    "label_coverage",
    "label_overlap",
    "lf_summary",
    "plot_lf_summary",
]


def _covered(L: np.ndarray) -> np.ndarray:
    return (L != ABSTAIN).any(axis=1)


def _overlapped(L: np.ndarray) -> np.ndarray:
    return (L != ABSTAIN).sum(axis=1) > 1


def _conflicted(L: np.ndarray) -> np.ndarray:
    if L.shape[1] == 0:
        return np.zeros(L.shape[0], dtype=bool)
    top = L.max(axis=1, keepdims=True)
    return ((L != ABSTAIN) & (L != top)).any(axis=1)


def label_coverage(L: np.ndarray) -> float:
    """Fraction of rows with at least one vote.

    Args:
        L: ``[N, m]`` label matrix (``ABSTAIN`` = -1).

    Returns:
        The fraction in ``[0, 1]``; 0.0 for an empty matrix.

    Example:
        >>> L = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]])
        >>> label_coverage(L)
        0.8
    """
    L = check_label_matrix(L)
    return float(_covered(L).mean()) if len(L) else 0.0


def label_overlap(L: np.ndarray) -> float:
    """Fraction of rows with at least two votes.

    Args:
        L: ``[N, m]`` label matrix (``ABSTAIN`` = -1).

    Returns:
        The fraction in ``[0, 1]``; 0.0 for an empty matrix.

    Example:
        >>> L = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]])
        >>> label_overlap(L)
        0.6
    """
    L = check_label_matrix(L)
    return float(_overlapped(L).mean()) if len(L) else 0.0


def label_conflict(L: np.ndarray) -> float:
    """Fraction of rows on which two LFs emitted different labels.

    Args:
        L: ``[N, m]`` label matrix (``ABSTAIN`` = -1).

    Returns:
        The fraction in ``[0, 1]``; 0.0 for an empty matrix.

    Example:
        >>> L = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]])
        >>> label_conflict(L)
        0.2
    """
    L = check_label_matrix(L)
    return float(_conflicted(L).mean()) if len(L) else 0.0


def _lf_names(lfs_or_names: Any, m: int) -> list[str] | None:
    if lfs_or_names is None:
        return None
    items = list(getattr(lfs_or_names, "names", None) or lfs_or_names)
    names = [x if isinstance(x, str) else getattr(x, "name", None) for x in items]
    if any(not isinstance(n, str) for n in names):
        raise TypeError(
            "lfs_or_names must be an LFSet, labeling functions or names. "
            f"Received: {items[:3]!r}"
        )
    if len(names) != m:
        raise ValueError(
            f"got {len(names)} LF names for a label matrix with {m} columns. Received: {names}"
        )
    return names


def lf_summary(
    L: np.ndarray,
    lfs_or_names: Any = None,
    y: np.ndarray | Sequence[int] | None = None,
) -> pd.DataFrame:
    """Per-LF statistics with Snorkel's column names and definitions (see the module docstring).

    Args:
        L: ``[N, m]`` label matrix.
        lfs_or_names: an `LFSet`, a list of LFs, or a list of names. Defaults to `None`
            (rows indexed ``0..m-1`` and no ``j`` column, as Snorkel does).
        y: ``[N]`` gold labels; adds ``Correct``, ``Incorrect`` and ``Emp. Acc.``.
            Defaults to `None`.

    Returns:
        A DataFrame indexed by LF name with columns ``j`` (when names are given),
        ``Polarity``, ``Coverage``, ``Overlaps``, ``Conflicts`` [, ``Correct``, ``Incorrect``,
        ``Emp. Acc.``].

    Example:
        >>> L = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]])
        >>> lf_summary(L, ["a", "b", "c"])["Coverage"].tolist()
        [0.4, 0.8, 0.4]
    """
    reject_sparse(L, "the label matrix")
    try:
        arr = np.asarray(L)
    except (ValueError, TypeError):  # ragged: let the validator say so, naming the argument
        arr = check_label_matrix(L)
    names = _lf_names(lfs_or_names, arr.shape[1]) if arr.ndim == 2 else None
    L = check_label_matrix(arr, lf_names=names)
    n, m = L.shape
    index: list[Any] = names if names is not None else list(range(m))
    votes = L != ABSTAIN
    denom = max(n, 1)
    d: dict[str, Any] = {}
    if names is not None:
        d["j"] = list(range(m))
    d["Polarity"] = [sorted(int(v) for v in np.unique(L[votes[:, j], j])) for j in range(m)]
    d["Coverage"] = votes.sum(axis=0) / denom
    d["Overlaps"] = (votes & _overlapped(L)[:, None]).sum(axis=0) / denom
    d["Conflicts"] = (votes & _conflicted(L)[:, None]).sum(axis=0) / denom
    if y is not None:
        y = check_gold_labels(y, n, allow_abstain=True)
        yy = y[:, None]
        scored = votes & (yy != ABSTAIN)
        d["Correct"] = (scored & (L == yy)).sum(axis=0)
        d["Incorrect"] = (scored & (L != yy)).sum(axis=0)
        signed = np.where(votes, np.where(L == yy, 1, -1), 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            acc = 0.5 * (signed.sum(axis=0) / votes.sum(axis=0) + 1)
        d["Emp. Acc."] = np.nan_to_num(acc)
    return pd.DataFrame(d, index=index)


def get_label_buckets(*arrays: np.ndarray | Sequence[int]) -> dict[tuple[int, ...], np.ndarray]:
    """Groups row indices by their combination of labels across arrays (Snorkel's helper).

    Typical use: ``get_label_buckets(y_gold, y_pred)[(1, 0)]`` are the rows with gold 1 and
    prediction 0; pass an LF's column ``L[:, j]`` to see where it votes what.

    Args:
        *arrays: one or more ``[N]`` (or ``[N, 1]``) integer label arrays.

    Returns:
        ``{(label_1, ..., label_k): int64 array of row indices}`` in order of first occurrence.

    Example:
        >>> b = get_label_buckets(np.array([1, 1, 1, 0]), np.array([1, 1, -1, -1]))
        >>> {k: v.tolist() for k, v in b.items()}
        {(1, 1): [0, 1], (1, -1): [2], (0, -1): [3]}
    """
    if not arrays:
        raise ValueError("get_label_buckets needs at least one label array")
    flat = []
    for i, a in enumerate(arrays):
        arr = np.asarray(a)
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise ValueError(f"array {i} must be 1-D. Received shape: {arr.shape}")
        flat.append(check_gold_labels(arr, allow_abstain=True))
    lengths = {len(a) for a in flat}
    if len(lengths) != 1:
        raise ValueError(
            f"arrays must all have the same length. Received lengths: {[len(a) for a in flat]}"
        )
    stacked = np.stack(flat, axis=1)
    if len(stacked) == 0:
        return {}
    keys, first, inverse = np.unique(stacked, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(first, kind="stable")
    rows = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse, minlength=len(keys)))
    groups = np.split(rows, bounds[:-1])
    return {tuple(int(v) for v in keys[k]): groups[k].astype(np.int64) for k in order}


def plot_lf_summary(
    L: np.ndarray,
    lfs_or_names: Any = None,
    y: np.ndarray | Sequence[int] | None = None,
    ax: Any = None,
):
    """Horizontal bar chart of each LF's coverage (and empirical accuracy when ``y`` is given).

    Needs matplotlib (``pip install "tfsnorkel[plots]"``), imported only when called.

    Args:
        L: ``[N, m]`` label matrix.
        lfs_or_names: an `LFSet`, LFs or names. Defaults to `None` (column numbers).
        y: gold labels, adds the empirical accuracy bars. Defaults to `None`.
        ax: a matplotlib Axes to draw on. Defaults to `None` (a new figure).

    Returns:
        The matplotlib ``Axes``.

    Example:
        >>> ax = plot_lf_summary(np.array([[0, -1], [1, 1]]), ["a", "b"])  # doctest: +SKIP
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "plot_lf_summary needs matplotlib; install it with: pip install 'tfsnorkel[plots]'"
        ) from exc
    summary = lf_summary(L, lfs_or_names, y)
    labels = [str(i) for i in summary.index]
    pos = np.arange(len(labels))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.35 * len(labels) + 1.2))
    height = 0.4 if y is not None else 0.8
    ax.barh(pos - (height / 2 if y is not None else 0), summary["Coverage"], height=height,
            label="Coverage")
    if y is not None:
        ax.barh(pos + height / 2, summary["Emp. Acc."], height=height, label="Emp. Acc.")
    ax.set_yticks(pos, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("fraction")
    ax.set_title("LF coverage" + (" and empirical accuracy" if y is not None else ""))
    ax.legend(loc="lower right")
    return ax
