"""tf.data pipelines that feed soft labels to ``model.fit``.

:func:`soft_label_dataset` pairs in-memory features with a label model's soft labels (checked
row by row, unlabeled rows dropped, optional confidence weights); :func:`stream_soft_labels`
runs a ``tf.data.Dataset`` of raw feature dicts through an LF set and a label model on the
fly, so the label matrix is never materialized; :func:`gold_dataset` turns a small gold dev
set into one-hot targets for ``validation_data`` (early stopping on gold).

Example:
    >>> import numpy as np
    >>> ds = soft_label_dataset(np.array(["a", "b"]), np.array([[0.2, 0.8], [0.6, 0.4]]),
    ...                         batch_size=2, shuffle=False)
    >>> [t.shape.as_list() for t in next(iter(ds))]
    [[2], [2, 2]]
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Union

import numpy as np
import pandas as pd
import tensorflow as tf

from tfsnorkel.labels import (
    ABSTAIN,
    check_gold_labels,
    check_label_matrix,
    probs_to_preds,
    reject_sparse,
)

__all__ = [
    "confidence_weights",
    "covered_rows",
    "gold_dataset",
    "soft_label_dataset",
    "stream_soft_labels",
]

Features = Union[np.ndarray, pd.Series, pd.DataFrame, Mapping[str, Any], Sequence[Any]]
WeightSpec = Union[bool, Callable[[np.ndarray], np.ndarray], np.ndarray]

_SUM_TOL = 1e-3


def confidence_weights(probs: np.ndarray) -> np.ndarray:
    """Per-row confidence ``1 - H(p) / log(C)``: 1 for a one-hot row, 0 for a uniform row.

    Args:
        probs: ``[N, C]`` soft labels.

    Returns:
        ``float32`` weights ``[N]`` in ``[0, 1]``.

    Example:
        >>> confidence_weights(np.array([[1.0, 0.0], [0.5, 0.5]])).round(3).tolist()
        [1.0, 0.0]
    """
    P = np.asarray(probs, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(f"probs must be [N, C] with C >= 2. Received shape: {P.shape}")
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0)
    H = -plogp.sum(axis=1)
    return np.clip(1.0 - H / np.log(P.shape[1]), 0.0, 1.0).astype(np.float32)


def _check_probs(probs: Any, cardinality: int | None) -> np.ndarray:
    reject_sparse(probs, "soft labels")
    try:
        P = np.asarray(probs)
    except (ValueError, TypeError) as exc:  # ragged rows
        raise ValueError(
            f"soft labels must be a rectangular [N, C] array ({exc}). "
            f"Received: {type(probs).__name__}"
        ) from None
    if P.dtype.kind not in "fiu":
        raise TypeError(f"soft labels must be numeric. Received dtype: {P.dtype}")
    P = P.astype(np.float64)
    if P.ndim == 1:  # binary: probability of class 1
        P = np.stack([1.0 - P, P], axis=1)
    if P.ndim != 2:
        raise ValueError(
            f"soft labels must be [N, C] (or [N] for binary). Received shape: {P.shape}"
        )
    if P.shape[1] < 2:
        raise ValueError(f"soft labels need C >= 2 columns. Received shape: {P.shape}")
    if cardinality is not None and P.shape[1] != cardinality:
        raise ValueError(
            f"soft labels must have cardinality={cardinality} columns. Received shape: {P.shape}"
        )
    finite = np.isfinite(P).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise ValueError(
            f"soft labels must be finite; row {row} is not. "
            f"Received: probs[{row}]={P[row].tolist()}"
        )
    neg = (P < 0).any(axis=1)
    if neg.any():
        row = int(np.flatnonzero(neg)[0])
        raise ValueError(
            f"soft labels must be non-negative; row {row} is not. "
            f"Received: probs[{row}]={P[row].tolist()}"
        )
    sums = P.sum(axis=1)
    off = np.abs(sums - 1.0) > _SUM_TOL
    if off.any():
        row = int(np.flatnonzero(off)[0])
        raise ValueError(
            f"soft labels must sum to 1 per row; row {row} sums to {sums[row]:.6g}. "
            f"Received: probs[{row}]={P[row].tolist()}"
        )
    return (P / sums[:, None]).astype(np.float32)


def _column(values: Any, name: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.dtype.kind in "OUS":
        nulls = pd.isna(arr) if arr.dtype.kind == "O" else np.zeros(arr.shape, bool)
        if np.any(nulls):
            row = int(np.flatnonzero(np.ravel(nulls))[0])
            raise ValueError(
                f"feature {name!r} has a missing value at row {row}. "
                f"Received: {name}[{row}]={arr.ravel()[row]!r}"
            )
        # bytes (e.g. from a string tensor's .numpy()) go to TensorFlow as they are (UTF-8)
        arr = np.array([v if isinstance(v, bytes) else str(v) for v in arr.ravel()],
                       dtype=object).reshape(arr.shape)
    return arr


def _features_to_arrays(features: Features) -> tuple[Any, int]:
    """Converts features to a numpy array or a dict of arrays; returns them and the row count."""
    if isinstance(features, pd.DataFrame):
        features = {str(k): features[k] for k in features.columns}
    if isinstance(features, Mapping):
        if not features:
            raise ValueError("features is an empty dict. Received: {}")
        out = {str(k): _column(v, str(k)) for k, v in features.items()}
        lengths = {k: len(v) for k, v in out.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"feature columns differ in length. Received lengths: {lengths}")
        return out, next(iter(lengths.values()))
    arr = _column(features, "features")
    if arr.ndim == 0:
        raise ValueError(f"features must have a row dimension. Received: {features!r}")
    return arr, len(arr)


def _take(features: Any, idx: np.ndarray) -> Any:
    if isinstance(features, dict):
        return {k: v[idx] for k, v in features.items()}
    return features[idx]


def covered_rows(L: Any, num_rows: int) -> np.ndarray:
    """Indices of the rows at least one LF labels (the rows soft labels can train on).

    Args:
        L: ``[N, m]`` label matrix.
        num_rows: the number of soft-label rows it must match.

    Returns:
        Sorted int64 row indices.

    Raises:
        ValueError: ``L`` has another number of rows, or every LF abstained on every row.

    Example:
        >>> covered_rows(np.array([[-1, 1], [-1, -1], [0, -1]]), 3).tolist()
        [0, 2]
    """
    L = check_label_matrix(L)
    if len(L) != num_rows:
        raise ValueError(
            f"the label matrix and soft labels differ in length. Received: L.shape={L.shape}, "
            f"{num_rows} soft-label rows"
        )
    keep = np.flatnonzero((L != ABSTAIN).any(axis=1))
    if len(keep) == 0:
        raise ValueError(
            f"no labeled row left: every LF abstained on all {len(L)} rows, so there is "
            f"nothing to train on. Received: L.shape={L.shape}"
        )
    return keep


def _resolve_weights(spec: WeightSpec, P: np.ndarray) -> np.ndarray | None:
    if spec is False or spec is None:
        return None
    if spec is True:
        w = confidence_weights(P)
    elif callable(spec):
        w = np.asarray(spec(P), dtype=np.float64)
    else:
        w = np.asarray(spec, dtype=np.float64)
    if w.shape != (len(P),):
        raise ValueError(
            f"confidence weights must have shape ({len(P)},), one per row. "
            f"Received shape: {w.shape}"
        )
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            "confidence weights must be finite and >= 0. "
            f"Received: weights[{row}]={float(w[row])!r}"
        )
    return w.astype(np.float32)


def soft_label_dataset(
    features: Features,
    probs: np.ndarray | Sequence[Sequence[float]],
    L: np.ndarray | None = None,
    *,
    batch_size: int = 32,
    shuffle: bool = True,
    confidence_weights: WeightSpec = False,
    seed: int | None = None,
    cardinality: int | None = None,
    label_type: Literal["soft", "hard"] = "soft",
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """A batched ``tf.data.Dataset`` of ``(features, soft_labels[, weights])`` for ``model.fit``.

    Args:
        features: ``[N]`` array / Series of raw inputs (e.g. strings), an ``[N, d]`` array,
            a DataFrame or a dict of ``[N]`` columns (yielded as a dict of tensors).
        probs: ``[N, C]`` soft labels (rows sum to 1), or ``[N]`` positive-class
            probabilities for a binary task.
        L: ``[N, m]`` label matrix; rows on which every LF abstained are dropped. Defaults to
            `None` (keep every row).
        batch_size: examples per batch. Defaults to `32`.
        shuffle: reshuffle the rows every epoch (buffer = all rows). Defaults to `True`.
        confidence_weights: `False` (no weights), `True` (``1 - H(p)/log C``: learn more
            from confident labels), a callable ``probs -> [N] weights``, or an ``[N]`` array.
            With weights the dataset yields ``(features, soft_labels, weights)``, which Keras
            uses as ``sample_weight``. Defaults to `False`.
        seed: shuffle seed. Defaults to `None`.
        cardinality: expected number of classes, checked against ``probs``. Defaults to
            `None`.
        label_type: ``"soft"`` yields the probabilities (noise-aware training);
            ``"hard"`` yields the one-hot argmax and drops rows whose top classes tie (the
            recipe of Snorkel's spam tutorial). Soft labels pay off when the label model is
            calibrated; when it is not (e.g. one class's LFs held at an accuracy floor, so
            its rows sit near 0.5), hard labels can train a better classifier: compare the
            two on a gold dev set. Confidence weights are computed from the soft labels in
            both cases. Defaults to `"soft"`.
        drop_remainder: drop the last, short batch of each epoch (with ``shuffle``, different
            rows each epoch), so every batch has ``batch_size`` rows: what a
            ``tf.distribute`` strategy needs to split each batch evenly over its replicas.
            Defaults to `False`.

    Returns:
        A batched, prefetched ``tf.data.Dataset``; soft labels are ``float32 [batch, C]``.

    Raises:
        ValueError: soft labels not summing to 1, negative, NaN, of the wrong width; row
            counts that differ; no labeled row left after filtering (the message names the
            row or what was received).

    Example:
        >>> import numpy as np
        >>> L = np.array([[1, -1], [-1, -1], [0, 0]])
        >>> P = np.array([[0.1, 0.9], [0.5, 0.5], [0.8, 0.2]])
        >>> ds = soft_label_dataset(np.array(["x", "y", "z"]), P, L, shuffle=False)
        >>> [b.decode() for b in next(iter(ds))[0].numpy()]
        ['x', 'z']
    """
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"batch_size must be a positive integer. Received: batch_size={batch_size!r}"
        )
    if label_type not in ("soft", "hard"):
        raise ValueError(
            f"label_type must be 'soft' or 'hard'. Received: label_type={label_type!r}"
        )
    P = _check_probs(probs, cardinality)
    feats, n = _features_to_arrays(features)
    if n != len(P):
        raise ValueError(
            f"features and soft labels differ in length. Received: {n} feature rows, "
            f"{len(P)} soft-label rows"
        )
    w = _resolve_weights(confidence_weights, P)
    if L is not None:
        keep = covered_rows(L, len(P))
        feats, P = _take(feats, keep), P[keep]
        w = None if w is None else w[keep]
    if label_type == "hard":
        preds = probs_to_preds(P, tie_break="abstain")
        keep = np.flatnonzero(preds != ABSTAIN)
        if len(keep) == 0:
            raise ValueError(
                "label_type='hard' left no row: every soft label has tied top classes. "
                f"Received: {len(P)} rows"
            )
        feats, P = _take(feats, keep), np.eye(P.shape[1], dtype=np.float32)[preds[keep]]
        w = None if w is None else w[keep]
    if len(P) == 0:
        raise ValueError("the training set is empty. Received: 0 rows")
    if drop_remainder and len(P) < batch_size:
        raise ValueError(
            f"drop_remainder=True leaves no batch: fewer rows than one batch. Received: "
            f"{len(P)} rows, batch_size={batch_size}"
        )
    elements = (feats, P) if w is None else (feats, P, w)
    ds = tf.data.Dataset.from_tensor_slices(elements)
    if shuffle:
        ds = ds.shuffle(len(P), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(int(batch_size), drop_remainder=bool(drop_remainder))
    return ds.prefetch(tf.data.AUTOTUNE)


def _label_batch(
    features: dict[str, tf.Tensor],
    lfset: Callable[[dict[str, tf.Tensor]], tf.Tensor],
    label_model: Callable[[tf.Tensor], tf.Tensor],
    weights: str,
) -> tuple[Any, ...]:
    """Runs one batch of raw features through the LF set and the label model."""
    L = tf.cast(lfset(features), tf.int32)
    P = tf.cast(label_model(L), tf.float32)
    keep = tf.reduce_any(tf.not_equal(L, ABSTAIN), axis=1)
    if weights == "entropy":
        c = tf.cast(tf.shape(P)[1], tf.float32)
        plogp = tf.where(P > 0, P * tf.math.log(tf.maximum(P, 1e-30)), tf.zeros_like(P))
        w = tf.clip_by_value(1.0 + tf.reduce_sum(plogp, axis=1) / tf.math.log(c), 0.0, 1.0)
        return features, P, w, keep
    return features, P, keep


def stream_soft_labels(
    dataset: tf.data.Dataset,
    lfset: Callable[[dict[str, tf.Tensor]], tf.Tensor],
    label_model: Callable[[tf.Tensor], tf.Tensor],
    *,
    batch_size: int = 32,
    feature_key: str | None = None,
    filter_unlabeled: bool = True,
    confidence_weights: bool = False,
    shuffle_buffer: int = 0,
    seed: int | None = None,
    num_parallel_calls: int | None = tf.data.AUTOTUNE,
    deterministic: bool = True,
) -> tf.data.Dataset:
    """Streams ``(features, soft_labels[, weights])`` from raw feature dicts, never holding ``L``.

    Each batch of raw features goes through ``lfset`` (votes ``int32 [batch, m]``) and
    ``label_model`` (soft labels ``[batch, C]``) inside the tf.data map; rows without any vote
    are dropped and the survivors re-batched to ``batch_size``.

    Args:
        dataset: a ``tf.data.Dataset`` of feature dicts, either one example per element
            (scalars) or already batched (``[batch]`` tensors).
        lfset: the LF set (``tfsnorkel.LFSet``), or any callable features -> ``int32
            [batch, m]`` votes.
        label_model: a fitted ``tfsnorkel.LabelModel`` (a Keras layer), or any callable
            votes -> ``[batch, C]`` probabilities in TF ops.
        batch_size: output batch size (also used to batch unbatched input). Defaults to `32`.
        feature_key: yield ``features[feature_key]`` instead of the whole dict (e.g. ``"text"``
            for :func:`tfsnorkel.text_classifier`). Defaults to `None`.
        filter_unlabeled: drop rows on which every LF abstained. Defaults to `True`.
        confidence_weights: also yield weights ``1 - H(p)/log C``. Defaults to `False`.
        shuffle_buffer: shuffle labeled rows with this buffer (0: no shuffle). Defaults to `0`.
        seed: shuffle seed. Defaults to `None`.
        num_parallel_calls: parallelism of the labeling map. Defaults to `tf.data.AUTOTUNE`.
        deterministic: keep the input order. Defaults to `True`.

    Returns:
        A batched, prefetched ``tf.data.Dataset`` ready for ``model.fit``.

    Raises:
        TypeError: ``dataset`` is not a ``tf.data.Dataset`` of feature dicts.
        ValueError: ``feature_key`` is not a field of the dataset; ``label_model`` is a
            `tfsnorkel.LabelModel` fitted on other LFs than ``lfset`` (the mismatch named).

    Example:
        >>> ds = tf.data.Dataset.from_tensor_slices({"text": ["buy now", "hi"]})
        >>> buy = lambda t: tf.strings.regex_full_match(t, ".*buy.*")
        >>> lfs = lambda f: tf.where(buy(f["text"]), 1, -1)[:, None]
        >>> lm = lambda L: tf.one_hot(tf.maximum(L[:, 0], 0), 2)
        >>> x, p = next(iter(stream_soft_labels(ds, lfs, lm, feature_key="text")))
        >>> x.numpy().tolist(), p.numpy().tolist()
        ([b'buy now'], [[0.0, 1.0]])
    """
    if not isinstance(dataset, tf.data.Dataset):
        raise TypeError(
            f"stream_soft_labels needs a tf.data.Dataset of feature dicts. "
            f"Received: {type(dataset).__name__}"
        )
    spec = dataset.element_spec
    if not isinstance(spec, Mapping):
        raise TypeError(
            "stream_soft_labels needs a dataset whose elements are dicts of features "
            f"(field -> tensor). Received element_spec: {spec}"
        )
    if feature_key is not None and feature_key not in spec:
        raise ValueError(
            f"feature_key {feature_key!r} is not a field of the dataset. "
            f"Received fields: {sorted(spec)}"
        )
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"batch_size must be a positive integer. Received: batch_size={batch_size!r}"
        )
    if hasattr(label_model, "check_lfs") and hasattr(lfset, "names"):
        # a label model fitted on other LFs would turn these votes into wrong soft labels
        label_model.check_lfs(list(lfset.names), getattr(lfset, "cardinality", None))
    ranks = {k: s.shape.rank for k, s in spec.items()}
    if all(r == 0 for r in ranks.values()):
        dataset = dataset.batch(int(batch_size))
    elif not all(r == 1 for r in ranks.values()):
        raise ValueError(
            "every feature must be a scalar per element (unbatched) or a [batch] vector "
            f"(batched). Received ranks: {ranks}"
        )
    fn = functools.partial(
        _label_batch,
        lfset=lfset,
        label_model=label_model,
        weights="entropy" if confidence_weights else "none",
    )
    ds = dataset.map(fn, num_parallel_calls=num_parallel_calls, deterministic=deterministic)
    ds = ds.unbatch()
    if filter_unlabeled:
        ds = ds.filter(lambda *elem: elem[-1])
    ds = ds.map(
        functools.partial(_select, feature_key=feature_key),
        num_parallel_calls=num_parallel_calls,
        deterministic=deterministic,
    )
    if shuffle_buffer:
        ds = ds.shuffle(int(shuffle_buffer), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(int(batch_size))
    return ds.prefetch(tf.data.AUTOTUNE)


def _select(*elem: Any, feature_key: str | None) -> tuple[Any, ...]:
    """Drops the keep flag and optionally picks one feature."""
    features, rest = elem[0], elem[1:-1]
    if feature_key is not None:
        features = features[feature_key]
    return (features, *rest)


def gold_dataset(
    features: Features,
    y: np.ndarray | Sequence[int],
    cardinality: int,
    *,
    batch_size: int = 256,
) -> tf.data.Dataset:
    """A dataset of ``(features, one_hot(y))`` for ``validation_data`` (early stopping on gold).

    One-hot gold labels are soft labels with all mass on one class, so the validation loss
    is the same :class:`tfsnorkel.NoiseAwareLoss` as in training.

    Args:
        features: the dev set's features, as in :func:`soft_label_dataset`.
        y: ``[N]`` gold class indices.
        cardinality: number of classes.
        batch_size: examples per batch. Defaults to `256`.

    Returns:
        A batched ``tf.data.Dataset`` (not shuffled).

    Example:
        >>> import keras
        >>> stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2,
        ...                                      restore_best_weights=True)
        >>> dev = gold_dataset(np.array(["a", "b"]), [0, 1], cardinality=2)
        >>> # model.fit(train_ds, validation_data=dev, epochs=20, callbacks=[stop])
        >>> next(iter(dev))[1].numpy().tolist()
        [[1.0, 0.0], [0.0, 1.0]]
    """
    gold = check_gold_labels(y, cardinality=cardinality)
    onehot = np.eye(cardinality, dtype=np.float32)[gold]
    return soft_label_dataset(features, onehot, batch_size=batch_size, shuffle=False)
