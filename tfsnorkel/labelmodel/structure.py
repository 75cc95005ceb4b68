"""Learning which LFs are dependent, from the unlabeled label matrix alone.

After a conditionally independent fit, each LF pair ``(j, k)`` is scored by the KL
divergence between its *observed* joint vote distribution (``(C+1) x (C+1)`` cells,
abstain included) and the joint that the independent fit implies,
``sum_y P(y) P(l_j | y) P(l_k | y)``. Near-copies of an LF show a large divergence (they
agree far more often than their accuracies explain); independent LFs show only sampling
noise. Pairs above a threshold are merged, strongest first, by union-find, never letting a
group grow past ``max_group_size`` (a cap of 4 split a 6-copy group in our measurements).

*Exact copies* (:func:`copy_columns`: LFs whose votes are identical on every row) are found
before any fit. The divergence misses them when they are rare (it is weighted by how often the
pair votes: two copies of an LF voting on 1% of the rows score about 0.01 nats), and counting
them as independent evidence distorts the whole fit: WRENCH trec has three identical LFs and
another identical pair, and its fit without gold scored 0.466 with them against 0.610 with
one of each.

Example:
    >>> scores = np.array([[0, .5, 0], [.5, 0, 0], [0, 0, 0]])
    >>> merge_groups(scores, threshold=0.1, max_group_size=6)
    [[0, 1]]
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = [
    "copy_columns",
    "merge_groups",
    "occupied_columns",
    "pair_scores",
    "restrict_columns",
    "vote_matrix",
]


def vote_matrix(
    rows: np.ndarray, cardinality: int, columns: np.ndarray | None = None
) -> sp.csr_matrix:
    """Sparse ``[K, m * C]`` indicator of the votes in each row (column ``j * C + v``).

    Args:
        rows: ``[K, m]`` votes (``-1`` = abstain), or CSR storing class index + 1.
        cardinality: number of classes ``C``.
        columns: boolean ``[m]`` mask of the LFs to include. Defaults to `None` (all).

    Returns:
        A CSR matrix of ones, abstains left out.
    """
    k, m = rows.shape
    if sp.issparse(rows):  # CSR storing class index + 1 (LabelStats' sparse storage)
        keep = np.ones(rows.nnz, bool) if columns is None else np.asarray(columns, bool)[rows.indices]
        counts = np.bincount(
            np.repeat(np.arange(k), np.diff(rows.indptr))[keep], minlength=k
        )
        indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        indices = (rows.indices[keep].astype(np.int64) * cardinality + rows.data[keep] - 1)
        return sp.csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(k, m * cardinality)
        )
    voted = rows >= 0
    if columns is not None:
        voted &= np.asarray(columns, bool)[None, :]
    ri, ji = np.nonzero(voted)  # row-major: already in CSR order
    indptr = np.concatenate([[0], np.cumsum(voted.sum(1))]).astype(np.int64)
    indices = (ji * cardinality + rows[ri, ji]).astype(np.int64)
    return sp.csr_matrix((np.ones(len(ri)), indices, indptr), shape=(k, m * cardinality))


def occupied_columns(x: sp.csr_matrix) -> np.ndarray:
    """Sorted indices of the columns of ``x`` that hold an entry (the vote values that occur)."""
    return np.flatnonzero(np.bincount(x.indices, minlength=x.shape[1]) > 0)


def restrict_columns(x: sp.csr_matrix, columns: np.ndarray) -> sp.csr_matrix:
    """``x`` over ``columns`` only (a superset of its occupied columns, sorted), in that order.

    Shares ``x``'s data and row pointers: only the column indices are new.
    """
    remap = np.zeros(x.shape[1], np.int64)
    remap[columns] = np.arange(len(columns))
    return sp.csr_matrix((x.data, remap[x.indices], x.indptr), shape=(x.shape[0], len(columns)))


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
        lf_tables: ``[m, C, C + 1]`` fitted ``P(vote = v | y)`` (column ``v + 1``), or the
            same as an :class:`~tfsnorkel.labelmodel.em.CompactTables`.

    Returns:
        Symmetric ``[m, m]`` float64 scores (nats), zero on the diagonal.

    Example:
        >>> t = np.tile([[[0.5, 0.4, 0.1], [0.5, 0.1, 0.4]]], (2, 1, 1))
        >>> s = pair_scores(np.array([[0, 0], [1, 1]]), np.array([5, 5]), 2, np.array([.5, .5]), t)
        >>> bool(s[0, 1] > 0.3)
        True
    """
    c = cardinality
    m = rows.shape[1]
    n = counts.astype(np.float64)
    total = n.sum()
    x = vote_matrix(rows, c)
    marg_all = np.asarray(x.T @ n) / total  # [m*C] vote marginals
    # Only the cells an LF can fill are scored: its abstain and the values it votes. A cell
    # never observed contributes 0 to the divergence, so this equals the full
    # (C + 1) x (C + 1) joint of every pair, in O(columns^2) memory: 2 columns per LF for
    # unipolar LFs, whatever C.
    used = np.flatnonzero(marg_all > 0)
    lf_of, val_of = used // c, used % c
    e = sp.csr_matrix(  # vote column -> its LF
        (np.ones(len(used)), (np.arange(len(used)), lf_of)), shape=(len(used), m)
    )
    xu = x[:, used]
    vv = np.asarray((xu.T.multiply(n[None, :]).tocsr() @ xu).todense()) / total
    marg = marg_all[used]
    av = marg[None, :] - e.T @ vv  # [m, V]: LF j abstains, column (k, w) votes
    aa = 1.0 - (e.T @ marg)[:, None] - av @ e  # [m, m]: both abstain
    pi = np.asarray(class_balance, float)
    if hasattr(lf_tables, "vote_columns"):  # em.CompactTables: O(m * C), never [m, C, C + 1]
        t_vote = lf_tables.vote_columns(used).T  # [C, V]
        t_abs = lf_tables.abstain.T  # [C, m]
    else:
        t_vote = lf_tables[lf_of, :, val_of + 1].T  # [C, V]
        t_abs = lf_tables[:, :, 0].T  # [C, m]
    eps = 1e-12

    def kl(observed: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        observed = np.maximum(observed, 0.0)
        implied = (a * pi[:, None]).T @ b
        return np.where(
            observed > 0, observed * (np.log(observed + eps) - np.log(implied + eps)), 0.0
        )

    term_av = kl(av, t_abs, t_vote) @ e  # [m, m]
    scores = e.T @ kl(vv, t_vote, t_vote) @ e + term_av + term_av.T + kl(aa, t_abs, t_abs)
    np.fill_diagonal(scores, 0.0)
    return np.maximum(scores, 0.0)


def copy_columns(rows: np.ndarray | sp.csr_matrix, block: int = 256) -> np.ndarray:
    """For each LF column, the first column whose votes are identical on every row.

    Columns that never vote are left alone (their own index): they carry no evidence either way.

    Args:
        rows: ``[K, m]`` unique vote rows (``-1`` = abstain), or CSR storing class index + 1.
        block: columns converted at a time for dense rows. Defaults to `256`.

    Returns:
        ``[m]`` int64: ``first[j] <= j``; ``first[j] == j`` for the first of each set of copies.

    Example:
        >>> copy_columns(np.array([[0, 1, 0], [-1, 1, -1]])).tolist()
        [0, 1, 0]
    """
    m = rows.shape[1]
    first = np.arange(m, dtype=np.int64)
    seen: dict[bytes, int] = {}

    def columns():
        if sp.issparse(rows):
            csc = rows.tocsc()
            csc.sort_indices()
            yield 0, csc
            return
        for lo in range(0, m, block):
            part = np.asarray(rows[:, lo : lo + block]).astype(np.int32) + 1  # abstain -> 0
            yield lo, sp.csc_matrix(part)

    for lo, csc in columns():
        for i in range(csc.shape[1]):
            a, b = csc.indptr[i], csc.indptr[i + 1]
            if a == b:
                continue
            key = csc.indices[a:b].astype(np.int64).tobytes() + b"|" + csc.data[a:b].astype(
                np.int64
            ).tobytes()
            first[lo + i] = seen.setdefault(key, lo + i)
    return first


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
