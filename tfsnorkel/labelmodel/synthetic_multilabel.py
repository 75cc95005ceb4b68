"""Synthetic multi-label votes from a known generative model, with the Bayes-oracle posterior.

The process, per row: each class ``c`` is present (``Y[c] = 1``) with probability
``class_priors[c]``, independently of the other classes; each LF is bound to one class
(``lf_classes[j]``) and, given that class's presence, votes ``1`` (present), ``0`` (absent) or
abstains (``-1``) from its own table ``P(vote | Y[c])`` (``tables[j]``: ``[2, 3]``, rows
absent / present, columns abstain / absent / present). Three kinds of LF are drawn: a
*detector* (votes only "present", e.g. a keyword; its silence is weak evidence of absence), an
*excluder* (votes only "absent") and a *bipolar* LF (votes both). A *copy* of LF ``j`` repeats
``j``'s vote (abstain included) with probability ``copy_prob``, else draws afresh from ``j``'s
table: ``j`` and its copies are one dependent group, whose evidence a label model must count
once.

Because the process is known, :meth:`SyntheticMultiLabels.posterior` gives the exact
``P(Y[c] = 1 | all votes)`` of every class (the Bayes oracle): classes are independent, so it
is the posterior of each class given its own LFs, groups modelled jointly.

Example:
    >>> d = synthetic_multilabel(1000, num_classes=3, lfs_per_class=4, seed=0)
    >>> d.L.shape, d.Y.shape, d.posterior(d.L).shape
    ((1000, 12), (1000, 3), (1000, 3))
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SyntheticMultiLabels", "synthetic_multilabel"]

_KINDS = ("detector", "excluder", "bipolar")


@dataclass
class SyntheticMultiLabels:
    """A synthetic multi-label vote matrix with the parameters that generated it.

    Attributes:
        L: ``[N, m]`` int32 votes (``1`` present, ``0`` absent, ``-1`` abstain).
        Y: ``[N, C]`` int32 true presence of each class.
        lf_classes: ``[m]`` the class each LF is bound to.
        class_priors: ``[C]`` true ``P(Y[c] = 1)``.
        tables: ``[m, 2, 3]`` ``P(vote | Y[c])`` per LF (row ``Y[c]``; columns abstain, absent,
            present); a copy holds its source's table.
        groups: dependent groups (a source followed by its copies).
        sources: ``[m]`` the source column of each LF (itself for a source).
        copy_prob: probability that a copy repeats its source's vote.
    """

    L: np.ndarray
    Y: np.ndarray
    lf_classes: np.ndarray
    class_priors: np.ndarray
    tables: np.ndarray
    groups: list[list[int]] = field(default_factory=list)
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    copy_prob: float = 0.0

    @property
    def num_classes(self) -> int:
        """Number of classes ``C``."""
        return len(self.class_priors)

    def posterior(self, L: np.ndarray) -> np.ndarray:
        """Bayes-oracle ``P(Y[c] = 1 | votes)`` for every row and class.

        Args:
            L: ``[N, m]`` votes of this generator's LFs.

        Returns:
            ``[N, C]`` float64 probabilities.
        """
        L = np.asarray(L)
        n = len(L)
        logit = np.tile(np.log(self.class_priors) - np.log1p(-self.class_priors), (n, 1))
        idx = L + 1  # 0 abstain, 1 absent, 2 present
        members: dict[int, list[int]] = {}
        for j, s in enumerate(self.sources):
            members.setdefault(int(s), []).append(j)
        for src, cols in members.items():
            t = self.tables[src]  # [2, 3]
            like = np.ones((n, 2))
            for y in (0, 1):
                like[:, y] = t[y, idx[:, src]]
                for j in cols:
                    if j == src:
                        continue
                    same = (idx[:, j] == idx[:, src]).astype(float)
                    like[:, y] *= self.copy_prob * same + (1 - self.copy_prob) * t[y, idx[:, j]]
            c = int(self.lf_classes[src])
            logit[:, c] += np.log(like[:, 1]) - np.log(like[:, 0])
        return 1.0 / (1.0 + np.exp(-logit))


def _draw_table(rng: np.random.Generator, kind: str) -> np.ndarray:
    """``[2, 3]`` ``P(vote | Y)`` of a better-than-random LF of the given kind."""
    t = np.zeros((2, 3))
    if kind == "detector":
        recall, false_alarm = rng.uniform(0.3, 0.8), rng.uniform(0.02, 0.15)
        t[1, 2], t[0, 2] = recall, false_alarm
    elif kind == "excluder":
        recall, miss = rng.uniform(0.3, 0.8), rng.uniform(0.02, 0.15)
        t[0, 1], t[1, 1] = recall, miss
    else:
        prop, acc = rng.uniform(0.3, 0.8), rng.uniform(0.65, 0.9)
        t[1, 2], t[1, 1] = prop * acc, prop * (1 - acc)
        t[0, 1], t[0, 2] = prop * acc, prop * (1 - acc)
    t[:, 0] = 1.0 - t[:, 1:].sum(1)
    return t


def synthetic_multilabel(
    n: int,
    num_classes: int = 5,
    lfs_per_class: int | Sequence[int] = 5,
    *,
    class_priors: Sequence[float] | None = None,
    kinds: Sequence[str] = _KINDS,
    copies: Mapping[int, int] | None = None,
    copy_prob: float = 0.9,
    seed: int = 0,
) -> SyntheticMultiLabels:
    """Draws a multi-label vote matrix with known parameters (module doc).

    Args:
        n: number of rows.
        num_classes: number of classes ``C`` (at least 2). Defaults to `5`.
        lfs_per_class: LFs bound to each class (one number, or one per class; `0` gives a
            class no LF votes for). Defaults to `5`.
        class_priors: ``[C]`` ``P(Y[c] = 1)`` in ``(0, 1)``. Defaults to `None` (drawn
            uniformly from ``[0.1, 0.5]``).
        kinds: LF kinds drawn in turn for each class's LFs (``"detector"``, ``"excluder"``,
            ``"bipolar"``). Defaults to all three.
        copies: ``{source column: number of near-copies}`` appended after the source LFs.
            Defaults to `None`.
        copy_prob: probability that a copy repeats its source's vote. Defaults to `0.9`.
        seed: random seed. Defaults to `0`.

    Returns:
        A :class:`SyntheticMultiLabels`.

    Raises:
        ValueError: bad arguments (the message names the argument).

    Example:
        >>> d = synthetic_multilabel(500, num_classes=2, lfs_per_class=3, copies={0: 2})
        >>> d.L.shape, d.groups
        ((500, 8), [[0, 6, 7]])
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer. Received: n={n!r}")
    if not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise ValueError(
            f"num_classes must be an integer >= 2. Received: num_classes={num_classes!r}"
        )
    c = int(num_classes)
    per = (
        [int(lfs_per_class)] * c
        if isinstance(lfs_per_class, (int, np.integer))
        else [int(k) for k in lfs_per_class]
    )
    if len(per) != c or min(per) < 0:
        raise ValueError(
            f"lfs_per_class must be a non-negative integer or {c} of them. "
            f"Received: lfs_per_class={lfs_per_class!r}"
        )
    bad_kinds = [k for k in kinds if k not in _KINDS]
    if not kinds or bad_kinds:
        raise ValueError(f"kinds must be drawn from {list(_KINDS)}. Received: kinds={kinds!r}")
    if not 0.0 <= copy_prob <= 1.0:
        raise ValueError(f"copy_prob must be in [0, 1]. Received: copy_prob={copy_prob!r}")
    rng = np.random.default_rng(seed)
    if class_priors is None:
        priors = rng.uniform(0.1, 0.5, size=c)
    else:
        priors = np.asarray(class_priors, dtype=float)
        if priors.shape != (c,) or np.any(priors <= 0) or np.any(priors >= 1):
            raise ValueError(
                f"class_priors must be {c} numbers in (0, 1). Received: class_priors={class_priors!r}"
            )
    lf_classes = np.repeat(np.arange(c), per)
    m0 = len(lf_classes)
    tables = [_draw_table(rng, kinds[i % len(kinds)]) for k in per for i in range(k)]
    copies = dict(copies or {})
    for src in copies:
        if not 0 <= int(src) < m0:
            raise ValueError(
                f"copies names source column {src}, but there are {m0} source LFs. "
                f"Received: copies={copies!r}"
            )
    sources = list(range(m0))
    groups = []
    for src, k in sorted(copies.items()):
        cols = list(range(len(sources), len(sources) + int(k)))
        sources += [int(src)] * int(k)
        groups.append([int(src), *cols])
    sources_arr = np.asarray(sources, dtype=np.int64)
    lf_classes = lf_classes[sources_arr]
    tab = np.asarray([tables[s] for s in sources_arr]) if len(sources_arr) else np.zeros((0, 2, 3))
    Y = (rng.random((n, c)) < priors[None, :]).astype(np.int32)
    L = np.full((n, len(sources_arr)), -1, dtype=np.int32)
    for j in range(m0):
        y = Y[:, lf_classes[j]]
        cum = np.cumsum(tab[j][y], axis=1)  # [n, 3]
        L[:, j] = (rng.random(n)[:, None] > cum).sum(1) - 1
    for j in range(m0, len(sources_arr)):
        src = int(sources_arr[j])
        y = Y[:, lf_classes[j]]
        cum = np.cumsum(tab[j][y], axis=1)
        fresh = (rng.random(n)[:, None] > cum).sum(1) - 1
        L[:, j] = np.where(rng.random(n) < copy_prob, L[:, src], fresh)
    return SyntheticMultiLabels(
        L=L,
        Y=Y,
        lf_classes=lf_classes.astype(np.int64),
        class_priors=priors,
        tables=tab,
        groups=groups,
        sources=sources_arr,
        copy_prob=float(copy_prob),
    )
