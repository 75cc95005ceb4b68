"""An LF file for the `tfsnorkel` command: the YouTube spam LFs, over a `text` column.

    tfsnorkel apply --input comments.csv --lfs examples/spam_lfs.py --out L.npy

The command imports this file and reads `lfs` (a list of labeling functions or an LFSet)
and `cardinality`.
"""

import tfsnorkel as ts

HAM, SPAM = 0, 1
cardinality = 2

lfs = [
    *ts.spam_lfs(),  # the Snorkel spam tutorial's keyword / regex / length LFs, compiled
    ts.keyword_lf(["youtube.com", "www.", ".com"], label=SPAM, field="text",
                  match="substring", name="keyword_url"),
    ts.regex_lf(r"\b(?:love|like) (?:this|the) song\b", label=HAM, field="text",
                ignore_case=True, name="regex_love_song"),
]
