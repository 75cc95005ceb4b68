"""Self-training: the classifier's confident predictions become targets in further rounds.

The label model's soft labels only say something about rows some LF votes on; on the rest it
can only return the class prior. Self-training lets the classifier, which generalizes from
the words of the covered rows, label those rows itself:

1. **Round 0** is the plain recipe (:func:`tfsnorkel.fit_text_classifier`): the classifier
   trains on the covered rows' soft labels ``P``, early-stopped on the gold dev split.
2. **Each further round** takes the kept model's probabilities ``Q`` on every training row
   and combines them with the soft labels as a prior, ``R ∝ P ⊙ Q`` (``targets="product"``;
   on an uncovered row ``P`` is the class prior). Rows where ``max R >= threshold`` get the
   one-hot ``argmax R`` as target (uncovered rows join the training set); every other
   covered row keeps its soft label ``P``. The covered rows' soft-label term stays in the
   loss in every round (weight ``prior_weight``): the regularizer that keeps the student
   from drifting away from the label model. ``targets="anchor"`` relabels only uncovered
   rows (covered rows always keep ``P``). A fresh model (same initial weights) trains on the
   new targets, with the same class weights and the round-0 choice of soft or hard targets
   for the rows without a pseudo-label.
3. The threshold is chosen on the gold dev split among ``thresholds`` in round 1; a round is
   kept only when it scores higher on the dev split than the best so far, and the rounds
   stop at the first one that does not (or after ``rounds``). Test data is never looked at.

With no gold dev set there is nothing to choose or stop on, so self-training needs one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from tfsnorkel.classify.training import _Run, _Trainer

__all__ = ["SelfTraining", "self_training_targets"]

_TARGETS = ("product", "anchor")


@dataclass(frozen=True)
class SelfTraining:
    """Settings of confidence-thresholded self-training (see :mod:`tfsnorkel.classify.selftrain`).

    Args:
        thresholds: candidate confidence thresholds on ``max R``; the one that scores highest
            on the gold dev split in round 1 is used in every round. Defaults to
            `(0.9, 0.7)`.
        rounds: most self-training rounds after the plain fit. Defaults to `2`.
        targets: ``"product"`` (every row can be relabeled by ``R ∝ P ⊙ Q``) or
            ``"anchor"`` (only rows no LF covers get pseudo-labels). Defaults to
            `"product"`.
        prior_weight: weight of the covered rows' soft-label terms (the regularizer towards
            the label model). Defaults to `1.0`.
        pseudo_weight: weight of a pseudo-labeled row. Defaults to `1.0`.

    Example:
        >>> SelfTraining(thresholds=(0.8,), rounds=1).rounds
        1
    """

    thresholds: Sequence[float] = (0.9, 0.7)
    rounds: int = 2
    targets: Literal["product", "anchor"] = "product"
    prior_weight: float = 1.0
    pseudo_weight: float = 1.0

    def __post_init__(self) -> None:
        ths = tuple(self.thresholds)
        if not ths or any(not 0.0 <= float(t) <= 1.0 for t in ths):
            raise ValueError(
                "thresholds must be a non-empty sequence of numbers in [0, 1]. "
                f"Received: thresholds={self.thresholds!r}"
            )
        object.__setattr__(self, "thresholds", tuple(float(t) for t in ths))
        if isinstance(self.rounds, bool) or not isinstance(self.rounds, (int, np.integer)) or (
            self.rounds < 1
        ):
            raise ValueError(f"rounds must be a positive integer. Received: rounds={self.rounds!r}")
        if self.targets not in _TARGETS:
            raise ValueError(
                f"targets must be one of {_TARGETS}. Received: targets={self.targets!r}"
            )
        for name in ("prior_weight", "pseudo_weight"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be finite and >= 0. Received: {name}={value!r}")


def self_training_targets(
    P: np.ndarray,
    Q: np.ndarray,
    covered: np.ndarray,
    threshold: float,
    targets: Literal["product", "anchor"] = "product",
) -> tuple[np.ndarray, np.ndarray]:
    """One round's targets: ``(targets [N, C], pseudo [N] bool)`` from soft labels and predictions.

    Args:
        P: ``[N, C]`` label-model soft labels (the class prior on rows no LF covers).
        Q: ``[N, C]`` the classifier's probabilities.
        covered: ``[N]`` bool, rows some LF votes on.
        threshold: rows with ``max R >= threshold`` get the one-hot ``argmax R``.
        targets: ``"product"`` (``R ∝ P ⊙ Q`` on every row) or ``"anchor"`` (``R = Q``, and
            only on uncovered rows). Defaults to `"product"`.

    Returns:
        The targets (covered rows without a pseudo-label keep ``P``; uncovered rows without
        one keep ``P`` too, but are not trained on) and which rows were pseudo-labeled.

    Example:
        >>> P = np.array([[0.6, 0.4], [0.7, 0.3]]); Q = np.array([[0.05, 0.95], [0.2, 0.8]])
        >>> T, pseudo = self_training_targets(P, Q, np.array([True, False]), 0.6)
        >>> T.tolist(), pseudo.tolist()
        ([[0.0, 1.0], [0.0, 1.0]], [True, True])
    """
    P = np.asarray(P, np.float64)
    Q = np.asarray(Q, np.float64)
    covered = np.asarray(covered, bool)
    if targets == "product":
        R = P * Q
        R = R / np.maximum(R.sum(axis=1, keepdims=True), 1e-300)
        candidates = np.ones(len(P), bool)
    else:
        R = Q
        candidates = ~covered
    pseudo = candidates & (R.max(axis=1) >= threshold)
    T = P.copy()
    T[pseudo] = np.eye(P.shape[1])[R[pseudo].argmax(axis=1)]
    return T, pseudo


def run_self_training(
    trainer: _Trainer,
    P: np.ndarray,
    covered_idx: np.ndarray,
    weights: np.ndarray | None,
    class_w: np.ndarray | None,
    teacher: _Run,
    config: SelfTraining,
) -> tuple[_Run, list[dict[str, float]]]:
    """Rounds of self-training from ``teacher``; returns the best run on dev and a log."""
    n = len(P)
    covered = np.zeros(n, bool)
    covered[covered_idx] = True
    base_w = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    best = teacher
    log = [{"round": 0, "threshold": float("nan"), "pseudo": 0, "dev": teacher.dev_score}]
    threshold: float | None = None
    for r in range(1, int(config.rounds) + 1):
        trainer.model.set_weights(best.weights)
        Q = trainer.train_proba()
        tried = config.thresholds if threshold is None else (threshold,)
        round_best: tuple[_Run, float, int] | None = None
        for th in tried:
            T, pseudo = self_training_targets(P, Q, covered, th, config.targets)
            keep = np.flatnonzero(covered | pseudo)
            w = base_w * np.where(pseudo, config.pseudo_weight, config.prior_weight)
            if class_w is not None:
                # pseudo-labeled rows weigh by their new class; others keep their weights
                w = np.where(pseudo, config.pseudo_weight * (T @ class_w), w)
            run = trainer.run(T, keep, w, teacher.label_type)
            log.append({"round": r, "threshold": th, "pseudo": int(pseudo.sum()),
                        "dev": run.dev_score})
            if round_best is None or run.dev_score > round_best[0].dev_score:
                round_best = (run, th, int(pseudo.sum()))
        assert round_best is not None
        if round_best[0].dev_score <= best.dev_score:
            break
        best, threshold = round_best[0], round_best[1]
    return best, log
