"""End to end on WRENCH: weak labels -> label model -> noise-aware text classifier -> test scores."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tfsnorkel as ts
from tfsnorkel.labels import ABSTAIN


def train_text_classifier(split, dev, P, cardinality, *, epochs=30, max_tokens=5000):
    """The documented recipe: soft-label dataset, NoiseAwareLoss, early stopping on gold dev."""
    keras.utils.set_random_seed(0)
    clf = ts.text_classifier(cardinality, adapt_data=split.frame["text"], max_tokens=max_tokens)
    clf.compile(optimizer=keras.optimizers.Adam(1e-2), loss=ts.NoiseAwareLoss())
    history = clf.fit(
        ts.soft_label_dataset(split.frame["text"], P, split.L, batch_size=64, seed=0),
        validation_data=ts.gold_dataset(dev.frame["text"], dev.y, cardinality),
        epochs=epochs,
        verbose=0,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        ],
    )
    assert len(history.history["loss"]) < epochs  # early stopping fired
    return clf


def report(name, rows, metrics):
    print(f"\n{name} test set")
    for label, scores in rows.items():
        print(f"  {label:<22}" + "  ".join(f"{m}={scores[m]:.3f}" for m in metrics)
              + f"  coverage={scores['coverage']:.3f}")


@pytest.mark.data
@pytest.mark.parametrize("name, margin", [("youtube", 0.0), ("sms", 0.0), ("trec", -0.03)])
def test_shipped_weak_labels_to_classifier(name, margin, request):
    ds = request.getfixturevalue(name)
    C = ds.cardinality
    mv = ts.MajorityVoter(C)
    P = mv.predict_proba(ds.train.L)
    clf = train_text_classifier(ds.train, ds.valid, P, C)
    metrics = ["accuracy", "f1"] if C == 2 else ["accuracy", "f1_macro"]
    probs = ts.predict_proba(clf, ds.test.frame["text"])
    scores = {
        "classifier": ts.evaluate(ds.test.y, probs, metrics),
        "majority vote": ts.evaluate(ds.test.y, mv.predict_proba(ds.test.L), metrics),
    }
    report(name, scores, metrics)
    assert scores["classifier"]["coverage"] == 1.0
    # youtube/sms: the classifier beats its teacher; trec (6 classes, 68 sparse LFs): on par
    assert scores["classifier"]["accuracy"] >= scores["majority vote"]["accuracy"] + margin
    # the classifier labels rows that no LF covers, and does better than chance there
    uncovered = (ds.test.L == ABSTAIN).all(axis=1)
    assert uncovered.sum() >= 18
    pred = probs.argmax(axis=1)
    assert (np.abs(probs[uncovered].max(1) - 1 / C) > 1e-3).all()
    assert (pred[uncovered] == ds.test.y[uncovered]).mean() > 1 / C + 0.1
