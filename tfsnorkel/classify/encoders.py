"""Pretrained text encoders (BERT family, MiniLM included) through keras-hub: an optional extra.

``pip install "tfsnorkel[encoders]"`` adds ``keras-hub`` and ``tensorflow-text``; nothing
else in tfsnorkel imports them. :func:`load_bert_encoder` reads

* a **local directory of Hugging Face-format weights** (``config.json``,
  ``model.safetensors`` and ``tokenizer.json`` or ``vocab.txt``, e.g. the files of
  ``sentence-transformers/all-MiniLM-L6-v2``), or
* a **keras-hub preset**: a handle such as ``"bert_tiny_en_uncased"``,
  ``"hf://sentence-transformers/all-MiniLM-L6-v2"`` or ``"kaggle://..."``, or a directory that
  keras-hub saved,

and returns a :class:`BertEncoder` for ``text_classifier(backbone=...)``. Reading Hugging
Face files gives the same numbers as the original model only with three corrections, all
made here:

1. **The activation.** keras-hub's ``BertBackbone`` hard-codes the tanh approximation of
   GELU; a checkpoint whose ``config.json`` says ``"hidden_act": "gelu"`` was trained with
   the exact (erf) GELU, 4e-4 off otherwise. :class:`BertTextEncoder` keeps the activation
   as a serialized option and sets it on every transformer layer.
2. **The vocabulary.** keras-hub's WordPiece tokenizer reads a ``vocab.txt``; sentence-
   transformers ships only ``tokenizer.json``: the vocabulary is read from either.
3. **The normalization.** Hugging Face's ``BertNormalizer`` (``lowercase=True``) replaces
   drops control characters, lowercases, then strips accents (NFD, marks removed).
   keras-hub's preset tokenizer NFKC-folds and keeps accents, so ``"café"`` becomes
   ``[UNK]``. :class:`BertTextPreprocessor` does what Hugging Face does: control characters
   dropped, ``tf.strings.lower`` (UTF-8), and a ``BertTokenizer(lowercase=False,
   strip_accents=True)``.

Batches are padded to their longest row, not to ``sequence_length`` (fixed 256-token padding
was 4.7x slower on short texts); :func:`tfsnorkel.fit_text_classifier` sorts texts by length
before it encodes them once for a frozen encoder.

**Serving.** The SavedModel from :func:`tfsnorkel.export_pipeline` serves raw strings with
no ``PyFunc`` op, but the tokenizer runs three tensorflow-text ops
(``FastWordpieceTokenizeWithOffsets``, ``NormalizeUTF8``, ``RegexSplitWithOffsets``;
truncation is a plain slice, so no ``RoundRobinTrim``). A process that loads it
must register them first: ``import tensorflow_text`` works but imports Keras; loading the op
libraries alone does not (:func:`load_text_ops`, or ``tf.load_op_library`` on each ``.so``
file :func:`required_op_libraries` names). TF Serving's ``tensorflow_model_server`` links
tensorflow-text's ``ops_lib`` in its stock build (``SUPPORTED_TENSORFLOW_OPS`` in its
``model_servers/BUILD``), so a release of the same TensorFlow version should serve the export
as it is; that could not be run here (no TF Serving binary), only the fresh-process load above.

Example:
    >>> enc = tiny_bert_encoder(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad"])
    >>> enc.backbone.hidden_dim
    8
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import keras
import tensorflow as tf

__all__ = [
    "BertEncoder",
    "BertTextEncoder",
    "BertTextPreprocessor",
    "MaskedMeanPooling",
    "load_bert_encoder",
    "load_text_ops",
    "required_op_libraries",
    "tiny_bert_encoder",
]

_ACTIVATIONS = ("gelu", "gelu_approximate")
#: Hugging Face ``hidden_act`` values -> this module's activation names.
_HF_ACT = {"gelu": "gelu", "gelu_python": "gelu", "gelu_new": "gelu_approximate",
           "gelu_pytorch_tanh": "gelu_approximate", "gelu_fast": "gelu_approximate"}
#: The tensorflow-text op libraries a BERT tokenizer graph needs, by op name.
_OP_LIBRARIES = {
    "FastWordpieceTokenizeWithOffsets": "_fast_wordpiece_tokenizer.so",
    "WordpieceTokenizeWithOffsets": "_wordpiece_tokenizer.so",
    "NormalizeUTF8": "_normalize_ops.so",
    "NormalizeUTF8WithOffsetsMap": "_normalize_ops.so",
    "RegexSplitWithOffsets": "_regex_split_ops.so",
    "RoundRobinTrim": "_trimmer_ops.so",
}


def _keras_hub() -> Any:
    try:
        import keras_hub
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "pretrained encoders need the optional extra: pip install 'tfsnorkel[encoders]' "
            "(keras-hub and tensorflow-text)"
        ) from err
    return keras_hub


def _activation(name: str) -> Any:
    if name == "gelu":
        return lambda x: keras.activations.gelu(x, approximate=False)
    return lambda x: keras.activations.gelu(x, approximate=True)


def _set_activation(backbone: Any, activation: str) -> None:
    """Sets the feed-forward activation of every transformer layer of a keras-hub backbone."""
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {_ACTIVATIONS}. Received: activation={activation!r}"
        )
    fn = _activation(activation)
    for layer in backbone.transformer_layers:
        layer.activation = fn
        layer._feedforward_intermediate_dense.activation = fn


@keras.saving.register_keras_serializable(package="tfsnorkel")
class BertTextPreprocessor(keras.layers.Layer):
    """Raw strings ``[batch]`` -> BERT inputs, padded to the batch's longest row.

    Hugging Face's ``BertNormalizer`` in TF ops: tabs and line breaks become spaces, other
    control and format characters (Unicode category ``C``) and U+FFFD are dropped, the text
    is lowercased (UTF-8, when ``lowercase``), accents are stripped (NFD, marks removed) and
    CJK characters split, then WordPiece; ``[CLS] tokens [SEP]``, truncated to
    ``sequence_length`` tokens in all.

    Args:
        vocabulary: the WordPiece vocabulary (a list of tokens, index = token id); must hold
            ``[CLS]``, ``[SEP]``, ``[PAD]`` and ``[UNK]``.
        sequence_length: most tokens a row keeps, ``[CLS]`` and ``[SEP]`` included.
            Defaults to `256`.
        lowercase: lowercase and strip accents, as uncased checkpoints expect. Defaults to
            `True`.
        **kwargs: Keras layer arguments.

    Returns (when called):
        ``{"token_ids", "segment_ids", "padding_mask"}``, each ``int32 [batch, T]``.

    Example:
        >>> pre = BertTextPreprocessor(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "cafe", "ok"])
        >>> pre(tf.constant(["Café OK", "ok"]))["token_ids"].numpy().tolist()
        [[2, 4, 5, 3], [2, 5, 3, 0]]
    """

    def __init__(
        self,
        vocabulary: Sequence[str],
        sequence_length: int = 256,
        lowercase: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        vocab = [str(t) for t in vocabulary]
        missing = [t for t in ("[CLS]", "[SEP]", "[PAD]", "[UNK]") if t not in vocab]
        if missing:
            raise ValueError(f"the vocabulary lacks the special tokens {missing}")
        if isinstance(sequence_length, bool) or int(sequence_length) < 3:
            raise ValueError(
                f"sequence_length must be an integer >= 3. Received: {sequence_length!r}"
            )
        self.vocabulary = vocab
        self.sequence_length = int(sequence_length)
        self.lowercase = bool(lowercase)
        self.cls_id, self.sep_id = vocab.index("[CLS]"), vocab.index("[SEP]")
        self.pad_id = vocab.index("[PAD]")
        self.tokenizer = _keras_hub().tokenizers.WordPieceTokenizer(
            vocabulary=vocab, lowercase=False, strip_accents=self.lowercase, dtype="int32",
            name="wordpiece",
        )
        self._graph_pack: Any = None

    def call(self, texts: tf.Tensor) -> dict[str, tf.Tensor]:
        """Tokenizes and packs ``texts``."""
        x = tf.reshape(tf.convert_to_tensor(texts, dtype=tf.string), [-1])
        if tf.executing_eagerly():
            # keras-hub tokenizers hand eager callers Python lists; a graph keeps tensors.
            if self._graph_pack is None:
                self._graph_pack = tf.function(self._pack, reduce_retracing=True)
            return self._graph_pack(x)
        return self._pack(x)

    def _pack(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
        x = tf.strings.regex_replace(x, r"[\t\n\r]", " ")
        x = tf.strings.regex_replace(x, r"[\p{C}\x{FFFD}]", "")
        if self.lowercase:
            x = tf.strings.lower(x, encoding="utf-8")
        ids = self.tokenizer(x)
        ids = ids[:, : self.sequence_length - 2]
        n = tf.shape(x)[0]
        cls = tf.fill([n, 1], self.cls_id)
        sep = tf.fill([n, 1], self.sep_id)
        ids = tf.concat([cls, tf.cast(ids, tf.int32), sep], axis=1)
        token_ids = ids.to_tensor(default_value=self.pad_id)
        mask = tf.ones_like(ids).to_tensor(default_value=0)
        return {"token_ids": token_ids, "segment_ids": tf.zeros_like(token_ids),
                "padding_mask": mask}

    def compute_output_spec(self, texts: Any) -> dict[str, keras.KerasTensor]:
        spec = keras.KerasTensor((texts.shape[0], None), dtype="int32")
        return {"token_ids": spec, "segment_ids": spec, "padding_mask": spec}

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "vocabulary": self.vocabulary,
                "sequence_length": self.sequence_length, "lowercase": self.lowercase}


@keras.saving.register_keras_serializable(package="tfsnorkel")
class MaskedMeanPooling(keras.layers.Layer):
    """Mean of a sequence's vectors over its unpadded positions (sentence-transformers' pooling).

    Example:
        >>> seq = tf.constant([[[1.0, 2.0], [3.0, 4.0], [9.0, 9.0]]])
        >>> MaskedMeanPooling()(seq, tf.constant([[1, 1, 0]])).numpy().tolist()
        [[2.0, 3.0]]
    """

    def call(self, sequence: tf.Tensor, padding_mask: tf.Tensor) -> tf.Tensor:
        """``sum_t mask_t * x_t / max(sum_t mask_t, 1)``."""
        m = keras.ops.expand_dims(keras.ops.cast(padding_mask, sequence.dtype), -1)
        total = keras.ops.sum(sequence * m, axis=1)
        return total / keras.ops.maximum(keras.ops.sum(m, axis=1), 1.0)

    def compute_output_shape(self, sequence_shape: tuple, mask_shape: tuple) -> tuple:
        return (sequence_shape[0], sequence_shape[-1])


@dataclass(frozen=True)
class BertEncoder:
    """A BERT-family backbone with the activation, vocabulary and casing it was trained with.

    Args:
        backbone: a keras-hub ``BertBackbone``, weights loaded.
        vocabulary: its WordPiece vocabulary (index = token id).
        lowercase: whether the checkpoint is uncased (texts lowercased, accents stripped).
        activation: ``"gelu"`` (exact) or ``"gelu_approximate"`` (tanh).
        source: where it was loaded from (for messages and records).
    """

    backbone: Any
    vocabulary: tuple[str, ...]
    lowercase: bool
    activation: str = "gelu"
    source: str = ""

    def layer(
        self, sequence_length: int = 256, trainable: bool = False, normalize: bool = True,
        name: str = "encoder",
    ) -> BertTextEncoder:
        """A :class:`BertTextEncoder` (raw strings -> pooled vectors) around this backbone.

        A trainable (fine-tuned) layer gets its own copy of the backbone, so that training
        it leaves this encoder's weights as loaded; a frozen one shares them.
        """
        backbone = self.backbone
        if trainable:
            backbone = type(backbone).from_config(backbone.get_config())
            backbone.set_weights(self.backbone.get_weights())
        return BertTextEncoder(
            backbone, list(self.vocabulary), sequence_length=sequence_length,
            lowercase=self.lowercase, activation=self.activation, normalize=normalize,
            trainable=trainable, name=name,
        )


@keras.saving.register_keras_serializable(package="tfsnorkel")
class BertTextEncoder(keras.layers.Layer):
    """Raw strings ``[batch]`` -> sentence vectors ``[batch, hidden]`` from a BERT backbone.

    :class:`BertTextPreprocessor`, the backbone (feed-forward activation set to
    ``activation``), :class:`MaskedMeanPooling` of the last layer and, with ``normalize``,
    unit L2 norm: sentence-transformers' ``all-MiniLM-L6-v2`` recipe. With
    ``trainable=False`` (frozen) the backbone runs in inference mode (no dropout).

    Args:
        backbone: a keras-hub ``BertBackbone`` (or its serialized config).
        vocabulary: the WordPiece vocabulary.
        sequence_length: most tokens a row keeps. Defaults to `256`.
        lowercase: uncased checkpoint. Defaults to `True`.
        activation: ``"gelu"`` or ``"gelu_approximate"``. Defaults to `"gelu"`.
        normalize: scale the pooled vector to unit L2 norm. Defaults to `True`.
        **kwargs: Keras layer arguments (``trainable``, ``name``).

    Example:
        >>> enc = tiny_bert_encoder(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad"])
        >>> enc.layer()(tf.constant(["good", "bad good"])).shape
        TensorShape([2, 8])
    """

    def __init__(
        self,
        backbone: Any,
        vocabulary: Sequence[str],
        sequence_length: int = 256,
        lowercase: bool = True,
        activation: str = "gelu",
        normalize: bool = True,
        **kwargs: Any,
    ) -> None:
        trainable = kwargs.pop("trainable", True)
        super().__init__(**kwargs)
        _keras_hub()  # registers keras-hub's classes before a backbone config is deserialized
        if isinstance(backbone, dict):
            backbone = keras.saving.deserialize_keras_object(backbone)
        if len(vocabulary) != backbone.vocabulary_size:
            raise ValueError(
                f"the vocabulary has {len(vocabulary)} tokens, the backbone "
                f"{backbone.vocabulary_size}"
            )
        _set_activation(backbone, activation)
        self.backbone = backbone
        self.activation = activation
        self.normalize = bool(normalize)
        self.preprocess = BertTextPreprocessor(
            vocabulary, sequence_length=sequence_length, lowercase=lowercase, name="preprocess"
        )
        self.pool = MaskedMeanPooling(name="pool")
        self.trainable = trainable  # now that the backbone is attached: sets its variables too
        if trainable:
            # BertBackbone's pooler ([CLS] -> dense) is not on this layer's path (the vectors
            # are mean-pooled): frozen, it gets no optimizer slots and Keras no gradient-less
            # variables to warn about at every fine-tuning step.
            for layer in backbone.layers:
                if layer.name == "pooled_dense":
                    layer.trainable = False

    def build(self, input_shape: Any) -> None:
        """Nothing to create: the backbone arrives built, the other parts hold no weights."""
        self.built = True

    def call(self, texts: tf.Tensor, training: bool | None = None) -> tf.Tensor:
        """Pooled (and normalized) last-layer vectors of ``texts``."""
        inputs = self.preprocess(texts)
        seq = self.backbone(inputs, training=bool(training) and self.trainable)["sequence_output"]
        x = self.pool(seq, inputs["padding_mask"])
        if self.normalize:
            x = x / keras.ops.maximum(keras.ops.norm(x, axis=-1, keepdims=True), 1e-12)
        return x

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.backbone.hidden_dim)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "backbone": keras.saving.serialize_keras_object(self.backbone),
            "vocabulary": self.preprocess.vocabulary,
            "sequence_length": self.preprocess.sequence_length,
            "lowercase": self.preprocess.lowercase,
            "activation": self.activation,
            "normalize": self.normalize,
        }


def _hf_vocabulary(path: str) -> list[str]:
    vocab_txt = os.path.join(path, "vocab.txt")
    if os.path.exists(vocab_txt):
        with open(vocab_txt, encoding="utf-8") as fh:
            return [line.rstrip("\n") for line in fh]
    tok_json = os.path.join(path, "tokenizer.json")
    if not os.path.exists(tok_json):
        raise FileNotFoundError(
            f"{path!r} holds no vocab.txt or tokenizer.json: a Hugging Face BERT directory needs "
            "one of them for the WordPiece vocabulary"
        )
    with open(tok_json, encoding="utf-8") as fh:
        model = json.load(fh)["model"]
    if model.get("type") != "WordPiece":
        raise ValueError(
            f"{tok_json} is a {model.get('type')!r} tokenizer; BERT encoders need WordPiece"
        )
    vocab = model["vocab"]
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    if [i for _, i in by_id] != list(range(len(by_id))):
        raise ValueError(f"{tok_json}'s vocabulary ids are not 0..{len(by_id) - 1}")
    return [t for t, _ in by_id]


def _hf_lowercase(path: str) -> bool:
    for name, keys in (("tokenizer.json", ("normalizer", "lowercase")),
                       ("tokenizer_config.json", ("do_lower_case",))):
        file = os.path.join(path, name)
        if os.path.exists(file):
            with open(file, encoding="utf-8") as fh:
                value: Any = json.load(fh)
            for key in keys:
                value = value.get(key) if isinstance(value, dict) else None
            if value is not None:
                return bool(value)
    return True


def _is_hf_dir(path: str) -> bool:
    config = os.path.join(path, "config.json")
    if not (os.path.isdir(path) and os.path.exists(config)):
        return False
    with open(config, encoding="utf-8") as fh:
        return "model_type" in json.load(fh)


def load_bert_encoder(source: str | os.PathLike) -> BertEncoder:
    """Loads a BERT-family encoder from Hugging Face files or a keras-hub preset.

    Args:
        source: a directory of Hugging Face-format files (``config.json`` with
            ``model_type``, ``model.safetensors``, ``tokenizer.json`` or ``vocab.txt``), or a
            keras-hub preset handle or directory.

    Returns:
        A :class:`BertEncoder`: exact GELU when ``config.json`` says ``"gelu"``, the
        vocabulary from ``vocab.txt`` or ``tokenizer.json``, casing from the tokenizer files.

    Raises:
        ImportError: keras-hub or tensorflow-text is not installed.
        ValueError / FileNotFoundError: a directory that is not a BERT checkpoint.

    Example:
        >>> enc = load_bert_encoder("models/all-MiniLM-L6-v2")          # doctest: +SKIP
        >>> clf = text_classifier(2, backbone=enc)                      # doctest: +SKIP
    """
    hub = _keras_hub()
    src = os.fspath(source)
    if "://" not in src and (os.sep in src or src.startswith(".")) and not os.path.isdir(src):
        raise FileNotFoundError(
            f"no directory {src!r}: give a directory of Hugging Face-format files or a "
            "keras-hub preset handle (e.g. 'bert_tiny_en_uncased', 'hf://owner/name')"
        )
    if _is_hf_dir(src):
        with open(os.path.join(src, "config.json"), encoding="utf-8") as fh:
            config = json.load(fh)
        if config.get("model_type") != "bert":
            raise ValueError(
                f"{src!r} holds a {config.get('model_type')!r} model; load_bert_encoder reads "
                "BERT-family checkpoints (model_type 'bert', e.g. MiniLM)"
            )
        act = _HF_ACT.get(str(config.get("hidden_act", "gelu")))
        if act is None:
            raise ValueError(f"{src!r}: unsupported hidden_act {config.get('hidden_act')!r}")
        loaded = hub.models.BertBackbone.from_preset(src)
        vocab, lowercase = _hf_vocabulary(src), _hf_lowercase(src)
    else:
        loaded = hub.models.BertBackbone.from_preset(src)
        tokenizer = hub.models.BertTokenizer.from_preset(src)
        vocab, lowercase, act = tokenizer.get_vocabulary(), bool(tokenizer.lowercase), (
            "gelu_approximate"
        )
    if len(vocab) != loaded.vocabulary_size:
        raise ValueError(
            f"{src!r}: the vocabulary has {len(vocab)} tokens, the backbone "
            f"{loaded.vocabulary_size}"
        )
    return BertEncoder(loaded, tuple(vocab), lowercase, act, src)


def tiny_bert_encoder(
    vocabulary: Sequence[str],
    *,
    hidden_dim: int = 8,
    num_layers: int = 1,
    num_heads: int = 2,
    intermediate_dim: int = 16,
    max_sequence_length: int = 64,
    seed: int = 0,
) -> BertEncoder:
    """A small randomly initialized BERT encoder (tests, examples, smoke runs).

    Args:
        vocabulary: WordPiece tokens (with ``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]``).
        hidden_dim: width. Defaults to `8`.
        num_layers: transformer layers. Defaults to `1`.
        num_heads: attention heads. Defaults to `2`.
        intermediate_dim: feed-forward width. Defaults to `16`.
        max_sequence_length: positions. Defaults to `64`.
        seed: seeds the initialization. Defaults to `0`.

    Returns:
        A :class:`BertEncoder` (exact GELU, uncased).

    Example:
        >>> tiny_bert_encoder(["[PAD]", "[UNK]", "[CLS]", "[SEP]"]).backbone.num_layers
        1
    """
    keras.utils.set_random_seed(seed)
    backbone = _keras_hub().models.BertBackbone(
        vocabulary_size=len(vocabulary), num_layers=num_layers, num_heads=num_heads,
        hidden_dim=hidden_dim, intermediate_dim=intermediate_dim,
        max_sequence_length=max_sequence_length, name="backbone",
    )
    return BertEncoder(backbone, tuple(str(t) for t in vocabulary), True, "gelu", "tiny")


def required_op_libraries(ops: Sequence[str] | None = None) -> list[str]:
    """Paths of the tensorflow-text op libraries that register ``ops`` (default: all BERT ops).

    Args:
        ops: op names, e.g. from a SavedModel's graph. Defaults to `None` (every op a BERT
            tokenizer graph may use).

    Returns:
        Sorted absolute paths of ``.so`` files inside the installed tensorflow-text.

    Example:
        >>> [os.path.basename(p) for p in required_op_libraries(["RoundRobinTrim"])]
        ['_trimmer_ops.so']
    """
    import importlib.util

    spec = importlib.util.find_spec("tensorflow_text")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover
        raise ImportError("tensorflow-text is not installed: pip install 'tfsnorkel[encoders]'")
    ops_dir = os.path.join(list(spec.submodule_search_locations)[0], "python", "ops")
    names = _OP_LIBRARIES if ops is None else {o: _OP_LIBRARIES[o] for o in ops
                                               if o in _OP_LIBRARIES}
    return sorted({os.path.join(ops_dir, f) for f in names.values()})


def load_text_ops(ops: Sequence[str] | None = None) -> list[str]:
    """Registers tensorflow-text's BERT tokenizer ops with ``tf.load_op_library`` (no Keras).

    Call it before ``tf.saved_model.load`` of an export whose classifier has a pretrained
    encoder. Args and Returns as :func:`required_op_libraries`.

    Example:
        >>> libs = load_text_ops()                                     # doctest: +SKIP
    """
    paths = required_op_libraries(ops)
    for path in paths:
        tf.load_op_library(path)
    return paths
