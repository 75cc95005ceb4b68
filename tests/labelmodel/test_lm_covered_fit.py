"""The class-conditional fit to the covered rows' votes (issue 10): skewed and sparse LF sets.

Unipolar LFs (each votes one class) with many rows that no LF covers: the model is fitted to
the votes of the covered rows, the uncovered rows imputed (``fitting._covered_fit``). These
tests pin what that gives without any gold label, against majority vote and the Bayes oracle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from tests.conftest import require_data
from tfsnorkel import majority_vote
from tfsnorkel.labelmodel import LabelModel
from tfsnorkel.labelmodel.fitting import FitSettings, _covered_fit
from tfsnorkel.labelmodel.stats import LabelStats
from tfsnorkel.labelmodel.synthetic import synthetic_family


def _mv_acc(L, y, c, draws=20):
    return float(
        np.mean(
            [np.mean(majority_vote(L, c, tie_break="random", seed=s) == y) for s in range(draws)]
        )
    )


@pytest.mark.parametrize(
    ("member", "gap", "balance_tol"),
    # Measured (seed 1, 25k train rows): 95/5 sparse 0.966 against the oracle's 0.967 (the
    # previous rule, the covered rows' mean posterior as the balance: 0.746; majority vote
    # 0.86); 80/20 0.904 against 0.926 (before: 0.851; majority vote 0.878), balance 0.73 /
    # 0.27: the co-abstention weight of 0.5 tempers the evidence of abstains, which this
    # family's independent LFs would have counted fully (weight 1: 0.925, balance 0.79).
    [("bin_95_5_unipolar_sparse", 0.01, 0.03), ("bin_80_20_unipolar", 0.03, 0.09)],
)
def test_skewed_unipolar_family_beats_majority_vote_near_the_oracle(member, gap, balance_tol):
    d = synthetic_family(member, n=40_000, seed=1)
    L, Lt, yt = d.L[:25_000], d.L[25_000:], d.y[25_000:]
    lm = LabelModel(2).fit(L)
    acc = float((lm.predict_proba(Lt).argmax(1) == yt).mean())
    oracle = float((d.posterior(Lt).argmax(1) == yt).mean())
    assert acc >= oracle - gap
    assert acc >= _mv_acc(Lt, yt, 2) + 0.02
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), d.class_balance, atol=balance_tol)
    # The fitted tables are the population's P(vote | y), not those of the covered rows.
    assert lm.fitted_choices["abstain_model"] == "class_conditional"


def test_uncovered_rows_are_imputed_not_counted():
    # The EM's last C rows are all-abstain rows held at each class; their counts are the
    # expected number of uncovered rows of that class, N_cov(y) s(y) / (1 - s(y)).
    d = synthetic_family("bin_95_5_unipolar_sparse", n=30_000, seed=4)
    st = LabelStats.from_matrix(d.L, 2)
    s = FitSettings(cardinality=2)
    em, lt, tables, pi = _covered_fit(st.rows, st.counts, None, [], s, 0.55, None, None)
    k = len(em.n) - 2
    assert (em.rows[k:] == -1).all() and (em.rows[:k] >= 0).any(1).all()
    silent = np.exp(lt[:, :, 0].sum(0))  # P(no LF votes | y), singletons only here
    q = np.exp(em.logits(np.log(pi), lt, tables))
    q = q / q.sum(1, keepdims=True)
    n_cov = (q[:k] * em.n[:k, None]).sum(0)
    np.testing.assert_allclose(em.n[k:], n_cov * silent / (1 - silent), rtol=0.02)
    # The observed number of uncovered rows never enters: doubling it changes nothing.
    uncovered = ~(d.L >= 0).any(1)
    L2 = np.vstack([d.L, d.L[uncovered]])
    st2 = LabelStats.from_matrix(L2, 2)
    _, lt2, _, pi2 = _covered_fit(st2.rows, st2.counts, None, [], s, 0.55, None, None)
    np.testing.assert_allclose(pi2, pi, atol=1e-6)
    np.testing.assert_allclose(lt2, lt, atol=1e-6)
    # No covered row at all: nothing to fit.
    assert _covered_fit(np.full((1, 3), -1), np.array([5]), None, [], s, 0.55, None, None) is None


def test_spouse_beats_majority_vote_and_snorkel_without_gold(data_dir):
    # The Snorkel spouse test split (9 unipolar LFs, 8% positive, 72% of rows without a
    # vote), transductive as in the harness. Measured: accuracy 0.873, covered-row F1 0.50;
    # majority vote 0.532 / 0.503, Snorkel 0.10 0.532 / 0.493; the previous balance rule
    # (the covered rows' mean posterior, 0.37 / 0.63) 0.184.
    path = require_data("spouse/test_spouse_snorkel.csv")
    df = pd.read_csv(path)
    L = df[[f"LF{i}" for i in range(1, 10)]].to_numpy().astype(np.int32)
    y = df["label"].to_numpy().astype(np.int32)
    lm = LabelModel(2).fit(L)
    pred = lm.predict(L)
    covered = (L >= 0).any(1)
    assert float(np.mean(pred == y)) >= 0.86 > _mv_acc(L, y, 2) + 0.3
    assert f1_score(y[covered], pred[covered]) >= 0.49
    # Rows without a vote go to the negative class.
    assert (pred[~covered] == 0).all()
