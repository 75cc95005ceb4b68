"""Synthetic label matrices from a known generative model, with the Bayes-oracle posterior.

The process: ``y ~ Categorical(class_balance)``; each *source* LF ``j`` votes with
probability ``propensity[j]`` (independently of ``y``), and when it votes it is right with
probability ``accuracy[j]``, else it picks one of the other classes uniformly. A *copy*
of source ``j`` repeats ``j``'s vote (abstain included) with probability ``copy_prob``,
else draws a fresh vote from ``j``'s own distribution; so every copy has ``j``'s accuracy
and propensity, and ``j`` with its copies forms one dependent group. Because the process
is known, :meth:`SyntheticLabels.posterior` gives the exact posterior ``P(y | votes)``
(the Bayes oracle that no label model can beat on average).

Beyond that symmetric model, ``tables=`` gives each source LF any class-conditional vote
distribution ``P(vote | y)`` (abstain included): `unipolar_table` (an LF that votes one class,
e.g. a keyword; its silence is evidence too), `symmetric_table` (the model above) and
`class_conditional_table` (propensity and accuracy that depend on the class, wrong votes
spread unevenly). :data:`FAMILY` names a fixed set of such generative models (2 to 20 classes,
class balance 50/50 to 95/5, unipolar / bipolar / multipolar LFs, sparse and dense coverage,
near-copies) drawn by `synthetic_family`; the label-model harness (``benchmarks/lm_sets.py``)
caches them with their oracle.

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

__all__ = [
    "FAMILY",
    "FamilyMember",
    "SyntheticLabels",
    "class_conditional_table",
    "symmetric_table",
    "synthetic_family",
    "synthetic_label_matrix",
    "unipolar_table",
]


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
        tables: ``[m, C, C + 1]`` per-column ``P(vote = v | y)`` (column ``v + 1``; a copy holds
            its source's table), or ``None`` for the symmetric model of ``accuracies`` and
            ``propensities``.
    """

    L: np.ndarray
    y: np.ndarray
    class_balance: np.ndarray
    accuracies: np.ndarray
    propensities: np.ndarray
    groups: list[list[int]] = field(default_factory=list)
    sources: np.ndarray = field(default_factory=lambda: np.zeros(0, int))
    copy_prob: float = 0.0
    tables: np.ndarray | None = None

    @property
    def cardinality(self) -> int:
        """Number of classes."""
        return len(self.class_balance)

    def _vote_probs(self, j: int) -> np.ndarray:
        """``[C, C + 1]`` table ``P(vote = v | y)`` of source ``j``, column ``v + 1``."""
        if self.tables is not None:
            return self.tables[j]
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
    tables: np.ndarray | Sequence[np.ndarray] | None = None,
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
        tables: ``[num_lfs, C, C + 1]`` vote distributions ``P(vote = v | y)`` of the source
            LFs (column ``v + 1``, column 0 = abstain; e.g. from `unipolar_table`), instead of
            ``accuracies`` / ``propensities`` (which must then be `None`; the returned ones
            are the marginal accuracy and propensity under ``class_balance``). Defaults to
            `None` (the symmetric model).

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
    tab = None if tables is None else _check_tables(tables, num_lfs, c, accuracies, propensities)
    if tab is None:
        acc = (
            rng.uniform(0.6, 0.9, num_lfs) if accuracies is None else np.asarray(accuracies, float)
        )
        prop = (
            rng.uniform(0.3, 0.9, num_lfs)
            if propensities is None
            else np.asarray(propensities, float)
        )
    else:
        prop = np.einsum("y,jy->j", pi, 1.0 - tab[:, :, 0])
        right = np.einsum("y,jy->j", pi, tab[:, np.arange(c), np.arange(c) + 1])
        acc = np.divide(right, prop, out=np.zeros(num_lfs), where=prop > 0)
    if acc.shape != (num_lfs,) or prop.shape != (num_lfs,):
        raise ValueError(
            f"accuracies and propensities need {num_lfs} values. "
            f"Received shapes: {acc.shape}, {prop.shape}"
        )
    y = rng.choice(c, size=n, p=pi).astype(np.int32)

    def draw(j: int) -> np.ndarray:
        if tab is not None:
            cum = np.cumsum(tab[j], axis=1)[y]  # [n, C + 1]
            u = rng.random(n)[:, None]
            return (np.minimum((u >= cum).sum(axis=1), c) - 1).astype(np.int32)
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
        tables=None if tab is None else tab[src_arr],
    )


def _check_tables(tables, num_lfs, c, accuracies, propensities) -> np.ndarray:
    if accuracies is not None or propensities is not None:
        raise ValueError(
            "give tables= or accuracies/propensities, not both. "
            f"Received: accuracies={accuracies!r}, propensities={propensities!r}"
        )
    tab = np.asarray(tables, float)
    if tab.shape != (num_lfs, c, c + 1):
        raise ValueError(
            f"tables must have shape (num_lfs, C, C + 1) = {(num_lfs, c, c + 1)}. "
            f"Received shape: {tab.shape}"
        )
    if np.any(tab < 0) or not np.allclose(tab.sum(axis=2), 1.0):
        bad = np.argwhere((tab < 0).any(axis=2) | ~np.isclose(tab.sum(axis=2), 1.0))[0]
        raise ValueError(
            "each row of a vote table must be probabilities summing to 1. "
            f"Received: tables[{bad[0]}][{bad[1]}]={tab[bad[0], bad[1]].tolist()}"
        )
    return tab


def symmetric_table(cardinality: int, accuracy: float, propensity: float) -> np.ndarray:
    """``P(vote | y)`` of the symmetric model: votes with ``propensity``, right with ``accuracy``.

    Args:
        cardinality: number of classes ``C``.
        accuracy: ``P(vote == y | vote)``; wrong votes spread uniformly over the other classes.
        propensity: ``P(vote)``, the same for every class.

    Returns:
        ``[C, C + 1]`` table, column 0 = abstain, column ``v + 1`` = class ``v``.

    Example:
        >>> symmetric_table(2, 0.8, 0.5).round(3).tolist()
        [[0.5, 0.4, 0.1], [0.5, 0.1, 0.4]]
    """
    c = cardinality
    t = np.full((c, c + 1), propensity * (1 - accuracy) / max(c - 1, 1))
    t[:, 0] = 1 - propensity
    t[np.arange(c), np.arange(c) + 1] = propensity * accuracy
    return t


def unipolar_table(
    cardinality: int, target: int, class_balance: Sequence[float], recall: float, lift: float
) -> np.ndarray:
    """``P(vote | y)`` of an LF that only ever votes ``target`` (a keyword, a regex).

    It fires on a ``target`` row with probability ``recall``; its precision sits ``lift`` of
    the way from the base rate ``class_balance[target]`` to 1, so it fires on other rows with
    ``recall * pi_t * (1 - precision) / (precision * (1 - pi_t))``.

    Args:
        cardinality: number of classes ``C``.
        target: the class it votes.
        class_balance: ``[C]`` class prior.
        recall: ``P(vote | y == target)``.
        lift: in ``(0, 1)``; precision ``= pi_t + lift * (1 - pi_t)``.

    Returns:
        ``[C, C + 1]`` table, column 0 = abstain.

    Raises:
        ValueError: the firing rate on other rows would exceed 1.

    Example:
        >>> t = unipolar_table(2, 1, [0.5, 0.5], recall=0.4, lift=0.6)
        >>> t.round(3).tolist()
        [[0.9, 0.0, 0.1], [0.6, 0.0, 0.4]]
    """
    pi = np.asarray(class_balance, float)
    p_t = pi[target]
    precision = p_t + lift * (1 - p_t)
    fire_other = recall * p_t * (1 - precision) / (precision * (1 - p_t))
    if not 0 <= fire_other <= 1 or not 0 <= recall <= 1:
        raise ValueError(
            "recall and lift give a firing rate outside [0, 1]. "
            f"Received: recall={recall}, lift={lift}, class_balance[{target}]={p_t}"
        )
    t = np.zeros((cardinality, cardinality + 1))
    t[:, target + 1] = fire_other
    t[target, target + 1] = recall
    t[:, 0] = 1 - t[:, target + 1]
    return t


def class_conditional_table(
    cardinality: int,
    propensities: Sequence[float],
    accuracies: Sequence[float],
    wrong: np.ndarray | None = None,
) -> np.ndarray:
    """``P(vote | y)`` with a propensity and an accuracy per class, and uneven wrong votes.

    Args:
        cardinality: number of classes ``C``.
        propensities: ``[C]`` ``P(vote | y)``.
        accuracies: ``[C]`` ``P(vote == y | vote, y)``.
        wrong: ``[C, C]`` how wrong votes of each true class spread over the classes (the
            diagonal is ignored; rows are normalized). Defaults to `None` (uniform).

    Returns:
        ``[C, C + 1]`` table, column 0 = abstain.

    Example:
        >>> class_conditional_table(2, [0.2, 0.6], [0.9, 0.7]).round(2).tolist()
        [[0.8, 0.18, 0.02], [0.4, 0.18, 0.42]]
    """
    c = cardinality
    prop, acc = np.asarray(propensities, float), np.asarray(accuracies, float)
    w = np.ones((c, c)) if wrong is None else np.asarray(wrong, float).copy()
    np.fill_diagonal(w, 0.0)
    w /= w.sum(axis=1, keepdims=True)
    t = np.zeros((c, c + 1))
    t[:, 0] = 1 - prop
    t[:, 1:] = (prop * (1 - acc))[:, None] * w
    t[np.arange(c), np.arange(c) + 1] = prop * acc
    return t


@dataclass(frozen=True)
class FamilyMember:
    """One named generative model of :data:`FAMILY`.

    Attributes:
        name: the member's name (``bin_85_15_bipolar``, ``c20_dense``, ...).
        n: rows of the default draw (the harness's train split; it draws validation and
            test rows beside it).
        cardinality: number of classes.
        description: what the member exercises.
        class_balance: ``[C]`` true class prior.
        tables: ``[m_sources, C, C + 1]`` source vote tables.
        copies: ``{source: number_of_near_copies}``.
        copy_prob: probability that a near-copy repeats its source's vote.
    """

    name: str
    n: int
    cardinality: int
    description: str
    class_balance: tuple[float, ...]
    tables: np.ndarray
    copies: Mapping[int, int]
    copy_prob: float = 0.9

    @property
    def num_lfs(self) -> int:
        """Columns of the label matrix (sources plus near-copies)."""
        return len(self.tables) + sum(self.copies.values())


def _symmetric(rng, c, m, acc, prop) -> np.ndarray:
    return np.stack([symmetric_table(c, rng.uniform(*acc), rng.uniform(*prop)) for _ in range(m)])


def _unipolar(rng, pi, per_class, recall, lift) -> np.ndarray:
    c = len(pi)
    return np.stack([
        unipolar_table(c, k, pi, rng.uniform(*recall), rng.uniform(*lift))
        for k in range(c) for _ in range(per_class[k])
    ])


def _class_conditional(rng, c, m, acc, prop, alpha=1.0) -> np.ndarray:
    return np.stack([
        class_conditional_table(c, rng.uniform(*prop, c), rng.uniform(*acc, c),
                                rng.dirichlet(np.full(c, alpha), c))
        for _ in range(m)
    ])


def _member(name, n, pi, description, build, copies=None, copy_prob=0.9) -> FamilyMember:
    # Parameters are drawn from their own seeded stream (one per member, from its name), so a
    # member is the same whatever else the family holds.
    seed = int.from_bytes(name.encode(), "little") % (2**32)
    pi = np.asarray(pi, float) / np.sum(pi)
    tables = build(np.random.default_rng(seed), pi)
    return FamilyMember(name, n, len(pi), description, tuple(pi.tolist()), tables,
                        dict(copies or {}), copy_prob)


def _geometric(c: int, ratio: float) -> np.ndarray:
    p = ratio ** np.arange(c)
    return p / p.sum()


def _build_family() -> dict[str, FamilyMember]:
    sym, uni, cc = _symmetric, _unipolar, _class_conditional
    members = [
        _member("bin_50_50_bipolar", 50_000, [0.5, 0.5],
                "10 LFs that vote either class, accuracy 0.6-0.85, coverage 0.2-0.6",
                lambda r, pi: sym(r, 2, 10, (0.6, 0.85), (0.2, 0.6))),
        _member("bin_85_15_bipolar", 200_000, [0.85, 0.15],
                "6 bipolar LFs, accuracy 0.6-0.85, coverage 0.2-0.6, skewed prior",
                lambda r, pi: sym(r, 2, 6, (0.6, 0.85), (0.2, 0.6))),
        _member("bin_90_10_copies5", 200_000, [0.9, 0.1],
                "6 bipolar LFs, the weakest with 5 near-copies (copy probability 0.9)",
                lambda r, pi: np.stack([symmetric_table(2, a, p) for a, p in zip(
                    [0.62, 0.7, 0.75, 0.8, 0.85, 0.72], [0.5, 0.3, 0.4, 0.25, 0.2, 0.35])]),
                copies={0: 5}),
        _member("bin_70_30_classcond", 50_000, [0.7, 0.3],
                "8 bipolar LFs whose propensity and accuracy depend on the class "
                "(abstaining is evidence)",
                lambda r, pi: cc(r, 2, 8, (0.6, 0.9), (0.1, 0.7))),
        _member("bin_80_20_unipolar", 50_000, [0.8, 0.2],
                "12 unipolar LFs (6 per class), recall 0.1-0.4",
                lambda r, pi: uni(r, pi, [6, 6], (0.1, 0.4), (0.4, 0.85))),
        _member("bin_95_5_unipolar_sparse", 100_000, [0.95, 0.05],
                "10 unipolar LFs (6 negative, 4 positive), recall 0.05-0.3, most rows "
                "without a vote",
                lambda r, pi: uni(r, pi, [6, 4], (0.05, 0.3), (0.4, 0.85))),
        _member("bin_60_40_dense", 20_000, [0.6, 0.4],
                "25 weak bipolar LFs (accuracy 0.55-0.7) that vote on most rows",
                lambda r, pi: sym(r, 2, 25, (0.55, 0.7), (0.7, 0.95))),
        _member("c3_unipolar_sparse", 100_000, [0.6, 0.3, 0.1],
                "3 classes, 9 unipolar LFs (3 per class), recall 0.05-0.3",
                lambda r, pi: uni(r, pi, [3, 3, 3], (0.05, 0.3), (0.4, 0.85))),
        _member("c3_multipolar_copies3", 100_000, [0.5, 0.3, 0.2],
                "3 classes, 8 multipolar LFs, one with 3 near-copies",
                lambda r, pi: sym(r, 3, 8, (0.5, 0.8), (0.2, 0.6)), copies={0: 3}),
        _member("c4_classcond", 50_000, [0.4, 0.3, 0.2, 0.1],
                "4 classes, 10 multipolar LFs with class-dependent propensity and accuracy "
                "and uneven confusions",
                lambda r, pi: cc(r, 4, 10, (0.45, 0.85), (0.15, 0.6))),
        _member("c6_unipolar", 50_000, _geometric(6, 0.7),
                "6 classes (geometric prior), 30 unipolar LFs (5 per class), recall 0.05-0.25",
                lambda r, pi: uni(r, pi, [5] * 6, (0.05, 0.25), (0.4, 0.85))),
        _member("c10_unipolar_sparse", 100_000, _geometric(10, 0.8),
                "10 classes, 40 unipolar LFs (4 per class), recall 0.03-0.2",
                lambda r, pi: uni(r, pi, [4] * 10, (0.03, 0.2), (0.4, 0.85))),
        _member("c20_dense", 50_000, np.ones(20),
                "20 balanced classes, 12 multipolar LFs voting on 30-70% of rows, accuracy "
                "0.35-0.65, wrong votes concentrated on a few confusable classes",
                lambda r, pi: cc(r, 20, 12, (0.35, 0.65), (0.3, 0.7), alpha=0.1)),
        _member("c20_unipolar", 100_000, 1.0 / np.arange(1, 21),
                "20 classes (Zipf prior), 60 unipolar LFs (3 per class), recall 0.1-0.4",
                lambda r, pi: uni(r, pi, [3] * 20, (0.1, 0.4), (0.4, 0.85))),
    ]
    return {m.name: m for m in members}


#: The named generative models of the label-model harness, ``{name: FamilyMember}``.
FAMILY: dict[str, FamilyMember] = _build_family()


def synthetic_family(name: str, n: int | None = None, seed: int = 0) -> SyntheticLabels:
    """Draws ``n`` rows from the :data:`FAMILY` member ``name``.

    Args:
        name: a key of :data:`FAMILY`.
        n: number of rows. Defaults to `None` (the member's ``n``).
        seed: seed of the draw (the member's parameters are fixed). Defaults to `0`.

    Returns:
        A :class:`SyntheticLabels` whose ``posterior`` is the Bayes oracle.

    Raises:
        ValueError: unknown member.

    Example:
        >>> d = synthetic_family("c3_unipolar_sparse", n=1000)
        >>> d.L.shape, d.cardinality
        ((1000, 9), 3)
    """
    if name not in FAMILY:
        raise ValueError(f"unknown family member; choose from {sorted(FAMILY)}. Received: {name!r}")
    m = FAMILY[name]
    return synthetic_label_matrix(
        m.n if n is None else n,
        m.cardinality,
        len(m.tables),
        class_balance=m.class_balance,
        copies=m.copies,
        copy_prob=m.copy_prob,
        seed=seed,
        tables=m.tables,
    )
