"""Benchmark: the spam LF set on 200k texts, in-process vs a local tf.data service vs Dask.

Engines over the same texts (WRENCH youtube train comments resampled with replacement), the
seven `spam_lfs()` (compiled), in one run:

1. tfsnorkel in-process: ``lfset.apply(frame)`` (tf.data on this machine's cores);
2. tfsnorkel ``apply_with_service`` on a `LocalDataService` with ``--workers`` workers
   (dispatcher and workers on loopback, in this process), matrix returned in row order;
3. tfsnorkel ``label_stats_with_service`` (workers reduce batches to pattern counts);
4. tfsnorkel ``apply_dask`` (threaded scheduler, ``--workers`` partitions);
5. Snorkel 0.10 ``PandasLFApplier`` and ``PandasParallelLFApplier`` (Dask processes,
   ``n_parallel=--workers``) with the equivalent ``@labeling_function`` LFs, if Snorkel is
   importable (``--skip-snorkel`` to leave them out).

Every label matrix is checked equal to the in-process one. Each tfsnorkel engine is warmed
up once (tracing), then timed ``--repeats`` times; the median is reported. Run with:

    TFSNORKEL_DATA_DIR=/work/shared/data /work/venv-bench/bin/python benchmarks/distributed_apply.py
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfsnorkel.datasets import load_wrench  # noqa: E402
from tfsnorkel.labeling import LFSet, spam_lfs  # noqa: E402
from tfsnorkel.labeling.distributed import (  # noqa: E402
    LocalDataService,
    apply_dask,
    apply_with_service,
    label_stats_with_service,
)
from tfsnorkel.labelmodel.stats import LabelStats  # noqa: E402

SPAM, HAM, ABSTAIN = 1, 0, -1
CHECK_OUT = re.compile(r"check.*out", re.I)


def snorkel_lfs() -> list:
    """Snorkel's tutorial LFs, the Python twins of `spam_lfs()`.

    They call ``str(x.text)``: Snorkel's Dask applier lets Dask infer metadata by calling the
    LFs on a placeholder row whose text is a bare ``object()`` (a no-op on real strings).
    """
    from snorkel.labeling import labeling_function

    def kw(name: str, words: tuple[str, ...], label: int):
        @labeling_function(name=name)
        def lf(x):
            t = str(x.text).lower()
            return label if any(w in t for w in words) else ABSTAIN

        return lf

    @labeling_function()
    def regex_check_out(x):
        return SPAM if CHECK_OUT.search(str(x.text)) else ABSTAIN

    @labeling_function()
    def short_comment(x):
        return HAM if len(str(x.text).split()) < 5 else ABSTAIN

    return [
        kw("keyword_my", ("my",), SPAM), kw("keyword_subscribe", ("subscribe",), SPAM),
        kw("keyword_link", ("http",), SPAM), kw("keyword_please", ("please", "plz"), SPAM),
        kw("keyword_song", ("song",), HAM), regex_check_out, short_comment,
    ]


def timed(fn, repeats: int, warmup: bool = True):
    if warmup:
        fn()
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-snorkel", action="store_true")
    args = ap.parse_args()

    train = load_wrench("youtube").train.frame
    rng = np.random.default_rng(0)
    frame = train.iloc[rng.integers(0, len(train), args.rows)].reset_index(drop=True)[["text"]]
    lfs = LFSet(spam_lfs())
    n, bs = len(frame), args.batch_size
    print(f"{n} rows, {len(lfs)} LFs, batch {bs}, {args.workers} workers; "
          f"{platform.machine()}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, TF {tf.__version__}")

    results: list[tuple[str, float]] = []
    ref, t = timed(lambda: lfs.apply(frame, batch_size=bs, progress=False), args.repeats)
    results.append(("tfsnorkel in-process `lfset.apply`", t))
    ref_stats = LabelStats.from_matrix(ref, 2)

    with LocalDataService(num_workers=args.workers) as svc:
        L, t = timed(lambda: apply_with_service(lfs, frame, svc.target, batch_size=bs),
                     args.repeats)
        assert np.array_equal(L, ref)
        results.append((f"tfsnorkel `apply_with_service`, {args.workers} local workers", t))
        s, t = timed(lambda: label_stats_with_service(lfs, frame, svc.target, batch_size=bs),
                     args.repeats)
        assert np.array_equal(s.rows, ref_stats.rows) and np.array_equal(s.counts, ref_stats.counts)
        results.append((f"tfsnorkel `label_stats_with_service`, {args.workers} local workers", t))

    import dask.dataframe as dd

    ddf = dd.from_pandas(frame, npartitions=args.workers)
    L, t = timed(lambda: np.asarray(apply_dask(lfs, ddf, batch_size=bs).compute()), args.repeats)
    assert np.array_equal(L, ref)
    results.append((f"tfsnorkel `apply_dask`, {args.workers} partitions, threads", t))

    if not args.skip_snorkel:
        from snorkel.labeling import PandasLFApplier
        from snorkel.labeling.apply.dask import PandasParallelLFApplier

        slfs = snorkel_lfs()
        L, t = timed(lambda: PandasLFApplier(slfs).apply(frame, progress_bar=False), 1,
                     warmup=False)
        assert np.array_equal(L, ref), "Snorkel's matrix differs"
        results.append(("Snorkel 0.10 `PandasLFApplier`", t))
        L, t = timed(lambda: PandasParallelLFApplier(slfs).apply(frame, n_parallel=args.workers),
                     1, warmup=False)
        assert np.array_equal(L, ref), "Snorkel's parallel matrix differs"
        results.append((f"Snorkel 0.10 `PandasParallelLFApplier`, {args.workers} processes", t))

    base = results[0][1]
    print("\n| engine | seconds | rows/s | vs in-process |")
    print("|---|---:|---:|---:|")
    for name, t in results:
        print(f"| {name} | {t:.2f} | {n / t:,.0f} | {base / t:.2f}x |")
    print("\nAll label matrices (and statistics) equal the in-process ones.")


if __name__ == "__main__":
    main()
