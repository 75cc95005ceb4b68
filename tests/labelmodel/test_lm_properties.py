"""Property tests on random label matrices (hypothesis)."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfsnorkel.labelmodel import LabelModel

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def label_matrices(draw):
    cardinality = draw(st.integers(2, 4))
    n = draw(st.integers(1, 120))
    m = draw(st.integers(3, 7))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    abstain = draw(st.floats(0.0, 1.0))
    L = rng.integers(0, cardinality, size=(n, m))
    L[rng.random((n, m)) < abstain] = -1
    return L.astype(np.int32), cardinality, seed


def _fit(L, cardinality, dependencies):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LabelModel(cardinality, dependencies=dependencies, seed=3).fit(L)


@SETTINGS
@given(label_matrices(), st.sampled_from(["auto", None]))
def test_probabilities_are_finite_and_rows_sum_to_one(data, dependencies):
    L, cardinality, _ = data
    lm = _fit(L, cardinality, dependencies)
    P = lm.predict_proba(L)
    assert P.shape == (len(L), cardinality)
    assert np.isfinite(P).all() and (P >= 0).all()
    np.testing.assert_allclose(P.sum(1), 1.0, atol=1e-5)
    assert np.isfinite(lm.lf_table().to_numpy(dtype=float)).all()
    assert np.isclose(lm.class_balance_.sum(), 1.0)


@SETTINGS
@given(label_matrices())
def test_permuting_lf_columns_does_not_change_predictions(data):
    L, cardinality, seed = data
    perm = np.random.default_rng(seed).permutation(L.shape[1])
    P = _fit(L, cardinality, None).predict_proba(L)
    P_perm = _fit(L[:, perm], cardinality, None).predict_proba(L[:, perm])
    np.testing.assert_allclose(P_perm, P, atol=1e-4)
    top2 = np.sort(P, axis=1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 1e-3
    np.testing.assert_array_equal(P_perm.argmax(1)[clear], P.argmax(1)[clear])


@SETTINGS
@given(label_matrices())
def test_fit_and_predict_are_deterministic_for_a_fixed_seed(data):
    L, cardinality, _ = data
    a = _fit(L, cardinality, "auto")
    b = _fit(L, cardinality, "auto")
    np.testing.assert_array_equal(a.predict_proba(L), b.predict_proba(L))
    np.testing.assert_array_equal(a.predict(L), b.predict(L))
    assert a.dependencies_ == b.dependencies_
