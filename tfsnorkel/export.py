"""One SavedModel for the whole pipeline (TF Serving contract).

:func:`export_pipeline` wraps any subset of (LF set, label model, classifier) in a
``tf.Module`` whose ``tf.function`` signatures take plain string/numeric tensors with a free
batch dimension (``[None]``) and saves it with ``tf.saved_model.save``:

* ``serving_default``: raw features -> ``probabilities`` ``[batch, C]`` and ``label``
  ``[batch]`` from the classifier (without a classifier: the same as ``weak_label``);
* ``weak_label``: raw features -> ``votes`` ``int32 [batch, m]`` from the LF set, ``covered``
  (some LF voted) and, with a label model, ``soft_labels`` ``[batch, C]`` and ``label``.
  With a label model but no LF set it takes the votes themselves (``votes``, ``[None, None]``).

The export is hermetic: plain TensorFlow loads it in a fresh process, without Keras or
tfsnorkel, and the graph holds no ``PyFunc``/``EagerPyFunc`` op (checked after saving with
:func:`find_pyfunc_ops`). An LF set with Python LFs (``tf.numpy_function``) is refused
(``python_lfs="raise"``) or left out of the export (``python_lfs="skip"``, with a warning).

Example:
    >>> import tensorflow as tf                                   # doctest: +SKIP
    >>> export_pipeline("export/spam", lfset=lfs, label_model=lm, classifier=clf)  # doctest: +SKIP
    >>> served = tf.saved_model.load("export/spam")               # doctest: +SKIP
    >>> weak = served.signatures["weak_label"]                    # doctest: +SKIP
    >>> weak(text=tf.constant(["check out my channel"]))          # doctest: +SKIP
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from tfsnorkel.labeling.builtin import valid_utf8
from tfsnorkel.labels import ABSTAIN
from tfsnorkel.outputs import OutputLock, atomic_dir

__all__ = ["PYFUNC_OPS", "SERVING_BATCH", "export_pipeline", "find_pyfunc_ops"]

#: Op types that call back into Python and cannot be served.
PYFUNC_OPS: frozenset[str] = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})

#: Rows the exported classifier runs at once; a larger request is cut into chunks of this size
#: inside the signature (a text classifier's dense tf-idf of 100k texts would not fit).
SERVING_BATCH = 1024


def find_pyfunc_ops(path: str | os.PathLike) -> list[str]:
    """Lists the Python-callback ops in a SavedModel's graph and function library.

    Args:
        path: a SavedModel directory.

    Returns:
        ``"function_name/node_name (OpType)"`` for every ``PyFunc``-like node; empty when the
        export is servable.

    Example:
        >>> find_pyfunc_ops("export/spam")   # doctest: +SKIP
        []
    """
    proto = saved_model_pb2.SavedModel()
    with open(Path(path) / "saved_model.pb", "rb") as f:
        proto.ParseFromString(f.read())
    found = []
    for meta in proto.meta_graphs:
        for node in meta.graph_def.node:
            if node.op in PYFUNC_OPS:
                found.append(f"<graph>/{node.name} ({node.op})")
        for fn in meta.graph_def.library.function:
            for node in fn.node_def:
                if node.op in PYFUNC_OPS:
                    found.append(f"{fn.signature.name}/{node.name} ({node.op})")
    return found


def _classifier_specs(classifier: Any) -> tuple[dict[str, tf.TensorSpec], bool]:
    """Input specs of a Keras model (free batch dim) and whether it takes a dict."""
    struct = getattr(classifier, "_inputs_struct", None)
    inputs = getattr(classifier, "inputs", None)
    if not inputs:
        raise ValueError(
            "the classifier must be a built Keras model with known inputs (e.g. a functional "
            f"model from text_classifier). Received: {type(classifier).__name__}"
        )
    as_dict = isinstance(struct, Mapping)
    items = list(struct.items()) if as_dict else [(t.name, t) for t in inputs]
    specs = {}
    for name, t in items:
        shape = [None, *list(t.shape)[1:]]
        dtype = tf.as_dtype(getattr(t.dtype, "name", t.dtype))
        specs[str(name)] = tf.TensorSpec(shape, dtype, name=str(name))
    if not as_dict and len(specs) > 1:
        raise ValueError(
            "a classifier with several inputs must take a dict (name its inputs with "
            f"keras.Input(name=...) and pass a dict). Received inputs: {list(specs)}"
        )
    return specs, as_dict


class _Pipeline(tf.Module):
    """The exported module: holds the stages and builds the signature functions."""

    def __init__(self, lfset: Any, label_model: Any, classifier: Any, from_logits: bool) -> None:
        super().__init__(name="tfsnorkel_pipeline")
        self.lfset = lfset
        self.label_model = label_model
        self.classifier = classifier
        self._from_logits = from_logits

    def weak_label_fn(self) -> tf.types.experimental.ConcreteFunction:
        if self.lfset is not None:
            sig = dict(self.lfset.input_signature())

            def weak_label(features):
                votes = tf.cast(self.lfset(features), tf.int32)
                return self._from_votes(votes)

            return tf.function(weak_label, input_signature=[sig]).get_concrete_function()

        def weak_label_votes(votes):
            return self._from_votes(tf.cast(votes, tf.int32))

        spec = tf.TensorSpec([None, None], tf.int32, name="votes")
        return tf.function(weak_label_votes, input_signature=[spec]).get_concrete_function()

    def _from_votes(self, votes: tf.Tensor) -> dict[str, tf.Tensor]:
        out = {"votes": votes, "covered": tf.reduce_any(tf.not_equal(votes, ABSTAIN), axis=1)}
        if self.label_model is not None:
            probs = tf.cast(self.label_model(votes), tf.float32)
            out["soft_labels"] = probs
            out["label"] = tf.argmax(probs, axis=1, output_type=tf.int32)
        return out

    def serving_fn(self) -> tf.types.experimental.ConcreteFunction:
        from tfsnorkel.classify.models import logits_to_probs

        specs, as_dict = _classifier_specs(self.classifier)
        c = _num_classes(self.classifier)

        def probs_of(x):
            return logits_to_probs(self.classifier(x, training=False), self._from_logits)

        def serve(features):
            features = {
                k: valid_utf8(v) if v.dtype == tf.string else v for k, v in features.items()
            }
            x = features if as_dict else next(iter(features.values()))
            n = tf.shape(next(iter(features.values())))[0]
            probs = probs_of(x) if c is None else _in_chunks(probs_of, x, n, SERVING_BATCH, c)
            return {
                "probabilities": probs,
                "label": tf.argmax(probs, axis=1, output_type=tf.int32),
            }

        return tf.function(serve, input_signature=[specs]).get_concrete_function()


def _num_classes(classifier: Any) -> int | None:
    """Columns of ``logits_to_probs(classifier(x))``, when the model's output shape says."""
    outs = getattr(classifier, "outputs", None)
    if not outs or len(outs) != 1:
        return None
    shape = tuple(outs[0].shape)
    if len(shape) == 1 or (len(shape) == 2 and shape[-1] == 1):
        return 2
    return int(shape[-1]) if len(shape) == 2 and shape[-1] is not None else None


def _in_chunks(fn: Any, x: Any, n: tf.Tensor, size: int, c: int) -> tf.Tensor:
    """``fn(x)`` computed ``size`` rows at a time and concatenated (``[n, c]`` float32)."""
    k = (n + size - 1) // size
    parts = tf.TensorArray(tf.float32, size=k, infer_shape=False,
                           element_shape=tf.TensorShape([None, c]))

    def body(i, parts):
        start = i * size
        stop = tf.minimum(start + size, n)
        chunk = tf.nest.map_structure(lambda t: t[start:stop], x)
        return i + 1, parts.write(i, tf.cast(fn(chunk), tf.float32))

    _, parts = tf.while_loop(lambda i, _: i < k, body, [tf.constant(0), parts])
    return tf.reshape(parts.concat(), [-1, c])


def export_pipeline(
    path: str | os.PathLike,
    lfset: Any = None,
    label_model: Any = None,
    classifier: Any = None,
    *,
    from_logits: bool = True,
    python_lfs: Literal["raise", "skip"] = "raise",
) -> dict[str, list[str]]:
    """Writes one SavedModel with ``serving_default`` and ``weak_label`` signatures.

    Args:
        path: output directory.
        lfset: an ``LFSet`` (``lfset(features) -> int32 [batch, m]``,
            ``lfset.input_signature()``, ``lfset.python_lf_names``). Defaults to `None`.
        label_model: a fitted label model that maps votes to ``[batch, C]`` probabilities in TF
            ops (``tfsnorkel.LabelModel``, a Keras layer). Defaults to `None`.
        classifier: a Keras model over raw inputs (e.g. :func:`tfsnorkel.text_classifier`).
            Defaults to `None`.
        from_logits: whether the classifier outputs logits (one logit: binary sigmoid; ``C``:
            softmax). Defaults to `True`.
        python_lfs: what to do when ``lfset`` has Python LFs, which cannot be served:
            ``"raise"`` refuses; ``"skip"`` leaves the LF set (hence ``weak_label`` over raw
            features) out and warns. Defaults to `"raise"`.

    Returns:
        ``{signature name: sorted input names}`` of what was written.

    The LF set and the label model must belong together: a `tfsnorkel.LabelModel` records
    the names and cardinality of the LFs it was fitted on, and a different, reordered or
    resized LF set is refused (``LabelModel.check_lfs``). The SavedModel is written to a
    temporary directory beside ``path`` and swapped in once complete; a second writer to the
    same ``path`` at the same time gets :class:`tfsnorkel.outputs.OutputLockedError`.

    Raises:
        ValueError: nothing to export; Python LFs with ``python_lfs="raise"`` (named in the
            message); a stage that is not expressible in TF ops; a PyFunc op in the result;
            an LF set that does not match the label model (the first mismatch named); a
            saved label model passed as the classifier, or a classifier as the label model.
            ``path`` is a non-empty directory without a SavedModel (it would be replaced).
        OutputLockedError: another export to ``path`` is running.

    Example:
        >>> export_pipeline("export/spam", lfset=lfs, classifier=clf)  # doctest: +SKIP
        {'serving_default': ['text'], 'weak_label': ['text']}
    """
    if python_lfs not in ("raise", "skip"):
        raise ValueError(
            f"python_lfs must be 'raise' or 'skip'. Received: python_lfs={python_lfs!r}"
        )
    if lfset is None and label_model is None and classifier is None:
        raise ValueError(
            "export_pipeline needs at least one of lfset, label_model, classifier. "
            "Received: all None"
        )
    _check_stages(lfset, label_model, classifier)
    if lfset is not None:
        py = list(getattr(lfset, "python_lf_names", []))
        if py:
            msg = (
                f"the LF set has Python LFs {py}, which run through tf.numpy_function and "
                "cannot be served from a SavedModel; rewrite them as compiled LFs (keyword_lf, "
                "regex_lf, ...)"
            )
            if python_lfs == "raise":
                raise ValueError(msg + " or pass python_lfs='skip'. Received: python_lfs='raise'")
            warnings.warn(msg + "; exporting without the LF set (no raw-feature weak_label)",
                          stacklevel=2)
            lfset = None
            if label_model is None and classifier is None:
                raise ValueError(
                    "nothing servable is left: the LF set has only-Python LFs skipped and no "
                    f"label model or classifier was given. Received Python LFs: {py}"
                )
    module = _Pipeline(lfset, label_model, classifier, from_logits)
    signatures: dict[str, Any] = {}
    try:
        if lfset is not None or label_model is not None:
            signatures["weak_label"] = module.weak_label_fn()
        if classifier is not None:
            signatures["serving_default"] = module.serving_fn()
    except (TypeError, NotImplementedError, AttributeError) as exc:
        raise ValueError(
            "a pipeline stage could not be traced into TF ops (a label model must be a Keras "
            f"layer / tf.Module computing in TensorFlow). Received error: {exc}"
        ) from exc
    if "serving_default" not in signatures:
        signatures["serving_default"] = signatures["weak_label"]
    # Written to a temporary directory beside ``path`` and swapped in only when complete and
    # servable: a failure (a full disk, a PyFunc op) leaves the previous export intact.
    path = Path(path)
    if path.is_dir() and any(path.iterdir()) and not (path / "saved_model.pb").is_file():
        raise ValueError(
            "path is a non-empty directory that holds no SavedModel; the export replaces the "
            "whole directory, so it refuses to overwrite other files. Choose a new or empty "
            f"directory. Received: path={str(path)!r}"
        )
    with OutputLock(path, is_dir=False), atomic_dir(path) as tmp:
        tf.saved_model.save(module, str(tmp), signatures=signatures)
        bad = find_pyfunc_ops(tmp)
        if bad:
            raise ValueError(
                f"the export at {str(path)!r} holds Python callback ops and would not serve. "
                f"Received ops: {bad[:5]}"
            )
    return {name: sorted(_flat_names(fn)) for name, fn in signatures.items()}


def _holds_label_model(model: Any) -> bool:
    from tfsnorkel.labelmodel.layer import LabelModel

    if isinstance(model, LabelModel):
        return True
    return any(isinstance(layer, LabelModel) for layer in getattr(model, "layers", []) or [])


def _check_stages(lfset: Any, label_model: Any, classifier: Any) -> None:
    """Refuses stages that do not fit together (silently wrong exports otherwise)."""
    import keras

    if classifier is not None and _holds_label_model(classifier):
        raise ValueError(
            "classifier holds a tfsnorkel LabelModel (a label model saved by LabelModel.save "
            "or `tfsnorkel fit`), not a classifier over raw features; pass it as label_model=. "
            f"Received: classifier={type(classifier).__name__}"
        )
    if isinstance(label_model, keras.Model) and not _holds_label_model(label_model):
        raise ValueError(
            "label_model is a Keras model without a LabelModel layer (a classifier?); a "
            "label model maps LF votes to soft labels: pass a fitted tfsnorkel.LabelModel. "
            f"Received: label_model={type(label_model).__name__}"
        )
    if lfset is not None and label_model is not None and hasattr(label_model, "check_lfs"):
        names = list(lfset.names)
        label_model.check_lfs(names, getattr(lfset, "cardinality", None))
        if getattr(label_model, "lf_names", None) is None:
            warnings.warn(
                "the label model does not record the names of the LFs it was fitted on (fit "
                "without lf_names=), so only their number was checked against the LF set; "
                "refit with LabelModel.fit(L, lf_names=lfset.names)",
                stacklevel=3,
            )


def _flat_names(fn: Any) -> list[str]:
    return [s.name for s in tf.nest.flatten(fn.structured_input_signature[0])]
