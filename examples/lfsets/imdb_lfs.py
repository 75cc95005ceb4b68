"""IMDB sentiment: the 8 rule LFs published with the set, as compiled LFs (NEG = 0, POS = 1).

    tfsnorkel apply --input reviews.csv --lfs examples/lfsets/imdb_lfs.py --out L.npy

Source: the rule code of weakrules/Denoise-multi-weak-sources (``rules-noisy-labels/IMDB``),
copied as ``wrench_rules/imdb/rules_reference.py``; the keyword lists below are its facts. The
texts are preprocessed so that ``don't`` reads ``don t``, hence prefixes such as ``"n t "``.

Two kinds of rule, each one bipolar LF built with `first_of` (the first member that fires
decides, as the reference's ``return`` statements do):

* **expression** rules: for each expression ``e`` in order, NEG if a negation prefix is followed
  within 20 characters by ``e`` (``re.search(neg + ".{0,20}" + e, text, re.I)``), else POS if a
  positive prefix is; the prefixes are regular-expression fragments, as upstream.
* **keyword** rules: NEG if the lowercased text contains a negative keyword, or a positive
  keyword with a negation prefix glued to it (``"in"``, ``"un"``, ``"no "``, ...: ``"unworthy"``,
  ``"not good"``), else POS if it contains a positive keyword (substrings, as upstream).
"""

from __future__ import annotations

import sys
from pathlib import Path

import tfsnorkel as ts

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _compose import first_of

NEG, POS = 0, 1
cardinality = 2

#: Negation prefixes of the expression rules (regular-expression fragments).
PRE_NEG = ["no ", "not ", "never ", "n t ", "zero ", "0 ", "tiny ", "little ", "less", "rare",
           "worse"]
#: Prefixes that turn a positive keyword negative in the keyword rules.
NEGATIONS = ["in", "un", "im", "dis", "no ", "not ", "never ", "n t "]

#: ``name: (positive prefixes, expressions)``.
EXPRESSIONS = {
    "expression_nexttime": (["will ", " ll ", "would ", " d ", "can t wait to "],
                            [" next time", " again", " rewatch", " anymore", " rewind"]),
    "expression_recommend": (["highly ", "do ", "would ", "definitely ", "certainly ",
                              "strongly ", "i ", "we "], [" recommend", " nominate"]),
    "expression_value": (["high ", "timeless ", "priceless ", "has ", "great ", "of ", "real ",
                          "instructive "], [" value", " quality", " meaning", " significance"]),
}

#: ``name: (positive keywords, negative keywords)``.
KEYWORDS = {
    "keyword_compare": ([], [" than this", " than the film", " than the movie"]),
    "keyword_general": (["masterpiece", "outstanding", "perfect", "great", "good", "nice", "best",
                         "excellent", "worthy", "awesome", "enjoy", "positive", "pleasant",
                         "wonderful", "amazing", "superb", "fantastic", "marvellous", "fabulous"],
                        ["bad", "worst", "horrible", "awful", "terrible", "crap", "shit",
                         "garbage", "rubbish", "waste"]),
    "keyword_actor": (["beautiful", "handsome", "talented"], []),
    "keyword_finish": ([], ["fast forward", "n t finish"]),
    "keyword_plot": (["well written", "absorbing", "attractive", "innovative", "instructive",
                      "interesting", "touching", "moving"],
                     ["to sleep", "fell asleep", "boring", "dull", "plain"]),
}

#: The LF order of the reference's ``lfs`` list (WRENCH imdb's 8 LFs).
ORDER = ["expression_nexttime", "expression_recommend", "expression_value", "keyword_compare",
         "keyword_general", "keyword_actor", "keyword_finish", "keyword_plot"]


def expression_lf(name: str, pre_pos: list[str], expressions: list[str], pre_neg: list[str],
                  field: str = "text") -> ts.CompiledLF:
    """NEG/POS on a (negation | positive) prefix within 20 characters before an expression.

    Args:
        name: the LF's name.
        pre_pos: positive prefixes (regular-expression fragments).
        expressions: the expressions, in priority order.
        pre_neg: negation prefixes, checked before ``pre_pos`` for each expression.
        field: the text field. Defaults to `"text"`.

    Returns:
        A compiled LF voting NEG, POS or abstaining.

    Example:
        >>> lf = expression_lf("e", ["highly "], [" recommend"], ["not "])
        >>> lf({"text": ["i highly  recommend it", "not going to  recommend"]}).numpy().tolist()
        [1, 0]
    """
    neg, pos = "|".join(pre_neg), "|".join(pre_pos)
    members = []
    for i, e in enumerate(expressions):
        members.append(ts.regex_lf(f"(?:{neg}).{{0,20}}(?:{e})", NEG, field=field,
                                   ignore_case=True, name=f"{name}_neg_{i}"))
        members.append(ts.regex_lf(f"(?:{pos}).{{0,20}}(?:{e})", POS, field=field,
                                   ignore_case=True, name=f"{name}_pos_{i}"))
    return first_of(members, name)


def keyword_rule_lf(name: str, positive: list[str], negative: list[str],
                    negations: list[str], field: str = "text") -> ts.CompiledLF:
    """NEG on a negative keyword or a negated positive one, else POS on a positive keyword.

    Substring matches on lowercased text (``kw in text.lower()``).

    Args:
        name: the LF's name.
        positive: positive keywords.
        negative: negative keywords.
        negations: prefixes glued to each positive keyword to make a negative one.
        field: the text field. Defaults to `"text"`.

    Returns:
        A compiled LF voting NEG, POS or abstaining.

    Example:
        >>> lf = keyword_rule_lf("k", ["good"], ["bad"], ["not "])
        >>> lf({"text": ["Good", "not good", "bad but good", "ok"]}).numpy().tolist()
        [1, 0, 0, -1]
    """
    neg_all = list(negative) + [n + k for k in positive for n in negations]
    kw = {"field": field, "match": "substring", "ignore_case": True}
    members = []
    if neg_all:
        members.append(ts.keyword_lf(neg_all, NEG, name=f"{name}_neg", **kw))
    if positive:
        members.append(ts.keyword_lf(list(positive), POS, name=f"{name}_pos", **kw))
    return first_of(members, name)


def imdb_lfs(field: str = "text") -> list[ts.CompiledLF]:
    """The 8 IMDB rule LFs in the reference's order.

    Args:
        field: the text field. Defaults to `"text"`.

    Returns:
        8 compiled bipolar LFs.

    Example:
        >>> [lf.name for lf in imdb_lfs()][:2]
        ['expression_nexttime', 'expression_recommend']
    """
    out = []
    for name in ORDER:
        if name in EXPRESSIONS:
            pre_pos, exprs = EXPRESSIONS[name]
            out.append(expression_lf(name, pre_pos, exprs, PRE_NEG, field))
        else:
            pos, neg = KEYWORDS[name]
            out.append(keyword_rule_lf(name, pos, neg, NEGATIONS, field))
    return out


lfs = imdb_lfs()
