"""tfsnorkel.metrics: scores match scikit-learn, abstain and tie policies, per-LF report."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from tfsnorkel.labels import ABSTAIN
from tfsnorkel.metrics import METRICS, confusion_matrix, evaluate, lf_report, metric_score

Y = np.array([0, 1, 1, 0, 1, 0, 1, 1])
PRED = np.array([0, 1, 0, 0, ABSTAIN, 1, 1, ABSTAIN])


def test_exclude_scores_only_covered_rows_and_reports_coverage():
    r = evaluate(Y, PRED, metrics=["accuracy", "precision", "recall", "f1"])
    keep = PRED != ABSTAIN
    assert r["coverage"] == pytest.approx(0.75)
    assert r["n_scored"] == 6
    assert r["accuracy"] == pytest.approx(4 / 6)
    assert r["precision"] == pytest.approx(skm.precision_score(Y[keep], PRED[keep]))
    assert r["recall"] == pytest.approx(skm.recall_score(Y[keep], PRED[keep]))
    assert r["f1"] == pytest.approx(skm.f1_score(Y[keep], PRED[keep]))


def test_incorrect_counts_abstains_as_wrong():
    r = evaluate(Y, PRED, metrics=["accuracy", "precision", "recall", "f1"], abstain="incorrect")
    assert r["n_scored"] == 8
    assert r["accuracy"] == pytest.approx(4 / 8)
    # positives: 5 gold; TP = 2 (rows 1, 6); predicted positive = 3 (rows 1, 5, 6)
    assert r["precision"] == pytest.approx(2 / 3)
    assert r["recall"] == pytest.approx(2 / 5)
    assert r["f1"] == pytest.approx(2 * (2 / 3) * (2 / 5) / (2 / 3 + 2 / 5))


def test_random_policy_fills_abstains_with_a_seeded_class():
    a = metric_score(Y, PRED, "accuracy", abstain="random", seed=3)
    b = metric_score(Y, PRED, "accuracy", abstain="random", seed=3)
    assert a == b
    assert a in (4 / 8, 5 / 8, 6 / 8)


def test_probabilities_ties_and_roc_auc():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.6, 0.4]])
    y = np.array([0, 1, 1, 1])
    r = evaluate(y, probs, tie_break="abstain")
    assert r["coverage"] == pytest.approx(0.75)
    assert r["accuracy"] == pytest.approx(2 / 3)
    assert r["roc_auc"] == pytest.approx(skm.roc_auc_score(y[[0, 1, 3]], probs[[0, 1, 3], 1]))
    r_all = evaluate(y, probs, tie_break="abstain", abstain="incorrect")
    assert r_all["roc_auc"] == pytest.approx(skm.roc_auc_score(y, probs[:, 1]))
    assert r_all["accuracy"] == pytest.approx(0.5)


def test_multiclass_macro_micro_and_auc_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    probs = rng.dirichlet(np.ones(4), 200)
    probs[np.arange(200), y] += 0.3
    probs /= probs.sum(1, keepdims=True)
    pred = probs.argmax(1)
    r = evaluate(y, probs, metrics=[m for m in METRICS if m not in ("f1", "precision", "recall")])
    assert r["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert r["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    assert r["f1_micro"] == pytest.approx(skm.f1_score(y, pred, average="micro"))
    assert r["precision_macro"] == pytest.approx(skm.precision_score(y, pred, average="macro"))
    assert r["recall_macro"] == pytest.approx(skm.recall_score(y, pred, average="macro"))
    assert r["roc_auc"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr"))
    assert set(evaluate(y, probs)) == {"accuracy", "f1_macro", "f1_micro", "roc_auc", "coverage",
                                        "n_scored"}


def test_confusion_matrix_policies():
    assert confusion_matrix(Y, PRED).tolist() == [[2, 1], [1, 2]]
    assert confusion_matrix(Y, PRED, abstain="incorrect").tolist() == [[2, 1, 0], [1, 2, 2]]
    assert confusion_matrix(Y, PRED, abstain="random").sum() == 8


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match=r"differ in length.*len\(y_pred\)=2"):
        evaluate([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match=r"unknown metric.*'f2'"):
        metric_score([0, 1], [0, 1], "f2")
    with pytest.raises(ValueError, match=r"f1_macro.*Received: metric='f1'"):
        metric_score([0, 1, 2], [0, 1, 2], "f1")
    with pytest.raises(ValueError, match=r"no abstains in gold.*y_true\[1\]=-1"):
        evaluate([0, -1], [0, 1])
    with pytest.raises(ValueError, match=r"abstain='ignore'"):
        evaluate([0, 1], [0, 1], abstain="ignore")
    with pytest.raises(ValueError, match=r"no row to score.*coverage=0.0"):
        evaluate([0, 1], [-1, -1], metrics=["accuracy"])
    with pytest.raises(ValueError, match="roc_auc needs probabilities"):
        metric_score([0, 1], [0, 1], "roc_auc")
    with pytest.raises(ValueError, match=r"y_pred\[0\]=5"):
        evaluate([0, 1], [5, 1], cardinality=2)


def test_lf_report_per_lf_numbers():
    y = np.array([1, 1, 0, 0, 1, 0])
    L = np.array(
        [
            [1, -1, 0],
            [1, 1, -1],
            [1, -1, -1],
            [-1, 0, -1],
            [-1, 1, -1],
            [-1, 0, -1],
        ]
    )
    rep = lf_report(L, y, names=["kw", "mixed", "never_right"])
    assert list(rep.index) == ["kw", "mixed", "never_right"]
    kw = rep.loc["kw"]
    assert kw["polarity"] == [1] and kw["n_votes"] == 3 and kw["correct"] == 2
    assert kw["coverage"] == pytest.approx(0.5)
    assert kw["accuracy"] == pytest.approx(2 / 3)
    assert kw["precision"] == pytest.approx(2 / 3) and kw["recall"] == pytest.approx(2 / 3)
    mixed = rep.loc["mixed"]
    assert mixed["polarity"] == [0, 1] and mixed["accuracy"] == pytest.approx(1.0)
    assert mixed["recall"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    nr = rep.loc["never_right"]
    assert nr["accuracy"] == 0.0 and nr["f1"] == 0.0
    with pytest.raises(ValueError, match=r"6 rows but y has 5"):
        lf_report(L, y[:5])


def test_lf_report_on_youtube_dev(youtube):
    rep = lf_report(youtube.valid.L, youtube.valid.y)
    assert len(rep) == youtube.n_lfs
    on = youtube.valid.L != ABSTAIN
    np.testing.assert_allclose(rep["coverage"].to_numpy(), on.mean(axis=0))
    for j in range(youtube.n_lfs):
        v = youtube.valid.L[on[:, j], j]
        if len(v):
            assert rep["accuracy"].iloc[j] == pytest.approx(np.mean(v == youtube.valid.y[on[:, j]]))


def test_expected_calibration_error_matches_a_direct_loop():
    from tfsnorkel.metrics import expected_calibration_error

    rng = np.random.default_rng(0)
    P = rng.dirichlet([0.5, 0.5, 0.5], size=2000)
    y = rng.integers(0, 3, size=2000)
    conf, pred = P.max(1), P.argmax(1)
    total = 0.0
    for i in range(15):
        lo, hi = i / 15, (i + 1) / 15
        sel = (conf > lo) & (conf <= hi)
        if sel.any():
            total += sel.mean() * abs((pred[sel] == y[sel]).mean() - conf[sel].mean())
    assert expected_calibration_error(y, P) == pytest.approx(total, abs=1e-12)
    assert expected_calibration_error(y, P, n_bins=1) == pytest.approx(
        abs((pred == y).mean() - conf.mean()), abs=1e-12)


def test_expected_calibration_error_is_zero_when_calibrated_and_large_when_not():
    from tfsnorkel.metrics import expected_calibration_error

    # 70% confidence, 7 of 10 right: calibrated; the same rows at 100% confidence: 0.3
    y = np.array([1] * 7 + [0] * 3)
    assert expected_calibration_error(y, [[0.3, 0.7]] * 10) == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error(y, [[0.0, 1.0]] * 10) == pytest.approx(0.3)
    # a confidence of exactly 0.5 sits in the bin (7/15, 8/15]; ties predict class 0
    assert expected_calibration_error([0, 1], [[0.5, 0.5]] * 2) == pytest.approx(0.0)
    assert expected_calibration_error([1, 1], [[0.5, 0.5]] * 2) == pytest.approx(0.5)


def test_expected_calibration_error_rejects_bad_input():
    from tfsnorkel.metrics import expected_calibration_error

    with pytest.raises(ValueError, match=r"Received: probs\[1\]=\[0.5, 0.6\]"):
        expected_calibration_error([0, 1], [[0.5, 0.5], [0.5, 0.6]])
    with pytest.raises(ValueError, match=r"Received: probs.shape=\(1, 2\), len\(y_true\)=2"):
        expected_calibration_error([0, 1], [[0.5, 0.5]])
    with pytest.raises(ValueError, match=r"y_true\[0\]=2"):
        expected_calibration_error([2], [[0.5, 0.5]])
    with pytest.raises(ValueError, match="n_bins=0"):
        expected_calibration_error([0], [[0.5, 0.5]], n_bins=0)
