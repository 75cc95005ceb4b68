"""LF sets of the label-model evaluation harness (``benchmarks/lm_harness.py``), as compiled LFs.

Each module defines ``lfs`` (a list of compiled LFs) and ``cardinality``, so it also works as an
LF file for the command line (``tfsnorkel apply --lfs examples/lfsets/imdb_lfs.py ...``):

- ``sms_lfs``: the 73 regular expressions of WRENCH sms (``readme.txt``), compiled to RE2;
- ``imdb_lfs``, ``yelp_lfs``: the keyword and expression rules published with the IMDB / Yelp
  sentiment sets (``wrench_rules/*/rules_reference.py``);
- ``cfpb_lfs``: the CFPB complaint LFs of ``examples/complaints.ipynb``.

``_compose.first_of`` combines compiled LFs into one LF whose vote is the first non-abstaining
member's (a rule "NEG if any negative keyword, else POS if any positive one" is one LF).
"""
