"""NoiseAwareLoss: value and gradient vs the closed form, shapes, weights, config round trip."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfsnorkel.classify.losses import NoiseAwareLoss, noise_aware_loss


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


RNG = np.random.default_rng(0)
Z_BIN = RNG.normal(size=8).astype(np.float32) * 2
Y_POS = RNG.uniform(size=8).astype(np.float32)
Z_MC = RNG.normal(size=(8, 4)).astype(np.float32) * 2
Y_MC = RNG.dirichlet(np.ones(4), size=8).astype(np.float32)


def _closed_binary(z, y):
    p = _sigmoid(z.astype(np.float64))
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


@pytest.mark.parametrize("graph", [False, True])
@pytest.mark.parametrize(
    "y_true, y_pred",
    [
        (Y_POS, Z_BIN),  # [batch] / [batch]
        (Y_POS, Z_BIN[:, None]),  # [batch] / [batch, 1]
        (np.stack([1 - Y_POS, Y_POS], 1), Z_BIN[:, None]),  # [batch, 2] / [batch, 1]
        (Y_POS[:, None], Z_BIN[:, None]),  # [batch, 1] / [batch, 1]
    ],
)
def test_binary_value_and_gradient_match_closed_form(y_true, y_pred, graph):
    fn = tf.function(noise_aware_loss) if graph else noise_aware_loss
    z = tf.Variable(y_pred)
    with tf.GradientTape() as tape:
        loss = fn(tf.constant(y_true), z)
        total = tf.reduce_sum(loss)
    grad = tape.gradient(total, z).numpy().reshape(-1)
    assert loss.shape == (8,)
    np.testing.assert_allclose(loss.numpy(), _closed_binary(Z_BIN, Y_POS), rtol=1e-5)
    np.testing.assert_allclose(grad, _sigmoid(Z_BIN) - Y_POS, atol=1e-6)


@pytest.mark.parametrize("graph", [False, True])
def test_multiclass_value_and_gradient_match_closed_form(graph):
    fn = tf.function(noise_aware_loss) if graph else noise_aware_loss
    z = tf.Variable(Z_MC)
    with tf.GradientTape() as tape:
        loss = fn(tf.constant(Y_MC), z)
        total = tf.reduce_sum(loss)
    grad = tape.gradient(total, z).numpy()
    expected = -(Y_MC * np.log(_softmax(Z_MC.astype(np.float64)))).sum(axis=1)
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(grad, _softmax(Z_MC) - Y_MC, atol=1e-6)


def test_probabilities_input_matches_logits():
    p_bin = _sigmoid(Z_BIN)
    np.testing.assert_allclose(
        noise_aware_loss(Y_POS, p_bin, from_logits=False).numpy(),
        _closed_binary(Z_BIN, Y_POS),
        rtol=1e-4,
    )
    p_mc = _softmax(Z_MC)
    np.testing.assert_allclose(
        noise_aware_loss(Y_MC, p_mc, from_logits=False).numpy(),
        noise_aware_loss(Y_MC, Z_MC).numpy(),
        rtol=1e-4,
    )


def test_two_logit_binary_accepts_positive_probability():
    z2 = np.stack([np.zeros(8, np.float32), Z_BIN], axis=1)  # softmax over [0, z] == sigmoid(z)
    np.testing.assert_allclose(
        noise_aware_loss(Y_POS[:, None], z2).numpy(), _closed_binary(Z_BIN, Y_POS), rtol=1e-5
    )


def test_class_reduces_with_sample_weight():
    w = np.linspace(0.0, 2.0, 8).astype(np.float32)
    per = _closed_binary(Z_BIN, Y_POS)
    loss = NoiseAwareLoss()
    assert float(loss(Y_POS, Z_BIN[:, None])) == pytest.approx(per.mean(), rel=1e-5)
    assert float(loss(Y_POS, Z_BIN[:, None], sample_weight=w)) == pytest.approx(
        (per * w).sum() / 8, rel=1e-5
    )
    summed = NoiseAwareLoss(reduction="sum")
    assert float(summed(Y_MC, Z_MC)) == pytest.approx(
        -(Y_MC * np.log(_softmax(Z_MC.astype(np.float64)))).sum(), rel=1e-5
    )


def test_width_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match=r"y_true has 3 classes but y_pred has 4.*Received"):
        noise_aware_loss(np.full((2, 3), 1 / 3), np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"binary.*Received: y_true.shape=\(2, 3\)"):
        noise_aware_loss(np.full((2, 3), 1 / 3), np.zeros((2, 1)))
    with pytest.raises(TypeError, match="from_logits=1"):
        NoiseAwareLoss(from_logits=1)


def test_config_round_trip_and_keras_serialization():
    loss = NoiseAwareLoss(from_logits=False, reduction="sum", name="nal")
    cfg = loss.get_config()
    again = NoiseAwareLoss.from_config(cfg)
    assert again.get_config() == cfg
    assert again.from_logits is False and again.reduction == "sum" and again.name == "nal"
    restored = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(restored, NoiseAwareLoss) and restored.get_config() == cfg


def test_trains_a_keras_model_towards_soft_labels():
    keras.utils.set_random_seed(0)
    x = np.eye(4, dtype=np.float32)
    target = np.array([0.9, 0.1, 0.7, 0.3], np.float32)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss=NoiseAwareLoss())
    model.fit(np.tile(x, (40, 1)), np.tile(target, 40), epochs=4, verbose=0, batch_size=4,
              shuffle=False)
    p = _sigmoid(model.predict(x, verbose=0).reshape(-1))
    np.testing.assert_allclose(p, target, atol=0.03)
