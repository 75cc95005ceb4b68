import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tfsnorkel.labels import (
    ABSTAIN,
    check_gold_labels,
    check_label_matrix,
    filter_unlabeled,
    from_signed,
    probs_to_preds,
    to_signed,
)


def test_signed_round_trip_exact():
    signed = np.array([[1, -1, 0], [0, 0, 1]])
    idx = from_signed(signed)
    np.testing.assert_array_equal(idx, [[1, 0, ABSTAIN], [ABSTAIN, ABSTAIN, 1]])
    np.testing.assert_array_equal(to_signed(idx), signed)


@given(hnp.arrays(np.int64, st.tuples(st.integers(0, 20), st.integers(1, 6)),
                  elements=st.sampled_from([-1, 0, 1])))
def test_signed_round_trip_property(arr):
    np.testing.assert_array_equal(to_signed(from_signed(arr)), arr)


def test_signed_rejects_other_values():
    with pytest.raises(ValueError, match="Received: 2 at index 1"):
        from_signed([1, 2])
    with pytest.raises(ValueError, match="binary class indices"):
        to_signed([3])
    with pytest.raises(TypeError, match="integers"):
        from_signed([0.5])


def test_check_label_matrix_names_lf_row_and_value():
    with pytest.raises(ValueError, match=r"LF kw_b \(column 1\) voted 2 at row 1"):
        check_label_matrix([[0, 1], [1, 2]], cardinality=2, lf_names=["kw_a", "kw_b"])
    with pytest.raises(ValueError, match="2-D"):
        check_label_matrix([0, 1])
    with pytest.raises(TypeError, match="integers"):
        check_label_matrix([[0.5, 1.0]])
    with pytest.raises(ValueError, match="cardinality"):
        check_label_matrix([[0]], cardinality=1)
    out = check_label_matrix([[0.0, -1.0]], cardinality=2)
    assert out.dtype == np.int32 and out.tolist() == [[0, -1]]


def test_probs_to_preds_tie_policies():
    P = np.array([[0.1, 0.9], [0.5, 0.5], [0.7, 0.3]])
    assert probs_to_preds(P, "abstain").tolist() == [1, -1, 0]
    assert probs_to_preds(P, "prior", prior=[0.2, 0.8]).tolist() == [1, 1, 0]
    assert probs_to_preds(P, "prior").tolist() == [1, 0, 0]
    ties = np.full((2000, 3), 1 / 3)
    r1 = probs_to_preds(ties, "random", seed=3)
    np.testing.assert_array_equal(r1, probs_to_preds(ties, "random", seed=3))
    counts = np.bincount(r1, minlength=3) / len(r1)
    assert np.all(np.abs(counts - 1 / 3) < 0.05)
    with pytest.raises(ValueError, match="finite"):
        probs_to_preds(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="tie_break"):
        probs_to_preds(P, "coin")


def test_filter_unlabeled_keeps_covered_rows():
    import pandas as pd

    L = np.array([[-1, -1], [0, -1], [-1, 1]])
    Lk, yk, dfk = filter_unlabeled(L, np.array([5, 6, 7]), pd.DataFrame({"a": [1, 2, 3]}))
    assert Lk.tolist() == [[0, -1], [-1, 1]]
    assert yk.tolist() == [6, 7]
    assert dfk["a"].tolist() == [2, 3]
    with pytest.raises(ValueError, match="rows"):
        filter_unlabeled(L, np.array([1]))


def test_check_gold_labels():
    assert check_gold_labels([[1.0], [0.0]], n=2, cardinality=2).tolist() == [1, 0]
    assert check_gold_labels([-1, 2], allow_abstain=True).tolist() == [-1, 2]
    with pytest.raises(ValueError, match=r"in \[0, 1\]. Received: y\[1\]=2"):
        check_gold_labels([0, 2], cardinality=2)
    with pytest.raises(ValueError, match=r">= 0. Received: y\[0\]=-1"):
        check_gold_labels([-1, 0])
    with pytest.raises(ValueError, match=r"one gold label per row \(3\)"):
        check_gold_labels([0, 1], n=3)
    with pytest.raises(TypeError, match="integers"):
        check_gold_labels([0.5, 1.0])
