"""``apply(..., sparse=True)``: the same votes as the dense matrix, as CSR storing class + 1."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import tensorflow as tf

import tfsnorkel as ts
from tfsnorkel.labeling import LFSet, keyword_lf, labeling_function, regex_lf


def _dense(S: sp.csr_matrix) -> np.ndarray:
    return S.toarray().astype(np.int32) - 1


@pytest.fixture(scope="module")
def spam_lfs():
    @labeling_function(fields=["text"])
    def shouty(x):
        return 1 if x.text.isupper() and x.text else ts.ABSTAIN

    words = ["check", "subscribe", "song", "love", "channel", "video", "please", "my"]
    lfs = [keyword_lf(w, i % 2, name=f"kw_{w}") for i, w in enumerate(words)]
    # 16+ whole-word keyword LFs on one field share a token table; a regex and a Python LF don't.
    lfs += [keyword_lf(f"w{i}", i % 2, name=f"kw{i}") for i in range(10)]
    lfs += [regex_lf(r"https?://", 1, name="url"), shouty]
    return LFSet(lfs, cardinality=2)


def test_sparse_equals_dense_on_real_comments_in_every_input_form(youtube, spam_lfs):
    df = youtube.train.frame[["text"]].copy()
    df.loc[3, "text"] = None  # a missing value abstains in both
    L = spam_lfs.apply(df, batch_size=256, progress=False)
    S = spam_lfs.apply(df, batch_size=256, progress=False, sparse=True)
    assert sp.isspmatrix_csr(S) and S.shape == L.shape and S.dtype == np.int32
    assert S.nnz == int((L >= 0).sum()) > 1000 and (S.data >= 1).all()
    np.testing.assert_array_equal(_dense(S), L)
    S.has_sorted_indices = False
    S.sort_indices()  # already sorted: sorting changes nothing
    np.testing.assert_array_equal(_dense(S), L)
    # A tf.data dataset (rows unknown in advance) and an iterator of chunks.
    ds = tf.data.Dataset.from_tensor_slices({"text": df["text"].fillna("").tolist()})
    np.testing.assert_array_equal(_dense(spam_lfs.apply(ds, batch_size=300, sparse=True)),
                                  spam_lfs.apply(ds, batch_size=300))
    chunks = iter([df.iloc[:500], df.iloc[500:]])
    np.testing.assert_array_equal(_dense(spam_lfs.apply(chunks, sparse=True)), L)


def test_rows_without_votes_and_the_label_model_reads_it(spam_lfs):
    df = pd.DataFrame({"text": ["", "zzz", "check my channel", "", "SONG", "qq"]})
    S = spam_lfs.apply(df, batch_size=2, sparse=True)
    L = spam_lfs.apply(df, batch_size=2)
    assert S.shape == (6, len(spam_lfs)) and S[[0, 1, 3, 5]].nnz == 0
    np.testing.assert_array_equal(_dense(S), L)
    lm = ts.LabelModel(cardinality=2).fit(np.vstack([L] * 30))
    np.testing.assert_allclose(lm.predict_proba(S), lm.predict_proba(L), atol=1e-6)


def test_the_threaded_map_keeps_order_errors_and_early_stops():
    from tfsnorkel.labeling.apply import _labelled, _ThreadedBatches
    from tfsnorkel.labeling import column_lf

    lfs = LFSet([column_lf("w"), keyword_lf("a", 1)], cardinality=2)
    n = 1000
    w = np.tile([1.0, 0.0, -1.0], n // 3 + 1)[:n]
    data = {"w": w, "text": ["a b"] * n}
    # Compiled LFs on in-memory data: threads; a Python LF set keeps the tf.data map.
    assert isinstance(_labelled(lfs, data, 64, None, False)[0], _ThreadedBatches)

    @labeling_function(fields=["text"])
    def py(x):
        return ts.ABSTAIN

    assert not isinstance(_labelled(LFSet([py], cardinality=2), {"text": ["a"]}, 64, None,
                                    False)[0], _ThreadedBatches)
    # Batches come back in order (16 batches of 64 on a pool of threads).
    L = lfs.apply(data, batch_size=64, num_parallel_calls=4)
    np.testing.assert_array_equal(L[:, 0], w.astype(int))
    np.testing.assert_array_equal(_dense(lfs.apply(data, batch_size=64, sparse=True)), L)
    # An error in a late batch names its row in the whole input, dense and sparse.
    bad = w.copy()
    bad[777] = 5.0
    for sparse in (False, True):
        with pytest.raises(ValueError, match=r"LF 'w' voted 5 at row 777;"):
            lfs.apply({"w": bad, "text": data["text"]}, batch_size=64, sparse=sparse)
    # A consumer that stops after one batch ends the run (no hang, the rest not needed).
    it = lfs.stream(data, batch_size=64)
    feats, L0 = next(it)
    it.close()
    np.testing.assert_array_equal(L0, L[:64])
