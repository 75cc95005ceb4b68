"""The label model: a Keras layer whose weights parametrize a generative model of LF votes.

Generative story: ``y ~ Categorical(class_balance)``; given ``y``, every *factor* (a single LF,
or a group of dependent LFs) emits its votes independently of the other factors. A single LF
has one of two forms (``abstain_model``):

* ``"class_conditional"`` (Dawid-Skene with the abstain as an outcome): a table
  ``P(vote = v | y)`` for ``v`` in abstain, ``0..C-1``, so whether an LF votes is evidence
  too. For a *unipolar* LF (one that votes a single class ``k``, as every LF of the WRENCH
  sets does) this is the detector form ``P(fire | y = k) > P(fire | y != k)``. It is what
  identifies such LFs: in the one-coin form below a unipolar LF is only ever seen agreeing
  with LFs of its class or conflicting with the others, and on youtube the two HAM LFs
  (true accuracies 0.73 and 0.92) fell to the accuracy floor, leaving rows where only HAM
  LFs vote at P(spam) = 0.45 (93-96% of them are HAM) and train soft labels at a mean
  P(spam) of 0.80 (truth 0.52).
* ``"independent"`` (one-coin): the LF votes with a propensity ``p_j`` that does not depend
  on ``y`` (an abstain is no evidence) and is right with accuracy ``a_j``, else picks one of
  the other classes uniformly.

Co-abstention (class-conditional form, unipolar LFs). LFs of one class abstain together: they
are different detectors of the same class, and a message of that class usually trips only one
of them. Counting every silent LF's ``P(abstain | y)`` then double-counts, and a row with a
single spam vote is pulled towards HAM by the other spam LFs' abstains (youtube test accuracy
0.832 against the one-coin model's 0.884). So an LF's abstain counts fully where no LF of its
class votes (the silence of a whole class is evidence against it), and with weight
``co_abstain_weight`` (default 0.5) where another LF of its class votes. This is a tempered
(pseudo-)likelihood, used in the E-step and in ``call``; the M-step is unchanged. Measured
(benchmarks/RESULTS_label_model.md), weights 1 / 0.5 / 0, train / valid accuracy: youtube
0.829 / 0.833, 0.864 / 0.850, 0.879 / 0.850; youtube's 7 rule LFs 0.834 / 0.842, 0.876 /
0.858, 0.916 / 0.858; sms covered spam F1 on train 0.904, 0.900, 0.886. At 0 the soft labels
of the 7 rule LFs overshoot (mean train P(spam) 0.63, truth 0.52) and a text classifier
trained on them scores lower on valid (0.827 against 0.842 at 0.5 and 0.838 at 1, mean of 5
seeds): 0.5 was chosen on those train / valid numbers.

``"auto"`` (the default) takes the class-conditional form for 2 classes and the one-coin form
for more. Measured (benchmarks/RESULTS_label_model.md): on trec (6 classes, 68 unipolar LFs)
class-conditional abstains reach 0.51 test accuracy against majority vote's 0.61 (0.28 with
every abstain counted fully): the LFs of one class abstain together, and the
product of their abstains pushes rows with few votes to the class whose LFs cover least.

A group of dependent LFs (near-copies) is modelled jointly: a table of ``P(pattern | y)`` over
the vote patterns of the group, so its evidence is counted once (with the one-coin form, the
all-abstain pattern carries no evidence, as for single LFs).

Fitting is exact, sampling-free EM over the *unique rows* of the label matrix (their counts are
the sufficient statistics, see :mod:`~tfsnorkel.labelmodel.stats`): the E-step sums over
``y``, and enumerates only the observed patterns inside groups. EM was chosen over gradient
steps on the same likelihood: it needs no learning rate, converges in tens of passes over
a few thousand unique rows, and keeps the MAP updates in closed form.

Priors and identifiability. One-coin accuracies have a Beta prior and a floor above ``1/C``
(LFs better than random), which rules out the label-flipped solution. Class-conditional
tables have the conjugate Dirichlet prior worth ``a0 + b0`` votes of a reference LF with the
same vote frequencies whose votes are right with the Beta prior's mean and whose abstains are
uninformative; the same floor becomes a cap on ``P(v | y = w) / P(v | y = v)`` for ``w != v``
(so that ``P(y = v | vote v) >= min_accuracy`` under a uniform balance). The class-conditional
fit starts from the one-coin fit's posterior (itself started from a vote in which each group
counts once: a plain majority vote locks onto copies, DESIGN.md).

Class balance. LF parameters are first fitted under a uniform reference balance. Then:

* class-conditional form, unipolar LFs: the balance is taken once from that fit (the mean
  posterior of the rows with a vote), or from the user / a gold dev set, and the tables are
  refitted under it: one joint model. Its maximum-likelihood estimate is not used there: it
  rests on the conditional independence of abstains, which real LF sets break, and settled
  on wrong values (sms 0.37 / 0.63, truth 0.87 / 0.13; the 35% failure in DESIGN.md);
* otherwise the balance is estimated by maximum likelihood with the LF parameters fixed (a
  concave problem), alternating with a refit of the LF parameters, until it settles. If it
  settles (synthetic data, LFs that vote several classes): one joint model whose balance
  (estimated, or given) is the prior of every row. If it runs towards a degenerate balance (a
  class near zero; one-coin accuracies of unipolar LFs absorb the base rate and joint fits
  collapse onto the majority class), the LF parameters fitted under the uniform reference are
  kept (their accuracies are ``P(y = vote | vote)``) and the class balance (given, or the
  mean posterior over rows with a vote) is the prior of rows *without* a vote only.

The layer holds both priors (``log_vote_prior`` for rows with a vote, ``log_class_balance``
for rows without), so that ``call`` is one formula for every case.

Example:
    >>> from tfsnorkel.labelmodel import synthetic_label_matrix
    >>> d = synthetic_label_matrix(2000, num_lfs=6, seed=0)
    >>> lm = LabelModel(cardinality=2).fit(d.L)
    >>> lm.predict_proba(d.L[:3]).shape
    (3, 2)
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from tfsnorkel.labelmodel.stats import LabelStats
from tfsnorkel.labelmodel.structure import merge_groups, pair_scores, vote_matrix
from tfsnorkel.labels import TieBreak, check_label_matrix, probs_to_preds

__all__ = ["LabelModel", "LabelModelLoadError", "learn_structure"]

_EPS = 1e-6
_STRUCTURE_ROWS = 20_000
_ABSTAIN_MODELS = ("auto", "class_conditional", "independent")


class LabelModelLoadError(ValueError):
    """A file could not be read as a saved :class:`LabelModel`."""


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def _group_codes(rows: np.ndarray, group: Sequence[int], cardinality: int) -> np.ndarray:
    radix = (cardinality + 1) ** np.arange(len(group), dtype=np.int64)
    return (rows[:, list(group)].astype(np.int64) + 1) @ radix


def _one_coin_tables(acc: np.ndarray, prop: np.ndarray, cardinality: int) -> np.ndarray:
    """``[m, C, C + 1]`` one-coin ``P(vote = v | y)`` (column ``v + 1``; column 0 abstains)."""
    c = cardinality
    acc = np.clip(acc, _EPS, 1 - _EPS)
    prop = np.clip(prop, _EPS, 1 - _EPS)
    m = len(acc)
    t = np.empty((m, c, c + 1))
    t[:, :, 0] = (1 - prop)[:, None]
    t[:, :, 1:] = (prop * (1 - acc) / (c - 1))[:, None, None]
    idx = np.arange(c)
    t[:, idx, idx + 1] = (prop * acc)[:, None]
    return t


class _EM:
    """Exact MAP-EM over unique rows for singletons and groups (joint tables).

    ``abstain`` picks the singleton parametrization: ``"independent"`` (one-coin accuracy,
    propensity independent of ``y``) or ``"class_conditional"`` (Dawid-Skene tables with the
    abstain as an outcome, ``P(vote = v | y)`` for ``v`` in abstain, ``0..C-1``).
    """

    def __init__(
        self,
        rows,
        counts,
        cardinality,
        groups,
        acc_prior,
        min_accuracy,
        smoothing,
        labels=None,
        abstain="independent",
    ):
        # ``labels``: [K] gold class of each row or -1; labelled rows keep a one-hot posterior.
        self.labelled = None if labels is None else np.flatnonzero(labels >= 0)
        self.gold = None if labels is None else np.eye(cardinality)[labels[self.labelled]]
        self.abstain = abstain
        self.rows = rows
        self.n = counts.astype(np.float64)
        self.c = cardinality
        self.m = rows.shape[1]
        self.groups = [list(g) for g in groups]
        self.acc_prior = acc_prior
        self.min_accuracy = min_accuracy
        self.smoothing = smoothing
        self.voted = self.rows >= 0
        self.single = np.ones(self.m, bool)
        self.patterns = []
        for g in self.groups:
            self.single[g] = False
            codes, inv = np.unique(_group_codes(self.rows, g, cardinality), return_inverse=True)
            self.patterns.append((codes, inv.ravel()))
        self.coverage = (self.n[:, None] * self.voted).sum(0) / max(self.n.sum(), 1.0)
        self.total = (self.n[:, None] * self.voted).sum(0)
        # Sparse [K, m*C] indicator of singleton votes (column j*C + v): both EM steps are
        # then one sparse product each.
        self.votes = vote_matrix(self.rows, cardinality, self.single)
        self._dirichlet = None
        self.set_lf_classes(None, 1.0)

    def set_lf_classes(self, lf_classes: np.ndarray | None, weight: float) -> None:
        """How much each singleton abstain counts as evidence (:func:`_abstain_weights`)."""
        self.counted = (
            _abstain_weights(self.rows, self.c, lf_classes, weight) * self.single[None, :]
        )

    def init_posterior(self) -> np.ndarray:
        """Vote in which each group counts once; rows with no vote get the uniform distribution."""
        w = np.ones(self.m)
        for g in self.groups:
            w[g] = 1.0 / len(g)
        votes = vote_matrix(self.rows, self.c) if self.groups else self.votes
        weights = np.zeros((self.m, self.c, self.c))
        weights[:, np.arange(self.c), np.arange(self.c)] = w[:, None]
        scores = np.asarray(votes @ weights.reshape(self.m * self.c, self.c))
        tot = scores.sum(axis=1, keepdims=True)
        return self.clamp(np.where(tot > 0, scores / np.maximum(tot, 1e-12), 1.0 / self.c))

    def clamp(self, q: np.ndarray) -> np.ndarray:
        """Posterior with the gold dev rows (if any) set to their labels."""
        if self.labelled is not None and len(self.labelled):
            q = q.copy()
            q[self.labelled] = self.gold
        return q

    def dirichlet_prior(self) -> np.ndarray:
        """``[m, C, C + 1]`` Dirichlet pseudo-counts of the class-conditional tables.

        They are ``W / coverage`` pseudo-rows drawn from a reference joint of vote and class:
        each LF's observed vote frequencies, a vote ``v`` right (``y = v``) with the
        accuracy prior's mean ``a0 / (a0 + b0)``, an abstain uninformative (uniform ``y``).
        ``W = a0 + b0`` pseudo-votes per LF, as for the one-coin accuracy's Beta prior.
        """
        if self._dirichlet is None:
            c, (a0, b0) = self.c, self.acc_prior
            weight, mean = a0 + b0, a0 / (a0 + b0)
            marg = (
                np.asarray(vote_matrix(self.rows, c).T @ self.n).reshape(self.m, c)
                / self.n.sum()
            )  # [m, v]
            ref = np.full((c, c), (1 - mean) / (c - 1))
            np.fill_diagonal(ref, mean)  # ref[v, y] = P0(y | vote v)
            rows = weight / np.maximum(self.coverage, weight / self.n.sum())
            prior = np.empty((self.m, c, c + 1))
            prior[:, :, 0] = (rows * (1 - self.coverage) / c)[:, None]
            prior[:, :, 1:] = (rows[:, None, None] * marg[:, :, None] * ref[None]).transpose(
                0, 2, 1
            )
            self._dirichlet = prior
        return self._dirichlet

    def m_step(self, q: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """MAP parameters from posterior ``q``: singleton log-tables ``[m, C, C + 1]``, groups'."""
        r = q * self.n[:, None]
        counts = np.asarray(self.votes.T @ r).reshape(self.m, self.c, self.c)  # [j, v, y]
        if self.abstain == "class_conditional":
            cnt = np.empty((self.m, self.c, self.c + 1))
            cnt[:, :, 1:] = counts.transpose(0, 2, 1)
            cnt[:, :, 0] = r.sum(0)[None, :] - counts.sum(1)
            cnt = np.maximum(cnt, 0.0) + self.dirichlet_prior()
            t = cnt / cnt.sum(2, keepdims=True)
            # Better than random: a vote for v is at least as likely under y = v as under any
            # other class, by the factor that puts P(y = v | vote v) at min_accuracy under a
            # uniform balance; mass above that cap moves to the abstain of that class.
            lam = self.min_accuracy * (self.c - 1) / (1 - self.min_accuracy)
            idx = np.arange(self.c)
            cap = t[:, idx, idx + 1][:, None, :] / lam  # [j, 1, v]
            excess = np.maximum(t[:, :, 1:] - cap, 0.0)
            excess[:, idx, idx] = 0.0
            t[:, :, 1:] -= excess
            t[:, :, 0] += excess.sum(2)
            lt = np.log(np.maximum(t, 1e-12))
        else:
            right = np.trace(counts, axis1=1, axis2=2)
            a0, b0 = self.acc_prior
            acc = (right + a0) / (self.total + a0 + b0)
            acc = np.clip(acc, self.min_accuracy, 1 - _EPS)
            lt = np.log(_one_coin_tables(acc, self.coverage, self.c))
        tables = []
        for codes, inv in self.patterns:
            cnt = np.stack(
                [np.bincount(inv, weights=r[:, y], minlength=len(codes)) for y in range(self.c)], 1
            )
            cnt = cnt + self.smoothing
            probs = cnt / cnt.sum(0, keepdims=True)
            if codes[0] == 0 and self.abstain == "independent":
                # Whether the group votes at all is independent of y, as for single LFs:
                # the all-abstain pattern (code 0) carries no evidence.
                silent = cnt[0].sum() / cnt.sum()
                rest = cnt[1:] / np.maximum(cnt[1:].sum(0, keepdims=True), 1e-300)
                probs = np.concatenate([np.full((1, self.c), silent), rest * (1 - silent)])
            tables.append(np.log(np.maximum(probs, 1e-300)))
        return lt, tables

    def logits(
        self, log_prior: np.ndarray, lt: np.ndarray, tables: list[np.ndarray]
    ) -> np.ndarray:
        # Singletons: a vote for v adds log P(v | y) (one sparse product covers the votes), a
        # counted abstain log P(abstain | y).
        w = lt[:, :, 1:].transpose(0, 2, 1)  # [j, v, y]
        out = np.asarray(self.votes @ w.reshape(self.m * self.c, self.c))
        out += self.counted @ lt[:, :, 0] + log_prior[None, :]
        for (codes, inv), t in zip(self.patterns, tables):
            out += t[inv]
        return out

    def run(self, log_prior: np.ndarray, q: np.ndarray, max_iter: int, tol: float):
        """EM from posterior ``q``; returns LF log-tables, group tables, posterior, iterations."""
        prev = -np.inf
        lt, tables = self.m_step(q)
        it = 0
        for it in range(1, max_iter + 1):
            logits = self.logits(log_prior, lt, tables)
            mx = logits.max(1, keepdims=True)
            ll = float(
                (self.n * (mx[:, 0] + np.log(np.exp(logits - mx).sum(1)))).sum() / self.n.sum()
            )
            q = self.clamp(_softmax(logits))
            lt, tables = self.m_step(q)
            if abs(ll - prev) < tol:
                break
            prev = ll
        return lt, tables, q, it

    def posterior_tables(self, log_prior, lt, tables) -> tuple[np.ndarray, np.ndarray]:
        """Class balance and ``[m, C, C + 1]`` vote tables implied by the fitted posterior.

        ``P(vote = v | y)`` is the posterior-weighted frequency of each vote: the tables of a
        conditionally independent model that reproduce every LF's vote marginals exactly,
        which is what structure learning compares pairwise joints against.
        """
        r = _softmax(self.logits(log_prior, lt, tables)) * self.n[:, None]
        votes = vote_matrix(self.rows, self.c) if self.groups else self.votes
        cnt = np.empty((self.m, self.c + 1, self.c))
        cnt[:, 1:, :] = np.asarray(votes.T @ r).reshape(self.m, self.c, self.c)
        cnt[:, 0, :] = r.sum(0)[None, :] - cnt[:, 1:, :].sum(1)  # abstains
        cnt = np.maximum(cnt, 0.0).transpose(0, 2, 1) + 1e-9
        return r.sum(0) / r.sum(), cnt / cnt.sum(2, keepdims=True)

    def prior_mle(self, lt, tables, max_iter: int = 500) -> np.ndarray:
        """Class balance maximizing the likelihood with LF parameters fixed (concave in it)."""
        base = self.logits(np.zeros(self.c), lt, tables)
        pi = np.full(self.c, 1.0 / self.c)
        for _ in range(max_iter):
            q = self.clamp(_softmax(base + np.log(np.maximum(pi, 1e-300))))
            new = (q * self.n[:, None]).sum(0) / self.n.sum()
            if np.abs(new - pi).max() < 1e-10:
                pi = new
                break
            pi = new
        return pi


def _abstain_weights(
    rows: np.ndarray, cardinality: int, lf_classes: np.ndarray | None, weight: float
) -> np.ndarray:
    """``[K, m]`` float: how much each abstain counts as evidence in each row.

    Without ``lf_classes`` every abstain counts fully (1). With them (``lf_classes[j]``: the
    one class LF ``j`` votes, or -1), an LF's abstain counts ``weight`` in rows where another
    LF of its class votes (``co_abstain_weight``, module doc), fully elsewhere; votes get 0.
    """
    silent = (rows < 0).astype(np.float64)
    if lf_classes is None:
        return silent
    own = (np.asarray(lf_classes)[None, :] == np.arange(cardinality)[:, None]).astype(float)
    class_voted = ((1.0 - silent) @ own.T > 0).astype(np.float64)  # [K, C]
    sibling_voted = class_voted @ own > 0  # [K, m]
    return silent * np.where(sibling_voted, weight, 1.0)


def _covered_balance(em: _EM, lt: np.ndarray, tables: list[np.ndarray]) -> np.ndarray:
    """Smoothed mean posterior, under a uniform reference balance, of the rows with a vote."""
    c = em.c
    q = _softmax(em.logits(np.full(c, -math.log(c)), lt, tables)) * em.n[:, None]
    covered = em.voted.any(1)
    if not covered.any():
        return np.full(c, 1.0 / c)
    return (q[covered].sum(0) + 1.0) / (q[covered].sum() + c)


def _to_stats(L: Any, cardinality: int) -> LabelStats:
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
        stats = LabelStats(cardinality)
        batches = L.as_numpy_iterator() if isinstance(L, tf.data.Dataset) else L
        for batch in batches:
            stats.update(batch[-1] if isinstance(batch, tuple) else batch)
        return stats
    return LabelStats.from_matrix(np.asarray(L), cardinality)


def learn_structure(
    L: np.ndarray | LabelStats,
    cardinality: int = 2,
    *,
    max_group_size: int = 6,
    threshold: float = 0.1,
) -> list[list[int]]:
    """Learns groups of dependent LFs from an unlabeled label matrix.

    Fits a conditionally independent :class:`LabelModel`, scores every LF pair with
    :func:`~tfsnorkel.labelmodel.structure.pair_scores` and merges pairs above
    ``threshold`` by union-find up to ``max_group_size``.

    Args:
        L: ``[N, m]`` label matrix or its :class:`LabelStats`.
        cardinality: number of classes. Defaults to `2`.
        max_group_size: largest group. Defaults to `6`.
        threshold: minimum pair divergence (nats). Defaults to `0.1`.

    Returns:
        Groups (lists of two or more column indices).

    Example:
        >>> from tfsnorkel.labelmodel import synthetic_label_matrix
        >>> d = synthetic_label_matrix(20000, num_lfs=5, copies={0: 2}, seed=0)
        >>> learn_structure(d.L)
        [[0, 5, 6]]
    """
    lm = LabelModel(
        cardinality,
        dependencies="auto",
        max_group_size=max_group_size,
        structure_threshold=threshold,
    )
    return lm.fit(L).dependencies_


@keras.saving.register_keras_serializable(package="tfsnorkel")
class LabelModel(keras.layers.Layer):
    """Label model as a Keras layer: ``call(L)`` maps int32 votes ``[batch, m]`` to soft labels.

    The weights are the learned parameters (non-trainable): ``log_class_balance`` ``[C]`` (the
    prior of rows without a vote), ``log_vote_prior`` ``[C]`` (the prior of rows with a vote:
    the class balance, or uniform when one-coin LFs cannot identify it, see the module doc),
    ``lf_log_probs`` ``[m, C, C + 1]`` (``log P(vote = v | y)`` in column ``v + 1``) and, per
    dependent group, the sorted codes of its observed vote patterns with their
    ``log P(pattern | y)`` (unseen patterns fall back to the product of the members' tables).
    ``call`` is pure TensorFlow (exportable in a SavedModel, no ``numpy_function``); ``fit``
    runs exact MAP-EM over unique rows (measured against Adam steps on the same objective:
    same optimum, EM 2x faster and without a learning rate; benchmarks/RESULTS_label_model.md).

    Args:
        cardinality: number of classes ``C``. Defaults to `2`.
        dependencies: ``"auto"`` (learn groups of dependent LFs), `None` (independent LFs)
            or a list of groups (lists of column indices). Defaults to `"auto"`.
        class_balance: ``[C]`` class prior to use instead of estimating it. Defaults to `None`.
        max_group_size: largest learned group. Defaults to `6`.
        seed: seed for random tie breaks in :meth:`predict`. Defaults to `0`.
        max_iter: EM iterations. Defaults to `300`.
        tol: stop when the mean log-likelihood changes less than this. Defaults to `1e-7`.
        accuracy_prior: Beta pseudo-counts ``(right, wrong)`` on each LF's accuracy (MAP-EM);
            for class-conditional tables, the weight and mean of their Dirichlet prior (module
            doc). Defaults to `(32.0, 8.0)` (mean 0.8, weight of 40 votes; measured best on
            WRENCH trec).
        min_accuracy: accuracy floor; `None` means ``1/C + 0.05`` (better than random). For
            class-conditional tables it caps ``P(v | y = w) / P(v | y = v)``.
        structure_threshold: pair divergence (nats) above which LFs are grouped (near-copies
            score 0.2 and more; independent LFs about 0.002, real unipolar LF sets up to
            0.05). Defaults to `0.1`.
        balance_rounds: alternations between the class-balance estimate and the LF
            parameters when the balance is not given. Defaults to `10`.
        anchor_dev: when ``fit`` gets a gold dev set, its rows join the EM with their
            posterior held at the gold label (besides setting the class balance).
            Defaults to `True`.
        abstain_model: ``"class_conditional"`` (an abstain is an outcome of each LF's
            ``P(vote | y)`` table, hence evidence), ``"independent"`` (one-coin: propensity
            independent of ``y``, an abstain is no evidence) or ``"auto"``: class-conditional
            for 2 classes, independent for more (module doc). Only ``fit`` reads it; ``call``
            and the saved weights are the same for both. Defaults to `"auto"`.
        co_abstain_weight: weight in ``[0, 1]`` of an LF's abstain in rows where another LF of
            its class votes (class-conditional form with unipolar LFs only; elsewhere every
            abstain counts fully, as with `1.0`). Defaults to `0.5` (module doc).
        lf_names: the names of the LFs the model was fitted on (``fit(..., lf_names=)``),
            checked by :meth:`check_lfs`. Defaults to `None`.
        num_lfs, groups, group_patterns, lf_classes: the learned structure (``lf_classes``:
            the class each LF votes, -1 if none, when abstains are discounted, else `None`),
            filled by :meth:`fit` and carried by :meth:`get_config` so that ``from_config``
            rebuilds the same model.

    Example:
        >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 50)
        >>> lm = LabelModel(cardinality=2, dependencies=None).fit(L)
        >>> lm.predict(np.array([[1, 1, 1]])).tolist()
        [1]
    """

    def __init__(
        self,
        cardinality: int = 2,
        dependencies: str | Sequence[Sequence[int]] | None = "auto",
        *,
        class_balance: Sequence[float] | None = None,
        max_group_size: int = 6,
        seed: int = 0,
        max_iter: int = 300,
        tol: float = 1e-7,
        accuracy_prior: Sequence[float] = (32.0, 8.0),
        min_accuracy: float | None = None,
        structure_threshold: float = 0.1,
        balance_rounds: int = 10,
        anchor_dev: bool = True,
        abstain_model: str = "auto",
        num_lfs: int | None = None,
        groups: Sequence[Sequence[int]] | None = None,
        group_patterns: Sequence[int] | None = None,
        co_abstain_weight: float = 0.5,
        lf_classes: Sequence[int] | None = None,
        lf_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if (
            not isinstance(cardinality, (int, np.integer))
            or isinstance(cardinality, bool)
            or cardinality < 2
        ):
            raise ValueError(
                f"cardinality must be an integer >= 2. Received: cardinality={cardinality!r}"
            )
        if not (
            dependencies is None
            or dependencies == "auto"
            or isinstance(dependencies, (list, tuple))
        ):
            raise ValueError(
                "dependencies must be 'auto', None or a list of groups of column indices. "
                f"Received: dependencies={dependencies!r}"
            )
        if not isinstance(max_group_size, (int, np.integer)) or max_group_size < 1:
            raise ValueError(
                "max_group_size must be a positive integer. "
                f"Received: max_group_size={max_group_size!r}"
            )
        self.cardinality = int(cardinality)
        self.dependencies = (
            dependencies
            if not isinstance(dependencies, (list, tuple))
            else [sorted(int(j) for j in g) for g in dependencies]
        )
        self.class_balance = None if class_balance is None else [float(x) for x in class_balance]
        if self.class_balance is not None:
            cb = np.asarray(self.class_balance)
            if cb.shape != (self.cardinality,) or np.any(cb < 0) or not np.isclose(cb.sum(), 1.0):
                raise ValueError(
                    f"class_balance must be {self.cardinality} non-negative numbers summing to 1. "
                    f"Received: class_balance={self.class_balance}"
                )
        self.max_group_size = int(max_group_size)
        prior = np.asarray(accuracy_prior, dtype=float).ravel()
        if prior.shape != (2,) or not np.all(np.isfinite(prior)) or np.any(prior <= 0):
            raise ValueError(
                "accuracy_prior must be two positive pseudo-counts (right, wrong). "
                f"Received: accuracy_prior={accuracy_prior!r}"
            )
        if min_accuracy is not None and not (
            isinstance(min_accuracy, (int, float, np.floating))
            and 1.0 / self.cardinality <= float(min_accuracy) < 1.0
        ):
            raise ValueError(
                f"min_accuracy must be None or a number in [1/C, 1) = [{1 / self.cardinality:.3g}, "
                f"1). Received: min_accuracy={min_accuracy!r}"
            )
        self.seed = int(seed)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.accuracy_prior = [float(x) for x in accuracy_prior]
        self.min_accuracy = min_accuracy
        self.structure_threshold = float(structure_threshold)
        self.balance_rounds = int(balance_rounds)
        self.anchor_dev = bool(anchor_dev)
        if abstain_model not in _ABSTAIN_MODELS:
            raise ValueError(
                f"abstain_model must be one of {list(_ABSTAIN_MODELS)}. "
                f"Received: abstain_model={abstain_model!r}"
            )
        self.abstain_model = abstain_model
        if not 0.0 <= float(co_abstain_weight) <= 1.0:
            raise ValueError(
                "co_abstain_weight must be in [0, 1]. "
                f"Received: co_abstain_weight={co_abstain_weight!r}"
            )
        self.co_abstain_weight = float(co_abstain_weight)
        self.num_lfs = None if num_lfs is None else int(num_lfs)
        self.groups = [list(map(int, g)) for g in groups] if groups else []
        self.group_patterns = [int(p) for p in group_patterns] if group_patterns else []
        self.lf_classes = None if lf_classes is None else [int(k) for k in lf_classes]
        self.lf_names = None if lf_names is None else [str(n) for n in lf_names]
        if self.lf_names is not None and self.num_lfs is not None and len(self.lf_names) != self.num_lfs:
            raise ValueError(
                f"lf_names needs one name per LF (num_lfs={self.num_lfs}). "
                f"Received: {len(self.lf_names)} names"
            )
        if self.lf_classes is not None and (
            self.num_lfs is None
            or len(self.lf_classes) != self.num_lfs
            or min(self.lf_classes) < -1
            or max(self.lf_classes) >= self.cardinality
        ):
            raise ValueError(
                f"lf_classes needs one class in [-1, {self.cardinality - 1}] per LF "
                f"(num_lfs={num_lfs}). Received: lf_classes={lf_classes}"
            )
        if len(self.group_patterns) != len(self.groups):
            raise ValueError(
                f"group_patterns needs one count per group ({len(self.groups)}). "
                f"Received: {self.group_patterns}"
            )
        if self.num_lfs is not None:
            self._create_weights()

    # ------------------------------------------------------------------ weights
    def _create_weights(self) -> None:
        c, m = self.cardinality, self.num_lfs
        self.log_class_balance = self.add_weight(
            name="log_class_balance",
            shape=(c,),
            initializer=keras.initializers.Constant(-math.log(c)),
            trainable=False,
        )
        self.log_vote_prior = self.add_weight(
            name="log_vote_prior",
            shape=(c,),
            initializer=keras.initializers.Constant(-math.log(c)),
            trainable=False,
        )
        self.lf_log_probs = self.add_weight(
            name="lf_log_probs", shape=(m, c, c + 1), initializer="zeros", trainable=False
        )
        self.group_codes, self.group_log_probs = [], []
        for i, (g, k) in enumerate(zip(self.groups, self.group_patterns)):
            if len(g) * math.log2(c + 1) > 62:
                raise ValueError(f"group {g} is too large to encode for cardinality {c}")
            self.group_codes.append(
                self.add_weight(
                    name=f"group{i}_codes",
                    shape=(k,),
                    dtype="int64",
                    initializer="zeros",
                    trainable=False,
                )
            )
            self.group_log_probs.append(
                self.add_weight(
                    name=f"group{i}_log_probs", shape=(k, c), initializer="zeros", trainable=False
                )
            )
        self.built = True

    def build(self, input_shape: Any) -> None:
        if self.num_lfs is None:
            raise ValueError(
                "LabelModel must be fitted (or built from a fitted config) before it is called"
            )
        self.built = True

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], self.cardinality)

    def call(self, L: Any) -> tf.Tensor:
        """Soft labels ``[batch, C]`` (float32, rows sum to 1) for int votes ``[batch, m]``.

        Votes outside ``[-1, C - 1]`` are treated as abstains here; :meth:`predict_proba`
        validates and names the offending LF instead.
        """
        c, m = self.cardinality, self.num_lfs
        with tf.name_scope("label_model"):
            L = tf.convert_to_tensor(L)
            if L.dtype.is_floating or L.dtype.size > 4 or L.dtype == tf.uint32:
                # Range check before narrowing: 2**32 + 1 must not wrap to a vote of 1.
                L = tf.cast(L, tf.float64) if L.dtype.is_floating else tf.cast(L, tf.int64)
                bad = (L < -1) | (L >= c)
                if L.dtype.is_floating:
                    bad = bad | tf.not_equal(L, tf.round(L))
                L = tf.where(bad, tf.constant(-1, L.dtype), L)
            L = tf.cast(L, tf.int32)
            L = tf.where((L < -1) | (L >= c), tf.fill(tf.shape(L), -1), L)
            idx = L + 1  # [b, m] in 0..C
            flat = tf.reshape(
                tf.transpose(tf.convert_to_tensor(self.lf_log_probs), [0, 2, 1]), [m * (c + 1), c]
            )
            per_lf = tf.gather(
                flat, idx + tf.range(m, dtype=tf.int32)[None, :] * (c + 1)
            )  # [b, m, C]
            single = np.ones(m, np.float32)
            for g in self.groups:
                single[g] = 0.0
            if self.lf_classes is not None:
                # An abstain counts only where no LF of its class votes (module doc).
                own = np.asarray(self.lf_classes)[:, None] == np.arange(c)[None, :]  # [m, C]
                own = tf.constant(own.astype(np.float32))
                fired = tf.cast(L >= 0, tf.float32)
                some = tf.matmul(tf.cast(tf.matmul(fired, own) > 0, tf.float32), own,
                                 transpose_b=True)  # [b, m]
                keep = tf.where((L < 0) & (some > 0), self.co_abstain_weight, 1.0)
                per_lf = per_lf * keep[:, :, None]
            any_vote = tf.reduce_any(L >= 0, axis=1, keepdims=True)
            prior = tf.where(
                any_vote,
                tf.convert_to_tensor(self.log_vote_prior)[None, :],
                tf.convert_to_tensor(self.log_class_balance)[None, :],
            )
            logits = prior + tf.reduce_sum(per_lf * single[None, :, None], axis=1)
            for g, codes, table in zip(self.groups, self.group_codes, self.group_log_probs):
                radix = tf.constant((c + 1) ** np.arange(len(g), dtype=np.int64))
                code = tf.reduce_sum(
                    tf.cast(tf.gather(idx, g, axis=1), tf.int64) * radix[None, :], axis=1
                )
                codes_t = tf.convert_to_tensor(codes)
                pos = tf.minimum(
                    tf.searchsorted(codes_t, code), tf.shape(codes_t, out_type=tf.int32)[0] - 1
                )
                found = tf.equal(tf.gather(codes_t, pos), code)
                fallback = tf.reduce_sum(tf.gather(per_lf, g, axis=1), axis=1)
                logits += tf.where(
                    found[:, None], tf.gather(tf.convert_to_tensor(table), pos), fallback
                )
            return tf.nn.softmax(logits, axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "cardinality": self.cardinality,
            "dependencies": self.dependencies,
            "class_balance": self.class_balance,
            "max_group_size": self.max_group_size,
            "seed": self.seed,
            "max_iter": self.max_iter,
            "tol": self.tol,
            "accuracy_prior": self.accuracy_prior,
            "min_accuracy": self.min_accuracy,
            "structure_threshold": self.structure_threshold,
            "balance_rounds": self.balance_rounds,
            "anchor_dev": self.anchor_dev,
            "abstain_model": self.abstain_model,
            "co_abstain_weight": self.co_abstain_weight,
            "num_lfs": self.num_lfs,
            "groups": self.groups,
            "group_patterns": self.group_patterns,
            "lf_classes": self.lf_classes,
            "lf_names": self.lf_names,
        }

    # ------------------------------------------------------------------ fitting
    def fit(
        self,
        L: np.ndarray | tf.data.Dataset | LabelStats,
        L_dev: np.ndarray | None = None,
        y_dev: np.ndarray | Sequence[int] | None = None,
        *,
        lf_names: Sequence[str] | None = None,
    ) -> LabelModel:
        """Learns class balance, LF accuracies/propensities and dependencies, without gold labels.

        Args:
            L: ``[N, m]`` label matrix; or a stream (a ``tf.data.Dataset`` or an iterator)
                of ``[b, m]`` batches or of ``(features, L_batch)`` pairs, of which only the
                unique-row counts are kept; or :class:`LabelStats` (e.g. merged from shards).
            L_dev: ``[n_dev, m]`` votes of a small gold dev set. With ``y_dev`` (and
                ``anchor_dev``), its rows join the EM with their posterior held at the gold
                label. Defaults to `None`.
            y_dev: gold labels of the dev set; when given (and ``class_balance`` is not),
                the class balance is their smoothed frequency. Defaults to `None`.
            lf_names: the names of the LFs behind the columns of ``L``, in order (e.g.
                ``lfset.names``). They are saved with the model, and every place that pairs
                the model with an LF set checks them (:meth:`check_lfs`). Defaults to `None`
                (only the number of LFs is checked).

        Returns:
            ``self``.
        """
        c = self.cardinality
        stats = _to_stats(L, c)
        if stats.num_rows == 0:
            raise ValueError("cannot fit a LabelModel on an empty label matrix. Received: 0 rows")
        m = stats.num_lfs
        if m < 3:
            raise ValueError(
                "a LabelModel needs at least 3 LFs to be identifiable; use MajorityVoter "
                f"instead. Received: {m} LFs"
            )
        if lf_names is not None:
            lf_names = [str(n) for n in lf_names]
            if len(lf_names) != m:
                raise ValueError(
                    f"lf_names needs one name per LF column of L ({m}). "
                    f"Received: {len(lf_names)} names"
                )
        if L_dev is not None:
            L_dev = check_label_matrix(L_dev, cardinality=c)
            if L_dev.shape[1] != m:
                raise ValueError(f"L_dev has {L_dev.shape[1]} LF columns, L has {m}")
        yd = None
        if y_dev is not None:
            raw = np.asarray(y_dev)
            if raw.dtype.kind not in "iub" and not (
                raw.dtype.kind == "f" and np.all(np.isfinite(raw)) and np.all(raw == np.round(raw))
            ):
                raise ValueError(
                    "y_dev must hold integer class indices; it holds non-integer values. "
                    f"Received: {raw.ravel()[:5].tolist()}"
                )
            yd = raw.astype(np.int64).ravel()
            if yd.size == 0 or yd.min() < 0 or yd.max() >= c:
                raise ValueError(
                    f"y_dev must hold class indices in [0, {c - 1}]. "
                    f"Received values: {np.unique(yd)[:10].tolist()}"
                )
            if L_dev is not None and len(yd) != len(L_dev):
                raise ValueError(f"L_dev has {len(L_dev)} rows but y_dev has {len(yd)}")
        pi_fixed = None if self.class_balance is None else np.asarray(self.class_balance, float)
        if pi_fixed is None and yd is not None:
            pi_fixed = (np.bincount(yd, minlength=c) + 1.0) / (yd.size + c)
        min_acc = 1.0 / c + 0.05 if self.min_accuracy is None else float(self.min_accuracy)
        abstain = self.abstain_model
        if abstain == "auto":
            abstain = "class_conditional" if c == 2 else "independent"

        uniform = np.full(c, 1.0 / c)
        rows, counts, labels = stats.rows, stats.counts, None
        if L_dev is not None and yd is not None and self.anchor_dev:
            # Gold dev rows join the EM with their posterior held at the gold label.
            rows = np.concatenate([rows, L_dev.astype(rows.dtype)])
            counts = np.concatenate([counts, np.ones(len(L_dev), np.int64)])
            labels = np.concatenate([np.full(len(stats.rows), -1), yd])

        vote_counts = np.asarray(vote_matrix(rows, c).T @ counts).reshape(m, c)
        unipolar = bool(np.all((vote_counts > 0).sum(1) <= 1))
        lf_classes = None
        if abstain == "class_conditional" and unipolar:
            # The class each LF votes (-1: never votes); abstains then count per class.
            lf_classes = np.where(vote_counts.sum(1) > 0, vote_counts.argmax(1), -1)

        def run(groups: list[list[int]]):
            """Returns (em, lt, tables, class balance, prior for rows with votes)."""
            em = _EM(rows, counts, c, groups, self.accuracy_prior, min_acc, 0.5, labels)
            lt0, tables0, q0, _ = em.run(
                np.log(uniform), em.init_posterior(), self.max_iter, self.tol
            )
            if abstain == "class_conditional":
                # Start the class-conditional fit from the one-coin model's posterior (a vote
                # in which each group counts once would do; a plain majority vote locks onto
                # copies, DESIGN.md), under the same uniform reference balance.
                em.abstain = abstain
                em.set_lf_classes(lf_classes, self.co_abstain_weight)
                lt0, tables0, q0, _ = em.run(np.log(uniform), q0, self.max_iter, self.tol)
            # Alternate: class balance by maximum likelihood with LF parameters fixed (concave),
            # then LF parameters under that balance, until the balance settles.
            if abstain == "class_conditional" and unipolar:
                # Every LF votes one class: its propensity under each class and the class
                # balance are then identified only through the conditional independence of
                # abstains, which real LF sets break (LFs of one class abstain together), and
                # the maximum-likelihood balance settles on wrong values (sms: 0.37 / 0.63,
                # truth 0.87 / 0.13). The balance is instead estimated once from the fit under
                # the uniform reference (mean posterior of the rows with a vote), or given;
                # the LF tables are then refitted under it, one joint model for every row.
                pi = pi_fixed if pi_fixed is not None else _covered_balance(em, lt0, tables0)
                lt, tables, q, _ = em.run(np.log(pi), q0, self.max_iter, self.tol)
                return em, lt, tables, pi, pi
            lt, tables, q, pi, joint = lt0, tables0, q0, uniform, True
            for _ in range(self.balance_rounds):
                new = em.prior_mle(lt, tables)
                if new.min() < 0.1 / c:
                    joint = False
                    break
                done = np.abs(new - pi).max() < 1e-4
                pi = new
                lt, tables, q, _ = em.run(np.log(pi), q, self.max_iter, self.tol)
                if done:
                    break
            if joint:
                # The votes identify the balance: one joint model, whose balance is the prior
                # of every row.
                if pi_fixed is not None:
                    pi = pi_fixed
                    lt, tables, q, _ = em.run(np.log(pi), q, self.max_iter, self.tol)
                return em, lt, tables, pi, pi
            # The balance ran towards a degenerate value: typical of unipolar LFs (each votes one
            # class), whose accuracies then absorb the base rate. Keep the LF parameters fitted
            # under a uniform reference balance (their accuracies are then P(y = vote | vote)),
            # and apply the class balance only where there is no vote.
            pi = pi_fixed if pi_fixed is not None else _covered_balance(em, lt0, tables0)
            return em, lt0, tables0, pi, uniform

        if isinstance(self.dependencies, list):
            seen: set[int] = set()
            for g in self.dependencies:
                if not g or min(g) < 0 or max(g) >= m:
                    raise ValueError(
                        f"dependency groups must hold column indices in [0, {m - 1}]. Received: {g}"
                    )
                if seen & set(g) or len(set(g)) != len(g):
                    raise ValueError(
                        "dependency groups must not share or repeat a column. "
                        f"Received: dependencies={self.dependencies}"
                    )
                if len(g) * math.log2(c + 1) > 62:
                    raise ValueError(
                        f"a dependency group of {len(g)} LFs is too large to enumerate for "
                        f"{c} classes. Received: {g}"
                    )
                seen |= set(g)
            groups = [g for g in self.dependencies if len(g) > 1]
        else:
            groups = []
        em, lt, tables, pi, vote_prior = run(groups)
        if self.dependencies == "auto":
            post_pi, post_tables = em.posterior_tables(np.log(vote_prior), lt, tables)
            s_rows, s_counts = stats.rows, stats.counts
            if len(s_rows) > _STRUCTURE_ROWS:
                # Pair statistics from a weighted subsample of rows: sampling noise in the
                # divergence is about cells / (2 * 20k): 2e-4 for 2 classes, 0.01 for 20,
                # well below the threshold.
                rng = np.random.default_rng(self.seed)
                p = s_counts / s_counts.sum()
                pick = rng.choice(len(s_rows), size=_STRUCTURE_ROWS, p=p)
                idx, s_counts = np.unique(pick, return_counts=True)
                s_rows = s_rows[idx]
            scores = pair_scores(s_rows, s_counts, c, post_pi, post_tables)
            groups = merge_groups(scores, self.structure_threshold, self.max_group_size)
            if groups:
                em, lt, tables, pi, vote_prior = run(groups)
        self._vote_prior = np.asarray(vote_prior, float)
        self._set_params(em, lt, tables, pi, groups)
        self._commit(m, None if lf_classes is None else [int(k) for k in lf_classes])
        if lf_names is not None:
            self.lf_names = lf_names
        return self

    def check_lfs(
        self, lf_names: Sequence[str], cardinality: int | None = None, *, what: str = "LF set"
    ) -> None:
        """Checks that an LF set is the one this model was fitted on.

        Args:
            lf_names: the LF set's names, in column order.
            cardinality: the LF set's number of classes, if it declares one.
            what: how to name the LF set in the error. Defaults to `"LF set"`.

        Raises:
            ValueError: the number of LFs, their names or order, or the cardinality differ
                (the message names the first mismatch).

        Example:
            >>> L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 50)
            >>> lm = LabelModel(2, dependencies=None).fit(L, lf_names=["a", "b", "c"])
            >>> lm.check_lfs(["a", "c", "b"])
            Traceback (most recent call last):
            ...
            ValueError: the LF set does not match the label model: column 1 is LF 'c' in the LF set but 'b' in the label model (fitted on ['a', 'b', 'c']). Received: ['a', 'c', 'b']
        """
        self._check_fitted()
        names = [str(n) for n in lf_names]
        head = f"the {what} does not match the label model"
        if cardinality is not None and int(cardinality) != self.cardinality:
            raise ValueError(
                f"{head}: it has cardinality {int(cardinality)}, the label model "
                f"{self.cardinality}. Received: cardinality={cardinality!r}"
            )
        if len(names) != self.num_lfs:
            raise ValueError(
                f"{head}: it has {len(names)} LFs, the label model was fitted on "
                f"{self.num_lfs}. Received: {names}"
            )
        if self.lf_names is not None and names != self.lf_names:
            j = next(i for i, (a, b) in enumerate(zip(names, self.lf_names)) if a != b)
            raise ValueError(
                f"{head}: column {j} is LF {names[j]!r} in the {what} but "
                f"{self.lf_names[j]!r} in the label model (fitted on {self.lf_names}). "
                f"Received: {names}"
            )

    def _set_params(self, em: _EM, lt, tables, pi, groups) -> None:
        """Stores fitted parameters in numpy (``_pi``, ``_tables``, group codes/tables)."""
        c = self.cardinality
        self._pi = np.asarray(pi, float) / np.sum(pi)
        tab = np.exp(lt)
        codes_all = [codes for codes, _ in em.patterns]
        for g, t, codes in zip(groups, tables, codes_all):
            # Tables of grouped LFs: marginals of the group's joint table.
            probs = np.exp(t)  # [P, C]
            digits = (codes[:, None] // (c + 1) ** np.arange(len(g))[None, :]) % (c + 1)
            for i, j in enumerate(g):
                marg = np.stack(
                    [probs[digits[:, i] == v].sum(0) for v in range(c + 1)], axis=1
                )  # [C, C+1]
                marg = marg + 1e-6
                tab[j] = marg / marg.sum(1, keepdims=True)
        self._tables = tab
        self._fit_groups = [list(map(int, g)) for g in groups]
        self._fit_codes = codes_all
        self._fit_group_tables = list(tables)

    def _commit(self, num_lfs: int, lf_classes: list[int] | None) -> None:
        """Creates the Keras weights with the learned shapes (first fit) and assigns them."""
        shapes = [len(cd) for cd in self._fit_codes]
        if self.num_lfs is not None and (
            self.num_lfs != num_lfs
            or self.groups != self._fit_groups
            or self.group_patterns != shapes
            or self.lf_classes != lf_classes
        ):
            raise ValueError(
                "this LabelModel was already fitted with a different structure; create a new "
                "LabelModel "
                f"to fit it again. Received: {num_lfs} LFs, groups={self._fit_groups}"
            )
        if self.num_lfs is None:
            self.num_lfs = int(num_lfs)
            self.lf_classes = lf_classes
            self.groups = self._fit_groups
            self.group_patterns = shapes
            self._create_weights()
        self.log_class_balance.assign(np.log(np.maximum(self._pi, 1e-12)).astype(np.float32))
        self.log_vote_prior.assign(np.log(np.maximum(self._vote_prior, 1e-12)).astype(np.float32))
        self.lf_log_probs.assign(np.log(self._tables).astype(np.float32))
        for var_c, var_t, codes, t in zip(
            self.group_codes, self.group_log_probs, self._fit_codes, self._fit_group_tables
        ):
            var_c.assign(codes.astype(np.int64))
            var_t.assign(t.astype(np.float32))

    # ------------------------------------------------------------------ inference
    def _check_fitted(self) -> None:
        if self.num_lfs is None:
            raise ValueError("this LabelModel is not fitted yet; call fit(L) first")

    def predict_proba(self, L: np.ndarray, batch_size: int = 65536) -> np.ndarray:
        """Soft labels for a label matrix.

        Args:
            L: ``[N, m]`` votes (validated; a vote out of range names its LF column).
            batch_size: rows per ``call``. Defaults to `65536`.

        Returns:
            ``[N, C]`` float32 probabilities, rows summing to 1.
        """
        self._check_fitted()
        L = check_label_matrix(L, cardinality=self.cardinality)
        if L.shape[1] != self.num_lfs:
            raise ValueError(
                f"this LabelModel was fitted on {self.num_lfs} LFs. "
                f"Received a label matrix with {L.shape[1]} columns"
            )
        out = [self(L[i : i + batch_size]).numpy() for i in range(0, len(L), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, self.cardinality), np.float32)

    def predict(self, L: np.ndarray, tie_break: TieBreak = "random") -> np.ndarray:
        """Hard labels: argmax of :meth:`predict_proba` with an explicit tie policy.

        Args:
            L: ``[N, m]`` votes.
            tie_break: ``"abstain"``, ``"random"`` (seeded by ``seed``) or ``"prior"``
                (the learned class balance). Defaults to `"random"`.

        Returns:
            ``[N]`` int32 predictions.
        """
        return probs_to_preds(
            self.predict_proba(L), tie_break, seed=self.seed, prior=self.class_balance_.to_numpy()
        )

    # ------------------------------------------------------------------ tables
    @property
    def class_balance_(self) -> pd.Series:
        """Learned class balance, indexed by class."""
        self._check_fitted()
        p = np.exp(self.log_class_balance.numpy().astype(np.float64))
        return pd.Series(
            p / p.sum(), index=pd.RangeIndex(self.cardinality, name="class"), name="class_balance"
        )

    @property
    def dependencies_(self) -> list[list[int]]:
        """Groups of LF columns modelled jointly (learned or given)."""
        self._check_fitted()
        return [list(g) for g in self.groups]

    def lf_table(self, lf_names: Sequence[str] | None = None) -> pd.DataFrame:
        """Per-LF accuracy, propensity (coverage) and dependency group as a DataFrame.

        Accuracy is ``P(vote == y | vote != abstain)`` under the model, propensity
        ``P(vote != abstain)``; ``group`` is the index in :attr:`dependencies_` or -1.

        Args:
            lf_names: row labels, checked against the names the model was fitted with
                (:meth:`check_lfs`). Defaults to `None` (those names, else column indices).

        Returns:
            A DataFrame with columns ``accuracy``, ``propensity``, ``group``.
        """
        self._check_fitted()
        t = np.exp(self.lf_log_probs.numpy().astype(np.float64))  # [m, C, C+1]
        pi = self.class_balance_.to_numpy()
        voted = 1 - t[:, :, 0]
        idx = np.arange(self.cardinality)
        right = t[:, idx, idx + 1]
        prop = voted @ pi
        acc = (right @ pi) / np.maximum(prop, 1e-12)
        group = np.full(self.num_lfs, -1)
        for i, g in enumerate(self.groups):
            group[g] = i
        if lf_names is not None:
            self.check_lfs(lf_names)
        else:
            lf_names = self.lf_names
        return pd.DataFrame(
            {"accuracy": acc, "propensity": prop, "group": group},
            index=pd.Index(lf_names if lf_names is not None else range(self.num_lfs), name="lf"),
        )

    # ------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike) -> None:
        """Saves the fitted model in Keras's ``.keras`` format (a model wrapping this layer).

        Args:
            path: destination ending in ``.keras``.
        """
        self._check_fitted()
        model = keras.Sequential([keras.Input(shape=(self.num_lfs,), dtype="int32"), self])
        model.save(os.fspath(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> LabelModel:
        """Loads a model written by :meth:`save`.

        Args:
            path: a ``.keras`` file.

        Returns:
            The fitted :class:`LabelModel`.

        Raises:
            LabelModelLoadError: the file is missing, corrupted, or holds no LabelModel.
        """
        path = os.fspath(path)
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as e:
            raise LabelModelLoadError(
                f"could not read a saved LabelModel ({type(e).__name__}: {e}). "
                f"Received: path={path!r}"
            ) from e
        layers = [layer for layer in getattr(model, "layers", []) if isinstance(layer, LabelModel)]
        if not layers:
            raise LabelModelLoadError(
                f"the file holds no LabelModel layer. Received: path={path!r}"
            )
        return layers[0]
