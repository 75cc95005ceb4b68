"""Which gold-free criterion could make the label model's modelling choices? (issue 10)

The label model has two choices that no single setting gets right on every LF set: the abstain
form (``"class_conditional"`` detectors or ``"independent"`` one-coin) and, in the
class-conditional form, how much an LF's abstain counts where another LF of its class votes
(``co_abstain_weight``). This script measures, on the harness's cached sets (fit on train
without gold, scored on test), each candidate's test accuracy next to the gold-free criteria
that could choose among them:

* ``ll``: the covered rows' mean log-likelihood under the fitted generative model
  (:func:`tfsnorkel.labelmodel.fitting.covered_log_likelihood`, what the BIC rule of
  ``abstain_model="auto"`` compares);
* ``loo``: leave-one-LF-out agreement: for every singleton LF, over the rows where it and
  some other LF vote, the mean ``log P(y = its vote | the other LFs)`` (the LF's own tables
  removed from the model) minus ``log`` of the model's mean ``P(y = its vote)`` over all rows,
  averaged over LFs (each LF counts once, whatever its coverage);
* ``split_tv``: the total-variation distance between the class balances learned on two
  random halves of the rows (whether the balance is reproducible at all).

Usage (sets come from the harness cache, ``benchmarks/lm_sets.py``, built when missing)::

    python benchmarks/lm_choices.py --sets trec cfpb youtube sms spouse imdb yelp

Results and what they mean: BENCHMARKS.md, section 5 ("Gold-free criteria for the open
choices").
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lm_sets  # noqa: E402

import tfsnorkel as ts  # noqa: E402
from tfsnorkel.labelmodel.fitting import (  # noqa: E402
    FitSettings,
    covered_log_likelihood,
    fit_parameters,
    to_stats,
)

CANDIDATES = (
    ("independent", 0.5),
    ("class_conditional", 0.0),
    ("class_conditional", 0.25),
    ("class_conditional", 0.5),
    ("class_conditional", 0.75),
    ("class_conditional", 1.0),
)


def loo_agreement(lm: ts.LabelModel, L: np.ndarray) -> float:
    """Leave-one-LF-out agreement of a fitted model (module doc); groups' LFs are skipped."""
    lp0 = lm.vote_tables()
    grouped = {j for g in lm.groups for j in g}
    fires = L >= 0
    others = fires.sum(1) >= 2
    marginal = lm.predict_proba(L).mean(0)
    scores = []
    try:
        for j in range(L.shape[1]):
            rows = np.flatnonzero(fires[:, j] & others)
            if j in grouped or not len(rows):
                continue
            Lj = L[rows].copy()
            k = Lj[:, j].copy()
            Lj[:, j] = -1
            # The LF contributes nothing, vote or abstain.
            lp = dataclasses.replace(
                lp0, abstain=lp0.abstain.copy(), off=lp0.off.copy(), diag=lp0.diag.copy(),
                full=lp0.full.copy(),
            )
            lp.abstain[j] = lp.off[j] = lp.diag[j] = 0.0
            lp.full[lp.full_columns // lm.cardinality == j] = 0.0
            lm.set_vote_tables(lp)
            p = lm.predict_proba(Lj)[np.arange(len(rows)), k]
            scores.append(float(np.log(np.maximum(p, 1e-6)).mean() - np.log(marginal[k[0]])))
    finally:
        lm.set_vote_tables(lp0)
    return float(np.mean(scores)) if scores else float("nan")


def split_tv(L: np.ndarray, cardinality: int, form: str, weight: float) -> float:
    """TV distance between the balances learned on two random halves of the rows."""
    perm = np.random.default_rng(0).permutation(len(L))
    half = len(L) // 2
    bal = [
        ts.LabelModel(cardinality=cardinality, seed=0, abstain_model=form,
                      co_abstain_weight=weight).fit(L[idx]).class_balance_.to_numpy()
        for idx in (perm[:half], perm[half:])
    ]
    return 0.5 * float(np.abs(bal[0] - bal[1]).sum())


def measure(name: str) -> list[dict]:
    d = lm_sets.load_set(name)  # the harness cache, built when missing
    c = int(d["cardinality"])
    L, Lt, yt = d["L_train"], d["L_test"], d["y_test"]
    stats = to_stats(L, c)
    out = []
    for form, w in CANDIDATES:
        fitted = fit_parameters(
            stats, FitSettings(cardinality=c, abstain_model=form, co_abstain_weight=w)
        )
        lm = ts.LabelModel(cardinality=c, seed=0, abstain_model=form, co_abstain_weight=w).fit(L)
        out.append({
            "set": name, "form": form, "w": w,
            "accuracy": float((lm.predict_proba(Lt).argmax(1) == yt).mean()),
            "ll": covered_log_likelihood(fitted, stats.rows, stats.counts),
            "loo": loo_agreement(lm, L),
            "split_tv": split_tv(L, c, form, w),
        })
    return out


def render(records: list[dict]) -> str:
    lines = ["| set | candidate | test accuracy | ll (covered) | loo | split TV |",
             "|---|---|---|---|---|---|"]
    for name in dict.fromkeys(r["set"] for r in records):
        rs = [r for r in records if r["set"] == name]
        best = {key: max(rs, key=lambda r: r[key]) for key in ("accuracy", "ll", "loo")}
        for r in rs:
            cand = "one-coin" if r["form"] == "independent" else f"class-cond. w={r['w']:g}"
            cell = {key: (f"**{r[key]:.3f}**" if best[key] is r else f"{r[key]:.3f}")
                    for key in ("accuracy", "ll", "loo")}
            lines.append(f"| {name} | {cand} | {cell['accuracy']} | {cell['ll']} | {cell['loo']} "
                         f"| {r['split_tv']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["trec", "cfpb", "youtube", "sms", "spouse",
                                                  "imdb", "yelp"])
    args = ap.parse_args(argv)
    records = []
    for name in args.sets:
        records += measure(name)
        print(f"{name} done", file=sys.stderr, flush=True)
    print(render(records))


if __name__ == "__main__":
    main()
