"""Regression tests (issue 11): the label model records its LFs and rejects bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import tfsnorkel as ts

L = np.array([[0, 0, 1], [1, 1, 1], [0, -1, 0], [1, 1, -1]] * 50, dtype=np.int32)


@pytest.fixture(scope="module")
def lm():
    return ts.LabelModel(2, dependencies=None).fit(L, lf_names=["a", "b", "c"])


def test_lf_names_are_recorded_and_survive_config_and_save(lm, tmp_path):
    assert lm.lf_names == ["a", "b", "c"]
    assert ts.LabelModel.from_config(lm.get_config()).lf_names == ["a", "b", "c"]
    lm.save(tmp_path / "lm.keras")
    assert ts.LabelModel.load(tmp_path / "lm.keras").lf_names == ["a", "b", "c"]
    assert list(lm.lf_table().index) == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("names", "card", "match"),
    [
        (["a", "c", "b"], None, "column 1 is LF 'c' in the LF set but 'b'"),
        (["a", "b"], None, "it has 2 LFs, the label model was fitted on 3"),
        (["a", "b", "c"], 3, "it has cardinality 3, the label model 2"),
    ],
)
def test_check_lfs_names_the_mismatch(lm, names, card, match):
    with pytest.raises(ValueError, match=match):
        lm.check_lfs(names, card)
    lm.check_lfs(["a", "b", "c"], 2)


def test_lf_table_rejects_reordered_names(lm):
    with pytest.raises(ValueError, match="column 1 is LF 'c'"):
        lm.lf_table(["a", "c", "b"])


def test_fit_rejects_wrong_number_of_names():
    with pytest.raises(ValueError, match="one name per LF column of L \\(3\\)"):
        ts.LabelModel(2).fit(L, lf_names=["a"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"accuracy_prior": (0, 0)}, "accuracy_prior must be two positive"),
        ({"accuracy_prior": (1.0, float("nan"))}, "accuracy_prior must be two positive"),
        ({"min_accuracy": 1.0}, "min_accuracy must be None or a number in"),
        ({"min_accuracy": 0.2}, "min_accuracy must be None or a number in"),
    ],
)
def test_init_validates_priors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ts.LabelModel(2, **kwargs)


def test_float_gold_labels_are_rejected_not_truncated():
    with pytest.raises(ValueError, match="y_dev must hold integer class indices"):
        ts.LabelModel(2).fit(L, L_dev=L[:2], y_dev=[0.9, 1.5])
    # Integral floats are class indices.
    ts.LabelModel(2, dependencies=None).fit(L, L_dev=L[:2], y_dev=np.array([0.0, 1.0]))


def test_call_does_not_wrap_int64_votes(lm):
    wide = np.array([[2**32 + 1, 2**32 + 1, 2**32 + 1]], dtype=np.int64)
    np.testing.assert_allclose(lm(wide).numpy(), lm(np.full((1, 3), -1, np.int32)).numpy())
    np.testing.assert_allclose(
        lm(np.array([[1, 1, 1]], np.int64)).numpy(), lm(np.array([[1, 1, 1]], np.int32)).numpy()
    )


def test_predict_proba_batches_by_memory_and_matches_one_call(lm, monkeypatch):
    # A batch's [rows, m] votes and [rows, C] logits stay under _CALL_FLOATS cells (call
    # gathers only the votes that exist), with the same soft labels as one call.
    import tfsnorkel.labelmodel.layer as layer

    seen = []
    original = layer.LabelModel.__call__

    def spy(self, x, *a, **k):
        seen.append(len(x))
        return original(self, x, *a, **k)

    monkeypatch.setattr(layer, "_CALL_FLOATS", 3 * 7)  # 7 rows per call for 3 LFs, 2 classes
    monkeypatch.setattr(layer.LabelModel, "__call__", spy)
    P = lm.predict_proba(L[:50])
    assert max(seen) == 7 and sum(seen) == 50
    monkeypatch.undo()
    np.testing.assert_allclose(P, lm(L[:50]).numpy(), atol=1e-6)


def test_scipy_sparse_label_matrices_fit_and_predict_like_dense():
    import scipy.sparse as sp

    S = sp.csr_matrix(L + 1)  # stored value = class index + 1, abstain not stored
    dense = ts.LabelModel(2, dependencies=None).fit(L)
    sparse = ts.LabelModel(2, dependencies=None).fit(S)
    np.testing.assert_allclose(sparse.get_weights()[2], dense.get_weights()[2], atol=1e-6)
    np.testing.assert_allclose(sparse.predict_proba(S), dense.predict_proba(L), atol=1e-6)
    with pytest.raises(ValueError, match="LF column 1 holds 3 at row 0"):
        ts.LabelModel(2).fit(sp.csr_matrix(np.array([[1, 3, 0]] * 5)))


def test_ragged_rows_get_a_named_error():
    with pytest.raises(ValueError, match="label matrix"):
        ts.LabelModel(2).fit([[0, 1, 1], [0, 1]])


def test_truncated_keras_file_is_named(lm, tmp_path):
    path = tmp_path / "lm.keras"
    lm.save(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ts.LabelModelLoadError, match="not a .keras archive"):
        ts.LabelModel.load(path)
    with pytest.raises(ts.LabelModelLoadError, match="no such file"):
        ts.LabelModel.load(tmp_path / "missing.keras")
