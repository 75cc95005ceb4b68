"""Label model at scale: time, memory and accuracy against N, m and C (issue 12).

    python benchmarks/lm_scale.py [--snorkel-python /work/venvs/snorkel/bin/python]
        [--quick] [--out benchmarks/results/lm_scale.json]

Data: :func:`tfsnorkel.labelmodel.synthetic_sparse.synthetic_sparse_unipolar` (unipolar LFs
spread over the classes, about 10 votes a row, a Zipf-like class balance), kept as a
``scipy.sparse`` matrix (stored value = class index + 1) and given as it is to
``LabelModel(cardinality=C).fit`` with every default (``abstain_model="auto"`` fits both
forms and keeps the BIC choice; dependencies learned). Each configuration runs in a fresh
interpreter, so its peak RSS (``ru_maxrss``, TensorFlow's import included) is its own.
Accuracy is on the fitted rows against the gold classes, for the label model, majority vote
(ties at random) and the Bayes oracle of the generator.

Snorkel 0.10's ``LabelModel(cardinality=C).fit(L, seed=0)`` (defaults) runs in its own venv on
the same matrices (dense, as it needs them), under a 16 GB address-space limit and a 15-minute
timeout; each row records what it finished or where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
GENERATOR = HERE.parent / "tfsnorkel" / "labelmodel" / "synthetic_sparse.py"

GRID = [  # (N, m, C)
    (10_000, 1000, 100),
    (100_000, 1000, 100),
    (1_000_000, 1000, 100),
    (100_000, 100, 100),
    (100_000, 300, 100),
    (100_000, 1000, 10),
    (100_000, 1000, 30),
    (100_000, 100, 10),  # the sizes Snorkel 0.10 finishes
    (100_000, 300, 30),
]
SNORKEL_GRID = [(100_000, 100, 10), (100_000, 300, 30), (100_000, 1000, 30), (100_000, 1000, 100)]


def _generator():
    """The generator module by path: the Snorkel venv has numpy and scipy, not tfsnorkel."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("synthetic_sparse", GENERATOR)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _scores(d, proba_argmax: np.ndarray) -> dict:
    n, c = d.L.shape[0], d.cardinality
    oracle = np.concatenate(
        [d.posterior(d.L[i : i + 50_000]).argmax(1) for i in range(0, n, 50_000)]
    )
    import scipy.sparse as sp

    fired = sp.csr_matrix((np.ones(d.L.nnz), d.L.indices, d.L.indptr), shape=d.L.shape)
    own = sp.csr_matrix((np.ones(len(d.lf_classes)), (np.arange(len(d.lf_classes)), d.lf_classes)),
                        shape=(len(d.lf_classes), c))
    rng = np.random.default_rng(0)
    mv = np.concatenate([
        (np.asarray((fired[i : i + 50_000] @ own).todense())
         + rng.uniform(0, 1e-3, (min(50_000, n - i), c))).argmax(1)
        for i in range(0, n, 50_000)
    ])
    return {
        "accuracy": float(np.mean(proba_argmax == d.y)),
        "majority_vote": float(np.mean(mv == d.y)),
        "oracle": float(np.mean(oracle == d.y)),
    }


def child_tfsnorkel(n: int, m: int, c: int) -> dict:
    import tfsnorkel as ts
    import tfsnorkel.labelmodel.em_votes as em_votes

    # Each O(votes) EM run's kind, iterations and seconds (where the fit's time goes).
    em_runs = []
    run = em_votes.VotesEM.run

    def timed_run(self, *args, **kwargs):
        t0 = time.perf_counter()
        out = run(self, *args, **kwargs)
        kind = ("truncated" if kwargs.get("truncated") else
                "joint" if kwargs.get("learn_balance") else "fixed balance")
        em_runs.append([kind, int(out[3]), round(time.perf_counter() - t0, 2)])
        return out

    em_votes.VotesEM.run = timed_run
    d = _generator().synthetic_sparse_unipolar(n, num_lfs=m, cardinality=c, seed=0)
    t = time.perf_counter()
    lm = ts.LabelModel(cardinality=c).fit(d.L)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    pred = lm.predict_proba(d.L).argmax(1)
    predict_s = time.perf_counter() - t
    return {
        "engine": "tfsnorkel", "N": n, "m": m, "C": c, "votes_per_row": d.L.nnz / n,
        "fit_s": fit_s, "predict_s": predict_s,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        "choice": lm.fitted_choices, "groups": len(lm.dependencies_), "em_runs": em_runs,
        **_scores(d, pred),
    }


def child_snorkel(n: int, m: int, c: int) -> dict:
    from snorkel.labeling.model import LabelModel

    d = _generator().synthetic_sparse_unipolar(n, num_lfs=m, cardinality=c, seed=0)
    L = d.L.toarray().astype(np.int64) - 1
    lm = LabelModel(cardinality=c, verbose=False)
    t = time.perf_counter()
    lm.fit(L, seed=0, progress_bar=False)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    pred = lm.predict_proba(L).argmax(1)
    predict_s = time.perf_counter() - t
    return {
        "engine": "snorkel", "N": n, "m": m, "C": c, "fit_s": fit_s, "predict_s": predict_s,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
        **_scores(d, pred),
    }


def _run(python: str, engine: str, n: int, m: int, c: int, timeout: float) -> dict:
    cmd = [python, __file__, "--child", engine, str(n), str(m), str(c)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def limit():
        if engine == "snorkel":
            resource.setrlimit(resource.RLIMIT_AS, (16 << 30, 16 << 30))

    t = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env,
                           preexec_fn=limit)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "N": n, "m": m, "C": c,
                "stopped": f"timeout after {timeout:.0f} s"}
    for line in p.stdout.splitlines()[::-1]:
        if line.startswith("{"):
            return json.loads(line)
    tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
    return {"engine": engine, "N": n, "m": m, "C": c, "wall_s": time.perf_counter() - t,
            "stopped": f"exit {p.returncode}: {tail[:200]}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--snorkel-python", default=None)
    ap.add_argument("--quick", action="store_true", help="only N <= 100k")
    ap.add_argument("--out", default=str(HERE / "results" / "lm_scale.json"))
    args = ap.parse_args()
    if args.child:
        engine, n, m, c = args.child[0], *map(int, args.child[1:])
        fn = child_tfsnorkel if engine == "tfsnorkel" else child_snorkel
        print(json.dumps(fn(n, m, c)), flush=True)
        return
    rows = []
    grid = [g for g in GRID if not (args.quick and g[0] > 100_000)]
    for n, m, c in grid:
        rows.append(_run(sys.executable, "tfsnorkel", n, m, c, timeout=1800))
        print(json.dumps(rows[-1]), flush=True)
    if args.snorkel_python:
        for n, m, c in SNORKEL_GRID:
            rows.append(_run(args.snorkel_python, "snorkel", n, m, c, timeout=900))
            print(json.dumps(rows[-1]), flush=True)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps({"command": " ".join(sys.argv), "rows": rows}, indent=1))
    tmp.replace(out)
    print(f"{'engine':10} {'N':>9} {'m':>5} {'C':>4} {'fit s':>7} {'pred s':>7} {'RSS GB':>7} "
          f"{'acc':>6} {'MV':>6} {'oracle':>6}")
    for r in rows:
        if "stopped" in r:
            print(f"{r['engine']:10} {r['N']:>9} {r['m']:>5} {r['C']:>4}  {r['stopped']}")
            continue
        print(f"{r['engine']:10} {r['N']:>9} {r['m']:>5} {r['C']:>4} {r['fit_s']:7.1f} "
              f"{r['predict_s']:7.1f} {r['peak_rss_gb']:7.2f} {r['accuracy']:6.3f} "
              f"{r['majority_vote']:6.3f} {r['oracle']:6.3f}")


if __name__ == "__main__":
    main()
