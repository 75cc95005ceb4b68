"""Multi-label classifier stage: the per-class sigmoid loss, the text classifier head, the
dataset helper, multi-label metrics, and the SavedModel served by plain TensorFlow."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from serving_helpers import load_in_fresh_process

from tfsnorkel.classify.multilabel import (
    MultiLabelNoiseAwareLoss,
    export_multilabel,
    multilabel_dataset,
    multilabel_noise_aware_loss,
    multilabel_predict_proba,
    multilabel_text_classifier,
)
from tfsnorkel.export import find_pyfunc_ops
from tfsnorkel.labeling import LFSet, keyword_lf
from tfsnorkel.labelmodel import MultiLabelModel
from tfsnorkel.metrics import multilabel_report, multilabel_scores

pytestmark = pytest.mark.filterwarnings("ignore:`shuffle=True` was passed")

WORDS = [["fee", "charge"], ["report", "bureau"], ["loan", "mortgage"]]


def _corpus(n, seed):
    """Texts carrying 0-3 topics; topic c present -> one of its words appears."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, 3)) < [0.4, 0.3, 0.2]).astype(np.int32)
    filler = ["the", "my", "account", "please", "help", "bank", "called", "today"]
    texts = []
    for row in Y:
        words = list(rng.choice(filler, size=4))
        for c in np.flatnonzero(row):
            words.append(rng.choice(WORDS[c]))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return np.array(texts, dtype=object), Y


@pytest.fixture(scope="session")
def trained():
    texts, Y = _corpus(600, 0)
    lfs = []
    lf_classes = []
    for c, words in enumerate(WORDS):
        for w in words:
            lfs.append(keyword_lf([w], label=1, name=f"{w}_present"))
            lf_classes.append(c)
    lfset = LFSet(lfs, cardinality=2)
    L = lfset.apply({"text": texts})
    lm = MultiLabelModel(3, lf_classes, lf_names=lfset.names).fit(L)
    P = lm.predict_proba(L)
    keras.utils.set_random_seed(0)
    clf = multilabel_text_classifier(3, adapt_data=texts, ngrams=1)
    clf.compile(optimizer=keras.optimizers.Adam(0.05), loss=MultiLabelNoiseAwareLoss())
    clf.fit(multilabel_dataset(texts, P, batch_size=32), epochs=15, verbose=0)
    return texts, Y, lfset, lm, clf


def test_loss_is_the_mean_over_classes_of_sigmoid_cross_entropy():
    y = np.array([[0.9, 0.2, 0.0], [0.5, 1.0, 0.3]], np.float32)
    z = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]], np.float32)
    want = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))), axis=1)
    np.testing.assert_allclose(multilabel_noise_aware_loss(y, z).numpy(), want, rtol=1e-6)
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(
        multilabel_noise_aware_loss(y, p, from_logits=False).numpy(), want, rtol=1e-4
    )
    loss = MultiLabelNoiseAwareLoss()
    assert float(loss(y, z)) == pytest.approx(float(want.mean()), rel=1e-6)
    assert float(loss(y, z, sample_weight=np.array([1.0, 0.0]))) == pytest.approx(
        float(want[0] / 2), rel=1e-6
    )
    clone = MultiLabelNoiseAwareLoss.from_config(MultiLabelNoiseAwareLoss(False).get_config())
    assert clone.from_logits is False
    assert keras.saving.get_registered_object("tfsnorkel>MultiLabelNoiseAwareLoss") is not None
    with pytest.raises(ValueError, match=r"same C. Received: y_true.shape=\(2, 3\)"):
        multilabel_noise_aware_loss(y, z[:, :2])
    with pytest.raises(TypeError, match="Received: from_logits=1"):
        MultiLabelNoiseAwareLoss(from_logits=1)


def test_classifier_heads_have_one_logit_per_class():
    for c in (2, 5):
        clf = multilabel_text_classifier(c, adapt_data=["a b", "c d"])
        assert clf(tf.constant(["a", "d", "x"])).shape == (3, c)
        assert clf.get_layer("logits").units == c
    with pytest.raises(ValueError, match=r"num_classes must be an integer >= 2.*"
                                         r"Received: num_classes=1"):
        multilabel_text_classifier(1, adapt_data=["a"])


def test_dataset_checks_targets_and_filters_rows():
    ds = multilabel_dataset(["a", "b", "c"], [[1, 0], [0.5, 0.5], [0, 1]], rows=[0, 2],
                            shuffle=False)
    x, y = next(iter(ds))
    assert x.numpy().tolist() == [b"a", b"c"] and y.numpy().tolist() == [[1, 0], [0, 1]]
    with pytest.raises(ValueError, match=r"row 1, class 0 holds 1.5"):
        multilabel_dataset(["a", "b"], [[1, 0], [1.5, 0]])
    with pytest.raises(ValueError, match="one row per text"):
        multilabel_dataset(["a", "b"], [[1, 0]])
    with pytest.raises(ValueError, match="no row to train on"):
        multilabel_dataset(["a", "b"], [[1, 0], [0, 1]], rows=np.array([False, False]))


def test_classifier_trained_on_soft_labels_finds_the_topics(trained):
    clf = trained[-1]
    test_texts, Y_test = _corpus(300, 1)
    probs = multilabel_predict_proba(clf, test_texts)
    assert probs.shape == (300, 3)
    scores = multilabel_scores(Y_test, probs)
    assert scores["f1_micro"] >= 0.95 and scores["f1_macro"] >= 0.95, scores


def test_export_serves_class_probabilities_in_plain_tensorflow(trained, tmp_path):
    texts, _, lfset, lm, clf = trained
    sigs = export_multilabel(tmp_path / "export", clf, lfset=lfset, label_model=lm)
    assert sigs == {"serving_default": ["text"], "weak_label": ["text"]}
    assert find_pyfunc_ops(tmp_path / "export") == []
    sample = [str(t) for t in texts[:20]]
    out = load_in_fresh_process(
        tmp_path / "export",
        {"serving_default": {"text": {"values": sample, "dtype": "string"}},
         "weak_label": {"text": {"values": sample, "dtype": "string"}}},
        tmp_path,
    )
    assert out["loaded_blocked_modules"] == []
    served = np.array(out["serving_default"]["probabilities"])
    np.testing.assert_allclose(served, multilabel_predict_proba(clf, sample), atol=1e-5)
    assert np.array(out["serving_default"]["labels"]).tolist() == (served >= 0.5).astype(
        int).tolist()
    L = lfset.apply({"text": np.array(sample, dtype=object)})
    assert out["weak_label"]["votes"] == L.tolist()
    np.testing.assert_allclose(out["weak_label"]["soft_labels"], lm.predict_proba(L), atol=1e-5)


def test_export_refuses_mismatched_stages(trained, tmp_path):
    _, _, lfset, _, clf = trained
    with pytest.raises(ValueError, match="go together|together"):
        export_multilabel(tmp_path / "x", clf, lfset=lfset)
    other = MultiLabelModel(2, [0, 1]).fit(np.array([[1, 0], [0, 1]] * 5))
    with pytest.raises(ValueError, match="the LF set has 6 LFs, the label model was fitted on 2"):
        export_multilabel(tmp_path / "x", clf, lfset=lfset, label_model=other)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("keep")
    with pytest.raises(ValueError, match="holds no SavedModel"):
        export_multilabel(tmp_path / "full", clf)


def test_multilabel_scores_and_report_match_hand_counts():
    Y = np.array([[1, 0, 1], [1, 1, 0], [0, 0, 1], [0, 1, 0]])
    P = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 1], [0, 0, 0]])
    s = multilabel_scores(Y, P)
    # tp = 4, fp = 1, fn = 2: micro precision 0.8, recall 2/3, F1 8/11.
    assert s["precision_micro"] == pytest.approx(0.8)
    assert s["recall_micro"] == pytest.approx(4 / 6)
    assert s["f1_micro"] == pytest.approx(8 / 11)
    # per class F1: 0.8, 2/3, 2/3.
    assert s["f1_macro"] == pytest.approx((0.8 + 2 / 3 + 2 / 3) / 3)
    assert s["subset_accuracy"] == pytest.approx(0.25)
    assert s["hamming_accuracy"] == pytest.approx(9 / 12)
    probs = np.where(P == 1, 0.7, 0.2)
    assert multilabel_scores(Y, probs) == s
    report = multilabel_report(Y, P, class_names=["a", "b", "c"])
    assert report.index.tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(report["f1"], [0.8, 2 / 3, 2 / 3])
    assert report["support"].tolist() == [2, 2, 2] and report["predicted"].tolist() == [3, 1, 1]
    with pytest.raises(ValueError, match="same shape"):
        multilabel_scores(Y, P[:, :2])
    with pytest.raises(ValueError, match=r"Y_pred\[0, 0\]=1.5"):
        multilabel_scores(Y, np.full(Y.shape, 1.5))
    with pytest.raises(ValueError, match="Y_true must hold 0"):
        multilabel_scores(Y * 2, P)


def test_readme_multilabel_snippet_runs_as_written(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    rest = readme[readme.index("## Multi-label tasks"):]
    code = re.search(r"```python\n(.*?)```", rest, re.DOTALL).group(1)
    monkeypatch.chdir(tmp_path)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)  # noqa: S102 - the README's own code
    P = scope["P"]
    assert P.shape == (100, 2)
    np.testing.assert_allclose(P[:5], [[0.941, 0.2], [0.2, 0.8], [0.8, 0.8], [0.2, 0.8],
                                       [0.2, 0.2]], atol=1e-3)
    assert multilabel_scores(scope["Y"], P)["f1_micro"] == 1.0
    served = tf.saved_model.load(str(tmp_path / "export" / "tags"))
    out = served.signatures["serving_default"](text=tf.constant(["late fee charged"]))
    assert out["probabilities"].shape == (1, 2)
