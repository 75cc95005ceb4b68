"""Label-model harness: every label model side by side on every set, in one table.

    TFSNORKEL_DATA_DIR=../shared/data nice -n 10 python benchmarks/lm_harness.py \\
        --mode both --json benchmarks/results/harness.json

Each method is fitted on ``L_train`` without gold labels and scored on the gold test split
(sets from ``benchmarks/lm_sets.py``, built on first use), in two modes:

- ``nogold``: no gold label at all;
- ``dev``: the gold valid split is given: tfsnorkel ``LabelModel(cardinality=C).fit(L_train,
  L_dev=L_valid, y_dev=y_valid)``; Dawid-Skene adds the valid rows with their labels fixed;
  Snorkel gets ``Y_dev`` (its class balance), HyperLM the valid rows as labeled rows,
  FlyingSquid the valid class balance; majority vote has no use for it. A set without a valid
  split (spouse) scores the same in both modes.

Methods: ``tfsnorkel`` (imported when first used, so the working tree's label model is the one
measured; ``--tfsnorkel-kwargs '{"abstain_model": "independent"}'`` passes constructor
options), ``majority_vote`` (random ties), ``dawid_skene`` (``benchmarks/dawid_skene.py``), and
the external peers ``snorkel`` (0.10), ``hyperlm`` (0.0.5), ``flyingsquid``, each run by
``benchmarks/lm_peer_worker.py`` in its own virtual environment ``$TFSNORKEL_PEER_VENVS/<peer>``
(default ``/work/venvs/<peer>``). A method that fails (not installed, crashed, timed out) gets
an error row; the rest still run. Synthetic sets also get the ``oracle`` row (the Bayes
posterior under the true parameters).

Scores on the test split: accuracy (predictions = argmax of the probabilities, exact ties
broken at random: mean over 20 seeded draws), class-1 F1 on all rows and on rows at least one
LF covers (binary sets), expected calibration error of the probabilities
(`tfsnorkel.metrics.expected_calibration_error`, 15 equal-width bins on the max probability)
and fit seconds (the fit or inference call alone). The table ends with each method's mean
accuracy over the real sets and mean gap to the oracle over the synthetic ones.

Options: ``--sets`` (names, or ``real`` / ``synthetic``), ``--methods``, ``--mode
nogold|dev|both``, ``--json out.json``, ``--tfsnorkel-kwargs JSON``, ``--peer-timeout`` (seconds
per peer and mode), ``--jobs N`` (sets in N parallel processes), ``--merge a.json b.json``
(render earlier runs' records as one table, fitting nothing).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dawid_skene import DawidSkene
from lm_sets import REAL_SETS, all_sets, load_set

HERE = Path(__file__).resolve().parent
METHODS = ("tfsnorkel", "majority_vote", "dawid_skene", "snorkel", "hyperlm", "flyingsquid")
PEERS = ("snorkel", "hyperlm", "flyingsquid")
TIE_DRAWS = 20


def _venv_python(peer: str) -> Path:
    root = Path(os.environ.get("TFSNORKEL_PEER_VENVS", "/work/venvs"))
    return root / peer / "bin" / "python"


def score(P: np.ndarray, L_test: np.ndarray, y: np.ndarray, cardinality: int) -> dict:
    """Accuracy, class-1 F1 (all / covered rows, binary), ECE of ``P`` against ``y``.

    Args:
        P: ``[N, C]`` probabilities.
        L_test: ``[N, m]`` the test votes (for the covered rows).
        y: ``[N]`` gold labels.
        cardinality: ``C``.

    Returns:
        ``{"acc", "ece", "coverage"}`` plus ``"f1_all"``, ``"f1_covered"`` when ``C == 2``.
    """
    from sklearn.metrics import f1_score

    from tfsnorkel.labels import probs_to_preds
    from tfsnorkel.metrics import expected_calibration_error

    P = np.asarray(P, dtype=np.float64)
    if P.shape != (len(y), cardinality) or not np.all(np.isfinite(P)):
        raise ValueError(f"probabilities of shape {P.shape} (finite: {np.isfinite(P).all()}) "
                         f"for {len(y)} rows and {cardinality} classes")
    P = np.clip(P, 0.0, None)
    P = P / P.sum(axis=1, keepdims=True)
    preds = [probs_to_preds(P, "random", seed=s) for s in range(TIE_DRAWS)]
    covered = (L_test >= 0).any(axis=1)
    out = {
        "acc": float(np.mean([(p == y).mean() for p in preds])),
        "ece": expected_calibration_error(y, P),
        "coverage": float(covered.mean()),
    }
    if cardinality == 2:
        out["f1_all"] = float(np.mean([f1_score(y, p, zero_division=0) for p in preds]))
        out["f1_covered"] = float(np.mean(
            [f1_score(y[covered], p[covered], zero_division=0) for p in preds]))
    return out


def _has_dev(d: dict) -> bool:
    return len(d["L_valid"]) > 0


def _fit_tfsnorkel(d: dict, use_dev: bool, kwargs: dict) -> tuple[np.ndarray, float, str]:
    from tfsnorkel.labelmodel import LabelModel

    c = int(d["cardinality"])
    lm = LabelModel(cardinality=c, **kwargs)
    t = time.perf_counter()
    if use_dev:
        lm.fit(d["L_train"], L_dev=d["L_valid"], y_dev=d["y_valid"])
    else:
        lm.fit(d["L_train"])
    fit_s = time.perf_counter() - t
    args = "".join(f", {k}={v!r}" for k, v in kwargs.items())
    note = f"LabelModel(cardinality=C{args}).fit(L_train" + (
        ", L_dev=L_valid, y_dev=y_valid)" if use_dev else ")")
    return lm.predict_proba(d["L_test"]), fit_s, note


def _fit_majority(d: dict, use_dev: bool) -> tuple[np.ndarray, float, str]:
    from tfsnorkel.labelmodel import MajorityVoter

    P = MajorityVoter(int(d["cardinality"])).predict_proba(d["L_test"])
    return P, 0.0, "MajorityVoter(C).predict_proba(L_test): vote shares, uniform on no vote"


def _fit_dawid_skene(d: dict, use_dev: bool) -> tuple[np.ndarray, float, str]:
    ds = DawidSkene(int(d["cardinality"]))
    t = time.perf_counter()
    if use_dev:
        ds.fit(d["L_train"], L_dev=d["L_valid"], y_dev=d["y_valid"])
    else:
        ds.fit(d["L_train"])
    fit_s = time.perf_counter() - t
    note = f"DawidSkene(C).fit(L_train{', L_dev, y_dev' if use_dev else ''}): {ds.n_iter_} EM steps"
    return ds.predict_proba(d["L_test"]), fit_s, note


def _run_peer(peer: str, d: dict, modes: list[str], timeout: float) -> dict:
    """Runs one peer for several modes in one worker call: ``{mode: (P, fit_s, note) | exc}``."""
    py = _venv_python(peer)
    flags = [mode == "dev" and _has_dev(d) for mode in modes]
    if not py.exists():
        err = RuntimeError(f"{peer} is not installed: {py} does not exist")
        return dict.fromkeys(modes, err)
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix=f"lm_{peer}_") as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, L_train=d["L_train"], L_test=d["L_test"], L_valid=d["L_valid"],
                 y_valid=d["y_valid"], cardinality=np.int64(d["cardinality"]),
                 use_dev=np.asarray(sorted(set(flags)), dtype=bool))
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.setdefault("OMP_NUM_THREADS", "2")
        try:
            res = subprocess.run([str(py), str(HERE / "lm_peer_worker.py"), peer, str(src),
                                  str(dst)], capture_output=True, text=True,
                                 timeout=timeout * len(set(flags)), env=env, check=False)
        except subprocess.TimeoutExpired:
            err = RuntimeError(f"{peer} timed out after {timeout:.0f} s per mode")
            partial = Path(str(dst) + ".partial.npz")
            if not partial.exists():
                return dict.fromkeys(modes, err)
            dst = partial  # the modes that finished before the time ran out
            res = None
        if res is not None and res.returncode != 0:
            lines = [ln for ln in res.stderr.strip().splitlines() if ln.strip()]
            err = RuntimeError(f"{peer} failed: {lines[-1] if lines else res.returncode}")
            return dict.fromkeys(modes, err)
        with np.load(dst, allow_pickle=False) as z:
            got = {k: z[k] for k in z.files}
    for mode, flag in zip(modes, flags):
        tag = "dev" if flag else "nogold"
        if f"error_{tag}" not in got and f"proba_test_{tag}" not in got:
            out[mode] = RuntimeError(f"{peer} timed out after {timeout:.0f} s per mode")
        elif f"error_{tag}" in got:
            out[mode] = RuntimeError(f"{peer} failed: {got[f'error_{tag}']}")
        else:
            out[mode] = (got[f"proba_test_{tag}"], float(got[f"fit_s_{tag}"]),
                         str(got[f"note_{tag}"]))
    return out


def run_one(method: str, d: dict, mode: str, tfs_kwargs: dict, peer_timeout: float,
            peer_results: dict | None = None) -> dict:
    """Fits one method on one set in one mode and scores it; errors become an ``error`` field.

    ``peer_results`` (from `_run_peer`) holds a peer's outputs for this mode when it already ran.
    """
    use_dev = mode == "dev" and _has_dev(d)
    c = int(d["cardinality"])
    rec: dict = {"method": method, "mode": mode, "dev_used": use_dev}
    try:
        if method == "oracle":
            P, fit_s, note = d["oracle_proba_test"], 0.0, "Bayes posterior, true parameters"
        elif method == "tfsnorkel":
            P, fit_s, note = _fit_tfsnorkel(d, use_dev, tfs_kwargs)
        elif method == "majority_vote":
            P, fit_s, note = _fit_majority(d, use_dev)
        elif method == "dawid_skene":
            P, fit_s, note = _fit_dawid_skene(d, use_dev)
        elif method in PEERS:
            got = (peer_results or _run_peer(method, d, [mode], peer_timeout))[mode]
            if isinstance(got, Exception):
                raise got
            P, fit_s, note = got
        else:
            raise ValueError(f"unknown method {method!r}")
        rec.update(score(P, d["L_test"], d["y_test"], c))
        rec["fit_s"] = fit_s
        rec["note"] = note
        rec["pred_balance"] = np.asarray(P, float).mean(axis=0).round(4).tolist()
    except Exception as exc:  # noqa: BLE001 -- one failing method must not stop the harness
        rec["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        rec["traceback"] = traceback.format_exc(limit=3)[-1500:]
    return rec


def _fmt(x, digits=3) -> str:
    return "-" if x is None else f"{x:.{digits}f}"


def render(records: list[dict], methods: list[str]) -> str:
    """The markdown table of every record, then per-method means."""
    lines = [("| set | mode | method | accuracy | class-1 F1 (all) | class-1 F1 (covered) | ECE "
             "| fit s |"), "|---|---|---|---|---|---|---|---|"]
    for r in records:
        if "error" in r:
            lines.append(f"| {r['set']} | {r['mode']} | {r['method']} | error: {r['error']} "
                         "| | | | |")
            continue
        lines.append(
            f"| {r['set']} | {r['mode']} | {r['method']} | {_fmt(r['acc'])} "
            f"| {_fmt(r.get('f1_all'))} | {_fmt(r.get('f1_covered'))} | {_fmt(r['ece'])} "
            f"| {_fmt(r['fit_s'], 2)} |")
    modes = sorted({r["mode"] for r in records}, key=["nogold", "dev"].index)
    real = sorted({r["set"] for r in records if not r["set"].startswith("syn_")})
    syn = sorted({r["set"] for r in records if r["set"].startswith("syn_")})
    lines += ["", ("| mode | method | mean accuracy, real sets (n) | mean accuracy minus oracle, "
              "synthetic (n) | mean ECE, all sets |"), "|---|---|---|---|---|"]
    for mode in modes:
        oracle = {r["set"]: r["acc"] for r in records
                  if r["mode"] == mode and r["method"] == "oracle" and "acc" in r}
        for method in methods:
            rs = [r for r in records if r["mode"] == mode and r["method"] == method
                  and "acc" in r]
            acc_real = [r["acc"] for r in rs if r["set"] in real]
            gap = [r["acc"] - oracle[r["set"]] for r in rs if r["set"] in oracle]
            n_err = sum(1 for r in records if r["mode"] == mode and r["method"] == method
                        and "error" in r)
            real_s = (f"{np.mean(acc_real):.4f} ({len(acc_real)}/{len(real)})"
                      if acc_real else "-")
            gap_s = f"{np.mean(gap):+.4f} ({len(gap)}/{len(syn)})" if gap else "-"
            ece_s = f"{np.mean([r['ece'] for r in rs]):.4f}" if rs else "-"
            err_s = f" ({n_err} errors)" if n_err else ""
            lines.append(f"| {mode} | {method}{err_s} | {real_s} | {gap_s} | {ece_s} |")
    return "\n".join(lines)


def _resolve_sets(names: list[str] | None) -> list[str]:
    every = all_sets()
    if not names:
        return every
    out: list[str] = []
    for n in names:
        if n == "real":
            out += list(REAL_SETS)
        elif n == "synthetic":
            out += [s for s in every if s.startswith("syn_")]
        elif n in every:
            out.append(n)
        else:
            raise SystemExit(f"lm_harness: unknown set {n!r}; choose from real, synthetic, {every}")
    return list(dict.fromkeys(out))


def _git_commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _write_json(path: str, payload: dict) -> None:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".json.tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(payload, f, indent=1)
    os.chmod(tmp, 0o644)
    os.replace(tmp, target)


def _run_parallel(sets: list[str], args: argparse.Namespace, on_done=None) -> list[dict]:
    """Runs each set in its own child process (``args.jobs`` at a time); records in set order.

    ``on_done(records)`` is called with the records of the finished sets after each one.
    """
    with tempfile.TemporaryDirectory(prefix="lm_harness_") as tmp:
        pending, running, done = list(sets), {}, {}
        while pending or running:
            while pending and len(running) < args.jobs:
                name = pending.pop(0)
                out = Path(tmp) / f"{name}.json"
                cmd = [sys.executable, str(Path(__file__).resolve()), "--sets", name,
                       "--methods", *args.methods, "--mode", args.mode, "--json", str(out),
                       "--tfsnorkel-kwargs", args.tfsnorkel_kwargs,
                       "--peer-timeout", str(args.peer_timeout)]
                running[name] = (subprocess.Popen(cmd, stdout=subprocess.DEVNULL), out)
            time.sleep(1.0)
            for name, (proc, out) in list(running.items()):
                if proc.poll() is None:
                    continue
                del running[name]
                if out.exists():
                    done[name] = json.loads(out.read_text())["records"]
                else:
                    done[name] = [{"set": name, "method": m, "mode": "nogold",
                                   "error": f"harness child exited {proc.returncode}"}
                                  for m in args.methods]
                if on_done is not None:
                    on_done([r for n in sets if n in done for r in done[n]])
        return [r for name in sets for r in done[name]]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="*", default=None)
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=METHODS)
    parser.add_argument("--mode", choices=("nogold", "dev", "both"), default="both")
    parser.add_argument("--json", default=None, help="write the records as JSON here")
    parser.add_argument("--tfsnorkel-kwargs", default="{}",
                        help="JSON dict of LabelModel constructor options")
    parser.add_argument("--peer-timeout", type=float, default=1800.0)
    parser.add_argument("--jobs", type=int, default=1,
                        help="sets run in this many parallel processes (one set each)")
    parser.add_argument("--merge", nargs="+", default=None, metavar="JSON",
                        help="fit nothing: render (and with --json, write) the records of these "
                             "earlier runs' JSON files as one table (a later file's record of "
                             "the same set, mode and method replaces the earlier one)")
    args = parser.parse_args(argv)
    if args.merge:
        runs = [json.loads(Path(f).read_text()) for f in args.merge]
        merged: dict = {}  # a later file's record replaces an earlier one of the same cell
        for run in runs:
            for r in run["records"]:
                key = (r["set"], r["mode"], r["method"])
                merged[key] = r if key not in merged else {**r, "replaces": merged[key]}
        records = list(merged.values())
        if args.json:
            _write_json(args.json, {"meta": {"merged_from": [run["meta"] for run in runs]},
                                    "records": records})
        methods = [m for m in METHODS if any(r["method"] == m for r in records)]
        print(render(records, [*methods, "oracle"]))
        return
    tfs_kwargs = json.loads(args.tfsnorkel_kwargs)
    if not isinstance(tfs_kwargs, dict):
        raise SystemExit(f"--tfsnorkel-kwargs must be a JSON object. Received: {tfs_kwargs!r}")
    sets = _resolve_sets(args.sets)
    modes = ["nogold", "dev"] if args.mode == "both" else [args.mode]
    records: list[dict] = []
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    meta = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "started": started,
            "git_commit": _git_commit(), "tfsnorkel_kwargs": tfs_kwargs,
            "python": platform.python_version(), "cpus": os.cpu_count()}
    import tfsnorkel

    meta["tfsnorkel_imported_from"] = str(Path(tfsnorkel.__file__).parent)

    def save() -> None:
        if args.json:
            _write_json(args.json, {"meta": meta, "records": records})

    if args.jobs > 1 and len(sets) > 1:
        for name in sets:  # build any missing cache file once, before the workers read it
            load_set(name)
        def partial(done_records: list[dict]) -> None:
            records[:] = done_records
            save()

        records[:] = _run_parallel(sets, args, partial)
        sets = []
    for name in sets:
        d = load_set(name)
        methods = list(args.methods) + (["oracle"] if "oracle_proba_test" in d else [])
        peer_runs = {m: _run_peer(m, d, modes, args.peer_timeout) for m in methods if m in PEERS}
        for mode in modes:
            for method in methods:
                rec = {"set": name, **run_one(method, d, mode, tfs_kwargs, args.peer_timeout,
                                              peer_runs.get(method))}
                records.append(rec)
                status = rec.get("error") or f"acc {rec['acc']:.4f} ece {rec['ece']:.4f}"
                print(f"[{time.strftime('%H:%M:%S')}] {name} {mode} {method}: {status}",
                      file=sys.stderr, flush=True)
                save()
    meta["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    save()
    print(render(records, list(args.methods) + ["oracle"]))


if __name__ == "__main__":
    main()
