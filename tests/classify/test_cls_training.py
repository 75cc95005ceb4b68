"""fit_text_classifier: the documented recipe as one call, checked against the recipe written out."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import tfsnorkel as ts
from tfsnorkel.classify import selftrain, training

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
    """The binary default, trained on pre-vectorized sparse rows, equals Keras on raw strings."""
    texts, P, L, dev_texts, dev_y = task
    clf = ts.fit_text_classifier(texts, P, L, dev_texts=dev_texts, dev_y=dev_y)
    ref = _recipe(texts, P, L, dev_texts, dev_y)
    for got, want in zip(clf.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
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
    # At most 8 epochs per run (4 runs here): "auto" must equal whichever explicit run it
    # picks however long they train.
    runs = {
        kind: ts.fit_text_classifier(texts, P_flat, L, dev_texts=dev_texts, dev_y=dev_y,
                                     label_type=kind, dev_metric="f1", epochs=8)
        for kind in ("soft", "hard")
    }
    scores = {k: ts.metric_score(dev_y, ts.predict_proba(m, dev_texts), "f1") for k, m in runs.items()}
    chosen = max(scores, key=lambda k: (scores[k], k == "soft"))
    auto = ts.fit_text_classifier(texts, P_flat, L, dev_texts=dev_texts, dev_y=dev_y,
                                  label_type="auto", dev_metric="f1", epochs=8)
    np.testing.assert_allclose(
        ts.predict_proba(auto, dev_texts), ts.predict_proba(runs[chosen], dev_texts), atol=1e-6
    )
    # and it says what it kept, with the dev score of each kind it tried
    assert auto.label_type_ == chosen and runs["hard"].label_type_ == "hard"
    assert auto.label_type_scores_ == pytest.approx(scores, abs=1e-9)


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


# -- the default recipe's pieces ------------------------------------------------------------


def test_balanced_class_weights_average_one_over_the_rows():
    P = np.array([[0.9, 0.1]] * 6 + [[0.2, 0.8]] * 2)
    w = training.class_weights(P)
    prior = P.mean(0)
    np.testing.assert_allclose(w, 1 / (2 * prior))
    assert (P @ w).mean() == pytest.approx(1.0)
    np.testing.assert_allclose(training.class_weights(P, power=0.0), [1.0, 1.0])
    # a class without mass is capped, not infinite
    np.testing.assert_allclose(training.class_weights(np.array([[1.0, 0.0]] * 3)), [0.5, 10.0])


def test_the_multiclass_default_is_word_and_character_ngrams_with_unit_norm(task):
    texts, P, L, dev_texts, dev_y = task
    P3 = np.concatenate([0.9 * P, np.full((len(P), 1), 0.1)], axis=1)  # a third, rare class
    clf = ts.fit_text_classifier(texts, P3, L, dev_texts=dev_texts, dev_y=dev_y, epochs=3)
    names = {layer.name for layer in clf.layers}
    assert {"vectorize", "vectorize_chars", "unit_norm", "unit_norm_chars"} <= names
    assert clf.get_layer("vectorize_chars").get_config()["ngrams"] == (2, 3, 4, 5)
    assert clf.output_shape == (None, 3)
    assert ts.metric_score(dev_y, ts.predict_proba(clf, dev_texts)) >= 0.9
    # binary tasks and modes without bag-of-words features get none of these options
    names = {layer.name for layer in ts.fit_text_classifier(texts, P, L, epochs=1).layers}
    assert not names & {"vectorize_chars", "unit_norm"}
    emb = ts.fit_text_classifier(texts, P3, L, mode="embedding", epochs=1, learning_rate=1e-3)
    assert "vectorize_chars" not in {layer.name for layer in emb.layers}


def test_early_stopping_on_the_dev_metric_keeps_the_best_dev_epoch(task):
    texts, P, L, dev_texts, dev_y = task
    clf = ts.fit_text_classifier(texts, P, L, dev_texts=dev_texts, dev_y=dev_y, patience=2,
                                 epochs=30, learning_rate=0.3, monitor="dev_metric")
    scores = clf.history.history["dev_accuracy"]
    assert len(scores) == len(clf.history.history["val_loss"]) < 30
    # every epoch was scored on dev; the kept weights score the best accuracy seen
    acc = ts.metric_score(dev_y, ts.predict_proba(clf, dev_texts))
    assert acc == pytest.approx(max(scores)) and acc >= 0.85
    assert max(scores[-3:]) == max(scores)  # stopped `patience` epochs after the last best


# -- self-training ---------------------------------------------------------------------------


def test_self_training_targets_product_and_anchor():
    P = np.array([[0.6, 0.4], [0.7, 0.3], [0.7, 0.3], [0.5, 0.5]])  # rows 1, 2: the prior
    Q = np.array([[0.05, 0.95], [0.2, 0.8], [0.4, 0.6], [0.5, 0.5]])
    covered = np.array([True, False, False, True])
    T, pseudo = selftrain.self_training_targets(P, Q, covered, 0.6, "product")
    # R = P*Q normalized: [0.03, 0.38] -> 0.927; [0.14, 0.24] -> 0.632; [0.28, 0.18] -> 0.609 (class 0)
    assert pseudo.tolist() == [True, True, True, False]
    np.testing.assert_array_equal(T, [[0, 1], [0, 1], [1, 0], [0.5, 0.5]])
    T, pseudo = selftrain.self_training_targets(P, Q, covered, 0.7, "anchor")
    assert pseudo.tolist() == [False, True, False, False]  # covered rows keep P
    np.testing.assert_array_equal(T, [[0.6, 0.4], [0, 1], [0.7, 0.3], [0.5, 0.5]])


@pytest.fixture(scope="module")
def uncovered_task():
    """Spam/ham texts where the LFs cover only rows with the first two words of each class."""
    texts, y = _corpus(400, seed=3)
    dev_texts, dev_y = _corpus(100, seed=4)
    lf_words = {1: ("win", "cash"), 0: ("lunch", "mum")}
    L = np.full((len(texts), 1), -1, np.int32)
    for i, t in enumerate(texts):
        votes = [c for c, ws in lf_words.items() if any(w in t.split() for w in ws)]
        if len(votes) == 1:
            L[i, 0] = votes[0]
    P = np.where(L[:, :1] == 1, [[0.2, 0.8]], np.where(L[:, :1] == 0, [[0.8, 0.2]], [[0.5, 0.5]]))
    return texts, y, P, L, dev_texts, dev_y


def test_self_training_keeps_the_best_dev_round_and_logs_every_round(uncovered_task):
    texts, _, P, L, dev_texts, dev_y = uncovered_task
    assert 0.15 < (L[:, 0] == -1).mean() < 0.6
    config = selftrain.SelfTraining(thresholds=(0.9, 0.6), rounds=2)
    clf = ts.fit_text_classifier(texts, P, L, dev_texts=dev_texts, dev_y=dev_y,
                                 self_training=config, epochs=10)
    log = clf.self_training_log
    assert log[0]["round"] == 0 and log[0]["pseudo"] == 0
    assert {e["threshold"] for e in log[1:3]} == {0.9, 0.6}  # round 1 tries both thresholds
    assert max(e["pseudo"] for e in log[1:]) > 0
    # the returned model is the best-scoring run on dev, whichever round it came from
    acc = ts.metric_score(dev_y, ts.predict_proba(clf, dev_texts))
    assert acc == pytest.approx(max(e["dev"] for e in log))
    assert acc >= log[0]["dev"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(thresholds=()), r"thresholds must be a non-empty .* Received: thresholds=\(\)"),
        (dict(thresholds=(1.5,)), r"Received: thresholds=\(1.5,\)"),
        (dict(rounds=0), "rounds must be a positive integer. Received: rounds=0"),
        (dict(targets="all"), "targets must be one of .* Received: targets='all'"),
        (dict(prior_weight=-1.0), "prior_weight must be finite and >= 0"),
    ],
)
def test_self_training_config_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        selftrain.SelfTraining(**kwargs)


def test_self_training_needs_a_dev_set_and_a_config(task):
    texts, P, L, _, _ = task
    with pytest.raises(ValueError, match="self_training chooses its threshold .* dev_texts=None"):
        ts.fit_text_classifier(texts, P, L, self_training=True)
    with pytest.raises(TypeError, match="Received: self_training='yes'"):
        ts.fit_text_classifier(texts, P, L, self_training="yes")
    with pytest.raises(ValueError, match="class_weight must be 'balanced', None, or a power"):
        ts.fit_text_classifier(texts, P, L, class_weight="inverse")
    with pytest.raises(ValueError, match="monitor must be one of"):
        ts.fit_text_classifier(texts, P, L, monitor="accuracy")
