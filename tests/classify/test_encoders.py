"""Pretrained encoders through keras-hub: tokenization equal to Hugging Face's, a BERT forward
pass equal to a NumPy reference on Hugging Face-format weights, frozen and fine-tuned training,
``.keras`` round trips and a SavedModel served in a fresh process with only TensorFlow and
tensorflow-text's op libraries.

Every test uses a tiny randomly initialized backbone; the real all-MiniLM-L6-v2 numbers are in
BENCHMARKS.md (``benchmarks/classifier.py --backbone``). keras-hub, tensorflow-text and
tokenizers come with the ``dev`` extra, so CI runs all of this; elsewhere a missing extra skips.
"""

from __future__ import annotations

import json
import math
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

if os.environ.get("CI"):
    import keras_hub  # noqa: F401  (CI installs the dev extra: a missing one must fail)
    import tokenizers
else:
    pytest.importorskip("keras_hub")
    tokenizers = pytest.importorskip("tokenizers")

import tfsnorkel as ts
from tfsnorkel.classify import encoders

from serving_helpers import load_in_fresh_process  # tests/classify/serving_helpers.py

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
WORDS = ["win", "cash", "prize", "free", "call", "claim", "lunch", "mum", "see", "soon",
         "home", "tonight", "cafe", "naive", "zoe", "the", "a", "!", ",", ".", "?", "'", "s",
         "##s", "##ing", "go", "un", "##believ", "##able", "日", "本"]
VOCAB = SPECIAL + WORDS


def _hf_tokenizer(vocab: list[str]):
    """Hugging Face's own BERT tokenizer (the Rust ``tokenizers`` library) for ``vocab``."""
    from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    tok = Tokenizer(WordPiece({t: i for i, t in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                                strip_accents=None, lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    return tok


TEXTS = [
    "Win CASH now!", "Café for a naïve Zoë?", "see you soon,\tmum\nat home", "",
    "unbelievable prizes", "call\x00me\u200b tonight", "日本 go", "the cat's prize",
    "WIN\r\nFREE cash, claim a prize. See mum!", "  spaced   out  ",
]


def test_tokenization_equals_hugging_face():
    pre = encoders.BertTextPreprocessor(VOCAB, sequence_length=64)
    out = pre(tf.constant(TEXTS))
    hf = _hf_tokenizer(VOCAB)
    ids, mask = out["token_ids"].numpy(), out["padding_mask"].numpy()
    assert ids.shape[1] == max(len(hf.encode(t).ids) for t in TEXTS)  # padded to the longest
    for row, text in enumerate(TEXTS):
        want = hf.encode(text).ids
        n = int(mask[row].sum())
        assert ids[row, :n].tolist() == want, text
        assert (ids[row, n:] == 0).all() and (mask[row, n:] == 0).all()
    assert (out["segment_ids"].numpy() == 0).all()
    # accents stripped after lowercasing: "Café" is "cafe", not [UNK]
    assert ids[1, 1] == VOCAB.index("cafe")


def test_truncation_keeps_cls_and_sep():
    pre = encoders.BertTextPreprocessor(VOCAB, sequence_length=5)
    ids = pre(tf.constant(["win cash prize free call claim", "win"]))["token_ids"].numpy()
    w = VOCAB.index
    assert ids.tolist() == [[2, w("win"), w("cash"), w("prize"), 3], [2, w("win"), 3, 0, 0]]


def test_preprocessor_rejects_a_vocabulary_without_special_tokens():
    with pytest.raises(ValueError, match=r"\[CLS\]"):
        encoders.BertTextPreprocessor(["[PAD]", "[UNK]", "win"])


# -- a Hugging Face-format checkpoint and a NumPy BERT ------------------------------------------
H, LAYERS, HEADS, FF, POS = 16, 2, 4, 32, 64


def _hf_weights(rng: np.random.Generator, vocab_size: int) -> dict[str, np.ndarray]:
    def n(*shape, scale=0.3):
        return (rng.normal(0, scale, shape)).astype(np.float32)

    w = {
        "embeddings.word_embeddings.weight": n(vocab_size, H),
        "embeddings.position_embeddings.weight": n(POS, H),
        "embeddings.token_type_embeddings.weight": n(2, H),
        "embeddings.LayerNorm.weight": 1 + n(H, scale=0.1),
        "embeddings.LayerNorm.bias": n(H, scale=0.1),
        "pooler.dense.weight": n(H, H),
        "pooler.dense.bias": n(H),
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for part in ("query", "key", "value"):
            w[p + f"attention.self.{part}.weight"] = n(H, H)  # [out, in], as torch stores it
            w[p + f"attention.self.{part}.bias"] = n(H)
        w[p + "attention.output.dense.weight"] = n(H, H)
        w[p + "attention.output.dense.bias"] = n(H)
        w[p + "attention.output.LayerNorm.weight"] = 1 + n(H, scale=0.1)
        w[p + "attention.output.LayerNorm.bias"] = n(H, scale=0.1)
        w[p + "intermediate.dense.weight"] = n(FF, H, scale=1.0)  # large pre-activations
        w[p + "intermediate.dense.bias"] = n(FF)
        w[p + "output.dense.weight"] = n(H, FF)
        w[p + "output.dense.bias"] = n(H)
        w[p + "output.LayerNorm.weight"] = 1 + n(H, scale=0.1)
        w[p + "output.LayerNorm.bias"] = n(H, scale=0.1)
    return w


def _numpy_bert(w: dict[str, np.ndarray], ids: np.ndarray, mask: np.ndarray, exact: bool):
    """Hugging Face's BertModel forward pass in NumPy, then mean pooling and unit norm."""
    erf = np.vectorize(math.erf)

    def ln(x, g, b):
        mu, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * g + b

    def gelu(x):
        if exact:
            return 0.5 * x * (1 + erf(x / np.sqrt(2)))
        return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))

    def lin(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    T = ids.shape[1]
    x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:T]
         + w["embeddings.token_type_embeddings.weight"][0])
    x = ln(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
    d = H // HEADS
    bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9)
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        q, k, v = (lin(x, p + f"attention.self.{s}").reshape(len(ids), T, HEADS, d).transpose(0, 2, 1, 3)
                   for s in ("query", "key", "value"))
        a = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
        a = np.exp(a - a.max(-1, keepdims=True))
        a /= a.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(0, 2, 1, 3).reshape(len(ids), T, H)
        x = ln(lin(ctx, p + "attention.output.dense") + x, w[p + "attention.output.LayerNorm.weight"],
               w[p + "attention.output.LayerNorm.bias"])
        h = lin(gelu(lin(x, p + "intermediate.dense")), p + "output.dense")
        x = ln(h + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"])
    m = mask[..., None].astype(np.float64)
    pooled = (x * m).sum(1) / m.sum(1)
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def hf_dir(tmp_path_factory):
    """A tiny BERT in Hugging Face's file layout, tokenizer.json only (no vocab.txt)."""
    from safetensors.numpy import save_file

    path = tmp_path_factory.mktemp("hf_bert")
    weights = _hf_weights(np.random.default_rng(0), len(VOCAB))
    save_file(weights, str(path / "model.safetensors"))
    config = {"architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu",
              "hidden_size": H, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
              "intermediate_size": FF, "max_position_embeddings": POS, "type_vocab_size": 2,
              "vocab_size": len(VOCAB), "layer_norm_eps": 1e-12}
    (path / "config.json").write_text(json.dumps(config))
    _hf_tokenizer(VOCAB).save(str(path / "tokenizer.json"))
    return path, weights


def test_hugging_face_checkpoint_equals_a_numpy_bert_with_exact_gelu(hf_dir):
    path, weights = hf_dir
    enc = ts.load_bert_encoder(path)
    assert enc.activation == "gelu" and enc.lowercase and list(enc.vocabulary) == VOCAB
    layer = enc.layer(sequence_length=64)
    got = layer(tf.constant(TEXTS)).numpy()
    inputs = layer.preprocess(tf.constant(TEXTS))
    ids, mask = inputs["token_ids"].numpy(), inputs["padding_mask"].numpy()
    want = _numpy_bert(weights, ids, mask, exact=True)
    approx = _numpy_bert(weights, ids, mask, exact=False)
    err, err_tanh = np.abs(got - want).max(), np.abs(got - approx).max()
    print(f"max error: {err:.2e} (exact GELU reference), {err_tanh:.2e} (tanh reference)")
    assert err < 3e-6  # float32 round-off
    assert err_tanh > 5 * err  # keras-hub's own tanh GELU would be measurably off
    tanh_layer = encoders.BertEncoder(enc.backbone, enc.vocabulary, True, "gelu_approximate").layer()
    assert np.abs(tanh_layer(tf.constant(TEXTS)).numpy() - approx).max() < 3e-6


def test_a_keras_hub_preset_directory_loads_with_its_own_tokenizer(tmp_path):
    """The preset branch of load_bert_encoder (a handle or a keras-hub preset directory), offline:
    a backbone and tokenizer saved with keras-hub's save_to_preset load back with the preset's
    vocabulary and casing and keras-hub's own tanh GELU, and encode as the saved backbone does."""
    import keras_hub

    vocab = [*VOCAB, "[MASK]"]  # keras-hub's BertTokenizer needs every special token
    saved = encoders.tiny_bert_encoder(vocab, hidden_dim=8)
    preset = tmp_path / "preset"
    saved.backbone.save_to_preset(str(preset))
    keras_hub.models.BertTokenizer(vocabulary=vocab, lowercase=True).save_to_preset(str(preset))
    assert not encoders._is_hf_dir(str(preset))  # keras-hub's config.json has no model_type
    enc = ts.load_bert_encoder(preset)
    assert list(enc.vocabulary) == vocab and enc.lowercase
    assert enc.activation == "gelu_approximate"  # BertBackbone's hard-coded GELU
    got = enc.layer(sequence_length=64)(tf.constant(TEXTS)).numpy()
    want = encoders.BertEncoder(saved.backbone, tuple(vocab), True, "gelu_approximate").layer(
        sequence_length=64
    )(tf.constant(TEXTS)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert np.abs(got).sum() > 0


def test_a_directory_that_is_not_bert_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(ValueError, match="gpt2"):
        ts.load_bert_encoder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(FileNotFoundError, match="vocab.txt or tokenizer.json"):
        encoders._hf_vocabulary(str(tmp_path))


# -- training, saving, serving ---------------------------------------------------------------
SPAM, HAM = WORDS[:6], WORDS[6:12]


def _corpus(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = [" ".join(rng.choice(SPAM if label else HAM, 4)) for label in y]
    return np.array(texts, dtype=object), y


@pytest.fixture(scope="module")
def task():
    texts, y = _corpus(300, 0)
    dev_texts, dev_y = _corpus(80, 1)
    test_texts, test_y = _corpus(200, 2)
    rng = np.random.default_rng(3)
    p1 = np.clip(np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.1, len(y)), 0.01, 0.99)
    return texts, np.stack([1 - p1, p1], 1), dev_texts, dev_y, test_texts, test_y


def _tiny():
    return encoders.tiny_bert_encoder(VOCAB, hidden_dim=32, intermediate_dim=64, num_heads=4)


def test_frozen_encoder_trains_only_the_head_and_learns(task):
    texts, P, dev_texts, dev_y, test_texts, test_y = task
    enc = _tiny()
    before = [w.copy() for w in enc.backbone.get_weights()]
    clf = ts.fit_text_classifier(texts, P, dev_texts=dev_texts, dev_y=dev_y, backbone=enc,
                                 epochs=30)
    acc = ts.metric_score(test_y, ts.predict_proba(clf, test_texts), "accuracy", cardinality=2)
    assert acc >= 0.95
    layer = clf.get_layer("encoder")
    assert not layer.trainable and layer.backbone is enc.backbone and not clf.get_layer(
        "encoder").trainable_weights
    for a, b in zip(before, enc.backbone.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fine_tuning_moves_the_backbone(task):
    texts, P, dev_texts, dev_y, test_texts, test_y = task
    enc = _tiny()
    before = enc.backbone.get_weights()
    with warnings.catch_warnings():
        # every trainable variable gets a gradient (the unused [CLS] pooler is frozen)
        warnings.filterwarnings("error", message="Gradients do not exist")
        clf = ts.fit_text_classifier(texts[:128], P[:128], dev_texts=dev_texts, dev_y=dev_y,
                                     backbone=enc, fine_tune=True, learning_rate=1e-3, epochs=3,
                                     batch_size=32)
    tuned = clf.get_layer("encoder")
    assert tuned.trainable and tuned.backbone is not enc.backbone
    assert not any("pooled_dense" in v.path for v in tuned.trainable_weights)
    moved = [np.abs(a - b).max() for a, b in zip(before, tuned.backbone.get_weights())]
    assert max(moved) > 1e-4
    for a, b in zip(before, enc.backbone.get_weights()):  # the loaded encoder is left as it was
        np.testing.assert_array_equal(a, b)
    acc = ts.metric_score(test_y, ts.predict_proba(clf, test_texts), "accuracy", cardinality=2)
    assert acc >= 0.9


def test_encoder_with_bag_of_words_features(task):
    texts, P, dev_texts, dev_y, test_texts, test_y = task
    clf = ts.fit_text_classifier(texts, P, dev_texts=dev_texts,
                                 dev_y=dev_y, backbone=_tiny(), bag_of_words=True, epochs=20)
    names = {layer.name for layer in clf.layers}
    assert {"vectorize", "encoder", "features_and_encoder"} <= names
    width = clf.get_layer("features_and_encoder").output.shape[-1]
    assert width == clf.get_layer("vectorize").vocabulary_size() + 32
    acc = ts.metric_score(test_y, ts.predict_proba(clf, test_texts), "accuracy", cardinality=2)
    assert acc >= 0.95
    # more classes get the multiclass recipe's character n-grams beside the encoder
    from tfsnorkel.classify import training

    kwargs = training._recipe_kwargs({"backbone": "x", "bag_of_words": True}, 3)
    assert kwargs["char_ngrams"] == (2, 5) and kwargs["unit_norm"]
    assert "char_ngrams" not in training._recipe_kwargs({"backbone": "x"}, 3)


def test_fine_tune_needs_a_backbone():
    with pytest.raises(ValueError, match="need a backbone"):
        ts.text_classifier(2, adapt_data=["a b"], fine_tune=True)
    with pytest.raises(ValueError, match="need a backbone"):
        ts.text_classifier(2, adapt_data=["a b"], bag_of_words=True)
    with pytest.raises(TypeError, match="BertEncoder"):
        ts.text_classifier(2, backbone=3)


def test_keras_file_round_trip(tmp_path):
    clf = ts.text_classifier(3, backbone=_tiny(), sequence_length=16)
    path = tmp_path / "clf.keras"
    clf.save(path)
    loaded = keras.models.load_model(path)
    x = tf.constant(TEXTS)
    np.testing.assert_allclose(loaded(x).numpy(), clf(x).numpy(), atol=1e-6)
    enc = loaded.get_layer("encoder")
    assert enc.activation == "gelu" and enc.preprocess.sequence_length == 16
    assert enc.backbone.transformer_layers[0]._feedforward_intermediate_dense.activation(
        tf.constant([1.0])).numpy() == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))))


def test_export_serves_raw_strings_with_only_tensorflow_text_ops(tmp_path):
    clf = ts.text_classifier(2, backbone=_tiny())
    path = tmp_path / "served"
    ts.export_pipeline(path, classifier=clf)
    assert ts.find_pyfunc_ops(path) == []
    calls = {"serving_default": {"text": {"values": TEXTS, "dtype": "string"}}}
    served = load_in_fresh_process(path, calls, tmp_path, op_libraries=encoders.required_op_libraries())
    assert served["loaded_blocked_modules"] == []
    probs = ts.predict_proba(clf, np.array(TEXTS, dtype=object))
    np.testing.assert_allclose(served["serving_default"]["probabilities"], probs, atol=1e-6)
    # the op libraries are needed: without them the graph cannot be loaded
    with pytest.raises(AssertionError, match="(?i)op type not registered|not found"):
        load_in_fresh_process(path, calls, tmp_path)


def test_readme_snippet_runs(hf_dir, task):
    """README's "Pretrained encoders" snippet, with the tiny Hugging Face directory as the model."""
    import re
    import types
    from pathlib import Path

    import pandas as pd

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rest = text[text.index("### Pretrained encoders"):]
    code = re.search(r"```python\n(.*?)```", rest, re.S).group(1)
    assert '"models/all-MiniLM-L6-v2"' in code
    code = code.replace('"models/all-MiniLM-L6-v2"', repr(str(hf_dir[0])))
    texts, P, dev_texts, dev_y, test_texts, test_y = task
    L = np.where(P[:, 1:] > 0.5, 1, 0).astype(np.int32)
    scope = {"ts": ts, "df": pd.DataFrame({"text": texts}), "P": P, "L": L,
             "dev": pd.DataFrame({"text": dev_texts}),
             "yt": types.SimpleNamespace(valid=types.SimpleNamespace(y=dev_y))}
    exec(compile(code, "README.md", "exec"), scope)
    clf, layer = scope["clf"], scope["clf"].get_layer("encoder")
    # the snippet read the Hugging Face directory (its random weights carry no signal: only the
    # wiring is checked here; the frozen-training tests above check learning)
    assert layer.backbone.hidden_dim == H and layer.activation == "gelu" and not layer.trainable
    assert layer.preprocess.vocabulary == VOCAB and clf.label_type_ in ("soft", "hard")
    assert sorted(clf.label_type_scores_) == ["hard", "soft"]
    probs = ts.predict_proba(clf, test_texts)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)


def test_cli_train_with_a_backbone(hf_dir, task, tmp_path, cli):
    import pandas as pd

    texts, P, dev_texts, dev_y, test_texts, test_y = task
    csv, dev_csv, P_path = tmp_path / "train.csv", tmp_path / "dev.csv", tmp_path / "P.npy"
    pd.DataFrame({"text": texts}).to_csv(csv, index=False)
    pd.DataFrame({"text": dev_texts, "y": dev_y}).to_csv(dev_csv, index=False)
    np.save(P_path, P)
    out = tmp_path / "clf.keras"
    base = ("train", "--input", str(csv), "--soft-labels", str(P_path), "--out", str(out),
            "--dev-input", str(dev_csv), "--dev-gold-column", "y", "--epochs", "3")
    proc = cli(*base, "--backbone", str(hf_dir[0]))
    assert proc.returncode == 0, proc.stderr
    loaded = keras.models.load_model(out)
    layer = loaded.get_layer("encoder")
    assert layer.preprocess.vocabulary == VOCAB and not layer.trainable
    proc = cli(*base, "--fine-tune")
    assert proc.returncode == 2 and "give --backbone too" in proc.stderr
    proc = cli(*base, "--backbone", str(tmp_path / "missing"))
    assert proc.returncode == 2 and "no directory" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_encoded_rows_come_back_in_input_order():
    from tfsnorkel.classify import training

    clf = ts.text_classifier(2, backbone=_tiny())
    features = training._feature_model(clf)
    texts = np.array([" ".join(["win"] * k) for k in (9, 1, 5, 3, 7, 2)] + TEXTS, dtype=object)
    rows = training._SparseRows.of(features, texts, chunk=4)  # sorted into chunks of 4
    got = tf.sparse.to_dense(rows.gather(tf.range(len(texts), dtype=tf.int64))).numpy()
    want = features(tf.constant(texts)).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)
