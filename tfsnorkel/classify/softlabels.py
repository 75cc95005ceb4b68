"""Soft labels for other frameworks: files (numpy, CSV, Parquet, TFRecord) and recipes.

:func:`write_soft_labels` / :func:`read_soft_labels` store a label model's ``[N, C]``
probabilities with optional row ids; the format follows the file suffix. Every reader returns
``float32`` C-contiguous arrays, the layout both scikit-learn and PyTorch consume without a
copy.

scikit-learn (no soft-label support in its estimators): expand each row into ``C`` rows, one per
class, weighted by the class probability. The weighted log-loss of the expanded set equals
the soft-label cross-entropy, so any estimator with ``sample_weight`` trains on soft labels::

    X_rep, y_rep, w = ts.expand_soft_labels(X, P)
    LogisticRegression().fit(X_rep, y_rep, sample_weight=w)

PyTorch (not a dependency; the arrays from :func:`read_soft_labels` go straight in)::

    import torch
    probs, ids, _ = ts.read_soft_labels("soft_labels.parquet")
    ds = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(probs))
    for xb, pb in torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True):
        logits = model(xb)                                 # [batch, C]
        loss = -(pb * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        # torch >= 1.10 accepts probabilities directly: F.cross_entropy(logits, pb)
        loss.backward(); opt.step(); opt.zero_grad()
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import tensorflow as tf

from tfsnorkel.classify.data import _check_probs
from tfsnorkel.outputs import atomic_path

__all__ = [
    "SoftLabels",
    "expand_soft_labels",
    "read_soft_labels",
    "write_soft_labels",
]

_FORMATS = {".npz": "npz", ".csv": "csv", ".parquet": "parquet", ".tfrecord": "tfrecord",
            ".tfrecords": "tfrecord"}


class SoftLabels(NamedTuple):
    """Soft labels read back from a file by :func:`read_soft_labels`.

    Example:
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "P.npz"
        >>> _ = write_soft_labels(path, np.array([[0.2, 0.8]]))
        >>> read_soft_labels(path).probs.tolist()
        [[0.20000000298023224, 0.800000011920929]]
    """

    probs: np.ndarray
    """``float32 [N, C]``, rows sum to 1."""
    ids: np.ndarray | None
    """Row ids as written, or `None`."""
    class_names: tuple[str, ...]
    """Column names of the classes (``p_0, p_1, ...`` unless given when writing)."""


def _format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in set(_FORMATS.values()):
            raise ValueError(
                f"format must be one of {sorted(set(_FORMATS.values()))}. Received: format={fmt!r}"
            )
        return fmt
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(
            f"cannot tell the format from the suffix; use one of {sorted(_FORMATS)} or pass "
            f"format=. Received: path={str(path)!r}"
        )
    return _FORMATS[suffix]


def _class_names(c: int, class_names: Sequence[str] | None) -> tuple[str, ...]:
    if class_names is None:
        return tuple(f"p_{k}" for k in range(c))
    names = tuple(str(n) for n in class_names)
    if len(names) != c or len(set(names)) != c:
        raise ValueError(
            f"class_names must be {c} distinct names, one per column. Received: {list(names)}"
        )
    if "id" in names:
        raise ValueError(f"'id' is reserved for row ids. Received class_names: {list(names)}")
    return names


def write_soft_labels(
    path: str | os.PathLike,
    probs: np.ndarray | Sequence[Sequence[float]],
    *,
    ids: np.ndarray | Sequence[Any] | None = None,
    class_names: Sequence[str] | None = None,
    format: str | None = None,
) -> Path:
    """Writes soft labels (and optional row ids) to npz, CSV, Parquet or TFRecord.

    Layout: a table with an optional ``id`` column and one probability column per class
    (CSV, Parquet); arrays ``probs``, ``ids``, ``class_names`` (npz); one ``tf.train.Example``
    per row with a float list ``soft_label`` and an ``id`` (TFRecord; ids are stored as
    int64 when integral, else as bytes).

    Args:
        path: output file; its suffix picks the format unless ``format`` is given.
        probs: ``[N, C]`` soft labels (checked: finite, non-negative, rows sum to 1).
        ids: ``[N]`` row ids. Defaults to `None`.
        class_names: ``C`` column names. Defaults to `None` (``p_0, p_1, ...``).
        format: ``"npz"``, ``"csv"``, ``"parquet"`` or ``"tfrecord"``. Defaults to `None`.

    Returns:
        The path written.

    Example:
        >>> import tempfile, numpy as np
        >>> path = write_soft_labels(tempfile.mkdtemp() + "/p.csv", np.array([[0.3, 0.7]]), ids=[7])
        >>> read_soft_labels(path).probs.tolist()
        [[0.30000001192092896, 0.699999988079071]]
    """
    path = Path(path)
    fmt = _format(path, format)
    P = _check_probs(probs, None)
    names = _class_names(P.shape[1], class_names)
    id_arr = None
    if ids is not None:
        id_arr = np.asarray(ids.to_numpy() if hasattr(ids, "to_numpy") else ids)
        if id_arr.shape != (len(P),):
            raise ValueError(
                f"ids must have shape ({len(P)},), one per row. Received shape: {id_arr.shape}"
            )
    # Written to a temporary file beside ``path`` and renamed into place when complete.
    with atomic_path(path) as tmp:
        if fmt == "npz":
            arrays: dict[str, Any] = {"probs": P, "class_names": np.asarray(names)}
            if id_arr is not None:
                arrays["ids"] = id_arr
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        elif fmt in ("csv", "parquet"):
            frame = pd.DataFrame(P, columns=list(names))
            if id_arr is not None:
                frame.insert(0, "id", id_arr)
            if fmt == "csv":
                frame.to_csv(tmp, index=False, float_format="%.9g")
            else:
                frame.to_parquet(tmp, index=False)
        else:
            integral = id_arr is not None and id_arr.dtype.kind in "iu"
            with tf.io.TFRecordWriter(str(tmp)) as writer:
                for i in range(len(P)):
                    feats = {"soft_label": tf.train.Feature(float_list=tf.train.FloatList(value=P[i]))}
                    if id_arr is not None:
                        feats["id"] = (
                            tf.train.Feature(int64_list=tf.train.Int64List(value=[int(id_arr[i])]))
                            if integral
                            else tf.train.Feature(
                                bytes_list=tf.train.BytesList(value=[str(id_arr[i]).encode()])
                            )
                        )
                    example = tf.train.Example(features=tf.train.Features(feature=feats))
                    writer.write(example.SerializeToString())
    return path


def read_soft_labels(path: str | os.PathLike, *, format: str | None = None) -> SoftLabels:
    """Reads soft labels written by :func:`write_soft_labels`.

    Args:
        path: the file.
        format: as in :func:`write_soft_labels`. Defaults to `None` (from the suffix).

    Returns:
        A :class:`SoftLabels` ``(probs float32 [N, C], ids or None, class_names)``. TFRecord
        files carry no class names (``p_0, ...`` is returned).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file holds no soft-label columns, or they are not valid
            probabilities (the row is named).

    Example:
        >>> import tempfile, numpy as np
        >>> path = write_soft_labels(tempfile.mkdtemp() + "/p.npz", np.array([[1.0, 0.0]]))
        >>> read_soft_labels(path).class_names
        ('p_0', 'p_1')
    """
    path = Path(path)
    fmt = _format(path, format)
    if not path.exists():
        raise FileNotFoundError(f"no soft-label file at {str(path)!r}")
    ids = None
    if fmt == "npz":
        with np.load(path, allow_pickle=False) as z:
            P = z["probs"]
            names = tuple(str(n) for n in z["class_names"])
            ids = z["ids"] if "ids" in z.files else None
    elif fmt in ("csv", "parquet"):
        frame = pd.read_csv(path) if fmt == "csv" else pd.read_parquet(path)
        if "id" in frame.columns:
            ids = frame.pop("id").to_numpy()
        if frame.shape[1] < 2:
            raise ValueError(
                f"{str(path)!r} needs at least two probability columns. "
                f"Received columns: {list(frame.columns)}"
            )
        names = tuple(str(c) for c in frame.columns)
        P = frame.to_numpy(dtype=np.float64)
    else:
        rows, id_list = [], []
        for raw in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
            ex = tf.train.Example.FromString(raw).features.feature
            rows.append(list(ex["soft_label"].float_list.value))
            if "id" in ex:
                f = ex["id"]
                id_list.append(
                    f.int64_list.value[0]
                    if f.HasField("int64_list")
                    else f.bytes_list.value[0].decode()
                )
        if not rows:
            raise ValueError(f"{str(path)!r} holds no records")
        P = np.asarray(rows, dtype=np.float64)
        names = tuple(f"p_{k}" for k in range(P.shape[1]))
        ids = np.asarray(id_list) if id_list else None
    return SoftLabels(np.ascontiguousarray(_check_probs(P, None)), ids, names)


def expand_soft_labels(
    X: Any, probs: np.ndarray | Sequence[Sequence[float]], *, min_weight: float = 0.0
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Expands each row into one row per class, weighted by its probability (for scikit-learn).

    Row ``i`` becomes rows ``(X[i], c, P[i, c])`` for every class ``c`` with
    ``P[i, c] > min_weight``. An estimator fit with ``sample_weight=w`` then minimizes the
    soft-label cross-entropy.

    Args:
        X: ``[N, ...]`` features: numpy array, scipy sparse matrix, DataFrame or list.
        probs: ``[N, C]`` soft labels.
        min_weight: drop expanded rows whose weight is at most this. Defaults to `0.0`.

    Returns:
        ``(X_rep, y_rep, w)``: features indexed like ``X`` (same type), ``int64`` classes and
        ``float32`` weights, row-major (all classes of row 0 first).

    Example:
        >>> X_rep, y, w = expand_soft_labels(np.array([[1.0], [2.0]]), [[0.25, 0.75], [1.0, 0.0]])
        >>> X_rep.ravel().tolist(), y.tolist(), w.tolist()
        ([1.0, 1.0, 2.0], [0, 1, 0], [0.25, 0.75, 1.0])
    """
    P = _check_probs(probs, None)
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    if n != len(P):
        raise ValueError(
            "X and soft labels differ in length. "
            f"Received: {n} feature rows, {len(P)} soft-label rows"
        )
    if min_weight < 0 or min_weight >= 1:
        raise ValueError(f"min_weight must be in [0, 1). Received: min_weight={min_weight!r}")
    rows, cls = np.nonzero(P > min_weight)
    w = P[rows, cls].astype(np.float32)
    if isinstance(X, (pd.DataFrame, pd.Series)):
        X_rep = X.iloc[rows].reset_index(drop=True)
    elif isinstance(X, list):
        X_rep = [X[i] for i in rows]
    else:
        X_rep = X[rows]
    return X_rep, cls.astype(np.int64), w
