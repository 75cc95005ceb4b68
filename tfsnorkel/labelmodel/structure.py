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

__all__ = ["merge_groups", "pair_scores"]


def onehot_rows(rows: np.ndarray, cardinality: int) -> sp.csr_matrix:
    """Sparse ``[K, m * (C + 1)]`` indicator of each row's votes (column ``j * (C+1) + v + 1``)."""
    k, m = rows.shape
    cols = (np.arange(m)[None, :] * (cardinality + 1) + rows.astype(np.int64) + 1).ravel()
    ind = np.repeat(np.arange(k), m)
    return sp.csr_matrix((np.ones(k * m), (ind, cols)), shape=(k, m * (cardinality + 1)))


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
    c1 = cardinality + 1
    m = rows.shape[1]
    onehot = onehot_rows(rows, cardinality)
    n = counts.astype(np.float64)
    observed = np.asarray((onehot.T.multiply(n[None, :]) @ onehot).todense()) / n.sum()
    flat = lf_tables.transpose(1, 0, 2).reshape(cardinality, m * c1)  # [C, m*(C+1)]
    implied = (flat * class_balance[:, None]).T @ flat
    eps = 1e-12
    term = np.where(observed > 0, observed * (np.log(observed + eps) - np.log(implied + eps)), 0.0)
    scores = term.reshape(m, c1, m, c1).sum(axis=(1, 3))
    np.fill_diagonal(scores, 0.0)
    return np.maximum(scores, 0.0)


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
