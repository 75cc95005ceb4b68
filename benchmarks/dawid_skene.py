"""Dawid-Skene EM with abstain as an outcome: a numpy peer for the label-model harness.

Model: ``y ~ Categorical(pi)``; given ``y``, LF ``j`` emits ``v`` in ``{abstain, 0..C-1}`` from
its own full table ``theta_j[y, v]`` (Dawid & Skene, 1979, with "abstain" as one more
answer, so an LF's silence is evidence as well). EM over the unique rows of the label matrix
(their counts are sufficient statistics), started from the majority-vote soft labels, with
add-``smoothing`` pseudo-counts on every table cell and on the prior (a MAP fit that keeps
every probability positive). Gold rows, when given, enter with their one-hot posterior fixed.

Example:
    >>> import numpy as np
    >>> L = np.array([[0, 0, -1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 50)
    >>> ds = DawidSkene(2).fit(L)
    >>> ds.predict_proba(L[:2]).argmax(1).tolist()
    [0, 1]
"""

from __future__ import annotations

import numpy as np

__all__ = ["DawidSkene"]


def _onehot_votes(rows: np.ndarray, c: int) -> np.ndarray:
    """``[K, m, C + 1]`` indicators of each row's outcome per LF (index 0 = abstain)."""
    k, m = rows.shape
    out = np.zeros((k, m, c + 1))
    out[np.arange(k)[:, None], np.arange(m)[None, :], rows + 1] = 1.0
    return out


class DawidSkene:
    """Dawid-Skene EM over ``{abstain, 0..C-1}`` outcomes.

    Args:
        cardinality: number of classes ``C``.
        smoothing: pseudo-count added to every table cell and class. Defaults to `0.01`.
        max_iter: EM iterations at most. Defaults to `500`.
        tol: stop when the mean log-likelihood per row improves by less. Defaults to `1e-7`.
    """

    def __init__(self, cardinality: int, smoothing: float = 0.01, max_iter: int = 500,
                 tol: float = 1e-7) -> None:
        if cardinality < 2:
            raise ValueError(f"cardinality must be >= 2. Received: cardinality={cardinality}")
        self.cardinality = int(cardinality)
        self.smoothing = float(smoothing)
        self.max_iter = int(max_iter)
        self.tol = float(tol)
        self.class_balance_: np.ndarray | None = None
        self.tables_: np.ndarray | None = None
        self.n_iter_ = 0

    def _log_joint(self, V: np.ndarray) -> np.ndarray:
        """``[K, C]`` ``log pi_y + sum_j log theta_j[y, v_j]``."""
        log_t = np.log(self.tables_)  # [m, C, C + 1]
        return np.log(self.class_balance_)[None, :] + np.einsum("kmv,myv->ky", V, log_t)

    def fit(self, L: np.ndarray, L_dev: np.ndarray | None = None,
            y_dev: np.ndarray | None = None) -> DawidSkene:
        """Fits by EM on ``L`` (and the gold rows ``L_dev``, ``y_dev`` when given).

        Args:
            L: ``[N, m]`` int votes, ``-1`` = abstain.
            L_dev: ``[N_dev, m]`` votes of gold rows. Defaults to `None`.
            y_dev: ``[N_dev]`` their gold labels. Defaults to `None`.

        Returns:
            ``self``.
        """
        c = self.cardinality
        L = np.asarray(L, dtype=np.int64)
        rows, counts = np.unique(L, axis=0, return_counts=True)
        V = _onehot_votes(rows, c)
        w = counts.astype(np.float64)
        # initial posterior: majority vote, uniform where no LF votes
        votes = V[:, :, 1:].sum(axis=1)
        tot = votes.sum(axis=1, keepdims=True)
        Q = np.where(tot > 0, votes / np.maximum(tot, 1), 1.0 / c)
        if L_dev is not None and len(L_dev):
            Vd = _onehot_votes(np.asarray(L_dev, dtype=np.int64), c)
            Qd = np.eye(c)[np.asarray(y_dev, dtype=np.int64)]
        else:
            Vd, Qd = np.zeros((0,) + V.shape[1:]), np.zeros((0, c))
        a = self.smoothing
        prev = -np.inf
        for it in range(1, self.max_iter + 1):
            # M step
            Wq = Q * w[:, None]
            pi = Wq.sum(0) + Qd.sum(0) + a
            self.class_balance_ = pi / pi.sum()
            t = np.einsum("ky,kmv->myv", Wq, V) + np.einsum("ky,kmv->myv", Qd, Vd) + a
            self.tables_ = t / t.sum(axis=2, keepdims=True)
            # E step
            lj = self._log_joint(V)
            top = lj.max(axis=1, keepdims=True)
            lse = top[:, 0] + np.log(np.exp(lj - top).sum(axis=1))
            Q = np.exp(lj - lse[:, None])
            ll = float((w * lse).sum() / w.sum())
            self.n_iter_ = it
            if ll - prev < self.tol:
                break
            prev = ll
        return self

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        """``[N, C]`` posterior ``P(y | votes)`` under the fitted tables.

        Args:
            L: ``[N, m]`` votes.

        Returns:
            Probabilities, rows summing to 1.
        """
        if self.tables_ is None:
            raise ValueError("fit the model first. Received: an unfitted DawidSkene")
        L = np.asarray(L, dtype=np.int64)
        rows, inverse = np.unique(L, axis=0, return_inverse=True)
        lj = self._log_joint(_onehot_votes(rows, self.cardinality))
        lj -= lj.max(axis=1, keepdims=True)
        p = np.exp(lj)
        p /= p.sum(axis=1, keepdims=True)
        return p[inverse.ravel()]
