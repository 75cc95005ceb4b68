"""EM in ``O(votes)`` per iteration: the exact EM of :mod:`~tfsnorkel.labelmodel.em` for the
forms whose every log-table column is *a constant plus one class*.

Two forms have that structure, and they are the ones of large LF sets:

* one-coin (``"independent"``): a vote for ``v`` is ``log(p a)`` under ``y = v`` and
  ``log(p (1 - a) / (C - 1))`` under every other class; an abstain is ``log(1 - p)``;
* class-conditional tables of *unipolar* LFs (each votes one class ``k``), in their detector
  form (one false-positive rate shared by the other classes): a vote is ``log r`` under
  ``k``, ``log f`` elsewhere; an abstain ``log(1 - r)`` / ``log(1 - f)``.

A row's logits are then ``const_i + b + D_i`` with ``b`` one ``[C]`` vector for every row and
``D_i`` non-zero only at the classes voted in the row (co-abstention included, whose terms
are per voted class). The posterior, its normalizer and the M-step's sufficient statistics
(the posterior at each vote's class, the class totals) follow from ``b`` and those entries
without forming a ``[K, C]`` array, so a million rows of a thousand LFs and a hundred classes
cost ``O(N * votes per row)`` per iteration, not ``O(N * C)`` (or ``O(N * m * C)``).

:class:`VotesEM` runs the same iterations as :class:`~tfsnorkel.labelmodel.em.ExactEM`
(``run``, ``run_joint``, ``run_truncated``), with the same MAP updates (Beta / Dirichlet
priors, the accuracy floor and its cap, clamped gold rows), and returns the same
log-tables (as :class:`~tfsnorkel.labelmodel.tables.VoteTables`, ``O(m * C)``) and posterior;
``tests/labelmodel/test_lm_scale.py`` checks them equal.
"""

from __future__ import annotations

import math

import numpy as np

from tfsnorkel.labelmodel.tables import VoteTables

__all__ = ["VotesEM", "applies"]

_EPS = 1e-6
_TINY = 1e-12


def _bincount(idx: np.ndarray, weights: np.ndarray | None = None,
              minlength: int = 0) -> np.ndarray:
    """``np.bincount`` that returns floats for weighted counts even with no entries.

    ``np.bincount`` returns int64 zeros for an empty index array, whatever the weights: a
    label matrix without a single vote would then fail in the in-place updates below.
    """
    out = np.bincount(idx, weights=weights, minlength=minlength)
    return out if weights is None else out.astype(np.float64, copy=False)


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """``np.unique`` of int64 keys by one sort (numpy's hash-based unique is slower here)."""
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if len(keys) else keys


def applies(em) -> bool:
    """Whether ``em`` (an :class:`~tfsnorkel.labelmodel.em.ExactEM`) has the structure above."""
    if em.groups:
        return False
    if em.abstain == "independent":
        return True
    return em.abstain == "class_conditional" and em.lf_classes is not None


class VotesEM:
    """The vote-entry form of one :class:`~tfsnorkel.labelmodel.em.ExactEM` (no groups).

    Args:
        em: the exact EM whose rows, counts, priors and clamped rows it shares.
    """

    def __init__(self, em) -> None:
        self.em = em
        c, m = em.c, em.m
        v = em.votes.tocoo()
        self.v_row = v.row.astype(np.int32)
        self.v_lf = (v.col // c).astype(np.int32)
        self.v_cls = (v.col % c).astype(np.int32)
        self.k = em.rows.shape[0]
        lfc = em.lf_classes
        self.lf_classes = None if lfc is None else np.asarray(lfc, np.int64)
        # The fixed pattern of (row, class) entries of D: every vote's class, the class of
        # every voted LF with one, and (co-abstention) every class voted in the row.
        vote_key = self.v_row.astype(np.int64) * c + self.v_cls
        keys = [vote_key]
        if self.lf_classes is not None:
            cls = self.lf_classes[self.v_lf]
            self.v_has = cls >= 0
            own_key = self.v_row.astype(np.int64) * c + np.maximum(cls, 0)
            keys.append(own_key[self.v_has])
        pattern = _sorted_unique(np.concatenate(keys))
        self.p_row = (pattern // c).astype(np.int32)
        self.p_cls = (pattern % c).astype(np.int32)
        self.pos_vote = np.searchsorted(pattern, vote_key).astype(np.int32)
        if self.lf_classes is not None:
            self.pos_own = np.searchsorted(pattern, own_key).astype(np.int32)
            # Classes voted per row: the unique (row, class) of voted LFs with a class.
            cv = _sorted_unique(own_key[self.v_has])
            self.cv_row, self.cv_cls = (cv // c).astype(np.int32), (cv % c).astype(np.int32)
            self.pos_cv = np.searchsorted(pattern, cv).astype(np.int32)
            del own_key
        n_pattern = len(pattern)
        del vote_key, keys, pattern
        starts = np.searchsorted(self.p_row, np.arange(self.k))
        self.p_start = starts
        self.p_has_entries = np.diff(np.append(starts, n_pattern)) > 0
        self.labelled = em.labelled if em.labelled is not None else np.zeros(0, np.int64)
        self.gold_cls = (
            em.gold.argmax(1) if em.labelled is not None and len(self.labelled) else np.zeros(0, int)
        )
        self.is_labelled = np.zeros(self.k, bool)
        self.is_labelled[self.labelled] = True
        self.m = m
        self.c = c
        self._prior_rows = None  # reductions of em.dirichlet_prior(), at the first m_step

    # ------------------------------------------------------------------ parameters
    def m_step(self, q_vote: np.ndarray, r_sum: np.ndarray) -> dict:
        """MAP parameters (as ExactEM.m_step) from the posterior at each vote and the class totals."""
        em, c, m = self.em, self.c, self.m
        w_vote = em.n[self.v_row] * q_vote  # n_i q_i[v] per vote
        if em.abstain == "independent":
            right = _bincount(self.v_lf, weights=w_vote, minlength=m)
            a0, b0 = em.acc_prior
            acc = np.clip((right + a0) / (em.total + a0 + b0), em.min_accuracy, 1 - _EPS)
            acc = np.clip(acc, _EPS, 1 - _EPS)
            prop = np.clip(em.coverage, _EPS, 1 - _EPS)
            wrong = np.log(prop * (1 - acc) / (c - 1))
            return {
                "form": "independent", "acc": acc, "prop": prop,
                "s": wrong, "d": np.log(prop * acc) - wrong,
                "alpha": np.log(1 - prop), "beta": np.zeros(m),
            }
        lfc = self.lf_classes
        has = lfc >= 0
        k = np.maximum(lfc, 0)
        if self._prior_rows is None:
            # The reductions of em.dirichlet_prior() ([m, C, C + 1], never formed here).
            self._prior_fire_own, self._prior_fire_all, self._prior_rows = (
                em.dirichlet_reductions(lfc)
            )
        # The posterior mass of each LF's own class at its votes ([j]) and in all rows.
        fire_own = _bincount(self.v_lf, weights=w_vote, minlength=m)  # q at v = k for unipolar
        fire_all = em.total  # sum_y over the votes of n_i q_i[y]
        rows_own = r_sum[k] + self._prior_rows[np.arange(m), k]
        rows_all = r_sum.sum() + self._prior_rows.sum(1)
        # Abstain cells: r_sum[y] - fire_y, clipped at 0 as in the dense M-step.
        r = (fire_own + self._prior_fire_own) / rows_own
        rate = (fire_all - fire_own + self._prior_fire_all - self._prior_fire_own) / np.maximum(
            rows_all - rows_own, 1e-300
        )
        lam = em.min_accuracy * (c - 1) / (1 - em.min_accuracy)
        rate = np.minimum(rate, r / lam)
        r = np.where(has, r, 0.0)
        rate = np.where(has, rate, 0.0)
        s = np.log(np.maximum(rate, _TINY))
        abst_other = np.log(np.maximum(1 - rate, _TINY))
        abst_own = np.log(np.maximum(1 - r, _TINY))
        return {
            "form": "detector", "r": r, "rate": rate,
            "s": s, "d": np.log(np.maximum(r, _TINY)) - s,
            "alpha": abst_other, "beta": np.where(has, abst_own - abst_other, 0.0),
        }

    def vote_tables(self, par: dict) -> VoteTables:
        """The fitted log-tables of the parameters in ``O(m * C)`` (``.dense()`` equals the
        ``[m, C, C + 1]`` tables ExactEM.m_step returns)."""
        if par["form"] == "independent":
            return VoteTables.one_coin(par["acc"], par["prop"], self.c)
        s, alpha = par["s"], par["alpha"]
        return VoteTables.detector(
            self.lf_classes, s + par["d"], s, self.c, alpha + par["beta"], alpha
        )

    # ------------------------------------------------------------------ E-step
    def e_step(self, log_prior: np.ndarray, par: dict) -> dict:
        """The posterior in entry form: ``b``, row maxima and normalizers, entry posteriors."""
        em, c = self.em, self.c
        alpha, beta, s, d = par["alpha"], par["beta"], par["s"], par["d"]
        # The dense part: the prior, every LF's abstain (beta at its class).
        b = log_prior + alpha.sum()
        if self.lf_classes is not None:
            b = b + _bincount(np.maximum(self.lf_classes, 0), weights=beta, minlength=c)
        # Row constants and entries of D.
        const = _bincount(self.v_row, weights=s[self.v_lf] - alpha[self.v_lf], minlength=self.k)
        vals = _bincount(self.pos_vote, weights=d[self.v_lf], minlength=len(self.p_row))
        if self.lf_classes is not None:
            vals -= _bincount(
                self.pos_own[self.v_has], weights=beta[self.v_lf[self.v_has]],
                minlength=len(self.p_row),
            )
            w = em.abstain_weight
            if w != 1.0:
                a_k = _bincount(np.maximum(self.lf_classes, 0),
                                  weights=np.where(self.lf_classes >= 0, alpha, 0.0), minlength=c)
                b_k = _bincount(np.maximum(self.lf_classes, 0), weights=beta, minlength=c)
                dw = w - 1.0
                const += dw * (
                    _bincount(self.cv_row, weights=a_k[self.cv_cls], minlength=self.k)
                    - _bincount(self.v_row[self.v_has], weights=alpha[self.v_lf[self.v_has]],
                                  minlength=self.k)
                )
                vals += dw * _bincount(self.pos_cv, weights=b_k[self.cv_cls],
                                         minlength=len(self.p_row))
                vals -= dw * _bincount(
                    self.pos_own[self.v_has], weights=beta[self.v_lf[self.v_has]],
                    minlength=len(self.p_row),
                )
        bmax = float(b.max())
        eb = np.exp(b - bmax)
        g = b[self.p_cls] + vals
        mx = np.full(self.k, bmax)
        if len(g):
            seg = np.maximum.reduceat(g, self.p_start[self.p_has_entries])
            mx[self.p_has_entries] = np.maximum(bmax, seg)
        shift = np.exp(bmax - mx)  # [K]
        corr = np.exp(b[self.p_cls] - mx[self.p_row]) * np.expm1(vals)
        z = eb.sum() * shift + _bincount(self.p_row, weights=corr, minlength=self.k)
        q_entry = np.exp(g - mx[self.p_row]) / z[self.p_row]
        return {"b": b, "eb": eb, "bmax": bmax, "mx": mx, "z": z, "q_entry": q_entry,
                "row_ll": const + mx + np.log(z)}

    def dense_rows(self, post: dict, rows: np.ndarray) -> np.ndarray:
        """``[len(rows), C]`` posterior of a few rows (before clamping)."""
        q = post["eb"][None, :] * (np.exp(post["bmax"] - post["mx"][rows]) / post["z"][rows])[:, None]
        where = np.full(self.k, -1)
        where[rows] = np.arange(len(rows))
        sel = np.flatnonzero(where[self.p_row] >= 0)
        q[where[self.p_row[sel]], self.p_cls[sel]] = post["q_entry"][sel]
        return q

    def dense(self, post: dict) -> np.ndarray:
        """The full ``[K, C]`` clamped posterior (returned once, at the end of a run)."""
        q = post["eb"][None, :] * (np.exp(post["bmax"] - post["mx"]) / post["z"])[:, None]
        q[self.p_row, self.p_cls] = post["q_entry"]
        return self.em.clamp(q, copy=False)

    def statistics(self, post: dict, weights: np.ndarray | None = None):
        """The clamped posterior at each vote's class and the class totals ``sum_i w_i q_i``."""
        em = self.em
        n = em.n if weights is None else weights
        q_vote = post["q_entry"][self.pos_vote].copy()
        base_entry = post["eb"][self.p_cls] * (
            np.exp(post["bmax"] - post["mx"][self.p_row]) / post["z"][self.p_row]
        )
        r_sum = post["eb"] * float(np.sum(n * np.exp(post["bmax"] - post["mx"]) / post["z"]))
        r_sum += _bincount(self.p_cls, weights=n[self.p_row] * (post["q_entry"] - base_entry),
                             minlength=self.c)
        if len(self.labelled):
            q_lab = self.dense_rows(post, self.labelled)
            onehot = np.eye(self.c)[self.gold_cls]
            r_sum += (n[self.labelled, None] * (onehot - q_lab)).sum(0)
            lab_vote = self.is_labelled[self.v_row]
            gold_of_row = np.full(self.k, -1)
            gold_of_row[self.labelled] = self.gold_cls
            q_vote[lab_vote] = (gold_of_row[self.v_row[lab_vote]] == self.v_cls[lab_vote]).astype(float)
        return q_vote, r_sum

    def from_dense(self, q: np.ndarray):
        """The same statistics from a dense posterior (a run's start)."""
        return q[self.v_row, self.v_cls], self.em.n @ q

    # ------------------------------------------------------------------ runs
    def run(self, log_prior, q, max_iter, tol, learn_balance=False, truncated=False, pi=None,
            posterior=True):
        """The iterations of ExactEM.run / run_joint / run_truncated (module doc).

        ``posterior=False``: the ``[K, C]`` posterior is not built (`None` is returned).
        """
        em, c = self.em, self.c
        par = self.m_step(*self.from_dense(q))
        prev, it, post = -np.inf, 0, None
        k_obs = self.k - (c if truncated else 0)
        for it in range(1, max_iter + 1):
            lp = np.log(pi) if pi is not None else log_prior
            post = self.e_step(lp, par)
            if truncated:
                # The imputed all-abstain rows (the last C) have no entries: logits = b.
                silent = np.clip(np.exp(post["b"] - np.log(pi)), 0.0, 1.0 - 1e-9)
                n_cov = em.n[:k_obs].sum()
                ll = float(((em.n[:k_obs] * post["row_ll"][:k_obs]).sum()
                            - n_cov * math.log(float(pi @ (1 - silent)))) / n_cov)
                w_obs = em.n.copy()
                w_obs[k_obs:] = 0.0
                _, by_class = self.statistics(post, w_obs)
                em.n[k_obs:] = by_class * silent / (1 - silent)
            else:
                ll = float((em.n * post["row_ll"]).sum() / em.n.sum())
            q_vote, r_sum = self.statistics(post)
            if learn_balance:
                pi = (r_sum + 1.0) / (em.n.sum() + c)
            par = self.m_step(q_vote, r_sum)
            if abs(ll - prev) < tol:
                break
            prev = ll
        return self.vote_tables(par), self.dense(post) if posterior else None, pi, it
