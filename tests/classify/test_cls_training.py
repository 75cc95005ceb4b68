"""fit_text_classifier: the documented recipe as one call, checked against the recipe written out."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tfsnorkel as ts

SPAM_WORDS = ["win", "cash", "prize", "free", "call", "claim"]
HAM_WORDS = ["lunch", "mum", "see", "soon", "home", "tonight"]


def _corpus(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Texts whose class is readable from their words, with both classes' words mixed in."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    texts = []
    for label in y:
        own, other = (SPAM_WORDS, HAM_WORDS) if label else (HAM_WORDS, SPAM_WORDS)
        words = list(rng.choice(own, 3)) + list(rng.choice(other, 1))
        rng.shuffle(words)
        texts.append(" ".join(words))
    return np.array(texts), y


@pytest.fixture(scope="module")
def task():
    texts, y = _corpus(400, seed=0)
    dev_texts, dev_y = _corpus(100, seed=1)
    # Soft labels: right on average but noisy, and 10% of rows with no LF vote.
    rng = np.random.default_rng(2)
    p1 = np.clip(np.where(y == 1, 0.75, 0.25) + rng.normal(0, 0.15, len(y)), 0.01, 0.99)
    P = np.stack([1 - p1, p1], axis=1)
    L = np.where(rng.random((len(y), 1)) < 0.9, (p1 > 0.5).astype(np.int32)[:, None], -1)
    return texts, P, L, dev_texts, dev_y


def _recipe(texts, P, L, dev_texts, dev_y, label_type="soft"):
    """The recipe of tfsnorkel.classify.models' docstring, written out by hand."""
    keras.utils.set_random_seed(0)
    clf = ts.text_classifier(2, adapt_data=texts)
    clf.compile(optimizer=keras.optimizers.Adam(1e-2), loss=ts.NoiseAwareLoss())
    clf.fit(
        ts.soft_label_dataset(texts, P, L, batch_size=64, seed=0, label_type=label_type),
        validation_data=ts.gold_dataset(dev_texts, dev_y, 2),
        epochs=40,
        verbose=0,
        shuffle=False,
        callbacks=[
            keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
        ],
    )
    return clf


def test_equals_the_recipe_written_out_and_restores_the_best_dev_epoch(task):
    texts, P, L, dev_texts, dev_y = task
    clf = ts.fit_text_classifier(texts, P, L, dev_texts=dev_texts, dev_y=dev_y)
    ref = _recipe(texts, P, L, dev_texts, dev_y)
    for got, want in zip(clf.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    val_loss = clf.history.history["val_loss"]
    assert len(val_loss) < 40  # stopped early
    # The kept weights are the best dev epoch's: evaluating them gives the minimum val_loss.
    best = clf.evaluate(ts.gold_dataset(dev_texts, dev_y, 2), verbose=0)
    assert best == pytest.approx(min(val_loss), rel=1e-5)
    acc = ts.metric_score(dev_y, ts.predict_proba(clf, dev_texts))
    assert acc >= 0.95  # 3 of 4 words carry the class


def test_without_a_dev_set_it_stops_on_the_training_loss(task):
    texts, P, L, _, _ = task
    clf = ts.fit_text_classifier(texts, P, L, epochs=60, patience=2, learning_rate=0.05)
    loss = clf.history.history["loss"]
    assert "val_loss" not in clf.history.history
    assert len(loss) <= 60 and loss[-1] <= loss[0]
    # Every labeled row was trained on (10% have no vote): 360 / 64 -> 6 steps per epoch.
    assert clf.history.params["steps"] == int(np.ceil((L >= 0).any(1).sum() / 64))


def test_auto_keeps_whichever_of_soft_and_hard_scores_higher_on_dev(task):
    texts, P, L, dev_texts, dev_y = task
    # Miscalibrated soft labels: every spam row at P(spam) 0.55. Soft targets then teach
    # little; their argmax is right. Which one wins is read off the two explicit runs.
    P_flat = np.where(P[:, 1:] > 0.5, [[0.45, 0.55]], [[0.55, 0.45]])
    runs = {
        kind: ts.fit_text_classifier(texts, P_flat, L, dev_texts=dev_texts, dev_y=dev_y,
                                     label_type=kind, dev_metric="f1")
        for kind in ("soft", "hard")
    }
    scores = {k: ts.metric_score(dev_y, ts.predict_proba(m, dev_texts), "f1") for k, m in runs.items()}
    chosen = max(scores, key=lambda k: (scores[k], k == "soft"))
    auto = ts.fit_text_classifier(texts, P_flat, L, dev_texts=dev_texts, dev_y=dev_y,
                                  label_type="auto", dev_metric="f1")
    np.testing.assert_allclose(
        ts.predict_proba(auto, dev_texts), ts.predict_proba(runs[chosen], dev_texts), atol=1e-6
    )


def test_classifier_options_pass_through_and_the_model_exports(task, tmp_path):
    texts, P, L, dev_texts, dev_y = task
    clf = ts.fit_text_classifier(texts, P, L, dev_texts=dev_texts, dev_y=dev_y,
                                 mode="multi_hot", ngrams=1, hidden_units=(8,), epochs=3)
    assert clf.get_layer("vectorize").get_config()["output_mode"] == "multi_hot"
    assert len(clf.history.history["loss"]) <= 3
    path = tmp_path / "clf.keras"
    clf.save(path)
    again = keras.saving.load_model(path)
    np.testing.assert_allclose(
        ts.predict_proba(again, dev_texts), ts.predict_proba(clf, dev_texts), atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"dev_texts": np.array(["a"])}, "give both dev_texts and dev_y"),
        ({"dev_y": [0]}, "give both dev_texts and dev_y"),
        ({"label_type": "auto"}, "label_type='auto' picks soft or hard labels on a gold dev set"),
        ({"label_type": "argmax"}, r"label_type must be one of .* Received: label_type='argmax'"),
        ({"epochs": 0}, "epochs must be a positive integer. Received: epochs=0"),
        ({"patience": 1.5}, "patience must be a positive integer"),
        ({"dev_metric": "auc"}, "dev_metric must be one of"),
        ({"dev_texts": np.array(["a", "b"]), "dev_y": [0, 2]}, r"Received: y\[1\]=2"),
    ],
)
def test_bad_arguments_get_clear_errors(task, kwargs, match):
    texts, P, L, _, _ = task
    with pytest.raises(ValueError, match=match):
        ts.fit_text_classifier(texts, P, L, **kwargs)


def test_bad_soft_labels_are_named(task):
    texts, P, L, _, _ = task
    bad = P.copy()
    bad[7] = [0.7, 0.7]
    with pytest.raises(ValueError, match="row 7"):
        ts.fit_text_classifier(texts, bad, L)
    with pytest.raises(ValueError, match="differ in length"):
        ts.fit_text_classifier(texts[:-1], P, L)
