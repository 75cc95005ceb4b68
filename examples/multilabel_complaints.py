"""Multi-label weak supervision end to end on the CFPB complaints: tags from LFs, no gold.

    python examples/multilabel_complaints.py --out /tmp/cfpb_tags --data-dir ../shared/data

Each complaint narrative carries several tags at once: what it is about (its ``Product``,
``Sub-product``: a credit report, a debt, a mortgage, a card, a bank account, a loan) and
what went wrong (its ``Issue`` / ``Sub-issue``: identity theft, incorrect information,
collection tactics, fees). The gold tags are derived from those columns (``gold_tags``) and
used only to score, and, on the small dev split, to tune. The pipeline:

1. compiled keyword and company (knowledge-base) LFs, each bound to one tag, voting the tag
   present (``1``) or absent (``0``) or abstaining (``multilabel_lfs``): one ``LFSet``;
2. :class:`tfsnorkel.MultiLabelModel` fitted on the train votes without gold;
3. :func:`tfsnorkel.multilabel_text_classifier` trained on its soft labels with
   :class:`tfsnorkel.MultiLabelNoiseAwareLoss` (epochs chosen on the dev split's micro F1);
4. :func:`tfsnorkel.export_multilabel`: one SavedModel serving ``[N, 10]`` tag probabilities
   from raw text (and the LF votes and soft labels), loadable by plain TensorFlow.

`run` returns the test scores (micro / macro F1 of the label model, of a per-tag majority
vote of the LFs, and of the classifier); the figures are in BENCHMARKS.md ("Multi-label").
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

import tfsnorkel as ts
from tfsnorkel.classify.multilabel import (
    MultiLabelNoiseAwareLoss,
    export_multilabel,
    multilabel_dataset,
    multilabel_predict_proba,
    multilabel_text_classifier,
)
from tfsnorkel.labelmodel.multilabel import MultiLabelModel
from tfsnorkel.metrics import multilabel_report, multilabel_scores

TAGS = [
    "credit_report", "debt_collection", "mortgage", "credit_card", "bank_account", "loan",
    "identity_theft", "incorrect_info", "collection_tactics", "fees",
]
(REPORT, DEBT, MORTGAGE, CARD, BANK, LOAN, THEFT, INCORRECT, TACTICS, FEES) = range(len(TAGS))
PRESENT, ABSENT = 1, 0
_BUREAUS = ["equifax", "experian", "transunion"]
_COLLECTORS = ["portfolio recovery", "midland", "encore capital", "transworld", "convergent",
               "enhanced recovery", "credit acceptance"]


def gold_tags(raw: pd.DataFrame) -> pd.DataFrame:
    """``[N, 10]`` 0/1 gold tags from the ``Product``, ``Sub-product``, ``Issue`` columns.

    Args:
        raw: the CFPB frame (``tfsnorkel.datasets.load_cfpb_complaints``).

    Returns:
        A DataFrame with one 0/1 column per tag in :data:`TAGS`.
    """
    p, s = raw["Product"].fillna(""), raw["Sub-product"].fillna("")
    i, si = raw["Issue"].fillna(""), raw["Sub-issue"].fillna("")
    loans = ["Student loan", "Vehicle loan or lease", "Payday loan, title loan, or personal loan",
             "Consumer Loan", "Payday loan"]
    loan_debts = ["Federal student loan debt", "Private student loan debt", "Auto debt",
                  "Payday loan debt"]
    tags = {
        "credit_report": p.str.startswith("Credit reporting"),
        "debt_collection": p.eq("Debt collection"),
        "mortgage": p.eq("Mortgage") | s.eq("Mortgage debt"),
        "credit_card": p.str.startswith("Credit card") | s.eq("Credit card debt"),
        "bank_account": p.isin(["Checking or savings account", "Bank account or service"]),
        "loan": p.isin(loans) | s.isin(loan_debts),
        "identity_theft": si.str.contains("identity theft|belongs to someone else|recognize",
                                          case=False)
        | i.str.contains("fraud|identity theft", case=False),
        "incorrect_info": i.str.contains("Incorrect information|investigation", case=False),
        "collection_tactics": i.isin(["Communication tactics",
                                      "Took or threatened to take negative or legal action",
                                      "False statements or representation",
                                      "Written notification about debt"]),
        "fees": i.str.contains("fee", case=False) | i.str.contains("funds being low"),
    }
    return pd.DataFrame(tags).astype(np.int32)


def _kw(name: str, words: list[str], vote: int, field: str = "text",
        match: str = "word") -> ts.CompiledLF:
    return ts.keyword_lf(words, label=vote, field=field, match=match, ignore_case=True,
                         name=name)


def multilabel_lfs() -> tuple[list[ts.CompiledLF], list[int]]:
    """The compiled LFs and the tag each is bound to (votes: 1 present, 0 absent, -1).

    Returns:
        ``(lfs, lf_classes)``: 34 compiled LFs over ``text`` and ``company``, and their tags.

    Example:
        >>> lfs, lf_classes = multilabel_lfs()
        >>> len(lfs), lfs[0].name, TAGS[lf_classes[0]]
        (34, 'report_words', 'credit_report')
    """
    bound = [
        (REPORT, _kw("report_words", ["credit report", "credit reports", "credit file",
                                      "credit reporting"], PRESENT)),
        (REPORT, _kw("bureau_names", _BUREAUS + ["trans union"], PRESENT)),
        (REPORT, _kw("fcra", ["fcra", "fair credit reporting act", "1681"], PRESENT)),
        (REPORT, _kw("kb_bureau", _BUREAUS, PRESENT, field="company", match="substring")),
        (REPORT, _kw("kb_collector_not_report", _COLLECTORS, ABSENT, field="company",
                     match="substring")),
        (DEBT, _kw("collector_words", ["debt collector", "collection agency",
                                       "collections agency", "collect a debt",
                                       "collecting a debt"], PRESENT)),
        (DEBT, _kw("fdcpa", ["fdcpa", "fair debt collection"], PRESENT)),
        (DEBT, _kw("validation", ["validation", "validate the debt", "verify the debt",
                                  "debt validation"], PRESENT)),
        (DEBT, _kw("kb_collector", _COLLECTORS, PRESENT, field="company", match="substring")),
        (DEBT, _kw("kb_bureau_not_debt", _BUREAUS, ABSENT, field="company", match="substring")),
        (MORTGAGE, _kw("mortgage", ["mortgage", "mortgages"], PRESENT)),
        (MORTGAGE, _kw("escrow", ["escrow"], PRESENT)),
        (MORTGAGE, _kw("foreclosure", ["foreclosure", "foreclose", "loan modification"],
                       PRESENT)),
        (MORTGAGE, _kw("kb_bureau_not_mortgage", _BUREAUS, ABSENT, field="company",
                       match="substring")),
        (CARD, _kw("credit_card", ["credit card", "credit cards"], PRESENT)),
        (CARD, _kw("card_terms", ["annual fee", "apr", "statement balance", "card account"],
                   PRESENT)),
        (CARD, _kw("kb_card_issuer", ["synchrony", "american express", "capital one",
                                      "discover"], PRESENT, field="company", match="substring")),
        (BANK, _kw("bank_account", ["checking account", "savings account", "bank account"],
                   PRESENT)),
        (BANK, _kw("overdraft", ["overdraft", "overdrafts", "overdrawn"], PRESENT)),
        (BANK, _kw("deposit", ["deposit", "deposited", "debit card", "branch"], PRESENT)),
        (BANK, _kw("kb_bureau_not_bank", _BUREAUS, ABSENT, field="company", match="substring")),
        (LOAN, _kw("student_loan", ["student loan", "student loans", "navient", "fedloan",
                                    "nelnet"], PRESENT)),
        (LOAN, _kw("auto_loan", ["auto loan", "car loan", "vehicle", "repossession",
                                 "repossessed"], PRESENT)),
        (LOAN, _kw("personal_loan", ["payday", "personal loan", "installment loan",
                                     "title loan"], PRESENT)),
        (THEFT, _kw("identity_theft", ["identity theft", "stolen identity", "identity was stolen",
                                       "victim of identity"], PRESENT)),
        (THEFT, _kw("not_mine", ["not mine", "do not recognize", "don't recognize",
                                 "never opened", "not my account", "belong to me"], PRESENT)),
        (THEFT, _kw("fraud", ["fraud", "fraudulent", "fraudulently"], PRESENT)),
        (INCORRECT, _kw("inaccurate", ["inaccurate", "incorrect", "not accurate", "wrong",
                                       "error", "errors"], PRESENT)),
        (INCORRECT, _kw("dispute", ["dispute", "disputed", "investigation", "reinvestigation"],
                        PRESENT)),
        (INCORRECT, _kw("remove", ["remove", "removed", "deleted", "delete"], PRESENT)),
        (TACTICS, _kw("calls", ["harass", "harassing", "harassment", "calling me",
                                "phone calls", "called me"], PRESENT)),
        (TACTICS, _kw("threats", ["threaten", "threatened", "sue me", "lawsuit", "garnish"],
                      PRESENT)),
        (FEES, _kw("fee_words", ["fee", "fees", "charged", "late fee"], PRESENT)),
        (FEES, _kw("interest_words", ["interest charge", "interest charges", "overdraft fee"],
                   PRESENT)),
    ]
    return [lf for _, lf in bound], [c for c, _ in bound]


def load_split(
    data_dir: str | os.PathLike | None = None, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The narratives with their gold tags, split 60 / 10 / 30 (train / dev / test) at random.

    Args:
        data_dir: the data root. Defaults to `None` (``$TFSNORKEL_DATA_DIR``, then the cache).
        seed: split seed. Defaults to `0`.

    Returns:
        ``(train, dev, test)`` frames with ``text``, ``company`` and one column per tag.
    """
    raw = ts.datasets.load_cfpb_complaints(data_dir)
    raw = raw[raw["Consumer complaint narrative"].notna()].reset_index(drop=True)
    df = pd.DataFrame({"text": raw["Consumer complaint narrative"].astype(str),
                       "company": raw["Company"].fillna("").astype(str)})
    df = pd.concat([df, gold_tags(raw)], axis=1)
    order = np.random.default_rng(seed).permutation(len(df))
    n_train, n_dev = int(0.6 * len(df)), int(0.1 * len(df))
    parts = np.split(order, [n_train, n_train + n_dev])
    train, dev, test = (df.iloc[p].reset_index(drop=True) for p in parts)
    return train, dev, test


def vote_baseline(L: np.ndarray, lf_classes: list[int], num_classes: int) -> np.ndarray:
    """Per-tag majority vote of the LFs: present when present votes outnumber absent ones.

    Args:
        L: ``[N, m]`` votes.
        lf_classes: ``[m]`` tag of each LF.
        num_classes: number of tags.

    Returns:
        ``[N, C]`` int32 0/1 (no vote or a tie: absent).
    """
    own = np.eye(num_classes)[lf_classes]  # [m, C]
    pres = (L == PRESENT).astype(float) @ own
    absn = (L == ABSENT).astype(float) @ own
    return (pres > absn).astype(np.int32)


def tune_thresholds(Y: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Per-tag probability threshold maximizing the F1 of that tag on gold rows.

    Args:
        Y: ``[N, C]`` gold 0/1.
        probs: ``[N, C]`` probabilities.

    Returns:
        ``[C]`` thresholds from the grid 0.05, 0.10, ..., 0.95 (0.5 for a tag without a
        positive row).
    """
    from sklearn.metrics import f1_score

    grid = np.round(np.arange(0.05, 0.96, 0.05), 2)
    out = np.full(Y.shape[1], 0.5)
    for c in range(Y.shape[1]):
        if Y[:, c].any():
            scores = [f1_score(Y[:, c], probs[:, c] >= t, zero_division=0) for t in grid]
            out[c] = grid[int(np.argmax(scores))]
    return out


def run(
    data_dir: str | os.PathLike | None = None,
    out_dir: str | os.PathLike | None = None,
    *,
    max_epochs: int = 30,
    n_train: int | None = None,
    seed: int = 0,
    label_model_dev: bool = True,
) -> dict[str, Any]:
    """Runs the four stages and scores them on the test split.

    Args:
        data_dir: the data root. Defaults to `None`.
        out_dir: where to write ``label_model.keras`` and the SavedModel ``export/``.
            Defaults to `None` (nothing written).
        max_epochs: classifier epochs; the epoch with the best dev micro F1 is kept.
            Defaults to `30`.
        n_train: use only the first ``n_train`` training rows. Defaults to `None` (all).
        seed: split and training seed. Defaults to `0`.
        label_model_dev: give the gold dev split to the label model too (its one-coin
            accuracies and silence probabilities, and the per-tag model choice). Defaults to
            `True`.

    Returns:
        A dict of scores (``label_model``, ``vote``, ``classifier``: ``multilabel_scores``
        on test), per-tag label-model F1, the class table, and the export path.
    """
    keras.utils.set_random_seed(seed)
    train, dev, test = load_split(data_dir, seed)
    if n_train is not None:
        train = train.iloc[:n_train].reset_index(drop=True)
    lfs, lf_classes = multilabel_lfs()
    lfset = ts.LFSet(lfs, cardinality=2)
    L_train, L_dev, L_test = (lfset.apply(part[["text", "company"]]) for part in (train, dev, test))
    Y_dev, Y_test = dev[TAGS].to_numpy(), test[TAGS].to_numpy()
    C = len(TAGS)
    lm = MultiLabelModel(C, lf_classes, lf_names=lfset.names, class_names=TAGS)
    lm.fit(L_train, L_dev, Y_dev) if label_model_dev else lm.fit(L_train)
    P_train = lm.predict_proba(L_train)
    result: dict[str, Any] = {
        "n_train": len(train), "n_dev": len(dev), "n_test": len(test),
        "label_model": multilabel_scores(Y_test, lm.predict_proba(L_test)),
        "vote": multilabel_scores(Y_test, vote_baseline(L_test, lf_classes, C)),
    }
    report = multilabel_report(Y_test, lm.predict_proba(L_test), class_names=TAGS)
    result["label_model_per_tag_f1"] = report["f1"].round(4).to_dict()
    result["class_table"] = lm.class_table()[["prior", "num_lfs", "model"]].to_dict("index")

    clf = multilabel_text_classifier(C, adapt_data=train["text"], ngrams=2, unit_norm=True)
    clf.compile(optimizer=keras.optimizers.Adam(0.01), loss=MultiLabelNoiseAwareLoss())
    ds = multilabel_dataset(train["text"], P_train, batch_size=32, seed=seed)
    best, best_weights = -1.0, None
    for _ in range(max_epochs):
        clf.fit(ds, epochs=1, verbose=0)
        score = multilabel_scores(Y_dev, multilabel_predict_proba(clf, dev["text"]))["f1_micro"]
        if score > best:
            best, best_weights = score, clf.get_weights()
    clf.set_weights(best_weights)
    probs_test = multilabel_predict_proba(clf, test["text"])
    result["classifier"] = multilabel_scores(Y_test, probs_test)
    result["classifier_dev_f1_micro"] = best
    # Per-tag thresholds chosen on the dev split (soft targets of rare tags rarely reach 0.5).
    thresholds = tune_thresholds(Y_dev, multilabel_predict_proba(clf, dev["text"]))
    result["thresholds"] = dict(zip(TAGS, thresholds.round(3).tolist()))
    result["classifier_tuned"] = multilabel_scores(Y_test, probs_test >= thresholds)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        lm.save(out / "label_model.keras")
        export_multilabel(out / "export", clf, lfset=lfset, label_model=lm,
                          threshold=thresholds)
        result["export"] = str(out / "export")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--out", default=None, help="directory for the label model and export")
    parser.add_argument("--max-epochs", type=int, default=30)
    parser.add_argument("--n-train", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-dev-label-model", action="store_true",
                        help="fit the label model without the gold dev split")
    args = parser.parse_args(argv)
    result = run(args.data_dir, args.out, max_epochs=args.max_epochs, n_train=args.n_train,
                 seed=args.seed, label_model_dev=not args.no_dev_label_model)
    json.dump(result, sys.stdout, indent=2, default=str)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
