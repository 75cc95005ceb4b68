"""Label conventions shared by every stage of the pipeline.

Inside tfsnorkel a label is a class index ``0..C-1`` and ``ABSTAIN = -1``. Label
matrices are ``int32`` arrays of shape ``[N, m]`` (one column per labeling
function). The seed's *signed* binary convention (``+1`` positive, ``-1``
negative, ``0`` abstain) is accepted only through the explicit converters
:func:`from_signed` / :func:`to_signed`, never by guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = [
    "ABSTAIN",
    "check_gold_labels",
    "check_label_matrix",
    "filter_unlabeled",
    "from_signed",
    "probs_to_preds",
    "reject_sparse",
    "to_signed",
]

ABSTAIN: int = -1
"""The vote of a labeling function that does not label an example."""

TieBreak = Literal["abstain", "random", "prior"]


def _as_array(x: object, what: str, dtype: object = None) -> np.ndarray:
    """``np.asarray`` whose failures (ragged lists, text where numbers go) name the argument."""
    reject_sparse(x, what)
    try:
        return np.asarray(x, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValueError(
            f"{what} must be a rectangular array of numbers ({exc}). "
            f"Received: {type(x).__name__}"
        ) from None


def from_signed(labels: np.ndarray | Sequence[int]) -> np.ndarray:
    """Converts signed binary labels (+1, -1, 0 = abstain) to class indices.

    ``+1 -> 1`` (positive), ``-1 -> 0`` (negative), ``0 -> ABSTAIN``.

    Args:
        labels: array-like of ints in ``{-1, 0, 1}``, any shape.

    Returns:
        An ``int32`` array of the same shape in ``{-1, 0, 1}`` with ``-1 = ABSTAIN``.

    Example:
        >>> from_signed([1, -1, 0]).tolist()
        [1, 0, -1]
    """
    arr = _as_array(labels, "signed labels")
    _check_integral(arr, "signed labels")
    bad = ~np.isin(arr, (-1, 0, 1))
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            "signed labels must be +1 (positive), -1 (negative) or 0 (abstain). "
            f"Received: {arr[idx].item()!r} at index {idx if len(idx) != 1 else idx[0]}"
        )
    out = np.full(arr.shape, ABSTAIN, dtype=np.int32)
    out[arr == 1] = 1
    out[arr == -1] = 0
    return out


def to_signed(labels: np.ndarray | Sequence[int]) -> np.ndarray:
    """Converts binary class indices (1, 0, -1 = abstain) to signed labels.

    Inverse of :func:`from_signed`: ``1 -> +1``, ``0 -> -1``, ``ABSTAIN -> 0``.

    Args:
        labels: array-like of ints in ``{-1, 0, 1}``.

    Returns:
        An ``int32`` array of the same shape in ``{-1, 0, +1}``.

    Example:
        >>> to_signed([1, 0, -1]).tolist()
        [1, -1, 0]
    """
    arr = _as_array(labels, "labels")
    _check_integral(arr, "labels")
    bad = ~np.isin(arr, (ABSTAIN, 0, 1))
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            "to_signed needs binary class indices 0/1 or ABSTAIN (-1). "
            f"Received: {arr[idx].item()!r} at index {idx if len(idx) != 1 else idx[0]}"
        )
    out = np.zeros(arr.shape, dtype=np.int32)
    out[arr == 1] = 1
    out[arr == 0] = -1
    return out


def _check_integral(arr: np.ndarray, what: str) -> None:
    if arr.dtype.kind in "iu":
        return
    if arr.dtype.kind == "b":
        raise TypeError(f"{what} must be integers, not booleans. Received dtype: {arr.dtype}")
    if arr.dtype.kind == "f":
        finite = np.isfinite(arr)
        if not finite.all():
            idx = tuple(int(i) for i in np.argwhere(~finite)[0])
            raise ValueError(
                f"{what} must be finite integers. Received: {arr[idx].item()!r} at {idx}"
            )
        if (arr == np.round(arr)).all():
            return
        idx = tuple(int(i) for i in np.argwhere(arr != np.round(arr))[0])
        raise TypeError(f"{what} must be integers. Received: {arr[idx].item()!r} at {idx}")
    raise TypeError(f"{what} must be integers. Received dtype: {arr.dtype}")


def reject_sparse(x: object, what: str) -> None:
    """Raises a clear `TypeError` for a scipy sparse matrix given where a dense array goes.

    A sparse matrix's implicit zeros would be votes for class 0, not abstains, and
    ``np.asarray`` turns one into a 0-d object array ("shape ()"), so it is refused by name.

    Args:
        x: the argument.
        what: its name in the message (e.g. ``"L"``).

    Example:
        >>> import scipy.sparse as sp
        >>> reject_sparse(sp.csr_matrix([[1, 0]]), "L")
        Traceback (most recent call last):
        ...
        TypeError: L must be a dense array, not a scipy sparse matrix (in a label matrix its implicit zeros would read as votes for class 0, not abstains); convert it with .toarray(). Received: csr_matrix of shape (1, 2)
    """
    if hasattr(x, "tocsr") and hasattr(x, "nnz") and hasattr(x, "toarray"):
        raise TypeError(
            f"{what} must be a dense array, not a scipy sparse matrix (in a label matrix its "
            "implicit zeros would read as votes for class 0, not abstains); convert it with "
            f".toarray(). Received: {type(x).__name__} of shape {getattr(x, 'shape', None)}"
        )


def check_label_matrix(
    L: np.ndarray | Sequence[Sequence[int]],
    cardinality: int | None = None,
    lf_names: Sequence[str] | None = None,
) -> np.ndarray:
    """Validates a label matrix and returns it as a C-contiguous ``int32`` array.

    Args:
        L: ``[N, m]`` votes, ``ABSTAIN = -1``, classes ``0..cardinality-1``.
        cardinality: number of classes; when given, every vote must be in
            ``[-1, cardinality - 1]``. Defaults to `None` (only ``>= -1`` checked).
        lf_names: names of the columns, used in error messages. Defaults to
            `None` (columns are named by index).

    Returns:
        The validated ``int32`` matrix of shape ``[N, m]``.

    Raises:
        ValueError: wrong rank, or a vote out of range (the message names the
            LF column, the row and the value).
        TypeError: non-integer votes.

    Example:
        >>> check_label_matrix([[0, -1], [1, 1]], cardinality=2).dtype
        dtype('int32')
    """
    arr = _as_array(L, "the label matrix")
    if arr.ndim != 2:
        hint = (
            " (one row of votes? a tf.data.Dataset of label rows must be batched: ds.batch(n))"
            if arr.ndim == 1
            else ""
        )
        raise ValueError(
            f"a label matrix must be 2-D [N, m]{hint}. Received shape: {arr.shape}"
        )
    if cardinality is not None and (
        not isinstance(cardinality, (int, np.integer)) or cardinality < 2
    ):
        raise ValueError(
            f"cardinality must be an integer >= 2. Received: cardinality={cardinality!r}"
        )
    if lf_names is not None and len(lf_names) != arr.shape[1]:
        raise ValueError(
            f"got {len(lf_names)} LF names for a label matrix with {arr.shape[1]} columns"
        )
    _check_integral(arr, "label matrix votes")
    hi = np.inf if cardinality is None else cardinality - 1
    bad = (arr < ABSTAIN) | (arr > hi)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        lf = f"LF {lf_names[col]!s} (column {col})" if lf_names is not None else f"LF column {col}"
        allowed = "0, 1, ..." if cardinality is None else f"[0, {cardinality - 1}]"
        raise ValueError(
            f"label matrix: {lf} voted {arr[row, col].item()!r} at row {row}; "
            f"votes must be ABSTAIN (-1) or a class index in {allowed}"
        )
    return np.ascontiguousarray(arr, dtype=np.int32)


def check_gold_labels(
    y: np.ndarray | Sequence[int],
    n: int | None = None,
    cardinality: int | None = None,
    *,
    allow_abstain: bool = False,
) -> np.ndarray:
    """Validates gold labels and returns them as a 1-D ``int64`` array.

    Args:
        y: ``[N]`` (or ``[N, 1]``) class indices; integral floats are accepted.
        n: expected number of rows. Defaults to `None` (any).
        cardinality: when given, labels must be in ``[0, cardinality - 1]``. Defaults to `None`.
        allow_abstain: also accept ``ABSTAIN`` (-1), e.g. unlabeled dev rows. Defaults to `False`.

    Returns:
        The labels as ``int64 [N]``.

    Raises:
        ValueError: wrong shape or length, or a label out of range (the message names the row).
        TypeError: non-integer labels.

    Example:
        >>> check_gold_labels([0.0, 1.0], n=2, cardinality=2).tolist()
        [0, 1]
    """
    arr = _as_array(y, "gold labels")
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"gold labels must be 1-D [N]. Received shape: {arr.shape}")
    if n is not None and len(arr) != n:
        raise ValueError(f"y must hold one gold label per row ({n}). Received shape: {arr.shape}")
    _check_integral(arr, "gold labels")
    lo = ABSTAIN if allow_abstain else 0
    # Range-checked before the int64 cast, so a huge value is reported, not wrapped.
    bad = arr < lo
    bad |= arr > (np.iinfo(np.int64).max if cardinality is None else cardinality - 1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        allowed = f">= {lo}" if cardinality is None else f"in [{lo}, {cardinality - 1}]"
        raise ValueError(
            f"gold labels must be {allowed}. Received: y[{row}]={arr[row].item()!r}"
        )
    return arr.astype(np.int64)


def probs_to_preds(
    probs: np.ndarray,
    tie_break: TieBreak = "random",
    *,
    tol: float = 1e-5,
    seed: int | None = 0,
    prior: np.ndarray | Sequence[float] | None = None,
) -> np.ndarray:
    """Turns probabilistic labels into hard predictions with an explicit tie policy.

    Args:
        probs: ``[N, C]`` probabilities.
        tie_break: what to do when several classes share the maximum (within
            ``tol``): ``"abstain"`` returns ``ABSTAIN``; ``"random"`` picks one of
            the tied classes uniformly with ``seed``; ``"prior"`` picks the tied
            class with the largest ``prior`` (uniform prior: the lowest index).
            Defaults to `"random"`.
        tol: two probabilities closer than this are tied. Defaults to `1e-5`.
        seed: random seed for ``"random"``. Defaults to `0`.
        prior: class prior for ``"prior"``. Defaults to `None` (uniform).

    Returns:
        ``int32`` predictions of shape ``[N]``.

    Example:
        >>> probs_to_preds(np.array([[0.2, 0.8], [0.5, 0.5]]), "abstain").tolist()
        [1, -1]
    """
    P = _as_array(probs, "probs")
    if P.dtype.kind not in "biuf":
        raise TypeError(f"probs must be numbers. Received dtype: {P.dtype}")
    P = P.astype(np.float64)
    if P.ndim != 2 or P.shape[1] < 1:
        raise ValueError(f"probs must be 2-D [N, C] with C >= 1. Received shape: {P.shape}")
    if not np.isfinite(P).all():
        row = int(np.argwhere(~np.isfinite(P))[0][0])
        raise ValueError(f"probs must be finite. Received a non-finite value at row {row}")
    if tie_break not in ("abstain", "random", "prior"):
        raise ValueError(
            f"tie_break must be 'abstain', 'random' or 'prior'. Received: tie_break={tie_break!r}"
        )
    n, c = P.shape
    tied = P >= P.max(axis=1, keepdims=True) - tol
    preds = np.argmax(P, axis=1).astype(np.int32)
    n_tied = tied.sum(axis=1)
    multi = n_tied > 1
    if not multi.any():
        return preds
    if tie_break == "abstain":
        preds[multi] = ABSTAIN
    elif tie_break == "random":
        rng = np.random.default_rng(seed)
        u = rng.random((n, c))
        preds[multi] = np.argmax(np.where(tied, u, -1.0), axis=1)[multi]
    else:
        pr = np.full(c, 1.0 / c) if prior is None else np.asarray(prior, dtype=np.float64)
        if pr.shape != (c,):
            raise ValueError(f"prior must have shape ({c},). Received shape: {pr.shape}")
        preds[multi] = np.argmax(np.where(tied, pr[None, :], -np.inf), axis=1)[multi]
    return preds


def filter_unlabeled(L: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """Drops the rows on which every LF abstained.

    Args:
        L: ``[N, m]`` label matrix.
        *arrays: arrays (or DataFrames) with ``N`` rows to filter alongside.

    Returns:
        ``(L_kept, *arrays_kept)``, each holding only rows with at least one vote.

    Example:
        >>> L = np.array([[-1, -1], [0, -1]])
        >>> filter_unlabeled(L, np.array([10, 20]))[1].tolist()
        [20]
    """
    L = check_label_matrix(L)
    keep = (L != ABSTAIN).any(axis=1)
    out: list = [L[keep]]
    for i, a in enumerate(arrays):
        if len(a) != len(L):
            raise ValueError(f"array {i} has {len(a)} rows but the label matrix has {len(L)}")
        out.append(a[keep] if not hasattr(a, "iloc") else a.iloc[np.flatnonzero(keep)])
    return tuple(out)
