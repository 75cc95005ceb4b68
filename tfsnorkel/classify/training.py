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

import contextlib
import functools
from collections.abc import Sequence
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf

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


def _vectorized(vectorize: keras.layers.Layer, x: tf.Tensor, *rest: tf.Tensor) -> tuple:
    return (vectorize(x), *rest)


def _dev_batch_size(n_dev: int, replicas: int) -> int:
    """Up to 256 dev rows per batch; under a strategy, a multiple of the replica count."""
    if n_dev < replicas:
        raise ValueError(
            f"the dev set needs at least one row per replica ({replicas}). Received: "
            f"{n_dev} dev rows"
        )
    return min(256, n_dev) // replicas * replicas


def _fit_once(
    texts: Features,
    P: np.ndarray,
    L: np.ndarray | None,
    dev: tf.data.Dataset | None,
    *,
    label_type: str,
    epochs: int,
    patience: int,
    batch_size: int,
    shuffle: bool,
    learning_rate: float,
    confidence_weights: WeightSpec,
    seed: int | None,
    verbose: int | str,
    callbacks: Sequence[keras.callbacks.Callback],
    strategy: tf.distribute.Strategy | None,
    classifier_kwargs: dict[str, Any],
) -> keras.Model:
    cardinality = P.shape[1]
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    if seed is not None:
        keras.utils.set_random_seed(seed)
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        clf = text_classifier(cardinality, adapt_data=texts, **classifier_kwargs)
        clf.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=NoiseAwareLoss())
        model = clf
        if replicas > 1:
            # Keras 3 reduces the first batch of ``fit``/``evaluate`` across replicas, which
            # fails for string tensors: the strings are vectorized in the input pipeline and
            # the rest of the model (sharing its weights with ``clf``) is trained.
            vectorize = clf.get_layer("vectorize")
            model = keras.Model(vectorize.output, clf.output, name=f"{clf.name}_head")
            model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=NoiseAwareLoss())
    train = soft_label_dataset(
        texts,
        P,
        L,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
        label_type=label_type,
        confidence_weights=confidence_weights,
        drop_remainder=replicas > 1,  # every batch splits evenly over the replicas
    )
    if replicas > 1:
        to_features = functools.partial(_vectorized, vectorize)
        train = train.map(to_features, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if dev is not None:
            dev = dev.map(to_features, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    stop = keras.callbacks.EarlyStopping(
        monitor="loss" if dev is None else "val_loss",
        patience=patience,
        restore_best_weights=True,
    )
    model.fit(
        train,
        validation_data=dev,
        epochs=epochs,
        verbose=verbose,
        shuffle=False,  # the dataset reshuffles itself every epoch
        callbacks=[stop, *callbacks],
    )
    if model is not clf:
        clf.history = model.history
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
    shuffle: bool = True,
    learning_rate: float = 1e-2,
    confidence_weights: WeightSpec = False,
    seed: int | None = 0,
    verbose: int | str = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    strategy: tf.distribute.Strategy | None = None,
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
        shuffle: reshuffle the training rows every epoch. Defaults to `True`.
        learning_rate: Adam's learning rate. Defaults to `1e-2` (a linear model over tf-idf
            n-grams learns fast; lower it for ``hidden_units`` or ``mode="embedding"``).
        confidence_weights: as in :func:`soft_label_dataset`. Defaults to `False`.
        seed: seeds Keras (weights, dropout) and the shuffling, for a reproducible model.
            Defaults to `0`; `None` leaves the global seeds alone.
        verbose: Keras's ``fit`` verbosity (``"auto"``, 0, 1 or 2). Defaults to `0`.
        callbacks: more Keras callbacks (e.g. ``TensorBoard``). Defaults to `()`.
        strategy: a ``tf.distribute`` strategy (e.g. ``MirroredStrategy`` over several
            GPUs) to build and train the model under. With more than one replica the texts
            are vectorized in the input pipeline (Keras 3 cannot split string batches over
            replicas), the training batches drop their remainder so each one splits evenly,
            and ``batch_size`` must be a multiple of the replica count. Defaults to `None`
            (the default strategy).
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
        raise ValueError(
            f"dev_metric must be one of {METRICS}. Received: dev_metric={dev_metric!r}"
        )
    P = _check_probs(soft_labels, None)
    batch_size = _positive_int(batch_size, "batch_size")
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"batch_size must be a multiple of the strategy's {replicas} replicas, so that "
            f"each batch splits evenly. Received: batch_size={batch_size}"
        )
    # Checked before any training: gold labels in range, as many as dev texts.
    dev = None
    if dev_texts is not None:
        dev_batch = _dev_batch_size(int(np.size(dev_y)), replicas)
        dev = gold_dataset(dev_texts, dev_y, P.shape[1], batch_size=dev_batch)
    kwargs = dict(
        epochs=_positive_int(epochs, "epochs"),
        patience=_positive_int(patience, "patience"),
        batch_size=batch_size,
        shuffle=bool(shuffle),
        learning_rate=float(learning_rate),
        confidence_weights=confidence_weights,
        seed=seed,
        verbose=verbose,
        callbacks=callbacks,
        strategy=strategy,
        classifier_kwargs=classifier_kwargs,
    )
    if label_type != "auto":
        return _fit_once(texts, P, L, dev, label_type=label_type, **kwargs)
    best, best_score = None, -np.inf
    for kind in ("soft", "hard"):
        clf = _fit_once(texts, P, L, dev, label_type=kind, **kwargs)
        score = metric_score(
            dev_y, predict_proba(clf, dev_texts), dev_metric, cardinality=P.shape[1]
        )
        if score > best_score:
            best, best_score = clf, score
    return best
