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


def test_vote_tables_are_reproduced_empirically():
    from tfsnorkel.labelmodel.synthetic import (
        class_conditional_table,
        symmetric_table,
        unipolar_table,
    )

    pi = [0.6, 0.3, 0.1]
    tables = np.stack([
        unipolar_table(3, 2, pi, recall=0.4, lift=0.5),
        symmetric_table(3, 0.7, 0.5),
        class_conditional_table(3, [0.2, 0.5, 0.9], [0.9, 0.6, 0.8], wrong=np.eye(3)[[1, 2, 0]]),
    ])
    d = synthetic_label_matrix(300_000, 3, 3, class_balance=pi, tables=tables, copies={0: 1},
                               copy_prob=0.9, seed=2)
    assert d.L.shape == (300_000, 4)
    for j in range(4):
        for k in range(3):
            rows = d.L[d.y == k, j]
            emp = np.bincount(rows + 1, minlength=4) / len(rows)
            np.testing.assert_allclose(emp, d.tables[j][k], atol=0.006)
    # the unipolar LF only ever votes class 2, and its precision is half way from 0.1 to 1
    assert set(np.unique(d.L[:, 0])) == {-1, 2}
    assert (d.y[d.L[:, 0] == 2] == 2).mean() == pytest.approx(0.55, abs=0.01)
    # class 1's wrong votes of LF 2 all go to class 2 (the `wrong` matrix)
    assert set(np.unique(d.L[(d.y == 1) & (d.L[:, 2] != 1), 2])) == {-1, 2}
    # marginal accuracy / propensity reported under the class balance
    assert d.propensities[1] == pytest.approx(0.5)
    assert d.accuracies[0] == pytest.approx(0.55)


def test_oracle_with_tables_and_copies_matches_empirical_frequencies_per_vote_pattern():
    from tfsnorkel.labelmodel.synthetic import synthetic_family

    d = synthetic_family("bin_90_10_copies5", n=200_000, seed=1)
    P = d.posterior(d.L)
    _, inverse, counts = np.unique(d.L, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    big = np.flatnonzero(counts >= 3000)
    assert len(big) >= 5
    for k in big:
        sel = inverse == k
        p = P[sel][0, 1]
        np.testing.assert_allclose(P[sel][:, 1], p)
        assert abs(d.y[sel].mean() - p) <= 4.5 * np.sqrt(p * (1 - p) / sel.sum()) + 1e-9


def test_tables_argument_is_checked():
    from tfsnorkel.labelmodel.synthetic import symmetric_table, synthetic_family, unipolar_table

    t = np.stack([symmetric_table(2, 0.8, 0.5)])
    with pytest.raises(ValueError, match="not both"):
        synthetic_label_matrix(10, 2, 1, tables=t, accuracies=[0.7])
    with pytest.raises(ValueError, match=r"Received shape: \(1, 2, 3\)"):
        synthetic_label_matrix(10, 3, 1, tables=t)
    bad = t.copy()
    bad[0, 1, 0] = 0.9
    with pytest.raises(ValueError, match=r"tables\[0\]\[1\]"):
        synthetic_label_matrix(10, 2, 1, tables=bad)
    with pytest.raises(ValueError, match="firing rate"):
        unipolar_table(2, 0, [0.5, 0.5], recall=1.0, lift=-0.9)
    with pytest.raises(ValueError, match="unknown family member"):
        synthetic_family("nope")
