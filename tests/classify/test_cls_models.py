"""Ready-made classifiers: shapes, training on soft labels, .keras round trip, config round trip."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tfsnorkel.classify.data import soft_label_dataset
from tfsnorkel.classify.losses import NoiseAwareLoss
from tfsnorkel.classify.models import (
    logits_to_probs,
    predict_proba,
    tabular_classifier,
    text_classifier,
)

SPAM = ["buy cheap pills now", "free money click here", "check out my channel", "subscribe to me"]
HAM = ["nice song", "i love this video", "great voice", "this is beautiful music"]
TEXTS = np.array(SPAM * 5 + HAM * 5, dtype=object)

# Keras notes that fit(shuffle=True) does not reshuffle a tf.data.Dataset; ours shuffles itself
pytestmark = pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")
P = np.array([[0.2, 0.8]] * 20 + [[0.9, 0.1]] * 20, np.float32)


@pytest.mark.parametrize("mode", ["tf_idf", "multi_hot", "embedding"])
def test_text_classifier_learns_soft_labels_and_round_trips(mode, tmp_path):
    keras.utils.set_random_seed(0)
    clf = text_classifier(2, adapt_data=TEXTS, mode=mode, max_tokens=200, embedding_dim=8)
    assert clf.output_shape == (None, 1)
    clf.compile(optimizer=keras.optimizers.Adam(0.05), loss=NoiseAwareLoss())
    clf.fit(soft_label_dataset(TEXTS, P, batch_size=8, seed=0), epochs=15, verbose=0)
    probs = predict_proba(clf, pd.Series(SPAM + HAM))
    assert probs.shape == (8, 2)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-6)
    assert (probs[:4, 1] > 0.6).all() and (probs[4:, 1] < 0.4).all()
    path = tmp_path / "clf.keras"
    clf.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_array_equal(predict_proba(again, SPAM + HAM), probs)
    assert isinstance(again.loss, NoiseAwareLoss)  # the compiled loss round-trips too
    rebuilt = keras.Model.from_config(clf.get_config())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in clf.layers]


def test_multiclass_text_classifier_outputs_c_logits():
    clf = text_classifier(4, adapt_data=TEXTS, hidden_units=(8,), dropout=0.1, max_tokens=50)
    assert clf.output_shape == (None, 4)
    probs = predict_proba(clf, ["nice song", "free money"])
    assert probs.shape == (2, 4)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-6)


def test_fixed_vocabulary():
    clf = text_classifier(2, vocabulary=["buy", "song"], mode="multi_hot", ngrams=None)
    assert clf(tf.constant(["buy buy", "song"])).shape == (2, 1)


def test_tabular_classifier_dict_and_matrix_inputs(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(100, 10, 200), "b": rng.normal(0, 0.01, 200)})
    pos = ((df["a"] - 100) / 10 + df["b"] / 0.01 > 0).to_numpy()
    Pt = np.where(pos[:, None], [0.1, 0.9], [0.9, 0.1]).astype(np.float32)
    clf = tabular_classifier(2, adapt_data=df, hidden_units=(16,))
    assert sorted(clf.input_names if hasattr(clf, "input_names") else clf.input) == ["a", "b"]
    clf.compile(optimizer=keras.optimizers.Adam(0.05), loss=NoiseAwareLoss())
    clf.fit(soft_label_dataset(df, Pt, batch_size=32, seed=0), epochs=10, verbose=0)
    probs = predict_proba(clf, df)
    assert np.mean((probs[:, 1] > 0.5) == pos) > 0.9
    clf.save(tmp_path / "tab.keras")
    again = keras.models.load_model(tmp_path / "tab.keras")
    np.testing.assert_array_equal(predict_proba(again, df), probs)
    mat = tabular_classifier(3, adapt_data=df.to_numpy(), hidden_units=())
    assert mat.output_shape == (None, 3)


def test_logits_to_probs():
    np.testing.assert_allclose(
        logits_to_probs(tf.constant([[0.0], [np.log(3.0)]])).numpy(), [[0.5, 0.5], [0.25, 0.75]],
        rtol=1e-6,
    )
    np.testing.assert_allclose(logits_to_probs(tf.constant([0.0, 0.0])).numpy(), [[0.5, 0.5]] * 2)
    np.testing.assert_allclose(
        logits_to_probs(tf.constant([[0.0, np.log(3.0)]])).numpy(), [[0.25, 0.75]], rtol=1e-6
    )
    np.testing.assert_allclose(
        logits_to_probs(tf.constant([[0.3]]), from_logits=False).numpy(), [[0.7, 0.3]], rtol=1e-6
    )


@pytest.mark.parametrize(
    "fn, kwargs, pattern",
    [
        (text_classifier, dict(cardinality=1, adapt_data=["a"]), r"cardinality=1"),
        (text_classifier, dict(mode="bert", adapt_data=["a"]), r"mode='bert'"),
        (text_classifier, dict(), r"adapt_data=None, vocabulary=None"),
        (text_classifier, dict(vocabulary=["a"]), r"idf_weights=None"),
        (text_classifier, dict(adapt_data=["a", None]), r"missing value at row 1"),
        (text_classifier, dict(adapt_data=["a"], dropout=1.5), r"dropout=1.5"),
        (text_classifier, dict(adapt_data=["a"], hidden_units=(0,)), r"hidden_units=\(0,\)"),
        (tabular_classifier, dict(adapt_data={"a": [1.0, np.nan]}),
         r"column 'a' must be finite.*row 1"),
        (tabular_classifier, dict(adapt_data={"a": ["x"]}), r"column 'a' must be numeric"),
        (tabular_classifier, dict(adapt_data=np.ones(3)), r"\[N, d\].*shape: \(3,\)"),
    ],
)
def test_bad_arguments_are_clear_errors(fn, kwargs, pattern):
    with pytest.raises(ValueError, match=pattern):
        fn(**kwargs)


def test_predict_proba_takes_utf8_bytes_like_strings():
    texts = np.array(["café ok", "hello there", "naïve"], dtype=object)
    clf = text_classifier(2, adapt_data=texts)
    want = predict_proba(clf, texts)
    for as_bytes in (np.array([t.encode() for t in texts], dtype=object),
                     np.array([t.encode() for t in texts])):
        np.testing.assert_allclose(predict_proba(clf, as_bytes), want, atol=1e-7)


def test_character_ngrams_and_unit_norm_round_trip(tmp_path):
    from tfsnorkel.classify.models import L2Normalize

    clf = text_classifier(3, adapt_data=TEXTS, char_ngrams=(2, 3), unit_norm=True,
                          mode="multi_hot", max_tokens=100, char_max_tokens=50)
    assert clf.get_layer("vectorize_chars").vocabulary_size() == 50
    feats = keras.Model(clf.inputs, clf.get_layer("logits").input)(tf.constant(SPAM[:2]))
    width = clf.get_layer("vectorize").vocabulary_size()
    # each block (words, characters) has unit L2 norm
    np.testing.assert_allclose(np.linalg.norm(feats[:, :width], axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(feats[:, width:], axis=1), 1.0, rtol=1e-6)
    path = tmp_path / "chars.keras"
    clf.save(path)
    again = keras.models.load_model(path)
    np.testing.assert_allclose(predict_proba(again, SPAM + HAM), predict_proba(clf, SPAM + HAM),
                               atol=1e-6)
    assert L2Normalize()(tf.zeros([1, 3])).numpy().tolist() == [[0.0, 0.0, 0.0]]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(char_ngrams=0), r"char_ngrams must be .* Received: char_ngrams=0"),
        (dict(char_ngrams=(3, 2)), r"Received: char_ngrams=\(3, 2\)"),
        (dict(char_ngrams=2, mode="embedding"), r"char_ngrams needs a bag-of-words mode"),
        (dict(unit_norm=True, mode="embedding"), r"unit_norm scales bag-of-words features"),
    ],
)
def test_character_ngram_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        text_classifier(2, adapt_data=TEXTS, **kwargs)
