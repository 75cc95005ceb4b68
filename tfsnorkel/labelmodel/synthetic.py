"""Synthetic label matrices from a known generative model, with the Bayes-oracle posterior.

The process: ``y ~ Categorical(class_balance)``; each *source* LF ``j`` votes with
probability ``propensity[j]`` (independently of ``y``), and when it votes it is right with
probability ``accuracy[j]``, else it picks one of the other classes uniformly. A *copy*
of source ``j`` repeats ``j``'s vote (abstain included) with probability ``copy_prob``,
else draws a fresh vote from ``j``'s own distribution; so every copy has ``j``'s accuracy
and propensity, and ``j`` with its copies forms one dependent group. Because the process
is known, :meth:`SyntheticLabels.posterior` gives the exact posterior ``P(y | votes)``
(the Bayes oracle that no label model can beat on average).

Example:
    >>> d = synthetic_label_matrix(1000, cardinality=3, num_lfs=5, seed=1)
    >>> d.L.shape, d.y.shape, d.posterior(d.L).shape
    ((1000, 5), (1000,), (1000, 3))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from tfsnorkel.labels import ABSTAIN, check_label_matrix

__all__ = ["SyntheticLabels", "synthetic_label_matrix"]


@dataclass
class SyntheticLabels:
    """A synthetic label matrix with the parameters that generated it.

    Attributes:
        L: ``[N, m]`` int32 votes.
        y: ``[N]`` int32 true classes.
        class_balance: ``[C]`` true class prior.
        accuracies: ``[m]`` true ``P(vote == y | vote != abstain)`` per LF.
        propensities: ``[m]`` true ``P(vote != abstain)`` per LF.
        groups: dependent groups (each a source followed by its copies); singletons omitted.
        sources: ``[m]`` the source column of each LF (itself for a source).
        copy_prob: probability that a copy repeats its source's vote.
    """

    L: np.ndarray
    y: np.ndarray
    class_balance: np.ndarray
    accuracies: np.ndarray
    propensities: np.ndarray
    groups: list[list[int]] = field(default_factory=list)
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    copy_prob: float = 0.0

    @property
    def cardinality(self) -> int:
        """Number of classes."""
        return len(self.class_balance)

    def _vote_probs(self, j: int) -> np.ndarray:
        """``[C, C + 1]`` table ``P(vote = v | y)`` of source ``j``, column ``v + 1``."""
        c = self.cardinality
        p, a = self.propensities[j], self.accuracies[j]
        t = np.full((c, c + 1), p * (1 - a) / max(c - 1, 1))
        t[:, 0] = 1 - p
        t[np.arange(c), np.arange(c) + 1] = p * a
        return t

    def posterior(self, L: np.ndarray) -> np.ndarray:
        """Exact ``P(y | votes)`` under the generating process (the Bayes oracle).

        Args:
            L: ``[N, m]`` votes of the same LFs.

        Returns:
            ``[N, C]`` float64 posterior.
        """
        L = check_label_matrix(L, cardinality=self.cardinality)
        logp = np.tile(np.log(self.class_balance), (len(L), 1))
        for j in range(L.shape[1]):
            src = int(self.sources[j])
            t = self._vote_probs(src)[:, L[:, j] + 1].T  # [N, C]
            if src != j:
                same = (L[:, j] == L[:, src])[:, None]
                t = self.copy_prob * same + (1 - self.copy_prob) * t
            logp += np.log(t)
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=1, keepdims=True)


def synthetic_label_matrix(
    n: int,
    cardinality: int = 2,
    num_lfs: int = 10,
    *,
    class_balance: Sequence[float] | None = None,
    accuracies: Sequence[float] | None = None,
    propensities: Sequence[float] | None = None,
    copies: Mapping[int, int] | None = None,
    copy_prob: float = 0.95,
    seed: int = 0,
) -> SyntheticLabels:
    """Draws a label matrix from the known generative model described in the module doc.

    Args:
        n: number of rows.
        cardinality: number of classes ``C``. Defaults to `2`.
        num_lfs: number of source LFs. Defaults to `10`.
        class_balance: ``[C]`` class prior. Defaults to `None` (uniform).
        accuracies: ``[num_lfs]`` accuracies. Defaults to `None` (uniform in [0.6, 0.9]).
        propensities: ``[num_lfs]`` propensities. Defaults to `None` (uniform in [0.3, 0.9]).
        copies: ``{source_column: number_of_copies}``; copies are appended as new
            columns after the sources. Defaults to `None` (independent LFs).
        copy_prob: probability that a copy repeats its source's vote. Defaults to `0.95`.
        seed: random seed. Defaults to `0`.

    Returns:
        A :class:`SyntheticLabels`.

    Example:
        >>> d = synthetic_label_matrix(10, num_lfs=3, copies={0: 2})
        >>> d.L.shape, d.groups
        ((10, 5), [[0, 3, 4]])
    """
    if n < 0 or cardinality < 2 or num_lfs < 1:
        raise ValueError(
            "need n >= 0, cardinality >= 2 and num_lfs >= 1. "
            f"Received: n={n}, cardinality={cardinality}, num_lfs={num_lfs}"
        )
    rng = np.random.default_rng(seed)
    c = cardinality
    pi = np.full(c, 1.0 / c) if class_balance is None else np.asarray(class_balance, float)
    if pi.shape != (c,) or np.any(pi < 0) or not np.isclose(pi.sum(), 1.0):
        raise ValueError(
            f"class_balance must be {c} probabilities summing to 1. Received: {pi.tolist()}"
        )
    acc = rng.uniform(0.6, 0.9, num_lfs) if accuracies is None else np.asarray(accuracies, float)
    prop = (
        rng.uniform(0.3, 0.9, num_lfs) if propensities is None else np.asarray(propensities, float)
    )
    if acc.shape != (num_lfs,) or prop.shape != (num_lfs,):
        raise ValueError(
            f"accuracies and propensities need {num_lfs} values. "
            f"Received shapes: {acc.shape}, {prop.shape}"
        )
    y = rng.choice(c, size=n, p=pi).astype(np.int32)

    def draw(j: int) -> np.ndarray:
        votes = rng.random(n) < prop[j]
        right = rng.random(n) < acc[j]
        wrong = (y + rng.integers(1, c, size=n)) % c if c > 1 else y
        out = np.where(right, y, wrong).astype(np.int32)
        return np.where(votes, out, ABSTAIN).astype(np.int32)

    cols = [draw(j) for j in range(num_lfs)]
    sources = list(range(num_lfs))
    groups = []
    for src, k in sorted((copies or {}).items()):
        group = [src]
        for _ in range(k):
            fresh = draw(src)
            keep = rng.random(n) < copy_prob
            cols.append(np.where(keep, cols[src], fresh).astype(np.int32))
            sources.append(src)
            group.append(len(cols) - 1)
        groups.append(group)
    m = len(cols)
    L = np.stack(cols, axis=1) if n else np.zeros((0, m), np.int32)
    src_arr = np.asarray(sources)
    return SyntheticLabels(
        L=L,
        y=y,
        class_balance=pi,
        accuracies=acc[src_arr],
        propensities=prop[src_arr],
        groups=groups,
        sources=src_arr,
        copy_prob=copy_prob,
    )
