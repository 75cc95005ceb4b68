"""The classifier stage in one call: a text classifier trained on soft labels, early-stopped on gold.

:func:`fit_text_classifier` is the documented recipe of :mod:`tfsnorkel.classify.models`
(``text_classifier`` + ``NoiseAwareLoss`` + ``soft_label_dataset`` + early stopping on a
small gold dev set) as a function, so that scripts, the command line and notebooks do not
each copy it. Everything it builds is stock Keras: the returned model is a plain
``keras.Model`` that ``predict_proba``, ``export_pipeline`` and ``model.save`` take as is.

The defaults (:data:`TRAINING_DEFAULTS`, measured on the gold dev splits of youtube, trec
and the CFPB complaints; numbers in BENCHMARKS.md, "Classifier"): binary tasks keep the plain
recipe (word uni+bigram tf-idf, Adam at ``1e-2``, early stopping on the dev loss). Tasks with
more classes add character 2-5-gram tf-idf features, scale each feature block to unit L2
norm, weigh rows by **balanced class weights** (rare classes count as much as frequent ones),
train with Adam at ``0.03`` (the plain recipe diverged on CFPB) and stop early on the dev
split's ``dev_metric`` (its dev loss against gold kept the first, least confident epochs).
Optionally, :mod:`tfsnorkel.classify.selftrain` continues on the rows no LF covers
(``self_training=True``).

Speed: bag-of-words features have no trainable weights, so the texts are vectorized once
(a sparse matrix) and only the dense head trains; the returned model still takes raw strings.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import keras
import numpy as np
import tensorflow as tf

from tfsnorkel.classify.data import (
    Features,
    WeightSpec,
    _check_probs,
    _resolve_weights,
    covered_rows,
    gold_dataset,
    soft_label_dataset,
)
from tfsnorkel.classify.encoders import BertTextEncoder
from tfsnorkel.classify.losses import NoiseAwareLoss
from tfsnorkel.classify.models import (
    _strings,
    logits_to_probs,
    predict_proba,
    text_classifier,
)
from tfsnorkel.classify.selftrain import SelfTraining, run_self_training
from tfsnorkel.labels import check_gold_labels, check_label_matrix
from tfsnorkel.metrics import METRICS, metric_score

__all__ = [
    "DEFAULT_TEXT_RECIPE",
    "FINE_TUNE_LEARNING_RATE",
    "TRAINING_DEFAULTS",
    "class_weights",
    "fit_text_classifier",
]

_LABEL_TYPES = ("soft", "hard", "auto")
_MONITORS = ("dev_metric", "val_loss")
_BAG_MODES = ("tf_idf", "multi_hot", "count")

#: ``text_classifier`` options that :func:`fit_text_classifier` adds for bag-of-words modes
#: on tasks with more than two classes, unless the caller passes them (measured:
#: BENCHMARKS.md, "Classifier").
DEFAULT_TEXT_RECIPE: dict[str, Any] = {"char_ngrams": (2, 5), "unit_norm": True}
#: The training defaults by task kind: ``"binary"`` is the earlier recipe, unchanged (it
#: scored higher on youtube's gold dev split); ``"multiclass"`` the measured one for C > 2
#: (higher on the trec and CFPB gold dev splits; the plain recipe diverged on CFPB).
#: Adam's default learning rate when a pretrained backbone is fine-tuned
#: (``text_classifier(backbone=..., fine_tune=True)``): the usual BERT fine-tuning range.
FINE_TUNE_LEARNING_RATE = 3e-5
TRAINING_DEFAULTS: dict[str, dict[str, Any]] = {
    "binary": {"learning_rate": 1e-2, "class_weight": None, "monitor": "val_loss",
               "patience": 3},
    "multiclass": {"learning_rate": 0.03, "class_weight": "balanced", "monitor": "dev_metric",
                   "patience": 5},
}


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received: {name}={value!r}")
    return int(value)


def _dev_batch_size(n_dev: int, replicas: int) -> int:
    """Up to 256 dev rows per batch; under a strategy, a multiple of the replica count."""
    if n_dev < replicas:
        raise ValueError(
            f"the dev set needs at least one row per replica ({replicas}). Received: "
            f"{n_dev} dev rows"
        )
    return min(256, n_dev) // replicas * replicas


def class_weights(targets: np.ndarray, power: float = 1.0, max_weight: float = 10.0) -> np.ndarray:
    """Per-class weights ``(1 / (C * prior_c)) ** power`` from soft targets ``[N, C]``.

    ``prior_c`` is the mean target mass of class ``c``; weights are capped at ``max_weight``
    (a class with almost no mass would otherwise dominate). With ``power=1`` the row weights
    ``targets @ weights`` average 1 over the rows (before capping), so the learning rate
    keeps its meaning.

    Args:
        targets: ``[N, C]`` soft or one-hot targets.
        power: `1` is "balanced"; `0` gives all ones. Defaults to `1.0`.
        max_weight: cap on a class weight. Defaults to `10.0`.

    Returns:
        ``float64 [C]`` class weights.

    Example:
        >>> class_weights(np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])).tolist()
        [0.6666666666666666, 2.0]
    """
    prior = np.asarray(targets, np.float64).mean(axis=0)
    C = prior.shape[0]
    with np.errstate(divide="ignore"):
        w = (1.0 / (C * prior)) ** float(power)
    return np.minimum(np.where(np.isfinite(w), w, max_weight), max_weight)


def _class_weight_power(class_weight: Any) -> float:
    if class_weight is None or class_weight is False:
        return 0.0
    if class_weight == "balanced":
        return 1.0
    numeric = isinstance(class_weight, (int, float, np.floating)) and not isinstance(
        class_weight, bool
    )
    if numeric and class_weight >= 0:
        return float(class_weight)
    raise ValueError(
        "class_weight must be 'balanced', None, or a power >= 0 (0.5 is half-way to "
        f"balanced). Received: class_weight={class_weight!r}"
    )


def _head_layers(clf: keras.Model) -> list[keras.layers.Layer]:
    """The dense layers after the text features (``hidden_i``, ``dropout_i``, ``logits``)."""
    return [
        layer
        for layer in clf.layers
        if layer.name == "logits" or layer.name.startswith(("hidden_", "dropout_"))
    ]


def _feature_model(clf: keras.Model) -> keras.Model | None:
    """Raw strings -> the head's input features, when that part has no trainable weights."""
    head = _head_layers(clf)
    if not head or head[-1].name != "logits":
        return None
    features = keras.Model(clf.inputs, head[0].input, name=f"{clf.name}_features")
    return None if features.trainable_weights else features


@dataclass
class _SparseRows:
    """A featurized text set: row ``i``'s nonzero columns and values, as ragged tensors."""

    cols: tf.RaggedTensor
    vals: tf.RaggedTensor
    width: int

    @classmethod
    def of(cls, features: keras.Model, texts: np.ndarray, chunk: int | None = None) -> _SparseRows:
        """Featurizes ``texts`` in chunks (512 texts; 32 for a pretrained encoder, whose
        attention is ``[chunk, heads, T, T]``). An encoder pads each chunk to its longest
        text, so its texts go in sorted by length (through one traced function) and the rows
        are put back in order afterwards."""
        encoder = any(isinstance(layer, BertTextEncoder) for layer in features.layers)
        chunk = chunk or (32 if encoder else 512)
        n = len(texts)
        order = np.argsort([len(t) for t in texts], kind="stable") if encoder else np.arange(n)
        run = tf.function(features, reduce_retracing=True) if encoder else features
        cols, vals, lengths = [], [], []
        width = int(features.output.shape[-1])
        for start in range(0, n, chunk):
            dense = np.asarray(run(tf.constant(texts[order[start : start + chunk]], dtype=tf.string)))
            r, c = np.nonzero(dense)  # row-major: columns ascending within each row
            cols.append(c.astype(np.int64))
            vals.append(dense[r, c].astype(np.float32))
            lengths.append(np.bincount(r, minlength=len(dense)))
        lengths_all = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
        col_rt = tf.RaggedTensor.from_row_lengths(
            np.concatenate(cols or [np.zeros(0, np.int64)]), lengths_all)
        val_rt = tf.RaggedTensor.from_row_lengths(
            np.concatenate(vals or [np.zeros(0, np.float32)]), lengths_all)
        if encoder:  # row i of the result is text i again
            back = np.argsort(order, kind="stable")
            col_rt, val_rt = tf.gather(col_rt, back), tf.gather(val_rt, back)
        return cls(col_rt, val_rt, width)

    def gather(self, idx: tf.Tensor) -> tf.SparseTensor:
        cols = tf.gather(self.cols, idx)
        vals = tf.gather(self.vals, idx)
        rows = cols.value_rowids()
        n = tf.shape(idx, out_type=tf.int64)[0]
        return tf.SparseTensor(
            tf.stack([rows, cols.flat_values], axis=1), vals.flat_values, [n, self.width]
        )

    def to_sparse(self, idx: tf.Tensor, *rest: tf.Tensor) -> tuple:
        return (self.gather(tf.reshape(idx, [-1])), *rest)


class _KeepBestOnDev(keras.callbacks.Callback):
    """Early stopping on a gold dev score (ties broken by the dev loss); restores the best."""

    def __init__(self, score: Callable[[], float] | None, patience: int) -> None:
        super().__init__()
        self._score = score
        self.patience = patience
        self.best_key: tuple[float, float] | None = None
        self.best_score = -np.inf
        self.best_weights: list[np.ndarray] | None = None
        self.best_epoch = -1
        self.scores: list[float] = []
        self._wait = 0

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs or {}
        score = float(self._score()) if self._score is not None else 0.0
        self.scores.append(score)
        key = (score, -float(logs.get("val_loss", 0.0)))
        if self.best_key is None or key > self.best_key:
            self.best_key, self.best_score, self.best_epoch = key, score, epoch
            self.best_weights = self.model.get_weights()
            self._wait = 0
        else:
            self._wait += 1
            if self._wait >= self.patience:
                self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


@dataclass
class _Run:
    """One training run's outcome: the kept weights, Keras's history, the dev score."""

    weights: list[np.ndarray]
    history: keras.callbacks.History
    dev_score: float
    label_type: str


def _as_texts(values: Features, what: str) -> np.ndarray:
    arr = _strings(values, what)
    if isinstance(arr, tf.Tensor):
        arr = arr.numpy().astype(object)
    return np.asarray(arr, dtype=object)


class _Trainer:
    """A built text classifier, its vectorized training/dev texts, and how to train it.

    Every :meth:`run` starts from the same initial weights (or given ones) with a fresh
    optimizer, so runs with different targets (soft/hard, self-training rounds) compare
    like with like; :meth:`finish` puts the chosen run's weights into the model.
    """

    def __init__(
        self,
        texts: Features,
        cardinality: int,
        dev_texts: Features | None,
        dev_y: np.ndarray | None,
        *,
        epochs: int,
        patience: int,
        batch_size: int,
        shuffle: bool,
        learning_rate: float,
        monitor: str,
        dev_metric: str,
        seed: int | None,
        verbose: int | str,
        callbacks: Sequence[keras.callbacks.Callback],
        strategy: tf.distribute.Strategy | None,
        classifier_kwargs: dict[str, Any],
    ) -> None:
        self.texts = _as_texts(texts, "texts")
        self.C = cardinality
        self.dev_texts = None if dev_texts is None else _as_texts(dev_texts, "dev_texts")
        self.dev_y = dev_y
        self.epochs, self.patience, self.batch_size = epochs, patience, batch_size
        self.shuffle, self.learning_rate, self.monitor = shuffle, learning_rate, monitor
        self.dev_metric, self.seed, self.verbose = dev_metric, seed, verbose
        self.callbacks, self.strategy = list(callbacks), strategy
        self.replicas = 1 if strategy is None else strategy.num_replicas_in_sync
        if seed is not None:
            keras.utils.set_random_seed(seed)
        with self._scope():
            self.clf = text_classifier(cardinality, adapt_data=self.texts, **classifier_kwargs)
            self.clf.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=NoiseAwareLoss())
        features = _feature_model(self.clf)
        self.rows = self.dev_rows = self.dev_all = None
        self._map: Callable | None = None
        if self.replicas == 1 and features is not None:
            # Vectorize once; train the head on sparse rows (same math, no per-epoch n-grams).
            self.rows = _SparseRows.of(features, self.texts)
            inp = keras.Input(shape=(self.rows.width,), sparse=True, name="features")
            x = inp
            for layer in _head_layers(self.clf):
                x = layer(x)
            self.model = keras.Model(inp, x, name=f"{self.clf.name}_head")
            self._map = self.rows.to_sparse
            if self.dev_texts is not None:
                self.dev_rows = _SparseRows.of(features, self.dev_texts)
                self.dev_all = self.dev_rows.gather(tf.range(len(self.dev_texts), dtype=tf.int64))
        elif self.replicas > 1:
            # Keras 3 reduces the first batch of ``fit``/``evaluate`` across replicas, which
            # fails for string tensors: the strings are vectorized in the input pipeline and
            # the rest of the model (sharing its weights with ``clf``) is trained.
            if features is not None:
                vectorize, head_input = features, _head_layers(self.clf)[0].input
            else:
                layer = self.clf.get_layer("vectorize")
                vectorize, head_input = layer, layer.output
            with self._scope():
                self.model = keras.Model(head_input, self.clf.output, name=f"{self.clf.name}_head")
            self._map = functools.partial(_vectorized, vectorize)
        else:
            self.model = self.clf
        self.init_weights = self.model.get_weights()

    def _scope(self) -> Any:
        """A fresh ``strategy.scope()`` (they cannot be re-entered), or a null context."""
        return self.strategy.scope() if self.strategy is not None else contextlib.nullcontext()

    # -- predictions -------------------------------------------------------------------
    def _proba_rows(self, rows: _SparseRows, n: int, chunk: int = 2048) -> np.ndarray:
        out = []
        for start in range(0, n, chunk):
            idx = tf.range(start, min(n, start + chunk), dtype=tf.int64)
            out.append(logits_to_probs(self.model(rows.gather(idx), training=False)).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.C), np.float32)

    def dev_proba(self) -> np.ndarray:
        if self.dev_rows is not None:
            return logits_to_probs(self.model(self.dev_all, training=False)).numpy()
        return predict_proba(self.clf, self.dev_texts)

    def train_proba(self) -> np.ndarray:
        """The current model's probabilities ``[N, C]`` on every training text."""
        if self.rows is not None:
            return self._proba_rows(self.rows, len(self.texts))
        return predict_proba(self.clf, self.texts)

    def dev_score(self, metric: str | None = None) -> float:
        return metric_score(
            self.dev_y, self.dev_proba(), metric or self.dev_metric, cardinality=self.C
        )

    # -- training ----------------------------------------------------------------------
    def _features(self, idx: np.ndarray) -> Any:
        return idx.astype(np.int64) if self.rows is not None else self.texts[idx]

    def run(
        self,
        targets: np.ndarray,
        keep: np.ndarray,
        weights: np.ndarray | None,
        label_type: str,
        init_weights: list[np.ndarray] | None = None,
    ) -> _Run:
        """Trains on rows ``keep`` (indices) towards ``targets[keep]``; returns the kept run."""
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        self.model.set_weights(self.init_weights if init_weights is None else init_weights)
        with self._scope():
            self.model.compile(
                optimizer=keras.optimizers.Adam(self.learning_rate), loss=NoiseAwareLoss()
            )
        train = soft_label_dataset(
            self._features(keep),
            targets[keep],
            batch_size=self.batch_size,
            shuffle=self.shuffle,
            seed=self.seed,
            label_type=label_type,
            confidence_weights=False if weights is None else weights[keep],
            drop_remainder=self.replicas > 1,  # every batch splits evenly over the replicas
        )
        dev = None
        if self.dev_texts is not None:
            n_dev = len(self.dev_texts)
            dev_feats = np.arange(n_dev) if self.dev_rows is not None else self.dev_texts
            dev = gold_dataset(
                dev_feats, self.dev_y, self.C, batch_size=_dev_batch_size(n_dev, self.replicas)
            )
        if self._map is not None:
            dev_map = self.dev_rows.to_sparse if self.dev_rows is not None else self._map
            train = train.map(self._map, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            if dev is not None:
                dev = dev.map(dev_map, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if dev is None:
            stop: keras.callbacks.Callback = keras.callbacks.EarlyStopping(
                monitor="loss", patience=self.patience, restore_best_weights=True
            )
        else:
            score = self.dev_score if self.monitor == "dev_metric" else None
            stop = _KeepBestOnDev(score, self.patience)
        self.model.fit(
            train,
            validation_data=dev,
            epochs=self.epochs,
            verbose=self.verbose,
            shuffle=False,  # the dataset reshuffles itself every epoch
            callbacks=[stop, *self.callbacks],
        )
        if isinstance(stop, _KeepBestOnDev) and self.monitor == "dev_metric":
            self.model.history.history[f"dev_{self.dev_metric}"] = list(stop.scores)
        score = self.dev_score() if dev is not None else float("nan")
        return _Run(self.model.get_weights(), self.model.history, score, label_type)

    def finish(self, run: _Run) -> keras.Model:
        """Puts ``run``'s weights into the string-input model and returns it."""
        self.model.set_weights(run.weights)
        self.clf.history = run.history
        return self.clf


def _vectorized(vectorize: Callable, x: tf.Tensor, *rest: tf.Tensor) -> tuple:
    return (vectorize(x), *rest)


def _recipe_kwargs(classifier_kwargs: dict[str, Any], cardinality: int) -> dict[str, Any]:
    """``DEFAULT_TEXT_RECIPE`` under the caller's options (C > 2, bag-of-words modes only)."""
    mode = classifier_kwargs.get("mode", "tf_idf")
    encoder_only = (classifier_kwargs.get("backbone") is not None
                    and not classifier_kwargs.get("bag_of_words"))
    if (cardinality == 2 or mode not in _BAG_MODES or encoder_only
            or classifier_kwargs.get("vocabulary") is not None):
        return dict(classifier_kwargs)
    return {**DEFAULT_TEXT_RECIPE, **classifier_kwargs}


def fit_text_classifier(
    texts: Features,
    soft_labels: np.ndarray | Sequence[Sequence[float]],
    L: np.ndarray | None = None,
    *,
    dev_texts: Features | None = None,
    dev_y: np.ndarray | Sequence[int] | None = None,
    label_type: Literal["soft", "hard", "auto"] = "soft",
    dev_metric: str = "accuracy",
    monitor: Literal["dev_metric", "val_loss", "auto"] = "auto",
    epochs: int = 40,
    patience: int | None = None,
    batch_size: int = 64,
    shuffle: bool = True,
    learning_rate: float | None = None,
    class_weight: Literal["balanced", "auto"] | float | None = "auto",
    confidence_weights: WeightSpec = False,
    seed: int | None = 0,
    verbose: int | str = 0,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    strategy: tf.distribute.Strategy | None = None,
    self_training: bool | SelfTraining = False,
    **classifier_kwargs: Any,
) -> keras.Model:
    """Trains :func:`text_classifier` on soft labels with ``NoiseAwareLoss`` and early stopping.

    With a gold dev set (``dev_texts``, ``dev_y``), each epoch is scored on it
    (``monitor="dev_metric"``: ``dev_metric``, ties broken by the dev loss; or
    ``monitor="val_loss"``: the noise-aware loss against one-hot gold labels), training stops
    after ``patience`` epochs without improvement and the best epoch's weights are restored;
    without one, it stops when the training loss stops improving. ``label_type="auto"``
    trains on the soft labels and on their argmax and keeps the model that scores higher on
    the dev set (``dev_metric``; soft on a tie): soft labels are the better targets when the
    label model is calibrated, hard ones when it is not.

    The defaults depend on the task (:data:`TRAINING_DEFAULTS`, measured on gold dev splits):
    binary tasks keep the plain recipe (word n-gram tf-idf, Adam at ``1e-2``, early stopping
    on the dev loss, patience 3); tasks with more classes get :data:`DEFAULT_TEXT_RECIPE`
    (word and character n-gram tf-idf, unit norm), balanced class weights, Adam at ``0.03``
    and early stopping on ``dev_metric`` with patience 5. Every one is an argument.

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
        dev_metric: the dev score of early stopping and ``"auto"``, one of
            :data:`tfsnorkel.metrics.METRICS` (e.g. ``"f1_macro"`` for skewed classes).
            Defaults to `"accuracy"`.
        monitor: what early stopping watches on the dev set, ``"dev_metric"``,
            ``"val_loss"`` or ``"auto"`` (``"val_loss"`` for binary tasks, ``"dev_metric"``
            for more classes: the dev loss against gold kept the first, least confident
            epochs on CFPB). Defaults to `"auto"`.
        epochs: most epochs to train. Defaults to `40`.
        patience: epochs without improvement before stopping. Defaults to `None` (3 for
            binary tasks, 5 for more classes).
        batch_size: training batch size. Defaults to `64`.
        shuffle: reshuffle the training rows every epoch. Defaults to `True`.
        learning_rate: Adam's learning rate. Defaults to `None` (``1e-2`` for binary tasks,
            ``0.03`` for more classes, with unit-norm features; lower it, e.g. ``1e-3``, for
            ``hidden_units`` or ``mode="embedding"``; :data:`FINE_TUNE_LEARNING_RATE` when a
            ``backbone`` is fine-tuned).
        class_weight: ``"balanced"`` weighs each row by ``targets @ w`` with
            ``w_c = 1 / (C * prior_c)`` (``prior`` = mean soft label of the rows trained on,
            weights capped at 10; see :func:`class_weights`), a number is a power of those
            weights (``0.5``: half-way), ``None`` gives all rows weight 1. Multiplies
            ``confidence_weights``. ``"auto"``: ``None`` for binary tasks, ``"balanced"``
            for more classes. Defaults to `"auto"`.
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
        self_training: after the plain fit, rounds of confidence-thresholded self-training
            on the rows no LF covers (and, with ``SelfTraining(targets="product")``, covered
            rows the classifier and the soft labels confidently agree on), each kept only if
            it raises the dev score: ``True`` for :class:`SelfTraining`'s defaults, or a
            :class:`SelfTraining`. Needs a gold dev set. The rounds' dev scores are in
            ``model.self_training_log``. Defaults to `False`.
            The kept targets are in ``model.label_type_`` (``"soft"`` or ``"hard"``; what
            ``"auto"`` kept) and each tried kind's gold dev score (``dev_metric``) in
            ``model.label_type_scores_`` (empty without a dev set).
        **classifier_kwargs: passed to :func:`text_classifier` (``mode``, ``ngrams``,
            ``max_tokens``, ``char_ngrams``, ``unit_norm``, ``hidden_units``, ...), over
            :data:`DEFAULT_TEXT_RECIPE` for the bag-of-words modes when ``C > 2``; or
            ``backbone=`` (a pretrained encoder from :func:`tfsnorkel.load_bert_encoder`, frozen:
            each training and dev text is encoded once, in chunks sorted by length, and only
            the head trains) with ``fine_tune=True`` to train the encoder too.

    Returns:
        The trained, compiled ``keras.Model`` (raw strings to logits). ``model.history`` is
        Keras's ``History`` of the kept run (``history.history["val_loss"]`` with a dev set,
        and ``history.history["dev_<dev_metric>"]``, each epoch's dev score, when
        ``monitor="dev_metric"``).

    Raises:
        ValueError: only one of ``dev_texts`` / ``dev_y``; ``label_type="auto"`` without a
            dev set; bad ``epochs`` / ``patience`` / ``batch_size`` / ``label_type`` /
            ``monitor`` / ``class_weight``; ``self_training`` without a dev set; and every error of :func:`soft_label_dataset`
            and :func:`gold_dataset` (bad soft labels, lengths that differ, gold labels out
            of range).

    Example:
        >>> import numpy as np
        >>> texts = np.array(["win cash", "hi mum", "cash prize", "see you"] * 8)
        >>> P = np.array([[0.2, 0.8], [0.9, 0.1], [0.1, 0.9], [0.7, 0.3]] * 8)
        >>> clf = fit_text_classifier(texts, P, dev_texts=np.array(["win", "mum"]),
        ...                           dev_y=[1, 0], label_type="auto", epochs=5)
        >>> predict_proba(clf, ["prize"]).shape
        (1, 2)
        >>> clf.label_type_ in ("soft", "hard"), sorted(clf.label_type_scores_)
        (True, ['hard', 'soft'])
    """
    config = _self_training_config(self_training, dev_texts)
    trainer, P, covered, weights, label_types, class_w = _prepare(
        texts, soft_labels, L, dev_texts=dev_texts, dev_y=dev_y, label_type=label_type,
        dev_metric=dev_metric, monitor=monitor, epochs=epochs, patience=patience,
        batch_size=batch_size, shuffle=shuffle, learning_rate=learning_rate,
        class_weight=class_weight, confidence_weights=confidence_weights, seed=seed,
        verbose=verbose, callbacks=callbacks, strategy=strategy,
        classifier_kwargs=classifier_kwargs,
    )
    run, tried = _best_label_type(trainer, P, covered, weights, label_types)
    kept = run.label_type
    log: list[dict[str, float]] = []
    if config is not None:
        run, log = run_self_training(trainer, P, covered, weights, class_w, run, config)
    clf = trainer.finish(run)
    clf.label_type_ = kept
    clf.label_type_scores_ = ({r.label_type: float(r.dev_score) for r in tried}
                              if dev_texts is not None else {})
    if config is not None:
        clf.self_training_log = log
    return clf


def _self_training_config(self_training: Any, dev_texts: Any) -> SelfTraining | None:
    if self_training is False or self_training is None:
        return None
    if self_training is True:
        self_training = SelfTraining()
    if not isinstance(self_training, SelfTraining):
        raise TypeError(
            "self_training must be a bool or a tfsnorkel.SelfTraining. "
            f"Received: self_training={self_training!r}"
        )
    if dev_texts is None:
        raise ValueError(
            "self_training chooses its threshold and rounds on a gold dev set: give dev_texts "
            "and dev_y. Received: dev_texts=None"
        )
    return self_training


def _best_label_type(
    trainer: _Trainer,
    P: np.ndarray,
    covered: np.ndarray,
    weights: np.ndarray | None,
    label_types: Sequence[str],
) -> tuple[_Run, list[_Run]]:
    """The run with the best dev score (the first on a tie: soft before hard) and every run."""
    runs = [trainer.run(P, covered, weights, kind) for kind in label_types]
    best = runs[0]
    for run in runs[1:]:
        if run.dev_score > best.dev_score:
            best = run
    return best, runs


def _prepare(
    texts: Features,
    soft_labels: Any,
    L: np.ndarray | None,
    *,
    dev_texts: Features | None,
    dev_y: Any,
    label_type: str,
    dev_metric: str,
    monitor: str,
    epochs: int,
    patience: int,
    batch_size: int,
    shuffle: bool,
    learning_rate: float,
    class_weight: Any,
    confidence_weights: WeightSpec,
    seed: int | None,
    verbose: int | str,
    callbacks: Sequence[keras.callbacks.Callback],
    strategy: tf.distribute.Strategy | None,
    classifier_kwargs: dict[str, Any],
) -> tuple[_Trainer, np.ndarray, np.ndarray, np.ndarray | None, list[str], np.ndarray | None]:
    """Checks every argument, builds the trainer; returns it with the rows and weights."""
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
    if monitor not in (*_MONITORS, "auto"):
        raise ValueError(
            f"monitor must be one of {(*_MONITORS, 'auto')}. Received: monitor={monitor!r}"
        )
    P = _check_probs(soft_labels, None)
    C = P.shape[1]
    defaults = TRAINING_DEFAULTS["binary" if C == 2 else "multiclass"]
    monitor = defaults["monitor"] if monitor == "auto" else monitor
    class_weight = defaults["class_weight"] if class_weight == "auto" else class_weight
    if learning_rate is None:
        fine_tune = classifier_kwargs.get("fine_tune") and classifier_kwargs.get("backbone")
        learning_rate = FINE_TUNE_LEARNING_RATE if fine_tune else defaults["learning_rate"]
    patience = defaults["patience"] if patience is None else patience
    power = _class_weight_power(class_weight)
    batch_size = _positive_int(batch_size, "batch_size")
    epochs = _positive_int(epochs, "epochs")
    patience = _positive_int(patience, "patience")
    replicas = 1 if strategy is None else strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(
            f"batch_size must be a multiple of the strategy's {replicas} replicas, so that "
            f"each batch splits evenly. Received: batch_size={batch_size}"
        )
    n = len(_as_texts(texts, "texts"))
    if n != len(P):
        raise ValueError(
            f"features and soft labels differ in length. Received: {n} feature rows, "
            f"{len(P)} soft-label rows"
        )
    covered = np.arange(n)
    if L is not None:
        L = check_label_matrix(L)
        covered = covered_rows(L, len(P))
    gold = None
    if dev_texts is not None:
        gold = check_gold_labels(dev_y, cardinality=C)
        n_dev = len(_as_texts(dev_texts, "dev_texts"))
        if n_dev != len(gold):
            raise ValueError(
                f"dev_texts and dev_y differ in length. Received: {n_dev} dev texts, "
                f"{len(gold)} gold labels"
            )
        _dev_batch_size(n_dev, replicas)
    weights = _resolve_weights(confidence_weights, P)
    if power:
        row_w = P @ class_weights(P[covered], power)
        weights = row_w if weights is None else weights * row_w
    trainer = _Trainer(
        texts, C, dev_texts, gold, epochs=epochs, patience=patience, batch_size=batch_size,
        shuffle=bool(shuffle), learning_rate=float(learning_rate), monitor=monitor,
        dev_metric=dev_metric, seed=seed, verbose=verbose, callbacks=callbacks,
        strategy=strategy, classifier_kwargs=_recipe_kwargs(classifier_kwargs, C),
    )
    label_types = ["soft", "hard"] if label_type == "auto" else [label_type]
    class_w = class_weights(P[covered], power) if power else None
    return trainer, P, covered, weights, label_types, class_w
