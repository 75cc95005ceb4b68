"""MultiLabelModel: the Bayes oracle on synthetic multi-label data, near-copies, edge cases,
malformed input, serving in TF ops, sparse input and saving."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tfsnorkel.labelmodel import (
    LabelModelLoadError,
    MultiLabelModel,
    check_multilabel_matrix,
    copy_groups,
    synthetic_multilabel,
)


def _accuracy(P, Y):
    return ((P >= 0.5) == Y).mean(0)


@pytest.fixture(scope="session")
def synth():
    # 4 classes, 5 LFs each (detector, excluder, bipolar in turn), 3 copies of LF 0, 2 of LF 6.
    d = synthetic_multilabel(20000, num_classes=4, lfs_per_class=5, copies={0: 3, 6: 2}, seed=0)
    lm = MultiLabelModel(4, d.lf_classes).fit(d.L)
    return d, lm


def test_per_class_accuracy_within_one_point_of_the_bayes_oracle(synth):
    d, lm = synth
    model = _accuracy(lm.predict_proba(d.L), d.Y)
    oracle = _accuracy(d.posterior(d.L), d.Y)
    assert np.all(np.abs(model - oracle) <= 0.01), (model, oracle)
    assert list(lm.class_table()["model"]) == ["em"] * 4
    # Learned priors close to the true ones.
    np.testing.assert_allclose(lm.class_priors_.to_numpy(), d.class_priors, atol=0.03)


def test_near_copies_are_grouped_and_counted_once(synth):
    d, lm = synth
    groups = [g for gs in lm.class_table()["groups"] for g in gs]
    assert sorted(map(sorted, groups)) == sorted(map(sorted, d.groups))
    # Without the groups the copied detector dominates class 0 (counted 4 times).
    naive = MultiLabelModel(4, d.lf_classes, dependencies=None).fit(d.L)
    oracle = _accuracy(d.posterior(d.L), d.Y)
    assert _accuracy(naive.predict_proba(d.L), d.Y)[0] < oracle[0] - 0.05


def test_seeds_and_priors_of_the_family_reach_the_oracle():
    for seed, priors in [(1, [0.05, 0.2, 0.5]), (2, [0.3, 0.6, 0.15])]:
        d = synthetic_multilabel(15000, num_classes=3, lfs_per_class=6, class_priors=priors,
                                 seed=seed)
        lm = MultiLabelModel(3, d.lf_classes).fit(d.L)
        gap = _accuracy(lm.predict_proba(d.L), d.Y) - _accuracy(d.posterior(d.L), d.Y)
        assert np.all(np.abs(gap) <= 0.01), (seed, gap)


def test_call_in_tf_ops_equals_predict_proba_eager_and_in_tf_function(synth):
    d, lm = synth
    want = lm.predict_proba(d.L[:300])
    np.testing.assert_allclose(lm(d.L[:300]).numpy(), want, atol=1e-6)
    fn = tf.function(lambda x: lm(x), input_signature=[tf.TensorSpec([None, d.L.shape[1]],
                                                                      tf.int32)])
    np.testing.assert_allclose(fn(tf.constant(d.L[:300])).numpy(), want, atol=1e-6)
    assert want.shape == (300, 4) and want.dtype == np.float32


def test_sparse_input_gives_the_same_fit_and_probabilities(synth):
    d, lm = synth
    S = sp.csr_matrix(np.where(d.L >= 0, d.L + 1, 0))
    before = S.copy()
    lm2 = MultiLabelModel(4, d.lf_classes).fit(S)
    np.testing.assert_allclose(lm2.predict_proba(S), lm.predict_proba(d.L), atol=1e-6)
    assert (S != before).nnz == 0  # the caller's matrix is not modified


def test_save_load_and_config_round_trip(synth, tmp_path):
    d, lm = synth
    path = tmp_path / "ml.keras"
    lm.save(path)
    back = MultiLabelModel.load(path)
    np.testing.assert_array_equal(back.predict_proba(d.L[:500]), lm.predict_proba(d.L[:500]))
    clone = MultiLabelModel.from_config(lm.get_config())
    assert clone.get_config() == lm.get_config()
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(LabelModelLoadError, match="Received: path="):
        MultiLabelModel.load(tmp_path / "junk.keras")


def test_a_class_no_lf_votes_for_gets_its_prior():
    d = synthetic_multilabel(6000, num_classes=3, lfs_per_class=[5, 5, 0], seed=3)
    lm = MultiLabelModel(3, d.lf_classes).fit(d.L)
    table = lm.class_table()
    assert table["model"].tolist() == ["em", "em", "prior"]
    learned = lm.class_priors_.to_numpy()
    # No LF bound to class 2: the mean learned prior of the other classes, on every row.
    assert learned[2] == pytest.approx(learned[:2].mean(), abs=1e-12)
    np.testing.assert_allclose(lm.predict_proba(d.L)[:, 2], learned[2], atol=1e-7)
    # Given priors win; a gold dev set gives its smoothed frequency.
    given = MultiLabelModel(3, d.lf_classes, class_priors=[0.3, 0.3, 0.125]).fit(d.L)
    np.testing.assert_allclose(given.predict_proba(d.L[:10])[:, 2], 0.125, atol=1e-7)
    dev = MultiLabelModel(3, d.lf_classes).fit(d.L, d.L[:98], d.Y[:98])
    want = (d.Y[:98, 2].sum() + 1) / 100
    np.testing.assert_allclose(dev.predict_proba(d.L[:10])[:, 2], want, atol=1e-7)


def test_lfs_that_never_vote_leave_their_class_at_the_prior():
    d = synthetic_multilabel(4000, num_classes=3, lfs_per_class=5, seed=4)
    L = d.L.copy()
    L[:, d.lf_classes == 1] = -1
    lm = MultiLabelModel(3, d.lf_classes).fit(L)
    assert lm.class_table()["model"].tolist() == ["em", "prior", "em"]
    p = lm.class_priors_.to_numpy()
    np.testing.assert_allclose(lm.predict_proba(d.L)[:, 1], (p[0] + p[2]) / 2, atol=1e-7)


def test_rows_with_no_votes_get_the_silence_probability(synth):
    d, lm = synth
    L = np.full((7, d.L.shape[1]), -1, np.int32)
    P = lm.predict_proba(L)
    table = lm.class_table()
    np.testing.assert_allclose(P, np.tile(table["silent"].to_numpy(), (7, 1)), atol=1e-6)
    # Under the EM silence is evidence: near the oracle's all-abstain posterior (measured
    # 0.076 away at most: the tables' Dirichlet prior pulls rare all-abstain rows to the prior).
    np.testing.assert_allclose(table["silent"], d.posterior(L)[0], atol=0.08)
    assert not np.allclose(table["silent"], table["prior"], atol=0.01)


def test_unipolar_classes_use_the_one_coin_model_with_its_stated_silence():
    d = synthetic_multilabel(5000, num_classes=3, lfs_per_class=[4, 4, 2],
                             kinds=["detector"], seed=5)
    lm = MultiLabelModel(3, d.lf_classes).fit(d.L)
    table = lm.class_table()
    assert table["model"].tolist() == ["one_coin"] * 3
    np.testing.assert_allclose(table["silent"], 0.2, atol=1e-6)  # 1 - mean of (32, 8)
    lf = lm.lf_table()
    assert np.all(lf["present_given_present"] > lf["present_given_absent"])
    # One present vote: P = accuracy 0.8 (uninformative prior for rows with votes).
    row = np.full((1, d.L.shape[1]), -1, np.int32)
    row[0, 0] = 1
    assert lm.predict_proba(row)[0, 0] == pytest.approx(0.8, abs=1e-5)
    # Votes of the one-coin model beat a constant: better than the prior on every class.
    acc = _accuracy(lm.predict_proba(d.L), d.Y)
    assert np.all(acc >= np.maximum(d.class_priors, 1 - d.class_priors) - 0.01)


def test_one_coin_near_copies_count_once():
    L = np.array([[1, 1, 1, -1], [1, 1, 1, -1], [-1, -1, -1, 1], [-1, -1, -1, -1]] * 50)
    lm = MultiLabelModel(2, lf_classes=[0, 0, 0, 1]).fit(L)
    P = lm.predict_proba(L[:1])
    # Three agreeing copies weigh as one LF of accuracy 0.8.
    assert P[0, 0] == pytest.approx(0.8, abs=1e-5)
    assert lm.class_table()["groups"].tolist() == [[[0, 1, 2]], []]
    assert lm.lf_table()["group"].tolist() == [0, 0, 0, -1]
    back = MultiLabelModel.from_config(lm.get_config())
    assert back.class_table()["groups"].tolist() == [[[0, 1, 2]], []]
    no_groups = MultiLabelModel(2, lf_classes=[0, 0, 0, 1], dependencies=None).fit(L)
    assert no_groups.predict_proba(L[:1])[0, 0] == pytest.approx(0.8**3 / (0.8**3 + 0.2**3),
                                                                abs=1e-5)


def test_dev_set_selection_keeps_the_oracle_on_synthetic_data():
    d = synthetic_multilabel(8000, num_classes=2, lfs_per_class=5, copies={0: 2}, seed=6)
    lm = MultiLabelModel(2, d.lf_classes).fit(d.L, d.L[:200], d.Y[:200])
    assert lm.class_table()["model"].tolist() == ["em", "em"]
    gap = _accuracy(lm.predict_proba(d.L), d.Y) - _accuracy(d.posterior(d.L), d.Y)
    assert np.all(np.abs(gap) <= 0.01), gap


def test_single_class_is_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match=r"num_classes must be an integer >= 2.*"
                                         r"Received: num_classes=1"):
        MultiLabelModel(1, lf_classes=[0, 0, 0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"lf_classes": [0, 3]}, r"lf_classes\[1\] = 3 .*Received: lf_classes="),
        ({"lf_classes": []}, "non-empty 1-D"),
        ({"lf_classes": [0, 1], "class_priors": [0.5, 1.0]}, "class_priors must be"),
        ({"lf_classes": [0, 1], "class_model": "ml"}, "Received: class_model='ml'"),
        ({"lf_classes": [0, 1], "copy_threshold": 0}, "Received: copy_threshold=0"),
        ({"lf_classes": [0, 1], "lf_names": ["a"]}, "lf_names needs one name per LF"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiLabelModel(2, **kwargs)


def test_malformed_matrices_are_named():
    lm = MultiLabelModel(2, lf_classes=[0, 0, 1])
    with pytest.raises(ValueError, match=r"LF column 2 voted 2 at row 1.*Received: 2"):
        lm.fit(np.array([[1, 0, -1], [1, 1, 2]]))
    with pytest.raises(ValueError, match=r"one column per LF \(3\). Received: 2 columns"):
        lm.fit(np.zeros((4, 2), int))
    with pytest.raises(ValueError, match=r"2-D \[N, m\]. Received shape: \(3,\)"):
        lm.fit(np.array([1, 0, 1]))
    with pytest.raises(TypeError, match="integer votes"):
        lm.fit(np.array([[0.5, 1, 1]]))
    with pytest.raises(ValueError, match="empty matrix"):
        lm.fit(np.zeros((0, 3), int))
    with pytest.raises(ValueError, match=r"sparse multi-label matrix stores vote \+ 1.*"
                                         r"LF column 1 holds 3 at row 0"):
        lm.fit(sp.csr_matrix(np.array([[0, 3, 0]])))
    with pytest.raises(ValueError, match="L_dev and Y_dev go together"):
        lm.fit(np.ones((4, 3), int), L_dev=np.ones((2, 3), int))
    with pytest.raises(ValueError, match=r"Y_dev must be \[N_dev, C\] = \[2, 2\]"):
        lm.fit(np.ones((4, 3), int), np.ones((2, 3), int), np.ones((2, 3), int))
    with pytest.raises(ValueError, match="Y_dev must hold 0"):
        lm.fit(np.ones((4, 3), int), np.ones((2, 3), int), np.full((2, 2), 2))
    with pytest.raises(ValueError, match="not fitted"):
        lm.predict_proba(np.ones((1, 3), int))
    lm.fit(np.array([[1, 1, 0], [0, -1, 1]] * 10))
    with pytest.raises(ValueError, match="already fitted"):
        lm.fit(np.array([[1, 1, 0]]))
    with pytest.raises(ValueError, match=r"LF column 0 voted -2 at row 0"):
        lm.predict_proba(np.array([[-2, 1, 1]]))


def test_check_multilabel_matrix_and_copy_groups():
    assert check_multilabel_matrix([[1, -1], [0, 1]]).dtype == np.int32
    S = check_multilabel_matrix(sp.csr_matrix(np.array([[2, 0], [1, 2]])))
    assert sp.isspmatrix_csc(S) and S.nnz == 3
    L = np.array([[1, 1, -1], [1, 1, 1], [-1, -1, 0], [0, 0, -1]] * 5)
    assert copy_groups(L) == [[0, 1]]
    assert copy_groups(sp.csr_matrix(np.where(L >= 0, L + 1, 0))) == [[0, 1]]
    assert copy_groups(L, threshold=1.0) == [[0, 1]]
    assert copy_groups(np.array([[1, -1], [-1, 1]] * 5)) == []


@settings(max_examples=15, deadline=None)
@given(
    data=st.lists(st.lists(st.sampled_from([-1, -1, 0, 1]), min_size=5, max_size=5),
                  min_size=1, max_size=40),
    classes=st.lists(st.integers(0, 2), min_size=5, max_size=5),
)
def test_outputs_are_finite_probabilities_for_any_votes(data, classes):
    L = np.array(data, dtype=np.int32)
    lm = MultiLabelModel(3, lf_classes=classes).fit(L)
    P = lm.predict_proba(L)
    assert P.shape == (len(L), 3)
    assert np.all(np.isfinite(P)) and np.all((P >= 0) & (P <= 1))
    np.testing.assert_allclose(lm(L).numpy(), P, atol=1e-6)


def test_em_reaches_the_oracle_on_detectors_only_when_their_firings_are_independent():
    d = synthetic_multilabel(10000, num_classes=2, lfs_per_class=4, kinds=["detector"], seed=3)
    lm = MultiLabelModel(2, d.lf_classes, class_model="em").fit(d.L)
    gap = _accuracy(lm.predict_proba(d.L), d.Y) - _accuracy(d.posterior(d.L), d.Y)
    assert np.all(np.abs(gap) <= 0.01), gap
    # Priors within 0.04 (measured 0.031 and 0.014 at 10k rows).
    np.testing.assert_allclose(lm.class_priors_.to_numpy(), d.class_priors, atol=0.04)
