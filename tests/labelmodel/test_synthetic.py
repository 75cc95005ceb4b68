"""The synthetic generator and its Bayes oracle."""

from __future__ import annotations

import numpy as np
import pytest

from tfsnorkel.labelmodel import synthetic_label_matrix


def test_generator_matches_its_parameters():
    d = synthetic_label_matrix(
        200_000,
        3,
        3,
        class_balance=[0.5, 0.3, 0.2],
        accuracies=[0.9, 0.7, 0.6],
        propensities=[0.2, 0.5, 0.8],
        copies={2: 1},
        copy_prob=0.9,
        seed=0,
    )
    assert d.L.shape == (200_000, 4) and d.L.dtype == np.int32
    np.testing.assert_allclose(np.bincount(d.y) / len(d.y), [0.5, 0.3, 0.2], atol=0.005)
    voted = d.L >= 0
    np.testing.assert_allclose(voted.mean(0), [0.2, 0.5, 0.8, 0.8], atol=0.005)
    acc = [(d.L[voted[:, j], j] == d.y[voted[:, j]]).mean() for j in range(4)]
    np.testing.assert_allclose(acc, [0.9, 0.7, 0.6, 0.6], atol=0.005)
    assert d.groups == [[2, 3]]
    assert (d.L[:, 2] == d.L[:, 3]).mean() > 0.9


def test_oracle_posterior_is_calibrated_and_beats_any_single_lf():
    d = synthetic_label_matrix(50_000, 2, 4, copies={0: 2}, seed=1)
    P = d.posterior(d.L)
    np.testing.assert_allclose(P.sum(1), 1.0)
    conf = P.max(1)
    right = P.argmax(1) == d.y
    assert abs(conf.mean() - right.mean()) < 0.01  # calibrated
    assert right.mean() > max(d.accuracies * d.propensities)


def test_generator_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: n=10, cardinality=1"):
        synthetic_label_matrix(10, cardinality=1)
    with pytest.raises(ValueError, match="class_balance"):
        synthetic_label_matrix(10, class_balance=[0.9, 0.9])
    with pytest.raises(ValueError, match="3 values"):
        synthetic_label_matrix(10, num_lfs=3, accuracies=[0.7])
