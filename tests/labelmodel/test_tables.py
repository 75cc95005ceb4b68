"""The O(m * C) vote tables: exact against the dense [m, C, C + 1] form, in fits, the layer,
and `.keras` files written with the dense weight before them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tfsnorkel as ts
from tfsnorkel.labelmodel.em import _one_coin_tables
from tfsnorkel.labelmodel.synthetic_sparse import synthetic_sparse_unipolar
from tfsnorkel.labelmodel.tables import VoteTables, abstain_of, as_dense, columns_of

DATA = Path(__file__).parent / "data"


@settings(max_examples=40, deadline=None)
@given(
    m=st.integers(1, 6),
    c=st.integers(2, 6),
    seed=st.integers(0, 2**16),
    full_share=st.floats(0.0, 1.0),
)
def test_from_dense_is_exact_and_stores_only_the_columns_it_must(m, c, seed, full_share):
    rng = np.random.default_rng(seed)
    # Structured columns (a constant plus the class v), some replaced by free columns.
    off = rng.normal(-3, 1, (m, c))
    diag = rng.normal(1, 1, (m, c))
    lt = np.empty((m, c, c + 1))
    lt[:, :, 0] = rng.normal(-0.5, 0.3, (m, c))
    lt[:, :, 1:] = off[:, None, :]
    lt[:, np.arange(c), np.arange(c) + 1] += diag
    free = rng.random((m, c)) < full_share
    j, v = np.nonzero(free)
    lt[j, :, v + 1] = rng.normal(-2, 1, (len(j), c))
    t = VoteTables.from_dense(lt)
    np.testing.assert_allclose(t.dense(), lt, atol=1e-12)
    assert t.shape == lt.shape
    # Binary columns are always a constant plus one class; free columns stay free for C > 2
    # (a random column is not of that form).
    assert t.num_full_columns == (0 if c == 2 else len(j))
    cols = rng.integers(0, m * c, 10)
    np.testing.assert_allclose(columns_of(t, cols), columns_of(lt, cols), atol=1e-12)
    np.testing.assert_array_equal(abstain_of(t), abstain_of(lt))
    np.testing.assert_array_equal(as_dense(lt), lt)


def test_one_coin_and_detector_tables_equal_their_dense_formulas():
    acc, prop = np.array([0.9, 0.6, 0.75]), np.array([0.1, 0.5, 0.3])
    np.testing.assert_allclose(
        VoteTables.one_coin(acc, prop, 4).dense(), np.log(_one_coin_tables(acc, prop, 4)),
        atol=1e-12,
    )
    # Detectors of classes 2, 0 and none: log r / log f at their class, 1e-12 elsewhere.
    k = np.array([2, 0, -1])
    r, f = np.log([0.4, 0.3, 1e-12]), np.log([0.05, 0.02, 1e-12])
    t = VoteTables.detector(k, r, f, 3, np.log1p(-np.exp(r)), np.log1p(-np.exp(f))).dense()
    p = np.exp(t)
    np.testing.assert_allclose(p[0, :, 3], [0.05, 0.05, 0.4])
    np.testing.assert_allclose(p[0, :, 0], [0.95, 0.95, 0.6])
    np.testing.assert_allclose(p[1, :, 1], [0.3, 0.02, 0.02])
    assert p[0, :, 1:3].max() < 2e-12 and p[2, :, 1:].max() < 2e-12


def test_a_large_class_count_fit_holds_o_m_c_tables_and_predicts_as_the_dense_formula():
    # 300 classes, 600 unipolar LFs: the dense table would be 600 x 300 x 301 cells.
    d = synthetic_sparse_unipolar(6000, num_lfs=600, cardinality=300, seed=0)
    lm = ts.LabelModel(300, seed=0).fit(d.L)
    cells = sum(int(np.prod(w.shape)) for w in lm.weights)
    assert lm.num_full_columns == 0
    assert cells < 4 * 600 * 300  # abstain, off, diag and the priors: O(m * C)
    # call equals the dense formula (every abstain counted, co-abstention as in em.py) on rows.
    L = d.L[:300].toarray().astype(np.int64) - 1  # stored: class index + 1
    lt = lm.vote_tables().dense()
    w = lm.fitted_choices["co_abstain_weight"]
    k = np.asarray(lm.lf_classes)
    logits = np.tile(np.log(lm.class_balance_.to_numpy()), (len(L), 1))
    prior_vote = np.exp(lm.log_vote_prior.numpy().astype(np.float64))
    voted = (L >= 0).any(1)
    logits[voted] = np.log(prior_vote / prior_vote.sum())
    for i, row in enumerate(L):
        classes = set(row[row >= 0].tolist())
        for j in range(L.shape[1]):
            if row[j] >= 0:
                logits[i] += lt[j, :, row[j] + 1]
            else:
                logits[i] += lt[j, :, 0] * (w if k[j] in classes else 1.0)
    want = np.exp(logits - logits.max(1, keepdims=True))
    want /= want.sum(1, keepdims=True)
    np.testing.assert_allclose(lm.predict_proba(L), want, atol=2e-5)
    assert (lm.predict(L) == d.y[:300]).mean() >= (ts.MajorityVoter(300).predict(L) == d.y[:300]).mean()


def test_grouped_lfs_get_full_columns_and_survive_save_load(tmp_path):
    rng = np.random.default_rng(1)
    n, c = 3000, 3
    y = rng.integers(0, c, n)
    L = np.full((n, 4), -1)
    for j in range(4):
        right = rng.random(n) < 0.7
        fire = rng.random(n) < 0.6
        L[fire, j] = np.where(right[fire], y[fire], rng.integers(0, c, fire.sum()))
    L = np.hstack([L, L[:, [1]]])
    lm = ts.LabelModel(c, dependencies=[[1, 4]], abstain_model="class_conditional").fit(L)
    # The grouped LFs' tables are the marginals of the group's joint table (+1e-6, normalized).
    codes = lm.group_codes[0].numpy()
    joint = np.exp(lm.group_log_probs[0].numpy().astype(np.float64))  # [P, C]
    dense = np.exp(lm.vote_tables().dense())
    for i, j in enumerate([1, 4]):
        digit = (codes // (c + 1) ** i) % (c + 1)
        marg = np.stack([joint[digit == v].sum(0) for v in range(c + 1)], axis=1) + 1e-6
        np.testing.assert_allclose(dense[j], marg / marg.sum(1, keepdims=True), rtol=1e-5)
    lm.save(tmp_path / "g.keras")
    back = ts.LabelModel.load(tmp_path / "g.keras")
    assert back.num_full_columns == lm.num_full_columns
    np.testing.assert_array_equal(back.predict_proba(L[:500]), lm.predict_proba(L[:500]))


def test_keras_files_with_the_dense_weight_load_and_predict_as_before(tmp_path):
    # Written by commit 6a2ae60 (one dense lf_log_probs [m, C, C + 1] weight): a 3-class
    # unipolar model with a group and a one-coin binary model; their soft labels and LF tables
    # as that code computed them.
    for name, full in (("legacy_unipolar", 2), ("legacy_bipolar", 0)):
        ref = np.load(DATA / f"{name}.npz")
        lm = ts.LabelModel.load(DATA / f"{name}.keras")
        # The grouped LFs 0 and 6 (both vote class 0): their class-0 column is a marginal.
        assert lm.num_full_columns == full
        np.testing.assert_allclose(lm.predict_proba(ref["L"]), ref["proba"], atol=1e-6)
        table = lm.lf_table()[["accuracy", "propensity", "group"]]  # copy_of came later
        np.testing.assert_allclose(table.to_numpy(), ref["table"], atol=1e-6)
        lm.save(tmp_path / f"{name}.keras")  # saved again in the O(m * C) layout
        again = ts.LabelModel.load(tmp_path / f"{name}.keras")
        np.testing.assert_array_equal(again.predict_proba(ref["L"]), lm.predict_proba(ref["L"]))
