"""One SavedModel for the whole pipeline (TF Serving contract).

:func:`export_pipeline` wraps any subset of (LF set, label model, classifier) in a
``tf.Module`` whose ``tf.function`` signatures take plain string/numeric tensors with a free
batch dimension (``[None]``) and saves it with ``tf.saved_model.save``:

* ``serving_default``: raw features -> ``probabilities`` ``[batch, C]`` and ``label``
  ``[batch]`` from the classifier (without a classifier: the same as ``weak_label``);
* ``weak_label``: raw features -> ``votes`` ``int32 [batch, m]`` from the LF set, ``covered``
  (some LF voted) and, with a label model, ``soft_labels`` ``[batch, C]`` and ``label``.
  With a label model but no LF set it takes the votes themselves (``votes``, ``[None, None]``).

With ``class_names`` both signatures also return ``class_name`` (``tf.string [batch]``, the
name of ``label``).

Signature argument names: a SavedModel input must be named like ``[A-Za-z0-9.][A-Za-z0-9_.-]*``,
so a column such as ``Consumer complaint narrative`` is served as
``Consumer_complaint_narrative`` (:func:`signature_name`: every other character becomes ``_``,
a name that does not start with a letter or digit gets ``f_`` in front, and a clash gets ``_2``,
``_3``, ...). Both signatures use the same argument name for the same column, and the map back
to the columns, with the class names, is written to ``assets.extra/tfsnorkel_signature.json`` in
the export (:data:`SIGNATURE_INFO`)::

    {"inputs": {"Consumer_complaint_narrative": "Consumer complaint narrative"},
     "class_names": ["ham", "spam"], "signatures": {"weak_label": [...], ...}}

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

import json
import os
import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

from tfsnorkel.labeling.builtin import valid_utf8
from tfsnorkel.labels import ABSTAIN
from tfsnorkel.outputs import OutputLock, atomic_dir

__all__ = [
    "PYFUNC_OPS",
    "SERVING_BATCH",
    "SIGNATURE_INFO",
    "export_pipeline",
    "find_pyfunc_ops",
    "read_signature_info",
    "signature_name",
    "signature_names",
]

#: Op types that call back into Python and cannot be served.
PYFUNC_OPS: frozenset[str] = frozenset({"PyFunc", "PyFuncStateless", "EagerPyFunc"})

#: Rows the exported classifier runs at once; a larger request is cut into chunks of this size
#: inside the signature (a text classifier's dense tf-idf of 100k texts would not fit).
SERVING_BATCH = 1024

#: Where an export records its signature inputs -> columns map and class names (relative to the
#: SavedModel directory; ``assets.extra`` is the SavedModel convention for files TF ignores).
SIGNATURE_INFO = "assets.extra/tfsnorkel_signature.json"

_NAME_OK = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def signature_name(column: str) -> str:
    """The SavedModel argument name a column is served under.

    Args:
        column: a column (feature) name, e.g. ``"Consumer complaint narrative"``.

    Returns:
        ``column`` itself when it is a valid argument name, else ``column`` with every
        character outside ``[A-Za-z0-9_.-]`` replaced by ``_`` (and ``f_`` in front when it
        does not start with a letter or digit).

    Example:
        >>> signature_name("Consumer complaint narrative"), signature_name("text")
        ('Consumer_complaint_narrative', 'text')
        >>> signature_name("2nd col"), signature_name("é")
        ('2nd_col', 'f__')
    """
    column = str(column)
    if _NAME_OK.match(column):
        return column
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", column)
    return safe if _NAME_OK.match(safe) else "f_" + safe


def signature_names(columns: Sequence[str]) -> dict[str, str]:
    """``{column: argument name}`` for several columns, clashes resolved with ``_2``, ``_3``...

    Args:
        columns: column names, in order (the first of two clashing columns keeps the name).

    Returns:
        ``{column: unique argument name}``.

    Example:
        >>> signature_names(["a b", "a_b", "text"])
        {'a b': 'a_b', 'a_b': 'a_b_2', 'text': 'text'}
    """
    out: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        base = signature_name(col)
        name, k = base, 2
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        taken.add(name)
        out[col] = name
    return out


def read_signature_info(path: str | os.PathLike) -> dict[str, Any]:
    """The ``{"inputs": {argument: column}, "class_names": [...] | None, "signatures": ...}``
    record of an export written by :func:`export_pipeline` (see :data:`SIGNATURE_INFO`).

    Args:
        path: a SavedModel directory.

    Returns:
        The record; ``{"inputs": {}, "class_names": None, "signatures": {}}`` for an export
        without one.

    Example:
        >>> read_signature_info("export/spam")["inputs"]     # doctest: +SKIP
        {'Consumer_complaint_narrative': 'Consumer complaint narrative'}
    """
    f = Path(path) / SIGNATURE_INFO
    if not f.is_file():
        return {"inputs": {}, "class_names": None, "signatures": {}}
    return json.loads(f.read_text(encoding="utf-8"))


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
    """Input specs of a Keras model (free batch dim), keyed by the model's input names, and
    whether it takes a dict."""
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

    def __init__(self, lfset: Any, label_model: Any, classifier: Any, from_logits: bool,
                 names: Mapping[str, str], class_names: Sequence[str] | None = None) -> None:
        super().__init__(name="tfsnorkel_pipeline")
        self.lfset = lfset
        self.label_model = label_model
        self.classifier = classifier
        self._from_logits = from_logits
        self._names = dict(names)  # {column: signature argument name}
        self._class_names = None if class_names is None else [str(c) for c in class_names]

    def _with_class_name(self, out: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        if self._class_names is not None and "label" in out:
            out["class_name"] = tf.gather(tf.constant(self._class_names), out["label"])
        return out

    def weak_label_fn(self) -> tf.types.experimental.ConcreteFunction:
        if self.lfset is not None:
            specs = dict(self.lfset.input_signature())
            arg = {f: self._names[f] for f in specs}
            sig = {arg[f]: tf.TensorSpec(s.shape, s.dtype, name=arg[f]) for f, s in specs.items()}

            def weak_label(features):
                votes = tf.cast(self.lfset({f: features[arg[f]] for f in specs}), tf.int32)
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
        return self._with_class_name(out)

    def serving_fn(self) -> tf.types.experimental.ConcreteFunction:
        from tfsnorkel.classify.models import logits_to_probs

        model_specs, as_dict = _classifier_specs(self.classifier)
        arg = {k: self._names[k] for k in model_specs}
        specs = {arg[k]: tf.TensorSpec(s.shape, s.dtype, name=arg[k])
                 for k, s in model_specs.items()}
        c = _num_classes(self.classifier)

        def probs_of(x):
            return logits_to_probs(self.classifier(x, training=False), self._from_logits)

        def serve(features):
            features = {
                k: valid_utf8(features[arg[k]]) if features[arg[k]].dtype == tf.string
                else features[arg[k]]
                for k in model_specs
            }
            x = features if as_dict else next(iter(features.values()))
            n = tf.shape(next(iter(features.values())))[0]
            probs = probs_of(x) if c is None else _in_chunks(probs_of, x, n, SERVING_BATCH, c)
            return self._with_class_name({
                "probabilities": probs,
                "label": tf.argmax(probs, axis=1, output_type=tf.int32),
            })

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
    classifier_input: str | None = None,
    class_names: Sequence[str] | None = None,
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
        classifier_input: the column a single-input classifier reads (e.g. the text column it
            was trained on), so that ``serving_default`` takes the same argument as
            ``weak_label`` for that column. Defaults to `None` (the Keras input's name).
        class_names: the classes' names in index order; both signatures then also return
            ``class_name`` and the names are recorded in :data:`SIGNATURE_INFO`. Defaults
            to `None`.

    Returns:
        ``{signature name: sorted input names}`` of what was written: the argument names
        (:func:`signature_name` of each column; the map back to the columns is in
        :data:`SIGNATURE_INFO`).

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
    class_names = _check_class_names(class_names, lfset, label_model, classifier)
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
    columns: list[str] = [] if lfset is None else [str(f) for f in lfset.input_signature()]
    model_columns: dict[str, str] = {}
    if classifier is not None:
        model_inputs = list(_classifier_specs(classifier)[0])
        if classifier_input is not None and len(model_inputs) == 1:
            model_columns = {model_inputs[0]: str(classifier_input)}
        else:
            model_columns = {k: k for k in model_inputs}
    names = signature_names(list(dict.fromkeys([*columns, *model_columns.values()])))
    stage_names = {**{c: names[c] for c in columns},
                   **{k: names[c] for k, c in model_columns.items()}}
    module = _Pipeline(lfset, label_model, classifier, from_logits, stage_names, class_names)
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
        info = {
            "inputs": {names[c]: c for c in names},
            "class_names": class_names,
            "signatures": {k: sorted(_flat_names(fn)) for k, fn in signatures.items()},
        }
        (tmp / SIGNATURE_INFO).parent.mkdir(parents=True, exist_ok=True)
        (tmp / SIGNATURE_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
        bad = find_pyfunc_ops(tmp)
        if bad:
            raise ValueError(
                f"the export at {str(path)!r} holds Python callback ops and would not serve. "
                f"Received ops: {bad[:5]}"
            )
    return {name: sorted(_flat_names(fn)) for name, fn in signatures.items()}


def _check_class_names(class_names: Sequence[str] | None, lfset: Any, label_model: Any,
                       classifier: Any) -> list[str] | None:
    """``class_names`` as a list of distinct non-empty strings, one per class."""
    if class_names is None:
        return None
    if isinstance(class_names, (str, bytes)) or not all(
        isinstance(c, str) and c for c in class_names
    ):
        raise ValueError(
            "class_names must be a list of non-empty strings, one per class in index order. "
            f"Received: class_names={class_names!r}"
        )
    names = list(class_names)
    if len(set(names)) != len(names):
        dup = next(c for c in names if names.count(c) > 1)
        raise ValueError(f"class_names must be distinct. Received: {dup!r} twice in {names}")
    sizes = {
        "the LF set": getattr(lfset, "cardinality", None),
        "the label model": getattr(label_model, "cardinality", None),
        "the classifier": None if classifier is None else _num_classes(classifier),
    }
    for what, c in sizes.items():
        if isinstance(c, int) and c != len(names):
            raise ValueError(
                f"class_names has {len(names)} names but {what} has {c} classes. "
                f"Received: class_names={names}"
            )
    return names


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
