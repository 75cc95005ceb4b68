"""Majority / weighted vote baselines and their tie policies."""

from __future__ import annotations

import numpy as np
import pytest

from tfsnorkel.labelmodel import MajorityVoter, WeightedVoter, majority_vote, weighted_vote
from tfsnorkel.labels import ABSTAIN

L = np.array(
    [
        [0, 0, 1],  # clear 0
        [1, -1, -1],  # single vote 1
        [0, 1, -1],  # tie 0/1
        [-1, -1, -1],  # no vote
        [2, 2, 1],  # clear 2
    ],
    dtype=np.int32,
)


def test_majority_vote_with_abstain_ties():
    assert majority_vote(L, 3, tie_break="abstain").tolist() == [0, 1, ABSTAIN, ABSTAIN, 2]


def test_majority_vote_prior_ties_pick_the_largest_prior_class():
    preds = majority_vote(L, 3, tie_break="prior", prior=[0.1, 0.6, 0.3])
    # tie 0/1 -> 1; no vote ties all three -> 1
    assert preds.tolist() == [0, 1, 1, 1, 2]


def test_majority_vote_random_ties_are_seeded_and_among_tied_classes():
    rows = np.tile(L[2:3], (200, 1))
    a = majority_vote(rows, 3, seed=7)
    b = majority_vote(rows, 3, seed=7)
    assert a.tolist() == b.tolist()
    assert set(a.tolist()) == {0, 1}
    assert 0.35 < a.mean() < 0.65


def test_majority_voter_soft_labels():
    P = MajorityVoter(3).predict_proba(L)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    np.testing.assert_allclose(P[0], [2 / 3, 1 / 3, 0])
    np.testing.assert_allclose(P[3], [1 / 3, 1 / 3, 1 / 3])
    P = MajorityVoter(3, prior=[0.5, 0.25, 0.25]).predict_proba(L)
    np.testing.assert_allclose(P[3], [0.5, 0.25, 0.25])


def test_weighted_vote_weights_change_the_winner():
    assert weighted_vote(L, [1.0, 2.0, 5.0], 3, tie_break="abstain").tolist() == [
        1,
        1,
        1,
        ABSTAIN,
        1,
    ]
    voter = WeightedVoter(3, weights=[0.0, 1.0, 1.0])
    assert voter.predict(L, tie_break="abstain").tolist() == [ABSTAIN, ABSTAIN, 1, ABSTAIN, ABSTAIN]


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"column 1"):
        majority_vote(np.array([[0, 3]]), cardinality=2)
    with pytest.raises(ValueError, match="3 weights"):
        WeightedVoter(3, [1.0, 1.0, 1.0]).predict(L[:, :2])
    with pytest.raises(ValueError, match="Received: weights"):
        WeightedVoter(2, [-1.0, 1.0])
    with pytest.raises(ValueError, match="Received: cardinality=1"):
        MajorityVoter(1)
    with pytest.raises(ValueError, match="prior"):
        MajorityVoter(2, prior=[1.0, 2.0, 3.0])


def test_majority_vote_on_real_data_matches_the_recorded_value(youtube):
    preds = majority_vote(youtube.test.L, youtube.cardinality, tie_break="random", seed=2)
    acc = float((preds == youtube.test.y).mean())
    # Measured: 0.812 / 0.824 / 0.828 for seeds 0 / 1 / 2; README's 0.840 is another tie draw.
    assert acc == pytest.approx(0.828, abs=1e-9)
