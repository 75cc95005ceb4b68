"""Noise-aware loss: cross-entropy against probabilistic (soft) labels.

A classifier trained on a label model's soft labels should learn *less* from rows the label
model is unsure about. Cross-entropy against the soft-label vector does exactly that: its
gradient with respect to the logits is ``p - y`` (model probability minus soft label), so an
uncertain row (``y`` near uniform) pulls the logits only towards uncertainty.

Binary tasks use one logit and :func:`tf.nn.sigmoid_cross_entropy_with_logits` against the
positive-class probability; ``C > 2`` classes use softmax cross-entropy against the whole
soft-label vector. The loss is a pure function plus a thin registered :class:`keras.losses.Loss`
subclass, so it works in any user's ``model.compile``; the base class handles reduction and
``sample_weight``.
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

__all__ = ["NoiseAwareLoss", "noise_aware_loss"]

_EPS = 1e-7


def _static_width(x: tf.Tensor) -> int | None:
    """Last dimension of a rank >= 2 tensor, `1` for rank-1 tensors, `None` when unknown."""
    if x.shape.rank is None:
        return None
    if x.shape.rank == 1:
        return 1
    return x.shape[-1]


def _positive_class(y_true: tf.Tensor, width: int | None) -> tf.Tensor:
    """Positive-class probability ``[batch]`` from ``[batch]``, ``[batch, 1]`` or ``[batch, 2]``."""
    if width == 2:
        return y_true[..., 1]
    if width == 1 and y_true.shape.rank == 2:
        return y_true[..., 0]
    return y_true


def noise_aware_loss(
    y_true: tf.Tensor,
    y_pred: tf.Tensor,
    from_logits: bool = True,
) -> tf.Tensor:
    """Per-example cross-entropy between soft labels and model outputs.

    The task is *binary* when ``y_pred`` has one value per example (shape ``[batch]`` or
    ``[batch, 1]``): ``y_true`` is then the positive-class probability ``[batch]`` (or
    ``[batch, 1]``) or the soft-label pair ``[batch, 2]``, and the loss is
    ``sigmoid_cross_entropy_with_logits(labels=y_pos, logits=y_pred)``. Otherwise
    ``y_pred`` is ``[batch, C]`` and ``y_true`` the soft-label matrix ``[batch, C]``; the loss
    is ``softmax_cross_entropy_with_logits``. With ``from_logits=False`` ``y_pred`` holds
    probabilities (clipped to ``[1e-7, 1 - 1e-7]`` before the logarithm).

    Args:
        y_true: soft labels, see above. Rows of a ``[batch, C]`` matrix should sum to 1
            (checked by :func:`tfsnorkel.soft_label_dataset`, not here: this is the hot path).
        y_pred: logits (or probabilities when ``from_logits=False``).
        from_logits: whether ``y_pred`` holds logits. Defaults to `True` (the ready-made
            classifiers output logits).

    Returns:
        A ``float32`` tensor ``[batch]`` of per-example losses.

    Raises:
        ValueError: the widths of ``y_true`` and ``y_pred`` do not fit together.

    Example:
        >>> import numpy as np
        >>> loss = noise_aware_loss(np.array([[0.5, 0.5]]), np.array([[0.0]]))
        >>> round(float(loss[0]), 4)  # log(2)
        0.6931
    """
    with tf.name_scope("noise_aware_loss"):
        y_pred = tf.convert_to_tensor(y_pred)
        if not y_pred.dtype.is_floating:
            y_pred = tf.cast(y_pred, tf.float32)
        y_true = tf.cast(tf.convert_to_tensor(y_true), y_pred.dtype)
        w_pred = _static_width(y_pred)
        w_true = _static_width(y_true)
        if y_pred.shape.rank is not None and y_pred.shape.rank > 2:
            raise ValueError(
                f"noise_aware_loss expects y_pred of shape [batch], [batch, 1] or [batch, C]. "
                f"Received: y_pred.shape={y_pred.shape}"
            )
        if w_pred == 1:
            if w_true not in (None, 1, 2):
                raise ValueError(
                    "noise_aware_loss: a single-output (binary) model needs y_true as the "
                    "positive-class probability [batch] or soft labels [batch, 2]. "
                    f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
                )
            y_pos = _positive_class(y_true, w_true)
            logits = tf.reshape(y_pred, [-1])
            if not from_logits:
                p = tf.clip_by_value(logits, _EPS, 1.0 - _EPS)
                logits = tf.math.log(p) - tf.math.log1p(-p)
            return tf.nn.sigmoid_cross_entropy_with_logits(
                labels=tf.reshape(y_pos, [-1]), logits=logits
            )
        if w_pred is not None and w_true is not None and w_pred != w_true:
            if w_pred == 2 and w_true == 1:
                y_pos = tf.reshape(y_true, [-1])
                y_true = tf.stack([1.0 - y_pos, y_pos], axis=-1)
            else:
                raise ValueError(
                    f"noise_aware_loss: y_true has {w_true} classes but y_pred has {w_pred}. "
                    f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
                )
        if from_logits:
            return tf.nn.softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
        p = y_pred / tf.reduce_sum(y_pred, axis=-1, keepdims=True)
        p = tf.clip_by_value(p, _EPS, 1.0 - _EPS)
        return -tf.reduce_sum(y_true * tf.math.log(p), axis=-1)


@keras.saving.register_keras_serializable(package="tfsnorkel")
class NoiseAwareLoss(keras.losses.Loss):
    """Keras loss for training on soft labels: sigmoid CE (binary) or softmax CE (multiclass).

    A thin wrapper around :func:`noise_aware_loss`; the base class applies ``reduction`` and
    ``sample_weight`` (e.g. confidence weights from :func:`tfsnorkel.soft_label_dataset`).

    Args:
        from_logits: whether the model outputs logits. Defaults to `True`.
        reduction: Keras reduction. Defaults to `"sum_over_batch_size"`.
        name: loss name. Defaults to `"noise_aware_loss"`.
        dtype: loss computation dtype. Defaults to `None` (Keras float type).

    Example:
        >>> import numpy as np
        >>> loss = NoiseAwareLoss()
        >>> round(float(loss(np.array([[0.0, 1.0]]), np.array([[0.0]]))), 4)
        0.6931
    """

    def __init__(
        self,
        from_logits: bool = True,
        reduction: str = "sum_over_batch_size",
        name: str = "noise_aware_loss",
        dtype: Any = None,
    ) -> None:
        if not isinstance(from_logits, bool):
            raise TypeError(f"from_logits must be a bool. Received: from_logits={from_logits!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = from_logits

    def call(self, y_true: tf.Tensor, y_pred: tf.Tensor) -> tf.Tensor:
        """Per-example losses ``[batch]``."""
        return noise_aware_loss(y_true, y_pred, from_logits=self.from_logits)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments, for ``from_config``."""
        return {**super().get_config(), "from_logits": self.from_logits}
