"""CFPB complaints: the LFs of ``examples/complaints.ipynb`` (9 products), and its data split.

    tfsnorkel apply --input complaints.csv --lfs examples/lfsets/cfpb_lfs.py --out L.npy

The same LFs as the notebook (whole-word, case-insensitive keyword LFs over the narrative
``text``, and one knowledge-base LF per product over ``company``), in the same order;
`load_frames` reproduces the notebook's data preparation and its stratified train / dev / test
split (``seed=0``).
"""

from __future__ import annotations

import os

import pandas as pd

import tfsnorkel as ts

cardinality = 9

#: The notebook's class order.
PRODUCTS = ["Credit reporting, credit repair services, or other personal consumer reports",
            "Debt collection", "Mortgage", "Credit card or prepaid card",
            "Checking or savings account", "Student loan", "Vehicle loan or lease",
            "Money transfer, virtual currency, or money service",
            "Payday loan, title loan, or personal loan"]
REPORT, DEBT, MORTGAGE, CARD, BANK, STUDENT, VEHICLE, TRANSFER, PAYDAY = range(9)
#: Legacy product names mapped to the current ones.
LEGACY = {"Credit card": "Credit card or prepaid card", "Consumer Loan": "Vehicle loan or lease",
          "Payday loan": "Payday loan, title loan, or personal loan",
          "Bank account or service": "Checking or savings account"}
#: The knowledge base: company name (substring) -> the product it is mostly complained about.
COMPANIES = {"equifax": REPORT, "experian": REPORT, "transunion": REPORT, "navient": STUDENT,
             "nelnet": STUDENT, "aes/pheaa": STUDENT, "great lakes": STUDENT, "paypal": TRANSFER,
             "coinbase": TRANSFER, "western union": TRANSFER, "moneygram": TRANSFER,
             "ocwen": MORTGAGE, "ditech": MORTGAGE, "nationstar": MORTGAGE,
             "portfolio recovery": DEBT, "midland": DEBT, "encore capital": DEBT,
             "transworld": DEBT, "convergent": DEBT, "enhanced recovery": DEBT,
             "toyota motor credit": VEHICLE, "santander consumer": VEHICLE,
             "ally financial": VEHICLE, "synchrony": CARD, "discover": CARD,
             "american express": CARD, "capital one": CARD}


def _kw(name: str, words: list[str], label: int) -> ts.CompiledLF:
    return ts.keyword_lf(words, label=label, field="text", match="word", ignore_case=True,
                         name=name)


def cfpb_lfs() -> list[ts.CompiledLF]:
    """The notebook's 35 keyword LFs and 7 knowledge-base LFs (one per product it names), in its order.

    Returns:
        42 compiled LFs over the fields ``text`` and ``company``.

    Example:
        >>> lfs = cfpb_lfs()
        >>> len(lfs), lfs[0].name, lfs[-1].name
        (42, 'credit_report', 'kb_company_7')
    """
    return [
        _kw("credit_report", ["credit report", "credit reports", "credit file"], REPORT),
        _kw("credit_bureau", ["credit bureau", "credit bureaus", "credit reporting agency",
                              "credit reporting agencies"], REPORT),
        _kw("bureau_names", ["equifax", "experian", "transunion", "trans union"], REPORT),
        _kw("inquiry", ["inquiry", "inquiries"], REPORT),
        _kw("fcra", ["fcra", "fair credit reporting act"], REPORT),
        _kw("identity_theft", ["identity theft"], REPORT),
        _kw("debt_collector", ["debt collector", "collection agency", "collections agency"], DEBT),
        _kw("collect_debt", ["collect a debt", "collecting a debt", "collect the debt"], DEBT),
        _kw("validation", ["validation", "validate the debt", "verify the debt"], DEBT),
        _kw("fdcpa", ["fdcpa", "fair debt collection"], DEBT),
        _kw("mortgage", ["mortgage"], MORTGAGE),
        _kw("escrow", ["escrow"], MORTGAGE),
        _kw("foreclosure", ["foreclosure", "foreclose"], MORTGAGE),
        _kw("modification", ["loan modification"], MORTGAGE),
        _kw("refinance", ["refinance", "refinancing"], MORTGAGE),
        _kw("credit_card", ["credit card"], CARD),
        _kw("card_fees", ["annual fee", "interest rate", "apr"], CARD),
        _kw("card", ["my card", "the card", "card"], CARD),
        _kw("bank_account", ["checking account", "savings account"], BANK),
        _kw("overdraft", ["overdraft", "overdrafts"], BANK),
        _kw("deposit", ["deposit", "deposited"], BANK),
        _kw("debit_card", ["debit card"], BANK),
        _kw("branch", ["branch"], BANK),
        _kw("student_loan", ["student loan", "student loans"], STUDENT),
        _kw("servicers", ["navient", "fedloan", "nelnet", "great lakes", "pheaa"], STUDENT),
        _kw("income_driven", ["income driven", "income-driven", "loan forgiveness"], STUDENT),
        _kw("vehicle", ["vehicle", "car"], VEHICLE),
        _kw("auto_loan", ["auto loan", "car loan"], VEHICLE),
        _kw("repossession", ["repossess", "repossessed", "repossession"], VEHICLE),
        _kw("lease", ["lease"], VEHICLE),
        _kw("dealer", ["dealer", "dealership"], VEHICLE),
        _kw("payment_apps", ["paypal", "venmo", "zelle", "cash app", "western union",
                             "moneygram", "coinbase"], TRANSFER),
        _kw("wire", ["wire transfer", "money transfer", "wire"], TRANSFER),
        _kw("payday", ["payday"], PAYDAY),
        _kw("personal_loan", ["personal loan", "installment loan", "title loan"], PAYDAY),
        *[ts.keyword_lf([k for k in COMPANIES if COMPANIES[k] == c], label=c, field="company",
                        match="substring", ignore_case=True, name=f"kb_company_{c}")
          for c in sorted(set(COMPANIES.values()))],
    ]


def load_frames(
    data_dir: str | os.PathLike | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The notebook's narratives with their product index, split train / dev / test.

    Rows with a narrative; legacy product names mapped to current ones; a stratified split with
    15% dev and 30% test (`tfsnorkel.train_dev_test_split`, ``seed=0``).

    Args:
        data_dir: the data root. Defaults to `None` (``$TFSNORKEL_DATA_DIR``, then the cache).

    Returns:
        ``(train, dev, test)`` frames with columns ``text``, ``company``, ``y``.
    """
    raw = ts.datasets.load_cfpb_complaints(data_dir)
    df = raw[raw["Consumer complaint narrative"].notna()].copy()
    df["y"] = df["Product"].replace(LEGACY).map({p: i for i, p in enumerate(PRODUCTS)})
    df = df.rename(columns={"Consumer complaint narrative": "text", "Company": "company"})
    df = df[["text", "company", "y"]].reset_index(drop=True)
    split = ts.train_dev_test_split(df, y="y", dev_size=0.15, test_size=0.3, seed=0)
    train, dev, test = (part.reset_index(drop=True) for part in split)
    return train, dev, test


lfs = cfpb_lfs()
