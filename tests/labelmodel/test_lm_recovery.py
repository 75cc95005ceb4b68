"""Parameter recovery on synthetic matrices and the value of learned dependencies."""

from __future__ import annotations

import numpy as np
import pytest

from tfsnorkel.labelmodel import LabelModel, learn_structure, majority_vote, synthetic_label_matrix


@pytest.mark.parametrize(
    ("cardinality", "balance"),
    [(2, [0.8, 0.2]), (3, [0.6, 0.3, 0.1]), (4, [0.4, 0.3, 0.2, 0.1])],
)
def test_recovers_class_balance_and_accuracies_at_100k(cardinality, balance):
    d = synthetic_label_matrix(
        100_000, cardinality, num_lfs=10, class_balance=balance, seed=cardinality
    )
    lm = LabelModel(cardinality).fit(d.L)
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), balance, atol=0.03)
    table = lm.lf_table()
    np.testing.assert_allclose(table["accuracy"].to_numpy(), d.accuracies, atol=0.03)
    np.testing.assert_allclose(table["propensity"].to_numpy(), d.propensities, atol=0.03)
    assert lm.dependencies_ == []  # independent LFs: nothing grouped
    # and it is as good as the Bayes oracle
    acc = (lm.predict(d.L) == d.y).mean()
    oracle = (d.posterior(d.L).argmax(1) == d.y).mean()
    assert acc >= oracle - 0.002


def test_not_label_flipped_when_lfs_are_better_than_random_on_average():
    # Two LFs are worse than random, the rest better: the average is above 1/2.
    acc = [0.45, 0.4, 0.75, 0.8, 0.7, 0.72]
    d = synthetic_label_matrix(20_000, 2, 6, accuracies=acc, propensities=[0.7] * 6, seed=5)
    lm = LabelModel(2, dependencies=None).fit(d.L)
    assert (lm.predict(d.L) == d.y).mean() > 0.8
    assert lm.class_balance_[0] == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize("cardinality", [2, 3])
def test_copies_of_a_weak_lf_are_grouped_and_reach_the_oracle(cardinality):
    d = synthetic_label_matrix(
        100_000,
        cardinality,
        5,
        accuracies=[0.8, 0.75, 0.7, 0.72, 0.62],
        propensities=[0.5, 0.5, 0.5, 0.5, 0.9],
        copies={4: 5},
        copy_prob=0.95,
        seed=3,
    )
    oracle = (d.posterior(d.L).argmax(1) == d.y).mean()
    learned = LabelModel(cardinality, dependencies="auto").fit(d.L)
    independent = LabelModel(cardinality, dependencies=None).fit(d.L)
    mv = (majority_vote(d.L, cardinality) == d.y).mean()
    acc = (learned.predict(d.L) == d.y).mean()
    acc_ind = (independent.predict(d.L) == d.y).mean()
    # Measured (2 classes): oracle 0.781, learned 0.781, independent 0.633, MV 0.636.
    assert learned.dependencies_ == [[4, 5, 6, 7, 8, 9]]
    assert acc >= oracle - 0.01
    assert acc_ind < oracle - 0.05
    assert mv < oracle - 0.05
    table = learned.lf_table()
    assert table["group"].tolist() == [-1, -1, -1, -1, 0, 0, 0, 0, 0, 0]
    # grouped LFs' accuracy and propensity come from the marginals of the group's joint table
    np.testing.assert_allclose(table["accuracy"], d.accuracies, atol=0.03)
    np.testing.assert_allclose(table["propensity"], d.propensities, atol=0.03)


def test_user_given_dependencies_and_learn_structure():
    d = synthetic_label_matrix(30_000, 2, 6, copies={1: 2}, seed=11)
    assert learn_structure(d.L, 2) == [[1, 6, 7]]
    lm = LabelModel(2, dependencies=[[1, 6, 7]]).fit(d.L)
    assert lm.dependencies_ == [[1, 6, 7]]
    oracle = (d.posterior(d.L).argmax(1) == d.y).mean()
    assert (lm.predict(d.L) == d.y).mean() >= oracle - 0.01


def test_group_cap_of_six_keeps_a_six_lf_group_whole_and_a_cap_of_four_splits_it():
    d = synthetic_label_matrix(50_000, 2, 5, copies={0: 5}, seed=2)
    assert LabelModel(2, max_group_size=6).fit(d.L).dependencies_ == [[0, 5, 6, 7, 8, 9]]
    groups = LabelModel(2, max_group_size=4).fit(d.L).dependencies_
    assert all(len(g) <= 4 for g in groups) and sum(map(len, groups)) == 6


def test_class_balance_from_user_or_gold_dev_set():
    d = synthetic_label_matrix(20_000, 2, 8, class_balance=[0.7, 0.3], seed=4)
    lm = LabelModel(2, class_balance=[0.6, 0.4]).fit(d.L)
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), [0.6, 0.4], atol=1e-6)
    dev = synthetic_label_matrix(400, 2, 8, class_balance=[0.7, 0.3], seed=5)
    lm = LabelModel(2).fit(d.L, L_dev=dev.L, y_dev=dev.y)
    expected = (np.bincount(dev.y, minlength=2) + 1) / (len(dev.y) + 2)
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), expected, atol=1e-6)


def test_learned_structure_on_many_unique_rows_refits_on_every_row():
    # More than 20k distinct rows: pairs are scored on a subsample, the refit uses all rows.
    d = synthetic_label_matrix(60_000, 3, 14, copies={0: 3}, seed=8)
    auto = LabelModel(3).fit(d.L)
    assert auto.dependencies_ == [[0, 14, 15, 16]]
    given = LabelModel(3, dependencies=auto.dependencies_).fit(d.L)
    np.testing.assert_allclose(auto.predict_proba(d.L), given.predict_proba(d.L), atol=1e-6)


def test_gold_dev_rows_anchor_the_lf_accuracies():
    acc = [0.9, 0.75, 0.75, 0.75, 0.75]
    train = synthetic_label_matrix(2_000, 2, 5, accuracies=acc, propensities=[0.8] * 5, seed=1)
    # A large gold set on which LF 0 is only 60% accurate pulls its estimate down.
    dev_acc = [0.6, 0.75, 0.75, 0.75, 0.75]
    dev = synthetic_label_matrix(4_000, 2, 5, accuracies=dev_acc, propensities=[0.8] * 5, seed=2)
    free = LabelModel(2, anchor_dev=False).fit(train.L, L_dev=dev.L, y_dev=dev.y)
    anchored = LabelModel(2).fit(train.L, L_dev=dev.L, y_dev=dev.y)
    a_free = free.lf_table()["accuracy"][0]
    a_anchored = anchored.lf_table()["accuracy"][0]
    # Measured: 0.87 without anchoring, 0.66 with (2k unlabeled rows at 0.9, 4k gold at 0.6).
    assert a_free == pytest.approx(0.9, abs=0.03)
    assert a_anchored < a_free - 0.1
