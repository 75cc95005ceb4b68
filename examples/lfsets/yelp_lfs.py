"""Yelp sentiment: the keyword rule LFs published with the set, as compiled LFs (NEG 0, POS 1).

    tfsnorkel apply --input reviews.csv --lfs examples/lfsets/yelp_lfs.py --out L.npy

Source: the rule code of weakrules/Denoise-multi-weak-sources (``rules-noisy-labels/Yelp``),
copied as ``wrench_rules/yelp/rules_reference.py``; the keyword lists below are its facts. Its
final ``lfs`` list has 8 LFs: a TextBlob polarity LF (a Python model, not a compiled rule, so it
is left out here) and the 7 keyword rules below, in that order. Each is one bipolar LF built
with `first_of` (the first member that fires decides, like the reference's ``return``\\ s):

* **token** rules (``keyword_recommend``, ``keyword_general``, ``keyword_mood``,
  ``keyword_food``): NEG if a token of ``text.lower().split(" ")`` is a negative keyword or a
  positive keyword with a prefix glued to it (``"un"``, ``"dis"``, ...: ``"unfriendly"``), else
  POS if a token is a positive keyword. A token is delimited by single spaces or the ends of the
  text, exactly as ``split(" ")``; negated forms with a space in them (``"not good"``) can never
  be one token, so upstream never fires on them and neither does this LF.
* **substring** rules (``keyword_service``, ``keyword_price``, ``keyword_environment``: the
  reference redefines these three as plain functions): NEG if the lowercased text contains a
  negative keyword, else POS if it contains a positive one.

The reference also defines two expression rules that its final list does not use; they are not
part of this set.
"""

from __future__ import annotations

import sys
from pathlib import Path

import tfsnorkel as ts
from tfsnorkel.labeling.builtin import re2_escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _compose import first_of

NEG, POS = 0, 1
cardinality = 2

#: Prefixes that turn a positive keyword negative in the token rules.
NEGATIONS = ["in", "un", "im", "dis", "no ", "not ", "never ", "n't "]

#: ``name: (positive keywords, negative keywords)`` of the token rules.
TOKEN_RULES = {
    "keyword_recommend": (["recommend"], []),
    "keyword_general": (["outstanding", "perfect", "great", "good", "nice", "best", "excellent",
                         "worthy", "awesome", "enjoy", "positive", "pleasant", "wonderful",
                         "amazing"],
                        ["bad", "worst", "horrible", "awful", "terrible", "nasty", "shit",
                         "distasteful", "dreadful", "negative"]),
    "keyword_mood": (["happy", "pleased", "delighted", "contented", "glad", "thankful",
                      "satisfied"],
                     ["sad", "annoy", "disappointed", "frustrated", "upset", "irritated",
                      "harassed", "angry", "pissed"]),
    "keyword_food": (["tasty", "yummy", "delicious", "appetizing", "good-tasting", "delectable",
                      "savoury", "luscious", "palatable"], ["disgusting", "gross", "insipid"]),
}

#: ``name: (positive keywords, negative keywords)`` of the substring rules.
SUBSTRING_RULES = {
    "keyword_service": (["friendly", "patient", "considerate", "attentive", "thoughtful",
                         "helpful", "polite"],
                        ["slow", "offended", "rude", "indifferent", "arrogant"]),
    "keyword_price": (["cheap", "reasonable", "inexpensive", "economical"],
                      ["overpriced", "expensive", "costly", "high-priced"]),
    "keyword_environment": (["clean", "neat", "quiet", "comfortable", "convenient", "tidy",
                             "orderly", "cosy", "homely"],
                            ["noisy", "mess", "chaos", "dirty", "foul"]),
}

#: The reference's LF order, without its TextBlob LF.
ORDER = ["keyword_recommend", "keyword_general", "keyword_mood", "keyword_service",
         "keyword_price", "keyword_environment", "keyword_food"]


def token_lf(keywords: list[str], label: int, name: str, field: str = "text") -> ts.CompiledLF:
    """Votes ``label`` when a token of ``text.lower().split(" ")`` is one of ``keywords``.

    Args:
        keywords: keywords without spaces.
        label: the vote.
        name: the LF's name.
        field: the text field. Defaults to `"text"`.

    Returns:
        A compiled regex LF.

    Example:
        >>> lf = token_lf(["good"], 1, "t")
        >>> lf({"text": ["Good food", "goodness", "so good.", "very good"]}).numpy().tolist()
        [1, -1, -1, 1]
    """
    alternation = "|".join(re2_escape(k) for k in keywords)
    return ts.regex_lf(f"(?:^| )(?:{alternation})(?: |$)", label, field=field, ignore_case=True,
                       name=name)


def yelp_lfs(field: str = "text") -> list[ts.CompiledLF]:
    """The 7 Yelp keyword rule LFs in the reference's order.

    Args:
        field: the text field. Defaults to `"text"`.

    Returns:
        7 compiled bipolar LFs.

    Example:
        >>> [lf.name for lf in yelp_lfs()][:2]
        ['keyword_recommend', 'keyword_general']
    """
    out = []
    for name in ORDER:
        if name in TOKEN_RULES:
            pos, neg = TOKEN_RULES[name]
            neg_all = [k for k in neg + [n + p for p in pos for n in NEGATIONS] if " " not in k]
            members = []
            if neg_all:
                members.append(token_lf(neg_all, NEG, f"{name}_neg", field))
            members.append(token_lf(pos, POS, f"{name}_pos", field))
        else:
            pos, neg = SUBSTRING_RULES[name]
            kw = {"field": field, "match": "substring", "ignore_case": True}
            members = [ts.keyword_lf(neg, NEG, name=f"{name}_neg", **kw),
                       ts.keyword_lf(pos, POS, name=f"{name}_pos", **kw)]
        out.append(first_of(members, name))
    return out


lfs = yelp_lfs()
