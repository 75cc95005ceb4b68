"""The label-model harness's sets: label matrices with gold labels, cached as ``.npz``.

Build every set once (deterministic: the same files on every run), from the repository root:

    TFSNORKEL_DATA_DIR=../shared/data python benchmarks/lm_sets.py --build

and load one anywhere with ``load_set(name)`` (builds and caches it when missing). Each cache
file ``benchmarks/.cache/lm_sets/<name>.npz`` holds

- ``L_train, y_train, L_valid, y_valid, L_test, y_test``: int32 label matrices (``-1`` =
  abstain) and gold labels. ``y_train`` is the gold label where the source has one (for
  scoring only; a label model is fitted on ``L_train`` without it), else all ``-1``; a set
  without a valid split has 0-row ``L_valid`` / ``y_valid``;
- ``cardinality`` (int), ``lf_names`` (str array), ``description`` (str);
- synthetic sets (``syn_<member>``) also: ``oracle_proba_test`` (the exact Bayes posterior under
  the true parameters, copy structure included), ``oracle_acc`` (accuracy of its argmax on
  test, ties to the lower class index) and ``true_balance`` (the generating class prior).

Sets:

- ``youtube``, ``trec``: WRENCH's shipped weak labels.
- ``sms``: votes recomputed from the 73 readme regexes on every split
  (``examples/lfsets/sms_lfs.py``; WRENCH's shipped valid/test votes do not belong to their
  texts). On train they equal the shipped weak labels on every row.
- ``spouse``: the Snorkel spouse test split with its 9 LF columns, transductive: train = test
  = that split (``y_train`` its gold, for scoring), no valid split.
- ``imdb``, ``yelp``: the rule LFs of ``wrench_rules/*/rules_reference.py``, compiled
  (``examples/lfsets/{imdb,yelp}_lfs.py``); valid = ``dev_data.json``, test =
  ``test_data.json``; train = the votes of ``unlabeled_data.json``, ``dev_data.json`` and
  ``test_data.json`` together (transductive, gold labels unused): ``unlabeled_data.json`` is
  COSINE's self-training pool and is not distributed like dev / test (LF coverage 0.37 against
  0.92 on IMDB, 0.13 against 0.84 on Yelp; Yelp's is 33% positive against 52%), so a model
  fitted on it alone meets a shift that the task (label these texts) does not have.
- ``cfpb``: the LFs and the train / dev / test split of ``examples/complaints.ipynb``
  (``examples/lfsets/cfpb_lfs.py``).
- ``syn_<member>``: each member of ``tfsnorkel.labelmodel.synthetic.FAMILY``: ``n`` train rows,
  1,000 valid rows and 20,000 test rows from one seeded draw.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "benchmarks" / ".cache" / "lm_sets"
LFSETS = REPO / "examples" / "lfsets"
REAL_SETS = ("youtube", "sms", "trec", "spouse", "imdb", "yelp", "cfpb")
SYN_VALID, SYN_TEST = 1_000, 20_000


def _synthetic_names() -> list[str]:
    from tfsnorkel.labelmodel.synthetic import FAMILY

    return [f"syn_{name}" for name in FAMILY]


def all_sets() -> list[str]:
    """Every set name: the real sets, then the synthetic family."""
    return [*REAL_SETS, *_synthetic_names()]


def _data_root(data_dir: str | os.PathLike | None) -> Path:
    from tfsnorkel.datasets import data_root

    root = data_root(data_dir)
    if root is None:
        default = REPO.parent / "shared" / "data"
        if default.is_dir():
            return default
        raise FileNotFoundError(
            "set TFSNORKEL_DATA_DIR (or pass data_dir) to the directory holding the real data. "
            f"Received: data_dir={data_dir!r}"
        )
    return Path(root)


def _lfset_module(name: str):
    path = LFSETS / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"tfsnorkel_lfsets_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _i32(a) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(a, dtype=np.int32))


def _empty(m: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((0, m), np.int32), np.zeros(0, np.int32)


def _pack(train, valid, test, cardinality, lf_names, description, **extra) -> dict:
    (L_tr, y_tr), (L_va, y_va), (L_te, y_te) = train, valid, test
    out = {
        "L_train": _i32(L_tr), "y_train": _i32(y_tr),
        "L_valid": _i32(L_va), "y_valid": _i32(y_va),
        "L_test": _i32(L_te), "y_test": _i32(y_te),
        "cardinality": np.int64(cardinality),
        "lf_names": np.asarray(list(lf_names), dtype=str),
        "description": np.asarray(description),
    }
    out.update(extra)
    return out


def _build_wrench(name: str, root: Path) -> dict:
    from tfsnorkel.datasets import load_wrench

    d = load_wrench(name, root)
    splits = [(s.L, s.y) for s in (d.train, d.valid, d.test)]
    return _pack(*splits, d.cardinality, [f"lf_{j}" for j in range(d.n_lfs)],
                 f"WRENCH {name}: shipped weak labels")


def _build_sms(root: Path) -> dict:
    import tfsnorkel as ts
    from tfsnorkel.datasets import load_wrench

    d = load_wrench("sms", root)
    mod = _lfset_module("sms_lfs")
    lfs = ts.LFSet(mod.lfs, cardinality=2)
    splits = [(lfs.apply(s.frame), s.y) for s in (d.train, d.valid, d.test)]
    agree = float((splits[0][0] == d.train.L).all(axis=1).mean())
    return _pack(*splits, 2, lfs.names,
                 "WRENCH sms: votes recomputed from the 73 readme regexes on every split",
                 train_rows_equal_shipped=np.float64(agree))


def _build_spouse(root: Path) -> dict:
    import pandas as pd

    df = pd.read_csv(root / "spouse" / "test_spouse_snorkel.csv")
    cols = [f"LF{j}" for j in range(1, 10)]
    L, y = df[cols].to_numpy(), df["label"].to_numpy()
    return _pack((L, y), _empty(len(cols)), (L, y), 2, cols,
                 "Snorkel spouse (WRENCH spouse test split), transductive: train = test")


def _build_rules(name: str, root: Path) -> dict:
    import pandas as pd

    import tfsnorkel as ts

    mod = _lfset_module(f"{name}_lfs")
    lfs = ts.LFSet(mod.lfs, cardinality=2)
    folder = root / "wrench_rules" / name
    splits, agree = [], {}
    for split, fname in (("train", "unlabeled_data"), ("valid", "dev_data"), ("test", "test_data")):
        with open(folder / f"{fname}.json", encoding="utf-8") as f:
            df = pd.DataFrame(json.load(f))
        L = lfs.apply(df)
        y = df["label"].fillna(-1).to_numpy() if "label" in df else np.full(len(df), -1)
        splits.append((L, y))
        major = df["major"].to_numpy()
        if (major >= 0).any():
            mv = ts.majority_vote(L, 2, tie_break="abstain")
            agree[f"mv_agrees_with_major_{split}"] = np.float64(np.mean(mv == major))
    # Train is transductive (module doc): the votes of every file, gold labels unused.
    train = (np.concatenate([L for L, _ in splits]), np.concatenate([y for _, y in splits]))
    return _pack(train, splits[1], splits[2], 2, lfs.names,
                 f"{name}: rule LFs of rules_reference.py, compiled; train = the votes of "
                 "unlabeled_data + dev_data + test_data (transductive)",
                 **agree)


def _build_cfpb(root: Path) -> dict:
    import tfsnorkel as ts

    mod = _lfset_module("cfpb_lfs")
    lfs = ts.LFSet(mod.lfs, cardinality=mod.cardinality)
    parts = mod.load_frames(root)
    splits = [(lfs.apply(p), p["y"].to_numpy()) for p in parts]
    return _pack(*splits, mod.cardinality, lfs.names,
                 "CFPB complaints: the LFs and split of examples/complaints.ipynb")


def _build_synthetic(member: str) -> dict:
    from tfsnorkel.labelmodel.synthetic import FAMILY, synthetic_family

    spec = FAMILY[member]
    d = synthetic_family(member, n=spec.n + SYN_VALID + SYN_TEST, seed=0)
    a, b = spec.n, spec.n + SYN_VALID
    parts = [(d.L[:a], d.y[:a]), (d.L[a:b], d.y[a:b]), (d.L[b:], d.y[b:])]
    proba = d.posterior(d.L[b:])
    oracle_acc = float((proba.argmax(axis=1) == d.y[b:]).mean())
    names = [f"lf_{j}" if d.sources[j] == j else f"lf_{j}_copy_of_{d.sources[j]}"
             for j in range(d.L.shape[1])]
    return _pack(*parts, d.cardinality, names, spec.description,
                 oracle_proba_test=proba.astype(np.float64),
                 oracle_acc=np.float64(oracle_acc),
                 true_balance=np.asarray(spec.class_balance, np.float64))


def build_set(name: str, data_dir: str | os.PathLike | None = None) -> dict:
    """Builds one set from its sources (no cache).

    Args:
        name: a name of `all_sets`.
        data_dir: the real-data root. Defaults to `None` (``$TFSNORKEL_DATA_DIR``, then
            ``../shared/data`` beside the checkout).

    Returns:
        The arrays described in the module docstring.
    """
    if name.startswith("syn_"):
        return _build_synthetic(name[4:])
    if name not in REAL_SETS:
        raise ValueError(f"unknown set; choose from {all_sets()}. Received: {name!r}")
    root = _data_root(data_dir)
    if name in ("youtube", "trec"):
        return _build_wrench(name, root)
    if name == "sms":
        return _build_sms(root)
    if name == "spouse":
        return _build_spouse(root)
    if name in ("imdb", "yelp"):
        return _build_rules(name, root)
    return _build_cfpb(root)


def _save(path: Path, arrays: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    os.close(fd)
    try:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def load_set(
    name: str,
    *,
    cache_dir: str | os.PathLike | None = None,
    rebuild: bool = False,
    data_dir: str | os.PathLike | None = None,
) -> dict:
    """Loads one harness set from the cache, building and caching it when missing.

    Args:
        name: ``youtube``, ``sms``, ``trec``, ``spouse``, ``imdb``, ``yelp``, ``cfpb`` or
            ``syn_<member>`` (see `all_sets`).
        cache_dir: the cache folder. Defaults to `None` (``benchmarks/.cache/lm_sets``).
        rebuild: build even when cached. Defaults to `False`.
        data_dir: the real-data root. Defaults to `None`.

    Returns:
        ``{key: value}`` with the keys of the module docstring; arrays as numpy, scalars as
        Python ``int`` / ``float``, strings as ``str``.

    Example:
        >>> d = load_set("syn_c3_unipolar_sparse")          # doctest: +SKIP
        >>> d["L_train"].shape, d["cardinality"]            # doctest: +SKIP
        ((100000, 9), 3)
    """
    path = Path(cache_dir or CACHE) / f"{name}.npz"
    if rebuild or not path.exists():
        _save(path, build_set(name, data_dir))
    with np.load(path, allow_pickle=False) as z:
        out = {}
        for key in z.files:
            v = z[key]
            if v.ndim == 0:
                v = v.item()
            out[key] = v
    return out


def summary_row(name: str, d: dict) -> dict:
    """N, m, C, coverage and majority-vote test accuracy (random ties, mean of 20 draws)."""
    from tfsnorkel.labelmodel import majority_vote

    L, y, c = d["L_test"], d["y_test"], int(d["cardinality"])
    mv = float(np.mean([(majority_vote(L, c, tie_break="random", seed=s) == y).mean()
                        for s in range(20)]))
    row = {
        "set": name, "n_train": len(d["L_train"]), "n_valid": len(d["L_valid"]),
        "n_test": len(L), "m": L.shape[1], "C": c,
        "test_coverage": float((L >= 0).any(axis=1).mean()), "mv_test_acc": mv,
    }
    if "oracle_acc" in d:
        row["oracle_acc"] = float(d["oracle_acc"])
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="build and cache the sets")
    parser.add_argument("--sets", nargs="*", default=None, help="set names (default: all)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild cached sets")
    parser.add_argument("--data-dir", default=None)
    args = parser.parse_args(argv)
    names = args.sets or all_sets()
    print("| set | train | valid | test | m | C | test coverage | MV test acc | oracle acc |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        t = time.perf_counter()
        d = load_set(name, rebuild=args.rebuild, data_dir=args.data_dir)
        r = summary_row(name, d)
        oracle = f"{r['oracle_acc']:.4f}" if "oracle_acc" in r else "-"
        print(f"| {name} | {r['n_train']} | {r['n_valid']} | {r['n_test']} | {r['m']} | {r['C']} "
              f"| {r['test_coverage']:.3f} | {r['mv_test_acc']:.4f} | {oracle} |", flush=True)
        extra = {k: v for k, v in d.items()
                 if k.startswith(("mv_agrees", "train_rows_equal"))}
        if extra:
            print(f"<!-- {name}: {json.dumps(extra)} ({time.perf_counter() - t:.1f}s) -->",
                  file=sys.stderr)


if __name__ == "__main__":
    main()
