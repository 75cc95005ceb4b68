"""Multi-label classifiers: per-class sigmoid outputs trained on independent soft labels.

A :class:`~tfsnorkel.labelmodel.MultiLabelModel` gives each row an ``[C]`` vector of
independent probabilities that each class is present (not summing to 1). The classifier
stage mirrors that: :func:`multilabel_text_classifier` is :func:`~tfsnorkel.text_classifier`
with ``C`` logits, one per class, read through a sigmoid; the noise-aware loss
(:func:`multilabel_noise_aware_loss`, :class:`MultiLabelNoiseAwareLoss`) is the per-class
sigmoid cross-entropy against the soft targets (``tf.nn.sigmoid_cross_entropy_with_logits``),
averaged over classes, so a class the label model is unsure about (``p`` near 0.5) pulls its
logit only towards uncertainty; :func:`export_multilabel` writes a SavedModel that serves the
``[N, C]`` probabilities from raw text, loadable by plain TensorFlow.

Example:
    >>> import numpy as np
    >>> clf = multilabel_text_classifier(2, adapt_data=["late fee", "wrong report"])
    >>> clf.compile(optimizer="adam", loss=MultiLabelNoiseAwareLoss())
    >>> multilabel_predict_proba(clf, ["late fee"]).shape
    (1, 2)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from tfsnorkel.classify.models import _strings, text_classifier

__all__ = [
    "MultiLabelNoiseAwareLoss",
    "export_multilabel",
    "multilabel_dataset",
    "multilabel_noise_aware_loss",
    "multilabel_predict_proba",
    "multilabel_text_classifier",
]

_EPS = 1e-7


def multilabel_noise_aware_loss(
    y_true: tf.Tensor, y_pred: tf.Tensor, from_logits: bool = True
) -> tf.Tensor:
    """Per-example mean over classes of the sigmoid cross-entropy against soft targets.

    Args:
        y_true: ``[batch, C]`` soft targets ``P(class present)`` in ``[0, 1]`` (independent
            columns; 0/1 gold labels work too).
        y_pred: ``[batch, C]`` logits (or probabilities when ``from_logits=False``, clipped
            to ``[1e-7, 1 - 1e-7]``).
        from_logits: whether ``y_pred`` holds logits. Defaults to `True`.

    Returns:
        ``[batch]`` losses.

    Raises:
        ValueError: ``y_true`` and ``y_pred`` are not both ``[batch, C]`` with the same ``C``.

    Example:
        >>> loss = multilabel_noise_aware_loss(np.array([[0.5, 1.0]]), np.array([[0.0, 0.0]]))
        >>> round(float(loss[0]), 4)  # log(2) for both classes
        0.6931
    """
    with tf.name_scope("multilabel_noise_aware_loss"):
        y_pred = tf.convert_to_tensor(y_pred)
        if not y_pred.dtype.is_floating:
            y_pred = tf.cast(y_pred, tf.float32)
        y_true = tf.cast(tf.convert_to_tensor(y_true), y_pred.dtype)
        if y_pred.shape.rank != 2 or y_true.shape.rank != 2 or (
            y_pred.shape[-1] is not None
            and y_true.shape[-1] is not None
            and y_pred.shape[-1] != y_true.shape[-1]
        ):
            raise ValueError(
                "multilabel_noise_aware_loss expects y_true and y_pred of shape [batch, C] with "
                f"the same C. Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
            )
        logits = y_pred
        if not from_logits:
            p = tf.clip_by_value(y_pred, _EPS, 1.0 - _EPS)
            logits = tf.math.log(p) - tf.math.log1p(-p)
        per_class = tf.nn.sigmoid_cross_entropy_with_logits(labels=y_true, logits=logits)
        return tf.reduce_mean(per_class, axis=-1)


@keras.saving.register_keras_serializable(package="tfsnorkel")
class MultiLabelNoiseAwareLoss(keras.losses.Loss):
    """Keras loss for multi-label soft targets: per-class sigmoid CE, mean over classes.

    A thin wrapper around :func:`multilabel_noise_aware_loss`; the base class applies
    ``reduction`` and ``sample_weight``.

    Args:
        from_logits: whether the model outputs logits. Defaults to `True`.
        reduction: Keras reduction. Defaults to `"sum_over_batch_size"`.
        name: loss name. Defaults to `"multilabel_noise_aware_loss"`.
        dtype: loss computation dtype. Defaults to `None`.

    Example:
        >>> loss = MultiLabelNoiseAwareLoss()
        >>> round(float(loss(np.array([[1.0, 0.0]]), np.array([[0.0, 0.0]]))), 4)
        0.6931
    """

    def __init__(
        self,
        from_logits: bool = True,
        reduction: str = "sum_over_batch_size",
        name: str = "multilabel_noise_aware_loss",
        dtype: Any = None,
    ) -> None:
        if not isinstance(from_logits, bool):
            raise TypeError(f"from_logits must be a bool. Received: from_logits={from_logits!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        """Per-example losses ``[batch]``."""
        return multilabel_noise_aware_loss(y_true, y_pred, from_logits=self.from_logits)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, for ``from_config``."""
        return {**super().get_config(), "from_logits": self.from_logits}


def multilabel_text_classifier(
    num_classes: int, *, name: str = "multilabel_text_classifier", **kwargs: Any
) -> keras.Model:
    """A :func:`~tfsnorkel.text_classifier` with one logit per class (read through a sigmoid).

    Args:
        num_classes: number of classes ``C`` (at least 2).
        name: model name. Defaults to `"multilabel_text_classifier"`.
        **kwargs: :func:`~tfsnorkel.text_classifier`'s options (``adapt_data``, ``ngrams``,
            ``mode``, ``hidden_units``, ``l2``, ``char_ngrams``, ``unit_norm``, ...).

    Returns:
        An uncompiled ``keras.Model`` from raw strings ``[batch]`` (input ``"text"``) to
        ``[batch, C]`` logits (output layer ``"logits"``). Compile it with
        :class:`MultiLabelNoiseAwareLoss`; :func:`multilabel_predict_proba` gives
        probabilities.

    Raises:
        ValueError: ``num_classes`` below 2, or bad :func:`~tfsnorkel.text_classifier` options.

    Example:
        >>> clf = multilabel_text_classifier(3, adapt_data=["a b", "c"])
        >>> clf(tf.constant(["a", "c"])).shape
        TensorShape([2, 3])
    """
    if (
        not isinstance(num_classes, (int, np.integer))
        or isinstance(num_classes, bool)
        or num_classes < 2
    ):
        raise ValueError(
            "num_classes must be an integer >= 2 (one class present or absent is a binary "
            f"task: use text_classifier(2)). Received: num_classes={num_classes!r}"
        )
    c = int(num_classes)
    if c > 2:
        return text_classifier(c, name=name, **kwargs)
    # text_classifier(2) has one logit (binary softmax-free); two classes need two.
    base = text_classifier(3, name=name, **kwargs)
    l2 = float(kwargs.get("l2", 0.0))
    head = base.get_layer("logits")
    out = keras.layers.Dense(
        c, kernel_regularizer=keras.regularizers.L2(l2) if l2 else None, name="logits"
    )(head.input)
    return keras.Model(base.inputs, out, name=name)


def multilabel_predict_proba(
    model: keras.Model, x: Any, *, batch_size: int = 256, from_logits: bool = True
) -> np.ndarray:
    """``[N, C]`` float32 probabilities that each class is present (sigmoid of the logits).

    Args:
        model: a model with ``[batch, C]`` outputs (e.g. :func:`multilabel_text_classifier`).
        x: inputs; a 1-D array/Series/list of strings is passed as a string tensor.
        batch_size: prediction batch size. Defaults to `256`.
        from_logits: whether the model outputs logits. Defaults to `True`.

    Returns:
        ``[N, C]`` float32.
    """
    if isinstance(x, (pd.Series, pd.Index, list, tuple, np.ndarray)):
        x = tf.constant(_strings(np.asarray(x, dtype=object), "x"), dtype=tf.string)
    out = np.asarray(model.predict(x, batch_size=batch_size, verbose=0), dtype=np.float32)
    return (1.0 / (1.0 + np.exp(-out))).astype(np.float32) if from_logits else out


def multilabel_dataset(
    texts: Any,
    probs: Any,
    *,
    rows: Any = None,
    batch_size: int = 64,
    shuffle: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """A batched ``tf.data.Dataset`` of ``(text, soft targets [C])`` for ``model.fit``.

    Args:
        texts: ``[N]`` strings.
        probs: ``[N, C]`` soft targets in ``[0, 1]`` (e.g. ``MultiLabelModel.predict_proba``).
        rows: boolean ``[N]`` mask or indices of the rows to keep (e.g. rows some LF voted
            on). Defaults to `None` (all rows).
        batch_size: examples per batch. Defaults to `64`.
        shuffle: shuffle each epoch (seeded). Defaults to `True`.
        seed: shuffle seed. Defaults to `0`.

    Returns:
        The dataset.

    Raises:
        ValueError: lengths differ, targets outside ``[0, 1]`` or not finite, or no row left.

    Example:
        >>> ds = multilabel_dataset(["a", "b"], [[1.0, 0.2], [0.0, 0.9]], shuffle=False)
        >>> [t.shape.as_list() for t in next(iter(ds))]
        [[2], [2, 2]]
    """
    x = _strings(np.asarray(texts, dtype=object), "texts")
    P = np.asarray(probs, dtype=np.float32)
    if P.ndim != 2 or len(P) != len(x):
        raise ValueError(
            f"probs must be [N, C] with one row per text ({len(x)}). Received shape: {P.shape}"
        )
    bad = ~np.isfinite(P) | (P < 0) | (P > 1)
    if bad.any():
        r, c = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"probs must be probabilities in [0, 1]; row {r}, class {c} holds "
            f"{P[r, c].item()!r}. Received: {P[r, c].item()!r}"
        )
    if rows is not None:
        idx = np.asarray(rows)
        idx = np.flatnonzero(idx) if idx.dtype == bool else idx.astype(np.int64)
        x, P = x[idx], P[idx]
    if len(x) == 0:
        raise ValueError("multilabel_dataset has no row to train on. Received: 0 rows")
    ds = tf.data.Dataset.from_tensor_slices((tf.constant(x, dtype=tf.string), P))
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    return ds.batch(int(batch_size)).prefetch(tf.data.AUTOTUNE)


class _MultiLabelPipeline(tf.Module):
    """The exported module: LF set, multi-label label model and classifier."""

    def __init__(self, lfset: Any, label_model: Any, classifier: Any, threshold: Any) -> None:
        super().__init__(name="tfsnorkel_multilabel")
        self.lfset = lfset
        self.label_model = label_model
        self.classifier = classifier
        self._threshold = tf.constant(threshold, tf.float32)

    def serve(self, text: tf.Tensor) -> dict[str, tf.Tensor]:
        from tfsnorkel.labeling.builtin import valid_utf8

        logits = self.classifier(valid_utf8(text), training=False)
        probs = tf.sigmoid(tf.cast(logits, tf.float32))
        return {"probabilities": probs, "labels": tf.cast(probs >= self._threshold, tf.int32)}

    def weak_label(self, features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        votes = tf.cast(self.lfset(features), tf.int32)
        probs = tf.cast(self.label_model(votes), tf.float32)
        return {
            "votes": votes,
            "soft_labels": probs,
            "labels": tf.cast(probs >= self._threshold, tf.int32),
        }


def export_multilabel(
    path: str | os.PathLike,
    classifier: keras.Model,
    *,
    lfset: Any = None,
    label_model: Any = None,
    threshold: float | Any = 0.5,
) -> dict[str, list[str]]:
    """Writes a SavedModel serving ``[N, C]`` class probabilities from raw text.

    Signatures: ``serving_default`` (``text`` ``[None]`` string -> ``probabilities``
    ``[None, C]`` float32, the sigmoid of the classifier's logits, and ``labels`` int32
    ``probabilities >= threshold``); with ``lfset`` and ``label_model``, ``weak_label``
    (the LF set's features -> ``votes`` ``[None, m]``, the label model's ``soft_labels``
    ``[None, C]`` and ``labels``). Plain TensorFlow loads it without Keras or tfsnorkel; the
    graph holds no Python callback op (checked). Written to a temporary directory and renamed
    into place when complete.

    Args:
        path: output directory (new, empty, or a previous SavedModel, which is replaced).
        classifier: a model over raw strings with ``[batch, C]`` logits
            (:func:`multilabel_text_classifier`).
        lfset: the compiled LF set whose votes the label model reads. Defaults to `None`.
        label_model: a fitted :class:`~tfsnorkel.labelmodel.MultiLabelModel`. Defaults to `None`.
        threshold: probability at or above which ``labels`` says present: one number, or one
            per class (e.g. tuned on a gold dev set). Defaults to `0.5`.

    Returns:
        ``{signature name: sorted input names}``.

    Raises:
        ValueError: only one of ``lfset`` / ``label_model``, an LF set with Python LFs, an LF
            set whose size differs from the label model's, a non-empty directory without a
            SavedModel at ``path``, or a Python callback op in the result.
    """
    from tfsnorkel.export import find_pyfunc_ops
    from tfsnorkel.outputs import atomic_dir

    if (lfset is None) != (label_model is None):
        raise ValueError(
            "export_multilabel serves weak labels from an LF set and a label model together. "
            f"Received: lfset={'given' if lfset is not None else None}, "
            f"label_model={'given' if label_model is not None else None}"
        )
    if lfset is not None:
        py = list(getattr(lfset, "python_lf_names", []))
        if py:
            raise ValueError(
                f"the LF set has Python LFs {py}, which cannot be served from a SavedModel; "
                f"rewrite them as compiled LFs. Received: {py}"
            )
        m = len(label_model.lf_classes)
        if len(lfset.names) != m:
            raise ValueError(
                f"the LF set has {len(lfset.names)} LFs, the label model was fitted on {m}. "
                f"Received: {list(lfset.names)}"
            )
    thr = np.asarray(threshold, dtype=np.float32)
    if thr.ndim > 1 or not np.all((thr >= 0) & (thr <= 1)):
        raise ValueError(
            "threshold must be a probability or one per class. "
            f"Received: threshold={np.asarray(threshold).tolist()!r}"
        )
    module = _MultiLabelPipeline(lfset, label_model, classifier, thr)
    signatures = {
        "serving_default": tf.function(
            module.serve, input_signature=[tf.TensorSpec([None], tf.string, name="text")]
        ).get_concrete_function()
    }
    if lfset is not None:
        signatures["weak_label"] = tf.function(
            module.weak_label, input_signature=[dict(lfset.input_signature())]
        ).get_concrete_function()
    path = Path(path)
    if path.is_dir() and any(path.iterdir()) and not (path / "saved_model.pb").is_file():
        raise ValueError(
            "path is a non-empty directory that holds no SavedModel; the export replaces the "
            f"whole directory. Received: path={str(path)!r}"
        )
    with atomic_dir(path) as tmp:
        tf.saved_model.save(module, str(tmp), signatures=signatures)
        bad = find_pyfunc_ops(tmp)
        if bad:
            raise ValueError(
                f"the export at {str(path)!r} holds Python callback ops and would not serve. "
                f"Received ops: {bad[:5]}"
            )
    return {
        name: sorted(s.name for s in tf.nest.flatten(fn.structured_input_signature[0]))
        for name, fn in signatures.items()
    }
