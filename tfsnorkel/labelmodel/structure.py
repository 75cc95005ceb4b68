"""Learning which LFs are dependent, from the unlabeled label matrix alone.

After a conditionally independent fit, each LF pair ``(j, k)`` is scored by the KL
divergence between its *observed* joint vote distribution (``(C+1) x (C+1)`` cells,
abstain included) and the joint that the independent fit implies,
``sum_y P(y) P(l_j | y) P(l_k | y)``. Near-copies of an LF show a large divergence (they
agree far more often than their accuracies explain); independent LFs show only sampling
noise. Pairs above a threshold are merged, strongest first, by union-find, never letting a
group grow past ``max_group_size`` (a cap of 4 split a 6-copy group in our measurements).

Example:
    >>> scores = np.array([[0, .5, 0], [.5, 0, 0], [0, 0, 0]])
    >>> merge_groups(scores, threshold=0.1, max_group_size=6)
    [[0, 1]]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["merge_groups", "pair_scores", "vote_matrix"]


def vote_matrix(
    rows: np.ndarray, cardinality: int, columns: np.ndarray | None = None
) -> sp.csr_matrix:
    """Sparse ``[K, m * C]`` indicator of the votes in each row (column ``j * C + v``).

    Args:
        rows: ``[K, m]`` votes (``-1`` = abstain).
        cardinality: number of classes ``C``.
        columns: boolean ``[m]`` mask of the LFs to include. Defaults to `None` (all).

    Returns:
        A CSR matrix of ones, abstains left out.
    """
    k, m = rows.shape
    voted = rows >= 0
    if columns is not None:
        voted &= np.asarray(columns, bool)[None, :]
    ri, ji = np.nonzero(voted)  # row-major: already in CSR order
    indptr = np.concatenate([[0], np.cumsum(voted.sum(1))]).astype(np.int64)
    indices = (ji * cardinality + rows[ri, ji]).astype(np.int64)
    return sp.csr_matrix((np.ones(len(ri)), indices, indptr), shape=(k, m * cardinality))


def pair_scores(
    rows: np.ndarray,
    counts: np.ndarray,
    cardinality: int,
    class_balance: np.ndarray,
    lf_tables: np.ndarray,
) -> np.ndarray:
    """KL divergence of each LF pair's observed joint votes from the independent model's joint.

    Args:
        rows: ``[K, m]`` unique vote rows (from :class:`~tfsnorkel.labelmodel.LabelStats`).
        counts: ``[K]`` row counts.
        cardinality: number of classes ``C``.
        class_balance: ``[C]`` fitted class prior.
        lf_tables: ``[m, C, C + 1]`` fitted ``P(vote = v | y)`` (column ``v + 1``).

    Returns:
        Symmetric ``[m, m]`` float64 scores (nats), zero on the diagonal.

    Example:
        >>> t = np.tile([[[0.5, 0.4, 0.1], [0.5, 0.1, 0.4]]], (2, 1, 1))
        >>> s = pair_scores(np.array([[0, 0], [1, 1]]), np.array([5, 5]), 2, np.array([.5, .5]), t)
        >>> bool(s[0, 1] > 0.3)
        True
    """
    c, c1 = cardinality, cardinality + 1
    m = rows.shape[1]
    n = counts.astype(np.float64)
    total = n.sum()
    observed = _vote_cooccurrence(rows, n, c).reshape(m, c, m, c) / total
    # Cells with an abstain follow from the vote cells and each LF's vote marginals.
    marg = (
        np.stack(
            [
                np.bincount(np.where(rows[:, j] >= 0, rows[:, j], c), weights=n, minlength=c1)
                for j in range(m)
            ]
        )[:, :c]
        / total
    )  # [m, C]
    joint = np.empty((m, c1, m, c1))
    joint[:, 1:, :, 1:] = observed
    joint[:, 0, :, 1:] = marg[None, :, :] - observed.sum(1)
    joint[:, 1:, :, 0] = marg[:, :, None] - observed.sum(3)
    joint[:, 0, :, 0] = 1.0 - joint[:, 1:, :, :].sum((1, 3)) - joint[:, 0, :, 1:].sum(2)
    observed = np.maximum(joint, 0.0).reshape(m * c1, m * c1)
    flat = lf_tables.transpose(1, 0, 2).reshape(cardinality, m * c1)  # [C, m*(C+1)]
    implied = (flat * class_balance[:, None]).T @ flat
    eps = 1e-12
    term = np.where(observed > 0, observed * (np.log(observed + eps) - np.log(implied + eps)), 0.0)
    scores = term.reshape(m, c1, m, c1).sum(axis=(1, 3))
    np.fill_diagonal(scores, 0.0)
    return np.maximum(scores, 0.0)


def _vote_cooccurrence(rows: np.ndarray, n: np.ndarray, c: int) -> np.ndarray:
    """``[m*C, m*C]`` weighted counts of rows where LF j votes v and LF k votes w.

    Dense BLAS on row chunks when ``m*C`` is small, a sparse product otherwise (its cost grows
    with the square of the votes per row, not of ``m*C``).
    """
    k, m = rows.shape
    x = vote_matrix(rows, c)
    per_row = np.diff(x.indptr).astype(np.float64)
    if k * (m * c) ** 2 <= 20 * float((per_row**2).sum()) + 1:
        out = np.zeros((m * c, m * c))
        for start in range(0, k, 16384):
            dense = x[start : start + 16384].toarray().astype(np.float32)
            weighted = dense * n[start : start + 16384, None].astype(np.float32)
            out += weighted.T @ dense
        return out
    return np.asarray((x.T.multiply(n[None, :]).tocsr() @ x).todense())


def merge_groups(scores: np.ndarray, threshold: float, max_group_size: int) -> list[list[int]]:
    """Union-find merge of LF pairs scoring above ``threshold``, strongest pair first.

    Args:
        scores: symmetric ``[m, m]`` pair scores.
        threshold: minimum score for a pair to be merged.
        max_group_size: a merge that would make a group larger than this is skipped.

    Returns:
        Groups of two or more LF columns, each sorted, ordered by first column.

    Example:
        >>> merge_groups(np.array([[0, 1.0], [1.0, 0]]), 0.5, 6)
        [[0, 1]]
    """
    m = scores.shape[0]
    parent = list(range(m))
    size = [1] * m

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    iu, ju = np.triu_indices(m, k=1)
    vals = scores[iu, ju]
    for idx in np.argsort(-vals, kind="stable"):
        if vals[idx] <= threshold:
            break
        a, b = find(int(iu[idx])), find(int(ju[idx]))
        if a == b or size[a] + size[b] > max_group_size:
            continue
        parent[b] = a
        size[a] += size[b]
    groups: dict[int, list[int]] = {}
    for j in range(m):
        groups.setdefault(find(j), []).append(j)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])
