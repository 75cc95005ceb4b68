"""Soft-label files (npz, CSV, Parquet, TFRecord) round trip; scikit-learn expansion recipe."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

from tfsnorkel.classify.softlabels import expand_soft_labels, read_soft_labels, write_soft_labels

RNG = np.random.default_rng(0)
P = RNG.dirichlet(np.ones(3), size=50).astype(np.float32)


STR_IDS = np.array([f"row-{i}" for i in range(50)])


@pytest.mark.parametrize("suffix", [".npz", ".csv", ".parquet", ".tfrecord"])
@pytest.mark.parametrize("ids", [None, np.arange(100, 150), STR_IDS])
def test_round_trip(tmp_path, suffix, ids):
    path = write_soft_labels(tmp_path / f"soft{suffix}", P, ids=ids,
                             class_names=None if suffix == ".tfrecord" else ["a", "b", "c"])
    probs, got_ids, names = read_soft_labels(path)
    assert probs.dtype == np.float32 and probs.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(probs, P, rtol=1e-6)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-6)
    if ids is None:
        assert got_ids is None
    else:
        assert [str(i) for i in got_ids] == [str(i) for i in ids]
    assert names == (("p_0", "p_1", "p_2") if suffix == ".tfrecord" else ("a", "b", "c"))


def test_csv_is_a_plain_table(tmp_path):
    path = write_soft_labels(tmp_path / "s.csv", P[:2], ids=["x", "y"])
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["id", "p_0", "p_1", "p_2"]
    np.testing.assert_allclose(frame[["p_0", "p_1", "p_2"]].to_numpy(), P[:2], rtol=1e-6)


def test_bad_input_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"row 1 sums to 2"):
        write_soft_labels(tmp_path / "x.csv", [[0.5, 0.5], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"suffix.*path='.*x.txt'"):
        write_soft_labels(tmp_path / "x.txt", P)
    with pytest.raises(ValueError, match=r"ids must have shape \(50,\).*\(3,\)"):
        write_soft_labels(tmp_path / "x.csv", P, ids=[1, 2, 3])
    with pytest.raises(ValueError, match=r"3 distinct names.*\['a', 'a', 'b'\]"):
        write_soft_labels(tmp_path / "x.csv", P, class_names=["a", "a", "b"])
    pd.DataFrame({"id": [1], "p": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(ValueError, match=r"two probability columns.*\['p'\]"):
        read_soft_labels(tmp_path / "bad.csv")
    with pytest.raises(FileNotFoundError, match="no soft-label file"):
        read_soft_labels(tmp_path / "missing.npz")


def test_expand_weighted_log_loss_equals_soft_cross_entropy():
    X = RNG.normal(size=(50, 4))
    X_rep, y_rep, w = expand_soft_labels(X, P)
    assert X_rep.shape == (150, 4) and y_rep.tolist()[:3] == [0, 1, 2]
    np.testing.assert_allclose(X_rep[:3], np.repeat(X[:1], 3, axis=0))
    Q = RNG.dirichlet(np.ones(3), size=50)
    soft_ce = -(P * np.log(Q)).sum()
    Q_rep = Q[np.repeat(np.arange(50), 3)]
    assert log_loss(y_rep, Q_rep, sample_weight=w, normalize=False, labels=[0, 1, 2]) == (
        pytest.approx(soft_ce, rel=1e-5)
    )


def test_sklearn_recipe_trains_on_soft_labels():
    X = RNG.normal(size=(400, 2))
    truth = (X[:, 0] + X[:, 1] > 0).astype(int)
    soft = np.where(truth[:, None] == 1, [0.2, 0.8], [0.8, 0.2])
    X_rep, y_rep, w = expand_soft_labels(sp.csr_matrix(X), soft)
    assert sp.issparse(X_rep) and X_rep.shape == (800, 2)
    clf = LogisticRegression().fit(X_rep, y_rep, sample_weight=w)
    assert (clf.predict(X) == truth).mean() > 0.95
    # calibrated to the soft labels' confidence, not to hard 0/1 targets
    p_far = clf.predict_proba(np.array([[3.0, 3.0]]))[0, 1]
    assert 0.8 < p_far < 1.0


def test_expand_frames_lists_and_min_weight():
    df = pd.DataFrame({"t": ["a", "b"]}, index=[10, 11])
    X_rep, y, w = expand_soft_labels(df, [[1.0, 0.0], [0.4, 0.6]])
    assert X_rep["t"].tolist() == ["a", "b", "b"] and y.tolist() == [0, 0, 1]
    X_rep, y, w = expand_soft_labels(["a", "b"], [[0.95, 0.05], [0.4, 0.6]], min_weight=0.1)
    assert X_rep == ["a", "b", "b"] and w.tolist() == pytest.approx([0.95, 0.4, 0.6])
    with pytest.raises(ValueError, match=r"differ in length.*2 feature rows, 1 soft-label rows"):
        expand_soft_labels(["a", "b"], [[1.0, 0.0]])


def test_pytorch_layout_arrays(tmp_path):
    """The arrays the PyTorch recipe feeds to torch.from_numpy: float32, C-contiguous, [N, C]."""
    path = write_soft_labels(tmp_path / "s.parquet", P, ids=np.arange(50))
    probs, ids, _ = read_soft_labels(path)
    assert probs.dtype == np.float32 and probs.flags["C_CONTIGUOUS"] and probs.shape == (50, 3)
    assert ids.dtype.kind == "i"
    logits = RNG.normal(size=(50, 3)).astype(np.float32)
    log_softmax = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    loss = -(probs * log_softmax).sum(1).mean()
    assert np.isfinite(loss) and loss > 0
