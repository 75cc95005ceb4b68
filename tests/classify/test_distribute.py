"""Classifier training under ``tf.distribute``: MirroredStrategy over 2 logical CPUs vs one device.

TensorFlow splits a CPU into logical devices only before it initialises them, so the
strategy runs in a fresh interpreter: this file run as a script (:func:`_child`) trains
every model and prints one JSON line of numbers; the tests below assert on them.

What is proven, with identical starting weights and unshuffled data whose size is a
multiple of the global batch (each global batch of 16 splits 8 + 8 over the replicas):

* ``fit`` under the strategy gives the single-device weights and loss history (binary
  sigmoid CE and 3-class softmax CE, with and without confidence weights, array and
  DataFrame inputs): ``NoiseAwareLoss`` is averaged over the GLOBAL batch. Doubling the
  single-device learning rate (what summing the per-replica means would do) lands far away.
* ``evaluate`` under the strategy equals the weighted noise-aware loss computed in numpy
  from the model's weights.
* A linear logistic rule and a 3-class softmax rule are learned from their soft labels.
* ``text_classifier`` (string input, ``TextVectorization`` inside) predicts under the
  strategy; Keras 3.15's ``fit``/``evaluate`` reject string inputs on more than one replica
  (``strategy.reduce("MEAN", first_batch)`` in ``_maybe_symbolic_build``), and the same
  weights train exactly when the vectorizer runs in the input pipeline instead, which is
  what ``fit_text_classifier(strategy=...)`` does (checked equal to single-device training).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np
import pytest

# one fresh interpreter trains every model under the strategy (~110 s of CPU on 2 cores)
pytestmark = pytest.mark.slow

N_FIT, GLOBAL_BATCH, LR = 64, 16, 0.5
KNOWN_KERAS_STRING_ERROR = "of string is not in the list of allowed values"


def _child() -> dict[str, Any]:
    """Trains every model single-device and under MirroredStrategy; returns the numbers."""
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
    import keras
    import pandas as pd

    import tfsnorkel as ts

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    rng = np.random.default_rng(0)
    out: dict[str, Any] = {
        "replicas": strategy.num_replicas_in_sync,
        "logical_cpus": len(tf.config.list_logical_devices("CPU")),
    }

    # -- data for the exact-equality runs
    X = rng.normal(size=(N_FIT, 4)).astype(np.float32) * [1.0, 10.0, 0.1, 3.0]
    z3 = X / X.std(0) @ rng.normal(size=(4, 3))
    P3 = np.exp(z3) / np.exp(z3).sum(1, keepdims=True)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    p2 = 1.0 / (1.0 + np.exp(-(X / X.std(0)) @ np.array([1.0, -1.0, 0.5, 0.0])))
    words = np.array(["buy", "cheap", "free", "click", "money", "song", "love", "video", "great"])
    texts = np.array([" ".join(rng.choice(words, 4)) for _ in range(N_FIT)], dtype=object)
    p_text = rng.uniform(0.05, 0.95, N_FIT)

    first = next(iter(strategy.experimental_distribute_dataset(
        ts.soft_label_dataset(X, P3, batch_size=GLOBAL_BATCH, shuffle=False)
    )))
    out["replica_batch_rows"] = [int(v.shape[0]) for v in strategy.experimental_local_results(first[0])]

    cases = {
        "multiclass": (lambda: ts.tabular_classifier(3, adapt_data=X, hidden_units=(8,)), X, P3, False),
        "multiclass_weighted": (
            lambda: ts.tabular_classifier(3, adapt_data=X, hidden_units=(8,)), X, P3, True),
        "binary_frame_weighted": (
            lambda: ts.tabular_classifier(2, adapt_data=frame, hidden_units=(8,)), frame, p2, True),
        "binary_frame": (
            lambda: ts.tabular_classifier(2, adapt_data=frame, hidden_units=()), frame, p2, False),
    }

    def dataset(features: Any, probs: np.ndarray, weights: bool) -> Any:
        return ts.soft_label_dataset(features, probs, batch_size=GLOBAL_BATCH, shuffle=False,
                                     confidence_weights=weights)

    def compiled(build: Any, init: list[np.ndarray], lr: float = LR) -> Any:
        model = build()
        model.set_weights(init)
        model.compile(optimizer=keras.optimizers.SGD(lr, momentum=0.5), loss=ts.NoiseAwareLoss())
        return model

    def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
        return max(float(np.abs(x - y).max()) for x, y in zip(a, b))

    out["fit"] = {}
    for name, (build, feats, probs, weights) in cases.items():
        keras.utils.set_random_seed(0)
        init = build().get_weights()
        single = compiled(build, init)
        h_single = single.fit(dataset(feats, probs, weights), epochs=2, verbose=0).history["loss"]
        with strategy.scope():
            dist = compiled(build, init)
        kinds = sorted({type(v.value).__name__ for v in dist.trainable_variables})
        h_dist = dist.fit(dataset(feats, probs, weights), epochs=2, verbose=0).history["loss"]
        out["fit"][name] = {
            "variable_kinds": kinds,
            "loss_single": h_single,
            "loss_dist": h_dist,
            "weight_diff": max_diff(single.get_weights(), dist.get_weights()),
            "moved": max_diff(single.get_weights(), init),
            "eval_single": single.evaluate(dataset(feats, probs, weights), verbose=0),
            "eval_dist": dist.evaluate(dataset(feats, probs, weights), verbose=0),
        }
        if name == "multiclass_weighted":  # summing per-replica means would double the step
            doubled = compiled(build, init, lr=2 * LR)
            doubled.fit(dataset(feats, probs, weights), epochs=2, verbose=0)
            out["doubled_step_diff"] = max_diff(doubled.get_weights(), dist.get_weights())

    # -- text: the model as built (strings in), and its head fed by a pipeline vectorizer
    def build_text() -> Any:
        return ts.text_classifier(2, adapt_data=texts, max_tokens=100)

    keras.utils.set_random_seed(0)
    single = build_text()
    init = single.get_weights()
    single.compile(optimizer=keras.optimizers.SGD(LR, momentum=0.5), loss=ts.NoiseAwareLoss())
    probs_before = ts.predict_proba(single, texts)
    h_single = single.fit(dataset(texts, p_text, True), epochs=2, verbose=0).history["loss"]
    with strategy.scope():
        direct = compiled(build_text, init)
        out["text_predict_diff"] = float(np.abs(ts.predict_proba(direct, texts) - probs_before).max())
    try:
        direct.fit(dataset(texts, p_text, True), epochs=2, verbose=0)
        out["text_direct"] = {"weight_diff": max_diff(single.get_weights(), direct.get_weights())}
    except tf.errors.InvalidArgumentError as e:
        out["text_direct"] = {"error": str(e).splitlines()[0]}
    vectorize = single.get_layer("vectorize")
    vectorized = dataset(texts, p_text, True).map(lambda x, y, w: (vectorize(x), y, w))
    with strategy.scope():
        text_dist = build_text()
        text_dist.set_weights(init)
        features = keras.Input(shape=(vectorize.vocabulary_size(),), name="features")
        head = keras.Model(features, text_dist.get_layer("logits")(features))
        head.compile(optimizer=keras.optimizers.SGD(LR, momentum=0.5), loss=ts.NoiseAwareLoss())
    h_head = head.fit(vectorized, epochs=2, verbose=0).history["loss"]
    with strategy.scope():
        probs_dist = ts.predict_proba(text_dist, texts)
    out["text_head"] = {
        "loss_single": h_single,
        "loss_dist": h_head,
        "weight_diff": max_diff(single.get_weights(), text_dist.get_weights()),
        "moved": max_diff(single.get_weights(), init),
        "proba_diff": float(np.abs(ts.predict_proba(single, texts) - probs_dist).max()),
    }

    # -- fit_text_classifier(strategy=...): the same vectorize-in-pipeline path, one call
    def corpus(n: int) -> tuple[np.ndarray, np.ndarray]:
        t = np.array([" ".join(rng.choice(words, 4)) for _ in range(n)], dtype=object)
        spam = {"buy", "cheap", "free", "click", "money"}
        return t, np.array([sum(w in spam for w in x.split()) >= 2 for x in t], dtype=int)

    t_train, y_train = corpus(128)
    t_dev, y_dev = corpus(32)
    p_train = np.clip(np.where(y_train == 1, 0.8, 0.2) + rng.normal(0, 0.1, 128), 0.01, 0.99)
    # 3 epochs: each one under the strategy costs seconds of input-pipeline setup; the dev
    # loss falls every epoch (measured 0.631, 0.519, 0.455).
    kw = dict(dev_texts=t_dev, dev_y=y_dev, batch_size=GLOBAL_BATCH, epochs=3, shuffle=False)
    one = ts.fit_text_classifier(t_train, p_train, **kw)
    two = ts.fit_text_classifier(t_train, p_train, strategy=strategy, **kw)
    out["fit_text"] = {
        "weight_diff": max_diff(one.get_weights(), two.get_weights()),
        "val_loss_single": one.history.history["val_loss"],
        "val_loss_dist": two.history.history["val_loss"],
        "proba_diff": float(np.abs(ts.predict_proba(one, t_dev) - ts.predict_proba(two, t_dev)).max()),
    }
    # Sizes that do not split evenly (101 rows, 33 dev rows), shuffled, soft vs hard on dev.
    t_odd, y_odd = corpus(101)
    t_odd_dev, y_odd_dev = corpus(33)
    # 3 epochs per run at a higher learning rate instead of up to 40 with early stopping
    # (2 runs with "auto"; each epoch under the strategy costs seconds): the same dev accuracy.
    auto = ts.fit_text_classifier(
        t_odd, np.where(y_odd == 1, 0.8, 0.2), dev_texts=t_odd_dev, dev_y=y_odd_dev,
        batch_size=GLOBAL_BATCH, label_type="auto", strategy=strategy, epochs=3,
        learning_rate=0.05,
    )
    out["fit_text_odd"] = {
        "dev_accuracy": float((ts.predict_proba(auto, t_odd_dev).argmax(1) == y_odd_dev).mean()),
        "steps_per_epoch": auto.history.params["steps"],
    }
    try:
        ts.fit_text_classifier(t_odd, np.where(y_odd == 1, 0.8, 0.2), batch_size=15,
                               strategy=strategy)
    except ValueError as e:
        out["fit_text_bad_batch"] = str(e)

    # -- learnable rules, trained only under the strategy; evaluate vs numpy closed form
    n_train, n_test = 512, 512
    beta, bias = np.array([1.5, -2.0, 1.0, 0.0]), 0.3
    scale = np.array([1.0, 10.0, 0.1, 3.0], np.float32)
    W3 = np.array([[2.0, -1.0, 0.0], [0.0, 2.0, -2.0], [-1.5, 0.0, 1.5], [0.0, 0.0, 0.0]])
    Xa = rng.normal(size=(n_train + n_test, 4)).astype(np.float32)
    z2 = Xa @ beta + bias
    z3 = Xa @ W3
    Xs = Xa * scale  # the models see rescaled columns; Normalization must undo it
    frame = pd.DataFrame(Xs, columns=["a", "b", "c", "d"])
    tr, te = slice(0, n_train), slice(n_train, None)
    P3 = np.exp(z3) / np.exp(z3).sum(1, keepdims=True)
    p2 = 1.0 / (1.0 + np.exp(-z2))
    out["learn"] = {}
    for name, feats, probs, gold, z, c, hidden in (
        ("binary_linear", frame, p2, (z2 > 0).astype(int), z2, 2, ()),
        ("multiclass_mlp", Xs, P3, z3.argmax(1), z3, 3, (16,)),
    ):
        feats_tr = feats.iloc[tr] if c == 2 else feats[tr]
        feats_te = feats.iloc[te] if c == 2 else feats[te]
        keras.utils.set_random_seed(1)
        with strategy.scope():
            model = ts.tabular_classifier(c, adapt_data=feats_tr, hidden_units=hidden)
            model.compile(optimizer=keras.optimizers.Adam(0.05), loss=ts.NoiseAwareLoss())
        # one epoch over 25 passes: each Keras epoch under the strategy costs ~1 s of setup
        train_ds = ts.soft_label_dataset(feats_tr, probs[tr], batch_size=64, seed=0,
                                         confidence_weights=True)
        model.fit(train_ds.repeat(25), epochs=1, verbose=0)
        test_ds = ts.soft_label_dataset(feats_te, probs[te], batch_size=64, shuffle=False,
                                        confidence_weights=True)
        with strategy.scope():
            proba = ts.predict_proba(model, feats_te)
        weights = {layer.name: [w.tolist() for w in layer.get_weights()] for layer in model.layers
                   if layer.get_weights()}
        out["learn"][name] = {
            "accuracy": float((proba.argmax(1) == gold[te]).mean()),
            "eval_dist": model.evaluate(test_ds, verbose=0),
            "weights": weights,
            "features": np.asarray(Xs[te]).tolist(),
            "probs": np.asarray(probs[te]).tolist(),
            "true_logits": np.asarray(z[te]).tolist(),
        }
    return out


@pytest.fixture(scope="module")
def dist() -> dict[str, Any]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "-1",
           "PYTHONWARNINGS": "ignore"}
    # a loaded 2-core machine took 8.5 minutes for the earlier, longer child: a generous limit
    proc = subprocess.run([sys.executable, __file__], capture_output=True, text=True, env=env,
                          timeout=1200)
    assert proc.returncode == 0, f"distributed child failed:\n{proc.stderr[-4000:]}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_two_mirrored_replicas_split_each_global_batch(dist):
    assert dist["logical_cpus"] == 2 and dist["replicas"] == 2
    assert dist["replica_batch_rows"] == [GLOBAL_BATCH // 2, GLOBAL_BATCH // 2]
    for case in dist["fit"].values():
        assert case["variable_kinds"] == ["MirroredVariable"]


@pytest.mark.parametrize(
    "case", ["multiclass", "multiclass_weighted", "binary_frame", "binary_frame_weighted"]
)
def test_fit_under_strategy_matches_single_device(dist, case):
    """Same start, same batches: the loss is averaged over the global batch, not per replica."""
    r = dist["fit"][case]
    assert r["moved"] > 0.05  # training moved the weights well beyond the tolerance below
    assert r["weight_diff"] < 1e-5
    np.testing.assert_allclose(r["loss_dist"], r["loss_single"], rtol=1e-5)
    assert r["loss_single"][1] < r["loss_single"][0]
    assert r["eval_dist"] == pytest.approx(r["eval_single"], rel=1e-5)


def test_doubled_step_is_detected(dist):
    """Summing the replicas' mean losses doubles the step; that run lands far from ours."""
    assert dist["doubled_step_diff"] > 1000 * dist["fit"]["multiclass_weighted"]["weight_diff"]
    assert dist["doubled_step_diff"] > 0.02


def test_text_classifier_predicts_and_its_head_trains_under_strategy(dist):
    assert dist["text_predict_diff"] < 1e-6
    r = dist["text_head"]
    assert r["moved"] > 0.05 and r["weight_diff"] < 1e-5
    np.testing.assert_allclose(r["loss_dist"], r["loss_single"], rtol=1e-5)
    assert r["proba_diff"] < 1e-5  # the full string-input model carries the trained head


def test_text_classifier_fit_with_string_input(dist):
    """Keras 3.15 reduces the first string batch across replicas; if fixed, results must match."""
    r = dist["text_direct"]
    if "error" in r:
        assert KNOWN_KERAS_STRING_ERROR in r["error"], r["error"]
    else:
        assert r["weight_diff"] < 1e-5


def test_fit_text_classifier_with_a_strategy_equals_single_device(dist):
    """Same batches (no shuffle): the one-call path trains the single-device model exactly."""
    r = dist["fit_text"]
    assert r["weight_diff"] < 1e-5 and r["proba_diff"] < 1e-5
    np.testing.assert_allclose(r["val_loss_dist"], r["val_loss_single"], rtol=1e-5)
    assert r["val_loss_single"][-1] < r["val_loss_single"][0]


def test_fit_text_classifier_with_a_strategy_on_uneven_sizes(dist):
    r = dist["fit_text_odd"]
    # 101 rows in batches of 16: the short last batch is dropped (6 steps, not 7); the 33 dev
    # rows are evaluated in one batch of 32 and one of 1. Measured dev accuracy: 0.88 (29 of 33;
    # 0.85 and 0.88 with seeds 1 and 2).
    assert r["steps_per_epoch"] == 101 // GLOBAL_BATCH
    assert r["dev_accuracy"] >= 0.8
    assert dist["fit_text_bad_batch"] == (
        "batch_size must be a multiple of the strategy's 2 replicas, so that each batch "
        "splits evenly. Received: batch_size=15"
    )


def _numpy_logits(weights: dict[str, list], X: np.ndarray) -> np.ndarray:
    mean, var = (np.asarray(w) for w in weights["normalize"][:2])
    h = (X - mean) / np.maximum(np.sqrt(var), 1e-7)
    i = 0
    while f"hidden_{i}" in weights:
        W, b = (np.asarray(w) for w in weights[f"hidden_{i}"])
        h = np.maximum(h @ W + b, 0.0)
        i += 1
    W, b = (np.asarray(w) for w in weights["logits"])
    return h @ W + b


def _noise_aware_mean(logits: np.ndarray, P: np.ndarray) -> float:
    """Mean over rows of confidence weight x cross-entropy, as Keras's sum_over_batch_size."""
    if logits.shape[1] == 1:
        z = logits[:, 0]
        y = P if P.ndim == 1 else P[:, 1]
        losses = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        P = np.stack([1 - y, y], 1)
    else:
        shifted = logits - logits.max(1, keepdims=True)
        logp = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
        losses = -(P * logp).sum(1)
    plogp = np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0)
    w = np.clip(1.0 + plogp.sum(1) / np.log(P.shape[1]), 0.0, 1.0)
    return float(np.mean(w * losses))


@pytest.mark.parametrize("case", ["binary_linear", "multiclass_mlp"])
def test_evaluate_under_strategy_equals_numpy_noise_aware_loss(dist, case):
    r = dist["learn"][case]
    logits = _numpy_logits(r["weights"], np.asarray(r["features"]))
    expected = _noise_aware_mean(logits, np.asarray(r["probs"]))
    assert r["eval_dist"] == pytest.approx(expected, rel=1e-5)


def test_learns_a_logistic_rule_under_strategy(dist):
    """Soft labels sigmoid(z) with z linear: the linear model recovers z itself."""
    r = dist["learn"]["binary_linear"]
    assert r["accuracy"] >= 0.95
    logits = _numpy_logits(r["weights"], np.asarray(r["features"]))[:, 0]
    z = np.asarray(r["true_logits"])
    assert np.corrcoef(logits, z)[0, 1] > 0.995
    assert np.abs(logits - z).mean() < 0.25


def test_learns_a_softmax_rule_under_strategy(dist):
    r = dist["learn"]["multiclass_mlp"]
    assert r["accuracy"] >= 0.9


if __name__ == "__main__":
    print(json.dumps(_child()))
