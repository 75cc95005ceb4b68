"""End to end on WRENCH: LFs -> label model -> noise-aware text classifier -> test scores -> export.

youtube runs the compiled spam LFs (`spam_lfs`) through an `LFSet`; sms and trec use the shipped
weak labels. For each set a text classifier is trained with `NoiseAwareLoss` on the label
model's soft labels and on its hard (one-hot) labels, early-stopped on the gold dev set; the
variant with the better gold dev accuracy is kept (model selection on dev, never on test).
Scores are printed next to the label model's and majority vote's (run with ``-s``).
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import tensorflow as tf

import tfsnorkel as ts
from tfsnorkel.labeling import LFSet, spam_lfs
from tfsnorkel.labels import ABSTAIN

from serving_helpers import load_in_fresh_process  # tests/classify/serving_helpers.py

pytestmark = [
    pytest.mark.data,
    pytest.mark.slow,  # trains 5 text classifiers on the WRENCH sets and serves one in a new process
    # Keras notes that fit(shuffle=True) does not reshuffle a tf.data.Dataset; ours shuffles itself
    pytest.mark.filterwarnings("ignore:`shuffle=True` was passed"),
]


def train_text_classifier(train, L, P, dev, label_type):
    """The documented recipe, one call: NoiseAwareLoss, early stopping on the gold dev set."""
    clf = ts.fit_text_classifier(train.frame["text"], P, L, dev_texts=dev.frame["text"],
                                 dev_y=dev.y, label_type=label_type, max_tokens=None)
    assert len(clf.history.history["loss"]) < 40  # early stopping fired
    return clf


def run_pipeline(ds, L_train, L_dev, L_test, lm_dev=False, label_types=("soft", "hard")):
    C = ds.cardinality
    # lm_dev: the gold dev split makes the label model's choices too, as it makes the
    # classifier's epoch and targets (not on sms, whose shipped dev votes do not belong to
    # its texts' labels).
    lm = (ts.LabelModel(cardinality=C).fit(L_train, L_dev, ds.valid.y) if lm_dev
          else ts.LabelModel(cardinality=C).fit(L_train))
    P = lm.predict_proba(L_train)
    candidates = {}
    for label_type in label_types:
        clf = train_text_classifier(ds.train, L_train, P, ds.valid, label_type)
        dev_acc = ts.metric_score(ds.valid.y, ts.predict_proba(clf, ds.valid.frame["text"]))
        candidates[label_type] = (dev_acc, clf)
    chosen = max(candidates, key=lambda k: candidates[k][0])
    clf = candidates[chosen][1]
    metrics = ["accuracy", "f1"] if C == 2 else ["accuracy", "f1_macro"]
    probs = ts.predict_proba(clf, ds.test.frame["text"])
    scores = {
        f"classifier ({chosen})": ts.evaluate(ds.test.y, probs, metrics),
        "label model": ts.evaluate(ds.test.y, lm.predict_proba(L_test), metrics),
        "majority vote": ts.evaluate(ds.test.y, ts.MajorityVoter(C).predict_proba(L_test), metrics),
    }
    for other in candidates:
        if other != chosen:
            scores[f"classifier ({other})"] = ts.evaluate(
                ds.test.y, ts.predict_proba(candidates[other][1], ds.test.frame["text"]), metrics
            )
    print(f"\n{ds.name} test set ({len(ds.test)} rows); dev accuracy "
          + " ".join(f"{k}={v[0]:.3f}" for k, v in candidates.items()))
    for label, s in scores.items():
        print(f"  {label:<20}" + "  ".join(f"{m}={s[m]:.3f}" for m in metrics))
    return SimpleNamespace(lm=lm, clf=clf, probs=probs, scores=scores, chosen=chosen, P=P,
                           clf_acc=scores[f"classifier ({chosen})"]["accuracy"],
                           lm_acc=scores["label model"]["accuracy"],
                           mv_acc=scores["majority vote"]["accuracy"])


@pytest.fixture(scope="module")
def youtube_run(youtube):
    lfs = LFSet(spam_lfs(), cardinality=2)
    Ls = [lfs.apply(split.frame) for split in (youtube.train, youtube.valid, youtube.test)]
    np.testing.assert_array_equal(Ls[0], youtube.train.L[:, :7])  # the tutorial's 7 rule LFs
    return lfs, Ls, run_pipeline(youtube, *Ls)


def test_youtube_classifier_beats_label_model(youtube, youtube_run):
    _, (L_train, _, L_test), run = youtube_run
    assert run.clf_acc >= run.lm_acc
    assert run.lm_acc >= run.mv_acc - 0.02
    # the classifier labels rows no LF covers (where the label model can only guess the prior)
    uncovered = (L_test == ABSTAIN).all(axis=1)
    assert uncovered.sum() >= 30
    lm_unc = run.lm.predict_proba(L_test[uncovered])
    np.testing.assert_allclose(lm_unc, np.repeat(lm_unc[:1], len(lm_unc), axis=0), atol=1e-6)
    pred = run.probs.argmax(axis=1)
    acc_unc = (pred[uncovered] == youtube.test.y[uncovered]).mean()
    print(f"  classifier on the {uncovered.sum()} test rows no LF covers: accuracy={acc_unc:.3f}")
    assert acc_unc >= 0.7


def test_youtube_stream_matches_in_memory(youtube, youtube_run):
    lfs, (L_train, _, _), run = youtube_run
    texts = youtube.train.frame["text"].to_numpy().astype(str)
    ds = tf.data.Dataset.from_tensor_slices({"text": texts})
    streamed = ts.stream_soft_labels(ds, lfs, run.lm, batch_size=256, feature_key="text")
    xs, ps = zip(*[(x.numpy(), p.numpy()) for x, p in streamed])
    covered = (L_train != ABSTAIN).any(axis=1)
    assert [t.decode() for t in np.concatenate(xs)] == texts[covered].tolist()
    np.testing.assert_allclose(np.concatenate(ps), run.P[covered], atol=1e-5)


def test_youtube_export_serves_the_same_numbers(youtube, youtube_run, tmp_path):
    lfs, (_, _, L_test), run = youtube_run
    path = tmp_path / "spam"
    sigs = ts.export_pipeline(path, lfset=lfs, label_model=run.lm, classifier=run.clf)
    assert sigs == {"serving_default": ["text"], "weak_label": ["text"]}
    assert ts.find_pyfunc_ops(path) == []
    texts = youtube.test.frame["text"].tolist()
    calls = {s: {"text": {"values": texts, "dtype": "string"}} for s in sigs}
    served = load_in_fresh_process(path, calls, tmp_path)
    assert served["loaded_blocked_modules"] == []
    assert served["weak_label"]["votes"] == L_test.tolist()
    np.testing.assert_allclose(served["weak_label"]["soft_labels"],
                               run.lm.predict_proba(L_test), atol=1e-6)
    np.testing.assert_allclose(served["serving_default"]["probabilities"], run.probs, atol=1e-6)
    served_acc = np.mean(np.array(served["serving_default"]["label"]) == youtube.test.y)
    assert served_acc == pytest.approx(run.clf_acc)


@pytest.mark.parametrize("name", ["sms", "trec"])
def test_shipped_weak_labels_to_classifier(name, request):
    ds = request.getfixturevalue(name)
    # trec without gold keeps the BIC-chosen class-conditional label model (0.610, at
    # majority vote once its copied LFs count once: README's limitations); with the dev
    # split it is 0.644.
    # soft targets only (the soft/hard choice on dev is tested on youtube; measured on trec:
    # soft 0.636, hard 0.620): these are the costliest fits of the suite.
    run = run_pipeline(ds, ds.train.L, ds.valid.L, ds.test.L, lm_dev=name == "trec",
                       label_types=("soft",))
    assert run.clf.output_shape == (None, 1 if ds.cardinality == 2 else ds.cardinality)
    if name == "sms":
        assert run.clf_acc >= max(run.lm_acc, run.mv_acc)
        assert run.scores[f"classifier ({run.chosen})"]["f1"] >= 0.6
    else:  # 6 classes, softmax CE: on par with its teachers
        assert run.clf_acc >= run.mv_acc - 0.03
        assert run.scores[f"classifier ({run.chosen})"]["f1_macro"] >= 0.45
