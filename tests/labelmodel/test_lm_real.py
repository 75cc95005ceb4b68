"""Real WRENCH sets: fit on train (no gold labels), score on test, against majority vote.

Majority vote (MV) is scored over 50 random tie draws (its mean) and at seed 0. Numbers
measured here are in the comments; the asserts leave about one test row of slack. The default
``abstain_model="auto"`` is class-conditional on the binary sets (youtube, sms), with an LF's
abstain counted half where another LF of its class votes (``co_abstain_weight=0.5``), and
one-coin on trec (6 classes); the one-coin model's numbers on youtube are kept as the reference.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from sklearn.metrics import f1_score

import tfsnorkel as ts
from tfsnorkel.labelmodel import LabelModel, majority_vote

HAM_LFS = [4, 6]  # keyword_song, short_comment: the HAM-voting LFs among spam_lfs()


def _mv(L, y, cardinality):
    accs, f1s = [], []
    covered = (L >= 0).any(1)
    for seed in range(50):
        pred = majority_vote(L, cardinality, tie_break="random", seed=seed)
        accs.append((pred == y).mean())
        if cardinality == 2:
            f1s.append(f1_score(y[covered], pred[covered]))
    return float(np.mean(accs)), float(np.mean(f1s)) if f1s else None


def _score(lm, L, y, cardinality):
    pred = lm.predict(L)
    covered = (L >= 0).any(1)
    acc = float((pred == y).mean())
    f1 = f1_score(y[covered], pred[covered]) if cardinality == 2 else None
    return acc, f1


@pytest.fixture(scope="module")
def youtube_lm(youtube):
    return LabelModel(youtube.cardinality).fit(youtube.train.L)


def test_youtube_beats_majority_vote_with_calibrated_soft_labels(youtube, youtube_lm):
    lm = youtube_lm
    test = youtube.test
    acc, f1 = _score(lm, test.L, test.y, 2)
    mv_acc, mv_f1 = _mv(test.L, test.y, 2)
    # Measured: LM acc 0.852, spam F1 on covered rows 0.866 (0.860 / 0.877 before the
    # class-conditional fit moved to the covered rows' votes); MV 0.813 / 0.797; Snorkel 0.10:
    # 0.840. (valid: LM 0.850 / 0.897, MV 0.820 / 0.822.) Every abstain counted fully
    # (co_abstain_weight=1, the previous default): 0.832 / 0.837. The one-coin model scores
    # higher here (0.884 / 0.899, next test) but its soft labels are not calibrated.
    assert acc >= max(mv_acc, 0.85) and f1 >= max(mv_f1, 0.86)
    assert lm.dependencies_ == []
    # Calibrated: mean train P(spam) 0.506 against the true 0.524 (one-coin: 0.729).
    P = lm.predict_proba(youtube.train.L)
    truth = youtube.train.y.mean()
    assert abs(P[:, 1].mean() - truth) < 0.05
    # The HAM LFs' accuracies: 0.69 and 0.83 (one-coin: 0.55 and 0.55, the floor).
    acc_ham = lm.lf_table()["accuracy"].to_numpy()[HAM_LFS]
    assert (acc_ham >= 0.65).all()


def test_youtube_one_coin_option_keeps_its_accuracy_but_not_its_calibration(youtube):
    lm = LabelModel(2, abstain_model="independent").fit(youtube.train.L)
    acc, f1 = _score(lm, youtube.test.L, youtube.test.y, 2)
    # Measured: 0.884 / 0.899 on test, mean train P(spam) 0.729 (truth 0.524), HAM LFs at the
    # 0.55 floor: a unipolar LF is only seen agreeing with its class or conflicting.
    assert acc >= 0.88 and f1 >= 0.895
    assert lm.predict_proba(youtube.train.L)[:, 1].mean() > 0.7
    np.testing.assert_allclose(lm.lf_table()["accuracy"].to_numpy()[HAM_LFS], 0.55, atol=1e-6)


def test_youtube_rule_lfs_soft_labels_train_a_classifier_above_the_label_model(youtube):
    # The 7 rule LFs of spam_lfs() (shipped columns 0-6), as the tutorial and end-to-end use.
    L_train, L_test = youtube.train.L[:, :7], youtube.test.L[:, :7]
    lm = LabelModel(2).fit(L_train)
    P = lm.predict_proba(L_train)
    # Measured: mean train P(spam) 0.582 (truth 0.524; one-coin: 0.805; every abstain counted
    # fully: 0.526), Brier score on covered rows 0.098 (every abstain counted: 0.123; majority
    # vote: 0.075); the excess is on rows without a vote (P(spam) 0.44, truth 0.15), which
    # soft_label_dataset drops. Rows where only HAM LFs vote: P(spam) 0.10, truth 0.042 spam
    # (one-coin: 0.444). HAM LFs' accuracies 0.63 and 0.79 (one-coin: 0.55, the floor).
    assert abs(P[:, 1].mean() - youtube.train.y.mean()) < 0.065
    covered = (L_train >= 0).any(1)
    # (Fitted to the covered rows' votes: mean P(spam) 0.544, covered Brier 0.103.)
    assert float(((P[covered, 1] - youtube.train.y[covered]) ** 2).mean()) < 0.105
    only_ham = (L_train == 0).any(1) & ~(L_train == 1).any(1)
    assert P[only_ham, 1].mean() < 0.15
    assert (lm.lf_table()["accuracy"].to_numpy()[HAM_LFS] >= 0.6).all()
    lm_acc, _ = _score(lm, L_test, youtube.test.y, 2)
    mv_acc, _ = _mv(L_test, youtube.test.y, 2)
    # Measured: LM 0.868 against MV 0.859 (mean over tie draws); every abstain counted: 0.848.
    assert lm_acc >= mv_acc
    clf = ts.fit_text_classifier(youtube.train.frame["text"], P, L_train,
                                 dev_texts=youtube.valid.frame["text"], dev_y=youtube.valid.y,
                                 max_tokens=None)
    probs = ts.predict_proba(clf, youtube.test.frame["text"])
    clf_acc = float((probs.argmax(1) == youtube.test.y).mean())
    # Measured: classifier on these soft labels 0.884 (seeds 0-4: mean 0.878; every abstain
    # counted fully: 0.864, mean 0.884); on the one-coin model's 0.652, on majority vote's
    # 0.928 (benchmarks/RESULTS_label_model.md).
    assert clf_acc >= lm_acc


def test_sms_beats_majority_vote_on_accuracy(sms):
    lm = LabelModel(sms.cardinality).fit(sms.train.L)
    acc, f1 = _score(lm, sms.test.L, sms.test.y, 2)
    mv_acc, mv_f1 = _mv(sms.test.L, sms.test.y, 2)
    # Measured: LM acc 0.842; MV 0.623 (README: 0.632). Class balance estimated 0.763 / 0.237
    # (truth 0.866 / 0.134) by the fit to the covered rows' votes, the uncovered rows imputed
    # (the mean posterior of the covered rows under a uniform reference, used before: 0.816 /
    # 0.184; the full likelihood: 0.37 / 0.63).
    assert acc >= 0.84 and acc >= max(mv_acc, 0.632)
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), [0.763, 0.237], atol=0.02)
    # Spam F1 on covered rows, test: LM 0.140 against MV 0.159 (mean over tie draws): NOT at
    # MV's level. The shipped valid/test weak labels are not the LFs' votes on those texts
    # (next test): LF votes 0.79 accurate on test, 0.97 on train; rows where a spam LF fires:
    # 96% spam on train, 4% on valid, 21% on test.
    # On the splits where the LFs are what they were fitted on, the model matches MV:
    # train 0.900 vs 0.903, valid 0.043 vs 0.043.
    assert f1 >= 0.135
    for split in (sms.train, sms.valid):
        _, f1_split = _score(lm, split.L, split.y, 2)
        _, mv_f1_split = _mv(split.L, split.y, 2)
        assert f1_split >= mv_f1_split - 0.005
    assert mv_f1 < 0.17


def _sms_rule_votes(data_dir, texts) -> np.ndarray:
    """The 73 sms LFs of the readme (label, regex) applied to ``texts``."""
    lines = (data_dir / "wrench" / "sms" / "readme.txt").read_text().splitlines()
    rules = [line.split("\t")[:2] for line in lines if line.startswith(("ham\t", "spam\t"))]
    compiled = [(int(label == "spam"), re.compile(rx)) for label, rx in rules]
    return np.array(
        [[label if rx.search(t) else -1 for label, rx in compiled] for t in texts], np.int32
    )


def test_sms_test_gap_is_two_tie_rows_of_weak_labels_shuffled_against_their_texts(data_dir, sms):
    lm = LabelModel(2).fit(sms.train.L)
    # Train's weak labels are exactly the readme's 73 regexes applied to its texts; valid's and
    # test's are not (41% / 42% of rows equal; 12% / 14% of covered rows) although, as a
    # multiset, 453 / 461 of their 500 rows are the regexes' rows: the vote rows are shuffled
    # against the texts and gold labels.
    for split, equal in ((sms.train, 1.0), (sms.valid, 0.410), (sms.test, 0.418)):
        R = _sms_rule_votes(data_dir, split.frame["text"])
        assert abs((R == split.L).all(1).mean() - equal) < 0.005
        shared = sum(
            (Counter(map(tuple, R.tolist())) & Counter(map(tuple, split.L.tolist()))).values()
        )
        assert shared >= 0.9 * len(R)
    # On the shipped test rows the model and MV differ only where MV tosses a coin: the two
    # rows with one spam and one ham vote (rows 106, 315). Calling row 315 spam alone would
    # give 0.178 > MV's 0.159. With every train row's gold label anchored in the fit (and the
    # gold balance 0.865 / 0.135), the covered test predictions are the same: not an estimation
    # failure.
    test = sms.test
    covered = (test.L >= 0).any(1)
    pred = lm.predict(test.L)
    mv_abstain = majority_vote(test.L, 2, tie_break="abstain")
    assert np.flatnonzero(covered & (mv_abstain != pred)).tolist() == [106, 315]
    assert np.flatnonzero(covered & (mv_abstain == -1)).tolist() == [106, 315]
    sup = LabelModel(2).fit(sms.train.L, L_dev=sms.train.L, y_dev=sms.train.y)
    assert np.flatnonzero(covered & (sup.predict(test.L) != pred)).tolist() == []
    # The only clean evidence on these two vote rows points the other way. Each occurs exactly
    # once in train (where votes and texts agree) with the opposite gold label: row 106's
    # (LF 1 spam, LF 20 ham) is spam there and ham in test, row 315's (LF 1 spam, LF 11 ham)
    # is ham there and spam in test. Any rule that follows train on both scores 0.136 here;
    # reaching MV's 0.159 takes calling 315 spam against its train twin.
    for row in (106, 315):
        same = (sms.train.L == test.L[row]).all(1)
        assert same.sum() == 1 and sms.train.y[same][0] == 1 - test.y[row]
    # The model follows train on both (106 spam, 315 ham): covered F1 0.136. With a
    # deterministic tie policy (ties go to ham, or are left out of the score), majority vote
    # scores 0.140 / 0.143.
    assert pred[106] == 1 and pred[315] == 0
    assert f1_score(test.y[covered], pred[covered]) == pytest.approx(0.136, abs=5e-4)
    mv_ham = np.where(mv_abstain < 0, 0, mv_abstain)
    assert f1_score(test.y[covered], mv_ham[covered]) == pytest.approx(0.140, abs=5e-4)
    # Rows whose only votes are the ham LF 11 (the word "i") and one spam LF are 3 of 6 spam on
    # train: a coin toss, which the model calls ham (P(spam) < 0.2).
    L, y = sms.train.L, sms.train.y
    pair = (L[:, 11] == 0) & ((L >= 0).sum(1) == 2) & ((L == 1).sum(1) == 1)
    assert pair.sum() == 6 and y[pair].sum() == 3
    assert (lm.predict_proba(L[pair])[:, 1] < 0.2).all()
    # With the LFs' votes recomputed on the test texts: acc 0.896 (MV 0.674), covered spam F1
    # 0.780 (MV 0.808); valid 0.918 / 0.852 (MV 0.680 / 0.845). The test gap is again its two
    # tie rows (168, 315), both LF 11 against one spam LF, both spam: the messages of train
    # rows 3293 and 2481 / 3587 (spam there too, called ham there too).
    for split, f1_gap in ((sms.valid, 0.0), (sms.test, 0.03)):
        R = _sms_rule_votes(data_dir, split.frame["text"])
        acc, f1 = _score(lm, R, split.y, 2)
        mv_acc, mv_f1 = _mv(R, split.y, 2)
        assert acc >= mv_acc + 0.2 and f1 >= mv_f1 - f1_gap


def test_trec_counts_its_copied_lfs_once_and_reaches_majority_vote(trec):
    """trec has exact copies among its 68 LFs (columns 8 = 39 = 63 and 27 = 62, identical on
    every train row). Counted as independent evidence they distorted the fit without gold
    (0.466 against majority vote's 0.61: class DESC took 69% of the rows); counted once, the
    no-gold default reaches majority vote (measured 0.610 against 0.609 over 50 tie draws).
    ``"auto"`` keeps the form with the lower BIC on the covered rows' votes (the
    class-conditional detectors); with the dev split the choice is made on gold.
    """
    lm = LabelModel(trec.cardinality).fit(trec.train.L)
    assert [8, 39, 63] in lm.dependencies_ and [27, 62] in lm.dependencies_
    table = lm.selection_
    assert list(table["abstain_model"]) == ["class_conditional", "independent"]
    assert table.loc[table["chosen"], "bic"].iloc[0] == table["bic"].min()
    assert lm.fitted_choices["abstain_model"] == "class_conditional"
    acc, _ = _score(lm, trec.test.L, trec.test.y, 6)
    mv_acc, _ = _mv(trec.test.L, trec.test.y, 6)
    assert acc >= mv_acc  # measured 0.610, MV 0.609 over tie draws
    # The same fit as on the columns without the copies, row for row.
    keep = [j for j in range(trec.train.L.shape[1]) if j not in (39, 63, 62)]
    plain = LabelModel(6).fit(trec.train.L[:, keep])
    np.testing.assert_allclose(
        lm.predict_proba(trec.test.L), plain.predict_proba(trec.test.L[:, keep]), atol=1e-5
    )
    dev = LabelModel(6).fit(trec.train.L, trec.valid.L, trec.valid.y)
    assert _score(dev, trec.test.L, trec.test.y, 6)[0] >= max(mv_acc, 0.64)  # measured 0.644


def test_gold_dev_set_sets_the_class_balance(sms):
    lm = LabelModel(sms.cardinality).fit(sms.train.L, L_dev=sms.valid.L, y_dev=sms.valid.y)
    expected = (np.bincount(sms.valid.y, minlength=2) + 1) / (len(sms.valid.y) + 2)
    np.testing.assert_allclose(lm.class_balance_.to_numpy(), expected, atol=1e-6)
    acc, _ = _score(lm, sms.test.L, sms.test.y, 2)
    # Measured: 0.852.
    assert acc >= 0.84
