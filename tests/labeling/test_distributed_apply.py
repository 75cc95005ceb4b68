"""Scale-out appliers: a local tf.data service (2 workers) and Dask, against in-process apply."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tfsnorkel.labeling import (
    LabelingFunctionError,
    LFSet,
    keyword_lf,
    labeling_function,
    spam_lfs,
)
from tfsnorkel.labeling.distributed import (
    LocalDataService,
    apply_dask,
    apply_with_service,
    label_stats_dask,
    label_stats_with_service,
)
from tfsnorkel.labelmodel import LabelModel
from tfsnorkel.labelmodel.stats import LabelStats


@labeling_function()
def long_comment(x):
    return 0 if len(x.text) > 120 else -1


@labeling_function()
def explodes_on_zzz(x):
    if "zzz" in x.text:
        raise RuntimeError("boom")
    return -1


@pytest.fixture(scope="module")
def service():
    with LocalDataService(num_workers=2) as svc:
        yield svc


@pytest.fixture(scope="module")
def spam():
    return LFSet(spam_lfs())


def test_local_service_has_two_workers_on_loopback(service):
    assert service.target.startswith("grpc://localhost:")
    assert len(service.worker_addresses) == 2
    assert all(a.startswith("localhost:") for a in service.worker_addresses)
    assert len(set(service.worker_addresses)) == 2


def test_service_apply_equals_in_process_on_youtube(service, spam, youtube):
    frame = youtube.train.frame
    L = apply_with_service(spam, frame, service.target, batch_size=64)  # 25 batches over 2 workers
    assert L.shape == (1586, 7) and L.dtype == np.int32
    np.testing.assert_array_equal(L, spam.apply(frame))
    np.testing.assert_array_equal(L, youtube.train.L[:, :7])  # the shipped weak labels


def test_service_apply_restores_row_order_of_a_dataset(service, spam, youtube):
    frame = youtube.valid.frame
    n = len(frame)
    perm = np.random.default_rng(0).permutation(n)
    ds = tf.data.Dataset.from_tensor_slices({"text": frame["text"].to_numpy(str), "pos": perm})
    L = apply_with_service(spam, ds, service.target, batch_size=16, row_key="pos")
    expected = np.empty_like(L)
    expected[perm] = youtube.valid.L[:, :7]  # row i of the data sits at position perm[i]
    np.testing.assert_array_equal(L, expected)


def test_service_stats_equal_in_process_stats(service, spam, youtube):
    frame = youtube.train.frame
    stats = label_stats_with_service(spam, frame, service.target, batch_size=64)
    ref = LabelStats.from_matrix(spam.apply(frame), cardinality=2)
    assert (stats.num_rows, stats.num_unique) == (1586, ref.num_unique) == (1586, 55)
    np.testing.assert_array_equal(stats.rows, ref.rows)
    np.testing.assert_array_equal(stats.counts, ref.counts)
    # a dataset needs no row ids for statistics
    ds = tf.data.Dataset.from_tensor_slices({"text": frame["text"].to_numpy(str)})
    again = label_stats_with_service(spam, ds, service.target, batch_size=100)
    np.testing.assert_array_equal(again.counts, ref.counts)
    # the label model fitted on the service's statistics equals the one fitted on L
    L = youtube.train.L[:, :7]
    P_stats = LabelModel(cardinality=2).fit(stats).predict_proba(L)
    P_matrix = LabelModel(cardinality=2).fit(L).predict_proba(L)
    np.testing.assert_allclose(P_stats, P_matrix, atol=1e-6)


def test_python_lfs_run_on_in_process_workers(service, youtube):
    lfs = LFSet([*spam_lfs(), long_comment])
    frame = youtube.test.frame
    L = apply_with_service(lfs, frame, service.target, batch_size=50)
    np.testing.assert_array_equal(L, lfs.apply(frame))
    expected_long = np.where(frame["text"].str.len() > 120, 0, -1)
    np.testing.assert_array_equal(L[:, 7], expected_long)
    assert (L[:, 7] == 0).sum() == (frame["text"].str.len() > 120).sum() > 0


def test_python_lf_error_names_the_lf_and_row(service):
    lfs = LFSet([explodes_on_zzz])
    data = {"text": ["fine", "ok", "zzz here", "fine"]}
    with pytest.raises(LabelingFunctionError, match=r"explodes_on_zzz.*row 2"):
        apply_with_service(lfs, data, service.target, batch_size=2)


def test_python_lfs_refused_on_a_service_outside_this_process_registry():
    svc = tf.data.experimental.service
    dispatcher = svc.DispatchServer(svc.DispatcherConfig(port=0))
    try:
        lfs = LFSet([*spam_lfs(), long_comment])
        with pytest.raises(ValueError, match=r"Python LFs \['long_comment'\].*Received: service="):
            apply_with_service(lfs, {"text": ["a"]}, dispatcher.target)
    finally:
        dispatcher._stop()


def test_unreachable_service_fails_fast_with_a_clear_error(spam):
    free = socket.socket()
    free.bind(("localhost", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    start = time.monotonic()
    msg = rf"no tf.data service dispatcher answers at localhost:{port}"
    with pytest.raises(ConnectionError, match=msg):
        apply_with_service(spam, {"text": ["a"]}, f"grpc://localhost:{port}", connect_timeout=0.5)
    silent = socket.socket()  # accepts TCP, never speaks gRPC
    silent.bind(("localhost", 0))
    silent.listen(1)
    try:
        target = f"grpc://localhost:{silent.getsockname()[1]}"
        with pytest.raises(ConnectionError, match=r"timed out.*Received: service="):
            label_stats_with_service(spam, {"text": ["a"]}, target, connect_timeout=0.5)
    finally:
        silent.close()
    # not a hang: two 0.5 s probes; the bound leaves room for a loaded machine
    assert time.monotonic() - start < 60


def test_a_worker_address_is_not_a_dispatcher(service, spam):
    with pytest.raises(ConnectionError, match="not a tf.data dispatcher"):
        # the worker answers UNIMPLEMENTED at once; on a loaded machine 2 s could expire
        # first and give "timed out" instead: the timeout only bounds a failure
        apply_with_service(spam, {"text": ["a"]}, service.worker_addresses[0], connect_timeout=30)


def test_bad_arguments_get_clear_errors(service, spam):
    ds = tf.data.Dataset.from_tensor_slices({"text": ["a", "b"]})
    with pytest.raises(ValueError, match="row_key"):
        apply_with_service(spam, ds, service.target)
    with pytest.raises(KeyError, match="row_key 'id'"):
        apply_with_service(spam, ds, service.target, row_key="id")
    with pytest.raises(ValueError, match="Received: processing_mode='parallel_epochs'"):
        apply_with_service(spam, {"text": ["a"]}, service.target, processing_mode="parallel_epochs")
    with pytest.raises(ValueError, match="grpc protocol"):
        apply_with_service(spam, {"text": ["a"]}, "http://localhost:1")
    with pytest.raises(KeyError, match="keyword_my.*'text'"):
        apply_with_service(spam, {"body": ["a"]}, service.target)
    with pytest.raises(ValueError, match="Received: num_workers=0"):
        LocalDataService(num_workers=0)


def test_prebatched_dataset_and_many_lfs(service, youtube):
    frame = youtube.valid.frame
    words = ["my", "song", "http", "love", "check", "out", "video", "subscribe", "channel", "like",
             "please", "music", "this", "is", "the", "a", "i", "you", "it", "to"]
    # 40 LFs: 3**40 patterns overflow one int64 code, so statistics ship the batches
    specs = [(w, m) for m in ("word", "substring") for w in words]
    lfs = LFSet([keyword_lf(w, label=k % 2, match=m, name=f"{m}_{w}_{k}")
                 for k, (w, m) in enumerate(specs)])
    ref = lfs.apply(frame)
    n = len(frame)
    ds = tf.data.Dataset.from_tensor_slices(
        {"text": frame["text"].to_numpy(str), "row": np.arange(n)}).batch(30)
    np.testing.assert_array_equal(apply_with_service(lfs, ds, service.target, row_key="row"), ref)
    stats = label_stats_with_service(lfs, frame, service.target, batch_size=32)
    expected = LabelStats.from_matrix(ref, cardinality=2)
    assert stats.num_lfs == 40 and stats.num_rows == n == 120
    np.testing.assert_array_equal(stats.rows, expected.rows)
    np.testing.assert_array_equal(stats.counts, expected.counts)


def test_package_root_never_imports_dask():
    code = ("import sys, tfsnorkel, tfsnorkel.labeling.distributed; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'dask'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------------- Dask
def test_dask_apply_and_stats_equal_in_process(spam, youtube):
    import dask.dataframe as dd

    frame = youtube.train.frame
    ddf = dd.from_pandas(frame, npartitions=4)
    L = apply_dask(spam, ddf, batch_size=128)
    assert L.dtype == np.int32 and L.numblocks == (4, 1)
    L = np.asarray(L.compute())
    np.testing.assert_array_equal(L, youtube.train.L[:, :7])
    stats = label_stats_dask(spam, ddf)
    ref = LabelStats.from_matrix(L, cardinality=2)
    np.testing.assert_array_equal(stats.rows, ref.rows)
    np.testing.assert_array_equal(stats.counts, ref.counts)
    assert stats.num_rows == 1586


def test_dask_missing_values_and_errors(spam):
    import dask.dataframe as dd

    pdf = pd.DataFrame({"text": ["check it out", None, "great song"]})
    ddf = dd.from_pandas(pdf, npartitions=2)
    np.testing.assert_array_equal(apply_dask(spam, ddf).compute(), spam.apply(pdf))
    assert (spam.apply(pdf)[1] == -1).all()
    with pytest.raises(KeyError, match="keyword_my.*'text'.*Available columns: \\['body'\\]"):
        apply_dask(spam, dd.from_pandas(pd.DataFrame({"body": ["a"]}), npartitions=1))
    with pytest.raises(TypeError, match="Received: DataFrame"):
        apply_dask(spam, pdf)


def test_docstring_examples_run():
    import doctest

    from tfsnorkel.labeling import distributed

    result = doctest.testmod(distributed)
    assert result.attempted >= 12 and result.failed == 0


def test_dask_runs_python_lfs_and_says_when_dask_is_missing(spam, youtube, monkeypatch):
    import dask.dataframe as dd

    frame = youtube.test.frame
    lfs = LFSet([*spam_lfs(), long_comment])
    L = apply_dask(lfs, dd.from_pandas(frame, npartitions=3)).compute()
    np.testing.assert_array_equal(L, lfs.apply(frame))
    assert (L[:, 7] == 0).sum() == (frame["text"].str.len() > 120).sum()
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(ImportError, match=r"pip install 'tfsnorkel\[dask\]'"):
        apply_dask(spam, frame)
