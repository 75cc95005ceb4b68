"""LabelModel as a Keras layer: config round trip, save/load, streaming fit, edge cases."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfsnorkel.labelmodel import (
    LabelModel,
    LabelModelLoadError,
    LabelStats,
    synthetic_label_matrix,
)


@pytest.fixture(scope="module")
def data():
    return synthetic_label_matrix(
        20_000, 3, 6, copies={0: 2}, class_balance=[0.5, 0.3, 0.2], seed=7
    )


@pytest.fixture(scope="module")
def fitted(data):
    return LabelModel(3, seed=1).fit(data.L)


def test_get_config_from_config_round_trip_rebuilds_same_shaped_weights(fitted, data):
    config = fitted.get_config()
    assert config["groups"] == [[0, 6, 7]] and config["num_lfs"] == 8
    clone = LabelModel.from_config(config)
    assert [w.shape for w in clone.weights] == [w.shape for w in fitted.weights]
    assert clone.get_config() == config
    clone.set_weights(fitted.get_weights())
    np.testing.assert_array_equal(
        clone.predict_proba(data.L[:500]), fitted.predict_proba(data.L[:500])
    )


def test_unfitted_config_round_trip_and_a_keras_model_holding_the_layer(fitted, data, tmp_path):
    blank = LabelModel(4, dependencies=[[0, 1]], class_balance=[0.1, 0.2, 0.3, 0.4], seed=5)
    assert LabelModel.from_config(blank.get_config()).get_config() == blank.get_config()
    inputs = keras.Input(shape=(8,), dtype="int32")
    model = keras.Model(inputs, keras.layers.Dense(3)(fitted(inputs)))
    model.save(tmp_path / "wrapped.keras")
    loaded = keras.saving.load_model(tmp_path / "wrapped.keras")
    np.testing.assert_allclose(
        loaded.predict(data.L[:64], verbose=0), model.predict(data.L[:64], verbose=0), atol=1e-6
    )


def test_save_load_gives_identical_predictions(fitted, data, tmp_path):
    path = tmp_path / "lm.keras"
    fitted.save(path)
    loaded = LabelModel.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(data.L), fitted.predict_proba(data.L))
    assert loaded.dependencies_ == fitted.dependencies_
    np.testing.assert_allclose(loaded.class_balance_, fitted.class_balance_)


def test_corrupted_or_wrong_file_gives_a_clear_error(fitted, tmp_path):
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(
        LabelModelLoadError, match="could not read a saved LabelModel.*Received: path="
    ):
        LabelModel.load(bad)
    good = tmp_path / "good.keras"
    fitted.save(good)
    truncated = tmp_path / "truncated.keras"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(LabelModelLoadError, match="could not read"):
        LabelModel.load(truncated)
    other = tmp_path / "other.keras"
    keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)]).save(other)
    with pytest.raises(LabelModelLoadError, match="holds no LabelModel"):
        LabelModel.load(other)
    with pytest.raises(LabelModelLoadError, match="could not read"):
        LabelModel.load(tmp_path / "missing.keras")


def test_streamed_fit_over_a_dataset_equals_the_in_memory_fit(fitted, data):
    ds = tf.data.Dataset.from_tensor_slices(data.L).batch(1000)
    streamed = LabelModel(3, seed=1).fit(ds)
    np.testing.assert_allclose(
        streamed.predict_proba(data.L), fitted.predict_proba(data.L), atol=1e-6
    )
    pairs = tf.data.Dataset.from_tensor_slices(({"x": data.y}, data.L)).batch(4096)
    from_pairs = LabelModel(3, seed=1).fit(pairs)
    np.testing.assert_allclose(
        from_pairs.predict_proba(data.L), fitted.predict_proba(data.L), atol=1e-6
    )
    generator = ((None, data.L[i : i + 3000]) for i in range(0, len(data.L), 3000))
    from_gen = LabelModel(3, seed=1).fit(generator)
    np.testing.assert_allclose(
        from_gen.predict_proba(data.L), fitted.predict_proba(data.L), atol=1e-6
    )
    stats = LabelStats.from_matrix(data.L[:7000], 3).merge(LabelStats.from_matrix(data.L[7000:], 3))
    from_stats = LabelModel(3, seed=1).fit(stats)
    np.testing.assert_allclose(
        from_stats.predict_proba(data.L), fitted.predict_proba(data.L), atol=1e-6
    )


def test_call_inside_keras_model_and_tf_function(fitted, data):
    inputs = keras.Input(shape=(8,), dtype="int32")
    model = keras.Model(inputs, fitted(inputs))
    eager = fitted.predict_proba(data.L[:100])
    np.testing.assert_allclose(model.predict(data.L[:100], verbose=0), eager, atol=1e-6)
    graph = tf.function(lambda x: fitted(x))(tf.constant(data.L[:100]))
    np.testing.assert_allclose(graph.numpy(), eager, atol=1e-6)
    assert graph.dtype == tf.float32
    concrete = tf.function(fitted.call).get_concrete_function(tf.TensorSpec([None, 8], tf.int32))
    ops = {op.type for op in concrete.graph.get_operations()}
    assert not any("PyFunc" in op for op in ops)


def test_savedmodel_with_a_dependency_group_serves_identical_soft_labels(fitted, data, tmp_path):
    assert fitted.dependencies_  # the group tables (int64 codes, searchsorted) are exported too
    module = tf.Module()
    module.lm = fitted
    module.serve = tf.function(
        lambda votes: {"soft_labels": fitted(votes)},
        input_signature=[tf.TensorSpec([None, 8], tf.int32)],
    )
    tf.saved_model.save(module, str(tmp_path / "sm"), signatures={"serving_default": module.serve})
    served = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    out = served(votes=tf.constant(data.L[:300]))["soft_labels"].numpy()
    np.testing.assert_allclose(out, fitted.predict_proba(data.L[:300]), atol=1e-6)


def test_unseen_group_pattern_falls_back_to_member_tables(fitted):
    row = np.array(
        [[2, -1, -1, -1, -1, -1, 0, 1]], dtype=np.int32
    )  # group votes 2, 0, 1: never seen
    p = fitted.predict_proba(row)
    assert np.isfinite(p).all() and p.sum() == pytest.approx(1.0, abs=1e-5)


def test_degenerate_inputs_get_finite_defined_outputs():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    L = np.full((3000, 5), -1, np.int32)
    L[:, 0] = np.where(rng.random(3000) < 0.8, y, 1 - y)
    L[:, 1] = np.where(rng.random(3000) < 0.7, y, 1 - y)
    L[:, 2] = 1  # always votes one class
    # column 3: zero coverage; column 4 sparse
    L[rng.random(3000) < 0.1, 4] = 0
    lm = LabelModel(3, dependencies="auto").fit(L)  # class 2: no LF votes for it
    P = lm.predict_proba(np.vstack([L, np.full((1, 5), -1)]))
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-5)
    # an all-abstain row gets the model's P(y | no vote): the class balance times every LF's
    # P(abstain | y) (class-conditional tables, chosen since LFs 0 and 1 vote both classes)
    t = lm.vote_tables().dense()
    logits = np.log(lm.class_balance_.to_numpy()) + t[:, :, 0].sum(0)
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(P[-1], expected, atol=1e-5)
    table = lm.lf_table()
    assert np.isfinite(table.to_numpy(dtype=float)).all()
    assert table.loc[3, "propensity"] < 1e-3


def test_bad_inputs_raise_clear_errors(fitted):
    with pytest.raises(ValueError, match=r"column 2.*voted 5"):
        LabelModel(2).fit(np.array([[0, 1, 5], [0, 0, 0]]))
    with pytest.raises(ValueError, match="at least 3 LFs.*Received: 2 LFs"):
        LabelModel(2).fit(np.array([[0, 1], [1, 1]]))
    with pytest.raises(ValueError, match="not fitted"):
        LabelModel(2).predict_proba(np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="fitted on 8 LFs"):
        fitted.predict_proba(np.zeros((2, 3), int))
    with pytest.raises(ValueError, match=r"column 1.*voted 3"):
        fitted.predict_proba(np.array([[0, 3, 0, 0, 0, 0, 0, 0]]))
    with pytest.raises(ValueError, match="Received: cardinality=1"):
        LabelModel(1)
    with pytest.raises(ValueError, match="Received: dependencies='yes'"):
        LabelModel(2, dependencies="yes")
    with pytest.raises(ValueError, match="class_balance"):
        LabelModel(2, class_balance=[0.9, 0.3])
    with pytest.raises(ValueError, match="column indices"):
        LabelModel(2, dependencies=[[0, 9]]).fit(np.zeros((4, 3), int))
    with pytest.raises(ValueError, match="L_dev has 2 rows but y_dev has 3"):
        LabelModel(2).fit(np.zeros((4, 3), int), L_dev=np.zeros((2, 3), int), y_dev=[0, 1, 1])
    with pytest.raises(ValueError, match=r"y_dev must hold class indices in \[0, 1\]"):
        LabelModel(2).fit(np.zeros((4, 3), int), y_dev=[0, 2])
    with pytest.raises(ValueError, match="must not share or repeat a column"):
        LabelModel(2, dependencies=[[0, 1], [1, 2]]).fit(np.zeros((4, 3), int))
    with pytest.raises(ValueError, match="too large to enumerate"):
        LabelModel(20, dependencies=[list(range(16))]).fit(np.zeros((4, 16), int))
    with pytest.raises(ValueError, match="empty"):
        LabelModel(2).fit(np.zeros((0, 3), int))


def test_tables_and_predict(fitted, data):
    table = fitted.lf_table(lf_names=[f"lf{j}" for j in range(8)])
    assert list(table.columns) == ["accuracy", "propensity", "group", "copy_of"]
    assert (table["copy_of"] == -1).all()
    np.testing.assert_allclose(table["accuracy"], data.accuracies, atol=0.03)
    assert fitted.class_balance_.sum() == pytest.approx(1.0)
    preds = fitted.predict(data.L, tie_break="abstain")
    assert preds.dtype == np.int32 and preds.shape == (len(data.L),)


# ---------------------------------------------------------------- class-conditional abstains
def _unipolar(n=20_000, seed=0):
    """Binary unipolar LFs in the detector form: LF j fires with alpha_j if y = k_j, beta_j else."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.4).astype(int)
    classes = np.array([1, 1, 1, 0, 0, 0])
    alpha = np.array([0.5, 0.3, 0.4, 0.6, 0.35, 0.45])
    beta = np.array([0.05, 0.02, 0.08, 0.05, 0.1, 0.03])
    rate = np.where(y[:, None] == classes[None, :], alpha[None, :], beta[None, :])
    L = np.where(rng.random((n, 6)) < rate, classes[None, :], -1).astype(np.int32)
    return L, y, classes, alpha, beta


def test_abstain_model_config_round_trip_and_configs_saved_before_it_load():
    L, _, _, _, _ = _unipolar(4000)
    lm = LabelModel(2, abstain_model="class_conditional", dependencies=None).fit(L)
    config = lm.get_config()
    assert config["abstain_model"] == "class_conditional"
    assert LabelModel.from_config(config).get_config() == config
    old = {k: v for k, v in config.items() if k != "abstain_model"}  # a file from before
    clone = LabelModel.from_config(old)
    assert clone.abstain_model == "auto"
    clone.set_weights(lm.get_weights())
    np.testing.assert_array_equal(clone.predict_proba(L[:200]), lm.predict_proba(L[:200]))
    with pytest.raises(ValueError, match="Received: abstain_model='dawid'"):
        LabelModel(2, abstain_model="dawid")


def test_class_conditional_detectors_abstains_are_evidence_and_better_than_random():
    L, y, classes, alpha, beta = _unipolar()
    lm = LabelModel(2, dependencies=None).fit(L)  # auto: class-conditional for 2 classes
    one_coin = LabelModel(2, dependencies=None, abstain_model="independent").fit(L)
    t = np.exp(lm.vote_tables().dense())  # [m, C, C + 1]
    fire = t[np.arange(6), :, classes + 1]  # [m, C]: P(fire | y)
    # The detector form is recovered: P(fire | y = k_j) and P(fire | y != k_j).
    np.testing.assert_allclose(fire[np.arange(6), classes], alpha, atol=0.03)
    np.testing.assert_allclose(fire[np.arange(6), 1 - classes], beta, atol=0.03)
    # Balance: the mean posterior of rows with a vote, 0.57 (truth 0.6).
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), [0.6, 0.4], atol=0.05)
    # An abstain moves the posterior (one-coin: it does not).
    row = np.full((1, 6), -1, np.int32)
    row_spam = row.copy()
    row_spam[0, 0] = 1
    p_lm = lm.predict_proba(np.vstack([row, row_spam]))
    p_one = one_coin.predict_proba(np.vstack([row, row_spam]))
    np.testing.assert_allclose(p_one[0], one_coin.class_balance_.to_numpy(), atol=1e-5)
    assert abs(p_lm[0, 1] - lm.class_balance_[1]) > 0.05
    # It reaches the Bayes oracle (true detector rates and balance); the one-coin model,
    # which reads no evidence in abstains, falls short of it.
    log_lik = np.stack(
        [
            np.where(L >= 0, np.log(r), np.log(1 - r)).sum(1)
            for r in (np.where(classes == k, alpha, beta) for k in range(2))
        ],
        axis=1,
    )
    oracle = ((log_lik + np.log([0.6, 0.4])).argmax(1) == y).mean()
    acc = (lm.predict(L) == y).mean()
    assert acc >= oracle - 0.01 and acc > (one_coin.predict(L) == y).mean()


def test_class_conditional_tables_respect_the_floor_and_unseen_votes_stay_finite():
    rng = np.random.default_rng(1)
    L = np.full((3000, 4), -1, np.int32)
    L[rng.random(3000) < 0.3, 0] = 1
    L[rng.random(3000) < 0.3, 1] = 0
    L[rng.random(3000) < 0.2, 2] = 1  # independent of the others: no signal
    # column 3: zero coverage
    lm = LabelModel(2, abstain_model="class_conditional", dependencies=None).fit(L)
    t = np.exp(lm.vote_tables().dense())
    lam = 0.55 / 0.45  # P(y = v | vote v) >= min_accuracy = 0.55 under a uniform balance
    for v in range(2):
        assert (t[:, 1 - v, v + 1] <= t[:, v, v + 1] / lam + 1e-6).all()
    # a vote never seen in training (column 0 voting 0, column 3 voting) stays finite
    P = lm.predict_proba(np.array([[0, -1, -1, 1], [-1, -1, -1, -1]], np.int32))
    assert np.isfinite(P).all()
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-5)
    assert lm.lf_table().loc[3, "propensity"] < 1e-3


def test_class_conditional_with_a_dependency_group_saves_and_loads(tmp_path):
    d = synthetic_label_matrix(20_000, 2, 5, copies={0: 2}, class_balance=[0.7, 0.3], seed=4)
    lm = LabelModel(2).fit(d.L)
    assert lm.abstain_model == "auto" and lm.dependencies_ == [[0, 5, 6]]
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), [0.7, 0.3], atol=0.03)
    lm.save(tmp_path / "cc.keras")
    loaded = LabelModel.load(tmp_path / "cc.keras")
    np.testing.assert_array_equal(loaded.predict_proba(d.L), lm.predict_proba(d.L))


def _tempered_proba(lm, L, classes, weight):
    """The soft labels spelled out: an abstain counts ``weight`` where its class voted."""
    t = lm.vote_tables().dense()  # [m, C, C + 1]: log P(vote | y)
    m = L.shape[1]
    covered = (L >= 0).any(1)[:, None]
    logits = np.where(covered, lm.log_vote_prior.numpy()[None], lm.log_class_balance.numpy()[None])
    for j in range(m):
        sibling = ((L >= 0) & (classes[None, :] == classes[j]) & (np.arange(m) != j)).any(1)
        w = np.where(L[:, j] >= 0, 1.0, np.where(sibling, weight, 1.0))
        logits = logits + w[:, None] * t[j][:, L[:, j] + 1].T
    z = np.exp(logits - logits.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def test_co_abstain_weight_discounts_abstains_where_the_lfs_class_voted():
    L, y, classes, _, _ = _unipolar(4000)
    lm = LabelModel(2, dependencies=None).fit(L)
    config = lm.get_config()
    assert config["co_abstain_weight"] is None  # chosen by fit: 0.5 without a gold dev set
    assert config["fitted_choices"] == {"abstain_model": "class_conditional", "co_abstain_weight": 0.5}
    assert config["lf_classes"] == classes.tolist()
    assert LabelModel.from_config(config).get_config() == config
    np.testing.assert_allclose(
        lm.predict_proba(L[:500]), _tempered_proba(lm, L[:500], classes, 0.5), atol=1e-5
    )
    full = LabelModel(2, dependencies=None, co_abstain_weight=1.0).fit(L)
    np.testing.assert_allclose(
        full.predict_proba(L[:500]), _tempered_proba(full, L[:500], classes, 1.0), atol=1e-5
    )
    # These synthetic LFs are conditionally independent, so counting every abstain is the
    # right model; the discount costs nothing here. Measured: 0.880 against 0.875.
    assert (lm.predict(L) == y).mean() >= (full.predict(L) == y).mean() - 0.01
    # A file saved before the option: every abstain counts, as when it was fitted.
    new_keys = ("co_abstain_weight", "lf_classes", "fitted_choices")
    old = {k: v for k, v in full.get_config().items() if k not in new_keys}
    clone = LabelModel.from_config(old)
    clone.set_weights(full.get_weights())
    np.testing.assert_allclose(clone.predict_proba(L[:500]), full.predict_proba(L[:500]), atol=1e-6)
    # LFs that vote several classes (synthetic LFs) keep every abstain: no lf_classes.
    d = synthetic_label_matrix(3000, 2, 5, seed=0)
    assert LabelModel(2, dependencies=None).fit(d.L).get_config()["lf_classes"] is None
    with pytest.raises(ValueError, match="Received: co_abstain_weight=1.5"):
        LabelModel(2, co_abstain_weight=1.5)
    with pytest.raises(ValueError, match="lf_classes needs one class"):
        LabelModel(2, num_lfs=3, lf_classes=[0, 1])
