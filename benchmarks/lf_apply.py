"""Benchmark: applying 10 keyword/regex LFs to >= 200k real-length texts.

Three engines over the same texts (YouTube comments from WRENCH youtube's train split,
resampled with replacement), in one run:

1. tfsnorkel: the compiled `LFSet` (one tf.function, RE2 ops, tf.data parallel map);
2. Snorkel 0.10's ``PandasLFApplier`` with the equivalent ``@labeling_function`` LFs;
3. a plain Python loop calling precompiled ``re`` patterns.

It checks that the three label matrices are identical and reports rows/s and ratios.
Needs Snorkel, hence the bench venv:

    TFSNORKEL_DATA_DIR=/work/shared/data /work/venv-bench/bin/python benchmarks/lf_apply.py

Options: ``--rows``, ``--batch-sizes``, ``--repeats``, ``--skip-snorkel``.
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
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfsnorkel.datasets import load_wrench  # noqa: E402
from tfsnorkel.labeling import LFSet, keyword_lf, regex_lf  # noqa: E402

SPAM, HAM, ABSTAIN = 1, 0, -1

# (name, kind, argument, label): the tutorial's keyword/regex LFs plus four more of the
# same kinds (whole-word keywords and regexes), so that 10 LFs run.
SPECS = [
    ("keyword_my", "substring", ["my"], SPAM),
    ("keyword_subscribe", "substring", ["subscribe"], SPAM),
    ("keyword_link", "substring", ["http"], SPAM),
    ("keyword_please", "substring", ["please", "plz"], SPAM),
    ("keyword_song", "substring", ["song"], HAM),
    ("regex_check_out", "regex", r"check.*out", SPAM),
    ("word_love", "word", ["love"], HAM),
    ("word_channel", "word", ["channel", "views"], SPAM),
    ("regex_number", "regex", r"[0-9]{3,}", SPAM),
    ("regex_site", "regex", r"www\.|\.com", SPAM),
]


def compiled_lfset() -> LFSet:
    lfs = []
    for name, kind, arg, label in SPECS:
        if kind == "regex":
            lfs.append(regex_lf(arg, label, ignore_case=True, name=name))
        else:
            lfs.append(keyword_lf(arg, label, match=kind, ignore_case=True, name=name))
    return LFSet(lfs, cardinality=2)


def python_patterns() -> list[tuple[re.Pattern, int]]:
    """The same LFs as precompiled Python regexes (re.IGNORECASE)."""
    out = []
    for _, kind, arg, label in SPECS:
        if kind == "regex":
            pat = arg
        else:
            alt = "|".join(re.escape(k) for k in arg)
            pat = rf"(?<!\w)(?:{alt})(?!\w)" if kind == "word" else alt
        out.append((re.compile(pat, re.IGNORECASE), label))
    return out


def python_loop(texts: list[str], patterns) -> np.ndarray:
    L = np.full((len(texts), len(patterns)), ABSTAIN, dtype=np.int32)
    for i, t in enumerate(texts):
        for j, (p, label) in enumerate(patterns):
            if p.search(t):
                L[i, j] = label
    return L


def snorkel_lfs():
    from snorkel.labeling import labeling_function

    lfs = []
    for name, kind, arg, label in SPECS:
        if kind == "substring":
            def f(x, kws=tuple(arg), label=label):
                text = x.text.lower()
                return label if any(k in text for k in kws) else ABSTAIN
        else:
            if kind == "regex":
                pat = re.compile(arg, re.IGNORECASE)
            else:
                alt = "|".join(re.escape(k) for k in arg)
                pat = re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.IGNORECASE)

            def f(x, pat=pat, label=label):
                return label if pat.search(x.text) else ABSTAIN
        lfs.append(labeling_function(name=name)(f))
    return lfs


CPU: dict[str, float] = {}


def tfsnorkel_python_lfset() -> LFSet:
    """The same LFs as tfsnorkel Python LFs (run through tf.numpy_function)."""
    from tfsnorkel.labeling import labeling_function as tf_labeling_function

    lfs = []
    for (name, _, _, _), (pat, label) in zip(SPECS, python_patterns()):
        def f(x, pat=pat, label=label):
            return label if pat.search(x.text) else ABSTAIN
        lfs.append(tf_labeling_function(name=name)(f))
    return LFSet(lfs, cardinality=2)


def timed(fn, repeats: int, key: str | None = None):
    """Wall times of ``repeats`` runs; the median run's process CPU time lands in CPU[key]."""
    times, cpus, out = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    if key is not None:
        CPU[key] = float(np.median(cpus))
    return out, times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--batch-sizes", default="1024,4096,16384,65536")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-snorkel", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    base = load_wrench("youtube").train.frame["text"]
    rng = np.random.default_rng(args.seed)
    texts = base.to_numpy()[rng.integers(0, len(base), args.rows)].tolist()
    df = pd.DataFrame({"text": texts})
    mean_chars = float(np.mean([len(t) for t in texts]))
    print(f"{args.rows} texts (mean {mean_chars:.1f} chars), {len(SPECS)} LFs, "
          f"{os.cpu_count()} CPUs, TF {tf.__version__}, {platform.python_version()}")
    results: dict[str, float] = {}

    # --- tfsnorkel, compiled
    lfset = compiled_lfset()
    t0 = time.perf_counter()
    lfset.apply(df.iloc[:1000], progress=False)  # traces the tf.function once
    trace_s = time.perf_counter() - t0
    L_tf = None
    per_bs = {}
    for bs in [int(b) for b in args.batch_sizes.split(",")]:
        L_tf, times = timed(lambda bs=bs: lfset.apply(df, batch_size=bs, progress=False),
                            args.repeats, key=f"tfsnorkel/{bs}")
        per_bs[bs] = args.rows / statistics.median(times)
        print(f"tfsnorkel LFSet.apply(DataFrame), batch {bs:>6}: {per_bs[bs]:>12,.0f} rows/s "
              f"(median of {args.repeats}: {statistics.median(times):.3f} s)")
    best_bs = max(per_bs, key=per_bs.get)
    results["tfsnorkel"] = per_bs[best_bs]
    CPU["tfsnorkel"] = CPU[f"tfsnorkel/{best_bs}"]
    # the op alone: one call on pre-built tensors (no pandas conversion, no tf.data)
    feats = {"text": tf.constant(texts)}
    lfset(feats)
    _, times = timed(lambda: lfset(feats).numpy(), args.repeats)
    op_rate = args.rows / statistics.median(times)
    print(f"tfsnorkel lfset(tensors), one batch of {args.rows}: {op_rate:>12,.0f} rows/s")

    # --- tfsnorkel, the same LFs as Python LFs (tf.numpy_function, one call per batch)
    py_set = tfsnorkel_python_lfset()
    L_tfpy, times = timed(lambda: py_set.apply(df, batch_size=4096, progress=False), 1,
                          key="tfsnorkel, Python LFs")
    results["tfsnorkel, Python LFs"] = args.rows / times[0]
    print(f"tfsnorkel LFSet of Python LFs: {results['tfsnorkel, Python LFs']:>12,.0f} rows/s")

    # --- plain Python re
    pats = python_patterns()
    L_py, times = timed(lambda: python_loop(texts, pats), args.repeats, key="python re loop")
    results["python re loop"] = args.rows / statistics.median(times)
    print(f"plain Python re loop: {results['python re loop']:>12,.0f} rows/s")

    # --- Snorkel
    if not args.skip_snorkel:
        from snorkel.labeling import PandasLFApplier

        applier = PandasLFApplier(snorkel_lfs())
        L_sn, times = timed(lambda: applier.apply(df, progress_bar=False), 1,
                            key="snorkel PandasLFApplier")
        results["snorkel PandasLFApplier"] = args.rows / times[0]
        print(f"Snorkel 0.10 PandasLFApplier: {results['snorkel PandasLFApplier']:>12,.0f} rows/s "
              f"({times[0]:.2f} s)")
        assert np.array_equal(np.asarray(L_sn), L_py), "Snorkel and the Python loop disagree"
    assert np.array_equal(L_tfpy, L_py), "tfsnorkel's Python-LF path and the Python loop disagree"
    assert np.array_equal(L_tf, L_py), (
        f"tfsnorkel and Python disagree on {int((L_tf != L_py).any(axis=1).sum())} rows")
    print("label matrices identical across engines: yes "
          f"(coverage per LF: {np.round((L_tf != -1).mean(axis=0), 3).tolist()})")
    print(f"trace (first call, 1000 rows): {trace_s:.2f} s; best batch size: {best_bs}")
    print(f"load average during the run: {os.getloadavg()}")
    ref = results.get("snorkel PandasLFApplier")
    ref_cpu = CPU.get("snorkel PandasLFApplier")
    print(f"  {'engine':<26} {'wall rows/s':>12} {'x Snorkel':>10} "
          f"{'rows/CPU-s':>12} {'x Snorkel':>10}")
    for k, v in results.items():
        per_cpu = args.rows / CPU[k]
        print(f"  {k:<26} {v:>12,.0f} {v / ref if ref else float('nan'):>10.1f} {per_cpu:>12,.0f} "
              f"{per_cpu / (args.rows / ref_cpu) if ref_cpu else float('nan'):>10.1f}")


if __name__ == "__main__":
    main()
