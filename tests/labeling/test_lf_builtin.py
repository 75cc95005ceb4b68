"""Compiled LF kinds: semantics, RE2 differences, bad input.

Every kind runs eagerly, inside tf.function and inside ds.map.
"""

from __future__ import annotations

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfsnorkel.labeling import (
    LFSet,
    classifier_lf,
    column_lf,
    keyword_lf,
    length_lf,
    lookup_lf,
    regex_lf,
    spam_lfs,
    threshold_lf,
)


def run_all_ways(lf, features):
    """Votes of one compiled LF: eagerly, inside tf.function and inside ds.map; all equal."""
    feats = {k: tf.constant(v) for k, v in features.items()}
    eager = lf(feats).numpy()
    graph = tf.function(lambda f: lf(f))(feats).numpy()
    ds = tf.data.Dataset.from_tensor_slices(feats).batch(2).map(
        lambda f: lf(f), num_parallel_calls=2, deterministic=True)
    mapped = np.concatenate([b.numpy() for b in ds])
    np.testing.assert_array_equal(eager, graph)
    np.testing.assert_array_equal(eager, mapped)
    return eager.tolist()


def test_keyword_substring_vs_word_and_case():
    texts = ["My channel", "enemy", "my_thing", "MY!", "mY", "nothing"]
    sub = keyword_lf("my", 1, match="substring")
    word = keyword_lf("my", 1, match="word")
    cased = keyword_lf("my", 1, match="substring", ignore_case=False)
    assert run_all_ways(sub, {"text": texts}) == [1, 1, 1, 1, 1, -1]
    # "enemy" and "my_thing" glue "my" to word characters
    assert run_all_ways(word, {"text": texts}) == [1, -1, -1, 1, 1, -1]
    assert run_all_ways(cased, {"text": texts}) == [-1, 1, 1, -1, -1, -1]
    assert sub.name == "keyword_my"


def test_keyword_phrases_special_chars_and_unicode_word_boundaries():
    lf = keyword_lf(["c++", "check it out", "café"], 2, match="word")
    texts = ["I love C++!", "check  it out", "CHECK IT OUT now", "cafés", "un café.", "c+++"]
    ref = re.compile(r"(?<!\w)(?:c\+\+|check it out|café)(?!\w)", re.I)
    assert run_all_ways(lf, {"text": texts}) == [2 if ref.search(t) else -1 for t in texts]
    assert [2 if ref.search(t) else -1 for t in texts] == [2, -1, 2, -1, 2, 2]


def test_keyword_ignore_case_is_case_folding_not_lower():
    # documented: simple case folding; differs from kw in text.lower() for e.g. long s / Kelvin
    lf = keyword_lf("s", 1, match="substring")
    assert run_all_ways(lf, {"text": ["ſ", "S", "x"]}) == [1, 1, -1]
    assert ("s" in "ſ".lower()) is False
    # and from Python re.IGNORECASE only for dotted/dotless i
    lf_i = keyword_lf("i", 1, match="substring")
    assert run_all_ways(lf_i, {"text": ["İ", "ı", "I"]}) == [-1, -1, 1]
    assert re.search("i", "İ", re.I) and re.search("i", "ı", re.I)


def test_regex_search_semantics_and_re2_differences():
    lf = regex_lf(r"check.*out", 1, ignore_case=True)
    texts = ["Check my video OUT", "out check", "check\nout", "(?s) no"]
    # '.' does not cross a newline, as in Python re.search without re.S
    assert run_all_ways(lf, {"text": texts}) == [1, -1, -1, -1]
    assert [bool(re.search(r"check.*out", t, re.I)) for t in texts] == [True, False, False, False]
    # \w and \b are ASCII-only in RE2 (documented difference from Python)
    word = regex_lf(r"\bcaf\b", 1)
    assert run_all_ways(word, {"text": ["café", "caf"]}) == [1, 1]
    assert re.search(r"\bcaf\b", "café") is None
    # $ matches only at the very end in RE2 (Python: also before a final newline)
    end = regex_lf(r"end$", 1)
    assert run_all_ways(end, {"text": ["the end", "the end\n"]}) == [1, -1]
    assert re.search(r"end$", "the end\n") is not None
    # inline flags stay inside the pattern
    assert run_all_ways(regex_lf(r"(?i)abc", 1), {"text": ["xABCx", "ab"]}) == [1, -1]


@pytest.mark.parametrize(
    "pattern, what",
    [
        (r"spam(?=!)", "lookahead"),
        (r"(?<!not )good", "lookahead/lookbehind"),
        (r"(a)\1", "backreferences"),
        (r"(?P<x>a)(?P=x)", "named backreferences"),
        (r"(?>ab)", "atomic groups"),
        (r"a++", "possessive"),
        (r"end\Z", r"\\Z"),
    ],
)
def test_regex_rejects_what_re2_cannot_run(pattern, what):
    with pytest.raises(ValueError, match=rf"LF 'bad'.*{what}.*Received: pattern="):
        regex_lf(pattern, 1, name="bad")


def test_regex_invalid_pattern_and_bad_label():
    with pytest.raises(ValueError, match=r"LF 'broken': RE2.*cannot compile.*missing \)"):
        regex_lf("(abc", 1, name="broken")
    with pytest.raises(ValueError, match=r"invalid repetition size"):
        regex_lf("a{1001}", 1, name="rep")
    with pytest.raises(TypeError, match=r"label must be an integer.*Received: label='1'"):
        keyword_lf("x", "1")
    with pytest.raises(ValueError, match="non-empty keyword"):
        keyword_lf([], 1)
    with pytest.raises(ValueError, match="match must be"):
        keyword_lf("x", 1, match="fuzzy")


def test_length_words_like_str_split_and_chars_like_len():
    texts = ["cool video!", "one two three four five", "  a\u00a0b\u3000c\x1cd  ", "", "héllo"]
    short = length_lf("text", 0, max_words=4)
    assert run_all_ways(short, {"text": texts}) == [
        0 if len(t.split()) < 5 else -1 for t in texts] == [0, -1, 0, 0, 0]
    long_ = length_lf("text", 1, min_words=4)
    assert run_all_ways(long_, {"text": texts}) == [-1, 1, 1, -1, -1]
    chars = length_lf("text", 1, min_chars=5, max_chars=5)
    assert run_all_ways(chars, {"text": texts}) == [1 if len(t) == 5 else -1 for t in texts]
    big = length_lf("text", 1, min_words=600)  # large bounds fall back to a ragged split
    assert run_all_ways(big, {"text": ["w " * 600, "w " * 599]}) == [1, -1]
    with pytest.raises(ValueError, match="at least one of"):
        length_lf("text", 0)
    with pytest.raises(ValueError,
                       match="min_words > max_words.*Received: min_words=5, max_words=2"):
        length_lf("text", 0, min_words=5, max_words=2)
    with pytest.raises(ValueError, match="non-negative integer.*max_chars=-1"):
        length_lf("text", 0, max_chars=-1)


def test_lookup_values_tokens_words_and_dict_labels():
    authors = lookup_lf({"bob", "eve"}, field="author", label=1)
    assert run_all_ways(authors, {"author": ["bob", "Bob", "al"]}) == [1, -1, -1]
    kb = lookup_lf({"spam": 1, "ham": 0}, field="text", tokens=True, ignore_case=True, name="kb")
    # first token found (left to right) decides; whitespace tokens keep punctuation
    got = run_all_ways(kb, {"text": ["HAM then spam", "spam, ham", "nothing", ""]})
    assert got == [0, 0, -1, -1]
    words = lookup_lf({"spam": 1, "ham": 0}, field="text", tokens="words", name="kbw")
    assert run_all_ways(words, {"text": ["spam, ham", "(ham)", "spammy"]}) == [1, 0, -1]
    ids = lookup_lf({7: 1, 9: 0}, field="user_id")
    assert run_all_ways(ids, {"user_id": np.array([7, 8, 9], np.int64)}) == [1, -1, 0]
    assert run_all_ways(ids, {"user_id": np.array([7.0, 7.5, np.nan])}) == [1, -1, -1]
    with pytest.raises(ValueError, match="needs label="):
        lookup_lf({"a"}, field="t")
    with pytest.raises(ValueError, match="not both"):
        lookup_lf({"a": 1}, field="t", label=1)
    with pytest.raises(ValueError, match="table is empty"):
        lookup_lf(set(), field="t", label=1)
    with pytest.raises(TypeError, match="all strings or all integers"):
        lookup_lf({"a": 1, 2: 0}, field="t")
    with pytest.raises(TypeError, match="not one string"):
        lookup_lf("abc", field="t", label=1)


def test_threshold_bounds_nan_and_errors():
    x = {"p": np.array([0.95, 0.9, 0.5, np.nan, -3.0])}
    assert run_all_ways(threshold_lf("p", 0, above=0.9), x) == [0, -1, -1, -1, -1]
    assert run_all_ways(threshold_lf("p", 0, above=0.9, inclusive=True), x) == [0, 0, -1, -1, -1]
    assert run_all_ways(threshold_lf("p", 1, below=0.0), x) == [-1, -1, -1, -1, 1]
    assert run_all_ways(threshold_lf("p", 1, above=0.0, below=0.9), x) == [-1, -1, 1, -1, -1]
    assert run_all_ways(threshold_lf("p", 1, above=0), {"p": np.array([1, 0], np.int32)}) == [1, -1]
    with pytest.raises(ValueError, match="above=, below="):
        threshold_lf("p", 1)
    with pytest.raises(ValueError, match="above must be smaller.*Received: above=2, below=1"):
        threshold_lf("p", 1, above=2, below=1)
    with pytest.raises(ValueError, match="must be a number"):
        threshold_lf("p", 1, above=float("nan"))


def test_column_lf_mapping_and_raw_labels():
    crowd = column_lf("worker_3", mapping={"spam": 1, "ham": 0})
    assert crowd.name == "worker_3"
    assert run_all_ways(crowd, {"worker_3": ["spam", "", "ham", "unsure"]}) == [1, -1, 0, -1]
    raw = column_lf("w")
    assert run_all_ways(raw, {"w": np.array([1.0, np.nan, 0.0, -1.0])}) == [1, -1, 0, -1]
    ints = column_lf("grade", mapping={5: 1, 1: 0})
    assert run_all_ways(ints, {"grade": np.array([5.0, 3.0, 1.0, np.nan])}) == [1, -1, 0, -1]


def test_classifier_lf_binary_multiclass_and_keras_model():
    lf = classifier_lf(lambda t: tf.strings.length(t) / 10, low=0.2, high=0.8, name="len_clf")
    assert run_all_ways(lf, {"text": ["a", "abcdefghij", "abcde", "ab"]}) == [0, 1, -1, 0]
    only_pos = classifier_lf(lambda t: tf.strings.length(t) / 10, high=0.8, name="pos")
    assert run_all_ways(only_pos, {"text": ["a", "abcdefghij"]}) == [-1, 1]

    def three(x):
        p = tf.stack([x, 1.0 - x, tf.zeros_like(x)], axis=1)
        return p

    multi = classifier_lf(three, {"p": "float32"}, threshold=0.7, name="multi")
    assert run_all_ways(multi, {"p": np.array([0.9, 0.2, 0.5], np.float32)}) == [0, 1, -1]
    relabelled = classifier_lf(three, {"p": "float32"}, labels=[2, 1, 0], name="rel")
    assert run_all_ways(relabelled, {"p": np.array([0.9, 0.2], np.float32)}) == [2, 1]

    inp = keras.Input(shape=(1,))
    model = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid", kernel_initializer="ones",
                                                bias_initializer="zeros")(inp))
    k = classifier_lf(lambda x: model(tf.reshape(x, [-1, 1])), {"score": "float32"},
                      low=0.3, high=0.7, name="keras_clf")
    # sigmoid(2)=0.88 -> 1, sigmoid(-2)=0.12 -> 0, sigmoid(0)=0.5 -> abstain
    assert run_all_ways(k, {"score": np.array([2.0, -2.0, 0.0], np.float32)}) == [1, 0, -1]
    with pytest.raises(ValueError, match=r"probability in \[0, 1\].*high=1.5"):
        classifier_lf(three, high=1.5)
    with pytest.raises(ValueError, match="low must be <= high"):
        classifier_lf(three, low=0.8, high=0.2)


def test_spam_lfs_reproduce_wrench_youtube_columns_exactly(youtube):
    lfs = LFSet(spam_lfs())
    assert lfs.names == ["keyword_my", "keyword_subscribe", "keyword_link", "keyword_please",
                         "keyword_song", "regex_check_out", "short_comment"]
    for split in (youtube.train, youtube.valid, youtube.test):
        L = lfs.apply(split.frame)
        assert L.dtype == np.int32
        np.testing.assert_array_equal(L, split.L[:, :7])
    # the same in a ds.map over one-example elements, and in a tf.function
    texts = youtube.test.frame["text"].tolist()
    ds = tf.data.Dataset.from_tensor_slices({"text": texts})
    np.testing.assert_array_equal(lfs.apply(ds, batch_size=64), youtube.test.L[:, :7])
    graph = tf.function(lambda t: lfs({"text": t}))(tf.constant(texts)).numpy()
    np.testing.assert_array_equal(graph, youtube.test.L[:, :7])
    # coverage on train as Snorkel's tutorial LFs produce it (numbers from the shipped matrix)
    assert (youtube.train.L[:, :7] != -1).sum(axis=0).tolist() == (L_cov := (
        lfs.apply(youtube.train.frame) != -1).sum(axis=0).tolist())
    assert L_cov[0] > 0 and sum(L_cov) > 1000
