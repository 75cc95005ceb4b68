"""The classifier stage side by side: label model, tf-idf classifier, and with self-training.

For every real text set of the label-model harness (``benchmarks/lm_sets.py``: the same label
matrices, cached) this fits, in one run:

- the label model without gold, ``ts.LabelModel(cardinality=C).fit(L_train)``, and with the
  gold valid split, ``.fit(L_train, L_dev=L_valid, y_dev=y_valid)`` (as ``run_pipeline`` fits
  it): the classifiers train on the soft labels of the second (of the first where a set has
  no valid split);
- the tf-idf classifier, ``ts.fit_text_classifier(..., label_type="auto")`` on those soft
  labels with the defaults of ``tfsnorkel.classify.training`` (early stopping and the
  soft/hard choice on the gold valid split);
- the same with ``self_training=True`` (threshold and rounds chosen on the gold valid split);
- with ``--backbone DIR`` (a pretrained encoder, e.g. the Hugging Face files of
  all-MiniLM-L6-v2): the same two with ``backbone=`` (frozen encoder, linear head), and with
  ``--fine-tune`` also the encoder fine-tuned (slow on CPU);

and scores each on the gold test split: accuracy, class-1 F1 (binary) or macro F1, and the
accuracy on the test rows no LF covers (where the label model can only return its prior).
spouse has no valid split (transductive, train = test): its classifier stops on the training
loss and there is nothing to choose self-training's threshold on, so that column is empty.

Run from the repository root (a few minutes on 2 CPU cores):

    TFSNORKEL_DATA_DIR=../shared/data python benchmarks/classifier.py [--sets youtube,trec] \\
        [--backbone /path/to/all-MiniLM-L6-v2] [--fine-tune] [--out benchmarks/results/classifier.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
SETS = ("youtube", "sms", "trec", "imdb", "yelp", "spouse", "cfpb")
COLUMNS = ("label_model", "label_model_dev", "classifier", "self_training", "encoder",
           "encoder_self_training", "fine_tuned")


def _data_root() -> Path:
    env = os.environ.get("TFSNORKEL_DATA_DIR")
    return Path(env) if env else REPO.parent / "shared" / "data"


def load_texts(name: str, root: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Train / valid / test texts of a harness set, in the row order of its label matrices."""
    import lm_sets

    if name in ("youtube", "sms", "trec"):
        from tfsnorkel.datasets import load_wrench

        d = load_wrench(name, root)
        parts = [s.frame["text"] for s in (d.train, d.valid, d.test)]
    elif name == "spouse":
        df = pd.read_csv(root / "spouse" / "test_spouse_snorkel.csv")
        parts = [df["sentence"], df["sentence"].iloc[:0], df["sentence"]]
    elif name in ("imdb", "yelp"):
        folder = root / "wrench_rules" / name
        parts = []
        for fname in ("unlabeled_data", "dev_data", "test_data"):
            with open(folder / f"{fname}.json", encoding="utf-8") as f:
                parts.append(pd.DataFrame(json.load(f))["text"])
        # train is transductive, as the label model's (lm_sets): every file's texts, no gold
        parts[0] = pd.concat(parts, ignore_index=True)
    elif name == "cfpb":
        mod = lm_sets._lfset_module("cfpb_lfs")
        parts = [p["text"] for p in mod.load_frames(root)]
    else:
        raise ValueError(f"unknown set. Received: {name!r}")
    return tuple(p.fillna("").astype(str).to_numpy(dtype=object) for p in parts)


def _scores(ts, y: np.ndarray, probs: np.ndarray, uncovered: np.ndarray, C: int) -> dict:
    f1 = "f1" if C == 2 else "f1_macro"
    out = {
        "accuracy": ts.metric_score(y, probs, "accuracy", cardinality=C),
        f1: ts.metric_score(y, probs, f1, cardinality=C),
    }
    pred = probs.argmax(axis=1)
    out["uncovered_accuracy"] = (
        float((pred[uncovered] == y[uncovered]).mean()) if uncovered.any() else float("nan")
    )
    return out


def run_set(name: str, root: Path, encoder=None, fine_tune: bool = False,
            variants: tuple[str, ...] | None = None, sequence_length: int = 256) -> dict:
    import lm_sets

    import tfsnorkel as ts

    d = lm_sets.load_set(name, data_dir=root)
    x_train, x_valid, x_test = load_texts(name, root)
    C = int(d["cardinality"])
    L_train, L_test, y_test = d["L_train"], d["L_test"], d["y_test"]
    assert len(x_train) == len(L_train) and len(x_test) == len(L_test), name
    has_dev = len(d["y_valid"]) > 0
    uncovered = (L_test == -1).all(axis=1)
    row: dict = {"set": name, "classes": C, "train": len(L_train), "test": len(L_test),
                 "train_coverage": float((L_train != -1).any(axis=1).mean()),
                 "test_uncovered": int(uncovered.sum())}
    fits = {"label_model": {}}
    if has_dev:
        fits["label_model_dev"] = dict(L_dev=d["L_valid"], y_dev=d["y_valid"])
    for key, kwargs in fits.items():
        t = time.perf_counter()
        lm = ts.LabelModel(cardinality=C).fit(L_train, **kwargs)
        P = lm.predict_proba(L_train)  # the last fit (with dev where there is one) is kept
        row[key] = _scores(ts, y_test, lm.predict_proba(L_test), uncovered, C)
        row[key]["seconds"] = time.perf_counter() - t
    dev = dict(dev_texts=x_valid, dev_y=d["y_valid"]) if has_dev else {}
    auto = {"label_type": "auto"} if has_dev else {}
    todo = {"classifier": dict(auto)}
    if has_dev:
        todo["self_training"] = {**auto, "self_training": True}
    if encoder is not None:
        auto = {**auto, "sequence_length": sequence_length}
        todo["encoder"] = {**auto, "backbone": encoder}
        if has_dev:
            todo["encoder_self_training"] = {**auto, "backbone": encoder, "self_training": True}
        if fine_tune:
            todo["fine_tuned"] = {**auto, "backbone": encoder, "fine_tune": True, "epochs": 4,
                                  "batch_size": 32}
    for key, kwargs in todo.items():
        if variants and key not in variants:
            continue
        t = time.perf_counter()
        clf = ts.fit_text_classifier(x_train, P, L_train, **dev, **kwargs)
        row[key] = _scores(ts, y_test, ts.predict_proba(clf, x_test), uncovered, C)
        row[key]["seconds"] = time.perf_counter() - t
        if kwargs.get("self_training"):
            row[key]["log"] = clf.self_training_log
        print(f"  {name} {key}: {row[key]['accuracy']:.3f} ({row[key]['seconds']:.0f} s)",
              file=sys.stderr, flush=True)
    return row


def table(rows: list[dict]) -> str:
    cols = [c for c in COLUMNS if any(c in r for r in rows)]
    lines = [
        "| set | C | train rows (covered) | test rows (no LF) | "
        + " | ".join(f"{c.replace('_', ' ')} acc / F1 / acc no-LF" for c in cols) + " |",
        "|---|---|---|---|" + "---|" * len(cols),
    ]
    for r in rows:
        cells = []
        for c in cols:
            s = r.get(c)
            if s is None:
                cells.append("n/a")
                continue
            f1 = s.get("f1", s.get("f1_macro"))
            unc = s["uncovered_accuracy"]
            cells.append(f"{s['accuracy']:.3f} / {f1:.3f} / "
                         + ("-" if np.isnan(unc) else f"{unc:.3f}"))
        lines.append(f"| {r['set']} | {r['classes']} | {r['train']} ({r['train_coverage']:.2f}) | "
                     f"{r['test']} ({r['test_uncovered']}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--out", default=None, help="write the rows as JSON here")
    parser.add_argument("--backbone", default=None,
                        help="a pretrained encoder (Hugging Face directory or keras-hub preset)")
    parser.add_argument("--fine-tune", action="store_true", help="also fine-tune the encoder")
    parser.add_argument("--sequence-length", type=int, default=256,
                        help="tokens an encoder reads per text (default 256)")
    parser.add_argument("--variants", default="",
                        help="comma-separated classifier columns to run (default: all)")
    parser.add_argument("--table", nargs="+", default=None, metavar="JSON",
                        help="only print the table of rows saved by earlier --out runs")
    args = parser.parse_args(argv)
    if args.table:
        print(table([r for f in args.table for r in json.loads(Path(f).read_text())]))
        return 0
    root = _data_root()
    encoder = None
    if args.backbone:
        import tfsnorkel as ts

        encoder = ts.load_bert_encoder(args.backbone)
    variants = tuple(v for v in args.variants.split(",") if v) or None
    rows = []
    for name in args.sets.split(","):
        t = time.perf_counter()
        rows.append(run_set(name, root, encoder, args.fine_tune, variants, args.sequence_length))
        print(f"{name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
        print(json.dumps(rows[-1], default=float), file=sys.stderr, flush=True)
        if args.out:  # after every set, atomically: a stopped run keeps the sets it finished
            out = Path(args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            tmp.write_text(json.dumps(rows, indent=1, default=float))
            tmp.replace(out)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
