"""WRENCH sms: the 73 regular-expression LFs of its ``readme.txt``, compiled to RE2.

    tfsnorkel apply --input sms.csv --lfs examples/lfsets/sms_lfs.py --out L.npy

Each rule is ``(label, pattern)`` with Python ``re.search`` semantics (case-sensitive), as the
readme lists them (upstream: Awasthi et al., "Learning from Rules Generalizing Labeled
Exemplars", ICLR 2020). RE2's ``\\w`` and ``\\s`` are ASCII-only while Python's are Unicode, so
`to_re2` rewrites them to the Unicode classes Python uses (letters, numbers and ``_``; Python's
whitespace); the compiled votes then equal Python ``re`` on every text, and on WRENCH's train
split they reproduce the shipped ``weak_labels`` exactly (checked in
``tests/labelmodel/test_harness_sets.py``). Rules are named ``rule_<index>_<ham|spam>``.
"""

from __future__ import annotations

import re

import tfsnorkel as ts
from tfsnorkel.labeling.builtin import PY_WHITESPACE

HAM, SPAM = 0, 1
cardinality = 2

#: ``(label, Python regular expression)`` per LF, in the readme's (and the weak-label columns') order.
RULES: list[tuple[int, str]] = [
    (HAM, '( |^)(thanks\\.|thanks)[^\\w]*( |$)'),
    (SPAM, '( |^)(call|ringtone|ringtone)[^\\w]* ([^\\s]+ )*(free|free)[^\\w]*( |$)'),
    (HAM, '( |^)(thats|thats)[^\\w]* (\\w+ ){0,1}(nice\\.|nice)[^\\w]*( |$)'),
    (SPAM, '( |^)(won|won)[^\\w]* ([^\\s]+ )*(cash|cash)[^\\w]* ([^\\s]+ )*(prize!|prize)[^\\w]*( |$)'),
    (SPAM, '( |^)(winner!|winner)[^\\w]* ([^\\s]+ )*(reward!|reward)[^\\w]*( |$)'),
    (SPAM, '( |^)(guaranteed|guaranteed)[^\\w]* ([^\\s]+ )*(free|free)[^\\w]*( |$)'),
    (SPAM, '( |^)(dating|dating)[^\\w]* ([^\\s]+ )*(call|call)[^\\w]*( |$)'),
    (HAM, '( |^)(i)[^\\w]* (\\w+ ){0,1}(can|can)[^\\w]* ([^\\s]+ )*(did|did)[^\\w]*( |$)'),
    (SPAM, '( |^)(guranteed|guaranteed|guaranteed)[^\\w]* ([^\\s]+ )*(gift\\.|gift)[^\\w]*( |$)'),
    (SPAM, '( |^)(call|call)[^\\w]* ([^\\s]+ )*(for|for)[^\\w]* ([^\\s]+ )*(offer|offers|offers\\.)[^\\w]*( |$)'),
    (HAM, "( |^)(can't|can't)[^\\w]* (\\w+ ){0,1}(talk|talk)[^\\w]*( |$)"),
    (HAM, '( |^)(i)[^\\w]*( |$)'),
    (HAM, '( |^)(u)[^\\w]* ([^\\s]+ )*(how|how)[^\\w]* (\\w+ ){0,1}(2)[^\\w]*( |$)'),
    (HAM, '( |^)(should|should)[^\\w]* (\\w+ ){0,1}(i)[^\\w]*( |$)'),
    (HAM, '( |^)(your|your)[^\\w]* ([^\\s]+ )*(i)[^\\w]*( |$)'),
    (HAM, '( |^)(i)[^\\w]* ([^\\s]+ )*(miss|miss)[^\\w]*( |$)'),
    (HAM, "( |^)(that's|that's)[^\\w]* (\\w+ ){0,1}(fine!|fine)[^\\w]*( |$)"),
    (SPAM, '( |^)(won|won)[^\\w]* ([^\\s]+ )*(claim,|claim)[^\\w]*( |$)'),
    (SPAM, '( |^)(welcome!|welcome)[^\\w]* ([^\\s]+ )*(reply|reply)[^\\w]*( |$)'),
    (HAM, '( |^)(mine\\.|mine)[^\\w]*( |$)'),
    (HAM, '( |^)(we|we)[^\\w]* (\\w+ ){0,1}(will|will)[^\\w]*( |$)'),
    (SPAM, '( |^)(alert|urgent|urgent!)[^\\w]* ([^\\s]+ )*(award|awarded|awarded)[^\\w]* ([^\\s]+ )*(guaranteed\\.|guaranteed)[^\\w]*( |$)'),
    (HAM, '( |^)(do|do)[^\\w]* (\\w+ ){0,1}(you|you)[^\\w]*( |$)'),
    (SPAM, '( |^)(no|no)[^\\w]* (\\w+ ){0,1}(extra|extra)[^\\w]*( |$)'),
    (SPAM, '( |^)(unlimited|unlimited)[^\\w]* ([^\\s]+ )*(calls|calls)[^\\w]*( |$)'),
    (SPAM, '( |^)(important|important)[^\\w]* ([^\\s]+ )*(lucky|lucky)[^\\w]*( |$)'),
    (HAM, '( |^)(i)[^\\w]* ([^\\s]+ )*(it|it)[^\\w]*( |$)'),
    (HAM, '( |^)(where|where)[^\\w]* ([^\\s]+ )*(are|are)[^\\w]* (\\w+ ){0,1}(you|you)[^\\w]*( |$)'),
    (HAM, '( |^)(my|my)[^\\w]* ([^\\s]+ )*(kids|kids)[^\\w]*( |$)'),
    (HAM, '( |^)(i)[^\\w]* (\\w+ ){0,1}(used|use|use)[^\\w]* (\\w+ ){0,1}(to|to)[^\\w]*( |$)'),
    (SPAM, '( |^)(new|new)[^\\w]* (\\w+ ){0,1}(mobiles|mobiles)[^\\w]* ([^\\s]+ )*(only|only)[^\\w]*( |$)'),
    (HAM, '( |^)(did|did)[^\\w]* (\\w+ ){0,1}(u)[^\\w]* (\\w+ ){0,1}(got|got)[^\\w]*( |$)'),
    (SPAM, '( |^)(chat|chat)[^\\w]* (\\w+ ){0,1}(to|to)[^\\w]*( |$)'),
    (SPAM, '( |^)(won|won)[^\\w]* ([^\\s]+ )*(call|call)[^\\w]*( |$)'),
    (SPAM, '( |^)(latest|latest)[^\\w]* (\\w+ ){0,1}(offer|offers|offers\\.)[^\\w]*( |$)'),
    (SPAM, '( |^)(expires|expires)[^\\w]* ([^\\s]+ )*(now!|now)[^\\w]*( |$)'),
    (SPAM, '( |^)(win|win)[^\\w]* ([^\\s]+ )*(shopping|shopping)[^\\w]*( |$)'),
    (HAM, "( |^)(i'll|i'll)[^\\w]*( |$)"),
    (SPAM, '( |^)(chat|chat)[^\\w]* ([^\\s]+ )*(date|date)[^\\w]*( |$)'),
    (SPAM, '( |^)(please|please)[^\\w]* (\\w+ ){0,1}(call|call)[^\\w]* ([^\\s]+ )*(service|service)[^\\w]*( |$)'),
    (SPAM, '( |^)(free\\.|free)[^\\w]* ([^\\s]+ )*(sex|sex)[^\\w]*( |$)'),
    (SPAM, '( |^)(free|free)[^\\w]* ([^\\s]+ )*(price|price)[^\\w]* ([^\\s]+ )*(call|call)[^\\w]*( |$)'),
    (SPAM, '( |^)(cash|cash)[^\\w]* ([^\\s]+ )*(prize|prize|prize!)[^\\w]*( |$)'),
    (HAM, '( |^)(fb|fb)[^\\w]*( |$)'),
    (SPAM, '( |^)(free|free)[^\\w]* ([^\\s]+ )*(phone|phones|phones)[^\\w]*( |$)'),
    (HAM, '( |^)(noisy\\.|noisy)[^\\w]*( |$)'),
    (HAM, '( |^)(adventuring|adventuring)[^\\w]*( |$)'),
    (SPAM, '( |^)(password|password)[^\\w]*( |$)'),
    (HAM, '( |^)(maggi|maggi)[^\\w]*( |$)'),
    (HAM, '( |^)(wtf\\.|wtf)[^\\w]*( |$)'),
    (SPAM, '( |^)(won|won)[^\\w]* ([^\\s]+ )*(cash|cash)[^\\w]*( |$)'),
    (HAM, '( |^)(amrita|amrita)[^\\w]*( |$)'),
    (HAM, '( |^)(praying|praying\\.will|praying\\.will)[^\\w]*( |$)'),
    (SPAM, '( |^)(childporn|childporn)[^\\w]*( |$)'),
    (HAM, '( |^)(shit|shit)[^\\w]*( |$)'),
    (SPAM, '( |^)(credits|credits)[^\\w]*( |$)'),
    (HAM, '( |^)(goodo!|goodo)[^\\w]* ([^\\s]+ )*(we|we)[^\\w]*( |$)'),
    (SPAM, '( |^)(latest|latest)[^\\w]*( |$)'),
    (SPAM, '( |^)(\\?\\?5000|\\?\\?5000)[^\\w]* ([^\\s]+ )*(09050090044|09050090044)[^\\w]*( |$)'),
    (SPAM, '( |^)(hard|hard)[^\\w]* (\\w+ ){0,1}(live|live)[^\\w]* ([^\\s]+ )*(girl|girl)[^\\w]*( |$)'),
    (HAM, '( |^)(link|link)[^\\w]*( |$)'),
    (SPAM, '( |^)(urgent|urgent)[^\\w]* ([^\\s]+ )*(prize|prize)[^\\w]*( |$)'),
    (SPAM, '( |^)(sms\\.|sms)[^\\w]* ([^\\s]+ )*(reply|reply)[^\\w]*( |$)'),
    (SPAM, '( |^)(direct|direct)[^\\w]*( |$)'),
    (SPAM, '( |^)(voucher|voucher)[^\\w]* ([^\\s]+ )*(claim|claim)[^\\w]*( |$)'),
    (SPAM, '( |^)(\\?\\?1\\.50|\\?\\?1\\.50)[^\\w]*( |$)'),
    (HAM, '( |^)(hee|hee)[^\\w]*( |$)'),
    (HAM, '( |^)(jus|jus)[^\\w]*( |$)'),
    (SPAM, '( |^)(free|free)[^\\w]* ([^\\s]+ )*(tone|tone)[^\\w]*( |$)'),
    (SPAM, '( |^)(message\\.|message)[^\\w]* ([^\\s]+ )*(call|call)[^\\w]*( |$)'),
    (SPAM, '( |^)(fantasies\\.|fantasies)[^\\w]* (\\w+ ){0,1}(call|call)[^\\w]*( |$)'),
    (SPAM, '( |^)(\\?\\?500|\\?\\?500)[^\\w]*( |$)'),
    (SPAM, '( |^)(inviting|inviting)[^\\w]* ([^\\s]+ )*(friend\\.|friend)[^\\w]*( |$)'),
]

_WORD_IN_CLASS = r"\p{L}\p{N}_"
_SPACE_IN_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE)
_TOKEN = re.compile(r"\\.|\[|\]")


def to_re2(pattern: str) -> str:
    r"""Rewrites Python's Unicode ``\w`` / ``\s`` (inside or outside ``[...]``) for RE2.

    Args:
        pattern: a Python regular expression using ``\w``, ``\s`` and RE2-compatible syntax.

    Returns:
        The same expression with explicit Unicode classes.

    Example:
        >>> to_re2(r"( |^)(\w+ )[^\w]*")
        '( |^)([\\p{L}\\p{N}_]+ )[^\\p{L}\\p{N}_]*'
    """
    depth = 0

    def repl(m: re.Match) -> str:
        nonlocal depth
        tok = m.group(0)
        if tok == "[":
            depth += 1
            return tok
        if tok == "]":
            depth = max(0, depth - 1)
            return tok
        if tok in (r"\w", r"\s"):
            inner = _WORD_IN_CLASS if tok == r"\w" else _SPACE_IN_CLASS
            return inner if depth else f"[{inner}]"
        return tok

    return _TOKEN.sub(repl, pattern)


def sms_lfs(field: str = "text") -> list:
    """The 73 sms rules as compiled regex LFs over ``field``.

    Args:
        field: the text field. Defaults to `"text"`.

    Returns:
        73 compiled LFs, in `RULES` order.

    Example:
        >>> lfs = sms_lfs()
        >>> len(lfs), lfs[0].name
        (73, 'rule_0_ham')
    """
    return [
        ts.regex_lf(to_re2(rx), label, field=field,
                    name=f"rule_{i}_{'spam' if label == SPAM else 'ham'}")
        for i, (label, rx) in enumerate(RULES)
    ]


lfs = sms_lfs()
