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

import numpy as np

from tfsnorkel.labels import check_label_matrix

__all__ = ["LabelStats", "unique_rows"]

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


class LabelStats:
    """Unique vote patterns of a label matrix with their counts, additive across batches.

    Memory is ``O(number of distinct rows)``, not ``O(N)``: stream any number of batches
    through :meth:`update`, or build one object per shard and :meth:`merge` them.

    Args:
        cardinality: number of classes ``C``.
        num_lfs: number of LF columns; inferred from the first batch when `None`.
            Defaults to `None`.

    Example:
        >>> a = LabelStats.from_matrix(np.array([[0, 0]]), cardinality=2)
        >>> b = LabelStats.from_matrix(np.array([[0, 0], [1, -1]]), cardinality=2)
        >>> a.merge(b).num_rows, a.num_unique
        (3, 2)
    """

    def __init__(self, cardinality: int, num_lfs: int | None = None) -> None:
        if not isinstance(cardinality, (int, np.integer)) or cardinality < 2:
            raise ValueError(
                f"cardinality must be an integer >= 2. Received: cardinality={cardinality!r}"
            )
        self.cardinality = int(cardinality)
        self.num_lfs = num_lfs
        dtype = _storage_dtype(self.cardinality)
        self.rows = np.zeros((0, num_lfs or 0), dtype)
        self.counts = np.zeros(0, np.int64)

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
        if hasattr(L_batch, "numpy"):
            L_batch = L_batch.numpy()
        L_batch = check_label_matrix(L_batch, cardinality=self.cardinality)
        if self.num_lfs is None:
            self.num_lfs = L_batch.shape[1]
            self.rows = self.rows.reshape(0, self.num_lfs)
        if L_batch.shape[1] != self.num_lfs:
            raise ValueError(
                f"every batch must have the same number of LF columns ({self.num_lfs}). "
                f"Received a batch of shape {L_batch.shape}"
            )
        # Chunks bound the temporary memory of the sort whatever the batch size.
        for start in range(0, max(len(L_batch), 1), _CHUNK_ROWS):
            rows, counts = unique_rows(L_batch[start : start + _CHUNK_ROWS], self.cardinality)
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
        if self.num_lfs is None:
            self.num_lfs = other.num_lfs
            self.rows = self.rows.reshape(0, self.num_lfs)
        if other.num_lfs != self.num_lfs:
            raise ValueError(
                f"cannot merge statistics of {other.num_lfs} LFs into {self.num_lfs} LFs"
            )
        self._add(other.rows, other.counts)
        return self

    def _add(self, rows: np.ndarray, counts: np.ndarray) -> None:
        if self.num_unique == 0:
            self.rows, self.counts = rows, counts
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
