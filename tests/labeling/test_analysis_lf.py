"""LF analysis: Snorkel 0.10 LFAnalysis definitions, checked against numbers Snorkel computed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tfsnorkel.labeling import (  # noqa: E402
    LFSet,
    get_label_buckets,
    keyword_lf,
    label_conflict,
    label_coverage,
    label_overlap,
    lf_summary,
    plot_lf_summary,
)

TOY = np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]])
YOUTUBE_NAMES = ["keyword_my", "keyword_subscribe", "keyword_link", "keyword_please",
                 "keyword_song", "regex_check_out", "short_comment", "has_person_nlp",
                 "textblob_polarity", "textblob_subjectivity"]

# Reference numbers computed with Snorkel 0.10.0 (/work/venv-bench):
#   LFAnalysis(youtube.valid.L, lfs).lf_summary(youtube.valid.y) and label_coverage/overlap/
#   conflict(); snorkel cannot be imported by the test environment, hence hard-coded.
SNORKEL_VALID = {
    "j": list(range(10)),
    "Polarity": [[1], [1], [1], [1], [0], [1], [0], [0], [0], [0]],
    "Coverage": [0.14166666666666666, 0.08333333333333333, 0.016666666666666666, 0.075, 0.275,
                 0.21666666666666667, 0.31666666666666665, 0.041666666666666664, 0.1,
                 0.4666666666666667],
    "Overlaps": [0.14166666666666666, 0.06666666666666667, 0.008333333333333333, 0.075,
                 0.25833333333333336, 0.15833333333333333, 0.20833333333333334,
                 0.041666666666666664, 0.09166666666666666, 0.36666666666666664],
    "Conflicts": [0.08333333333333333, 0.05, 0.008333333333333333, 0.041666666666666664,
                  0.08333333333333333, 0.10833333333333334, 0.008333333333333333, 0.025, 0.0,
                  0.125],
    "Correct": [16, 10, 2, 9, 24, 26, 35, 2, 11, 38],
    "Incorrect": [1, 0, 0, 0, 9, 0, 3, 3, 1, 18],
    "Emp. Acc.": [0.9411764705882353, 1.0, 1.0, 1.0, 0.7272727272727273, 1.0,
                  0.9210526315789473, 0.4, 0.9166666666666667, 0.6785714285714286],
}
SNORKEL_VALID_RATES = (0.875, 0.5583333333333333, 0.19166666666666668)
# Snorkel with the first 5 gold labels set to -1 (unknown): Correct drops, Incorrect does not
# count them, Emp. Acc. counts them as wrong (Snorkel's formula).
SNORKEL_VALID_Y5 = {
    "Correct": [16, 10, 1, 9, 24, 24, 34, 1, 11, 38],
    "Incorrect": [1, 0, 0, 0, 9, 0, 3, 3, 1, 18],
    "Emp. Acc.": [0.9411764705882353, 1.0, 0.5, 1.0, 0.7272727272727273, 0.9230769230769231,
                  0.8947368421052632, 0.2, 0.9166666666666667, 0.6785714285714286],
}


def test_matrix_rates_match_snorkel_docstring_examples():
    assert label_coverage(TOY) == pytest.approx(0.8)
    assert label_overlap(TOY) == pytest.approx(0.6)
    assert label_conflict(TOY) == pytest.approx(0.2)
    s = lf_summary(TOY)
    assert list(s.columns) == ["Polarity", "Coverage", "Overlaps", "Conflicts"]
    assert list(s.index) == [0, 1, 2]
    assert s["Polarity"].tolist() == [[0, 1], [0], [0]]
    np.testing.assert_allclose(s["Coverage"], [0.4, 0.8, 0.4])
    np.testing.assert_allclose(s["Overlaps"], [0.4, 0.6, 0.4])
    np.testing.assert_allclose(s["Conflicts"], [0.2, 0.2, 0.0])


def test_lf_summary_equals_snorkel_on_youtube_valid(youtube):
    L, y = youtube.valid.L, youtube.valid.y
    s = lf_summary(L, YOUTUBE_NAMES, y=y)
    assert list(s.columns) == list(SNORKEL_VALID)
    assert list(s.index) == YOUTUBE_NAMES
    for col, ref in SNORKEL_VALID.items():
        if col in ("Coverage", "Overlaps", "Conflicts", "Emp. Acc."):
            np.testing.assert_allclose(s[col].to_numpy(), ref, rtol=0, atol=1e-15)
        else:
            assert s[col].tolist() == ref, col
    rates = (label_coverage(L), label_overlap(L), label_conflict(L))
    np.testing.assert_allclose(rates, SNORKEL_VALID_RATES, rtol=0, atol=1e-15)
    y5 = y.copy()
    y5[:5] = -1
    s5 = lf_summary(L, y=y5)
    for col, ref in SNORKEL_VALID_Y5.items():
        np.testing.assert_allclose(s5[col].to_numpy(), ref, rtol=0, atol=1e-15)


def test_lf_summary_accepts_lfset_and_lfs_and_checks_input():
    lfs = LFSet([keyword_lf("a", 1), keyword_lf("b", 0)])
    L = np.array([[1, -1], [-1, -1], [1, 0]])
    by_set = lf_summary(L, lfs, y=np.array([1, 0, 0]))
    assert list(by_set.index) == ["keyword_a", "keyword_b"]
    assert by_set["Correct"].tolist() == [1, 1] and by_set["Incorrect"].tolist() == [1, 0]
    np.testing.assert_allclose(by_set["Emp. Acc."], [0.5, 1.0])
    assert list(lf_summary(L, list(lfs)).index) == ["keyword_a", "keyword_b"]
    zero = lf_summary(np.array([[-1], [-1]]), ["z"], y=[0, 1])
    assert zero["Emp. Acc."].tolist() == [0.0] and zero["Polarity"].tolist() == [[]]
    with pytest.raises(ValueError, match="got 1 LF names for a label matrix with 2 columns"):
        lf_summary(L, ["only"])
    with pytest.raises(ValueError, match=r"one gold label per row \(3\)"):
        lf_summary(L, y=[1, 0])
    with pytest.raises(ValueError, match="LF b \\(column 1\\) voted -2 at row 0"):
        lf_summary(np.array([[0, -2]]), ["a", "b"])


def test_lf_summary_on_lfset_output(youtube):
    from tfsnorkel.labeling import spam_lfs

    lfs = LFSet(spam_lfs())
    L = lfs.apply(youtube.valid.frame)
    s = lf_summary(L, lfs, y=youtube.valid.y)
    for col in ("Coverage", "Overlaps", "Correct", "Incorrect"):
        # the 7 compiled LFs reproduce the shipped columns, so their own coverage matches;
        # overlaps/conflicts differ because 3 LFs are absent
        if col in ("Coverage", "Correct", "Incorrect"):
            np.testing.assert_allclose(s[col].to_numpy(), SNORKEL_VALID[col][:7])
    assert s.loc["keyword_song", "Polarity"] == [0]


def test_get_label_buckets_like_snorkel():
    y_gold = np.array([1, 1, 1, 0])
    y_pred = np.array([1, 1, -1, -1])
    b = get_label_buckets(y_gold, y_pred)
    assert list(b) == [(1, 1), (1, -1), (0, -1)]
    assert b[(1, 1)].tolist() == [0, 1]
    assert b[(1, -1)].tolist() == [2] and b[(0, -1)].tolist() == [3]
    assert (1, 0) not in b
    three = get_label_buckets([0, 1, 0, 1], [0, 0, 0, 1], np.array([[-1], [1], [-1], [1]]))
    assert {k: v.tolist() for k, v in three.items()} == {
        (0, 0, -1): [0, 2], (1, 0, 1): [1], (1, 1, 1): [3]}
    with pytest.raises(ValueError, match="same length"):
        get_label_buckets([0, 1], [0])
    with pytest.raises(ValueError, match="at least one"):
        get_label_buckets()


def test_plot_lf_summary_draws_coverage_and_accuracy(youtube):
    ax = plot_lf_summary(youtube.valid.L, YOUTUBE_NAMES, y=youtube.valid.y)
    bars = [p.get_width() for p in ax.patches]
    np.testing.assert_allclose(bars[:10], SNORKEL_VALID["Coverage"])
    np.testing.assert_allclose(bars[10:], SNORKEL_VALID["Emp. Acc."])
    assert [t.get_text() for t in ax.get_yticklabels()] == YOUTUBE_NAMES
    ax2 = plot_lf_summary(TOY)
    assert len(ax2.patches) == 3
    assert isinstance(lf_summary(TOY), pd.DataFrame)
