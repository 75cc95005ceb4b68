"""export_pipeline: one hermetic SavedModel (fresh process, TF only), no PyFunc ops, refusals."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tfsnorkel.classify.models import logits_to_probs, tabular_classifier, text_classifier
from tfsnorkel.export import export_pipeline, find_pyfunc_ops

from serving_helpers import load_in_fresh_process  # tests/classify/serving_helpers.py

TEXTS = ["buy cheap pills", "hello friend", "check out my channel", "nice song", "",
         "Buy NOW, hello!"]

class ToyLFSet(tf.Module):
    """Stands for an LFSet: regex votes in pure TF over field "text"."""

    names = ["spam_words", "greeting"]
    python_lf_names: list[str] = []

    def input_signature(self):
        return {"text": tf.TensorSpec([None], tf.string, name="text")}

    def __call__(self, features):
        t = tf.strings.lower(features["text"])
        spam = tf.where(tf.strings.regex_full_match(t, r"(?s).*\b(buy|check)\b.*"), 1, -1)
        ham = tf.where(tf.strings.regex_full_match(t, r"(?s).*\bhello\b.*"), 0, -1)
        return tf.stack([spam, ham], axis=1)


@keras.saving.register_keras_serializable(package="tfsnorkel_tests")
class ToyLabelModel(keras.layers.Layer):
    """Stands for a LabelModel: weighted vote counts with a learned-looking weight vector."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(2,), initializer=keras.initializers.Constant([1.5, 0.7]))

    def call(self, votes):
        counts = tf.reduce_sum(tf.one_hot(votes, 2) * self.w[:, None], axis=1) + 0.25
        return counts / tf.reduce_sum(counts, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def stages():
    keras.utils.set_random_seed(0)
    clf = text_classifier(2, adapt_data=TEXTS, max_tokens=50)
    return ToyLFSet(), ToyLabelModel(), clf


def test_full_export_is_hermetic_and_matches_memory(stages, tmp_path):
    lfset, lm, clf = stages
    path = tmp_path / "pipeline"
    sigs = export_pipeline(path, lfset=lfset, label_model=lm, classifier=clf)
    assert sigs == {"serving_default": ["text"], "weak_label": ["text"]}
    assert find_pyfunc_ops(path) == []
    calls = {s: {"text": {"values": TEXTS, "dtype": "string"}} for s in sigs}
    served = load_in_fresh_process(path, calls, tmp_path)
    assert served["loaded_blocked_modules"] == []
    assert served["signatures"] == ["serving_default", "weak_label"]

    votes = lfset({"text": tf.constant(TEXTS)}).numpy()
    soft = lm(tf.constant(votes)).numpy()
    probs = logits_to_probs(clf(tf.constant(TEXTS))).numpy()
    wl = served["weak_label"]
    assert wl["votes"] == votes.tolist() == [[1, -1], [-1, 0], [1, -1], [-1, -1], [-1, -1], [1, 0]]
    assert wl["covered"] == [True, True, True, False, False, True]
    np.testing.assert_allclose(wl["soft_labels"], soft, rtol=1e-6)
    assert wl["label"] == soft.argmax(1).tolist()
    sd = served["serving_default"]
    np.testing.assert_allclose(sd["probabilities"], probs, rtol=1e-6, atol=1e-7)
    assert sd["label"] == probs.argmax(1).tolist()
    loaded = tf.saved_model.load(str(path))
    for name in ("serving_default", "weak_label"):
        args, kwargs = loaded.signatures[name].structured_input_signature
        assert args == () and kwargs == {"text": tf.TensorSpec([None], tf.string, name="text")}


def test_subsets_of_stages(stages, tmp_path):
    lfset, lm, clf = stages
    assert export_pipeline(tmp_path / "clf", classifier=clf) == {"serving_default": ["text"]}
    only_lf = export_pipeline(tmp_path / "lf", lfset=lfset)
    assert only_lf == {"serving_default": ["text"], "weak_label": ["text"]}
    only_lm = export_pipeline(tmp_path / "lm", label_model=lm)
    assert only_lm == {"serving_default": ["votes"], "weak_label": ["votes"]}
    served = tf.saved_model.load(str(tmp_path / "lm"))
    out = served.signatures["weak_label"](votes=tf.constant([[1, -1], [-1, -1]]))
    np.testing.assert_allclose(out["soft_labels"].numpy(), lm(tf.constant([[1, -1], [-1, -1]])))
    assert out["covered"].numpy().tolist() == [True, False]
    served = tf.saved_model.load(str(tmp_path / "lf"))
    assert sorted(served.signatures["serving_default"](text=tf.constant(["buy"]))) == [
        "covered", "votes"]


def test_tabular_dict_classifier_has_one_input_per_column(tmp_path):
    df = pd.DataFrame({"age": [20.0, 30.0, 40.0], "income": [1.0, 2.0, 5.0]})
    clf = tabular_classifier(3, adapt_data=df, hidden_units=(4,))
    sigs = export_pipeline(tmp_path / "tab", classifier=clf)
    assert sigs == {"serving_default": ["age", "income"]}
    served = tf.saved_model.load(str(tmp_path / "tab"))
    feats = {k: tf.constant(v.to_numpy(), tf.float32) for k, v in df.items()}
    out = served.signatures["serving_default"](**feats)
    np.testing.assert_allclose(out["probabilities"].numpy(), logits_to_probs(clf(feats)).numpy(),
                               rtol=1e-6)


class PyLFSet(ToyLFSet):
    python_lf_names = ["my_python_lf", "other_py"]


def test_python_lfs_are_refused_or_skipped(stages, tmp_path):
    _, lm, clf = stages
    pattern = r"Python LFs \['my_python_lf', 'other_py'\].*python_lfs='raise'"
    with pytest.raises(ValueError, match=pattern):
        export_pipeline(tmp_path / "x", lfset=PyLFSet(), classifier=clf)
    with pytest.warns(UserWarning, match=r"my_python_lf.*exporting without the LF set"):
        sigs = export_pipeline(tmp_path / "y", lfset=PyLFSet(), label_model=lm, classifier=clf,
                               python_lfs="skip")
    assert sigs == {"serving_default": ["text"], "weak_label": ["votes"]}
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="nothing servable"):
        export_pipeline(tmp_path / "z", lfset=PyLFSet(), python_lfs="skip")


def test_pyfunc_detection_and_argument_errors(tmp_path):
    class Leaky(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
        def f(self, x):
            return tf.numpy_function(lambda a: a * 2, [x], tf.float32)

    tf.saved_model.save(Leaky(), str(tmp_path / "leaky"))
    found = find_pyfunc_ops(tmp_path / "leaky")
    assert found and all("PyFunc" in op for op in found)
    with pytest.raises(ValueError, match="Received: all None"):
        export_pipeline(tmp_path / "none")
    with pytest.raises(ValueError, match="python_lfs='maybe'"):
        export_pipeline(tmp_path / "none", label_model=ToyLabelModel(), python_lfs="maybe")


def test_keras_save_of_classifier_round_trips_exactly(stages, tmp_path):
    _, _, clf = stages
    clf.save(tmp_path / "clf.keras")
    again = keras.models.load_model(tmp_path / "clf.keras")
    x = tf.constant(TEXTS)
    np.testing.assert_array_equal(again(x).numpy(), clf(x).numpy())


def test_real_lfset_with_a_python_lf_is_refused_by_name(stages, tmp_path):
    from tfsnorkel.labeling import LFSet, keyword_lf, labeling_function

    @labeling_function()
    def shouting(x):
        return 1 if x.text.isupper() else -1

    lfs = LFSet([keyword_lf("buy", 1, field="text"), shouting], cardinality=2)
    assert lfs.python_lf_names == ["shouting"]
    _, lm, clf = stages
    with pytest.raises(ValueError, match=r"Python LFs \['shouting'\].*cannot be served"):
        export_pipeline(tmp_path / "x", lfset=lfs, label_model=lm, classifier=clf)
    # why: the LF set's own graph holds a PyFunc op, which find_pyfunc_ops detects
    holder = tf.Module()
    holder.lfs = lfs
    holder.f = tf.function(lambda t: lfs({"text": t}),
                           input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(holder, str(tmp_path / "raw"))
    assert any("PyFunc" in op for op in find_pyfunc_ops(tmp_path / "raw"))
    compiled_only = LFSet([keyword_lf("buy", 1, field="text")], cardinality=2)
    sigs = export_pipeline(tmp_path / "ok", lfset=compiled_only, label_model=lm, classifier=clf)
    assert sigs == {"serving_default": ["text"], "weak_label": ["text"]}
    served = tf.saved_model.load(str(tmp_path / "ok"))
    out = served.signatures["weak_label"](text=tf.constant(["buy it", "nope"]))
    assert out["votes"].numpy().tolist() == [[1], [-1]]
