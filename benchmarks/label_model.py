"""Label model benchmark: tfsnorkel's LabelModel vs Snorkel 0.10's LabelModel vs majority vote.

Run (from the repository root, with the benchmark venv that holds Snorkel 0.10 and torch):

    TFSNORKEL_DATA_DIR=../shared/data /work/venv-bench/bin/python benchmarks/label_model.py

Sections (each case runs in a fresh subprocess so that peak memory is its own):

1. WRENCH youtube / sms / trec: fit on train without gold labels, score on test: accuracy,
   class-1 F1 on rows at least one LF covers, class-1 F1 on all rows.
2. youtube's 7 rule LFs: soft labels from each method train the same text classifier
   (``NoiseAwareLoss``, early stopping on the gold dev set); its test accuracy, and the soft
   labels' Brier score on the covered train rows.
3. Synthetic fits: 1M x 10 binary, 100k x 100 binary, 100k x 50 LFs with 20 classes: fit time
   and peak resident memory added by the fit (VmHWM after resetting it, minus RSS before).
4. Streaming: a ``tf.data`` pipeline that generates label-matrix batches in TensorFlow, fed to
   ``LabelModel.fit(dataset)``; resident memory sampled while it runs, to show it stays flat.

Options: ``--stream-rows`` (default 50M), ``--skip-stream``, ``--only`` (section name).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

WRENCH = ("youtube", "sms", "trec")
SYNTHETIC = {
    "1M x 10, 2 classes": (1_000_000, 2, 10),
    "100k x 100, 2 classes": (100_000, 2, 100),
    "100k x 50, 20 classes": (100_000, 20, 50),
}


def _rss_kb(field: str = "VmRSS") -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _fit(method: str, L: np.ndarray, cardinality: int):
    """Fits one method; returns functions L -> predictions and L -> probabilities."""
    if method.startswith("tfsnorkel"):
        from tfsnorkel.labelmodel import LabelModel

        abstain = "independent" if method == "tfsnorkel one-coin" else "auto"
        lm = LabelModel(cardinality, abstain_model=abstain).fit(L)
        return (lambda X: lm.predict(X, tie_break="random")), lm.predict_proba
    if method == "snorkel":
        from snorkel.labeling.model import LabelModel as SnorkelLabelModel

        lm = SnorkelLabelModel(cardinality=cardinality, verbose=False)
        lm.fit(L, progress_bar=False, seed=123)
        return (lambda X: lm.predict(X, tie_break_policy="random")), lm.predict_proba
    raise ValueError(method)


def case_wrench(name: str, method: str) -> dict:
    from sklearn.metrics import f1_score

    from tfsnorkel.datasets import load_wrench
    from tfsnorkel.labelmodel import majority_vote

    d = load_wrench(name)
    c = d.cardinality
    y = d.test.y
    covered = (d.test.L >= 0).any(1)
    t = time.perf_counter()
    if method == "majority vote":
        from tfsnorkel.labelmodel import MajorityVoter

        preds = [majority_vote(d.test.L, c, tie_break="random", seed=s) for s in range(50)]
        fit_s = 0.0
        proba = MajorityVoter(c).predict_proba
    else:
        predict, proba = _fit(method, d.train.L, c)
        fit_s = time.perf_counter() - t
        preds = [predict(d.test.L)]
    acc = float(np.mean([(p == y).mean() for p in preds]))
    out = {"acc": acc, "fit_s": fit_s}
    if c == 2:
        out["f1_covered"] = float(np.mean([f1_score(y[covered], p[covered]) for p in preds]))
        out["f1_all"] = float(np.mean([f1_score(y, p) for p in preds]))
        # Calibration of the soft labels a classifier trains on: mean P(class 1) on train.
        out["train_p1"] = float(np.asarray(proba(d.train.L))[:, 1].mean())
        out["train_y1"] = float(d.train.y.mean())
    return out


def case_synthetic(label: str, method: str) -> dict:
    from tfsnorkel.labelmodel import synthetic_label_matrix

    n, c, m = SYNTHETIC[label]
    d = synthetic_label_matrix(n, c, m, seed=0)
    before = _rss_kb()
    _reset_peak()
    t = time.perf_counter()
    predict, _ = _fit(method, d.L, c)
    fit_s = time.perf_counter() - t
    peak_mb = (_rss_kb("VmHWM") - before) / 1024
    sample = slice(0, 100_000)
    acc = float((predict(d.L[sample]) == d.y[sample]).mean())
    oracle = float((d.posterior(d.L[sample]).argmax(1) == d.y[sample]).mean())
    return {"fit_s": fit_s, "peak_mb": peak_mb, "acc": acc, "oracle_acc": oracle}


def case_em_vs_gradient() -> dict:
    """Same MAP objective (one-coin LFs, uniform balance), fitted by EM and by Adam steps."""
    import keras
    import tensorflow as tf

    from tfsnorkel.labelmodel import LabelModel, LabelStats, synthetic_label_matrix
    from tfsnorkel.labelmodel.structure import vote_matrix

    d = synthetic_label_matrix(1_000_000, 2, 10, seed=0)
    stats = LabelStats.from_matrix(d.L, 2)
    t = time.perf_counter()
    em = LabelModel(
        2, dependencies=None, class_balance=[0.5, 0.5], abstain_model="independent"
    ).fit(stats)
    em_s = time.perf_counter() - t
    em_acc = em.lf_table()["accuracy"].to_numpy()

    c, m = 2, stats.num_lfs
    votes = tf.constant(vote_matrix(stats.rows, c).toarray(), tf.float32)  # [K, m*C]
    n = tf.constant(stats.counts, tf.float32)
    a0, b0 = 32.0, 8.0
    floor = 1.0 / c + 0.05
    theta = tf.Variable(tf.zeros(m))
    opt = keras.optimizers.Adam(learning_rate=0.05)
    eye = tf.eye(c)[None]

    def loss_fn():
        acc = floor + (1 - floor) * tf.sigmoid(theta)
        w_right, w_wrong = tf.math.log(acc), tf.math.log((1 - acc) / (c - 1))
        w = w_wrong[:, None, None] + (w_right - w_wrong)[:, None, None] * eye
        logits = votes @ tf.reshape(w, [m * c, c]) + tf.math.log(0.5)
        ll = tf.reduce_sum(n * tf.reduce_logsumexp(logits, axis=1))
        prior = tf.reduce_sum((a0 - 1) * tf.math.log(acc) + (b0 - 1) * tf.math.log(1 - acc))
        return -(ll + prior) / tf.reduce_sum(n)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = loss_fn()
        opt.apply_gradients([(tape.gradient(loss, theta), theta)])
        return loss

    t = time.perf_counter()
    prev, steps = np.inf, 0
    for steps in range(1, 3001):
        loss = float(step())
        if abs(prev - loss) < 1e-7:
            break
        prev = loss
    grad_s = time.perf_counter() - t
    grad_acc = (floor + (1 - floor) * tf.sigmoid(theta)).numpy()
    return {
        "unique_rows": stats.num_unique,
        "em_s": em_s,
        "gradient_s": grad_s,
        "gradient_steps": steps,
        "max_abs_accuracy_difference": float(np.abs(grad_acc - em_acc).max()),
        "em_max_accuracy_error": float(np.abs(em_acc - d.accuracies).max()),
    }


def case_classifier(source: str) -> dict:
    """youtube, 7 rule LFs: a text classifier trained on one source's soft labels (train split)."""
    from sklearn.metrics import brier_score_loss

    import tfsnorkel as ts
    from tfsnorkel.datasets import load_wrench

    d = load_wrench("youtube")
    L, y = d.train.L[:, :7], d.train.y
    if source == "majority vote":
        P = ts.MajorityVoter(2).predict_proba(L)
    else:
        abstain = "independent" if source == "tfsnorkel one-coin" else "auto"
        P = ts.LabelModel(2, abstain_model=abstain).fit(L).predict_proba(L)
    covered = (L >= 0).any(1)
    clf = ts.fit_text_classifier(d.train.frame["text"], P, L, dev_texts=d.valid.frame["text"],
                                 dev_y=d.valid.y, max_tokens=None)
    probs = ts.predict_proba(clf, d.test.frame["text"])
    return {
        "covered_brier": float(brier_score_loss(y[covered], P[covered, 1])),
        "covered_argmax_acc": float((P[covered].argmax(1) == y[covered]).mean()),
        "train_p1": float(P[:, 1].mean()),
        "clf_test_acc": float((probs.argmax(1) == d.test.y).mean()),
    }


def _tf_batches(total_rows: int, batch: int, seed: int = 0):
    """tf.data pipeline generating binary label-matrix batches in TF (10 LFs, known truth)."""
    import functools

    import tensorflow as tf

    acc = tf.constant(np.linspace(0.6, 0.9, 10), tf.float32)
    prop = tf.constant(np.linspace(0.3, 0.9, 10), tf.float32)

    def make(i, acc, prop):
        s = tf.stack([tf.cast(i, tf.int32), seed])
        y = tf.cast(tf.random.stateless_uniform([batch, 1], s) < 0.7, tf.int32)
        votes = tf.random.stateless_uniform([batch, 10], s + 1) < prop
        right = tf.random.stateless_uniform([batch, 10], s + 2) < acc
        v = tf.where(right, y, 1 - y)
        return tf.where(votes, v, -tf.ones_like(v))

    ds = tf.data.Dataset.range(total_rows // batch)
    ds = ds.map(
        functools.partial(make, acc=acc, prop=prop), num_parallel_calls=2, deterministic=True
    )
    return ds.prefetch(2)


def case_stream(total_rows: int) -> dict:
    from tfsnorkel.labelmodel import LabelModel

    batch = 1_000_000
    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    t0 = time.perf_counter()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, _rss_kb()))
            time.sleep(0.5)

    ds = _tf_batches(total_rows, batch)
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    lm = LabelModel(2).fit(ds)
    stop.set()
    thread.join()
    elapsed = time.perf_counter() - t0
    rss = np.array([kb for _, kb in samples]) / 1024
    quarter = max(1, len(rss) // 4)
    deciles = [float(rss[min(len(rss) - 1, int(q * len(rss)))]) for q in np.linspace(0.1, 1, 10)]
    table = lm.lf_table()
    return {
        "rows": total_rows,
        "seconds": elapsed,
        "rows_per_s": total_rows / elapsed,
        "rss_first_quarter_max_mb": float(rss[:quarter].max()),
        "rss_last_quarter_max_mb": float(rss[-quarter:].max()),
        "rss_mb_at_each_tenth_of_the_run": [round(x) for x in deciles],
        "class_balance": lm.class_balance_.round(4).tolist(),
        "max_accuracy_error": float(np.abs(table["accuracy"] - np.linspace(0.6, 0.9, 10)).max()),
    }


def _run_sub(kind: str, *args: str) -> dict:
    cmd = [sys.executable, __file__, "--case", kind, *args]
    res = subprocess.run(cmd, check=False, capture_output=True, text=True, env=os.environ.copy())
    if res.returncode != 0:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr else "failed"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs="*")
    parser.add_argument("--stream-rows", type=int, default=50_000_000)
    parser.add_argument("--skip-stream", action="store_true")
    parser.add_argument("--only", choices=["wrench", "classifier", "synthetic", "em", "stream"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.case:
        kind, *rest = args.case
        if kind == "wrench":
            out = case_wrench(*rest)
        elif kind == "synthetic":
            out = case_synthetic(*rest)
        elif kind == "em_vs_gradient":
            out = case_em_vs_gradient()
        elif kind == "classifier":
            out = case_classifier(*rest)
        else:
            out = case_stream(int(rest[0]))
        print(json.dumps(out))
        return

    import platform

    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    methods = ("tfsnorkel", "snorkel", "majority vote")
    wrench_methods = ("tfsnorkel", "tfsnorkel one-coin", "snorkel", "majority vote")
    if args.only in (None, "wrench"):
        print("\n## WRENCH test sets (fit on train, no gold labels)\n")
        print(
            "| set | method | accuracy | class-1 F1 (covered rows) | class-1 F1 (all rows) "
            "| mean train P(class 1) (truth) | fit s |"
        )
        print("|---|---|---|---|---|---|---|")
        for name in WRENCH:
            for method in wrench_methods:
                r = _run_sub("wrench", name, method)
                if "error" in r:
                    print(f"| {name} | {method} | error: {r['error']} | | | | |")
                    continue
                f1c = f"{r['f1_covered']:.3f}" if "f1_covered" in r else "-"
                f1a = f"{r['f1_all']:.3f}" if "f1_all" in r else "-"
                p1 = f"{r['train_p1']:.3f} ({r['train_y1']:.3f})" if "train_p1" in r else "-"
                print(
                    f"| {name} | {method} | {r['acc']:.3f} | {f1c} | {f1a} | {p1} "
                    f"| {r['fit_s']:.2f} |",
                    flush=True,
                )
    if args.only in (None, "classifier"):
        print("\n## youtube (7 rule LFs): soft labels on train -> text classifier on test\n")
        print(
            "| soft labels from | Brier on covered train rows | argmax accuracy there "
            "| mean train P(spam) (truth 0.524) | classifier test accuracy |"
        )
        print("|---|---|---|---|---|")
        for source in ("tfsnorkel", "tfsnorkel one-coin", "majority vote"):
            r = _run_sub("classifier", source)
            if "error" in r:
                print(f"| {source} | error: {r['error']} | | | |")
                continue
            print(
                f"| {source} | {r['covered_brier']:.3f} | {r['covered_argmax_acc']:.3f} "
                f"| {r['train_p1']:.3f} | {r['clf_test_acc']:.3f} |",
                flush=True,
            )
    if args.only in (None, "synthetic"):
        print("\n## Synthetic fits (one fresh process per cell)\n")
        print("| matrix | method | fit s | peak MB added by fit | accuracy | Bayes oracle |")
        print("|---|---|---|---|---|---|")
        for label in SYNTHETIC:
            for method in methods[:2]:
                r = _run_sub("synthetic", label, method)
                if "error" in r:
                    print(f"| {label} | {method} | error: {r['error']} | | | |")
                    continue
                print(
                    f"| {label} | {method} | {r['fit_s']:.2f} | {r['peak_mb']:.0f} | "
                    f"{r['acc']:.4f} | {r['oracle_acc']:.4f} |",
                    flush=True,
                )
    if args.only in (None, "em"):
        print("\n## EM vs gradient steps (Adam) on the same objective, 1M x 10\n")
        print("```")
        print(json.dumps(_run_sub("em_vs_gradient"), indent=1))
        print("```")
    if args.only in (None, "stream") and not args.skip_stream:
        print("\n## Streamed fit from tf.data\n")
        r = _run_sub("stream", str(args.stream_rows))
        print("```")
        print(json.dumps(r, indent=1))
        print("```")


if __name__ == "__main__":
    main()
