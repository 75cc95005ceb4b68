"""Streaming sufficient statistics of a label matrix: its unique rows and their counts.

Every quantity the label model needs (the marginal likelihood, the EM updates, the
pairwise vote tables used to learn dependencies) is a sum over rows of a function of the
row's votes, so the multiset of distinct vote patterns with their counts is a sufficient
statistic. It is additive: the statistics of two batches (or two shards) merge by adding
the counts of equal rows. Real label matrices collapse a lot: 200k rows of 10 LFs hold a
few thousand distinct patterns, so an EM pass costs microseconds per pattern, whatever N.

Example:
    >>> s = LabelStats(cardinality=2)
    >>> s.update(np.array([[0, 1], [0, 1], [-1, 1]]))
    LabelStats(cardinality=2, num_lfs=2, num_rows=3, num_unique=2)
    >>> s.counts.tolist()
    [1, 2]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import scipy.sparse as sp

from tfsnorkel.labels import check_label_matrix

__all__ = [
    "LabelStats",
    "check_sparse_votes",
    "covered_rows",
    "dense_votes",
    "sparse_votes",
    "stack_rows",
    "take_columns",
    "unique_rows",
    "unique_sparse_rows",
]

_CHUNK_ROWS = 1 << 21


def _storage_dtype(cardinality: int) -> np.dtype:
    return np.dtype(np.int8) if cardinality <= 127 else np.dtype(np.int32)


def unique_rows(L: np.ndarray, cardinality: int) -> tuple[np.ndarray, np.ndarray]:
    """Returns the distinct rows of a label matrix and how often each occurs.

    Rows are encoded as one mixed-radix ``int64`` code when ``(C + 1) ** m`` fits in 62
    bits (fast path), else compared as raw bytes.

    Args:
        L: ``[N, m]`` validated label matrix (``ABSTAIN = -1``).
        cardinality: number of classes ``C``.

    Returns:
        ``(rows, counts)``: ``rows`` is ``[K, m]`` (``int8`` when ``C <= 127``), sorted
        and unique; ``counts`` is ``int64`` ``[K]``.

    Example:
        >>> rows, counts = unique_rows(np.array([[1, 0], [1, 0], [0, -1]]), 2)
        >>> rows.tolist(), counts.tolist()
        ([[0, -1], [1, 0]], [1, 2])
    """
    L = np.asarray(L)
    n, m = L.shape
    dtype = _storage_dtype(cardinality)
    if n == 0:
        return np.zeros((0, m), dtype), np.zeros(0, np.int64)
    base = cardinality + 1
    if m * np.log2(base) < 62:
        radix = base ** np.arange(m - 1, -1, -1, dtype=np.int64)
        codes = (L.astype(np.int64) + 1) @ radix
        uniq, counts = np.unique(codes, return_counts=True)
        rows = (uniq[:, None] // radix[None, :]) % base - 1
        return rows.astype(dtype), counts.astype(np.int64)
    arr = np.ascontiguousarray(L.astype(dtype))
    void = arr.view(np.dtype((np.void, arr.dtype.itemsize * m))).ravel()
    uniq, counts = np.unique(void, return_counts=True)
    rows = np.frombuffer(uniq.tobytes(), dtype=dtype).reshape(-1, m)
    return rows.copy(), counts.astype(np.int64)


# -- vote rows: a dense [K, m] array (-1 = abstain) or a CSR matrix storing class index + 1


def check_sparse_votes(L: Any, cardinality: int) -> sp.csr_matrix:
    """A ``scipy.sparse`` label matrix (or a ``tf.sparse.SparseTensor``) as validated CSR votes.

    Encoding: a stored value is the class index plus one (``1..C``); an entry that is not
    stored (or a stored 0) is an abstain.

    Args:
        L: ``[N, m]`` scipy sparse matrix, ``tf.sparse.SparseTensor`` or its numpy value.
        cardinality: number of classes ``C``.

    Returns:
        CSR ``[N, m]`` with sorted indices, no stored zeros, integer data (int8 when
        ``C <= 127``, else int32).

    Raises:
        ValueError: a stored value outside ``[0, C]`` or not an integer (names the row and
            the LF column).

    Example:
        >>> check_sparse_votes(sp.csr_matrix([[0, 2], [1, 0]]), 2).toarray().tolist()
        [[0, 2], [1, 0]]
    """
    if hasattr(L, "indices") and hasattr(L, "dense_shape"):  # tf.sparse.SparseTensor(Value)
        idx = np.asarray(L.indices)
        shape = tuple(int(v) for v in np.asarray(L.dense_shape))
        L = sp.csr_matrix((np.asarray(L.values), (idx[:, 0], idx[:, 1])), shape=shape)
    L = sp.csr_matrix(L)
    L.sum_duplicates()
    data = L.data
    bad_mask = None
    if data.size:
        with np.errstate(invalid="ignore"):
            bad_mask = (
                ~np.isfinite(data) | (data != np.round(data)) | (data < 0) | (data > cardinality)
            )
    if bad_mask is not None and bad_mask.any():
        bad = int(np.flatnonzero(bad_mask)[0])
        row = int(np.searchsorted(L.indptr, bad, side="right") - 1)
        raise ValueError(
            f"a sparse label matrix stores class index + 1 (1..{cardinality}; abstain = not "
            f"stored): LF column {int(L.indices[bad])} holds {data[bad].item()!r} at row {row}. "
            f"Received: a {L.shape[0]}x{L.shape[1]} sparse matrix"
        )
    L = L.astype(_storage_dtype(cardinality))
    L.eliminate_zeros()
    L.sort_indices()
    return L


def dense_votes(R: sp.spmatrix) -> np.ndarray:
    """``[K, m]`` int32 votes (``-1`` = abstain) of sparse votes storing class index + 1."""
    return R.toarray().astype(np.int32) - 1


def sparse_votes(L: np.ndarray, cardinality: int) -> sp.csr_matrix:
    """Validated CSR votes (class index + 1, abstains not stored) of a dense ``[K, m]`` block."""
    return check_sparse_votes(sp.csr_matrix(np.asarray(L).astype(np.int32) + 1), cardinality)


def covered_rows(rows: np.ndarray | sp.csr_matrix) -> np.ndarray:
    """``[K]`` bool: the rows where some LF votes."""
    if sp.issparse(rows):
        return np.diff(rows.indptr) > 0
    return (rows >= 0).any(1)


def take_columns(rows: np.ndarray | sp.csr_matrix, columns) -> np.ndarray:
    """Dense ``[K, len(columns)]`` votes (``-1`` = abstain) of a few LF columns."""
    columns = list(columns)
    if sp.issparse(rows):
        return dense_votes(rows[:, columns])
    return rows[:, columns]


def stack_rows(top: np.ndarray | sp.csr_matrix, bottom: np.ndarray) -> np.ndarray | sp.csr_matrix:
    """Rows of ``top`` followed by the dense votes ``bottom``, in ``top``'s storage."""
    if sp.issparse(top):
        bottom = np.asarray(bottom)
        low = sp.csr_matrix((bottom + 1).astype(top.dtype))
        out = sp.vstack([top, low], format="csr")
        out.eliminate_zeros()
        return out
    return np.concatenate([top, np.asarray(bottom).astype(top.dtype)])


def _splitmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = x + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def unique_sparse_rows(R: sp.csr_matrix, cardinality: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """The distinct rows of CSR votes, in ``O(votes)`` time and memory.

    Each row is hashed to 128 bits (two sums of a 64-bit mix of its ``(column, value)``
    entries); rows with equal hashes are then compared entry by entry, so a hash collision
    can only cost time, never merge different rows.

    Args:
        R: CSR votes (:func:`check_sparse_votes`).
        cardinality: number of classes ``C``.

    Returns:
        ``(rows, counts, inverse)``: the distinct rows (CSR, in hash order), how often each
        occurs, and the index in ``rows`` of every input row.

    Example:
        >>> R = check_sparse_votes(sp.csr_matrix([[1, 0], [0, 2], [1, 0]]), 2)
        >>> rows, counts, inverse = unique_sparse_rows(R, 2)
        >>> sorted(counts.tolist()), bool(inverse[0] == inverse[2])
        ([1, 2], True)
    """
    k = R.shape[0]
    key = R.indices.astype(np.uint64) * np.uint64(cardinality + 1) + R.data.astype(np.uint64)
    sums = []
    for salt in (0, 0x5BD1E9955BD1E995):
        h = _splitmix64(key ^ np.uint64(salt))
        with np.errstate(over="ignore"):
            cs = np.concatenate([[np.uint64(0)], np.cumsum(h, dtype=np.uint64)])
            sums.append(cs[R.indptr[1:]] - cs[R.indptr[:-1]])
    codes = np.empty(k, dtype=[("a", np.uint64), ("b", np.uint64)])
    codes["a"], codes["b"] = sums
    _, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    # Entry-by-entry check against the group's first row.
    rep = first[inverse]
    nnz = np.diff(R.indptr)
    same = nnz == nnz[rep]
    row_of = np.repeat(np.arange(k), nnz)
    offset = np.arange(R.nnz) - R.indptr[row_of]
    at = np.minimum(R.indptr[rep[row_of]] + offset, max(R.nnz - 1, 0))
    entry_ok = (R.indices == R.indices[at]) & (R.data == R.data[at])
    same &= np.bincount(row_of, weights=~entry_ok, minlength=k) == 0
    if not same.all():  # a collision: those rows get groups of their own, exactly
        seen: dict[bytes, int] = {}
        next_id = len(first)
        extra = []
        for i in np.flatnonzero(~same):
            lo, hi = R.indptr[i], R.indptr[i + 1]
            b = R.indices[lo:hi].tobytes() + b"|" + R.data[lo:hi].tobytes()
            if b not in seen:
                seen[b] = next_id
                extra.append(i)
                next_id += 1
            inverse[i] = seen[b]
        first = np.concatenate([first, np.asarray(extra, first.dtype)])
    counts = np.bincount(inverse, minlength=len(first)).astype(np.int64)
    return R[first], counts, inverse


class LabelStats:
    """Unique vote patterns of a label matrix with their counts, additive across batches.

    Memory is ``O(number of distinct rows)``, not ``O(N)``: stream any number of batches
    through :meth:`update`, or build one object per shard and :meth:`merge` them.

    Storage follows the first batch: a dense ``[K, m]`` array (``-1`` = abstain) for dense
    batches; for ``scipy.sparse`` batches or ``tf.sparse.SparseTensor`` ones (stored value =
    class index + 1, :func:`check_sparse_votes`) a CSR matrix of the same encoding, whose
    memory grows with the votes, not with ``K * m`` (thousands of LFs). ``rows`` is then
    that CSR matrix.

    Args:
        cardinality: number of classes ``C``.
        num_lfs: number of LF columns; inferred from the first batch when `None`.
            Defaults to `None`.
        sparse: store the rows as CSR (`True`), dense (`False`), or as the first batch
            comes (`None`). Defaults to `None`.

    Example:
        >>> a = LabelStats.from_matrix(np.array([[0, 0]]), cardinality=2)
        >>> b = LabelStats.from_matrix(np.array([[0, 0], [1, -1]]), cardinality=2)
        >>> a.merge(b).num_rows, a.num_unique
        (3, 2)
    """

    def __init__(
        self, cardinality: int, num_lfs: int | None = None, sparse: bool | None = None
    ) -> None:
        if not isinstance(cardinality, (int, np.integer)) or cardinality < 2:
            raise ValueError(
                f"cardinality must be an integer >= 2. Received: cardinality={cardinality!r}"
            )
        self.cardinality = int(cardinality)
        self.num_lfs = num_lfs
        dtype = _storage_dtype(self.cardinality)
        self.sparse = sparse
        self.rows = self._empty(num_lfs or 0)
        self.counts = np.zeros(0, np.int64)

    def _empty(self, m: int) -> np.ndarray | sp.csr_matrix:
        dtype = _storage_dtype(self.cardinality)
        return sp.csr_matrix((0, m), dtype=dtype) if self.sparse else np.zeros((0, m), dtype)

    def __repr__(self) -> str:
        return (
            f"LabelStats(cardinality={self.cardinality}, num_lfs={self.num_lfs}, "
            f"num_rows={self.num_rows}, num_unique={self.num_unique})"
        )

    @property
    def num_rows(self) -> int:
        """Total number of rows seen."""
        return int(self.counts.sum())

    @property
    def num_unique(self) -> int:
        """Number of distinct vote patterns seen."""
        return len(self.counts)

    @classmethod
    def from_matrix(cls, L: np.ndarray, cardinality: int) -> LabelStats:
        """Statistics of one in-memory label matrix.

        Args:
            L: ``[N, m]`` label matrix.
            cardinality: number of classes.

        Returns:
            A new :class:`LabelStats`.

        Example:
            >>> LabelStats.from_matrix(np.array([[0, 1]]), 2).num_rows
            1
        """
        return cls(cardinality).update(L)

    @classmethod
    def from_batches(cls, batches: Iterable, cardinality: int) -> LabelStats:
        """Statistics of a stream of label-matrix batches (numpy arrays or tensors).

        Args:
            batches: an iterable (a ``tf.data.Dataset`` included) of ``[b, m]`` batches.
            cardinality: number of classes.

        Returns:
            A new :class:`LabelStats`.

        Example:
            >>> LabelStats.from_batches([np.zeros((2, 3), int)] * 4, 2).num_rows
            8
        """
        stats = cls(cardinality)
        for batch in batches:
            stats.update(batch)
        return stats

    def update(self, L_batch: np.ndarray) -> LabelStats:
        """Adds the rows of one batch (validated against the cardinality).

        Args:
            L_batch: ``[b, m]`` votes; a tensor is converted with ``.numpy()``.

        Returns:
            ``self``.
        """
        is_sparse = sp.issparse(L_batch) or (
            hasattr(L_batch, "indices") and hasattr(L_batch, "dense_shape")
        )
        if is_sparse:
            L_batch = check_sparse_votes(L_batch, self.cardinality)
        else:
            if hasattr(L_batch, "numpy"):
                L_batch = L_batch.numpy()
            L_batch = check_label_matrix(L_batch, cardinality=self.cardinality)
        if self.sparse is None:
            self.sparse = is_sparse
            self.rows = self._empty(self.rows.shape[1])
        if self.num_lfs is None:
            self.num_lfs = L_batch.shape[1]
            self.rows = self._empty(self.num_lfs)
        if L_batch.shape[1] != self.num_lfs:
            raise ValueError(
                f"every batch must have the same number of LF columns ({self.num_lfs}). "
                f"Received a batch of shape {L_batch.shape}"
            )
        if self.sparse:
            if not is_sparse:
                L_batch = sparse_votes(L_batch, self.cardinality)
            rows, counts, _ = unique_sparse_rows(L_batch, self.cardinality)
            self._add(rows, counts)
            return self
        # Chunks bound the temporary memory of the sort whatever the batch size.
        for start in range(0, max(L_batch.shape[0], 1), _CHUNK_ROWS):
            block = L_batch[start : start + _CHUNK_ROWS]
            if is_sparse:
                block = dense_votes(block)
            rows, counts = unique_rows(block, self.cardinality)
            self._add(rows, counts)
        return self

    def merge(self, other: LabelStats) -> LabelStats:
        """Adds the statistics of another batch or shard into this one.

        Args:
            other: statistics with the same cardinality and number of LFs.

        Returns:
            ``self``.
        """
        if other.cardinality != self.cardinality:
            raise ValueError(
                f"cannot merge statistics of cardinality {other.cardinality} "
                f"into {self.cardinality}"
            )
        if other.num_lfs is None:
            return self
        if self.sparse is None:
            self.sparse = other.sparse
        if self.num_lfs is None:
            self.num_lfs = other.num_lfs
            self.rows = self._empty(self.num_lfs)
        if other.num_lfs != self.num_lfs:
            raise ValueError(
                f"cannot merge statistics of {other.num_lfs} LFs into {self.num_lfs} LFs"
            )
        rows = other.rows
        if self.sparse and not sp.issparse(rows):
            rows = sparse_votes(rows, self.cardinality)
        elif not self.sparse and sp.issparse(rows):
            rows = dense_votes(rows).astype(self.rows.dtype)
        self._add(rows, other.counts)
        return self

    def _add(self, rows: np.ndarray | sp.csr_matrix, counts: np.ndarray) -> None:
        if self.num_unique == 0:
            self.rows, self.counts = rows, counts
            return
        if self.sparse:
            both = sp.vstack([self.rows, rows], format="csr")
            self.rows, _, inverse = unique_sparse_rows(both, self.cardinality)
            weights = np.concatenate([self.counts, counts])
            self.counts = np.bincount(
                inverse, weights=weights, minlength=self.rows.shape[0]
            ).astype(np.int64)
            return
        both = np.concatenate([self.rows, rows])
        urows, _ = unique_rows(both, self.cardinality)
        weights = np.concatenate([self.counts, counts])
        idx = _row_index(urows, both, self.cardinality)
        self.rows = urows
        self.counts = np.bincount(idx, weights=weights, minlength=len(urows)).astype(np.int64)


def _row_index(sorted_rows: np.ndarray, rows: np.ndarray, cardinality: int) -> np.ndarray:
    """Index in ``sorted_rows`` (sorted and unique, as from :func:`unique_rows`) of each row."""
    m = rows.shape[1]
    base = cardinality + 1
    if m * np.log2(base) < 62:
        radix = base ** np.arange(m - 1, -1, -1, dtype=np.int64)
        keys = (sorted_rows.astype(np.int64) + 1) @ radix
        return np.searchsorted(keys, (rows.astype(np.int64) + 1) @ radix)
    a = np.ascontiguousarray(sorted_rows)
    b = np.ascontiguousarray(rows.astype(a.dtype))
    vt = np.dtype((np.void, a.dtype.itemsize * m))
    return np.searchsorted(a.view(vt).ravel(), b.view(vt).ravel())
