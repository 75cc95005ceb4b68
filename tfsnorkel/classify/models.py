"""Ready-made classifiers for soft labels: plain Keras functional models that output logits.

Nothing here is a custom model class: :func:`text_classifier` and :func:`tabular_classifier`
build ordinary ``keras.Model`` graphs of stock layers (``TextVectorization`` or
``Normalization`` inside the model, so they take raw inputs and save with Keras's own
``.keras`` format). Binary tasks get one logit (pair it with :class:`tfsnorkel.NoiseAwareLoss`,
sigmoid cross-entropy), ``C > 2`` classes get ``C`` logits (softmax cross-entropy).
Training is Keras's own loop: callbacks, progress bar, ``tf.distribute`` (build and compile
under ``strategy.scope()``). One exception: Keras 3.15's ``fit``/``evaluate`` cannot split a
batch of strings over several replicas, so a :func:`text_classifier` is trained under a
multi-replica strategy through :func:`tfsnorkel.fit_text_classifier` with ``strategy=``, which
vectorizes the texts in the input pipeline and trains the rest of the same model.

Recipe (early stopping on a small gold dev set):

.. code-block:: python

    clf = ts.text_classifier(cardinality=2, adapt_data=df_train["text"])
    clf.compile(optimizer="adam", loss=ts.NoiseAwareLoss())
    clf.fit(
        ts.soft_label_dataset(df_train["text"], P_train, L_train, batch_size=64),
        validation_data=ts.gold_dataset(df_dev["text"], y_dev, cardinality=2),
        epochs=30,
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=3,
                                                 restore_best_weights=True)],
    )
    probs = ts.predict_proba(clf, df_test["text"])      # [N, 2]
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from tfsnorkel.classify import encoders

__all__ = [
    "L2Normalize",
    "logits_to_probs",
    "lower_and_split_punctuation",
    "lower_and_squeeze_whitespace",
    "predict_proba",
    "tabular_classifier",
    "text_classifier",
]

_TEXT_MODES = ("tf_idf", "multi_hot", "count", "embedding")
_PUNCTUATION = r"[!\"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~']"


@keras.saving.register_keras_serializable(package="tfsnorkel")
def lower_and_split_punctuation(texts: tf.Tensor) -> tf.Tensor:
    """Lowercases and turns ASCII punctuation into spaces (a ``TextVectorization`` standardizer).

    Keras's default ``"lower_and_strip_punctuation"`` deletes punctuation, which glues
    ``http://www.youtube.com/watch?v=x`` into one unique token; splitting on it instead
    keeps ``http``, ``www``, ``youtube``, ``com``, ``watch`` as features (the tokens
    scikit-learn's ``CountVectorizer`` would see). Pure TF ops, so it serves.

    Args:
        texts: string tensor.

    Returns:
        The standardized string tensor, same shape.

    Example:
        >>> lower_and_split_punctuation(tf.constant(["Visit http://x.co!"])).numpy().tolist()
        [b'visit http   x co ']
    """
    return tf.strings.regex_replace(tf.strings.lower(texts), _PUNCTUATION, " ")


@keras.saving.register_keras_serializable(package="tfsnorkel")
def lower_and_squeeze_whitespace(texts: tf.Tensor) -> tf.Tensor:
    """Lowercases and collapses runs of whitespace into one space (for character n-grams).

    Punctuation stays (``"!!!"`` and ``"://"`` are useful character n-grams). Pure TF ops.

    Args:
        texts: string tensor.

    Returns:
        The standardized string tensor, same shape.

    Example:
        >>> lower_and_squeeze_whitespace(tf.constant(["Hi  THERE!!"])).numpy().tolist()
        [b'hi there!!']
    """
    return tf.strings.regex_replace(tf.strings.lower(texts), r"\s+", " ")


@keras.saving.register_keras_serializable(package="tfsnorkel")
class L2Normalize(keras.layers.Layer):
    """Scales each row to unit L2 norm (all-zero rows stay zero); counts are cast to float.

    ``keras.layers.UnitNormalization`` rejects the int64 output of ``TextVectorization``'s
    ``"multi_hot"`` and ``"count"`` modes; this layer casts first. Pure TF ops.

    Example:
        >>> L2Normalize()(tf.constant([[3, 4], [0, 0]])).numpy().tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """

    def call(self, inputs: tf.Tensor) -> tf.Tensor:
        """Rows of ``inputs`` divided by their L2 norm."""
        x = keras.ops.cast(inputs, self.compute_dtype)
        return x / keras.ops.maximum(keras.ops.norm(x, axis=-1, keepdims=True), 1e-12)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        """Same shape as the input."""
        return input_shape


def _check_cardinality(cardinality: Any) -> int:
    integral = isinstance(cardinality, (int, np.integer)) and not isinstance(cardinality, bool)
    if not integral or cardinality < 2:
        raise ValueError(
            f"cardinality must be an integer >= 2. Received: cardinality={cardinality!r}"
        )
    return int(cardinality)


def _strings(values: Any, what: str) -> np.ndarray:
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    if isinstance(values, tf.Tensor):
        return values
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{what} must be a 1-D sequence of strings. Received shape: {arr.shape}")
    if arr.dtype.kind == "O":
        nulls = pd.isna(arr)
        if nulls.any():
            row = int(np.flatnonzero(nulls)[0])
            raise ValueError(f"{what} has a missing value at row {row}. Received: {arr[row]!r}")
        # bytes (e.g. from a string tensor's .numpy()) go to TensorFlow as they are (UTF-8)
        return np.array([v if isinstance(v, bytes) else str(v) for v in arr], dtype=object)
    if arr.dtype.kind not in "US":
        raise TypeError(f"{what} must hold strings. Received dtype: {arr.dtype}")
    return arr.astype(object)


def _char_orders(char_ngrams: Any) -> tuple[int, ...]:
    """``n`` -> ``(1, ..., n)``, ``(lo, hi)`` -> ``(lo, ..., hi)``, ``None`` -> ``()``."""
    if char_ngrams is None:
        return ()
    if isinstance(char_ngrams, (int, np.integer)) and not isinstance(char_ngrams, bool):
        lo, hi = 1, int(char_ngrams)
    elif (
        isinstance(char_ngrams, (tuple, list))
        and len(char_ngrams) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in char_ngrams)
    ):
        lo, hi = (int(v) for v in char_ngrams)
    else:
        lo, hi = 0, 0
    if not 1 <= lo <= hi:
        raise ValueError(
            "char_ngrams must be a positive int n (orders 1..n) or a pair (lo, hi) with "
            f"1 <= lo <= hi. Received: char_ngrams={char_ngrams!r}"
        )
    return tuple(range(lo, hi + 1))


def _head(x: Any, n_out: int, hidden_units: Sequence[int], dropout: float, l2: float) -> Any:
    reg = keras.regularizers.L2(l2) if l2 else None
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(int(units), activation="relu", kernel_regularizer=reg,
                               name=f"hidden_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    return keras.layers.Dense(n_out, kernel_regularizer=reg, name="logits")(x)


def _check_head(hidden_units: Sequence[int], dropout: float, l2: float) -> None:
    if any(not isinstance(u, (int, np.integer)) or u < 1 for u in hidden_units):
        raise ValueError(
            "hidden_units must be positive integers. "
            f"Received: hidden_units={tuple(hidden_units)!r}"
        )
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1). Received: dropout={dropout!r}")
    if l2 < 0:
        raise ValueError(f"l2 must be >= 0. Received: l2={l2!r}")


def text_classifier(
    cardinality: int = 2,
    *,
    adapt_data: Any = None,
    vocabulary: Sequence[str] | None = None,
    idf_weights: Sequence[float] | None = None,
    max_tokens: int = 20000,
    ngrams: int | None = 2,
    mode: str = "tf_idf",
    embedding_dim: int = 64,
    sequence_length: int | None = None,
    hidden_units: Sequence[int] = (),
    dropout: float = 0.0,
    l2: float = 0.0,
    standardize: Any = lower_and_split_punctuation,
    char_ngrams: int | tuple[int, int] | None = None,
    char_max_tokens: int | None = 30000,
    unit_norm: bool = False,
    backbone: Any = None,
    fine_tune: bool = False,
    bag_of_words: bool = False,
    name: str = "text_classifier",
) -> keras.Model:
    """A Keras model from raw strings ``[batch]`` to logits, with ``TextVectorization`` inside.

    With ``backbone`` (a pretrained BERT-family encoder through keras-hub, the optional
    ``encoders`` extra) the text features are the encoder's mean-pooled, unit-norm sentence
    vector instead (:class:`tfsnorkel.classify.encoders.BertTextEncoder`), frozen or
    fine-tuned; the bag-of-words arguments are then not used.

    Args:
        cardinality: number of classes; 2 gives one logit, ``C > 2`` gives ``C`` logits.
            Defaults to `2`.
        adapt_data: texts to learn the vocabulary (and idf weights) from, e.g. the training
            texts. Defaults to `None` (then ``vocabulary`` is required).
        vocabulary: a fixed vocabulary instead of ``adapt_data``. Defaults to `None`.
        idf_weights: idf weights for a fixed vocabulary in ``"tf_idf"`` mode. Defaults to
            `None`.
        max_tokens: vocabulary size cap. Defaults to `20000`.
        ngrams: n-gram order for the bag-of-words modes. Defaults to `2`.
        mode: ``"tf_idf"``, ``"multi_hot"``, ``"count"`` (a linear/MLP model over n-grams) or
            ``"embedding"`` (token embeddings, masked average pooling). Defaults to `"tf_idf"`.
        embedding_dim: embedding width for ``"embedding"``. Defaults to `64`.
        sequence_length: tokens kept per text for ``"embedding"`` and ``backbone``.
            Defaults to `None` (64 for ``"embedding"``, 256 for a backbone).
        hidden_units: widths of hidden ReLU layers before the logits. Defaults to `()`
            (a linear model over the text features).
        dropout: dropout after each hidden layer. Defaults to `0.0`.
        l2: L2 penalty on dense kernels. Defaults to `0.0`.
        standardize: ``TextVectorization`` standardization (a Keras option string or a
            registered function). Defaults to :func:`lower_and_split_punctuation` (so
            ``keras.models.load_model`` of a ``.keras`` file needs ``import tfsnorkel``;
            the SavedModel from :func:`tfsnorkel.export_pipeline` needs only TensorFlow).
        char_ngrams: also vectorize *character* n-grams of these orders (an int ``n`` for
            ``1..n``, or ``(lo, hi)``) in a second ``TextVectorization`` layer named
            ``"vectorize_chars"`` (same ``mode``), concatenated with the
            word features: robust to misspellings, elongations (``"soooo"``) and glued URLs.
            Its standardization is :func:`lower_and_squeeze_whitespace` (punctuation kept).
            Bag-of-words modes only. Defaults to `None` (word n-grams only).
        char_max_tokens: vocabulary cap of the character n-gram layer. Defaults to `30000`.
        unit_norm: scale each text's feature vector (each of the word and character blocks)
            to unit L2 norm, as scikit-learn's ``TfidfVectorizer`` does: long and short texts
            then get logits on one scale, and a larger learning rate trains stably.
            Bag-of-words modes only. Defaults to `False`.
        backbone: a pretrained encoder: a :class:`tfsnorkel.classify.encoders.BertEncoder`
            (from :func:`~tfsnorkel.classify.encoders.load_bert_encoder`), or what that
            function reads (a directory of Hugging Face-format weights, a keras-hub preset
            handle). ``adapt_data`` and ``vocabulary`` are then not needed. Defaults to
            `None` (bag of words).
        fine_tune: train the backbone's weights too (use a small learning rate, e.g.
            ``3e-5``); ``False`` keeps it frozen (only the head trains, and
            :func:`tfsnorkel.fit_text_classifier` encodes each text once). Defaults to
            `False`.
        bag_of_words: with a ``backbone``, also compute the bag-of-words features of
            ``mode`` (and ``char_ngrams``, ``unit_norm``) and concatenate them with the
            encoder's vector (layer ``"features_and_encoder"``): n-grams keep rare names and
            codes a sentence encoder blurs. Needs ``adapt_data``. Defaults to `False`.
        name: model name. Defaults to `"text_classifier"`.

    Returns:
        An uncompiled ``keras.Model`` with one string input named ``"text"`` (shape ``[batch]``)
        and logits ``[batch, 1]`` (binary) or ``[batch, C]``. Its ``TextVectorization`` layer
        is named ``"vectorize"`` (and ``"vectorize_chars"`` with ``char_ngrams``), a
        backbone's encoder layer ``"encoder"``; the output layer is ``"logits"``.

    Raises:
        ValueError: bad arguments, or neither ``adapt_data`` nor ``vocabulary``.

    Example:
        >>> clf = text_classifier(2, adapt_data=["buy now", "hello there"])
        >>> clf(tf.constant(["buy", "hi"])).shape
        TensorShape([2, 1])
    """
    c = _check_cardinality(cardinality)
    encoder_length = 256 if sequence_length is None else sequence_length
    if backbone is not None and not bag_of_words:
        _check_head(hidden_units, dropout, l2)
        inp = keras.Input(shape=(), dtype="string", name="text")
        x = _encoder_layer(backbone, bool(fine_tune), encoder_length)(inp)
        return keras.Model(inp, _head(x, 1 if c == 2 else c, hidden_units, dropout, l2),
                           name=name)
    if backbone is None and (fine_tune or bag_of_words):
        raise ValueError(
            "fine_tune=True and bag_of_words=True need a backbone. Received: backbone=None"
        )
    sequence_length = 64 if sequence_length is None else sequence_length
    if mode not in _TEXT_MODES:
        raise ValueError(f"mode must be one of {_TEXT_MODES}. Received: mode={mode!r}")
    _check_head(hidden_units, dropout, l2)
    if adapt_data is None and vocabulary is None:
        raise ValueError(
            "text_classifier needs adapt_data (texts to learn the vocabulary from) or a "
            "vocabulary. Received: adapt_data=None, vocabulary=None"
        )
    if mode == "tf_idf" and vocabulary is not None and idf_weights is None:
        raise ValueError(
            "mode='tf_idf' with a fixed vocabulary needs idf_weights (or use adapt_data). "
            "Received: idf_weights=None"
        )
    char_orders = _char_orders(char_ngrams)
    if unit_norm and mode == "embedding":
        raise ValueError(
            "unit_norm scales bag-of-words features; mode='embedding' has none. "
            f"Received: mode={mode!r}, unit_norm=True"
        )
    if char_orders and (mode == "embedding" or vocabulary is not None):
        raise ValueError(
            "char_ngrams needs a bag-of-words mode and adapt_data (the character vocabulary "
            f"is learned from the texts). Received: mode={mode!r}, "
            f"vocabulary={'given' if vocabulary is not None else None}"
        )
    if mode == "embedding":
        vectorize = keras.layers.TextVectorization(
            max_tokens=max_tokens,
            output_mode="int",
            output_sequence_length=int(sequence_length),
            vocabulary=vocabulary,
            standardize=standardize,
            name="vectorize",
        )
    else:
        vectorize = keras.layers.TextVectorization(
            max_tokens=max_tokens,
            ngrams=ngrams,
            output_mode=mode,
            vocabulary=vocabulary,
            idf_weights=idf_weights,
            standardize=standardize,
            name="vectorize",
        )
    if vocabulary is None:
        texts = _strings(adapt_data, "adapt_data")
        if len(texts) == 0:
            raise ValueError("adapt_data is empty. Received: 0 texts")
        vectorize.adapt(tf.constant(texts, dtype=tf.string))
    inp = keras.Input(shape=(), dtype="string", name="text")
    x = vectorize(inp)
    if unit_norm:
        x = L2Normalize(name="unit_norm")(x)
    if char_orders:
        chars = keras.layers.TextVectorization(
            max_tokens=char_max_tokens,
            split="character",
            ngrams=char_orders,
            output_mode=mode,
            standardize=lower_and_squeeze_whitespace,
            name="vectorize_chars",
        )
        chars.adapt(tf.constant(texts, dtype=tf.string))
        xc = chars(inp)
        if unit_norm:
            xc = L2Normalize(name="unit_norm_chars")(xc)
        x = keras.layers.Concatenate(name="features")([x, xc])
    if mode == "embedding":
        x = keras.layers.Embedding(
            vectorize.vocabulary_size(), int(embedding_dim), mask_zero=True, name="embedding"
        )(x)
        x = keras.layers.GlobalAveragePooling1D(name="pool")(x)
    if backbone is not None:
        xe = _encoder_layer(backbone, bool(fine_tune), encoder_length)(inp)
        x = keras.layers.Concatenate(name="features_and_encoder")(
            [keras.ops.cast(x, "float32") if mode in ("multi_hot", "count") else x, xe]
        )
    out = _head(x, 1 if c == 2 else c, hidden_units, dropout, l2)
    return keras.Model(inp, out, name=name)


def _encoder_layer(backbone: Any, fine_tune: bool, sequence_length: int) -> Any:
    """The ``"encoder"`` layer (raw strings -> sentence vectors) of a pretrained encoder."""
    if not isinstance(backbone, encoders.BertEncoder):
        if not isinstance(backbone, (str, os.PathLike)):
            raise TypeError(
                "backbone must be a tfsnorkel BertEncoder (load_bert_encoder) or a path / "
                f"keras-hub preset handle. Received: {type(backbone).__name__}"
            )
        backbone = encoders.load_bert_encoder(backbone)
    return backbone.layer(sequence_length=int(sequence_length), trainable=fine_tune)


def tabular_classifier(
    cardinality: int = 2,
    *,
    adapt_data: Any,
    hidden_units: Sequence[int] = (64,),
    dropout: float = 0.0,
    l2: float = 0.0,
    name: str = "tabular_classifier",
) -> keras.Model:
    """An MLP over numeric features with a ``Normalization`` layer adapted to ``adapt_data``.

    Args:
        cardinality: number of classes (2: one logit; ``C > 2``: ``C`` logits). Defaults to `2`.
        adapt_data: training features. A DataFrame or dict of numeric columns gives a model
            with one named ``[batch]`` input per column (servable as plain ``[None]``
            tensors); an ``[N, d]`` array gives one ``[batch, d]`` input named ``"features"``.
        hidden_units: widths of the hidden ReLU layers. Defaults to `(64,)`.
        dropout: dropout after each hidden layer. Defaults to `0.0`.
        l2: L2 penalty on dense kernels. Defaults to `0.0`.
        name: model name. Defaults to `"tabular_classifier"`.

    Returns:
        An uncompiled ``keras.Model`` producing logits.

    Raises:
        ValueError: non-numeric or non-finite ``adapt_data`` (the column and row are named),
            or bad arguments.

    Example:
        >>> import numpy as np
        >>> clf = tabular_classifier(3, adapt_data={"a": np.arange(4.0), "b": np.ones(4)})
        >>> clf({"a": tf.constant([1.0]), "b": tf.constant([2.0])}).shape
        TensorShape([1, 3])
    """
    c = _check_cardinality(cardinality)
    _check_head(hidden_units, dropout, l2)
    if isinstance(adapt_data, pd.DataFrame):
        adapt_data = {str(k): adapt_data[k].to_numpy() for k in adapt_data.columns}
    if isinstance(adapt_data, Mapping):
        cols = {str(k): _numeric(v, f"column {str(k)!r}") for k, v in adapt_data.items()}
        if not cols:
            raise ValueError("adapt_data has no columns. Received: {}")
        for k, v in cols.items():
            if v.ndim != 1:
                raise ValueError(f"column {k!r} must be 1-D. Received shape: {v.shape}")
        X = np.stack(list(cols.values()), axis=1)
        inputs: Any = {k: keras.Input(shape=(), dtype="float32", name=k) for k in cols}
        x = keras.layers.Concatenate(name="stack")(
            [keras.layers.Reshape((1,), name=f"col_{i}")(inputs[k]) for i, k in enumerate(cols)]
        )
    else:
        X = _numeric(adapt_data, "features")
        if X.ndim != 2:
            raise ValueError(
                f"adapt_data must be [N, d] or a dict of columns. Received shape: {X.shape}"
            )
        inputs = keras.Input(shape=(X.shape[1],), dtype="float32", name="features")
        x = inputs
    if len(X) == 0:
        raise ValueError("adapt_data is empty. Received: 0 rows")
    norm = keras.layers.Normalization(name="normalize")
    norm.adapt(X)
    out = _head(norm(x), 1 if c == 2 else c, hidden_units, dropout, l2)
    return keras.Model(inputs, out, name=name)


def _numeric(values: Any, what: str) -> np.ndarray:
    arr = np.asarray(values)
    if arr.dtype.kind not in "fiub":
        raise ValueError(f"{what} must be numeric. Received dtype: {arr.dtype}")
    arr = arr.astype(np.float32)
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{what} must be finite. Received: {arr[idx].item()!r} at row {idx[0]}")
    return arr


def logits_to_probs(outputs: tf.Tensor, from_logits: bool = True) -> tf.Tensor:
    """Turns classifier outputs into ``[batch, C]`` probabilities (pure TF, servable).

    One output per row is a binary logit: ``[1 - sigmoid(z), sigmoid(z)]``. ``C`` outputs are
    logits for a softmax. With ``from_logits=False`` outputs are probabilities already (a
    single column is the positive-class probability).

    Args:
        outputs: ``[batch]``, ``[batch, 1]`` or ``[batch, C]`` model outputs.
        from_logits: whether ``outputs`` are logits. Defaults to `True`.

    Returns:
        ``float32`` probabilities ``[batch, C]`` (``C = 2`` for one output).

    Example:
        >>> logits_to_probs(tf.constant([[0.0]])).numpy().tolist()
        [[0.5, 0.5]]
    """
    with tf.name_scope("logits_to_probs"):
        z = tf.cast(tf.convert_to_tensor(outputs), tf.float32)
        if z.shape.rank == 1:
            z = z[:, None]
        if z.shape[-1] == 1:
            p = tf.sigmoid(z) if from_logits else z
            return tf.concat([1.0 - p, p], axis=-1)
        return tf.nn.softmax(z, axis=-1) if from_logits else z


def predict_proba(
    model: keras.Model,
    x: Any,
    *,
    batch_size: int = 256,
    from_logits: bool = True,
    verbose: int | str = 0,
) -> np.ndarray:
    """Class probabilities ``[N, C]`` from a classifier, binary single-logit models included.

    Args:
        model: a Keras model outputting logits (e.g. from :func:`text_classifier`).
        x: inputs; a 1-D array/Series/list of strings is passed as a string tensor.
        batch_size: prediction batch size. Defaults to `256`.
        from_logits: whether the model outputs logits. Defaults to `True`.
        verbose: Keras progress-bar verbosity. Defaults to `0`.

    Returns:
        ``float32`` numpy array ``[N, C]``; rows sum to 1.

    Example:
        >>> clf = text_classifier(2, adapt_data=["buy now", "hello there"])
        >>> predict_proba(clf, ["buy"]).shape
        (1, 2)
    """
    if isinstance(x, (pd.Series, pd.Index, list, tuple)) or (
        isinstance(x, np.ndarray) and x.dtype.kind in "OUS"
    ):
        arr = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x)
        if arr.dtype.kind in "OUS":
            x = tf.constant(_strings(arr, "x"), dtype=tf.string)
    elif isinstance(x, pd.DataFrame):
        x = {str(k): x[k].to_numpy() for k in x.columns}
    out = model.predict(x, batch_size=batch_size, verbose=verbose)
    return logits_to_probs(out, from_logits=from_logits).numpy()
