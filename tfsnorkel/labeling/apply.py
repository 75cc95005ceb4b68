"""Appliers: run an `LFSet` over a pandas DataFrame, a dict of arrays or a ``tf.data.Dataset``.

Every path goes through the same compiled map over batches of feature tensors: a tf.data
``ds.map(lfset, num_parallel_calls=..., deterministic=True)``, or, for in-memory data and an LF
set without Python LFs, a pool of threads calling it on slices of the columns, in order.

Missing values: pandas/numpy ``None``/``NaN`` (and ``pd.NA``) in a text column become ``""``
plus a missing mask (``"<field>__missing"``), in a numeric column ``NaN``; every LF reading
that field abstains on those rows (compiled and Python LFs alike; a Python LF declared with
``on_missing="pass"`` is called with ``None`` instead). A text LF therefore never matches the
string ``"nan"`` or ``"None"`` for a missing value.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import pandas as pd
import scipy.sparse as sp
import tensorflow as tf

from tfsnorkel.labeling.lfset import BATCH_KEY, MISSING_SUFFIX, ROW_KEY, warn_failures

if TYPE_CHECKING:
    from tfsnorkel.labeling.lfset import LFSet

__all__ = ["apply_lfs", "columns_to_features", "iter_label_batches"]

#: show a progress bar by default from this many rows on
PROGRESS_MIN_ROWS = 1_000_000


def _readers(lfset: LFSet, field: str) -> str:
    names = [lf.name for lf in lfset.lfs if field in lf.fields]
    return f"LF {names[0]!r}" + (f" (and {names[1:]})" if len(names) > 1 else "")


def columns_to_features(columns: Mapping[str, Any], lfset: LFSet) -> dict[str, Any]:
    """Converts columns (pandas Series, numpy arrays, lists) to the set's feature arrays.

    Text columns become ``tf.string`` tensors: missing values (``None``, ``NaN``, ``pd.NA``)
    become ``""`` and a boolean ``"<field>__missing"`` array is added; non-string values are
    converted with ``str``. Numeric columns: float64 numpy arrays with ``NaN`` for missing
    values (integers stay int64).

    Args:
        columns: ``{field: column}`` for (at least) the fields of ``lfset``.
        lfset: the LF set whose :attr:`~LFSet.fields` decide the dtypes.

    Returns:
        ``{field: numpy array, "<field>__missing": bool array (only where a value is missing)}``.

    Example:
        >>> from tfsnorkel.labeling import LFSet, keyword_lf
        >>> out = columns_to_features({"text": ["hi", None]}, LFSet([keyword_lf("hi", 1)]))
        >>> out["text"].numpy().tolist(), out["text__missing"].tolist()
        ([b'hi', b''], [False, True])
    """
    out: dict[str, Any] = {}
    for f, dtype in lfset.fields.items():
        col = columns[f]
        if isinstance(col, (tf.Tensor, tf.Variable)):
            out[f] = col
            continue
        s = col if isinstance(col, pd.Series) else pd.Series(
            col if isinstance(col, (list, tuple)) else np.asarray(col), copy=False)
        if dtype == tf.string:
            if s.dtype.kind in "iufcb" and not s.isna().all():
                raise TypeError(
                    f"{_readers(lfset, f)} reads {f!r} as text, but the column holds numbers. "
                    f"Received: dtype={s.dtype}"
                )
            out[f], miss = _text_tensor(s)
            if miss.any():
                out[f + MISSING_SUFFIX] = miss
            continue
        miss = s.isna().to_numpy()
        if s.dtype.kind in "iu" and not miss.any():
            if s.dtype.kind == "u" and len(s) and s.max() > np.iinfo(np.int64).max:
                out[f] = s.to_numpy(dtype=np.float64)  # no int64 wrap: stays out of range
            else:
                out[f] = s.to_numpy(dtype=np.int64)
            continue
        if s.dtype.kind == "b":
            out[f] = s.to_numpy(dtype=np.int64)
            continue
        try:
            num = pd.to_numeric(s.where(~miss, np.nan), errors="raise")
        except (ValueError, TypeError):
            bad = s[~miss].iloc[0] if (~miss).any() else None
            raise TypeError(
                f"{_readers(lfset, f)} reads {f!r} as a number ({dtype.name}), but the column "
                f"holds non-numeric values. Received: {bad!r}"
            ) from None
        out[f] = np.asarray(num, dtype=np.float64)
    return out


def _text_tensor(s: pd.Series) -> tuple[tf.Tensor, np.ndarray]:
    """A text column as a ``tf.string`` tensor ("" where missing) plus its missing mask.

    Arrow-backed strings (pandas' default ``str`` dtype) are handed to TensorFlow as one
    buffer cut with ``tf.strings.substr``: no Python object per row.
    """
    arrow = _arrow_strings(s)
    if arrow is not None:
        return arrow
    miss = s.isna().to_numpy()
    if miss.any():
        s = s.where(~miss, "")
    kind = pd.api.types.infer_dtype(s, skipna=False)
    if kind in ("string", "empty", "bytes"):
        values = s.tolist()
    else:  # bytes stay bytes (astype(str) would decode them strictly), the rest str(v)
        values = [v if isinstance(v, (str, bytes)) else str(v) for v in s.tolist()]
    try:
        return tf.constant(values, dtype=tf.string, shape=[len(values)]), miss
    except UnicodeEncodeError:  # lone surrogates: their bytes become U+FFFD (valid_utf8)
        values = [v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v
                  for v in values]
        return tf.constant(values, dtype=tf.string, shape=[len(values)]), miss


def _arrow_strings(s: pd.Series) -> tuple[tf.Tensor, np.ndarray] | None:
    if not hasattr(s.array, "__arrow_array__"):
        return None
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pandas' str dtype implies pyarrow
        return None
    arr = s.array.__arrow_array__()
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    if not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return None
    n = len(arr)
    miss = arr.is_null().to_numpy(zero_copy_only=False).astype(bool, copy=False)
    if n == 0:
        return tf.constant([], tf.string), miss
    bufs = arr.buffers()
    kind = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(bufs[1], dtype=kind)[arr.offset: arr.offset + n + 1].astype(np.int64)
    start, stop = int(offsets[0]), int(offsets[-1])
    data = b"" if bufs[2] is None else np.frombuffer(bufs[2], dtype=np.uint8)[start:stop].tobytes()
    lengths = np.diff(offsets)
    lengths[miss] = 0
    blob = tf.constant([data])[0]  # (a list: TF's scalar-bytes path copies far more slowly)
    return tf.strings.substr(blob, offsets[:-1] - start, lengths), miss


def _in_memory(data: Any, lfset: LFSet, row_offset: int = 0) -> tuple[dict[str, Any], int]:
    if isinstance(data, pd.DataFrame):
        cols = data
        available = list(map(str, data.columns))
    elif isinstance(data, Mapping):
        cols = data
        available = list(data)
    else:
        raise TypeError(
            "apply needs a pandas DataFrame, a dict field -> array, a tf.data.Dataset of "
            "feature dicts, or an iterator of DataFrames/dicts (chunks). "
            f"Received: {type(data).__name__}"
        )
    for f in lfset.fields:
        if f not in cols:
            raise KeyError(
                f"{_readers(lfset, f)} reads field {f!r}, which the data lacks. "
                f"Available fields: {sorted(available)}"
            )
    n = len(data) if isinstance(data, pd.DataFrame) else None
    if n is None:
        lengths = {f: len(cols[f]) for f in lfset.fields}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"the arrays have different lengths. Received lengths: {lengths}")
        n = next(iter(lengths.values()))
    if n == 0:
        raise ValueError(
            f"cannot apply LFs to an empty dataset. Received: {type(data).__name__} with 0 rows"
        )
    feats = columns_to_features({f: cols[f] for f in lfset.fields}, lfset)
    if lfset.python_lf_names:
        feats[ROW_KEY] = np.arange(row_offset, row_offset + n, dtype=np.int64)
    return feats, int(n)


def _check_batch_size(batch_size: int) -> int:
    if (isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer))
            or batch_size < 1):
        raise ValueError(
            f"batch_size must be a positive integer. Received: batch_size={batch_size!r}"
        )
    return int(batch_size)


def _dataset_batches(ds: tf.data.Dataset, lfset: LFSet, batch_size: int) -> tf.data.Dataset:
    spec = ds.element_spec
    if not isinstance(spec, Mapping):
        raise TypeError(
            "a tf.data.Dataset given to an LF set must yield dicts field -> tensor. "
            f"Received element_spec: {spec}"
        )
    missing = [f for f in lfset.fields if f not in spec]
    if missing:
        f = missing[0]
        raise KeyError(
            f"{_readers(lfset, f)} reads field {f!r}, which the dataset lacks. "
            f"Available fields: {sorted(spec)}"
        )
    ranks = {spec[f].shape.rank for f in lfset.fields}
    py = bool(lfset.python_lf_names)
    if ranks == {0}:
        if py:
            ds = ds.enumerate().map(lambda i, x: {**x, ROW_KEY: i})
        return ds.batch(batch_size)
    if ranks == {1}:
        if py:
            ds = ds.enumerate().map(lambda b, x: {**x, BATCH_KEY: b})
        return ds
    raise ValueError(
        "dataset fields must be scalars (one example per element) or 1-D batches. "
        f"Received shapes: { {f: spec[f].shape for f in lfset.fields} }"
    )


def _labelled_output(lfset: LFSet, x: dict[str, tf.Tensor], keep_features: bool,
                     sparse: bool) -> Any:
    """One batch through the set: ``L``, ``(x, L)``, or (``sparse``) its votes only,
    ``(rows, row, column, class + 1)`` with abstains dropped (a batch of 1000 LFs with ~12
    votes a row is 4 KB a row dense, ~150 bytes sparse)."""
    L = lfset(x)
    if sparse:
        at = tf.where(L >= 0)
        return (tf.shape(L)[0], tf.cast(at[:, 0], tf.int32), tf.cast(at[:, 1], tf.int32),
                tf.cast(tf.gather_nd(L, at) + 1, tf.int32))
    return (x, L) if keep_features else L


def _labelled(lfset: LFSet, data: Any, batch_size: int, num_parallel_calls: int | None,
              keep_features: bool, row_offset: int = 0, sparse: bool = False,
              ) -> tuple[Any, int | None, tf.Variable]:
    """The labelled batches (a tf.data dataset, or a :class:`_ThreadedBatches`), their row
    count when known, and a stop flag.

    Setting the flag ends the dataset before its next batch (`_iterate` sets it and drains the
    few batches in flight when a run stops early).
    """
    batch_size = _check_batch_size(batch_size)
    stop = tf.Variable(False, trainable=False, name="stop")
    # One call per core: measured on 2 cores, AUTOTUNE kept short runs on about one core.
    npc = (os.cpu_count() or 2) if num_parallel_calls is None else num_parallel_calls
    def fn(x: dict[str, tf.Tensor]) -> Any:
        return _labelled_output(lfset, x, keep_features, sparse)

    if isinstance(data, tf.data.Dataset):
        ds = _dataset_batches(data, lfset, batch_size).take_while(lambda *_: ~stop)
        ds = ds.map(fn, num_parallel_calls=npc, deterministic=True)
        return ds.prefetch(tf.data.AUTOTUNE), None, stop
    feats, n = _in_memory(data, lfset, row_offset)
    # Batches are slices of whole-column tensors, cut inside the map: no per-row tf.data work.
    tensors = {k: tf.convert_to_tensor(v) for k, v in feats.items() if k != ROW_KEY}
    n_batches = -(-n // batch_size)
    if ROW_KEY not in feats:
        # Compiled LFs only (no Python LF, hence no GIL inside the map): a pool of threads
        # calls the compiled map on the slices. A tf.data map ran its two parallel calls one
        # at a time in about 2 of 3 runs on 2 cores (~1 core busy; BENCHMARKS.md 1b).
        run = _batch_fn(lfset, keep_features, sparse)
        bounds = [(i * batch_size, min((i + 1) * batch_size, n)) for i in range(n_batches)]
        return _ThreadedBatches(
            lambda i: run(tensors, tf.constant(bounds[i][0]), tf.constant(bounds[i][1])),
            n_batches, npc, stop,
        ), n, stop

    def labelled_batch(i: tf.Tensor, tensors=tensors, size=batch_size, n=n):
        start = i * size
        stop = tf.minimum(start + size, n)
        x = {k: v[start:stop] for k, v in tensors.items()}
        x[ROW_KEY] = tf.range(start, stop) + row_offset
        return fn(x)

    ds = tf.data.Dataset.range(n_batches).take_while(lambda _: ~stop)
    ds = ds.map(labelled_batch, num_parallel_calls=npc, deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE), n, stop


_BATCH_FNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _batch_fn(lfset: LFSet, keep_features: bool, sparse: bool) -> Any:
    """The compiled ``(columns, start, stop) -> labelled batch`` of an LF set, traced once per
    set and output form (not once per ``apply``)."""
    fns = _BATCH_FNS.setdefault(lfset, {})
    key = (keep_features, sparse)
    if key not in fns:
        ref = weakref.ref(lfset)  # the cache must not keep the set alive

        def run(tensors: dict[str, tf.Tensor], start: tf.Tensor, stop: tf.Tensor) -> Any:
            x = {k: v[start:stop] for k, v in tensors.items()}
            return _labelled_output(ref(), x, keep_features, sparse)

        fns[key] = tf.function(run, reduce_retracing=True)
    return fns[key]


class _ThreadedBatches:
    """Batches ``0..n_batches-1`` through a compiled map in a pool of threads, in order.

    Iterating it yields ``fn(i)`` for each batch (at most ``2 * threads`` batches ahead); an
    error of a batch is raised when that batch is reached, as a tf.data iterator raises it.
    Setting ``stop`` ends it before the next batch, after the batches already running.
    """

    def __init__(self, fn: Any, n_batches: int, threads: int, stop: tf.Variable):
        self._fn, self._n, self._threads, self._stop = fn, n_batches, max(1, int(threads)), stop

    def __iter__(self) -> Iterator[Any]:
        from collections import deque
        from concurrent.futures import ThreadPoolExecutor

        ex = ThreadPoolExecutor(self._threads, thread_name_prefix="tfsnorkel-apply")
        pending: deque = deque()
        nxt = 0
        try:
            while True:
                while len(pending) < 2 * self._threads and nxt < self._n:
                    if bool(self._stop.numpy()):
                        break
                    pending.append(ex.submit(self._fn, nxt))
                    nxt += 1
                if not pending or bool(self._stop.numpy()):
                    return
                yield pending.popleft().result()
        finally:
            for f in pending:
                f.cancel()
            ex.shutdown(wait=True)


def _drain(it: Iterator[Any], stop: tf.Variable) -> None:
    """Ends an iterator that stopped early, after the batches already in flight.

    Destroying a tf.data iterator waits for its in-flight map calls while holding the GIL; a
    Python LF in flight needs the GIL, so dropping the iterator after an error (or a consumer
    that stops reading) can hang the process (seen in ~1 of 10 CLI runs on 2 cores). The stop
    flag ends the dataset before its next batch; the few already scheduled are run out here.
    """
    stop.assign(True)
    while True:
        try:
            next(it)
        except StopIteration:
            return
        except tf.errors.OpError:
            continue


def _iterate(lfset: LFSet, ds: tf.data.Dataset, n: int | None, progress: bool | None,
             fault_tolerant: bool, stop: tf.Variable, row_offset: int = 0, fresh: bool = True,
             warn: bool = True) -> Iterator[Any]:
    show = (n is not None and n >= PROGRESS_MIN_ROWS) if progress is None else bool(progress)
    bar = keras.utils.Progbar(n, unit_name="row") if show else None
    prev = lfset._fault_tolerant
    lfset._fault_tolerant = bool(fault_tolerant)
    if fresh:
        with lfset._lock:
            lfset._failures = {name: 0 for name in lfset.python_lf_names}
    offset = 0
    it = iter(ds)
    done = False
    try:
        while True:
            try:
                item = next(it)
            except StopIteration:
                done = True
                break
            except tf.errors.OpError as exc:
                err = lfset.translate_error(exc, row_offset + offset)
                if err is exc:
                    raise
                raise err from err.__cause__
            if isinstance(item, tuple) and len(item) == 4:  # sparse votes: (rows, r, c, v)
                offset += int(item[0])
            else:
                L = item[1] if isinstance(item, tuple) else item
                offset += int(L.shape[0])
            if bar is not None:
                bar.update(offset)
            yield item
    finally:
        if not done:
            _drain(it, stop)
        lfset._fault_tolerant = prev
        lfset.failures_ = dict(lfset._failures)
    if offset == 0:
        raise ValueError("cannot apply LFs to an empty dataset. Received: a dataset with 0 rows")
    if fault_tolerant and warn:
        warn_failures(lfset.failures_)


def _iter_chunks(lfset: LFSet, chunks: Iterator[Any], batch_size: int, fault_tolerant: bool,
                 num_parallel_calls: int | None) -> Iterator[tuple[Any, np.ndarray]]:
    """Streams an iterator of DataFrames/dicts (e.g. ``pd.read_csv(..., chunksize=...)``)."""
    offset = 0
    for chunk in chunks:
        n = len(chunk) if isinstance(chunk, pd.DataFrame) else (
            len(next(iter(chunk.values()))) if isinstance(chunk, Mapping) and chunk else 0)
        if n == 0:
            continue
        ds, n, stop_flag = _labelled(lfset, chunk, batch_size, num_parallel_calls,
                                     keep_features=False, row_offset=offset)
        start = 0
        for L in _iterate(lfset, ds, n, False, fault_tolerant, stop_flag, row_offset=offset,
                          fresh=offset == 0, warn=False):
            stop = start + int(L.shape[0])
            yield _slice(chunk, start, stop), L.numpy()
            start = stop
        offset += n
    if offset == 0:
        raise ValueError("cannot apply LFs to an empty dataset. Received: no rows in any chunk")
    if fault_tolerant:
        warn_failures(lfset.failures_)


def _slice(data: Any, start: int, stop: int) -> Any:
    if isinstance(data, pd.DataFrame):
        return data.iloc[start:stop]
    return {k: v[start:stop] for k, v in data.items()}


def apply_lfs(
    lfset: LFSet,
    data: Any,
    batch_size: int = 4096,
    progress: bool | None = None,
    fault_tolerant: bool = False,
    num_parallel_calls: int | None = None,
    sparse: bool = False,
) -> Any:
    """Applies an LF set to in-memory data or a dataset and returns the label matrix.

    Args:
        lfset: the `LFSet`.
        data: a pandas DataFrame, a dict field -> array, a ``tf.data.Dataset`` of feature
            dicts (one example per element, or already batched 1-D tensors), or an iterator
            of DataFrames/dicts (chunks, e.g. ``pd.read_csv(path, chunksize=100_000)``).
        batch_size: rows per batch (ignored for an already batched dataset). Defaults to `4096`.
        progress: show a ``keras.utils.Progbar``. Defaults to `None` (shown from
            `PROGRESS_MIN_ROWS` rows on).
        fault_tolerant: a Python LF that raises abstains on that row instead of stopping the
            run; the counts land in ``lfset.failures_`` and a ``RuntimeWarning``. Defaults
            to `False` (the error names the LF, the row and the original exception).
        num_parallel_calls: parallel map calls. Defaults to `None` (one per CPU core).
        sparse: return a ``scipy.sparse`` CSR matrix storing class index + 1 (abstains not
            stored), the encoding :class:`~tfsnorkel.LabelModel` reads. Each batch leaves the
            compiled map as its votes only: with many LFs and few votes a row, the dense
            matrix is never built. Defaults to `False`.

    Returns:
        ``int32 [N, m]`` votes, ``ABSTAIN = -1`` (``sparse=True``: an ``[N, m]`` int32 CSR
        matrix of votes + 1).

    Raises:
        ValueError: an empty dataset, or an LF voted outside ``[-1, C-1]``.
        KeyError: a field an LF reads is missing (the message names both).
        LabelingFunctionError: a Python LF raised (``fault_tolerant=False``).

    Example:
        >>> import pandas as pd
        >>> from tfsnorkel.labeling import LFSet, keyword_lf
        >>> lfs = LFSet([keyword_lf("song", label=0)])
        >>> apply_lfs(lfs, pd.DataFrame({"text": ["great song", None]})).ravel().tolist()
        [0, -1]
    """
    if sparse and not isinstance(data, Iterator):
        return _apply_sparse(lfset, data, batch_size, progress, fault_tolerant,
                             num_parallel_calls)
    if isinstance(data, Iterator):
        parts = [L for _, L in _iter_chunks(lfset, data, batch_size, fault_tolerant,
                                            num_parallel_calls)]
        if sparse:
            return sp.vstack([_csr(L) for L in parts], format="csr")
    else:
        ds, n, stop = _labelled(lfset, data, batch_size, num_parallel_calls, keep_features=False)
        if n is not None:
            # Each batch is copied once, into the matrix (``.numpy()`` copies a tensor, and a
            # concatenation again: at 1000 LFs the copies cost more than the LFs' map).
            out, lo = None, 0
            for L in _iterate(lfset, ds, n, progress, fault_tolerant, stop):
                a = np.asarray(L)
                if out is None:
                    out = np.empty((n,) + a.shape[1:], np.int32)
                out[lo : lo + len(a)] = a
                lo += len(a)
            return out[:lo]
        parts = [L.numpy() for L in _iterate(lfset, ds, n, progress, fault_tolerant, stop)]
    return np.concatenate(parts, axis=0).astype(np.int32, copy=False)


def _csr(L: np.ndarray) -> sp.csr_matrix:
    """A dense label matrix as CSR storing class + 1."""
    L = np.asarray(L)
    r, c = np.nonzero(L >= 0)
    return sp.csr_matrix(((L[r, c] + 1).astype(np.int32), (r, c)), shape=L.shape)


def _apply_sparse(lfset: LFSet, data: Any, batch_size: int, progress: bool | None,
                  fault_tolerant: bool, num_parallel_calls: int | None) -> sp.csr_matrix:
    """:func:`apply_lfs` with ``sparse=True`` (in-memory data or a dataset)."""
    ds, n, stop = _labelled(lfset, data, batch_size, num_parallel_calls, keep_features=False,
                            sparse=True)
    rows, cols, vals, offset = [], [], [], 0
    for size, r, c, v in _iterate(lfset, ds, n, progress, fault_tolerant, stop):
        rows.append(np.asarray(r) + offset)
        cols.append(np.asarray(c))
        vals.append(np.asarray(v))
        offset += int(size)
    m = len(lfset)
    r, c, v = (np.concatenate(a) if a else np.zeros(0, np.int32) for a in (rows, cols, vals))
    # Rows come in order and, within a row, columns in order (tf.where is row-major).
    indptr = np.zeros(offset + 1, np.int64)
    np.cumsum(np.bincount(r, minlength=offset), out=indptr[1:])
    return sp.csr_matrix((v, c, indptr), shape=(offset, m))


def iter_label_batches(
    lfset: LFSet,
    data: Any,
    batch_size: int = 4096,
    fault_tolerant: bool = False,
    num_parallel_calls: int | None = None,
) -> Iterator[tuple[Any, np.ndarray]]:
    """Streams ``(features_batch, L_batch)`` pairs; only one batch is held at a time.

    For a DataFrame the features are the batch's rows (a DataFrame slice, original values);
    for a dict of arrays, a dict of slices; for a ``tf.data.Dataset``, the batch as a dict of
    numpy arrays. ``L_batch`` is ``int32 [batch, m]``. For data that does not fit in memory
    pass a ``tf.data.Dataset`` or an iterator of chunks (``pd.read_csv(..., chunksize=...)``):
    one chunk is held at a time, and rows are numbered across chunks in error messages.

    Args:
        lfset: the `LFSet`.
        data: a DataFrame, a dict of arrays, a ``tf.data.Dataset``, or an iterator of
            DataFrames/dicts (chunks).
        batch_size: rows per batch. Defaults to `4096`.
        fault_tolerant: see `apply_lfs`. Defaults to `False`.
        num_parallel_calls: parallel map calls. Defaults to `None` (one per CPU core).

    Yields:
        ``(features_batch, L_batch)``.

    Example:
        >>> from tfsnorkel.labeling import LFSet, keyword_lf
        >>> lfs = LFSet([keyword_lf("song", label=0)])
        >>> [L.ravel().tolist() for _, L in iter_label_batches(lfs, {"text": ["a song", "b"]}, 1)]
        [[0], [-1]]
    """
    if isinstance(data, tf.data.Dataset):
        ds, n, stop = _labelled(lfset, data, batch_size, num_parallel_calls, keep_features=True)
        internal = (ROW_KEY, BATCH_KEY)
        for x, L in _iterate(lfset, ds, n, False, fault_tolerant, stop):
            feats = {k: v.numpy() for k, v in x.items() if k not in internal}
            yield feats, L.numpy()
        return
    if isinstance(data, Iterator):
        yield from _iter_chunks(lfset, data, batch_size, fault_tolerant, num_parallel_calls)
        return
    ds, n, stop = _labelled(lfset, data, batch_size, num_parallel_calls, keep_features=False)
    start = 0
    for L in _iterate(lfset, ds, n, False, fault_tolerant, stop):
        stop = start + int(L.shape[0])
        yield _slice(data, start, stop), L.numpy()
        start = stop
