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

``"auto"`` (the default) fits both forms and keeps the one with the lower BIC on the votes
of the covered rows (:func:`~tfsnorkel.labelmodel.fitting.select_abstain_model`), for 2 classes
as for 20. In the class-conditional form a unipolar LF is a *detector*: a firing rate for its
own class and one false-positive rate shared by the others (two parameters, as in the
one-coin form, so BIC then compares the likelihoods themselves). On the synthetic families
the rule picks the form that generated the data (one-coin for LFs drawn with propensities
independent of the class, class-conditional otherwise). On trec (6 classes, 68 unipolar LFs)
it picks the class-conditional form, which scores 0.610 there (with its exact copies counted
once, :func:`~tfsnorkel.labelmodel.structure.copy_columns`) against the one-coin form's 0.638
and majority vote's 0.61; with a gold dev split the choice is made on gold instead.

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

This module holds the generative model's pieces (vote tables, the exact EM over unique
rows, abstain weights); :mod:`~tfsnorkel.labelmodel.fitting` decides how they are combined
(class balance, structure), and :mod:`~tfsnorkel.labelmodel.layer` holds the fitted
parameters as a Keras layer.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from tfsnorkel.labelmodel import em_votes
from tfsnorkel.labelmodel.stats import take_columns
from tfsnorkel.labelmodel.structure import occupied_columns, restrict_columns, vote_matrix
from tfsnorkel.labelmodel.tables import abstain_of, columns_of

__all__ = ["CompactTables", "ExactEM", "covered_balance", "group_codes", "softmax"]

_EPS = 1e-6
# Runs of the forms whose tables are a constant plus one class go through the O(votes)
# iterations of :mod:`~tfsnorkel.labelmodel.em_votes` (the same EM; tests compare the two).
USE_VOTES_EM = True


def _row_log_lik(logits: np.ndarray) -> np.ndarray:
    """``log sum_y exp(logits[:, y])`` per row, computed stably."""
    mx = logits.max(axis=1, keepdims=True)
    return mx[:, 0] + np.log(np.exp(logits - mx).sum(axis=1))


def _posterior(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """In place: ``logits`` becomes the posterior (softmax of each row); also returns each
    row's ``log sum_y exp(logits)``, as :func:`softmax` and :func:`_row_log_lik` give them,
    without their temporaries (``[K, C]`` is the largest array of an EM step)."""
    mx = logits.max(axis=1)
    logits -= mx[:, None]
    np.exp(logits, out=logits)
    tot = logits.sum(axis=1)
    logits /= tot[:, None]
    return logits, mx + np.log(tot)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def group_codes(rows, group: Sequence[int], cardinality: int) -> np.ndarray:
    """``[K]`` int64 code of each row's votes on the LFs of ``group`` (dense or CSR rows)."""
    radix = (cardinality + 1) ** np.arange(len(group), dtype=np.int64)
    return (take_columns(rows, group).astype(np.int64) + 1) @ radix


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


class ExactEM:
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
        self.single = np.ones(self.m, bool)
        self.patterns = []
        for g in self.groups:
            self.single[g] = False
            codes, inv = np.unique(group_codes(self.rows, g, cardinality), return_inverse=True)
            self.patterns.append((codes, inv.ravel()))
        # Sparse [K, m*C] indicators of the votes (column j*C + v), of every LF and of the
        # singletons: both EM steps are then sparse products whose cost grows with the
        # number of votes, not with K * m.
        self.all_votes = vote_matrix(self.rows, cardinality)
        self.votes = vote_matrix(self.rows, cardinality, self.single) if self.groups else self.all_votes
        # The singletons' vote columns that hold a vote (one per unipolar LF): the E-step's
        # vote weights are [V, C] over them, not [m * C, C] (_used_votes).
        self._vote_cols = occupied_columns(self.votes)
        self._votes_used = None
        self.total = np.asarray(self.all_votes.T @ self.n).reshape(self.m, cardinality).sum(1)
        self.coverage = self.total / max(self.n.sum(), 1.0)
        self.covered = np.diff(self.all_votes.indptr) > 0  # [K] rows with a vote
        # [m*C, m]: collapses a vote column j*C + v onto its LF j.
        self._to_lf = sp.csr_matrix(
            (np.ones(self.m * cardinality), np.repeat(np.arange(self.m), cardinality),
             np.arange(self.m * cardinality + 1)), shape=(self.m * cardinality, self.m)
        )
        self._dirichlet = None
        # [m*C, K] singleton votes weighted by their row counts (m_step; imputed rows, whose
        # counts run_truncated sets, hold no vote), and the O(votes) form with its key.
        self._votes_t_n = None
        self._votes_form, self._votes_key = None, None
        # The number of trailing rows that are imputed, not observed (run_truncated).
        self.imputed = 0
        self.set_lf_classes(None, 1.0)

    def set_lf_classes(self, lf_classes: np.ndarray | None, weight: float) -> None:
        """The class each LF votes (unipolar sets; `None` otherwise) and how much each
        singleton abstain counts as evidence: fully (1) without ``lf_classes``; with them,
        ``weight`` in rows where another LF of its class votes (``co_abstain_weight``, module
        doc), fully elsewhere."""
        self.lf_classes = None if lf_classes is None else np.asarray(lf_classes, int)
        self.abstain_weight = float(weight)
        self._stacked = None  # built by the first dense logits() that needs it

    def _used_votes(self) -> sp.csr_matrix:
        """``[K, V]``: the singleton votes over the columns that occur (``_vote_cols``), sharing
        the vote matrix's data and row pointers (only the column indices are new)."""
        if self._votes_used is None:
            self._votes_used = restrict_columns(self.votes, self._vote_cols)
        return self._votes_used

    def _stacked_votes(self) -> sp.csr_matrix:
        """``[K, m*C + C + m]``: votes, classes voted in the row, singletons that voted.

        With co-abstention, :meth:`logits` is one sparse product of it.
        """
        if self._stacked is None:
            own = _class_indicator(self.lf_classes, self.c)
            cv = (self.all_votes @ self._to_lf @ own).tocsr()  # [K, m] fired, then classes
            cv.data[:] = 1.0
            self._stacked = sp.hstack(
                [self._used_votes(), cv, (self.votes @ self._to_lf).tocsr()], format="csr"
            )
        return self._stacked

    def init_posterior(self) -> np.ndarray:
        """Vote in which each group counts once; rows with no vote get the uniform distribution."""
        w = np.ones(self.m)
        for g in self.groups:
            w[g] = 1.0 / len(g)
        # Class v of LF j's vote gets weight w_j: a [m*C, C] map, applied by row chunks.
        weights = sp.csr_matrix(
            (np.repeat(w, self.c), (np.arange(self.m * self.c), np.tile(np.arange(self.c), self.m))),
            shape=(self.m * self.c, self.c),
        )
        q = np.empty((len(self.n), self.c))
        for part in self.row_chunks():
            scores = (self.all_votes[part] @ weights).toarray()
            tot = scores.sum(axis=1, keepdims=True)
            q[part] = np.where(tot > 0, scores / np.maximum(tot, 1e-12), 1.0 / self.c)
        return self.clamp(q)

    def clamp(self, q: np.ndarray, copy: bool = True) -> np.ndarray:
        """Posterior with the gold dev rows (if any) set to their labels (in place if not
        ``copy``)."""
        if self.labelled is not None and len(self.labelled):
            q = q.copy() if copy else q
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
            c = self.c
            marg, rows, mean = self._dirichlet_reference()
            ref = np.full((c, c), (1 - mean) / (c - 1))
            np.fill_diagonal(ref, mean)  # ref[v, y] = P0(y | vote v)
            prior = np.empty((self.m, c, c + 1))
            prior[:, :, 0] = (rows * (1 - self.coverage) / c)[:, None]
            prior[:, :, 1:] = (rows[:, None, None] * marg[:, :, None] * ref[None]).transpose(
                0, 2, 1
            )
            self._dirichlet = prior
        return self._dirichlet

    def _dirichlet_reference(self) -> tuple[np.ndarray, np.ndarray, float]:
        """The reference LF of :meth:`dirichlet_prior`: ``[m, C]`` vote frequencies, ``[m]``
        pseudo-rows per LF and the accuracy prior's mean."""
        a0, b0 = self.acc_prior
        marg = np.asarray(self.all_votes.T @ self.n).reshape(self.m, self.c) / self.n.sum()
        rows = (a0 + b0) / np.maximum(self.coverage, (a0 + b0) / self.n.sum())
        return marg, rows, a0 / (a0 + b0)

    def dirichlet_reductions(self, lf_classes: np.ndarray) -> tuple[np.ndarray, ...]:
        """What the detector M-step needs of :meth:`dirichlet_prior`, in ``O(m * C)``.

        For LFs voting class ``k_j``: the pseudo-counts of ``(y = k_j, vote k_j)`` and of
        ``vote k_j`` over every ``y`` (``[m]`` each), and each ``(LF, y)`` row's total (``[m, C]``),
        equal to the reductions of the ``[m, C, C + 1]`` prior, which is never formed.
        """
        c = self.c
        marg, rows, mean = self._dirichlet_reference()
        k = np.maximum(np.asarray(lf_classes, np.int64), 0)
        own = marg[np.arange(self.m), k]
        fire_own = rows * own * mean
        fire_all = rows * own  # sum_y ref[k, y] = 1
        other = (1 - mean) / (c - 1) if c > 1 else 0.0
        # sum_v marg[j, v] ref[v, y] = marg[j, y] mean + (sum_v marg[j, v] - marg[j, y]) other
        votes = marg * mean + (marg.sum(1, keepdims=True) - marg) * other
        row_tot = (rows * (1 - self.coverage) / c)[:, None] + rows[:, None] * votes
        return fire_own, fire_all, row_tot

    def m_step(self, q: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """MAP parameters from posterior ``q``: singleton log-tables ``[m, C, C + 1]``, groups'."""
        # The count-weighted posterior is never formed ([K, C]): the weights ride on the votes.
        if self._votes_t_n is None:
            self._votes_t_n = self.votes.T.multiply(self.n[None, :]).tocsr()
        counts = np.asarray(self._votes_t_n @ q).reshape(self.m, self.c, self.c)  # [j, v, y]
        r_sum = self.n @ q
        if self.abstain == "class_conditional":
            cnt = np.empty((self.m, self.c, self.c + 1))
            cnt[:, :, 1:] = counts.transpose(0, 2, 1)
            cnt[:, :, 0] = r_sum[None, :] - counts.sum(1)
            cnt = np.maximum(cnt, 0.0) + self.dirichlet_prior()
            t = cnt / cnt.sum(2, keepdims=True)
            if self.lf_classes is not None:
                _tie_false_positives(t, cnt, self.lf_classes, self.single)
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
                [np.bincount(inv, weights=q[:, y] * self.n, minlength=len(codes))
                 for y in range(self.c)],
                1,
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
        self, log_prior: np.ndarray, lt: np.ndarray, tables: list[np.ndarray], rows: slice = slice(None)
    ) -> np.ndarray:
        # Singletons: a vote for v adds log P(v | y), a counted abstain log P(abstain | y)
        # (:meth:`set_lf_classes`). Every singleton's abstain term is summed once, and a
        # vote replaces its LF's: one sparse product over the votes, none over K * m cells.
        a = abstain_of(lt) * self.single[:, None]  # [j, y] log P(abstain | y), singletons only
        # [V, C] weights of the vote columns that occur (column j * C + v: LF j, value v).
        lf_of = self._vote_cols // self.c
        w = columns_of(lt, self._vote_cols) - a[lf_of]
        if self.lf_classes is not None and self.abstain_weight != 1.0:
            # A silent LF of a class that some LF votes in the row counts with the weight:
            # (weight - 1) * (the singletons of the row's voted classes - those that voted).
            own_a = a * (self.lf_classes >= 0)[:, None]
            per_class = _class_indicator(self.lf_classes, self.c).T @ own_a  # [k, y]
            dw = self.abstain_weight - 1.0
            x = self._stacked_votes()
            out = (x if rows == slice(None) else x[rows]) @ np.concatenate(
                [w, dw * per_class, -dw * own_a]
            )
        else:
            used = self._used_votes()
            out = (used if rows == slice(None) else used[rows]) @ w
        out = np.asarray(out)
        out += a.sum(0)[None, :] + log_prior[None, :]
        for (codes, inv), t in zip(self.patterns, tables):
            out += t[inv[rows]]
        return out

    def row_chunks(self, rows: slice = slice(None), size: int = 1 << 16):
        """Row ranges of at most ``size`` rows covering ``rows`` (one-off dense passes over a
        ``[K, C]`` quantity stay at ``size * C`` floats)."""
        lo, hi, _ = rows.indices(len(self.n))
        for start in range(lo, hi, size):
            yield slice(start, min(start + size, hi))

    def release(self) -> None:
        """Drops the caches built by the iterations (the stacked vote matrix, the ``O(votes)``
        form, weighted transposes, the Dirichlet prior); they are rebuilt when needed."""
        self._stacked = None
        self._votes_used = None
        self._dirichlet = None
        self._votes_t_n = None
        self._votes_form, self._votes_key = None, None

    def _votes_em(self):
        """The ``O(votes)`` form of this EM (:mod:`~tfsnorkel.labelmodel.em_votes`), or `None`."""
        if not USE_VOTES_EM or not em_votes.applies(self):
            return None
        key = (self.abstain, None if self.lf_classes is None else self.lf_classes.tobytes())
        if self._votes_key != key:
            self._votes_form, self._votes_key = em_votes.VotesEM(self), key
        return self._votes_form

    def run(self, log_prior: np.ndarray, q: np.ndarray, max_iter: int, tol: float):
        """EM from posterior ``q``; returns LF log-tables, group tables, posterior, iterations."""
        fast = self._votes_em()
        if fast is not None:
            lt, q, _, it = fast.run(log_prior, q, max_iter, tol)
            return lt, [], q, it
        prev = -np.inf
        lt, tables = self.m_step(q)
        it = 0
        for it in range(1, max_iter + 1):
            q, row_ll = _posterior(self.logits(log_prior, lt, tables))
            ll = float((self.n * row_ll).sum() / self.n.sum())
            q = self.clamp(q)
            lt, tables = self.m_step(q)
            if abs(ll - prev) < tol:
                break
            prev = ll
        return lt, tables, q, it

    def run_joint(self, pi: np.ndarray, q: np.ndarray, max_iter: int, tol: float):
        """EM that learns the class balance with the LF parameters (a joint MAP fit).

        The balance is the M-step's mean posterior, smoothed by one pseudo-row per class (a
        Dirichlet(2) prior, so no class reaches zero). Coordinate ascent instead (balance with
        LF parameters fixed, then LF parameters under it) moves the balance a little per
        round: at 85/15 it had only reached 0.63/0.37 after 10 rounds.

        Returns:
            LF log-tables, group tables, posterior, class balance, iterations.
        """
        c = self.c
        pi = np.asarray(pi, float)
        fast = self._votes_em()
        if fast is not None:
            lt, q, pi, it = fast.run(None, q, max_iter, tol, learn_balance=True, pi=pi)
            return lt, [], q, pi, it
        prev = -np.inf
        lt, tables = self.m_step(q)
        it = 0
        for it in range(1, max_iter + 1):
            q, row_ll = _posterior(self.logits(np.log(pi), lt, tables))
            ll = float((self.n * row_ll).sum() / self.n.sum())
            q = self.clamp(q)
            pi = (self.n @ q + 1.0) / (self.n.sum() + c)
            lt, tables = self.m_step(q)
            if abs(ll - prev) < tol:
                break
            prev = ll
        return lt, tables, q, pi, it

    def run_truncated(
        self, pi: np.ndarray, q: np.ndarray, max_iter: int, tol: float, learn_balance: bool,
        posterior: bool = True,
    ):
        """EM of the votes of covered rows, the uncovered rows imputed by the model.

        The likelihood is that of a row's votes *given that some LF votes*: the last ``C``
        rows of this EM must be all-abstain rows held at classes ``0..C-1`` (gold labels),
        whose counts each iteration sets to the expected number of uncovered rows of each
        class, ``N_cov(y) * s(y) / (1 - s(y))`` with ``s(y) = P(no LF votes | y)`` (EM for
        truncated data). The tables are then ``P(vote | y)`` of the whole population and the
        balance its class balance, while the observed number of uncovered rows is not used
        (:func:`~tfsnorkel.labelmodel.fitting.fit_parameters` says why).

        Args:
            pi: ``[C]`` starting (or given) class balance.
            q: starting posterior of every row.
            max_iter: iteration cap.
            tol: stop when the truncated log-likelihood per covered row changes less.
            learn_balance: update the balance in each M-step (else keep ``pi``).
            posterior: return the ``[K, C]`` posterior (else `None` in its place, where the
                ``O(votes)`` iterations run: it is never built). Defaults to `True`.

        Returns:
            LF log-tables, group tables, posterior, class balance, iterations.
        """
        c = self.c
        k = len(self.n) - c
        pi = np.asarray(pi, float)
        fast = self._votes_em()
        if fast is not None:
            lt, q, pi, it = fast.run(
                None, q, max_iter, tol, learn_balance=learn_balance, truncated=True, pi=pi,
                posterior=posterior,
            )
            return lt, [], q, pi, it
        lt, tables = self.m_step(q)
        prev, it = -np.inf, 0
        for it in range(1, max_iter + 1):
            logits = self.logits(np.log(pi), lt, tables)
            silent = np.clip(np.exp(logits[k] - np.log(pi)), 0.0, 1.0 - 1e-9)  # s(y)
            n_cov = self.n[:k].sum()
            q, row_ll = _posterior(logits)
            ll = float(
                ((self.n[:k] * row_ll[:k]).sum() - n_cov * math.log(float(pi @ (1 - silent))))
                / n_cov
            )
            q = self.clamp(q)
            by_class = self.n[:k] @ q[:k]
            self.n[k:] = by_class * silent / (1 - silent)
            if learn_balance:
                pi = (self.n @ q + 1.0) / (self.n.sum() + c)
            lt, tables = self.m_step(q)
            if abs(ll - prev) < tol:
                break
            prev = ll
        return lt, tables, q, pi, it

    def posterior_tables(
        self, log_prior, lt, tables, rows: slice = slice(None)
    ) -> tuple[np.ndarray, CompactTables]:
        """Class balance and vote tables implied by the fitted posterior.

        ``P(vote = v | y)`` is the posterior-weighted frequency of each vote: the tables of a
        conditionally independent model that reproduce every LF's vote marginals exactly,
        which is what structure learning compares pairwise joints against. ``rows`` selects
        the rows they are taken over (default: all). Only the vote values that occur are
        counted (one column per unipolar LF) and the tables are a :class:`CompactTables`
        (``O(m * C)`` memory instead of ``O(m * C^2)``; ``.dense()`` gives ``[m, C, C + 1]``),
        which :func:`~tfsnorkel.labelmodel.structure.pair_scores` reads like the dense tables.
        """
        c, m = self.c, self.m
        used = occupied_columns(self.all_votes)
        lf_of = used // c
        votes_cnt = np.zeros((len(used), c))
        r_sum = np.zeros(c)
        for part in self.row_chunks(rows):
            r = softmax(self.logits(log_prior, lt, tables, part)) * self.n[part, None]
            votes_cnt += np.asarray(restrict_columns(self.all_votes[part], used).T @ r)
            r_sum += r.sum(0)
        per_lf = np.zeros((m, c))
        np.add.at(per_lf, lf_of, votes_cnt)  # [j, y] votes of LF j
        eps = 1e-9
        abstain = np.maximum(r_sum[None, :] - per_lf, 0.0)
        # The dense tables' normalizer: every one of the C + 1 cells holds its count + eps.
        denom = abstain + per_lf + (c + 1) * eps
        return r_sum / r_sum.sum(), CompactTables(
            abstain=(abstain + eps) / denom,
            columns=used,
            votes=(np.maximum(votes_cnt, 0.0) + eps) / denom[lf_of],
            floor=eps / denom,
        )


@dataclasses.dataclass
class CompactTables:
    """``[m, C, C + 1]`` vote tables stored as the cells that can differ from a floor.

    Attributes:
        abstain: ``[m, C]`` ``P(abstain | y)``.
        columns: ``[V]`` sorted vote columns ``j * C + v`` that hold a value of their own.
        votes: ``[V, C]`` ``P(vote = v | y)`` of those columns.
        floor: ``[m, C]`` ``P(vote = v | y)`` of every other vote value of LF ``j``.
    """

    abstain: np.ndarray
    columns: np.ndarray
    votes: np.ndarray
    floor: np.ndarray

    def vote_columns(self, columns: np.ndarray) -> np.ndarray:
        """``[len(columns), C]`` ``P(vote = v | y)`` of vote columns ``j * C + v``."""
        columns = np.asarray(columns, np.int64)
        c = self.floor.shape[1]
        at = np.minimum(np.searchsorted(self.columns, columns), max(len(self.columns) - 1, 0))
        found = (self.columns[at] == columns) if len(self.columns) else np.zeros(len(columns), bool)
        out = self.floor[columns // c].copy()
        out[found] = self.votes[at[found]]
        return out

    def dense(self) -> np.ndarray:
        """The ``[m, C, C + 1]`` array."""
        m, c = self.floor.shape
        t = np.repeat(self.floor[:, :, None], c + 1, axis=2)
        t[:, :, 0] = self.abstain
        t[self.columns // c, :, self.columns % c + 1] = self.votes
        return t


def _tie_false_positives(
    t: np.ndarray, cnt: np.ndarray, lf_classes: np.ndarray, single: np.ndarray
) -> None:
    """The detector form of a unipolar LF, in place: one firing rate for every class but its own.

    A unipolar LF of class ``k`` is a detector of ``k``: ``P(fire | y = k)`` and one
    false-positive rate ``P(fire | y != k)``, two parameters per LF as in the one-coin form,
    whatever the number of classes (with two classes this is the plain table). The rate is
    the MAP estimate of the pooled counts of the other classes.
    """
    j = np.flatnonzero((lf_classes >= 0) & single)
    if not len(j):
        return
    k = lf_classes[j]
    other = np.arange(t.shape[1])[None, :] != k[:, None]  # [J, C]
    fire = cnt[j, :, k + 1]  # [J, C]
    total = cnt[j].sum(2)
    rate = (fire * other).sum(1) / np.maximum((total * other).sum(1), 1e-300)
    t[j, :, k + 1] = np.where(other, rate[:, None], t[j, :, k + 1])
    t[j, :, 0] = np.maximum(1.0 - t[j, :, 1:].sum(2), 1e-12)


def _class_indicator(lf_classes: np.ndarray, cardinality: int) -> sp.csr_matrix:
    """``[m, C]`` sparse: 1 where LF ``j`` votes class ``k`` (``lf_classes[j] == k``)."""
    lf_classes = np.asarray(lf_classes)
    j = np.flatnonzero(lf_classes >= 0)
    return sp.csr_matrix(
        (np.ones(len(j)), (j, lf_classes[j])), shape=(len(lf_classes), cardinality)
    )


def covered_balance(em: ExactEM, lt: np.ndarray, tables: list[np.ndarray]) -> np.ndarray:
    """Smoothed mean posterior, under a uniform reference balance, of the rows with a vote."""
    c = em.c
    covered = em.covered
    if not covered.any():
        return np.full(c, 1.0 / c)
    total = np.zeros(c)
    for part in em.row_chunks():
        q = softmax(em.logits(np.full(c, -math.log(c)), lt, tables, part)) * em.n[part, None]
        total += q[covered[part]].sum(0)
    return (total + 1.0) / (total.sum() + c)
