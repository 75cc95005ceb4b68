import doctest

import numpy as np
import pandas as pd
import pytest

from tfsnorkel.labeling import iterate
from tfsnorkel.labeling.iterate import (
    conflict_examples,
    lf_ablation,
    lf_addition,
    uncertain_examples,
    uncovered_examples,
)
from tfsnorkel.labels import probs_to_preds


def test_all_is_sorted_and_public():
    assert iterate.__all__ == sorted(iterate.__all__)
    assert all(callable(getattr(iterate, name)) for name in iterate.__all__)


def test_docstring_examples_run():
    result = doctest.testmod(iterate)
    assert result.failed == 0 and result.attempted >= 15


# ------------------------------------------------------------------ uncovered

L_UNC = np.array([[0, -1], [-1, -1], [1, 1], [-1, -1], [-1, 0], [-1, -1], [-1, -1], [-1, -1]])
UNCOVERED = [1, 3, 5, 6, 7]


def test_uncovered_all_rows_in_order_with_data_index():
    assert uncovered_examples(L_UNC).index.tolist() == UNCOVERED
    assert uncovered_examples(L_UNC).shape == (5, 0)
    df = pd.DataFrame({"text": list("abcdefgh")}, index=[f"id{i}" for i in range(8)])
    out = uncovered_examples(L_UNC, df)
    assert out.index.tolist() == ["id1", "id3", "id5", "id6", "id7"]
    assert out["text"].tolist() == ["b", "d", "f", "g", "h"]
    assert uncovered_examples(L_UNC, df["text"]).columns.tolist() == ["text"]


def test_uncovered_sample_is_reproducible_and_nested():
    a = uncovered_examples(L_UNC, n=3, seed=4).index.tolist()
    assert a == uncovered_examples(L_UNC, n=3, seed=4).index.tolist()
    assert a == np.random.default_rng(4).permutation(UNCOVERED)[:3].tolist()
    assert uncovered_examples(L_UNC, n=5, seed=4).index.tolist()[:3] == a
    samples = {tuple(uncovered_examples(L_UNC, n=3, seed=s).index) for s in range(10)}
    assert len(samples) > 1 and all(set(x) <= set(UNCOVERED) for x in samples)
    assert len(uncovered_examples(L_UNC, n=0)) == 0


def test_uncovered_errors():
    with pytest.raises(ValueError, match="only 5 rows are uncovered. Received: n=6"):
        uncovered_examples(L_UNC, n=6)
    with pytest.raises(ValueError, match="Received: 3 rows"):
        uncovered_examples(L_UNC, pd.DataFrame({"a": [1, 2, 3]}))
    with pytest.raises(ValueError, match="Received: n=-1"):
        uncovered_examples(L_UNC, n=-1)
    with pytest.raises(ValueError, match="2-D"):
        uncovered_examples(np.array([0, -1]))


# ------------------------------------------------------------------ conflicts

L_CONF = np.array(
    [
        [0, 1, -1, -1],  # 0: 1-1 split, 2 votes -> entropy 1
        [0, 0, 1, -1],  # 1: 2-1 split -> entropy 0.918
        [-1, -1, -1, -1],  # 2: no votes
        [1, 1, 1, 1],  # 3: agreement
        [0, 1, 2, -1],  # 4: three classes -> entropy log2(3)
        [0, 0, 1, 1],  # 5: 2-2 split, 4 votes -> entropy 1, more votes than rows 0/6/7
        [1, 0, -1, -1],  # 6: ties with 0
        [2, -1, 0, -1],  # 7: ties with 0
    ]
)


def test_conflict_ranking_exact():
    out = conflict_examples(L_CONF, names=["a", "b", "c", "d"], seed=0)
    idx = out.index.tolist()
    assert idx[:2] == [4, 5] and sorted(idx[2:5]) == [0, 6, 7] and idx[5] == 1
    tie = np.random.default_rng(0).permutation(8)
    assert idx[2:5] == sorted([0, 6, 7], key=lambda r: tie[r])
    np.testing.assert_allclose(out["entropy"], [np.log2(3), 1, 1, 1, 1, 0.9182958340544896])
    assert out["n_votes"].tolist() == [3, 4, 2, 2, 2, 3]
    assert out["n_classes"].tolist() == [3, 2, 2, 2, 2, 2]
    assert out.loc[4, "votes"] == {"a": 0, "b": 1, "c": 2}
    assert out.loc[7, "votes"] == {"a": 2, "c": 0}


def test_conflict_ties_depend_only_on_seed():
    runs = [conflict_examples(L_CONF, seed=s).index.tolist() for s in range(8)]
    assert runs[3] == conflict_examples(L_CONF, seed=3).index.tolist()
    assert all(r[:2] == [4, 5] and r[5] == 1 for r in runs)
    assert len({tuple(r[2:5]) for r in runs}) > 1
    top = conflict_examples(L_CONF, n=3, seed=3)
    assert top.index.tolist() == runs[3][:3]


def test_conflict_with_data_and_errors():
    df = pd.DataFrame({"text": [f"t{i}" for i in range(8)]}, index=range(100, 108))
    out = conflict_examples(L_CONF, 2, data=df)
    assert out.index.tolist() == [104, 105] and out["text"].tolist() == ["t4", "t5"]
    assert out.columns.tolist() == ["text", "entropy", "n_classes", "n_votes", "votes"]
    assert out.loc[105, "votes"] == {0: 0, 1: 0, 2: 1, 3: 1}
    with pytest.raises(ValueError, match="only 6 rows are conflicted. Received: n=7"):
        conflict_examples(L_CONF, 7)
    with pytest.raises(ValueError, match=r"already has column\(s\) \['entropy'\]"):
        conflict_examples(L_CONF, data=pd.DataFrame({"entropy": range(8)}))
    with pytest.raises(ValueError, match="Received: 'a' twice"):
        conflict_examples(L_CONF, names=["a", "a", "b", "c"])
    assert len(conflict_examples(np.array([[0, 0], [-1, 1]]))) == 0


# ------------------------------------------------------------------ uncertainty

P_UNC = np.array(
    [
        [0.5, 0.5, 0.0],  # entropy 1.0,   margin 0.0
        [0.4, 0.3, 0.3],  # entropy 1.571, margin 0.1
        [0.8, 0.1, 0.1],  # entropy 0.922, margin 0.7
        [0.34, 0.33, 0.33],  # entropy 1.585, margin 0.01
    ]
)


def test_uncertain_by_entropy_and_by_margin():
    out = uncertain_examples(P_UNC)
    assert out.index.tolist() == [3, 1, 0, 2]
    expected = [-sum(p * np.log2(p) for p in P_UNC[r] if p > 0) for r in (3, 1, 0, 2)]
    np.testing.assert_allclose(out["entropy"], expected, rtol=1e-12)
    assert out["entropy"].round(4).tolist() == [1.5848, 1.571, 1.0, 0.9219]
    np.testing.assert_allclose(out["margin"], [0.01, 0.1, 0.0, 0.7], atol=1e-12)
    assert out["pred"].tolist() == [0, 0, -1, 0]
    assert out["max_prob"].tolist() == [0.34, 0.4, 0.5, 0.8]
    assert uncertain_examples(P_UNC, by="margin").index.tolist() == [0, 3, 1, 2]
    assert uncertain_examples(P_UNC, 2, by="margin").index.tolist() == [0, 3]


def test_uncertain_skips_uncovered_and_breaks_ties_by_seed():
    L = np.array([[0], [-1], [1], [-1]])
    assert uncertain_examples(P_UNC, L=L).index.tolist() == [0, 2]
    P = np.tile([0.5, 0.5], (6, 1))
    orders = {tuple(uncertain_examples(P, seed=s).index) for s in range(6)}
    assert len(orders) > 1
    assert uncertain_examples(P, seed=2).index.tolist() == np.argsort(
        np.random.default_rng(2).permutation(6)
    ).tolist()
    df = pd.DataFrame({"text": list("abcd")}, index=list("wxyz"))
    assert uncertain_examples(P_UNC, 1, data=df).index.tolist() == ["z"]


def test_uncertain_errors():
    with pytest.raises(ValueError, match="row 1 sums to 0.9"):
        uncertain_examples([[0.5, 0.5], [0.4, 0.5]])
    with pytest.raises(ValueError, match="Received: nan at row 0, class 1"):
        uncertain_examples([[0.5, np.nan]])
    with pytest.raises(ValueError, match=r"C >= 2\. Received shape: \(3,\)"):
        uncertain_examples([0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="only 2 rows are covered. Received: n=3"):
        uncertain_examples(P_UNC, 3, L=np.array([[0], [-1], [1], [-1]]))
    with pytest.raises(ValueError, match="Received: by='gini'"):
        uncertain_examples(P_UNC, by="gini")


# ------------------------------------------------------------------ ablation / addition

L_TR = np.array(
    [
        [1, -1, 1],
        [0, 0, -1],
        [-1, 1, -1],
        [-1, -1, 0],
        [-1, -1, -1],
        [1, 0, -1],
    ]
)
Y_DEV = np.array([1, 0, 1, 0, 0, 1])


def test_ablation_coverage_and_majority_vote_exact():
    out = lf_ablation(L_TR, Y_DEV, L_TR, names=["a", "b", "c"], tie_break="abstain")
    assert out.index.name == "lf" and out.index.tolist() == ["a", "b", "c"]
    assert out.columns.tolist() == [
        "lf_coverage", "coverage", "delta_coverage", "dev_coverage", "delta_dev_coverage",
        "dev_accuracy", "delta_dev_accuracy", "dev_f1", "delta_dev_f1",
    ]
    np.testing.assert_allclose(out["lf_coverage"], [3 / 6, 3 / 6, 2 / 6])
    np.testing.assert_allclose(out["coverage"], [5 / 6, 4 / 6, 4 / 6])
    np.testing.assert_allclose(out["delta_coverage"], [0, -1 / 6, -1 / 6])
    # all LFs, abstain on ties: rows 0-3 right; row 4 no votes, row 5 a 1-1 tie -> abstain
    assert out.attrs["baseline"]["dev_accuracy"] == pytest.approx(4 / 6)
    # without a: row 0 (c says 1) right, row 5 (b says 0) wrong -> 4/6;
    # without b: row 2 lost, row 5 (a says 1) right -> 4/6; without c: row 3 lost -> 3/6
    np.testing.assert_allclose(out["dev_accuracy"], [4 / 6, 4 / 6, 3 / 6])
    np.testing.assert_allclose(out["delta_dev_accuracy"], [0, 0, -1 / 6])
    # F1 of class 1 (gold positives: rows 0, 2, 5); baseline: tp=2, fp=0, fn=1 -> 0.8,
    # and each ablation also finds 2 of the 3 positives without a false positive
    assert out.attrs["baseline"]["dev_f1"] == pytest.approx(0.8)
    np.testing.assert_allclose(out["dev_f1"], [0.8, 0.8, 0.8])
    # with tie_break="random" (seed 0), the uncovered/tied rows become coin flips
    rnd = lf_ablation(L_TR, Y_DEV, L_TR, names=["a", "b", "c"], tie_break="random", seed=0)
    counts = np.stack([(L_TR == c).sum(1) for c in (0, 1)], 1).astype(float)
    probs = np.where(counts.sum(1, keepdims=True) > 0,
                     counts / np.maximum(counts.sum(1, keepdims=True), 1), 0.5)
    assert rnd.attrs["baseline"]["dev_accuracy"] == pytest.approx(
        (probs_to_preds(probs, "random", seed=0) == Y_DEV).mean())


def test_ablation_without_dev_and_with_random_ties_is_reproducible():
    out = lf_ablation(L_TR)
    assert out.columns.tolist() == ["lf_coverage", "coverage", "delta_coverage"]
    assert out.index.tolist() == [0, 1, 2]
    a = lf_ablation(L_TR, Y_DEV, L_TR, seed=7)
    b = lf_ablation(L_TR, Y_DEV, L_TR, seed=7)
    pd.testing.assert_frame_equal(a, b)
    only_cov = lf_ablation(L_TR, L_dev=L_TR[:3])
    np.testing.assert_allclose(only_cov["dev_coverage"], [1, 2 / 3, 1])


def test_ablation_with_a_plugged_model_and_custom_metric():
    seen = []

    def model_fn(L_train, L_dev):
        seen.append((L_train.shape, L_dev.shape))
        return np.tile([0.25, 0.75], (len(L_dev), 1))

    def recall1(y, p):
        return float(((p == 1) & (y == 1)).sum() / (y == 1).sum())

    out = lf_ablation(L_TR, Y_DEV[:4], L_TR[:4], model_fn=model_fn, metrics={"recall1": recall1})
    assert seen == [((6, 3), (4, 3))] + [((6, 2), (4, 2))] * 3
    assert out["dev_recall1"].tolist() == [1.0, 1.0, 1.0]
    assert out["delta_dev_recall1"].tolist() == [0.0, 0.0, 0.0]
    def bad_when_removed(L_train, L_dev):
        return np.full((len(L_dev), 3 if L_train.shape[1] == 2 else 2), 0.5)

    with pytest.raises(ValueError, match=r"with LF 'a' removed it returned shape \(4, 3\)"):
        lf_ablation(L_TR, Y_DEV[:4], L_TR[:4], names=["a", "b", "c"], model_fn=bad_when_removed)
    with pytest.raises(ValueError, match="with all LFs it returned shape .* with NaN"):
        lf_ablation(L_TR, Y_DEV[:4], L_TR[:4], model_fn=lambda a, b: np.full((4, 2), np.nan))


def test_ablation_errors():
    with pytest.raises(ValueError, match="y_dev needs L_dev"):
        lf_ablation(L_TR, Y_DEV)
    with pytest.raises(ValueError, match="Received: 2 columns"):
        lf_ablation(L_TR, Y_DEV, L_TR[:, :2])
    with pytest.raises(ValueError, match=r"Received shape: \(5,\)"):
        lf_ablation(L_TR, Y_DEV[:5], L_TR)
    with pytest.raises(ValueError, match="no ABSTAIN in gold labels.*Received: -1 at row 2"):
        lf_ablation(L_TR, [1, 0, -1, 0, 0, 1], L_TR)
    with pytest.raises(ValueError, match="Received: 2 names"):
        lf_ablation(L_TR, names=["a", "b"])
    with pytest.raises(ValueError, match="Received: cardinality=1"):
        lf_ablation(L_TR, Y_DEV, L_TR, cardinality=1)
    message = r"LF column 0 voted 2 at row 0; votes must be ABSTAIN \(-1\) or a class index in \[0, 1\]"
    with pytest.raises(ValueError, match=message):
        lf_ablation(np.array([[1], [0]]) * 2, cardinality=2)


def test_addition_exact_and_consistent_with_ablation():
    base = L_TR[:, :2]
    out = lf_addition(base, L_TR[:, 2], Y_DEV, base, L_TR[:, 2], new_names=["c"],
                      tie_break="abstain")
    abl = lf_ablation(L_TR, Y_DEV, L_TR, names=["a", "b", "c"], tie_break="abstain")
    assert out.columns.tolist() == [
        "lf_coverage", "lf_dev_accuracy", "coverage", "delta_coverage", "dev_coverage",
        "delta_dev_coverage", "dev_accuracy", "delta_dev_accuracy", "dev_f1", "delta_dev_f1",
    ]
    assert out.loc["c", "lf_dev_accuracy"] == 1.0
    for col in ("coverage", "dev_accuracy", "dev_f1"):
        assert out.loc["c", f"delta_{col}"] == pytest.approx(-abl.loc["c", f"delta_{col}"])
    several = lf_addition(base, np.stack([L_TR[:, 2], np.full(6, -1), np.full(6, 0)], axis=1))
    assert several.index.tolist() == ["candidate_0", "candidate_1", "candidate_2"]
    np.testing.assert_allclose(several["delta_coverage"], [1 / 6, 0, 2 / 6])
    np.testing.assert_allclose(several["lf_coverage"], [2 / 6, 0, 1])
    never = lf_addition(base, np.full(6, -1), Y_DEV, base, np.full(6, -1))
    assert np.isnan(never.loc["candidate", "lf_dev_accuracy"])
    assert never.loc["candidate", "delta_dev_accuracy"] == 0.0


def test_addition_errors():
    with pytest.raises(ValueError, match="pass new_column_dev"):
        lf_addition(L_TR, L_TR[:, 0], Y_DEV, L_TR)
    with pytest.raises(ValueError, match=r"one vote per row \(6\).*Received shape: \(5,\)"):
        lf_addition(L_TR, L_TR[:5, 0])
    with pytest.raises(ValueError, match="same 1 candidate"):
        lf_addition(L_TR, L_TR[:, 0], Y_DEV, L_TR, L_TR[:, :2])


# ------------------------------------------------------------------ real data


def _mv_accuracy(L, y, seed=0):
    """Majority vote computed here, independently: vote shares, uniform when no vote."""
    counts = np.stack([np.bincount(row[row >= 0], minlength=2) for row in L]).astype(float)
    total = counts.sum(1, keepdims=True)
    probs = np.where(total > 0, counts / np.where(total > 0, total, 1), 0.5)
    return float((probs_to_preds(probs, "random", seed=seed) == y).mean())


@pytest.mark.data
def test_youtube_loop_numbers(youtube):
    tr, va = youtube.train, youtube.valid
    n_unc = int((tr.L == -1).all(axis=1).sum())
    assert n_unc == 195
    unc = uncovered_examples(tr.L, tr.frame)
    assert len(unc) == 195 and unc.index.tolist() == np.flatnonzero((tr.L == -1).all(1)).tolist()
    sample = uncovered_examples(tr.L, tr.frame, n=5, seed=0)
    assert sample.index.tolist() == uncovered_examples(tr.L, tr.frame, n=5, seed=0).index.tolist()
    assert set(sample.index) <= set(unc.index)

    n_conf = int(((tr.L == 0).any(1) & (tr.L == 1).any(1)).sum())
    assert n_conf == 420 and len(conflict_examples(tr.L)) == 420

    abl = lf_ablation(va.L, va.y, va.L)
    cov = lambda L: (L != -1).any(1).mean()  # noqa: E731
    assert cov(va.L) == pytest.approx(105 / 120)
    assert abl.loc[2, "delta_coverage"] == pytest.approx(cov(np.delete(va.L, 2, 1)) - cov(va.L))
    assert abl.loc[2, "delta_coverage"] == pytest.approx(-1 / 120)

    abl = lf_ablation(tr.L, va.y, va.L)
    full = _mv_accuracy(va.L, va.y)
    assert full == pytest.approx(101 / 120)
    assert abl.attrs["baseline"]["dev_accuracy"] == pytest.approx(full)
    assert abl.attrs["baseline"]["coverage"] == pytest.approx(1 - 195 / 1586)
    for j in range(10):
        expected = _mv_accuracy(np.delete(va.L, j, 1), va.y)
        assert abl.loc[j, "dev_accuracy"] == pytest.approx(expected)
    add = lf_addition(np.delete(tr.L, 2, 1), tr.L[:, 2], va.y, np.delete(va.L, 2, 1), va.L[:, 2])
    assert add.iloc[0]["delta_dev_accuracy"] == pytest.approx(-abl.loc[2, "delta_dev_accuracy"])
    assert add.iloc[0]["delta_coverage"] == pytest.approx(-abl.loc[2, "delta_coverage"])
