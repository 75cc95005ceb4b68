"""Unique-row sufficient statistics: exact, additive across batches and shards."""

from __future__ import annotations

import numpy as np
import pytest

from tfsnorkel.labelmodel import LabelStats, unique_rows


@pytest.mark.parametrize(("m", "cardinality"), [(5, 2), (70, 3), (30, 200)])
def test_unique_rows_counts_every_row(m, cardinality):
    rng = np.random.default_rng(m)
    L = rng.integers(-1, min(cardinality, 3), size=(3000, m)).astype(np.int32)
    L[::3] = L[0]
    rows, counts = unique_rows(L, cardinality)
    assert counts.sum() == 3000
    ref_rows, ref_counts = np.unique(L, axis=0, return_counts=True)
    assert len(rows) == len(ref_rows)
    as_dict = {tuple(r): c for r, c in zip(rows.astype(int).tolist(), counts.tolist())}
    assert as_dict == {tuple(r): c for r, c in zip(ref_rows.tolist(), ref_counts.tolist())}


def test_stats_are_additive_across_batches_and_shards():
    rng = np.random.default_rng(0)
    L = rng.integers(-1, 2, size=(5000, 8)).astype(np.int32)
    whole = LabelStats.from_matrix(L, 2)
    streamed = LabelStats.from_batches((L[i : i + 700] for i in range(0, 5000, 700)), 2)
    shards = LabelStats.from_matrix(L[:2500], 2).merge(LabelStats.from_matrix(L[2500:], 2))
    for other in (streamed, shards):
        np.testing.assert_array_equal(other.rows, whole.rows)
        np.testing.assert_array_equal(other.counts, whole.counts)
    assert whole.num_rows == 5000


def test_stats_errors():
    s = LabelStats(2).update(np.zeros((3, 4), int))
    with pytest.raises(ValueError, match="same number of LF columns"):
        s.update(np.zeros((3, 5), int))
    with pytest.raises(ValueError, match=r"column 1.*voted 2"):
        s.update(np.array([[0, 2, 0, 0]]))
    with pytest.raises(ValueError, match="cannot merge"):
        s.merge(LabelStats(3))
    with pytest.raises(ValueError, match="Received: cardinality=1"):
        LabelStats(1)


def test_large_batches_are_counted_in_chunks(monkeypatch):
    import tfsnorkel.labelmodel.stats as stats_module

    rng = np.random.default_rng(1)
    L = rng.integers(-1, 2, size=(20_000, 6)).astype(np.int32)
    whole = LabelStats.from_matrix(L, 2)
    monkeypatch.setattr(stats_module, "_CHUNK_ROWS", 777)
    chunked = LabelStats.from_matrix(L, 2)
    np.testing.assert_array_equal(chunked.rows, whole.rows)
    np.testing.assert_array_equal(chunked.counts, whole.counts)
