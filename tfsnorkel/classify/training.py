"""The classifier stage in one call: a text classifier trained on soft labels, early-stopped on gold.

:func:`fit_text_classifier` is the documented recipe of :mod:`tfsnorkel.classify.models`
(``text_classifier`` + ``NoiseAwareLoss`` + ``soft_label_dataset`` + Keras's ``EarlyStopping``
on a small gold dev set) as a function, so that scripts, the command line and notebooks do
not each copy it. Everything it builds is stock Keras: the returned model is a plain
``keras.Model`` that ``predict_proba``, ``export_pipeline`` and ``model.save`` take as is.

Example:
    >>> import numpy as np
    >>> texts = np.array(["win cash now", "see you soon", "free prize", "lunch at noon"] * 8)
    >>> P = np.array([[0.1, 0.9], [0.8, 0.2], [0.2, 0.8], [0.9, 0.1]] * 8)
    >>> clf = fit_text_classifier(texts, P)
    >>> predict_proba(clf, ["free cash"]).argmax(1).tolist()
    [1]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import keras
import numpy as np

from tfsnorkel.classify.data import (
    Features,
    WeightSpec,
    _check_probs,
    gold_dataset,
    soft_label_dataset,
)
from tfsnorkel.classify.losses import NoiseAwareLoss
from tfsnorkel.classify.models import predict_proba, text_classifier
from tfsnorkel.metrics import METRICS, metric_score

__all__ = ["fit_text_classifier"]

_LABEL_TYPES = ("soft", "hard", "auto")


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _fit_once(
    texts: Features,
    P: np.ndarray,
    L: np.ndarray | None,
    validation: Any,
    *,
    label_type: str,
    epochs: int,
    patience: int,
    batch_size: int,
    learning_rate: float,
    confidence_weights: WeightSpec,
    seed: int | None,
    verbose: int | str,
    callbacks: Sequence[keras.callbacks.Callback],
    classifier_kwargs: dict[str, Any],
) -> keras.Model:
    cardinality = P.shape[1]
    if seed is not None:
        keras.utils.set_random_seed(seed)
    clf = text_classifier(cardinality, adapt_data=texts, **classifier_kwargs)
    clf.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=NoiseAwareLoss())
    train = soft_label_dataset(
        texts,
        P,
        L,
        batch_size=batch_size,
        seed=seed,
        label_type=label_type,
        confidence_weights=confidence_weights,
    )
    stop = keras.callbacks.EarlyStopping(
        monitor="loss" if validation is None else "val_loss",
        patience=patience,
        restore_best_weights=True,
    )
    clf.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        verbose=verbose,
        shuffle=False,  # the dataset reshuffles itself every epoch
        callbacks=[stop, *callbacks],
    )
    return clf


def fit_text_classifier(
    texts: Features,
    soft_labels: np.ndarray | Sequence[Sequence[float]],
    L: np.ndarray | None = None,
    *,
    dev_texts: Features | None = None,
    dev_y: np.ndarray | Sequence[int] | None = None,
    label_type: Literal["soft", "hard", "auto"] = "soft",
    dev_metric: str = "accuracy",
    epochs: int = 40,
    patience: int = 3,
    batch_size: int = 64,
    learning_rate: float = 1e-2,
    confidence_weights: WeightSpec = False,
    seed: int | None = 0,
    verbose: int | str = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    **classifier_kwargs: Any,
) -> keras.Model:
    """Trains :func:`text_classifier` on soft labels with ``NoiseAwareLoss`` and early stopping.

    With a gold dev set (``dev_texts``, ``dev_y``), training stops when the dev loss (the same
    noise-aware loss against one-hot gold labels) has not improved for ``patience`` epochs and
    the best epoch's weights are restored; without one, it stops when the training loss stops
    improving. ``label_type="auto"`` trains on the soft labels and on their argmax and keeps
    the model that scores higher on the dev set (``dev_metric``; soft on a tie): soft labels
    are the better targets when the label model is calibrated, hard ones when it is not.

    Args:
        texts: ``[N]`` training texts (array, Series or list of strings).
        soft_labels: ``[N, C]`` soft labels (rows sum to 1), e.g. from
            ``LabelModel.predict_proba``.
        L: ``[N, m]`` label matrix; rows no LF covers are not trained on. Defaults to `None`
            (train on every row).
        dev_texts: gold dev set texts, for early stopping and ``label_type="auto"``. Defaults
            to `None`.
        dev_y: the dev set's gold class indices. Defaults to `None`.
        label_type: ``"soft"``, ``"hard"`` (see :func:`soft_label_dataset`) or ``"auto"``
            (needs a dev set). Defaults to `"soft"`.
        dev_metric: what ``"auto"`` compares on the dev set, one of
            :data:`tfsnorkel.metrics.METRICS`. Defaults to `"accuracy"`.
        epochs: most epochs to train. Defaults to `40`.
        patience: epochs without improvement before stopping. Defaults to `3`.
        batch_size: training batch size. Defaults to `64`.
        learning_rate: Adam's learning rate. Defaults to `1e-2` (a linear model over tf-idf
            n-grams learns fast; lower it for ``hidden_units`` or ``mode="embedding"``).
        confidence_weights: as in :func:`soft_label_dataset`. Defaults to `False`.
        seed: seeds Keras (weights, dropout) and the shuffling, for a reproducible model.
            Defaults to `0`; `None` leaves the global seeds alone.
        verbose: Keras's ``fit`` verbosity (``"auto"``, 0, 1 or 2). Defaults to `0`.
        callbacks: more Keras callbacks (e.g. ``TensorBoard``). Defaults to `()`.
        **classifier_kwargs: passed to :func:`text_classifier` (``mode``, ``ngrams``,
            ``max_tokens``, ``hidden_units``, ...).

    Returns:
        The trained, compiled ``keras.Model`` (raw strings to logits). ``model.history`` is
        Keras's ``History`` of the kept run (``history.history["val_loss"]`` with a dev set).

    Raises:
        ValueError: only one of ``dev_texts`` / ``dev_y``; ``label_type="auto"`` without a
            dev set; bad ``epochs`` / ``patience`` / ``batch_size`` / ``label_type``; and
            every error of :func:`soft_label_dataset` and :func:`gold_dataset` (bad soft
            labels, lengths that differ, gold labels out of range).

    Example:
        >>> import numpy as np
        >>> texts = np.array(["win cash", "hi mum", "cash prize", "see you"] * 8)
        >>> P = np.array([[0.2, 0.8], [0.9, 0.1], [0.1, 0.9], [0.7, 0.3]] * 8)
        >>> clf = fit_text_classifier(texts, P, dev_texts=np.array(["win", "mum"]),
        ...                           dev_y=[1, 0], label_type="auto")
        >>> predict_proba(clf, ["prize"]).shape
        (1, 2)
    """
    if label_type not in _LABEL_TYPES:
        raise ValueError(
            f"label_type must be one of {_LABEL_TYPES}. Received: label_type={label_type!r}"
        )
    if (dev_texts is None) != (dev_y is None):
        raise ValueError(
            "give both dev_texts and dev_y (the gold dev set) or neither. Received: "
            f"dev_texts={'None' if dev_texts is None else 'given'}, "
            f"dev_y={'None' if dev_y is None else 'given'}"
        )
    if label_type == "auto" and dev_texts is None:
        raise ValueError(
            "label_type='auto' picks soft or hard labels on a gold dev set: give dev_texts "
            "and dev_y. Received: dev_texts=None"
        )
    if dev_metric not in METRICS:
        raise ValueError(f"dev_metric must be one of {METRICS}. Received: dev_metric={dev_metric!r}")
    P = _check_probs(soft_labels, None)
    # Checked before any training: gold labels in range, as many as dev texts.
    dev = None if dev_texts is None else gold_dataset(dev_texts, dev_y, P.shape[1])
    kwargs = dict(
        epochs=_positive_int(epochs, "epochs"),
        patience=_positive_int(patience, "patience"),
        batch_size=_positive_int(batch_size, "batch_size"),
        learning_rate=float(learning_rate),
        confidence_weights=confidence_weights,
        seed=seed,
        verbose=verbose,
        callbacks=callbacks,
        classifier_kwargs=classifier_kwargs,
    )
    if label_type != "auto":
        return _fit_once(texts, P, L, dev, label_type=label_type, **kwargs)
    best, best_score = None, -np.inf
    for kind in ("soft", "hard"):
        clf = _fit_once(texts, P, L, dev, label_type=kind, **kwargs)
        score = metric_score(dev_y, predict_proba(clf, dev_texts), dev_metric,
                             cardinality=P.shape[1])
        if score > best_score:
            best, best_score = clf, score
    return best
