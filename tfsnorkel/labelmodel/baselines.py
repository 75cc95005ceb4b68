"""Voting baselines: majority vote and weighted vote over the LFs that did not abstain.

Both return soft labels (the normalized, possibly weighted, vote counts; a row with no
vote gets the uniform distribution, or the given prior) and hard predictions through
:func:`tfsnorkel.labels.probs_to_preds` with an explicit tie policy (``"abstain"``,
``"random"`` with a seed, ``"prior"``).

Example:
    >>> L = np.array([[0, 0, 1], [1, -1, -1], [0, 1, -1], [-1, -1, -1]])
    >>> majority_vote(L, tie_break="abstain").tolist()
    [0, 1, -1, -1]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tfsnorkel.labels import TieBreak, check_label_matrix, probs_to_preds

__all__ = ["MajorityVoter", "WeightedVoter", "majority_vote", "weighted_vote"]


def _vote_probs(
    L: np.ndarray, cardinality: int, weights: np.ndarray, prior: np.ndarray | None
) -> np.ndarray:
    n, m = L.shape
    scores = np.zeros((n, cardinality))
    for j in range(m):
        voted = L[:, j] >= 0
        np.add.at(scores, (np.flatnonzero(voted), L[voted, j]), weights[j])
    total = scores.sum(axis=1, keepdims=True)
    fill = np.full(cardinality, 1.0 / cardinality) if prior is None else prior
    with np.errstate(invalid="ignore", divide="ignore"):
        probs = np.where(total > 0, scores / np.where(total > 0, total, 1.0), fill[None, :])
    return probs


def _check_cardinality(cardinality: int) -> int:
    if not isinstance(cardinality, (int, np.integer)) or cardinality < 2:
        raise ValueError(
            f"cardinality must be an integer >= 2. Received: cardinality={cardinality!r}"
        )
    return int(cardinality)


def _check_prior(prior: Sequence[float] | np.ndarray | None, cardinality: int) -> np.ndarray | None:
    if prior is None:
        return None
    p = np.asarray(prior, dtype=np.float64)
    if p.shape != (cardinality,) or not np.all(np.isfinite(p)) or np.any(p < 0) or p.sum() <= 0:
        raise ValueError(
            f"prior must be {cardinality} non-negative numbers. "
            f"Received: prior={np.asarray(prior).tolist()}"
        )
    return p / p.sum()


class WeightedVoter:
    """Weighted vote: each LF's vote counts with its weight; ties follow a policy.

    Args:
        cardinality: number of classes. Defaults to `2`.
        weights: one non-negative weight per LF. Defaults to `None` (all 1: majority vote).
        prior: class prior used for rows with no vote (soft labels) and for
            ``tie_break="prior"``. Defaults to `None` (uniform).

    Example:
        >>> WeightedVoter(weights=[3.0, 1.0, 1.0]).predict(np.array([[1, 0, 0]])).tolist()
        [1]
    """

    def __init__(
        self,
        cardinality: int = 2,
        weights: Sequence[float] | np.ndarray | None = None,
        *,
        prior: Sequence[float] | np.ndarray | None = None,
    ) -> None:
        self.cardinality = _check_cardinality(cardinality)
        self.weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        if self.weights is not None and (
            self.weights.ndim != 1
            or not np.all(np.isfinite(self.weights))
            or np.any(self.weights < 0)
        ):
            raise ValueError(
                "weights must be a 1-D array of finite non-negative numbers. "
                f"Received: weights={weights!r}"
            )
        self.prior = _check_prior(prior, self.cardinality)

    def _weights_for(self, L: np.ndarray) -> np.ndarray:
        if self.weights is None:
            return np.ones(L.shape[1])
        if len(self.weights) != L.shape[1]:
            raise ValueError(
                f"got {len(self.weights)} weights for a label matrix with {L.shape[1]} LF columns"
            )
        return self.weights

    def predict_proba(self, L: np.ndarray) -> np.ndarray:
        """Normalized (weighted) vote counts; rows with no vote get the prior.

        Args:
            L: ``[N, m]`` label matrix.

        Returns:
            ``[N, C]`` float64 probabilities, rows summing to 1.
        """
        L = check_label_matrix(L, cardinality=self.cardinality)
        return _vote_probs(L, self.cardinality, self._weights_for(L), self.prior)

    def predict(
        self, L: np.ndarray, tie_break: TieBreak = "random", *, seed: int | None = 0
    ) -> np.ndarray:
        """Hard (weighted) majority predictions.

        Args:
            L: ``[N, m]`` label matrix.
            tie_break: ``"abstain"``, ``"random"`` (seeded) or ``"prior"``. Defaults to `"random"`.
            seed: seed for random tie breaks. Defaults to `0`.

        Returns:
            ``[N]`` int32 predictions (``ABSTAIN`` for ties under ``"abstain"``).
        """
        return probs_to_preds(self.predict_proba(L), tie_break, seed=seed, prior=self.prior)


class MajorityVoter(WeightedVoter):
    """Majority vote over the LFs that did not abstain.

    Args:
        cardinality: number of classes. Defaults to `2`.
        prior: class prior for rows with no vote and for ``tie_break="prior"``.
            Defaults to `None` (uniform).

    Example:
        >>> MajorityVoter().predict(np.array([[1, 1, 0]])).tolist()
        [1]
    """

    def __init__(
        self, cardinality: int = 2, *, prior: Sequence[float] | np.ndarray | None = None
    ) -> None:
        super().__init__(cardinality, None, prior=prior)


def weighted_vote(
    L: np.ndarray,
    weights: Sequence[float] | np.ndarray,
    cardinality: int | None = None,
    *,
    tie_break: TieBreak = "random",
    seed: int | None = 0,
    prior: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Weighted-vote predictions in one call.

    Args:
        L: ``[N, m]`` label matrix.
        weights: one non-negative weight per LF.
        cardinality: number of classes. Defaults to `None` (``max(L) + 1``, at least 2).
        tie_break: ``"abstain"``, ``"random"`` or ``"prior"``. Defaults to `"random"`.
        seed: seed for random tie breaks. Defaults to `0`.
        prior: class prior for ``tie_break="prior"``. Defaults to `None` (uniform).

    Returns:
        ``[N]`` int32 predictions.

    Example:
        >>> weighted_vote(np.array([[0, 1, 1]]), [5.0, 1.0, 1.0]).tolist()
        [0]
    """
    L = check_label_matrix(L, cardinality=cardinality)
    if cardinality is None:
        cardinality = max(2, int(L.max(initial=-1)) + 1)
    return WeightedVoter(cardinality, weights, prior=prior).predict(L, tie_break, seed=seed)


def majority_vote(
    L: np.ndarray,
    cardinality: int | None = None,
    *,
    tie_break: TieBreak = "random",
    seed: int | None = 0,
    prior: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Majority-vote predictions in one call.

    Args:
        L: ``[N, m]`` label matrix.
        cardinality: number of classes. Defaults to `None` (``max(L) + 1``, at least 2).
        tie_break: ``"abstain"``, ``"random"`` or ``"prior"``. Defaults to `"random"`.
        seed: seed for random tie breaks. Defaults to `0`.
        prior: class prior for ``tie_break="prior"``. Defaults to `None` (uniform).

    Returns:
        ``[N]`` int32 predictions.

    Example:
        >>> majority_vote(np.array([[0, 1, 1], [2, -1, -1]]), cardinality=3).tolist()
        [1, 2]
    """
    L = check_label_matrix(L, cardinality=cardinality)
    return weighted_vote(
        L, np.ones(L.shape[1]), cardinality, tie_break=tie_break, seed=seed, prior=prior
    )
