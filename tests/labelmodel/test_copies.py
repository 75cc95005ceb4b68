"""Exact copies of an LF are counted once: found before the fit, in dense and sparse input."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

import tfsnorkel as ts
from tfsnorkel.labelmodel.structure import copy_columns
from tfsnorkel.labelmodel.synthetic_sparse import synthetic_sparse_unipolar


def _unipolar(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    L = np.full((n, 6), -1)
    for j, (k, r, f) in enumerate([(1, .5, .05), (1, .4, .03), (1, .3, .1), (0, .4, .1),
                                   (0, .5, .2), (0, .3, .05)]):
        fire = rng.random(n) < np.where(y == k, r, f)
        L[fire, j] = k
    return L, y


def test_copy_columns_finds_identical_columns_in_dense_and_sparse_rows():
    L = np.array([[0, 1, 0, -1, 1], [-1, 1, -1, -1, 1], [2, -1, 2, -1, -1]])
    want = [0, 1, 0, 3, 1]  # column 3 never votes: left alone
    assert copy_columns(L).tolist() == want
    assert copy_columns(sp.csr_matrix(L + 1)).tolist() == want
    assert copy_columns(L, block=2).tolist() == want  # across column blocks
    assert copy_columns(np.array([[0, 1], [1, 0]])).tolist() == [0, 1]


def test_a_copied_lf_counts_once_and_the_fit_equals_the_fit_without_it(tmp_path):
    L, y = _unipolar()
    L2 = np.hstack([L, L[:, [0, 0]], L[:, [4]]])  # columns 6, 7 copy 0; column 8 copies 4
    plain = ts.LabelModel(2, seed=0).fit(L)
    lm = ts.LabelModel(2, seed=0).fit(L2)
    assert lm.copy_of == [-1] * 6 + [0, 0, 4]
    assert [0, 6, 7] in lm.dependencies_ and [4, 8] in lm.dependencies_
    np.testing.assert_allclose(lm.predict_proba(L2), plain.predict_proba(L), atol=1e-6)
    table = lm.lf_table()
    assert table["copy_of"].tolist() == [-1] * 6 + [0, 0, 4]
    np.testing.assert_allclose(table["accuracy"].iloc[6], table["accuracy"].iloc[0])
    # Counted as independent LFs (dependencies=None) the copies would weigh three times.
    tripled = ts.LabelModel(2, seed=0, dependencies=None).fit(L2)
    assert tripled.copy_of is None
    # A copy's vote counts where its original abstains, once; otherwise it is ignored.
    row = np.array([[-1, -1, -1, -1, -1, -1, 1, -1, -1]])
    np.testing.assert_allclose(lm.predict_proba(row), plain.predict_proba(row[:, [6, 1, 2, 3, 4, 5]]),
                               atol=1e-6)
    both = np.array([[-1, -1, -1, -1, -1, -1, 1, 1, -1]])  # two copies vote: still once
    np.testing.assert_allclose(lm.predict_proba(both), lm.predict_proba(row), atol=1e-6)
    lm.save(tmp_path / "c.keras")
    back = ts.LabelModel.load(tmp_path / "c.keras")
    assert back.copy_of == lm.copy_of
    np.testing.assert_array_equal(back.predict_proba(L2), lm.predict_proba(L2))
    # The dev split is read through the same columns.
    dev = ts.LabelModel(2, seed=0).fit(L2[:3000], L2[3000:], y[3000:])
    ref = ts.LabelModel(2, seed=0).fit(L[:3000], L[3000:], y[3000:])
    np.testing.assert_allclose(dev.predict_proba(L2), ref.predict_proba(L), atol=1e-6)


def test_rare_copies_in_a_sparse_many_class_matrix_are_counted_once():
    # 300 classes, 1000 LFs voting on ~1% of rows each: the pair divergence of two copies is
    # about 0.01 nats there (below the structure threshold), the copy detection is exact.
    d = synthetic_sparse_unipolar(20000, num_lfs=1000, cardinality=300, seed=0)
    L = sp.hstack([d.L.tocsc(), d.L.tocsc()[:, :5]]).tocsr()
    lm = ts.LabelModel(300, seed=0).fit(L)
    assert lm.copy_of[1000:] == [0, 1, 2, 3, 4]
    plain = ts.LabelModel(300, seed=0).fit(d.L)
    acc = (lm.predict(L) == d.y).mean()
    assert acc == (plain.predict(d.L) == d.y).mean()  # measured 0.930 (0.920 counted twice)
