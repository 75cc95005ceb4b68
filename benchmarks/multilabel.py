"""Multi-label benchmark: MultiLabelModel vs the Bayes oracle (synthetic) and on the CFPB tags.

    TFSNORKEL_DATA_DIR=../shared/data python benchmarks/multilabel.py            # both parts
    python benchmarks/multilabel.py --skip-real                                  # synthetic only

Synthetic part: members of a small family drawn by ``synthetic_multilabel`` (known parameters),
each fitted without gold; per class, the accuracy of ``P >= 0.5`` of the model, of the Bayes
oracle (``SyntheticMultiLabels.posterior``) and of a per-class majority vote of the LFs (present
when present votes outnumber absent ones), and the fit time. Real part:
``examples/multilabel_complaints.py`` (LFs -> label model -> classifier -> export), its test
micro / macro F1. Prints Markdown tables (BENCHMARKS.md, "Multi-label").
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

from tfsnorkel.labelmodel import MultiLabelModel, synthetic_multilabel

REPO = Path(__file__).resolve().parents[1]

#: name -> (description, synthetic_multilabel keyword arguments)
FAMILY = {
    "mixed": ("4 classes x 5 LFs (detector / excluder / bipolar), priors U(0.1, 0.5)",
              {"num_classes": 4, "lfs_per_class": 5, "seed": 0}),
    "copies": ("as mixed, 3 copies of a detector and 2 of an excluder (copy_prob 0.9)",
               {"num_classes": 4, "lfs_per_class": 5, "copies": {0: 3, 6: 2}, "seed": 0}),
    "rare": ("3 classes x 6 LFs, priors 0.05 / 0.2 / 0.5",
             {"num_classes": 3, "lfs_per_class": 6, "class_priors": [0.05, 0.2, 0.5],
              "seed": 1}),
    "many_classes": ("20 classes x 4 LFs (all kinds), priors U(0.1, 0.5)",
                     {"num_classes": 20, "lfs_per_class": 4, "seed": 2}),
    "detectors": ("5 classes x 4 detectors only (unipolar: the one-coin model by default)",
                  {"num_classes": 5, "lfs_per_class": 4, "kinds": ["detector"], "seed": 3}),
    "detectors_em": ("the same, class_model='em'",
                     {"num_classes": 5, "lfs_per_class": 4, "kinds": ["detector"], "seed": 3},
                     {"class_model": "em"}),
}


def _vote(L: np.ndarray, lf_classes: np.ndarray, c: int) -> np.ndarray:
    own = np.eye(c)[lf_classes]
    return ((L == 1).astype(float) @ own > (L == 0).astype(float) @ own).astype(int)


def synthetic(n: int) -> list[dict]:
    rows = []
    for name, (desc, kwargs, *options) in FAMILY.items():
        d = synthetic_multilabel(n, **kwargs)
        start = time.perf_counter()
        lm = MultiLabelModel(d.num_classes, d.lf_classes, **(options[0] if options else {}))
        lm.fit(d.L)
        P = lm.predict_proba(d.L)
        seconds = time.perf_counter() - start
        acc = ((P >= 0.5) == d.Y).mean(0)
        oracle = ((d.posterior(d.L) >= 0.5) == d.Y).mean(0)
        vote = (_vote(d.L, d.lf_classes, d.num_classes) == d.Y).mean(0)
        gap = acc - oracle
        rows.append({
            "member": name, "description": desc, "n": n, "classes": d.num_classes,
            "lfs": d.L.shape[1], "models": sorted(set(lm.class_table()["model"])),
            "mean_acc": float(acc.mean()), "mean_oracle": float(oracle.mean()),
            "mean_vote": float(vote.mean()), "worst_gap": float(gap.min()),
            "max_abs_gap": float(np.abs(gap).max()), "fit_predict_s": seconds,
            "per_class_gap": [round(float(g), 4) for g in gap],
        })
    return rows


def real(data_dir: str | None, max_epochs: int) -> dict:
    spec = importlib.util.spec_from_file_location(
        "multilabel_complaints", REPO / "examples" / "multilabel_complaints.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = {}
    for dev in (False, True):
        out["dev" if dev else "no_dev"] = module.run(data_dir, max_epochs=max_epochs,
                                                     label_model_dev=dev)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20000, help="rows per synthetic member")
    parser.add_argument("--skip-real", action="store_true")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--json", default=None, help="also write the records here")
    args = parser.parse_args(argv)
    records: dict = {"synthetic": synthetic(args.n)}
    print("| member | classes x LFs | class models | mean acc model | oracle | vote | "
          "max abs gap per class | fit+predict s |")
    print("|---|---|---|---:|---:|---:|---:|---:|")
    for r in records["synthetic"]:
        print(f"| {r['member']} | {r['classes']} x {r['lfs']} | {', '.join(r['models'])} | "
              f"{r['mean_acc']:.4f} | {r['mean_oracle']:.4f} | {r['mean_vote']:.4f} | "
              f"{r['max_abs_gap']:.4f} | {r['fit_predict_s']:.2f} |")
    if not args.skip_real:
        records["real"] = real(args.data_dir, args.max_epochs)
        print("\n| CFPB tags (test, 460 rows) | label model fit | micro F1 | macro F1 |")
        print("|---|---|---:|---:|")
        for key, res in records["real"].items():
            for what in ("vote", "label_model", "classifier", "classifier_tuned"):
                s = res[what]
                print(f"| {what} | {key} | {s['f1_micro']:.3f} | {s['f1_macro']:.3f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
