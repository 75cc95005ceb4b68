"""Large sparse synthetic label matrices: many unipolar LFs, many classes, a Bayes oracle.

The generative model is the label model's own detector form: ``y ~ Categorical(class_balance)``;
LF ``j`` votes only its class ``k_j`` (a keyword, a lookup), firing with probability
``recall[j]`` on rows of class ``k_j`` and ``fire_other[j]`` on every other row, each LF
independently given ``y``. Votes are drawn per LF by geometric skips over the rows of each
class, so generating costs ``O(votes)``, not ``O(N * m)``: a million rows of a thousand LFs
with about ten votes a row take seconds and stay a ``scipy.sparse`` matrix (stored value =
class index + 1, abstains not stored, the encoding :meth:`~tfsnorkel.labelmodel.LabelModel.fit`
reads).

The oracle posterior is exact and sparse too: with ``d_j = logit(recall_j) - logit(fire_other_j)``
and ``B_y = sum_{j: k_j = y} log((1 - recall_j) / (1 - fire_other_j))``,
``log P(y | votes) = log pi_y + B_y + sum_{j votes, k_j = y} d_j + const(row)``.

Example:
    >>> d = synthetic_sparse_unipolar(2000, num_lfs=40, cardinality=10, seed=0)
    >>> d.L.shape, d.posterior(d.L).shape
    ((2000, 40), (2000, 10))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

__all__ = ["SparseSynthetic", "synthetic_sparse_unipolar"]


@dataclass
class SparseSynthetic:
    """A sparse unipolar label matrix with the parameters that generated it.

    Attributes:
        L: ``[N, m]`` ``scipy.sparse.csr_matrix`` storing class index + 1 (int8 or int16).
        y: ``[N]`` int32 true classes.
        class_balance: ``[C]`` true class prior.
        lf_classes: ``[m]`` the class each LF votes.
        recall: ``[m]`` ``P(vote | y = lf_classes[j])``.
        fire_other: ``[m]`` ``P(vote | y != lf_classes[j])``.
    """

    L: sp.csr_matrix
    y: np.ndarray
    class_balance: np.ndarray
    lf_classes: np.ndarray
    recall: np.ndarray
    fire_other: np.ndarray

    @property
    def cardinality(self) -> int:
        """Number of classes."""
        return len(self.class_balance)

    def posterior(self, L: sp.spmatrix) -> np.ndarray:
        """Exact ``P(y | votes)`` (the Bayes oracle) of the rows of a sparse matrix of these LFs.

        Args:
            L: ``[n, m]`` sparse votes (class index + 1), e.g. a row slice of :attr:`L`.

        Returns:
            ``[n, C]`` float64 posterior.
        """
        c, m = self.cardinality, len(self.lf_classes)
        L = sp.csr_matrix(L)
        logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
        d = logit(self.recall) - logit(self.fire_other)
        own = sp.csr_matrix((d, (np.arange(m), self.lf_classes)), shape=(m, c))
        fired = sp.csr_matrix((np.ones(L.nnz), L.indices, L.indptr), shape=L.shape)
        base = np.log(self.class_balance) + np.bincount(
            self.lf_classes,
            weights=np.log1p(-self.recall) - np.log1p(-self.fire_other),
            minlength=c,
        )
        z = np.asarray((fired @ own).todense()) + base[None, :]
        z -= z.max(1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(1, keepdims=True)


def _bernoulli_positions(rng: np.random.Generator, n: int, p: float) -> np.ndarray:
    """Sorted indices in ``[0, n)`` each drawn independently with probability ``p``."""
    if n == 0 or p <= 0:
        return np.zeros(0, np.int64)
    out, start = [], -1
    while True:
        k = int(n * p + 6 * np.sqrt(n * p) + 16)
        pos = start + np.cumsum(rng.geometric(p, size=k))
        if pos[-1] >= n:
            out.append(pos[pos < n])
            return np.concatenate(out)
        out.append(pos)
        start = int(pos[-1])


def synthetic_sparse_unipolar(
    n: int,
    num_lfs: int = 1000,
    cardinality: int = 100,
    votes_per_row: float = 10.0,
    own_share: float = 0.3,
    seed: int = 0,
) -> SparseSynthetic:
    """Draws a sparse label matrix of unipolar LFs (module doc) with about ``votes_per_row``.

    LFs are spread evenly over the classes (LF ``j`` votes class ``j mod C``); the class
    balance is Zipf-like (``1 / sqrt(k + 1)``); recalls are uniform in 0.1-0.5 scaled so
    that a row gets ``own_share`` of its votes from the LFs of its own class, and each LF's
    false-positive rate is uniform within a factor of 6 around the level that gives the
    rest.

    Args:
        n: rows.
        num_lfs: LFs ``m`` (at least one per class). Defaults to `1000`.
        cardinality: classes ``C``. Defaults to `100`.
        votes_per_row: mean votes per row. Defaults to `10.0`.
        own_share: mean share of a row's votes from its own class's LFs. Defaults to `0.3`.
        seed: random seed. Defaults to `0`.

    Returns:
        A :class:`SparseSynthetic`.

    Example:
        >>> d = synthetic_sparse_unipolar(5000, num_lfs=20, cardinality=4, votes_per_row=3)
        >>> round(d.L.nnz / 5000)
        3
    """
    m, c = int(num_lfs), int(cardinality)
    if c < 2 or m < c:
        raise ValueError(f"needs cardinality >= 2 and num_lfs >= cardinality. Received: {m}, {c}")
    rng = np.random.default_rng(seed)
    pi = 1.0 / np.sqrt(np.arange(1, c + 1))
    pi /= pi.sum()
    y = rng.choice(c, size=n, p=pi).astype(np.int32)
    lf_classes = np.arange(m) % c
    per_class = np.bincount(lf_classes, minlength=c)
    recall = rng.uniform(0.1, 0.5, m)
    # own votes per row = sum over the row's class's LFs of recall: scale to own_share.
    own_votes = (np.bincount(lf_classes, weights=recall, minlength=c) * pi).sum()
    recall = np.clip(recall * own_share * votes_per_row / own_votes, 1e-4, 0.95)
    level = (1 - own_share) * votes_per_row / (m - (per_class * pi).sum())
    lo_f, hi_f = 6**-0.5, 6**0.5
    fire_other = np.clip(level * rng.uniform(lo_f, hi_f, m) / ((lo_f + hi_f) / 2), 1e-6, 0.5)
    order = np.argsort(y, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(y, minlength=c))])
    rows, cols = [], []
    for j in range(m):
        k = lf_classes[j]
        lo, hi = starts[k], starts[k + 1]
        mine = lo + _bernoulli_positions(rng, hi - lo, recall[j])
        other = _bernoulli_positions(rng, n - (hi - lo), fire_other[j])
        other = np.where(other < lo, other, other + (hi - lo))
        hit = order[np.concatenate([mine, other])]
        rows.append(hit)
        cols.append(np.full(len(hit), j, np.int32))
    r, col = np.concatenate(rows), np.concatenate(cols)
    dtype = np.int8 if c < 127 else np.int16
    L = sp.csr_matrix(((lf_classes[col] + 1).astype(dtype), (r, col)), shape=(n, m))
    L.sort_indices()
    return SparseSynthetic(L, y, pi, lf_classes, recall, fire_other)
