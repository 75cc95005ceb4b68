"""Issue 12: the label model's memory and time grow with the votes, not with N x m x C.

The sparse internals (abstain terms summed once with votes replacing them, pair scores on
the cells an LF can fill, ``call`` gathering only the votes that exist) are checked equal to
plain dense reference formulas written out here, and a 1000-LF x 100-class matrix fits
within a memory bound that the dense formulation exceeds by orders of magnitude.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import tfsnorkel as ts
from tfsnorkel.labelmodel.stats import unique_rows
from tfsnorkel.labelmodel.structure import pair_scores
from tfsnorkel.labelmodel.synthetic import synthetic_family
from tfsnorkel.labelmodel.synthetic_sparse import synthetic_sparse_unipolar
from tfsnorkel.labelmodel.tables import VoteTables, as_dense


def _dense_pair_scores(rows, counts, c, pi, tables):
    """KL of every pair's full (C+1) x (C+1) observed joint from the implied one, by loops."""
    n = counts / counts.sum()
    m = rows.shape[1]
    out = np.zeros((m, m))
    for j in range(m):
        for k in range(m):
            if j == k:
                continue
            obs = np.zeros((c + 1, c + 1))
            np.add.at(obs, (rows[:, j] + 1, rows[:, k] + 1), n)
            implied = np.einsum("y,yv,yw->vw", pi, tables[j], tables[k])
            mask = obs > 0
            out[j, k] = (obs[mask] * (np.log(obs[mask] + 1e-12) - np.log(implied[mask] + 1e-12))).sum()
    return np.maximum(out, 0.0)


@pytest.mark.parametrize("kind", ["c6_unipolar", "bin_80_20_unipolar", "multipolar"])
def test_pair_scores_equal_the_full_joint(kind):
    rng = np.random.default_rng(1)
    if kind == "multipolar":
        L, c = rng.integers(-1, 4, size=(2000, 6)), 4
    else:
        d = synthetic_family(kind, n=3000)
        L, c = d.L[:, :8], d.cardinality
    rows, counts = unique_rows(L, c)
    m = rows.shape[1]
    tables = rng.dirichlet(np.ones(c + 1), size=(m, c))
    pi = rng.dirichlet(np.ones(c))
    np.testing.assert_allclose(
        pair_scores(rows, counts, c, pi, tables),
        _dense_pair_scores(rows, counts, c, pi, tables),
        atol=1e-12,
    )


def _reference_logits(lm: ts.LabelModel, L: np.ndarray) -> np.ndarray:
    """The layer's logits by loops over rows and LFs (the dense formulation)."""
    lt = lm.vote_tables().dense()
    m, c = lt.shape[0], lt.shape[1]
    grouped = {j for g in lm.groups for j in g}
    weight = lm._call_co_abstain_weight() if lm.lf_classes is not None else 1.0
    vote_prior = lm.log_vote_prior.numpy()
    balance = lm.log_class_balance.numpy()
    out = np.zeros((len(L), c))
    for i, row in enumerate(L):
        voted_classes = (
            {lm.lf_classes[j] for j in range(m) if row[j] >= 0 and lm.lf_classes[j] >= 0}
            if lm.lf_classes is not None
            else set()
        )

        def term(j):
            if row[j] >= 0:
                return lt[j, :, row[j] + 1]
            w = weight if lm.lf_classes is not None and lm.lf_classes[j] in voted_classes else 1.0
            return w * lt[j, :, 0]

        z = (vote_prior if (row >= 0).any() else balance).astype(np.float64)
        z = z + sum((term(j) for j in range(m) if j not in grouped), np.zeros(c))
        for g, codes, table in zip(lm.groups, lm.group_codes, lm.group_log_probs):
            code = int(sum((row[j] + 1) * (c + 1) ** p for p, j in enumerate(g)))
            hit = np.flatnonzero(codes.numpy() == code)
            z = z + (table.numpy()[hit[0]] if len(hit) else sum(term(j) for j in g))
        out[i] = z
    return out


@pytest.mark.parametrize(
    ("kind", "abstain_model"),
    [("c6_unipolar", "class_conditional"), ("c6_unipolar", "independent"),
     ("bin_80_20_unipolar", "class_conditional")],
)
def test_call_equals_the_dense_formula_with_groups_and_co_abstention(kind, abstain_model):
    d = synthetic_family(kind, n=4000)
    c = d.cardinality
    lm = ts.LabelModel(c, dependencies=[[0, 1], [4, 5, 6]], abstain_model=abstain_model)
    lm.fit(d.L)
    assert (lm.lf_classes is not None) == (abstain_model == "class_conditional")
    rng = np.random.default_rng(0)
    # Rows of the data plus unseen group patterns (the fallback) and all-abstain rows.
    L = np.concatenate([d.L[:300], rng.integers(-1, c, size=(100, d.L.shape[1])),
                        np.full((5, d.L.shape[1]), -1)]).astype(np.int32)
    ref = _reference_logits(lm, L)
    ref = np.exp(ref - ref.max(1, keepdims=True))
    np.testing.assert_allclose(lm.predict_proba(L), ref / ref.sum(1, keepdims=True), atol=1e-4)


@pytest.mark.slow
def test_a_thousand_lfs_and_a_hundred_classes_fit_in_bounded_memory():
    # The dense formulation needed a [m*(C+1)]^2 joint (81 GB) in structure learning and
    # [K, m] floats in every E-step; here memory grows with the votes.
    d = synthetic_sparse_unipolar(20_000, num_lfs=1000, cardinality=100, seed=0)
    assert 9.5 < d.L.nnz / d.L.shape[0] < 10.5
    lm = ts.LabelModel(cardinality=100)
    tracemalloc.start()
    lm.fit(d.L)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1.0e9, peak
    pred = lm.predict_proba(d.L).argmax(1)
    oracle = d.posterior(d.L).argmax(1)
    votes = np.asarray(d.L.astype(np.float64).sign() @ np.eye(100)[d.lf_classes])
    mv = votes + np.random.default_rng(0).uniform(0, 1e-3, votes.shape)  # ties at random
    acc, acc_oracle, acc_mv = (np.mean(p == d.y) for p in (pred, oracle, mv.argmax(1)))
    assert acc >= acc_mv + 0.02, (acc, acc_mv)
    assert acc >= acc_oracle - 0.01, (acc, acc_oracle)


def test_sparse_statistics_equal_the_dense_ones_and_fit_the_same_model():
    import scipy.sparse as sp

    from tfsnorkel.labelmodel.stats import LabelStats

    d = synthetic_family("c6_unipolar", n=6000)
    S = sp.csr_matrix(d.L + 1)
    dense, sparse = LabelStats.from_matrix(d.L, 6), LabelStats.from_matrix(S, 6)
    assert sparse.sparse and not dense.sparse and sp.issparse(sparse.rows)
    as_dense = sparse.rows.toarray().astype(np.int64) - 1
    a, b = np.lexsort(as_dense.T), np.lexsort(dense.rows.T)
    np.testing.assert_array_equal(as_dense[a], dense.rows[b])
    np.testing.assert_array_equal(sparse.counts[a], dense.counts[b])
    # Streaming and merging keep the same statistics.
    halves = LabelStats(6).update(S[:2500]).merge(LabelStats.from_matrix(S[2500:], 6))
    assert halves.num_unique == dense.num_unique and halves.num_rows == 6000
    a = ts.LabelModel(6).fit(d.L)
    b = ts.LabelModel(6).fit(S)
    assert a.dependencies_ == b.dependencies_ and a.fitted_choices == b.fitted_choices
    np.testing.assert_allclose(b.predict_proba(S), a.predict_proba(d.L), atol=1e-5)


def test_a_tf_data_stream_of_sparse_tensors_fits_like_the_matrix():
    import scipy.sparse as sp
    import tensorflow as tf

    d = synthetic_family("c3_unipolar_sparse", n=4000)
    S = sp.coo_matrix(d.L + 1)
    st = tf.sparse.reorder(tf.sparse.SparseTensor(
        np.stack([S.row, S.col], 1).astype(np.int64), S.data.astype(np.int32), S.shape
    ))
    ds = tf.data.Dataset.from_tensor_slices(st).batch(512)
    a = ts.LabelModel(3).fit(d.L)
    b = ts.LabelModel(3).fit(ds)
    np.testing.assert_allclose(b.predict_proba(d.L), a.predict_proba(d.L), atol=1e-5)


def test_sparse_row_hash_collisions_never_merge_different_rows(monkeypatch):
    import scipy.sparse as sp

    import tfsnorkel.labelmodel.stats as stats

    # Every row hashes alike: the entry-by-entry check must still separate them.
    monkeypatch.setattr(stats, "_splitmix64", lambda x: np.zeros_like(x))
    R = stats.check_sparse_votes(sp.csr_matrix([[1, 0, 2], [0, 1, 0], [1, 0, 2], [0, 0, 0]]), 2)
    rows, counts, inverse = stats.unique_sparse_rows(R, 2)
    assert sorted(counts.tolist()) == [1, 1, 2]
    assert inverse[0] == inverse[2] and len({inverse[0], inverse[1], inverse[3]}) == 3
    np.testing.assert_array_equal(rows[inverse].toarray(), R.toarray())


@pytest.mark.parametrize("name", ["bin_80_20_unipolar", "c6_unipolar", "bin_95_5_unipolar_sparse",
                                  "c20_unipolar", "bin_85_15_bipolar", "bin_90_10_copies5"])
@pytest.mark.parametrize("use_dev", [False, True])
def test_the_votes_em_equals_the_dense_em(name, use_dev, monkeypatch):
    # The O(votes) iterations (one-coin and unipolar class-conditional runs) against the
    # dense [K, C] ones: the same fit, choice and BIC table, to float64 rounding.
    import tfsnorkel.labelmodel.em as em
    from tfsnorkel.labelmodel.fitting import FitSettings, fit_parameters
    from tfsnorkel.labelmodel.stats import LabelStats

    d = synthetic_family(name, n=8000)
    stats = LabelStats.from_matrix(d.L, d.cardinality)
    dev = np.random.default_rng(0).choice(len(d.y), 300, replace=False)
    extra = (d.L[dev], d.y[dev]) if use_dev else ()
    fits = {}
    for flag in (False, True):
        monkeypatch.setattr(em, "USE_VOTES_EM", flag)
        fits[flag] = fit_parameters(stats, FitSettings(cardinality=d.cardinality), *extra)
    dense, fast = fits[False], fits[True]
    assert fast.abstain_model == dense.abstain_model and fast.groups == dense.groups
    if not fast.groups:  # the O(votes) EM ran the final fit: no [m, C, C + 1] array
        assert isinstance(fast.lf_log_tables, VoteTables)
    np.testing.assert_allclose(as_dense(fast.lf_log_tables), as_dense(dense.lf_log_tables),
                               atol=1e-9)
    np.testing.assert_allclose(fast.class_balance, dense.class_balance, atol=1e-9)
    np.testing.assert_allclose(fast.vote_prior, dense.vote_prior, atol=1e-9)
    np.testing.assert_allclose([r["bic"] for r in fast.selection],
                               [r["bic"] for r in dense.selection], rtol=1e-9)


@pytest.mark.parametrize("cardinality", [2, 5])
def test_a_matrix_without_votes_fits_both_forms_to_the_balance(cardinality):
    # No vote at all (every row abstains): the O(votes) E-step sums over empty entry arrays.
    # Both abstain forms fit and predict the learned balance on every row, no NaN.
    L = np.full((6, 4), -1)
    for form in ("auto", "class_conditional", "independent"):
        lm = ts.LabelModel(cardinality=cardinality, abstain_model=form).fit(L)
        p = lm.predict_proba(L)
        assert np.isfinite(p).all()
        np.testing.assert_allclose(p, np.broadcast_to(lm.class_balance_, p.shape), atol=1e-6)


def test_the_readme_sparse_snippet_runs_as_written():
    import scipy.sparse as sp

    from tests.test_readme import readme_snippet

    code = readme_snippet("## The label model")
    assert "sp.csr_matrix" in code
    ns = {"ts": ts}
    exec(compile(code, "README.md", "exec"), ns)
    lm, L = ns["lm"], ns["L"]
    assert sp.issparse(L) and lm.num_lfs == 3
    p = lm.predict_proba(L)
    np.testing.assert_allclose(p.sum(1), 1.0, atol=1e-6)
    # The stored values are classes + 1: the rows equal their dense form's.
    np.testing.assert_allclose(p, lm.predict_proba(np.array([[0, -1, 2], [-1, 1, -1]])), atol=1e-6)


@pytest.mark.parametrize("cardinality", [2, 3, 7])
def test_the_detector_prior_reductions_equal_the_dense_prior(cardinality):
    """The O(m * C) pseudo-counts the O(votes) EM uses are those of the [m, C, C + 1] prior."""
    from tfsnorkel.labelmodel.em import ExactEM
    from tfsnorkel.labelmodel.stats import LabelStats

    rng = np.random.default_rng(cardinality)
    m, n = 12, 3000
    lf_classes = rng.integers(0, cardinality, m)
    lf_classes[0] = -1  # an LF that never votes
    L = np.full((n, m), -1)
    for j in np.flatnonzero(lf_classes >= 0):
        L[rng.random(n) < rng.uniform(0.02, 0.4), j] = lf_classes[j]
    stats = LabelStats.from_matrix(L, cardinality)
    em = ExactEM(stats.rows, stats.counts, cardinality, [], (32.0, 8.0), 0.6, 0.5)
    prior = em.dirichlet_prior()
    k, idx = np.maximum(lf_classes, 0), np.arange(m)
    fire_own, fire_all, row_tot = em.dirichlet_reductions(lf_classes)
    np.testing.assert_allclose(fire_own, prior[idx, k, k + 1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fire_all, prior[idx, :, k + 1].sum(1), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(row_tot, prior.sum(2), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["c6_unipolar", "bin_80_20_unipolar", "c3_multipolar_copies3"])
def test_compact_posterior_tables_equal_the_dense_formula(kind):
    """Structure learning's tables, kept as the cells that can differ from a floor (O(m * C)),
    equal the [m, C, C + 1] posterior-weighted vote frequencies, and so do the pair scores."""
    from tfsnorkel.labelmodel.em import softmax
    from tfsnorkel.labelmodel.fitting import FitSettings, fit_parameters
    from tfsnorkel.labelmodel.stats import LabelStats

    d = synthetic_family(kind, n=5000, seed=0)
    c = int(d.class_balance.shape[0])
    stats = LabelStats.from_matrix(d.L, c)
    fitted = fit_parameters(
        stats, FitSettings(cardinality=c, abstain_model="class_conditional", dependencies=None)
    )
    em, log_prior = fitted.em, np.log(fitted.vote_prior)
    # The dense reference: every (LF, vote value, class) cell counted, plus 1e-9, normalized.
    r = softmax(em.logits(log_prior, fitted.lf_log_tables, fitted.group_tables)) * em.n[:, None]
    cnt = np.empty((em.m, c + 1, c))
    cnt[:, 1:, :] = np.asarray(em.all_votes.T @ r).reshape(em.m, c, c)
    cnt[:, 0, :] = r.sum(0)[None, :] - cnt[:, 1:, :].sum(1)
    cnt = np.maximum(cnt, 0.0).transpose(0, 2, 1) + 1e-9
    want = cnt / cnt.sum(2, keepdims=True)
    pi, compact = em.posterior_tables(log_prior, fitted.lf_log_tables, fitted.group_tables)
    np.testing.assert_allclose(compact.dense(), want, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(pi, r.sum(0) / r.sum(), rtol=1e-12)
    assert compact.votes.size < want.size  # only the vote values that occur are stored
    np.testing.assert_allclose(
        pair_scores(stats.rows, stats.counts, c, pi, compact),
        pair_scores(stats.rows, stats.counts, c, pi, want), rtol=1e-9, atol=1e-12,
    )


@pytest.mark.parametrize("kind", ["c6_unipolar", "bin_90_10_copies5"])
def test_covered_log_likelihood_equals_the_dense_formula(kind):
    """The BIC rule's yardstick, summed over the vote columns that occur, equals
    log sum_y prior(y) prod_factors P(votes | y) - log P(covered), term by term."""
    from tfsnorkel.labelmodel.em import group_codes
    from tfsnorkel.labelmodel.fitting import FitSettings, covered_log_likelihood, fit_parameters
    from tfsnorkel.labelmodel.stats import LabelStats

    d = synthetic_family(kind, n=4000, seed=1)
    c = int(d.class_balance.shape[0])
    stats = LabelStats.from_matrix(d.L, c)
    fitted = fit_parameters(stats, FitSettings(cardinality=c, abstain_model="class_conditional"))
    if kind == "bin_90_10_copies5":
        assert fitted.groups  # the copies are learned as a group
    lt, prior = as_dense(fitted.lf_log_tables), np.log(fitted.vote_prior)
    single = np.ones(stats.num_lfs, bool)
    for g in fitted.groups:
        single[g] = False
    rows, n = stats.rows, stats.counts.astype(float)
    logits = np.tile(prior, (len(rows), 1))
    silent = prior.copy()
    for j in np.flatnonzero(single):
        logits += lt[j][:, rows[:, j] + 1].T
        silent += lt[j][:, 0]
    for g, table, (codes, _) in zip(fitted.groups, fitted.group_tables, fitted.em.patterns):
        logits += table[np.searchsorted(codes, group_codes(rows, g, c))]
        silent += table[0] if codes[0] == 0 else -np.inf
    covered = (rows >= 0).any(1)
    mx = logits.max(1, keepdims=True)
    row_ll = mx[:, 0] + np.log(np.exp(logits - mx).sum(1))
    want = (n[covered] * row_ll[covered]).sum() / n[covered].sum() - np.log(
        1 - np.exp(np.logaddexp.reduce(silent)))
    got = covered_log_likelihood(fitted, stats.rows, stats.counts)
    assert got == pytest.approx(want, rel=1e-10, abs=1e-10)
