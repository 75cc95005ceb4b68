"""Scale-out appliers: the same compiled LF map on a tf.data service or on Dask partitions.

This module is optional and never imported by the package root (Dask stays an optional
dependency, imported lazily). Import it explicitly::

    from tfsnorkel.labeling.distributed import LocalDataService, apply_with_service

**tf.data service.** `apply_with_service` ships the LF map (``lfset`` over batches) to the
workers of a tf.data service with ``tf.data.experimental.service.distribute`` in
``"distributed_epoch"`` mode: the dispatcher hands out batches, each processed once by one
worker. That mode does not preserve order, so every batch carries its row ids through the
map and the client reorders at the end: the result equals ``lfset.apply(data)`` row for row.
`label_stats_with_service` returns the additive sufficient statistics (`LabelStats`, the
unique vote patterns with their counts) instead: each worker reduces its batch to
``(pattern code, count)`` pairs, so neither the client nor the wire ever holds the matrix.
`LocalDataService` starts a dispatcher and workers in this process (tests, one machine).
If the dispatcher goes away during a run, TensorFlow keeps retrying rather than failing; the
address is checked (``connect_timeout``) only before the run starts.

In-memory data (a DataFrame or dict of arrays) is embedded in the dataset graph sent to the
dispatcher, so it must fit in one process's memory and in a 2 GB graph (200k YouTube
comments make 19 MB). Data that
does not: pass a ``tf.data.Dataset`` that the workers read themselves (e.g. TFRecord files on
shared storage) with a ``row_key`` field holding each row's position.

**Python LFs** run through ``tf.numpy_function``, which only exists inside the Python
process that built the LF set: workers started in this process (`LocalDataService`) can run
them, a separate worker process cannot. The appliers raise a ``ValueError`` naming the
Python LFs when the service is not a `LocalDataService` of this process; compile those LFs
(`keyword_lf`, `regex_lf`, ...) to run them on a remote service.

**Dask.** `apply_dask` and `label_stats_dask` map each partition of a Dask DataFrame through
the same compiled LF set (one task per partition, in partition order); use Dask's threaded
(default) or synchronous scheduler: an `LFSet` holds a lock and TF state and cannot be
pickled, which process-based and distributed schedulers need.
"""

from __future__ import annotations

import inspect
import socket
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import tensorflow as tf

from tfsnorkel.labeling.apply import _check_batch_size, _in_memory, _readers, columns_to_features
from tfsnorkel.labeling.lfset import ROW_KEY
from tfsnorkel.labelmodel.stats import LabelStats

if TYPE_CHECKING:
    from tfsnorkel.labeling.lfset import LFSet

__all__ = [
    "LocalDataService",
    "apply_dask",
    "apply_with_service",
    "label_stats_dask",
    "label_stats_with_service",
]

_service = tf.data.experimental.service
_LOCAL_TARGETS: set[str] = set()
_LOCAL_LOCK = threading.Lock()
#: pattern-code batches gathered on the client before they are collapsed
_COLLAPSE_EVERY = 64
#: how often a client asks the dispatcher for new tasks (TF's public default: 1 s)
_TASK_REFRESH_MS = 100


# ---------------------------------------------------------------------------- local service
class LocalDataService:
    """A tf.data service (one dispatcher, ``num_workers`` workers) on loopback, in this process.

    Ports are chosen by the operating system and the servers are addressed through ``host``.
    TensorFlow's servers listen on all interfaces (their bind address is not configurable)
    and run any dataset graph sent to them: on a machine reachable by others, keep their
    ports behind a firewall. Workers live in this Python process, so LF sets with Python
    LFs run on them too. Use it as a context manager, or call :meth:`start` / :meth:`stop`.

    Args:
        num_workers: number of ``WorkerServer`` instances. Defaults to `2`.
        host: the host name the workers advertise and clients use. Defaults to `"localhost"`.

    Attributes:
        target: the dispatcher address, ``"grpc://host:port"`` (after :meth:`start`).
        worker_addresses: ``["host:port", ...]`` of the workers (after :meth:`start`).

    Example:
        >>> from tfsnorkel.labeling import LFSet, keyword_lf
        >>> lfs = LFSet([keyword_lf("song", label=0)])
        >>> with LocalDataService(num_workers=1) as svc:
        ...     apply_with_service(lfs, {"text": ["a song", "b"]}, svc.target).ravel().tolist()
        [0, -1]
    """

    def __init__(self, num_workers: int = 2, host: str = "localhost") -> None:
        if (isinstance(num_workers, bool) or not isinstance(num_workers, (int, np.integer))
                or num_workers < 1):
            raise ValueError(
                f"num_workers must be a positive integer. Received: num_workers={num_workers!r}"
            )
        self.num_workers = int(num_workers)
        self.host = str(host)
        self.target: str | None = None
        self.worker_addresses: list[str] = []
        self._dispatcher: Any = None
        self._workers: list[Any] = []

    def __repr__(self) -> str:
        return f"LocalDataService(num_workers={self.num_workers}, target={self.target!r})"

    def start(self) -> LocalDataService:
        """Starts the dispatcher, then the workers; returns ``self``."""
        if self._dispatcher is not None:
            raise RuntimeError(f"this service is already running. Received: target={self.target!r}")
        self._dispatcher = _service.DispatchServer(_service.DispatcherConfig(port=0))
        port = self._dispatcher.target.rsplit(":", 1)[1]
        address = f"{self.host}:{port}"
        self._workers = [
            _service.WorkerServer(
                _service.WorkerConfig(
                    dispatcher_address=address, worker_address=f"{self.host}:%port%", port=0,
                    heartbeat_interval_ms=500,
                )
            )
            for _ in range(self.num_workers)
        ]
        self.target = f"grpc://{address}"
        self.worker_addresses = [w._address for w in self._workers]  # bound port (port=0)
        with _LOCAL_LOCK:
            _LOCAL_TARGETS.add(_normalize(self.target))
        return self

    def stop(self) -> None:
        """Stops the workers and the dispatcher (idempotent)."""
        if self._dispatcher is None:
            return
        with _LOCAL_LOCK:
            _LOCAL_TARGETS.discard(_normalize(self.target))
        for w in self._workers:
            w._stop()
        self._dispatcher._stop()
        self._dispatcher, self._workers, self.worker_addresses = None, [], []

    def __enter__(self) -> LocalDataService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------- checks
def _normalize(service: str) -> str:
    s = service[len("grpc://"):] if service.startswith("grpc://") else service
    host, _, port = s.rpartition(":")
    if host in ("127.0.0.1", "::1", "[::1]"):
        host = "localhost"
    return f"{host}:{port}"


def _probe_dispatcher(hostport: str, timeout: float) -> str | None:
    """Calls the dispatcher's ``GetVersion`` RPC; returns why it failed, or `None`."""
    try:
        import grpc  # a dependency of tensorflow
    except ImportError:  # pragma: no cover - TF ships grpcio
        host, _, port = hostport.rpartition(":")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return None
        except OSError as exc:
            return str(exc.strerror or exc)
    with grpc.insecure_channel(hostport, options=[("grpc.enable_http_proxy", 0)]) as channel:
        call = channel.unary_unary("/tensorflow.data.DispatcherService/GetVersion")
        try:
            call(b"", timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code()
            if code == grpc.StatusCode.UNIMPLEMENTED:
                return "a server answers, but it is not a tf.data dispatcher (a worker's address?)"
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return "timed out"
            return f"{code.name}: {(exc.details() or '').split(';')[0]}"
    return None


def _check_service(service: str, connect_timeout: float) -> str:
    if not isinstance(service, str) or not service:
        raise TypeError(
            f"service must be an address like 'grpc://host:port'. Received: service={service!r}"
        )
    if "://" in service and not service.startswith("grpc://"):
        raise ValueError(
            "only the grpc protocol is supported: 'grpc://host:port'. "
            f"Received: service={service!r}"
        )
    hostport = service[len("grpc://"):] if service.startswith("grpc://") else service
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"service must be 'grpc://host:port'. Received: service={service!r}")
    problem = _probe_dispatcher(hostport, connect_timeout)
    if problem:
        raise ConnectionError(
            f"no tf.data service dispatcher answers at {hostport} within {connect_timeout:g} s "
            f"({problem}). Start one (e.g. LocalDataService()) or fix the address. "
            f"Received: service={service!r}"
        )
    return f"grpc://{hostport}"


def _check_mode(processing_mode: Any) -> str:
    if processing_mode in ("distributed_epoch", _service.ShardingPolicy.DYNAMIC):
        return "distributed_epoch"
    raise ValueError(
        "processing_mode must be 'distributed_epoch' (each row labelled exactly once, by one "
        "worker); other modes repeat or shard the data without row ids. "
        f"Received: processing_mode={processing_mode!r}"
    )


def _check_python_lfs(lfset: LFSet, service: str) -> None:
    names = lfset.python_lf_names
    if not names:
        return
    with _LOCAL_LOCK:
        local = _normalize(service) in _LOCAL_TARGETS
    if not local:
        raise ValueError(
            f"Python LFs {names} run through tf.numpy_function, which a separate tf.data "
            "worker process cannot execute; only a LocalDataService started in this process "
            "can run them. Compile them (keyword_lf, regex_lf, ...) or apply in-process. "
            f"Received: service={service!r}"
        )


# ---------------------------------------------------------------------------- datasets
def _labelled_batches(lfset: LFSet, data: Any, batch_size: int, row_key: str | None,
                      need_rows: bool) -> tuple[tf.data.Dataset, int | None]:
    """``(row_ids [b] int64, L [b, m])`` batches, built to run on the service's workers."""
    batch_size = _check_batch_size(batch_size)
    auto = tf.data.AUTOTUNE
    if isinstance(data, tf.data.Dataset):
        ds = _dataset_source(lfset, data, batch_size, row_key, need_rows)

        def label(x: dict[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor]:
            if row_key is None:
                rows = tf.fill(tf.shape(x[next(iter(lfset.fields))])[:1], tf.constant(-1, tf.int64))
            else:
                rows = tf.cast(x[row_key], tf.int64)
            return rows, lfset({**x, ROW_KEY: rows})

        return ds.map(label, num_parallel_calls=auto, deterministic=False), None
    feats, n = _in_memory(data, lfset)
    tensors = {k: tf.convert_to_tensor(v) for k, v in feats.items() if k != ROW_KEY}

    def labelled_batch(i: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        start = i * batch_size
        stop = tf.minimum(start + batch_size, n)
        rows = tf.range(start, stop)
        return rows, lfset({**{k: v[start:stop] for k, v in tensors.items()}, ROW_KEY: rows})

    # Dataset.range is a splittable source: the dispatcher hands each batch index to one worker.
    ds = tf.data.Dataset.range(-(-n // batch_size))
    return ds.map(labelled_batch, num_parallel_calls=auto, deterministic=False), n


def _dataset_source(lfset: LFSet, ds: tf.data.Dataset, batch_size: int, row_key: str | None,
                    need_rows: bool) -> tf.data.Dataset:
    spec = ds.element_spec
    if not isinstance(spec, Mapping):
        raise TypeError(
            "a tf.data.Dataset given to a distributed applier must yield dicts field -> tensor. "
            f"Received element_spec: {spec}"
        )
    for f in lfset.fields:
        if f not in spec:
            raise KeyError(
                f"{_readers(lfset, f)} reads field {f!r}, which the dataset lacks. "
                f"Available fields: {sorted(spec)}"
            )
    if row_key is None and need_rows:
        raise ValueError(
            "distributed_epoch mode does not preserve order, and row numbers added after a "
            "dataset's source restart on every worker: a tf.data.Dataset needs a field with "
            "each row's position. Pass row_key='<int field>' (e.g. add it with "
            "Dataset.from_tensor_slices({..., 'row': np.arange(n)})), or pass a DataFrame / "
            f"dict of arrays. Received fields: {sorted(spec)}"
        )
    if row_key is not None:
        if row_key not in spec:
            raise KeyError(
                f"row_key {row_key!r} is not a field of the dataset. "
                f"Available fields: {sorted(spec)}"
            )
        if not spec[row_key].dtype.is_integer:
            raise TypeError(
                f"row_key field {row_key!r} must hold integers. "
                f"Received: dtype={spec[row_key].dtype.name}"
            )
    keys = list(lfset.fields) + ([row_key] if row_key is not None else [])
    ranks = {spec[k].shape.rank for k in keys}
    if ranks == {0}:
        return ds.batch(batch_size)
    if ranks == {1}:
        return ds
    raise ValueError(
        "dataset fields must be scalars (one example per element) or 1-D batches. "
        f"Received shapes: { {k: spec[k].shape for k in keys} }"
    )


def _distribute(service: str, job_name: str | None):
    """``distribute`` in distributed_epoch mode, polling the dispatcher for tasks every 100 ms.

    The public ``distribute`` polls every second, which adds about 1 s to every job; the
    private variant with the refresh hint is used where this TF version has it.
    """
    try:
        from tensorflow.python.data.experimental.ops import data_service_ops
        fn = data_service_ops._distribute
        if "task_refresh_interval_hint_ms" in inspect.signature(fn).parameters:
            return fn("distributed_epoch", service, job_name=job_name,
                      task_refresh_interval_hint_ms=_TASK_REFRESH_MS)
    except (ImportError, AttributeError):  # pragma: no cover - other TF versions
        pass
    return _service.distribute("distributed_epoch", service, job_name=job_name)  # pragma: no cover


def _run(lfset: LFSet, ds: tf.data.Dataset, service: str, job_name: str | None):
    ds = ds.apply(_distribute(service, job_name))
    it = iter(ds)
    while True:
        try:
            item = next(it)
        except StopIteration:
            return
        except tf.errors.OpError as exc:
            err = lfset.translate_error(exc)
            if err is exc:
                raise
            raise err from err.__cause__
        yield item


def _radix(num_lfs: int, cardinality: int) -> np.ndarray | None:
    base = cardinality + 1
    if num_lfs * np.log2(base) >= 62:
        return None
    return base ** np.arange(num_lfs - 1, -1, -1, dtype=np.int64)


# ---------------------------------------------------------------------------- tf.data service
def apply_with_service(
    lfset: LFSet,
    data: Any,
    service: str,
    batch_size: int = 4096,
    processing_mode: str = "distributed_epoch",
    row_key: str | None = None,
    job_name: str | None = None,
    connect_timeout: float = 5.0,
) -> np.ndarray:
    """Applies an LF set on a tf.data service and returns the label matrix in row order.

    Args:
        lfset: the `LFSet`.
        data: a pandas DataFrame, a dict field -> array, or a ``tf.data.Dataset`` of feature
            dicts (one example per element, or 1-D batches) that holds a ``row_key`` field.
        service: the dispatcher, ``"grpc://host:port"`` (e.g. ``LocalDataService().target``).
        batch_size: rows per batch, the unit a worker processes. Defaults to `4096`.
        processing_mode: ``"distributed_epoch"`` (or ``ShardingPolicy.DYNAMIC``): each batch
            is labelled once, by one worker. Defaults to `"distributed_epoch"`.
        row_key: for a ``tf.data.Dataset``, the integer field holding each row's position;
            rows come back sorted by it. Defaults to `None` (required for a dataset).
        job_name: share one job between clients (see ``distribute``). Defaults to `None`.
        connect_timeout: seconds to wait for the dispatcher before a ``ConnectionError``.
            Defaults to `5.0`.

    Returns:
        ``int32 [N, m]`` votes, equal to ``lfset.apply(data)``.

    Raises:
        ConnectionError: nothing answers at ``service``.
        ValueError: Python LFs with a service outside this process, a bad mode, a dataset
            without ``row_key``, duplicate row ids, or an LF voted out of range.

    Example:
        >>> from tfsnorkel.labeling import LFSet, keyword_lf
        >>> lfs = LFSet([keyword_lf("song", label=0)])
        >>> with LocalDataService() as svc:
        ...     apply_with_service(lfs, {"text": ["x", "a song"]}, svc.target).ravel().tolist()
        [-1, 0]
    """
    _check_mode(processing_mode)
    service = _check_service(service, connect_timeout)
    _check_python_lfs(lfset, service)
    ds, n = _labelled_batches(lfset, data, batch_size, row_key, need_rows=True)
    rows, parts = [], []
    for r, L in _run(lfset, ds, service, job_name):
        rows.append(r.numpy())
        parts.append(L.numpy())
    if not parts:
        raise ValueError("cannot apply LFs to an empty dataset. Received: a dataset with 0 rows")
    ids = np.concatenate(rows)
    L = np.concatenate(parts, axis=0).astype(np.int32, copy=False)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    dup = np.flatnonzero(ids[1:] == ids[:-1])
    if dup.size:
        raise ValueError(
            f"row id {int(ids[dup[0]])} came back {int(np.sum(ids == ids[dup[0]]))} times: the "
            "row ids must be unique and each batch labelled once. Received: "
            f"{len(ids)} rows, {len(ids) - dup.size} distinct ids"
        )
    if n is not None and len(ids) != n:
        raise RuntimeError(f"the service returned {len(ids)} of {n} rows")
    return L[order]


def label_stats_with_service(
    lfset: LFSet,
    data: Any,
    service: str,
    batch_size: int = 4096,
    processing_mode: str = "distributed_epoch",
    job_name: str | None = None,
    connect_timeout: float = 5.0,
) -> LabelStats:
    """Computes the label model's sufficient statistics on a tf.data service.

    Each worker labels its batches and reduces each to its distinct vote patterns with
    counts (one ``int64`` code per pattern); the client adds them up. The label matrix is
    never materialized; row order does not matter, so a dataset needs no ``row_key``.
    ``LabelModel().fit(stats)`` accepts the result.

    Args:
        lfset: the `LFSet`.
        data: a pandas DataFrame, a dict field -> array, or a ``tf.data.Dataset`` of feature
            dicts.
        service: the dispatcher, ``"grpc://host:port"``.
        batch_size: rows per batch. Defaults to `4096`.
        processing_mode: ``"distributed_epoch"``. Defaults to `"distributed_epoch"`.
        job_name: share one job between clients. Defaults to `None`.
        connect_timeout: seconds to wait for the dispatcher. Defaults to `5.0`.

    Returns:
        `LabelStats` equal to ``LabelStats.from_matrix(lfset.apply(data), C)``.

    Example:
        >>> from tfsnorkel.labeling import LFSet, keyword_lf
        >>> lfs = LFSet([keyword_lf("song", label=0)])
        >>> with LocalDataService() as svc:
        ...     stats = label_stats_with_service(lfs, {"text": ["x", "song", "y"]}, svc.target)
        >>> stats.rows.ravel().tolist(), stats.counts.tolist()
        ([-1, 0], [2, 1])
    """
    _check_mode(processing_mode)
    service = _check_service(service, connect_timeout)
    _check_python_lfs(lfset, service)
    ds, _ = _labelled_batches(lfset, data, batch_size, None, need_rows=False)
    C, m = lfset.cardinality, len(lfset)
    radix = _radix(m, C)
    stats = LabelStats(C, m)
    if radix is None:  # too many LFs for one int64 code: ship the batches themselves
        ds = ds.map(lambda rows, L: L)
        for L in _run(lfset, ds, service, job_name):
            stats.update(L.numpy())
        return stats
    r = tf.constant(radix)

    def patterns(rows: tf.Tensor, L: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        codes = tf.reduce_sum(tf.cast(L + 1, tf.int64) * r, axis=1)
        uniq, _, counts = tf.unique_with_counts(codes, out_idx=tf.int64)
        return uniq, counts

    ds = ds.map(patterns, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
    codes = np.zeros(0, np.int64)
    counts = np.zeros(0, np.int64)
    pending: list[tuple[np.ndarray, np.ndarray]] = []

    def collapse() -> tuple[np.ndarray, np.ndarray]:
        c = np.concatenate([codes, *(p[0] for p in pending)])
        w = np.concatenate([counts, *(p[1] for p in pending)])
        uniq, inv = np.unique(c, return_inverse=True)
        return uniq, np.bincount(inv, weights=w, minlength=len(uniq)).astype(np.int64)

    for u, c in _run(lfset, ds, service, job_name):
        pending.append((u.numpy(), c.numpy()))
        if len(pending) >= _COLLAPSE_EVERY:
            codes, counts = collapse()
            pending.clear()
    codes, counts = collapse()
    if counts.sum() == 0:
        raise ValueError("cannot compute statistics of an empty dataset. Received: 0 rows")
    part = LabelStats(C, m)
    part.rows = ((codes[:, None] // radix[None, :]) % (C + 1) - 1).astype(part.rows.dtype)
    part.counts = counts
    return stats.merge(part)


# ---------------------------------------------------------------------------- Dask
def _import_dask():
    try:
        import dask
        import dask.array
        import dask.dataframe
    except ImportError as exc:
        raise ImportError(
            "the Dask appliers need Dask: pip install 'tfsnorkel[dask]' "
            f"(or 'dask[dataframe]'). Received: {exc}"
        ) from None
    return dask


def _partition_votes(pdf: pd.DataFrame, lfset: LFSet, batch_size: int) -> np.ndarray:
    m = len(lfset)
    if len(pdf) == 0:
        return np.zeros((0, m), np.int32)
    feats = columns_to_features({f: pdf[f] for f in lfset.fields}, lfset)
    parts = []
    for start in range(0, len(pdf), batch_size):
        batch = {k: v[start:start + batch_size] for k, v in feats.items()}
        parts.append(lfset(batch).numpy())
    return np.concatenate(parts, axis=0).astype(np.int32, copy=False)


def _check_ddf(lfset: LFSet, ddf: Any) -> None:
    import dask.dataframe as dd

    if not isinstance(ddf, dd.DataFrame):
        raise TypeError(
            f"apply_dask needs a dask.dataframe.DataFrame. Received: {type(ddf).__name__}"
        )
    for f in lfset.fields:
        if f not in ddf.columns:
            raise KeyError(
                f"{_readers(lfset, f)} reads field {f!r}, which the Dask DataFrame lacks. "
                f"Available columns: {sorted(map(str, ddf.columns))}"
            )


def apply_dask(lfset: LFSet, ddf: Any, batch_size: int = 4096) -> Any:
    """Maps every partition of a Dask DataFrame through the compiled LF set (lazily).

    Args:
        lfset: the `LFSet`.
        ddf: a ``dask.dataframe.DataFrame`` holding the fields the LFs read.
        batch_size: rows per call of the compiled map inside a partition. Defaults to `4096`.

    Returns:
        A lazy ``dask.array.Array`` ``int32 [N, m]``, one chunk per partition, in the
        DataFrame's row order (row counts per chunk unknown until computed); ``.compute()``
        gives the same matrix as ``lfset.apply(ddf.compute())``.

    Example:
        >>> import dask.dataframe as dd, pandas as pd
        >>> from tfsnorkel.labeling import LFSet, keyword_lf
        >>> lfs = LFSet([keyword_lf("song", label=0)])
        >>> ddf = dd.from_pandas(pd.DataFrame({"text": ["a song", "b", "song"]}), npartitions=2)
        >>> apply_dask(lfs, ddf).compute().ravel().tolist()
        [0, -1, 0]
    """
    dask = _import_dask()
    batch_size = _check_batch_size(batch_size)
    _check_ddf(lfset, ddf)
    m = len(lfset)
    blocks = [
        dask.array.from_delayed(
            dask.delayed(_partition_votes)(part, lfset, batch_size),
            shape=(np.nan, m), dtype=np.int32,
        )
        for part in ddf[list(lfset.fields)].to_delayed()
    ]
    return dask.array.concatenate(blocks, axis=0)


def _partition_stats(pdf: pd.DataFrame, lfset: LFSet, batch_size: int) -> LabelStats:
    stats = LabelStats(lfset.cardinality, len(lfset))
    L = _partition_votes(pdf, lfset, batch_size)
    return stats.update(L) if len(L) else stats


def _merge_all(parts: list[LabelStats]) -> LabelStats:
    out = LabelStats(parts[0].cardinality, parts[0].num_lfs)
    for p in parts:
        out.merge(p)
    return out


def label_stats_dask(lfset: LFSet, ddf: Any, batch_size: int = 4096) -> LabelStats:
    """Sufficient statistics of a Dask DataFrame's label matrix, one `LabelStats` per partition.

    Each partition is labelled and reduced to its unique vote patterns where it lives; only
    those (a few thousand rows, whatever N) are merged on the client.

    Args:
        lfset: the `LFSet`.
        ddf: a ``dask.dataframe.DataFrame`` holding the fields the LFs read.
        batch_size: rows per call of the compiled map. Defaults to `4096`.

    Returns:
        `LabelStats` equal to ``LabelStats.from_matrix(lfset.apply(ddf.compute()), C)``.

    Example:
        >>> import dask.dataframe as dd, pandas as pd
        >>> from tfsnorkel.labeling import LFSet, keyword_lf
        >>> ddf = dd.from_pandas(pd.DataFrame({"text": ["song", "b", "song"]}), npartitions=2)
        >>> lfs = LFSet([keyword_lf("song", label=0)])
        >>> label_stats_dask(lfs, ddf).counts.tolist()
        [1, 2]
    """
    dask = _import_dask()
    batch_size = _check_batch_size(batch_size)
    _check_ddf(lfset, ddf)
    parts = [dask.delayed(_partition_stats)(p, lfset, batch_size)
             for p in ddf[list(lfset.fields)].to_delayed()]
    stats = dask.delayed(_merge_all)(parts).compute()
    if stats.num_rows == 0:
        raise ValueError("cannot compute statistics of an empty Dask DataFrame. Received: 0 rows")
    return stats
