"""Shared token tables (LFSet token_tables=True) give exactly the per-LF label matrix.

The per-LF path (each keyword LF one RE2 scan, each lookup LF its own table) is the reference:
real texts (YouTube comments, CFPB complaint narratives), generated texts full of the
characters where case folding and lowercasing part ways, generated keyword sets, and the
Unicode facts the shared path rests on, checked against this TensorFlow's RE2 and ICU.
"""

from __future__ import annotations

import collections
import itertools
import re

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from conftest import require_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfsnorkel.labeling import LFSet, keyword_lf, lookup_lf, regex_lf
from tfsnorkel.labeling.token_tables import (
    TokenTable,
    canonical_map,
    plan_token_tables,
    safe_chars,
    table_route,
)

WORDRE = r"[\p{L}\p{N}_]"


def both(lfs, texts, cardinality=2, signed=False):
    """(shared-table matrix, per-LF matrix, the shared set) on a DataFrame of texts."""
    shared = LFSet(lfs, cardinality=cardinality, signed=signed, token_tables=2)
    alone = LFSet(lfs, cardinality=cardinality, signed=signed, token_tables=False)
    df = pd.DataFrame({"text": texts})
    return (shared.apply(df, progress=False), alone.apply(df, progress=False), shared)


# ----------------------------------------------------------------- Unicode facts
def _icu_lower(chars):
    out = tf.strings.lower(tf.constant(chars), encoding="utf-8").numpy()
    return [b.decode("utf-8") for b in out]


def test_case_facts_hold_for_every_code_point_below_u30000():
    """Safe characters: ICU lowercase = str.lower (one character, same word class); after
    canonical_map, RE2's (?i) matches a safe keyword character exactly where lowercase
    forms agree."""
    cmap = canonical_map()
    cps = [c for c in range(0x30000) if not 0xD800 <= c <= 0xDFFF]
    chars = [chr(c) for c in cps]
    mapped = [chr(cmap.get(c, c)) for c in cps]
    low = _icu_lower(mapped)
    assert all(len(x) == 1 for x in low), [hex(c) for c, x in zip(cps, low) if len(x) != 1]
    safe = set()
    for a, b in safe_chars():
        safe.update(range(a, min(b, 0x2FFFF) + 1))
    assert 0 not in safe and ord("ſ") not in safe and ord("a") in safe
    for c, x in zip(cps, low):
        if c in safe:
            assert x == chr(c).lower(), hex(c)
    word_before = tf.strings.regex_full_match(tf.constant(chars), WORDRE).numpy()
    word_after = tf.strings.regex_full_match(tf.constant(low), WORDRE).numpy()
    assert np.array_equal(word_before, word_after)
    # The safe characters a keyword can hold that have any case at all, grouped by their
    # lowercase form. Group g must (?i)-match exactly the characters t with
    # lower(canonical(t)) == g. Checked for all t at once: group i's number is written in
    # 11 bits twice (plain and complemented); pattern k is the class of the groups whose
    # code has bit k set, so each t's 22 match bits spell the code of the one group it
    # matches (all zero for none); matching an extra or another group changes them.
    cased = sorted(c for c in safe if chr(c).lower() != chr(c) or chr(c).upper() != chr(c)
                   or chr(c).casefold() != chr(c))
    groups = sorted({chr(c).lower() for c in cased})
    number = {g: i + 1 for i, g in enumerate(groups)}
    bits = int(len(groups) + 1).bit_length()
    assert bits <= 11
    reps = {}
    for c in cased:
        reps.setdefault(chr(c).lower(), c)
    text = tf.constant(chars)
    want = np.zeros((len(cps), 2 * bits), bool)
    for row, x in enumerate(low):
        i = number.get(x)
        if i is not None:
            want[row, :bits] = [(i >> k) & 1 for k in range(bits)]
            want[row, bits:] = [not (i >> k) & 1 for k in range(bits)]
    got = np.zeros_like(want)
    for k in range(2 * bits):
        members = [reps[g] for g in groups if ((number[g] >> (k % bits)) & 1) == (k < bits)]
        cls = "".join(f"\\x{{{c:x}}}" for c in members)
        got[:, k] = tf.strings.regex_full_match(text, f"(?i:[{cls}])").numpy()
    bad = np.flatnonzero((got != want).any(axis=1))
    assert bad.size == 0, [hex(cps[i]) for i in bad[:20]]


# ----------------------------------------------------------------------- routing
def test_routing_groups_eligible_lfs_and_leaves_the_rest_alone():
    lfs = [
        keyword_lf(["check out", "my"], 1, name="a"),
        keyword_lf("song", 0, name="b"),
        keyword_lf("c++", 1, name="plus"),                       # ends with "+": RE2
        keyword_lf("http", 1, match="substring", name="sub"),    # substring: RE2
        keyword_lf("ſong", 0, name="long_s"),                    # unsafe character: RE2
        regex_lf(r"check.*out", 1, name="re"),
        keyword_lf("Song", 0, ignore_case=False, name="cs1"),
        lookup_lf({"song": 0}, "text", tokens="words", name="cs2"),
        lookup_lf({"Bob": 1}, "author", name="alone"),            # a group of one: own table
    ]
    assert table_route(lfs[2]) is None and table_route(lfs[3]) is None
    assert table_route(lfs[4]) is None and table_route(lfs[5]) is None
    assert table_route(lfs[0])[1] == [("check out", 1, 2), ("my", 1, 1)]
    assert plan_token_tables(lfs) == []  # groups below MIN_TABLE_LFS stay alone
    plan = plan_token_tables(lfs, min_lfs=2)
    assert [(t.field, t.tokenizer, t.lowercase, cols) for t, cols in plan] == [
        ("text", "words", True, [0, 1]), ("text", "words", False, [6, 7])]
    assert plan[0][0].max_words == 2 and plan[1][0].max_words == 1
    texts = ["Check out my SONG", "check  out", "c++ rocks", "ſong Song", "", "Bob"]
    shared = LFSet(lfs, token_tables=2)
    L = shared({"text": tf.constant(texts), "author": tf.constant(["Bob"] * 6)}).numpy()
    alone = LFSet(lfs, token_tables=False)
    ref = alone({"text": tf.constant(texts), "author": tf.constant(["Bob"] * 6)}).numpy()
    assert np.array_equal(L, ref)
    assert L[:, :2].tolist() == [[1, 0], [-1, -1], [-1, -1], [-1, 0], [-1, -1], [-1, -1]]
    assert L[3].tolist() == [-1, 0, -1, -1, 0, -1, 0, -1, 1]


def test_table_votes_eagerly_and_inside_tf_function():
    lfs = [keyword_lf(["my channel"], 1, name="p"), keyword_lf(["song", "my"], 0, name="q")]
    table = TokenTable("text", "words", True, lfs, [table_route(lf)[1] for lf in lfs])
    texts = tf.constant(["My  channel", "my channel!", "a song", "", "mychannel"])
    want = [[-1, 0], [1, 0], [-1, 0], [-1, -1], [-1, -1]]
    assert table.votes(texts, -1).numpy().tolist() == want
    assert tf.function(lambda t: table.votes(t, 0))(texts).numpy().tolist() == [
        [0 if v == -1 else v for v in row] for row in want]
    with pytest.raises(ValueError, match="tokenizer must be.*Received: tokenizer='chars'"):
        TokenTable("text", "chars", True, lfs, [[], []])


def test_lookup_first_token_decides_and_overlapping_owners():
    lfs = [
        lookup_lf({"alpha": 0, "beta": 1}, "text", tokens="words", name="kb_words"),
        lookup_lf({"alpha": 1, "gamma": 0}, "text", tokens="words", name="kb_words2"),
        lookup_lf({"x,y": 1, "beta": 0}, "text", tokens="whitespace", name="ws"),
        lookup_lf({"x,y": 0, "z": 1}, "text", tokens="whitespace", name="ws2"),
        lookup_lf({"beta gamma": 1, "": 0}, "text", name="whole"),
        lookup_lf({"beta gamma": 0}, "text", name="whole2"),
        lookup_lf({"ALPHA": 1, "Beta": 0}, "text", tokens="words", ignore_case=True, name="ci"),
        lookup_lf({"beta": 1}, "text", tokens="words", ignore_case=True, name="ci2"),
        keyword_lf(["alpha", "beta gamma"], 1, ignore_case=False, name="kw_cs"),
    ]
    texts = ["beta gamma", "gamma, alpha beta", "x,y z", "", "BETA alpha", "z x,y beta",
             "alpha\x00beta", "İbeta beta"]
    L, ref, shared = both(lfs, texts)
    assert np.array_equal(L, ref)
    assert len(shared.shared_tables) == 4
    assert L[1].tolist()[:2] == [0, 0]  # "alpha" comes before "beta": first token decides


# ------------------------------------------------------------------- real texts
def _vocab(texts, lo, hi):
    cnt = collections.Counter(w for t in texts for w in re.findall(r"\w+", t.lower()))
    return [w for w, _ in cnt.most_common(hi)][lo:]


def _bigrams(texts, k):
    cnt = collections.Counter()
    for t in texts:
        words = t.lower().split()
        cnt.update(f"{a} {b}" for a, b in itertools.pairwise(words)
                   if re.fullmatch(r"\w+", a) and re.fullmatch(r"\w+", b))
    return [p for p, _ in cnt.most_common(k)]


def _real_lfs(texts, rng, n_words=70):
    words = _vocab(texts, 20, 20 + n_words)
    phrases = _bigrams(texts, 20)
    lfs = []
    for i, w in enumerate(words):  # single words, some LFs own several, some share them
        kws = [w] if i % 3 else [w, words[(i * 7) % len(words)]]
        lfs.append(keyword_lf(kws, int(rng.integers(0, 3)), name=f"w{i}"))
    for i, p in enumerate(phrases):
        lfs.append(keyword_lf([p, p.split()[0]] if i % 4 == 0 else [p], int(rng.integers(0, 3)),
                              name=f"p{i}"))
    for i, w in enumerate(words[:20]):
        lfs.append(keyword_lf(w.capitalize(), 1, ignore_case=False, name=f"cs{i}"))
    lfs.append(lookup_lf({w: i % 3 for i, w in enumerate(words[:40])}, "text",
                         tokens="words", ignore_case=True, name="kb_ci"))
    lfs.append(lookup_lf({w: i % 3 for i, w in enumerate(words[30:60])}, "text",
                         tokens="words", name="kb_cs"))
    lfs.append(keyword_lf("http", 1, match="substring", name="sub"))
    lfs.append(regex_lf(r"check.*out", 1, ignore_case=True, name="re"))
    return lfs


def test_equal_on_youtube_comments_and_cfpb_narratives(cfpb_csv):
    frames = [pd.read_csv(p)["CONTENT"] for p in
              sorted(require_data("youtube_spam_collection").glob("Youtube0*.csv"))]
    cfpb = pd.read_csv(cfpb_csv, usecols=["Consumer complaint narrative"]).iloc[:, 0].dropna()
    texts = pd.concat(frames + [cfpb], ignore_index=True).astype(str).tolist()
    assert len(texts) == 1956 + 1532
    rng = np.random.default_rng(0)
    lfs = _real_lfs(texts, rng)
    L, ref, shared = both(lfs, texts + [None, ""], cardinality=3)
    assert np.array_equal(L, ref)
    tables = shared.shared_tables
    assert sum(len(t.members) for t in tables) == len(lfs) - 3  # not kb_ci, sub, re
    assert max(t.max_words for t in tables) == 2
    cover = (L != -1).any(axis=0)
    assert cover.mean() > 0.95 and (L != -1).sum() > 20_000
    assert (L[-2] == -1).all()  # a missing text abstains everywhere


def test_signed_set_equal(youtube):
    texts = youtube.train.frame["text"].tolist()
    words = _vocab(texts, 10, 60)
    lfs = [keyword_lf(w, 1 if i % 2 else -1, name=f"s{i}") for i, w in enumerate(words)]
    L, ref, _ = both(lfs, texts, signed=True)
    assert np.array_equal(L, ref) and set(np.unique(L)) == {-1, 0, 1}


# ------------------------------------------------------------- generated texts
TRICKY = list("abcsSkKxyz019_ -,.!'\t\n") + [
    "ſ", "\u212a", "İ", "ı", "ß", "ẞ", "ς", "σ", "Σ", "µ", "μ", "é", "É", "\x00", "\u0307",
    "\uffff", "\xa0", "\u2028", "😀", "Ꭰ", "ꭰ", "Ǆ", "ǅ", "ǆ", "ϑ", "θ", "\u00b5", "ﬀ",
]
KEYWORDS = ["ab", "a b", "ab, c", "s", "sk", "k", "σs", "ss", "ab_c", "x", "é", "Éx", "abab",
            "b a", "ǆ", "ǅx", "θ", "1", "a\u0307b", "z  y", "kk", "ı"]
GEN_LFS = (
    [keyword_lf([k], j % 3, name=f"ci{j}") for j, k in enumerate(KEYWORDS)]
    + [keyword_lf([k, KEYWORDS[(j + 3) % len(KEYWORDS)]], (j + 1) % 3, ignore_case=False,
                  name=f"cs{j}") for j, k in enumerate(KEYWORDS)]
    + [lookup_lf({k: j % 3 for j, k in enumerate(KEYWORDS)}, "text", tokens=mode,
                 ignore_case=ic, name=f"kb_{mode}_{ic}")
       for mode in (True, "words", False) for ic in (False, True)]
    + [lookup_lf({"ab": 2, "s": 1}, "text", tokens="words", ignore_case=ic, name=f"kb2_{ic}")
       for ic in (False, True)]
)
SHARED = LFSet(GEN_LFS, cardinality=3, token_tables=2)
ALONE = LFSet(GEN_LFS, cardinality=3, token_tables=False)

texts_st = st.lists(
    st.one_of(
        st.text(alphabet=st.sampled_from(TRICKY), max_size=30),
        st.lists(st.sampled_from(KEYWORDS + [" ", ", ", "  ", "_", "x"]), max_size=8).map(
            "".join),
        st.text(max_size=12),
    ),
    min_size=1, max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=texts_st)
def test_equal_on_generated_texts(texts):
    feats = {"text": tf.constant([t.encode("utf-8", "surrogatepass") for t in texts])}
    assert np.array_equal(SHARED(feats).numpy(), ALONE(feats).numpy())


def test_generated_lf_set_uses_tables_and_fires():
    # case-insensitive keywords; case-sensitive keywords with case-sensitive word lookups;
    # case-insensitive word lookups (the other lookups are alone in their kind)
    assert [len(t.members) for t in SHARED.shared_tables] == [22, 24, 2]
    texts = ["ab, c ss", "ſ σς ǅx", "İab K", "a b\x00ab", "z  y ab_c"]
    L = SHARED({"text": tf.constant(texts)}).numpy()
    assert np.array_equal(L, ALONE({"text": tf.constant(texts)}).numpy())
    assert (L != -1).sum() > 20


kw_st = st.lists(
    st.text(alphabet=st.sampled_from(list("abſsKkσςİß é_ ,.-")), min_size=1, max_size=6),
    min_size=1, max_size=4,
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kws=st.lists(kw_st, min_size=2, max_size=5), ignore_case=st.booleans(),
       texts=st.lists(st.text(alphabet=st.sampled_from(list("abſsKkσςİß é_ ,.-\x00")),
                              max_size=25), min_size=1, max_size=30))
def test_equal_on_generated_keyword_sets(kws, ignore_case, texts):
    lfs = [keyword_lf(k, i % 2, ignore_case=ignore_case, name=f"k{i}")
           for i, k in enumerate(kws)]
    feats = {"text": tf.constant(texts)}
    shared = LFSet(lfs, token_tables=2)(feats).numpy()
    alone = LFSet(lfs, token_tables=False)(feats).numpy()
    assert np.array_equal(shared, alone)



# ----------------------------------------------------------------------- serving
def test_large_keyword_set_exports_and_serves_without_tfsnorkel(youtube, tmp_path):
    import sys
    from pathlib import Path

    from tfsnorkel.export import export_pipeline, find_pyfunc_ops

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "classify"))
    from serving_helpers import load_in_fresh_process

    texts = youtube.train.frame["text"].tolist()[:300] + [
        "ſong and Song", "İstanbul song", "check\x00out", "", "Check  out my channel"]
    words = _vocab(texts, 0, 250)
    lfs = [keyword_lf(w, i % 2, name=f"w{i}") for i, w in enumerate(words)]
    lfs += [keyword_lf(["check out", "my channel"], 1, name="phrase"),
            keyword_lf("Song", 0, ignore_case=False, name="cs"),
            lookup_lf({"song": 0, "love": 0}, "text", tokens="words", name="kb"),
            regex_lf(r"check.*out", 1, ignore_case=True, name="re")]
    lfset = LFSet(lfs, token_tables=2)
    assert [len(t.members) for t in lfset.shared_tables] == [251, 2]
    path = tmp_path / "lfs"
    assert export_pipeline(path, lfset=lfset)["weak_label"] == ["text"]
    assert find_pyfunc_ops(path) == []
    served = load_in_fresh_process(path, {"weak_label": {"text": {"values": texts,
                                                                   "dtype": "string"}}},
                                   tmp_path)
    assert served["loaded_blocked_modules"] == []
    votes = np.array(served["weak_label"]["votes"])
    ref = LFSet(lfs, token_tables=False)({"text": tf.constant(texts)}).numpy()
    assert votes.shape == (len(texts), len(lfs)) and np.array_equal(votes, ref)
    assert (votes != -1).sum() > 1000
