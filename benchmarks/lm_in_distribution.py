"""Is a label-model failure the model's or its fit's? Splits drawn like train vs shifted ones (issue 10)

For each harness set with gold train labels, fitted on train and scored on the valid split
(drawn like train on the WRENCH sets) and on the test split:

* ``supervised``: the class-conditional generative model with its parameters *counted* from the
  gold train labels (``P(vote = v | y)`` per LF with add-0.1 smoothing, the train class mix,
  every abstain counted): what the model itself can do with the right parameters;
* ``default`` / ``one-coin``: ``LabelModel(C, seed=0)`` and ``abstain_model="independent"``,
  fitted on train without gold;
* ``majority vote``: :class:`tfsnorkel.MajorityVoter`;

and the covered rows' mean log-likelihood (``log sum_y pi(y) prod_j P(L_j | y) - log P(covered)``
over train, every abstain counted) of the supervised parameters against the default fit's. If
the supervised model beats majority vote in distribution but the fit does not, and the fit's
likelihood is the higher one, the failure is a likelihood optimum away from the truth (no
likelihood-based choice can fix it), not a model that cannot label the set.

Accuracy as the harness scores it (``lm_harness.score``: exact ties broken at random, mean of
20 seeded draws).

Usage::

    python benchmarks/lm_in_distribution.py --sets trec youtube sms cfpb imdb yelp

Results: BENCHMARKS.md, section 5 ("trec in distribution").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import lm_sets  # noqa: E402
from lm_harness import score  # noqa: E402

import tfsnorkel as ts  # noqa: E402
from tfsnorkel.labelmodel.em import softmax  # noqa: E402


def accuracy(proba: np.ndarray, L: np.ndarray, y: np.ndarray) -> float:
    """The harness's accuracy (exact ties broken at random, mean of its seeded draws)."""
    return score(proba, L, y, proba.shape[1])["acc"]


def counted_tables(L: np.ndarray, y: np.ndarray, c: int) -> tuple[np.ndarray, np.ndarray]:
    """``[m, C, C + 1]`` log ``P(vote = v | y)`` counted from gold (add 0.1), class mix."""
    lt = np.empty((L.shape[1], c, c + 1))
    for k in range(c):
        rows = L[y == k] + 1
        for j in range(L.shape[1]):
            cnt = np.bincount(rows[:, j], minlength=c + 1) + 0.1
            lt[j, k] = np.log(cnt / cnt.sum())
    return lt, np.bincount(y, minlength=c) / len(y)


def logits(lt: np.ndarray, prior: np.ndarray, L: np.ndarray) -> np.ndarray:
    out = np.tile(np.log(prior), (len(L), 1))
    for j in range(L.shape[1]):
        out += lt[j][:, L[:, j] + 1].T
    return out


def covered_ll(lt: np.ndarray, prior: np.ndarray, L: np.ndarray) -> float:
    z = logits(lt, prior, L[(L >= 0).any(1)])
    mx = z.max(1, keepdims=True)
    row = mx[:, 0] + np.log(np.exp(z - mx).sum(1))
    silent = np.log(prior) + lt[:, :, 0].sum(0)
    return float(row.mean() - np.log1p(-np.exp(np.logaddexp.reduce(silent))))


def measure(name: str) -> dict:
    d = lm_sets.load_set(name)
    c, L, y = d["cardinality"], d["L_train"], d["y_train"]
    lt, mix = counted_tables(L, y, c)
    default = ts.LabelModel(c, seed=0).fit(L)
    one_coin = ts.LabelModel(c, seed=0, abstain_model="independent").fit(L)
    vote_prior = np.exp(default.log_vote_prior.numpy().astype(np.float64))
    out = {
        "set": name,
        "ll_supervised": covered_ll(lt, mix, L),
        "ll_default": covered_ll(default.vote_tables().dense(), vote_prior / vote_prior.sum(), L),
        "balance_default": default.class_balance_.to_numpy().round(3).tolist(),
        "balance_true": mix.round(3).tolist(),
    }
    for split in ("valid", "test"):
        Ls, ys = d[f"L_{split}"], d[f"y_{split}"]
        if not len(ys):
            continue
        for key, proba in (
            ("supervised", softmax(logits(lt, mix, Ls))),
            ("default", default.predict_proba(Ls)),
            ("one_coin", one_coin.predict_proba(Ls)),
            ("majority_vote", ts.MajorityVoter(c).predict_proba(Ls)),
        ):
            out[f"{split}_{key}"] = accuracy(proba, Ls, ys)
    return out


def render(records: list[dict]) -> str:
    head = ("| set | split | supervised (gold-counted) | default | one-coin | majority vote |\n"
            "|---|---|---|---|---|---|")
    lines = [head]
    for r in records:
        for split in ("valid", "test"):
            if f"{split}_default" in r:
                lines.append(
                    f"| {r['set']} | {split} | {r[f'{split}_supervised']:.3f} | "
                    f"{r[f'{split}_default']:.3f} | {r[f'{split}_one_coin']:.3f} | "
                    f"{r[f'{split}_majority_vote']:.3f} |"
                )
    lines += ["", "| set | covered LL supervised | covered LL default fit | default balance | "
              "true train balance |", "|---|---|---|---|---|"]
    for r in records:
        lines.append(f"| {r['set']} | {r['ll_supervised']:.3f} | {r['ll_default']:.3f} | "
                     f"{r['balance_default']} | {r['balance_true']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", nargs="+", default=["trec", "youtube", "sms", "cfpb", "imdb",
                                                  "yelp"])
    args = ap.parse_args(argv)
    records = []
    for name in args.sets:
        records.append(measure(name))
        print(f"{name} done", file=sys.stderr, flush=True)
    print(render(records))


if __name__ == "__main__":
    main()
