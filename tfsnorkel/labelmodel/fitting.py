"""How the label model's parameters are fitted: class balance, dependency structure, dev rows.

Class balance. LF parameters are first fitted under a uniform reference balance. Then:

* class-conditional form, unipolar LFs (each votes one class): one joint model of LF tables
  and class balance (learned, or given by the user / a gold dev set), fitted to the votes of
  the *covered* rows, those where some LF votes: the likelihood of a row's votes given that
  it is covered, with the uncovered rows imputed by the model rather than counted
  (:func:`_covered_fit`). The full likelihood, which counts them, settled on wrong balances
  (sms 0.37 / 0.63, truth 0.87 / 0.13; the 35% failure in DESIGN.md): it explains the
  uncovered rows by the class whose LFs cover least, through the conditional independence
  of abstains, which real LF sets break. The mean posterior of the covered rows under a
  uniform reference balance, used before, learned spouse's balance as 0.37 / 0.63 (truth
  0.92 / 0.08) and scored 0.184 there against majority vote's 0.53; the truncated fit scores
  0.873 on spouse, 0.896 on sms (unchanged), 0.852 on youtube (from 0.860), and reaches the
  Bayes oracle on the synthetic 95/5 family (0.966 against 0.746 before, oracle 0.967);
* otherwise the balance is learned inside the EM, with the LF parameters (a joint MAP fit:
  each M-step sets it to the mean posterior, smoothed by one pseudo-row per class). If no
  class falls below ``0.1 / C`` (synthetic data, LFs that vote several classes): one joint
  model whose balance (learned, or given) is the prior of every row; measured on synthetic
  families with 2 to 20 classes and balances up to 95/5, it reaches the Bayes oracle. If a
  class falls below that (one-coin accuracies of unipolar LFs absorb the base rate and joint
  fits collapse onto the majority class), the LF parameters fitted under the uniform reference are
  kept (their accuracies are ``P(y = vote | vote)``) and the class balance (given, or the
  mean posterior over rows with a vote) is the prior of rows *without* a vote only.

The layer holds both priors (``log_vote_prior`` for rows with a vote, ``log_class_balance``
for rows without), so that ``call`` is one formula for every case.

:func:`fit_parameters` runs that procedure on the sufficient statistics for one setting of
the model's options (:class:`FitSettings`); the Keras layer
(:class:`~tfsnorkel.labelmodel.LabelModel`) validates its inputs, calls it and stores the
result as its weights.

Example:
    >>> from tfsnorkel.labelmodel import LabelStats, synthetic_label_matrix
    >>> d = synthetic_label_matrix(5000, num_lfs=5, seed=0)
    >>> fitted = fit_parameters(LabelStats.from_matrix(d.L, 2), FitSettings(cardinality=2))
    >>> [round(float(p), 2) for p in fitted.class_balance]
    [0.5, 0.5]
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
import tensorflow as tf

from tfsnorkel.labelmodel.em import ExactEM, _row_log_lik, covered_balance, group_codes
from tfsnorkel.labelmodel.stats import (
    LabelStats,
    check_sparse_votes,
    covered_rows,
    dense_votes,
    stack_rows,
)
from tfsnorkel.labelmodel.structure import (
    copy_columns,
    merge_groups,
    occupied_columns,
    pair_scores,
    restrict_columns,
    vote_matrix,
)
from tfsnorkel.labelmodel.tables import VoteTables, abstain_of, columns_of
from tfsnorkel.labels import check_label_matrix

__all__ = [
    "FitSettings",
    "FittedParameters",
    "fit_parameters",
    "covered_log_likelihood",
    "num_parameters",
    "resolve_abstain_model",
    "select_abstain_model",
    "sparse_vote_batches",
    "to_stats",
    "with_copies",
    "without_copies",
]

_STRUCTURE_ROWS = 20_000


@dataclass(frozen=True)
class FitSettings:
    """The options of one fit (the :class:`~tfsnorkel.labelmodel.LabelModel` arguments).

    ``abstain_model`` is ``"class_conditional"``, ``"independent"`` or ``"auto"``
    (:func:`resolve_abstain_model`); ``class_balance`` is `None` or ``[C]`` floats.
    """

    cardinality: int
    dependencies: Any = "auto"
    class_balance: Sequence[float] | None = None
    max_group_size: int = 6
    seed: int = 0
    max_iter: int = 300
    tol: float = 1e-7
    accuracy_prior: Sequence[float] = (32.0, 8.0)
    min_accuracy: float | None = None
    structure_threshold: float = 0.1
    anchor_dev: bool = True
    abstain_model: str = "auto"
    co_abstain_weight: float = 0.5


@dataclass
class FittedParameters:
    """What a fit produced, in numpy.

    Attributes:
        em: the :class:`~tfsnorkel.labelmodel.em.ExactEM` of the final fit (its group patterns).
        lf_log_tables: singleton ``log P(vote = v | y)``: ``[m, C, C + 1]`` dense, or
            :class:`~tfsnorkel.labelmodel.tables.VoteTables` (``O(m * C)``) from the
            ``O(votes)`` EM; ``abstain_of`` / ``columns_of`` read either.
        group_tables: per group, ``[P, C]`` ``log P(pattern | y)``.
        class_balance: ``[C]`` prior of rows without a vote.
        vote_prior: ``[C]`` prior of rows with a vote.
        groups: the dependency groups modelled jointly.
        lf_classes: the class each LF votes (-1 none) when abstains are discounted, else `None`.
        abstain_model: the abstain form that was fitted (``"auto"`` resolved).
        co_abstain_weight: the co-abstention weight that was fitted.
        selection: with ``abstain_model="auto"``, one record per abstain form: its
            covered-row log-likelihood, parameter count and BIC (:func:`select_abstain_model`).
        codes: per group, its sorted pattern codes; `None`: those of ``em.patterns``.
        copy_of: ``[m]`` the original of each exact copy, -1 elsewhere (:func:`with_copies`),
            or `None` (no copies).
    """

    em: ExactEM
    lf_log_tables: Any
    group_tables: list
    class_balance: np.ndarray
    vote_prior: np.ndarray
    groups: list
    lf_classes: np.ndarray | None
    abstain_model: str = "independent"
    co_abstain_weight: float = 0.5
    selection: list[dict[str, Any]] | None = None
    codes: list[np.ndarray] | None = None
    copy_of: np.ndarray | None = None

    @property
    def num_lfs(self) -> int:
        return int(self.lf_log_tables.shape[0])

    def group_codes(self) -> list[np.ndarray]:
        """Per group, the sorted codes of its observed vote patterns (rows of its table)."""
        return self.codes if self.codes is not None else [c for c, _ in self.em.patterns]


def without_copies(stats: LabelStats) -> tuple[LabelStats, np.ndarray]:
    """The statistics with exact copies of LF columns left out, and each column's original.

    Returns:
        ``(stats of the kept columns, first)``: ``first[j]`` is the first column identical to
        ``j`` (:func:`~tfsnorkel.labelmodel.structure.copy_columns`); the kept columns are
        those with ``first[j] == j``. Rows stay unique: two rows that differ on a copy differ
        on its original too.
    """
    first = copy_columns(stats.rows)
    keep = np.flatnonzero(first == np.arange(len(first)))
    if len(keep) == len(first):
        return stats, first
    out = LabelStats(stats.cardinality, num_lfs=len(keep), sparse=stats.sparse)
    out.rows = stats.rows[:, keep]
    out.counts = stats.counts.copy()
    return out, first


def with_copies(fitted: FittedParameters, first: np.ndarray) -> FittedParameters:
    """The fit of the copy-free columns (:func:`without_copies`) extended to every column.

    A copy gets all-zero log tables (no evidence of its own) and ``copy_of`` names its
    original; the layer's ``call`` reads a copy's vote where its original abstains and then
    ignores the copy (:class:`~tfsnorkel.labelmodel.LabelModel`), so on rows where they agree,
    which is every training row, the soft labels are those of the fit without the copies.
    """
    m = len(first)
    keep = np.flatnonzero(first == np.arange(m))
    if len(keep) == m:
        return fitted
    c = fitted.lf_log_tables.shape[1]
    red = np.searchsorted(keep, first)  # each column's index among the kept ones
    copy = first != np.arange(m)
    lt = fitted.lf_log_tables
    if isinstance(lt, VoteTables):
        cols_j, cols_v = lt.full_columns // c, lt.full_columns % c
        new_j = keep[cols_j]  # full columns belong to kept LFs only
        zero = np.where(copy[:, None], 0.0, 1.0)
        lt = VoteTables(lt.abstain[red] * zero, lt.off[red] * zero, lt.diag[red] * zero,
                        (new_j * c + cols_v).astype(np.int64), lt.full)
    else:
        lt = np.asarray(lt)[red] * np.where(copy, 0.0, 1.0)[:, None, None]
    lf_classes = None if fitted.lf_classes is None else np.asarray(fitted.lf_classes)[red]
    return dataclasses.replace(
        fitted,
        lf_log_tables=lt,
        lf_classes=lf_classes,
        groups=[[int(keep[i]) for i in g] for g in fitted.groups],
        codes=fitted.group_codes(),
        copy_of=np.where(copy, first, -1).astype(np.int64),
    )


_LL_CHUNK = 1 << 16  # rows per block of covered_log_likelihood


def resolve_abstain_model(abstain_model: str, unipolar: bool, cardinality: int) -> str:
    """The abstain form of one fit: ``"auto"`` is decided by :func:`select_abstain_model`.

    Kept for callers that resolve a setting without data: ``"auto"`` stands for the
    class-conditional form here, the form :func:`select_abstain_model` starts from.

    Example:
        >>> resolve_abstain_model("auto", unipolar=True, cardinality=6)
        'class_conditional'
    """
    del unipolar, cardinality  # the same rule for every LF set: the data decide in the fit
    return "class_conditional" if abstain_model == "auto" else abstain_model


def covered_log_likelihood(fitted: FittedParameters, rows: np.ndarray, counts: np.ndarray) -> float:
    """Mean log-likelihood of the covered rows' votes given that some LF votes.

    ``log P(votes | covered) = log sum_y prior(y) prod_j P(L_j | y) - log P(covered)`` under the
    fitted model, with every abstain counted fully (the generative model itself, not the
    tempered co-abstention of the E-step), ``prior`` the prior of rows with a vote. Both
    abstain forms are fitted to these rows' votes (:func:`_covered_fit`), so it is their
    common yardstick.

    Args:
        fitted: a fit's parameters.
        rows: ``[K, m]`` unique rows (rows without a vote are left out).
        counts: ``[K]`` their counts.

    Returns:
        The mean over covered rows (nats), ``-inf`` if a row has probability 0.
    """
    c = fitted.lf_log_tables.shape[1]
    keep = covered_rows(rows)
    rows, n = rows[keep], counts[keep].astype(np.float64)
    if not rows.shape[0]:
        return 0.0
    lt = fitted.lf_log_tables
    single = np.ones(rows.shape[1], bool)
    for g in fitted.groups:
        single[g] = False
    log_prior = np.log(np.maximum(fitted.vote_prior, 1e-300))
    # Every singleton's abstain term once, a vote replacing its LF's (sparse over the votes).
    a = abstain_of(lt) * single[:, None]  # [j, y]
    # [V, y] weights of the vote columns j*C + v that occur (not [m*C, y]: O(votes) columns).
    cols = occupied_columns(vote_matrix(rows, c, single))
    w = columns_of(lt, cols) - a[cols // c]
    base = log_prior + a.sum(0)  # a row where every singleton abstains
    silent = base.copy()
    for table, codes in zip(fitted.group_tables, fitted.group_codes()):
        silent += table[0] if codes[0] == 0 else -np.inf
    total = 0.0
    # In chunks of rows: a [rows, C] block at a time, not [K, C] (1M rows x 100 classes).
    for lo in range(0, rows.shape[0], _LL_CHUNK):
        part = rows[lo : lo + _LL_CHUNK]
        out = np.asarray(restrict_columns(vote_matrix(part, c, single), cols) @ w)
        out += base[None, :]
        for g, table, codes in zip(fitted.groups, fitted.group_tables, fitted.group_codes()):
            code = group_codes(part, g, c)
            at = np.minimum(np.searchsorted(codes, code), len(codes) - 1)
            seen = codes[at] == code
            out += np.where(seen[:, None], table[at], -np.inf)
        with np.errstate(invalid="ignore", divide="ignore"):
            total += float((n[lo : lo + _LL_CHUNK] * _row_log_lik(out)).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        p_covered = 1.0 - np.exp(np.logaddexp.reduce(silent))
        return float(total / n.sum() - math.log(max(p_covered, 1e-300)))


def num_parameters(fitted: FittedParameters) -> int:
    """Free parameters of a fit, for BIC: LF tables, group tables and the class balance.

    One-coin LF: propensity and accuracy (2). Class-conditional LF: a unipolar LF is a
    detector (``P(fire | own class)``, one false-positive rate: 2); an LF that votes several
    classes has a full table (``C * C``). A group: ``C`` distributions over its observed
    patterns (one-coin: one shared all-abstain rate). Balance: ``C - 1``.
    """
    c = fitted.lf_log_tables.shape[1]
    m = fitted.lf_log_tables.shape[0]
    grouped = {j for g in fitted.groups for j in g}
    k = c - 1
    for j in range(m):
        if j in grouped:
            continue
        if fitted.abstain_model == "independent" or fitted.lf_classes is not None:
            k += 2
        else:
            k += c * c
    for codes in fitted.group_codes():
        p = len(codes)
        if fitted.abstain_model == "independent" and codes[0] == 0:
            k += 1 + c * max(p - 2, 0)
        else:
            k += c * (p - 1)
    return int(k)


def select_abstain_model(
    stats: LabelStats,
    s: FitSettings,
    L_dev: np.ndarray | None = None,
    yd: np.ndarray | None = None,
) -> FittedParameters:
    """``abstain_model="auto"``: fits both forms and keeps the one with the lower BIC.

    The criterion: ``BIC = -2 * N_cov * covered_log_likelihood + k * log(N_cov)`` over the
    ``N_cov`` covered rows of the fitted matrix (:func:`covered_log_likelihood`,
    :func:`num_parameters`). For unipolar LF sets both forms have two parameters per LF, so
    this is the likelihood itself; the same rule holds for 2 and for 20 classes. Ties keep
    the class-conditional form. The records are kept in ``FittedParameters.selection``.

    What it can and cannot tell: for LFs that vote several classes both forms are proper
    models of the votes and the rule picks the generating form on every synthetic family.
    For *unipolar* LFs the one-coin form is not a proper model of what they cast: it puts
    probability on votes for classes an LF never votes (``p (1 - a)`` of it under the LF's own
    class, more under the others), so its likelihood is always the lower one (trec: BIC 73.1k
    against 42.9k) and the rule keeps the class-conditional form on every unipolar set. It
    cannot see that on trec the class-conditional fit is the worse labeller (0.610 against
    0.638; 0.466 before exact copies counted once): the likelihood also
    prefers counting every abstain fully (``co_abstain_weight=1``), which scores lowest on
    every real set where it matters (BENCHMARKS.md section 5, ``benchmarks/lm_choices.py``).

    Returns:
        The chosen fit.
    """
    n_cov = float(stats.counts[covered_rows(stats.rows)].sum())
    fits, records = [], []
    for form in ("class_conditional", "independent"):
        fitted = fit_parameters(stats, dataclasses.replace(s, abstain_model=form), L_dev, yd)
        ll = covered_log_likelihood(fitted, stats.rows, stats.counts)
        fitted.em.release()  # both forms' fits are kept until the choice: not their caches
        k = num_parameters(fitted)
        bic = -2.0 * n_cov * ll + k * math.log(max(n_cov, 2.0))
        fits.append(fitted)
        records.append({"abstain_model": form, "co_abstain_weight": float(s.co_abstain_weight),
                        "covered_log_lik": ll, "num_params": k, "bic": bic})
    bics = np.array([r["bic"] for r in records])
    bics = np.where(np.isfinite(bics), bics, np.inf)
    best = int(bics.argmin())
    for i, r in enumerate(records):
        r["chosen"] = i == best
    chosen = fits[best]
    chosen.selection = records
    return chosen


def to_stats(L: Any, cardinality: int) -> LabelStats:
    if isinstance(L, LabelStats):
        if L.cardinality != cardinality:
            raise ValueError(
                f"statistics of cardinality {L.cardinality} for a model of "
                f"cardinality {cardinality}"
            )
        return L
    if isinstance(L, (tf.data.Dataset, Iterator)):
        # A stream of label-matrix batches, or of (features, L_batch) pairs as the labeling
        # stage yields them: the label matrix is the last element of a pair.
        # Batches of ``tf.sparse.SparseTensor`` store class index + 1 (abstains not stored),
        # as scipy matrices do; iterated as tensors (``as_numpy_iterator`` would densify them
        # with 0 for the missing entries).
        stats = LabelStats(cardinality)
        for batch in L:
            stats.update(batch[-1] if isinstance(batch, tuple) else batch)
        return stats
    if sp.issparse(L):
        return LabelStats(cardinality).update(L)  # CSR storage: memory grows with the votes
    return LabelStats.from_matrix(check_label_matrix(L, cardinality=cardinality), cardinality)


def sparse_vote_batches(L: Any, cardinality: int, batch_rows: int = 65536) -> Iterator[np.ndarray]:
    """Dense int32 vote batches of a ``scipy.sparse`` label matrix.

    Encoding: a stored value is the class index plus one (``1..C``); an entry that is not
    stored (or a stored 0) is an abstain. So a matrix in which most LFs abstain stays small.

    Args:
        L: ``[N, m]`` scipy sparse matrix or array.
        cardinality: number of classes ``C``.
        batch_rows: rows per batch. Defaults to `65536`.

    Yields:
        ``[b, m]`` int32 label-matrix batches (``-1`` = abstain).

    Raises:
        ValueError: a stored value outside ``[0, C]`` or not an integer (names the row and
            the LF column).

    Example:
        >>> import scipy.sparse as sp
        >>> next(sparse_vote_batches(sp.csr_matrix([[0, 2], [1, 0]]), 2)).tolist()
        [[-1, 1], [0, -1]]
    """
    L = check_sparse_votes(L, cardinality)
    for i in range(0, L.shape[0], batch_rows):
        yield dense_votes(L[i : i + batch_rows])


def _check_groups(dependencies: Sequence[Sequence[int]], m: int, c: int) -> list[list[int]]:
    seen: set[int] = set()
    for g in dependencies:
        if not g or min(g) < 0 or max(g) >= m:
            raise ValueError(
                f"dependency groups must hold column indices in [0, {m - 1}]. Received: {g}"
            )
        if seen & set(g) or len(set(g)) != len(g):
            raise ValueError(
                "dependency groups must not share or repeat a column. "
                f"Received: dependencies={dependencies}"
            )
        if len(g) * math.log2(c + 1) > 62:
            raise ValueError(
                f"a dependency group of {len(g)} LFs is too large to enumerate for "
                f"{c} classes. Received: {g}"
            )
        seen |= set(g)
    return [list(g) for g in dependencies if len(g) > 1]


def _covered_fit(rows, counts, labels, groups, s, min_acc, lf_classes, pi_fixed, warm=None):
    """The class-conditional joint model fitted to the votes of the covered rows.

    Its likelihood is that of a row's votes *given that some LF votes* (a zero-truncated
    latent class model, :meth:`~tfsnorkel.labelmodel.em.ExactEM.run_truncated`): every LF's
    propensity under each class and the class balance are identified among covered rows by
    the conditional independence of the LFs, and the rows without a vote are imputed by the
    model instead of counted. Counted, they are explained by the class whose LFs cover
    least, through that same independence, which real LF sets break where it matters most
    (LFs of one class fire together): with them in the fit, sms (31 HAM and 42 SPAM LFs,
    62% of rows without a vote) settled on a balance of 0.37 / 0.63 (truth 0.87 / 0.13).
    Covered gold dev rows (``labels >= 0``) join with their labels; a gold dev set gives
    the balance itself (``pi_fixed``).

    ``warm``: ``(balance, posterior of every row of rows)`` to start from (a one-coin joint
    fit), else the one-coin fit under a uniform reference balance is the start.

    Returns:
        ``(em, lf log-tables, group tables, balance)``, or `None` without a covered row.
    """
    c = s.cardinality
    keep = covered_rows(rows)
    if not keep.any():
        return None
    k, m = int(keep.sum()), rows.shape[1]
    aug_rows = stack_rows(rows[keep], np.full((c, m), -1, np.int32))
    aug_counts = np.concatenate([counts[keep], np.ones(c, counts.dtype)])
    aug_labels = np.concatenate(
        [np.full(k, -1) if labels is None else labels[keep], np.arange(c)]
    )
    em = ExactEM(
        aug_rows, aug_counts, c, groups, s.accuracy_prior, min_acc, 0.5, aug_labels
    )
    em.n[k:] = 0.0  # the imputed uncovered rows start empty
    em.imputed = c  # run_truncated sets their counts
    uniform = np.full(c, 1.0 / c)
    if warm is None:
        _, _, q0, _ = em.run(np.log(uniform), em.init_posterior(), s.max_iter, s.tol)
        start = uniform
    else:
        start, q_all = warm
        q0 = em.clamp(np.concatenate([q_all[keep], np.eye(c)]))
    em.abstain = "class_conditional"
    em.set_lf_classes(lf_classes, s.co_abstain_weight)
    start = start if pi_fixed is None else np.asarray(pi_fixed, float)
    lt, tables, _, pi, _ = em.run_truncated(
        start, q0, s.max_iter, s.tol, pi_fixed is None, posterior=False
    )
    return em, lt, tables, pi


def fit_parameters(
    stats: LabelStats,
    s: FitSettings,
    L_dev: np.ndarray | None = None,
    yd: np.ndarray | None = None,
) -> FittedParameters:
    """Fits the label model's parameters on unique-row statistics (module doc).

    Args:
        stats: the unlabeled label matrix's unique rows and counts.
        s: the options of this fit.
        L_dev: validated ``[n_dev, m]`` votes of a gold dev set. Defaults to `None`.
        yd: validated gold labels of ``L_dev``. Defaults to `None`.

    Returns:
        The :class:`FittedParameters`.
    """
    if s.abstain_model == "auto":
        return select_abstain_model(stats, s, L_dev, yd)
    c = s.cardinality
    m = stats.num_lfs
    pi_fixed = None if s.class_balance is None else np.asarray(s.class_balance, float)
    if pi_fixed is None and yd is not None:
        pi_fixed = (np.bincount(yd, minlength=c) + 1.0) / (yd.size + c)
    min_acc = 1.0 / c + 0.05 if s.min_accuracy is None else float(s.min_accuracy)

    uniform = np.full(c, 1.0 / c)
    rows, counts, labels = stats.rows, stats.counts, None
    if L_dev is not None and yd is not None and s.anchor_dev:
        # Gold dev rows join the EM with their posterior held at the gold label.
        rows = stack_rows(rows, L_dev)
        counts = np.concatenate([counts, np.ones(len(L_dev), np.int64)])
        labels = np.concatenate([np.full(stats.rows.shape[0], -1), yd])

    vote_counts = np.asarray(vote_matrix(rows, c).T @ counts).reshape(m, c)
    unipolar = bool(np.all((vote_counts > 0).sum(1) <= 1))
    abstain = resolve_abstain_model(s.abstain_model, unipolar, c)
    lf_classes = None
    if abstain == "class_conditional" and unipolar:
        # The class each LF votes (-1: never votes); abstains then count per class.
        lf_classes = np.where(vote_counts.sum(1) > 0, vote_counts.argmax(1), -1)

    def run(groups: list[list[int]]):
        """Returns (em, lt, tables, class balance, prior for rows with votes)."""
        if abstain == "class_conditional" and unipolar:
            # Unipolar LFs: the covered-row fit starts from its own one-coin fit (below for
            # the other cases); the one-coin fit of every row is only the fallback.
            cov = _covered_fit(rows, counts, labels, groups, s, min_acc, lf_classes, pi_fixed)
            if cov is not None:
                em_c, lt, tables, pi = cov
                return em_c, lt, tables, pi, pi
        em = ExactEM(rows, counts, c, groups, s.accuracy_prior, min_acc, 0.5, labels)
        # The one-coin fit under a uniform reference balance, from a vote in which each group
        # counts once (a plain majority vote locks onto copies, DESIGN.md).
        lt0, tables0, q0, _ = em.run(np.log(uniform), em.init_posterior(), s.max_iter, s.tol)
        floor = 0.1 / c

        def joint(lt, tables, q, pi):
            # The votes identify the balance: one joint model, whose balance (learned, or
            # given) is the prior of every row.
            if pi_fixed is not None:
                pi = pi_fixed
                lt, tables, q, _ = em.run(np.log(pi), q, s.max_iter, s.tol)
            return em, lt, tables, pi, pi

        if abstain == "class_conditional":
            # One joint model of LF tables and class balance, fitted to the covered rows'
            # votes (:func:`_covered_fit`, module doc). If some LF votes several classes, the
            # one-coin joint fit comes first and warm-starts it (from the uniform reference,
            # the class-conditional fit of a 6-LF copy group at 90/10 settled on a balance of
            # 0.75 / 0.25; warm, 0.90 / 0.10).
            cov = None  # unipolar: no covered row (above)
            if not unipolar:
                lt, tables, q, pi, _ = em.run_joint(uniform, q0, s.max_iter, s.tol)
                warm = (pi, q) if pi.min() >= floor else None
                cov = _covered_fit(
                    rows, counts, labels, groups, s, min_acc, lf_classes, pi_fixed, warm=warm
                )
            if cov is not None and cov[3].min() >= floor:
                em_c, lt, tables, pi = cov
                return em_c, lt, tables, pi, pi
            # Start the class-conditional fallback from the one-coin model's posterior,
            # under the same uniform reference balance.
            em.abstain = abstain
            em.set_lf_classes(lf_classes, s.co_abstain_weight)
            lt0, tables0, q0, _ = em.run(np.log(uniform), q0, s.max_iter, s.tol)
        else:
            lt, tables, q, pi, _ = em.run_joint(uniform, q0, s.max_iter, s.tol)
            if pi.min() >= floor:
                return joint(lt, tables, q, pi)
        # The balance ran towards a degenerate value: typical of unipolar LFs (each votes one
        # class), whose accuracies then absorb the base rate. Keep the LF parameters fitted
        # under a uniform reference balance (their accuracies are then P(y = vote | vote)),
        # and apply the class balance only where there is no vote. (The truncated
        # class-conditional model's posterior of the all-abstain pattern was tried there:
        # trec 0.633 / cfpb 0.709 against 0.640 / 0.713; a class with two rare LFs took
        # 71% of the rows without a vote.)
        pi = pi_fixed if pi_fixed is not None else covered_balance(em, lt0, tables0)
        return em, lt0, tables0, pi, uniform

    if isinstance(s.dependencies, list):
        groups = _check_groups(s.dependencies, m, c)
    else:
        groups = []
    em, lt, tables, pi, vote_prior = run(groups)
    if s.dependencies == "auto":
        # Fitted to the covered rows (:func:`_covered_fit`, ``em.imputed > 0``): scored on
        # them too, against the tables of the covered rows (the imputed rows left out).
        post_pi, post_tables = em.posterior_tables(
            np.log(vote_prior), lt, tables, rows=slice(0, len(em.n) - em.imputed)
        )
        s_rows, s_counts = stats.rows, stats.counts
        if em.imputed:
            keep = covered_rows(s_rows)
            s_rows, s_counts = s_rows[keep], s_counts[keep]
        if s_rows.shape[0] > _STRUCTURE_ROWS:
            # Pair statistics from a weighted subsample of rows: sampling noise in the
            # divergence is about cells / (2 * 20k): 2e-4 for 2 classes, 0.01 for 20,
            # well below the threshold.
            rng = np.random.default_rng(s.seed)
            p = s_counts / s_counts.sum()
            pick = rng.choice(s_rows.shape[0], size=_STRUCTURE_ROWS, p=p)
            idx, s_counts = np.unique(pick, return_counts=True)
            s_rows = s_rows[idx]
        scores = pair_scores(s_rows, s_counts, c, post_pi, post_tables)
        groups = merge_groups(scores, s.structure_threshold, s.max_group_size)
        if groups:
            em, lt, tables, pi, vote_prior = run(groups)
    return FittedParameters(
        em=em,
        lf_log_tables=lt,
        group_tables=list(tables),
        class_balance=np.asarray(pi, float) / np.sum(pi),
        vote_prior=np.asarray(vote_prior, float),
        groups=[list(map(int, g)) for g in groups],
        lf_classes=lf_classes,
        abstain_model=abstain,
        co_abstain_weight=float(s.co_abstain_weight),
    )
