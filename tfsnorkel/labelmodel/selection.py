"""Choosing among label-model variants with a gold dev set.

The label model has modelling choices that no single setting gets right on every LF set
(:mod:`~tfsnorkel.labelmodel.em`): whether an abstain is evidence (``abstain_model``), and how
much an LF's abstain counts where another LF of its class votes (``co_abstain_weight``). When
``fit`` gets a gold dev set, it makes these choices from it, as WRENCH allows model selection
on its valid split:

* the candidates are every combination of the choices that are left open (``"auto"``);
* each is scored by **2-fold cross-validation over the dev rows**: fitted on the unlabeled
  matrix with one half of the dev rows (their class frequencies as the balance, their rows
  anchored at their gold labels), it predicts the other half; the score is the mean
  negative log-likelihood of the gold labels (a proper scoring rule, so calibration counts
  as well as accuracy), summed over both folds;
* the candidate with the lowest score wins (ties: the earlier candidate in the table), and
  is refitted with the whole dev set.

The table of candidates and scores is kept as ``LabelModel.selection_``.

Example:
    >>> import numpy as np
    >>> from tfsnorkel.labelmodel import LabelStats, synthetic_label_matrix
    >>> from tfsnorkel.labelmodel.fitting import FitSettings
    >>> d = synthetic_label_matrix(4000, num_lfs=5, seed=0)
    >>> table = score_candidates(
    ...     LabelStats.from_matrix(d.L[:3000], 2),
    ...     candidate_settings(FitSettings(cardinality=2), ["independent"], [0.5]),
    ...     d.L[3000:3400], d.y[3000:3400], predict=lambda f, s, L: np.full((len(L), 2), 0.5))
    >>> list(table.columns)
    ['abstain_model', 'co_abstain_weight', 'dev_log_loss', 'dev_accuracy']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from tfsnorkel.labelmodel.fitting import FitSettings, FittedParameters, fit_parameters
from tfsnorkel.labelmodel.stats import LabelStats

__all__ = ["candidate_settings", "score_candidates"]

#: The values tried for a choice left to the data.
ABSTAIN_MODELS = ("independent", "class_conditional")
CO_ABSTAIN_WEIGHTS = (0.0, 0.5, 1.0)
_FOLDS = 2


def candidate_settings(
    base: FitSettings, abstain_models: Sequence[str], co_abstain_weights: Sequence[float]
) -> list[FitSettings]:
    """Every combination of the open choices (co-abstention only matters with class-conditional).

    Args:
        base: the settings the user fixed.
        abstain_models: the abstain forms to try.
        co_abstain_weights: the co-abstention weights to try with the class-conditional form.

    Returns:
        One :class:`FitSettings` per candidate, in a fixed order.
    """
    out = []
    for form in abstain_models:
        weights = co_abstain_weights if form == "class_conditional" else [base.co_abstain_weight]
        for w in weights:
            out.append(dataclasses.replace(base, abstain_model=form, co_abstain_weight=float(w)))
    return out


def score_candidates(
    stats: LabelStats,
    candidates: Sequence[FitSettings],
    L_dev: np.ndarray,
    y_dev: np.ndarray,
    predict: Callable[[FittedParameters, FitSettings, np.ndarray], np.ndarray],
) -> pd.DataFrame:
    """Cross-validated dev scores of each candidate (module doc).

    Args:
        stats: unique-row statistics of the unlabeled label matrix.
        candidates: the settings to compare.
        L_dev: ``[n_dev, m]`` validated dev votes.
        y_dev: ``[n_dev]`` gold class indices.
        predict: ``(fitted, settings, L) -> [N, C]`` soft labels of fitted parameters
            (the layer's ``call``).

    Returns:
        A DataFrame, one row per candidate in order: ``abstain_model``, ``co_abstain_weight``,
        ``dev_log_loss`` (mean over the dev rows) and ``dev_accuracy``.
    """
    n = len(y_dev)
    rng = np.random.default_rng(0)
    fold = rng.permutation(n) % _FOLDS
    records = []
    for s in candidates:
        nll, right = 0.0, 0
        for k in range(_FOLDS):
            train, test = fold != k, fold == k
            if not test.any():
                continue
            if train.any():
                fitted = fit_parameters(stats, s, L_dev[train], y_dev[train])
            else:
                fitted = fit_parameters(stats, s)
            p = predict(fitted, s, L_dev[test])
            py = p[np.arange(test.sum()), y_dev[test]]
            nll += float(-np.log(np.maximum(py, 1e-6)).sum())
            right += int((p.argmax(1) == y_dev[test]).sum())
        records.append(
            {
                "abstain_model": s.abstain_model,
                "co_abstain_weight": s.co_abstain_weight,
                "dev_log_loss": nll / n,
                "dev_accuracy": right / n,
            }
        )
    return pd.DataFrame.from_records(records)
