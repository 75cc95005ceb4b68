"""Real WRENCH sets: fit on train (no gold labels), score on test, against majority vote.

Majority vote (MV) is scored over 50 random tie draws (its mean) and at seed 0. Numbers
measured here are in the comments; the asserts leave about one test row of slack.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score

from tfsnorkel.labelmodel import LabelModel, majority_vote


def _mv(split, cardinality):
    accs, f1s = [], []
    covered = (split.L >= 0).any(1)
    for seed in range(50):
        pred = majority_vote(split.L, cardinality, tie_break="random", seed=seed)
        accs.append((pred == split.y).mean())
        if cardinality == 2:
            f1s.append(f1_score(split.y[covered], pred[covered]))
    return float(np.mean(accs)), float(np.mean(f1s)) if f1s else None


def _score(lm, split, cardinality):
    pred = lm.predict(split.L)
    covered = (split.L >= 0).any(1)
    acc = float((pred == split.y).mean())
    f1 = f1_score(split.y[covered], pred[covered]) if cardinality == 2 else None
    return acc, f1


def test_youtube_beats_majority_vote(youtube):
    lm = LabelModel(youtube.cardinality).fit(youtube.train.L)
    acc, f1 = _score(lm, youtube.test, 2)
    mv_acc, mv_f1 = _mv(youtube.test, 2)
    # Measured: LM acc 0.884, spam F1 on covered rows 0.899;
    # MV 0.814 / 0.797 (seed 0: 0.812 / 0.773).
    assert acc >= 0.88 and f1 >= 0.895
    assert acc >= max(mv_acc, 0.840) and f1 >= mv_f1
    assert lm.dependencies_ == []


def test_sms_beats_majority_vote_on_accuracy(sms):
    lm = LabelModel(sms.cardinality).fit(sms.train.L)
    acc, f1 = _score(lm, sms.test, 2)
    mv_acc, _ = _mv(sms.test, 2)
    # Measured: LM acc 0.842 (rows without a vote go to the estimated majority class, ham:
    # class balance estimated 0.86 / 0.14, truth 0.866 / 0.134); MV 0.623 (README: 0.632).
    assert acc >= 0.84 and acc >= max(mv_acc, 0.632)
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), [0.866, 0.134], atol=0.03)
    # Spam F1 on covered rows: LM 0.136 against MV 0.160 (mean over tie draws; 0.178 at seed 0).
    # NOT at MV's level: test rows where a spam LF fires are only 18% spam (train: 98%), and
    # the difference is one row where MV's coin flip lands on spam while the model trusts a
    # ham LF measured at 0.98 accuracy over a spam LF with 9 votes. On train the model's
    # covered-row spam F1 is 0.904 against MV's 0.902, on valid 0.043 against 0.043.
    assert f1 >= 0.13


def test_trec_beats_majority_vote(trec):
    lm = LabelModel(trec.cardinality).fit(trec.train.L)
    acc, _ = _score(lm, trec.test, 6)
    mv_acc, _ = _mv(trec.test, 6)
    # Measured: LM 0.640; MV 0.611 over tie draws (README: 0.608); Snorkel 0.10: 0.470.
    assert acc >= 0.635 and acc >= max(mv_acc, 0.608)


def test_gold_dev_set_sets_the_class_balance(sms):
    lm = LabelModel(sms.cardinality).fit(sms.train.L, L_dev=sms.valid.L, y_dev=sms.valid.y)
    expected = (np.bincount(sms.valid.y, minlength=2) + 1) / (len(sms.valid.y) + 2)
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), expected, atol=1e-6)
    acc, _ = _score(lm, sms.test, 2)
    # Measured: 0.842.
    assert acc >= 0.84
