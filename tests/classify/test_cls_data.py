"""soft_label_dataset, stream_soft_labels, gold_dataset: contents, filtering, weights, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tfsnorkel.classify.data import (
    confidence_weights,
    gold_dataset,
    soft_label_dataset,
    stream_soft_labels,
)

TEXT = np.array(["buy now", "hello", "free money", "see you", "nothing"])
L = np.array([[1, -1], [0, -1], [1, 1], [-1, 0], [-1, -1]], np.int32)
P = np.array([[0.1, 0.9], [0.7, 0.3], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5]])


def _collect(ds):
    parts = list(ds.as_numpy_iterator())
    return [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]


def test_filters_unlabeled_rows_in_order():
    x, p = _collect(soft_label_dataset(TEXT, P, L, batch_size=2, shuffle=False))
    assert [s.decode() for s in x] == ["buy now", "hello", "free money", "see you"]
    np.testing.assert_allclose(p, P[:4])
    assert p.dtype == np.float32


def test_shuffle_is_seeded_and_complete():
    a = _collect(soft_label_dataset(TEXT, P, batch_size=3, shuffle=True, seed=1))[0]
    b = _collect(soft_label_dataset(TEXT, P, batch_size=3, shuffle=True, seed=1))[0]
    assert a.tolist() == b.tolist()
    assert sorted(a.tolist()) == sorted(s.encode() for s in TEXT)


def test_drop_remainder_keeps_full_batches_only():
    ds = soft_label_dataset(TEXT, P, L, batch_size=3, shuffle=True, seed=0, drop_remainder=True)
    assert ds.element_spec[0].shape.as_list() == [3]  # static: what a strategy splits
    batches = list(ds.as_numpy_iterator())
    assert [len(b[0]) for b in batches] == [3]  # 4 labeled rows -> one batch, one row dropped
    with pytest.raises(ValueError, match="leaves no batch.*Received: 4 rows, batch_size=5"):
        soft_label_dataset(TEXT, P, L, batch_size=5, drop_remainder=True)


def test_bytes_features_reach_tensorflow_unchanged():
    """UTF-8 bytes (a string tensor's .numpy()) are the same text, not "b'...'" reprs."""
    P2 = np.array([[0.2, 0.8], [0.6, 0.4]])
    texts = ["café ok", "hello"]
    for feats in (np.array([t.encode() for t in texts], dtype=object),
                  np.array([t.encode() for t in texts])):
        x, _ = next(iter(soft_label_dataset(feats, P2, shuffle=False)))
        assert [v.decode() for v in x.numpy()] == texts


def test_confidence_weights_entropy_callable_and_array():
    w_expected = confidence_weights(P)
    h = lambda q: -(q * np.log(q) + (1 - q) * np.log(1 - q)) / np.log(2)  # noqa: E731
    np.testing.assert_allclose(w_expected, [1 - h(0.1), 1 - h(0.3), 1, 0, 0], atol=1e-6)
    x, p, w = _collect(soft_label_dataset(TEXT, P, L, shuffle=False, confidence_weights=True))
    np.testing.assert_allclose(w, w_expected[:4], atol=1e-6)
    _, _, w2 = _collect(
        soft_label_dataset(TEXT, P, shuffle=False, confidence_weights=lambda q: q.max(axis=1))
    )
    np.testing.assert_allclose(w2, P.max(axis=1))
    _, _, w3 = _collect(soft_label_dataset(TEXT, P, shuffle=False, confidence_weights=np.arange(5)))
    assert w3.tolist() == [0, 1, 2, 3, 4]


def test_dataframe_and_binary_vector_inputs():
    df = pd.DataFrame({"text": TEXT, "n": np.arange(5.0)})
    feats, p = next(iter(soft_label_dataset(df, P[:, 1], shuffle=False, batch_size=5)))
    assert sorted(feats) == ["n", "text"]
    assert feats["n"].numpy().tolist() == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(p.numpy(), P)


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        (dict(probs=np.array([[0.5, 0.6]] * 5)), r"row 0 sums to 1\.1.*Received: probs\[0\]"),
        (dict(probs=np.array([[0.5, 0.5]] * 3 + [[np.nan, 1.0]] + [[0.5, 0.5]])),
         r"finite; row 3.*Received: probs\[3\]=\[nan, 1.0\]"),
        (dict(probs=np.array([[1.5, -0.5]] * 5)), r"non-negative; row 0"),
        (dict(probs=np.full((5, 3), 1 / 3), cardinality=2), r"cardinality=2.*shape: \(5, 3\)"),
        (dict(probs=np.full((5, 1), 1.0)), r"C >= 2 columns. Received shape: \(5, 1\)"),
        (dict(probs=np.full((4, 2), 0.5)), r"differ in length.*5 feature rows, 4 soft-label rows"),
        (dict(probs=P, L=L[:3]), r"label matrix and soft labels differ.*L.shape=\(3, 2\)"),
        (dict(probs=P, L=np.full((5, 2), -1)), r"no labeled row left.*all 5 rows"),
        (dict(probs=P, confidence_weights=np.ones(4)), r"shape \(5,\).*Received shape: \(4,\)"),
        (dict(probs=P, confidence_weights=-np.ones(5)), r"weights\[0\]=-1.0"),
        (dict(probs=P, batch_size=0), r"batch_size=0"),
    ],
)
def test_bad_input_is_a_clear_error(kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        soft_label_dataset(TEXT, **kwargs)


def test_hard_labels_are_one_hot_and_drop_ties():
    x, p = _collect(soft_label_dataset(TEXT, P, label_type="hard", shuffle=False))
    assert [s.decode() for s in x] == ["buy now", "hello", "free money"]
    assert p.tolist() == [[0, 1], [1, 0], [0, 1]]
    _, _, w = _collect(soft_label_dataset(TEXT, P, label_type="hard", shuffle=False,
                                          confidence_weights=True))
    np.testing.assert_allclose(w, confidence_weights(P)[:3], atol=1e-6)
    with pytest.raises(ValueError, match=r"label_type='hard' left no row.*2 rows"):
        soft_label_dataset(TEXT[3:], P[3:], label_type="hard")
    with pytest.raises(ValueError, match=r"label_type='sharp'"):
        soft_label_dataset(TEXT, P, label_type="sharp")


def test_missing_text_names_the_row():
    with pytest.raises(ValueError, match=r"'text' has a missing value at row 1"):
        soft_label_dataset({"text": np.array(["a", None], dtype=object)}, np.full((2, 2), 0.5))


def _toy_lfset(features):
    t = features["text"]
    spam = tf.where(tf.strings.regex_full_match(t, r".*(buy|free).*"), 1, -1)
    ham = tf.where(tf.strings.regex_full_match(t, r".*(hello|see).*"), 0, -1)
    return tf.stack([spam, ham], axis=1)


def _toy_lm(votes):
    counts = tf.reduce_sum(tf.one_hot(votes, 2), axis=1) + 0.5
    return counts / tf.reduce_sum(counts, axis=1, keepdims=True)


@pytest.mark.parametrize("prebatched", [False, True])
def test_stream_matches_in_memory_pipeline(prebatched):
    ds = tf.data.Dataset.from_tensor_slices({"text": TEXT, "id": np.arange(5)})
    if prebatched:
        ds = ds.batch(2)
    out = stream_soft_labels(ds, _toy_lfset, _toy_lm, batch_size=3, confidence_weights=True)
    feats, p, w = _collect(out.map(lambda f, p, w: (f["text"], p, w)))
    Lm = _toy_lfset({"text": tf.constant(TEXT)}).numpy()
    Pm = _toy_lm(tf.constant(Lm)).numpy()
    keep = (Lm != -1).any(1)
    assert [s.decode() for s in feats] == TEXT[keep].tolist()
    np.testing.assert_allclose(p, Pm[keep], rtol=1e-6)
    np.testing.assert_allclose(w, confidence_weights(Pm[keep]), atol=1e-5)
    sizes = [len(b[1]) for b in out.as_numpy_iterator()]
    assert sizes == [3, 1]


def test_stream_feature_key_and_errors():
    ds = tf.data.Dataset.from_tensor_slices({"text": TEXT})
    x, p = next(iter(stream_soft_labels(ds, _toy_lfset, _toy_lm, feature_key="text",
                                        filter_unlabeled=False, batch_size=5)))
    assert x.shape == (5,) and p.shape == (5, 2)
    with pytest.raises(ValueError, match=r"feature_key 'body'.*Received fields: \['text'\]"):
        stream_soft_labels(ds, _toy_lfset, _toy_lm, feature_key="body")
    with pytest.raises(TypeError, match="Received: ndarray"):
        stream_soft_labels(TEXT, _toy_lfset, _toy_lm)
    with pytest.raises(TypeError, match="dicts of features"):
        stream_soft_labels(tf.data.Dataset.from_tensor_slices(TEXT), _toy_lfset, _toy_lm)


def test_gold_dataset_one_hot_and_errors():
    x, y = _collect(gold_dataset(TEXT[:3], [0, 1, 1], cardinality=2))
    assert y.tolist() == [[1, 0], [0, 1], [0, 1]]
    with pytest.raises(ValueError, match=r"y\[1\]=2"):
        gold_dataset(TEXT[:2], [0, 2], cardinality=2)
