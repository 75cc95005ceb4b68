"""Per-LF vote tables in ``O(m * C)``: ``log P(vote = v | y)`` without an ``[m, C, C + 1]`` array.

The two forms of large LF sets have tables in which every vote column is *a constant plus one
class*: a one-coin LF's vote for ``v`` is ``log(p (1 - a) / (C - 1))`` under every class but
``v`` and ``log(p a)`` under ``v``; a unipolar detector of class ``k`` votes ``k`` with
``log f`` under the other classes and ``log r`` under ``k`` (and never votes another class).
:class:`VoteTables` stores exactly that, per LF ``j`` and vote value ``v``:

``log P(vote = v | y) = off[j, v] + [y == v] * diag[j, v]``

with ``abstain[j, y] = log P(abstain | y)``, and the few columns that are not of that form
(an LF that votes several classes with a full Dawid-Skene table, the marginals of grouped LFs)
listed with their own ``[C]`` values. With two classes every column is of the form, so binary
tables are always ``O(m)``. One-coin and detector fits build it directly
(:meth:`VoteTables.one_coin`, :meth:`VoteTables.detector`); any dense table converts exactly
(:meth:`VoteTables.from_dense`). At 1,000 LFs and 500 classes that is 12 MB of float64 where the
dense array is 2 GB.

Example:
    >>> import numpy as np
    >>> t = VoteTables.one_coin(np.array([0.8]), np.array([0.5]), 3)
    >>> np.round(np.exp(t.columns(np.array([1]))), 3).tolist()   # LF 0 votes 1
    [[0.05, 0.4, 0.05]]
    >>> t.num_full_columns
    0
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

__all__ = ["VoteTables", "abstain_of", "as_dense", "columns_of"]

_EPS = 1e-6
_TINY = 1e-12


@dataclasses.dataclass
class VoteTables:
    """Log vote tables of ``m`` LFs over ``C`` classes in ``O(m * C)`` (module doc).

    Attributes:
        abstain: ``[m, C]`` ``log P(abstain | y)``.
        off: ``[m, C]`` ``log P(vote = v | y)`` for ``y != v`` (indexed ``[j, v]``).
        diag: ``[m, C]`` ``log P(vote = v | y = v) - off[j, v]``.
        full_columns: ``[V]`` sorted int64 vote columns ``j * C + v`` not of that form.
        full: ``[V, C]`` their ``log P(vote = v | y)``.
    """

    abstain: np.ndarray
    off: np.ndarray
    diag: np.ndarray
    full_columns: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros(0, np.int64)
    )
    full: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.full_columns = np.asarray(self.full_columns, np.int64)
        if self.full is None:
            self.full = np.zeros((0, self.abstain.shape[1]))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(m, C, C + 1)``, the shape of :meth:`dense`."""
        m, c = self.abstain.shape
        return (m, c, c + 1)

    @property
    def num_full_columns(self) -> int:
        return len(self.full_columns)

    def columns(self, columns: np.ndarray) -> np.ndarray:
        """``[len(columns), C]`` ``log P(vote = v | y)`` of vote columns ``j * C + v``."""
        columns = np.asarray(columns, np.int64)
        c = self.abstain.shape[1]
        j, v = columns // c, columns % c
        out = np.repeat(self.off[j, v][:, None], c, axis=1)
        out[np.arange(len(columns)), v] += self.diag[j, v]
        if len(self.full_columns):
            at = np.minimum(np.searchsorted(self.full_columns, columns), len(self.full_columns) - 1)
            found = self.full_columns[at] == columns
            out[found] = self.full[at[found]]
        return out

    def dense(self) -> np.ndarray:
        """The ``[m, C, C + 1]`` array (``O(m * C^2)``: for small tables and tests)."""
        c = self.abstain.shape[1]
        t = np.repeat(self.off[:, None, :], c, axis=1)  # [j, y, v]
        idx = np.arange(c)
        t[:, idx, idx] += self.diag
        t[self.full_columns // c, :, self.full_columns % c] = self.full
        return np.concatenate([self.abstain[:, :, None], t], axis=2)

    def with_lf(self, j: int, table: np.ndarray) -> VoteTables:
        """A copy in which LF ``j`` has the dense log table ``table`` (``[C, C + 1]``), stored
        as :meth:`from_dense` stores it."""
        c = self.abstain.shape[1]
        one = VoteTables.from_dense(np.asarray(table, float)[None])
        abstain, off, diag = self.abstain.copy(), self.off.copy(), self.diag.copy()
        abstain[j], off[j], diag[j] = one.abstain[0], one.off[0], one.diag[0]
        keep = self.full_columns // c != j
        cols = np.concatenate([self.full_columns[keep], one.full_columns + j * c])
        vals = np.concatenate([self.full[keep], one.full])
        order = np.argsort(cols, kind="stable")
        return VoteTables(abstain, off, diag, cols[order], vals[order])

    @classmethod
    def from_dense(cls, lt: np.ndarray, atol: float = 1e-9, chunk: int = 256) -> VoteTables:
        """The exact :class:`VoteTables` of dense log tables ``[m, C, C + 1]``.

        A column whose off-class cells differ by more than ``atol`` is kept as a full column.
        """
        lt = np.asarray(lt, float)
        m, c = lt.shape[0], lt.shape[1]
        idx = np.arange(c)
        # off[j, v]: the cell of a class other than v (class v + 1 mod C).
        off = lt[:, (idx + 1) % c, idx + 1].copy() if c > 1 else lt[:, 0, 1:].copy()
        diag = lt[:, idx, idx + 1] - off
        full_cols, full_vals = [], []
        for lo in range(0, m, chunk):
            block = lt[lo : lo + chunk, :, 1:]  # [b, y, v]
            dev = np.abs(block - off[lo : lo + chunk, None, :])
            dev[:, idx, idx] = 0.0
            bad_j, bad_v = np.nonzero(dev.max(axis=1) > atol)
            if len(bad_j):
                full_cols.append((bad_j + lo) * c + bad_v)
                full_vals.append(block[bad_j, :, bad_v])
        cols = np.concatenate(full_cols) if full_cols else np.zeros(0, np.int64)
        vals = np.concatenate(full_vals) if full_vals else np.zeros((0, c))
        return cls(lt[:, :, 0].copy(), off, diag, cols.astype(np.int64), vals)

    @classmethod
    def one_coin(cls, acc: np.ndarray, prop: np.ndarray, cardinality: int) -> VoteTables:
        """One-coin tables: propensity ``prop``, accuracy ``acc``, wrong votes uniform."""
        c = cardinality
        acc = np.clip(np.asarray(acc, float), _EPS, 1 - _EPS)
        prop = np.clip(np.asarray(prop, float), _EPS, 1 - _EPS)
        wrong = np.log(prop * (1 - acc) / (c - 1))
        off = np.repeat(wrong[:, None], c, axis=1)
        diag = np.repeat((np.log(prop * acc) - wrong)[:, None], c, axis=1)
        return cls(np.repeat(np.log1p(-prop)[:, None], c, axis=1), off, diag)

    @classmethod
    def detector(
        cls,
        lf_classes: np.ndarray,
        fire: np.ndarray,
        false_positive: np.ndarray,
        cardinality: int,
        abstain_own: np.ndarray,
        abstain_other: np.ndarray,
    ) -> VoteTables:
        """Unipolar detectors, all in log space: LF ``j`` votes ``k = lf_classes[j]`` with
        ``fire[j]`` under ``k`` and ``false_positive[j]`` elsewhere, abstains with
        ``abstain_own[j]`` / ``abstain_other[j]``; every other vote value has ``log 1e-12``
        (an LF with ``k = -1`` never votes)."""
        c = cardinality
        lf_classes = np.asarray(lf_classes, np.int64)
        m = len(lf_classes)
        off = np.full((m, c), math.log(_TINY))
        diag = np.zeros((m, c))
        abstain = np.repeat(np.asarray(abstain_other, float)[:, None], c, axis=1)
        j = np.flatnonzero(lf_classes >= 0)
        k = lf_classes[j]
        off[j, k] = false_positive[j]
        diag[j, k] = fire[j] - false_positive[j]
        abstain[j, k] = abstain_own[j]
        return cls(abstain, off, diag)


def abstain_of(lt) -> np.ndarray:
    """``[m, C]`` ``log P(abstain | y)`` of dense tables or :class:`VoteTables`."""
    return lt.abstain if isinstance(lt, VoteTables) else lt[:, :, 0]


def columns_of(lt, columns: np.ndarray) -> np.ndarray:
    """``[len(columns), C]`` ``log P(vote = v | y)`` of vote columns ``j * C + v`` of dense
    tables or :class:`VoteTables`."""
    if isinstance(lt, VoteTables):
        return lt.columns(columns)
    c = lt.shape[1]
    columns = np.asarray(columns, np.int64)
    return lt[columns // c, :, columns % c + 1]


def as_dense(lt) -> np.ndarray:
    """Dense ``[m, C, C + 1]`` log tables of either form."""
    return lt.dense() if isinstance(lt, VoteTables) else np.asarray(lt)
