"""Benchmark: LF application that scales with the text, not the LF count (issue 12).

Two workloads, each in one run with Snorkel 0.10's ``PandasLFApplier`` (run as a subprocess
in Snorkel's own environment, on the same texts, with the same LFs written as Snorkel LFs),
label matrices checked identical:

(a) 1000 whole-word keyword LFs (900 single words, 100 two-word phrases, drawn from the
    comments' own vocabulary; some LFs own several keywords, some keywords several LFs)
    over 100,000 real YouTube comments: the 1,956 comments of the UCI YouTube Spam
    Collection, repeated (resampled with replacement) to 100k rows, since no larger real
    comment set is in the data folder. tfsnorkel with shared token tables (the default),
    tfsnorkel with every LF on its own RE2 scan (``token_tables=False``), Snorkel.
(b) the 10 keyword/regex LFs of BENCHMARKS.md section 1 (benchmarks/lf_apply.py) over
    200,000 comments resampled from WRENCH youtube train, as in section 1.

Snorkel and the per-LF path are slow on (a), so they run on the first ``--snorkel-rows`` /
``--reference-rows`` rows; their matrices are compared with tfsnorkel's on those rows.

    TFSNORKEL_DATA_DIR=/work/shared/data python benchmarks/lf_apply_scale.py \\
        --snorkel-python /work/venvs/snorkel/bin/python
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ABSTAIN = -1


# ------------------------------------------------------------------ Snorkel worker
def snorkel_worker(spec_file: str, out_file: str) -> None:
    """Runs in Snorkel's environment: PandasLFApplier over the texts with the given LFs."""
    from snorkel.labeling import PandasLFApplier, labeling_function

    with open(spec_file) as f:
        spec = json.load(f)
    lfs = []
    for name, kind, arg, label in spec["lfs"]:
        if kind == "substring":  # the Snorkel tutorial's keyword_lookup
            def f(x, kws=tuple(arg), label=label):
                text = x.text.lower()
                return label if any(k in text for k in kws) else ABSTAIN
        else:
            if kind == "regex":
                pat = re.compile(arg, re.IGNORECASE)
            elif spec["lowercase"]:  # whole words in the lowercased text
                alt = "|".join(re.escape(k.lower()) for k in arg)
                pat = re.compile(rf"(?<!\w)(?:{alt})(?!\w)")

                def f(x, pat=pat, label=label):
                    return label if pat.search(x.text.lower()) else ABSTAIN
                lfs.append(labeling_function(name=name)(f))
                continue
            else:  # whole words, Python re.IGNORECASE (as in benchmarks/lf_apply.py)
                alt = "|".join(re.escape(k) for k in arg)
                pat = re.compile(rf"(?<!\w)(?:{alt})(?!\w)", re.IGNORECASE)

            def f(x, pat=pat, label=label):
                return label if pat.search(x.text) else ABSTAIN
        lfs.append(labeling_function(name=name)(f))
    df = pd.DataFrame({"text": spec["texts"]})
    applier = PandasLFApplier(lfs)
    c0, t0 = time.process_time(), time.perf_counter()
    L = applier.apply(df, progress_bar=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    np.savez(out_file, L=np.asarray(L, dtype=np.int32), wall=wall, cpu=cpu)


def run_snorkel(python: str, lfs_spec: list, texts: list[str],
                lowercase: bool = False) -> tuple[np.ndarray, float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        spec, out = Path(tmp) / "spec.json", Path(tmp) / "out.npz"
        spec.write_text(json.dumps({"lfs": lfs_spec, "texts": texts, "lowercase": lowercase}))
        subprocess.run([python, __file__, "--snorkel-worker", str(spec), str(out)], check=True)
        res = np.load(out)
        return res["L"], float(res["wall"]), float(res["cpu"])


# ------------------------------------------------------------------ workloads
def youtube_comments() -> list[str]:
    root = Path(os.environ.get("TFSNORKEL_DATA_DIR", HERE.parent.parent / "shared" / "data"))
    files = sorted((root / "youtube_spam_collection").glob("Youtube0*.csv"))
    if not files:
        raise SystemExit(f"no YouTube Spam Collection under {root}")
    return pd.concat([pd.read_csv(p)["CONTENT"] for p in files]).astype(str).tolist()


def keyword_specs(texts: list[str], m: int, seed: int) -> list:
    """(name, "word", keywords, label) for m LFs: 90% words, 10% two-word phrases."""
    from collections import Counter

    rng = np.random.default_rng(seed)
    words = Counter(w for t in texts for w in re.findall(r"[a-z0-9]+", t.lower()))
    vocab = [w for w, _ in words.most_common()][20:]
    pairs: Counter = Counter()
    for t in texts:
        toks = t.lower().split()
        pairs.update(f"{a} {b}" for a, b in zip(toks, toks[1:])  # noqa: RUF007
                     if re.fullmatch(r"[a-z0-9]+", a) and re.fullmatch(r"[a-z0-9]+", b))
    phrases = [p for p, _ in pairs.most_common(m // 10)]
    n_words = m - len(phrases)
    specs = []
    for i in range(n_words):
        kws = [vocab[i]] if i % 5 else [vocab[i], vocab[(i * 13 + 7) % n_words]]
        specs.append((f"kw{i}", "word", kws, int(rng.integers(0, 2))))
    for i, p in enumerate(phrases):
        specs.append((f"phrase{i}", "word", [p], int(rng.integers(0, 2))))
    return specs


def build_lfset(specs: list, token_tables: bool = True):
    from tfsnorkel.labeling import LFSet, keyword_lf, regex_lf

    lfs = []
    for name, kind, arg, label in specs:
        if kind == "regex":
            lfs.append(regex_lf(arg, label, ignore_case=True, name=name))
        else:
            lfs.append(keyword_lf(arg, label, match=kind, ignore_case=True, name=name))
    return LFSet(lfs, cardinality=2, token_tables=token_tables)


def timed(fn, repeats: int = 1):
    """(result, median wall s, median process CPU s)."""
    walls, cpus, out = [], [], None
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return out, float(np.median(walls)), float(np.median(cpus))


def report(title: str, rows: dict[str, tuple[int, float, float]], ref: str) -> None:
    print(f"\n{title}")
    print(f"  {'engine':<44} {'rows':>8} {'wall rows/s':>12} {'x Snorkel':>9} "
          f"{'rows/CPU-s':>11} {'x Snorkel':>9}")
    r_wall = rows[ref][0] / rows[ref][1] if ref in rows else float("nan")
    r_cpu = rows[ref][0] / rows[ref][2] if ref in rows else float("nan")
    for k, (n, wall, cpu) in rows.items():
        print(f"  {k:<44} {n:>8} {n / wall:>12,.0f} {n / wall / r_wall:>9.1f} "
              f"{n / cpu:>11,.0f} {n / cpu / r_cpu:>9.1f}")


def stage_times(lfset, texts: list[str], repeats: int) -> None:
    """What bounds the figure: each stage alone on one batch of tensors."""
    import tensorflow as tf

    x = tf.constant(texts)
    n = len(texts)
    stages = {"lfset(tensors), the whole map": lambda t: lfset({"text": t})}
    for k, table in enumerate(lfset.shared_tables):
        stages[f"table {k} tokenize only ({len(table.members)} LFs)"] = tf.function(
            lambda t, table=table: table.tokens(t).flat_values)
        stages[f"table {k} votes ({len(table.members)} LFs)"] = tf.function(
            lambda t, table=table: table.votes(t, -1))
    alone = [lf for j, lf in enumerate(lfset.lfs)
             if not any(j in cols for cols in lfset._table_columns)]
    if alone:
        stages[f"the {len(alone)} LFs on their own (RE2)"] = tf.function(
            lambda t: tf.stack([lf.vote({"text": t}) for lf in alone], axis=1))
    print(f"  stages on one batch of {n} rows (median of {repeats}):")
    for name, fn in stages.items():
        fn(x)
        _, wall, _ = timed(lambda fn=fn: fn(x), repeats)
        print(f"    {name:<44} {n / wall:>12,.0f} rows/s  ({wall * 1e6 / n:.2f} us/row)")


def workload_a(args) -> None:
    import tensorflow as tf

    base = youtube_comments()
    rng = np.random.default_rng(args.seed)
    texts = [base[i] for i in rng.integers(0, len(base), args.rows_a)]
    specs = keyword_specs(base, args.lfs, args.seed)
    df = pd.DataFrame({"text": texts})
    print(f"(a) {len(texts)} comments resampled from {len(base)} real ones (mean "
          f"{np.mean([len(t) for t in texts]):.1f} chars), {len(specs)} keyword LFs "
          f"({sum(len(s[2]) for s in specs)} keywords), {os.cpu_count()} CPUs, "
          f"TF {tf.__version__}")
    t0 = time.perf_counter()
    lfset = build_lfset(specs)
    print(f"  LF set built in {time.perf_counter() - t0:.1f} s; tables: {lfset.shared_tables}")
    lfset.apply(df.iloc[:2000], progress=False)  # traces once
    rows: dict[str, tuple[int, float, float]] = {}
    L, wall, cpu = timed(lambda: lfset.apply(df, progress=False), args.repeats)
    rows["tfsnorkel, shared token tables"] = (len(texts), wall, cpu)
    lfset.apply(df.iloc[:2000], progress=False, sparse=True)  # traces once
    S, wall, cpu = timed(lambda: lfset.apply(df, progress=False, sparse=True), args.repeats)
    rows["tfsnorkel, shared token tables, sparse=True"] = (len(texts), wall, cpu)
    assert np.array_equal(S.toarray() - 1, L), "sparse and dense outputs disagree"
    del S
    nr = args.reference_rows
    alone = build_lfset(specs, token_tables=False)
    alone.apply(df.iloc[:200], progress=False)
    L_ref, wall, cpu = timed(lambda: alone.apply(df.iloc[:nr], progress=False))
    rows["tfsnorkel, one RE2 scan per LF"] = (nr, wall, cpu)
    assert np.array_equal(L[:nr], L_ref), "shared tables and per-LF path disagree"
    if args.snorkel_python:
        ns = args.snorkel_rows
        L_sn, wall, cpu = run_snorkel(args.snorkel_python, specs, texts[:ns], lowercase=True)
        rows["Snorkel 0.10 PandasLFApplier"] = (ns, wall, cpu)
        assert np.array_equal(L[:ns], L_sn), (
            f"tfsnorkel and Snorkel disagree on {int((L[:ns] != L_sn).any(axis=1).sum())} rows")
    print(f"  label matrices identical: shared vs per-LF on {nr} rows, vs Snorkel on "
          f"{args.snorkel_rows if args.snorkel_python else 0} rows; votes per row "
          f"{(L != -1).sum(axis=1).mean():.2f}, LFs that fire {(L != -1).any(axis=0).mean():.3f}")
    report("(a) 1000 keyword LFs", rows, "Snorkel 0.10 PandasLFApplier")
    stage_times(lfset, texts[:args.batch], args.repeats)


def workload_b(args) -> None:
    sys.path.insert(0, str(HERE))
    from lf_apply import SPECS

    from tfsnorkel.datasets import load_wrench

    base = load_wrench("youtube").train.frame["text"]
    rng = np.random.default_rng(args.seed)
    texts = base.to_numpy()[rng.integers(0, len(base), args.rows_b)].tolist()
    df = pd.DataFrame({"text": texts})
    specs = [list(s) for s in SPECS]
    print(f"\n(b) {len(texts)} comments resampled from WRENCH youtube train, the {len(specs)} "
          "LFs of section 1")
    lfset = build_lfset(specs)
    print(f"  tables: {lfset.shared_tables}")
    lfset.apply(df.iloc[:2000], progress=False)
    rows: dict[str, tuple[int, float, float]] = {}
    L = None
    for bs in (4096, 16384):
        L, wall, cpu = timed(lambda bs=bs: lfset.apply(df, batch_size=bs, progress=False),
                             args.repeats)
        rows[f"tfsnorkel, shared token tables, batch {bs}"] = (len(texts), wall, cpu)
    alone = build_lfset(specs, token_tables=False)
    alone.apply(df.iloc[:2000], progress=False)
    L_ref, wall, cpu = timed(lambda: alone.apply(df, batch_size=16384, progress=False),
                             args.repeats)
    rows["tfsnorkel, one RE2 scan per LF, batch 16384"] = (len(texts), wall, cpu)
    assert np.array_equal(L, L_ref)
    if args.snorkel_python:
        ns = min(args.snorkel_rows_b, len(texts))
        L_sn, wall, cpu = run_snorkel(args.snorkel_python, specs, texts[:ns])
        rows["Snorkel 0.10 PandasLFApplier"] = (ns, wall, cpu)
        assert np.array_equal(L[:ns], L_sn), "tfsnorkel and Snorkel disagree"
    print("  label matrices identical: shared vs per-LF on all rows, vs Snorkel on "
          f"{args.snorkel_rows_b if args.snorkel_python else 0} rows")
    report("(b) the 10 LFs of section 1", rows, "Snorkel 0.10 PandasLFApplier")
    stage_times(lfset, texts[:args.batch], args.repeats)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--snorkel-worker":
        snorkel_worker(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--snorkel-python", default=None,
                    help="the Python of an environment with Snorkel 0.10")
    ap.add_argument("--lfs", type=int, default=1000)
    ap.add_argument("--rows-a", type=int, default=100_000)
    ap.add_argument("--rows-b", type=int, default=200_000)
    ap.add_argument("--reference-rows", type=int, default=10_000)
    ap.add_argument("--snorkel-rows", type=int, default=2_000)
    ap.add_argument("--snorkel-rows-b", type=int, default=50_000)
    ap.add_argument("--batch", type=int, default=4096)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--only", choices=("a", "b"), default=None)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.only != "b":
        workload_a(args)
    if args.only != "a":
        workload_b(args)
    print(f"\nload average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
