import doctest
import re

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from hypothesis import given, settings
from hypothesis import strategies as st

from tfsnorkel import candidates
from tfsnorkel.candidates import (
    PAIR_COLUMNS,
    PAIR_SPEC,
    CandidateSpec,
    DataSplit,
    EntityMatcher,
    Mention,
    extract_pair_candidates,
    row_candidates,
    train_dev_test_split,
)


def test_all_is_sorted_and_public():
    assert candidates.__all__ == sorted(candidates.__all__)
    assert all(hasattr(candidates, name) for name in candidates.__all__)


def test_docstring_examples_run():
    result = doctest.testmod(candidates)
    assert result.failed == 0 and result.attempted >= 15


# ------------------------------------------------------------------ candidate specs


def test_row_candidates_keep_fields_and_index():
    df = pd.DataFrame(
        {"text": ["check out my channel", "love this song"], "author": ["x", "y"], "y": [1, 0]},
        index=[10, 20],
    )
    out = row_candidates(df, ["text", "author"])
    assert out.columns.tolist() == ["text", "author"]
    assert out.index.tolist() == [10, 20]
    assert out["text"].tolist() == ["check out my channel", "love this song"]
    out.loc[10, "text"] = "changed"
    assert df.loc[10, "text"] == "check out my channel"  # a copy, not a view


def test_candidate_spec_errors_name_the_problem():
    df = pd.DataFrame({"text": ["a", "b"]}, index=[0, 0])
    with pytest.raises(KeyError, match=r"lacks\. Received columns: \['text'\]"):
        CandidateSpec(["text", "author"]).select(df.reset_index(drop=True))
    with pytest.raises(ValueError, match="index label 0 appears 2 times"):
        CandidateSpec(["text"]).select(df)
    with pytest.raises(TypeError, match="not a single string"):
        CandidateSpec("text")
    with pytest.raises(ValueError, match=r"Received duplicates: \['text'\]"):
        CandidateSpec(["text", "text"])
    with pytest.raises(ValueError, match=r"missing \['entity2', 'entity2_start', 'entity2_end'\]"):
        CandidateSpec(["entity1", "entity1_start", "entity1_end", "between"], kind="pair")
    with pytest.raises(ValueError, match="Received: kind='doc'"):
        CandidateSpec(["text"], kind="doc")
    with pytest.raises(ValueError, match="Received: nan at index label 'b'"):
        CandidateSpec(["text"]).features(pd.DataFrame({"text": ["ok", np.nan]}, index=["a", "b"]))


def test_candidate_spec_is_frozen_and_hashable():
    spec = CandidateSpec(["text"])
    assert spec.fields == ("text",) and spec.kind == "row"
    assert hash(spec) == hash(CandidateSpec(("text",)))
    with pytest.raises(AttributeError):
        spec.kind = "pair"  # type: ignore[misc]
    assert PAIR_SPEC.kind == "pair" and PAIR_SPEC.fields == PAIR_COLUMNS[1:]


# ------------------------------------------------------------------ entity matching

PEOPLE = ["Ben Affleck", "Affleck", "Jennifer Garner", "Matt Damon", "Ann"]


def spans(matcher, text):
    return [(m.start, m.end, m.surface, m.canonical) for m in matcher.find(text)]


def test_names_match_whole_words_longest_first():
    m = EntityMatcher(PEOPLE)
    text = "Ben Affleck met Anne, Ann and Joanna; Affleck left with Jennifer  Garner."
    assert spans(m, text) == [
        (0, 11, "Ben Affleck", "Ben Affleck"),  # not "Affleck" inside it
        (22, 25, "Ann", "Ann"),  # not inside "Anne" or "Joanna"
        (38, 45, "Affleck", "Affleck"),
        (56, 72, "Jennifer  Garner", "Jennifer Garner"),  # any run of whitespace inside a name
    ]
    assert m("ben affleck") == []
    assert m.find("Affleck's wife") == [Mention(0, 7, "Affleck", "Affleck")]


def test_ignore_case_and_canonical_dictionary():
    aliases = {"Ben Affleck": "Ben Affleck", "Affleck": "Ben Affleck", "J.Lo": "Jennifer Lopez"}
    m = EntityMatcher(aliases, ignore_case=True)
    assert spans(m, "AFFLECK and j.lo; ben affleck.") == [
        (0, 7, "AFFLECK", "Ben Affleck"),
        (12, 16, "j.lo", "Jennifer Lopez"),
        (18, 29, "ben affleck", "Ben Affleck"),
    ]
    assert "names=<3 names>" in repr(m)


def test_regex_matcher_and_group():
    m = EntityMatcher(regex=r"\b(?:Dr|Mr|Mrs)\. ([A-Z][a-z]+)", group=1)
    assert spans(m, "Dr. Grey called Mrs. Dalloway.") == [
        (4, 8, "Grey", "Grey"),
        (21, 29, "Dalloway", "Dalloway"),
    ]
    m2 = EntityMatcher(regex=re.compile(r"acme corp"), ignore_case=True)
    assert spans(m2, "ACME Corp sued Acme corp") == [
        (0, 9, "ACME Corp", "ACME Corp"),
        (15, 24, "Acme corp", "Acme corp"),
    ]
    assert EntityMatcher(regex=r"x*").find("abc") == []  # empty matches are skipped


def test_matcher_errors():
    with pytest.raises(ValueError, match="exactly one of names= and regex="):
        EntityMatcher()
    with pytest.raises(ValueError, match="exactly one of names= and regex="):
        EntityMatcher(["a"], regex="a")
    with pytest.raises(TypeError, match="not one string"):
        EntityMatcher("Ann")
    with pytest.raises(ValueError, match="must not start or end with whitespace"):
        EntityMatcher([" Ann"])
    with pytest.raises(ValueError, match="map to two canonical names"):
        EntityMatcher({"ann": "Ann A", "ANN": "Ann B"}, ignore_case=True)
    with pytest.raises(ValueError, match=r"invalid regex .*Received: regex='\('"):
        EntityMatcher(regex="(")
    with pytest.raises(ValueError, match="has 0 group"):
        EntityMatcher(regex="a", group=1)
    with pytest.raises(TypeError, match="needs a string"):
        EntityMatcher(["a"]).find(None)


# ------------------------------------------------------------------ pair candidates

SENTENCES = [
    "Jennifer Garner and her husband Ben Affleck attended the premiere.",
    "Ben Affleck, Matt Damon and Jennifer Garner were seen in Boston.",
    "No famous people here.",
]


def test_pair_candidates_exact_rows():
    c = extract_pair_candidates(SENTENCES, EntityMatcher(PEOPLE))
    assert c.columns.tolist() == list(PAIR_COLUMNS)
    assert c.index.tolist() == [0, 1, 2, 3]
    got = c[["doc_id", "entity1", "entity1_start", "entity1_end", "entity2", "entity2_start",
             "entity2_end", "between"]].values.tolist()
    assert got == [
        [0, "Jennifer Garner", 0, 15, "Ben Affleck", 32, 43, " and her husband "],
        [1, "Ben Affleck", 0, 11, "Matt Damon", 13, 23, ", "],
        [1, "Ben Affleck", 0, 11, "Jennifer Garner", 28, 43, ", Matt Damon and "],
        [1, "Matt Damon", 13, 23, "Jennifer Garner", 28, 43, " and "],
    ]
    assert c.loc[0, "left"] == "" and c.loc[0, "right"] == " attended the premiere."
    assert c.loc[3, "left"] == "Ben Affleck, " and c.loc[3, "right"] == " were seen in Boston."
    assert c.loc[2, "text"] == SENTENCES[1]
    assert c["entity1_start"].dtype == np.int64
    # The spouse LF of the tutorial is one line over the `between` field.
    spouse = c["between"].str.contains(r"\b(?:husband|wife)\b", regex=True)
    assert spouse.tolist() == [True, False, False, False]


def test_ordered_pairs_emit_both_directions():
    c = extract_pair_candidates(SENTENCES[:1], EntityMatcher(PEOPLE), ordered=True)
    assert c[["entity1", "entity2", "between", "left"]].values.tolist() == [
        ["Jennifer Garner", "Ben Affleck", " and her husband ", ""],
        ["Ben Affleck", "Jennifer Garner", " and her husband ", ""],
    ]


def test_distance_limits_and_same_entity():
    m = EntityMatcher(PEOPLE)
    c = extract_pair_candidates(SENTENCES, m, max_chars_between=5)
    assert c[["entity1", "entity2", "between"]].values.tolist() == [
        ["Ben Affleck", "Matt Damon", ", "],
        ["Matt Damon", "Jennifer Garner", " and "],
    ]
    c = extract_pair_candidates(SENTENCES, m, max_tokens_between=3)
    assert c[["entity1", "entity2"]].values.tolist() == [
        ["Jennifer Garner", "Ben Affleck"],  # " and her husband ": 3 tokens
        ["Ben Affleck", "Matt Damon"],
        ["Matt Damon", "Jennifer Garner"],
    ]  # ", Matt Damon and " has 4 whitespace tokens
    assert len(extract_pair_candidates(SENTENCES, m, max_tokens_between=4)) == 4
    assert len(extract_pair_candidates(SENTENCES, m, max_tokens_between=1)) == 2
    alias = EntityMatcher({"Ben Affleck": "Ben Affleck", "Affleck": "Ben Affleck",
                           "Jennifer Garner": "Jennifer Garner"})
    text = ["Ben Affleck said Affleck loves Jennifer Garner."]
    c = extract_pair_candidates(text, alias)
    assert c[["entity1", "entity2"]].values.tolist() == [
        ["Ben Affleck", "Jennifer Garner"],
        ["Affleck", "Jennifer Garner"],
    ]
    c = extract_pair_candidates(text, alias, same_entity=True)
    assert c[["entity1", "entity2"]].values.tolist()[0] == ["Ben Affleck", "Affleck"]
    assert len(c) == 3


def test_ids_series_index_and_empty_result():
    s = pd.Series(SENTENCES[:2], index=["s1", "s2"])
    c = extract_pair_candidates(s, EntityMatcher(PEOPLE))
    assert c["doc_id"].tolist() == ["s1", "s2", "s2", "s2"]
    c = extract_pair_candidates(SENTENCES[:2], EntityMatcher(PEOPLE), ids=[7, 9])
    assert c["doc_id"].tolist() == [7, 9, 9, 9]
    empty = extract_pair_candidates(["nobody"], EntityMatcher(PEOPLE))
    assert empty.columns.tolist() == list(PAIR_COLUMNS) and len(empty) == 0
    assert empty["entity2_end"].dtype == np.int64


def test_callable_matcher_overlaps_skipped_and_spans_checked():
    text = "New York City is far from Boston."

    def ner(t):  # a stand-in for an NER model: overlapping and duplicate spans
        return [(0, 8), (4, 13), (26, 32), (0, 8)]

    c = extract_pair_candidates([text], ner)
    assert c[["entity1", "entity2", "between"]].values.tolist() == [
        ["New York", "Boston", " City is far from "],
        ["York City", "Boston", " is far from "],
    ]
    with pytest.raises(ValueError, match="not a non-empty span.*doc_id=0"):
        extract_pair_candidates([text], lambda t: [(5, 5)])
    with pytest.raises(TypeError, match=r"Mention objects or \(start, end\) pairs"):
        extract_pair_candidates([text], lambda t: ["Boston"])


def test_pair_extraction_errors():
    m = EntityMatcher(PEOPLE)
    with pytest.raises(TypeError, match="Received: nan for doc_id=1"):
        extract_pair_candidates(["Ann", float("nan")], m)
    with pytest.raises(ValueError, match="Received: 1 ids"):
        extract_pair_candidates(["a", "b"], m, ids=["x"])
    with pytest.raises(ValueError, match="Received: doc_id 'x' twice"):
        extract_pair_candidates(["a", "b"], m, ids=["x", "x"])
    with pytest.raises(ValueError, match="Received: max_chars_between=-1"):
        extract_pair_candidates(["a"], m, max_chars_between=-1)
    with pytest.raises(TypeError, match="not one string"):
        extract_pair_candidates("Ann met Ben Affleck", m)


def test_pair_candidates_flow_through_tf_data():
    c = extract_pair_candidates(SENTENCES, EntityMatcher(PEOPLE))
    ds = tf.data.Dataset.from_tensor_slices(PAIR_SPEC.features(c)).batch(8)
    batch = next(iter(ds))
    assert batch["between"].dtype == tf.string
    assert [b.decode() for b in batch["between"].numpy()] == c["between"].tolist()
    assert batch["entity2_end"].numpy().tolist() == [43, 23, 43, 43]


NAMES = ["Ann Lee", "Bo", "Bo Chen", "Cy"]
FILLERS = ["met", "the", "Boat", "Annex", "Lee", "cyan", "and"]
SEPS = [" ", ", ", " - ", "\n"]


@st.composite
def placed_texts(draw):
    """A text built from names and fillers, with the offsets of every name placed."""
    pieces = draw(st.lists(st.tuples(st.sampled_from(NAMES + FILLERS), st.sampled_from(SEPS)),
                           min_size=0, max_size=12))
    text, placed = "", []
    for word, sep in pieces:  # fillers never extend a name into a longer one
        start = len(text)
        text += word
        if word in NAMES:
            placed.append((start, len(text), word))
        text += sep
    return text, placed


@settings(max_examples=150, deadline=None)
@given(placed_texts(), st.booleans(), st.one_of(st.none(), st.integers(0, 30)))
def test_pair_candidates_property(sample, ordered, max_chars):
    text, placed = sample
    c = extract_pair_candidates([text], EntityMatcher(NAMES), ordered=ordered,
                                max_chars_between=max_chars)
    for r in c.itertuples():
        assert text[r.entity1_start:r.entity1_end] == r.entity1
        assert text[r.entity2_start:r.entity2_end] == r.entity2
        first_end = min(r.entity1_end, r.entity2_end)
        second_start = max(r.entity1_start, r.entity2_start)
        assert r.between == text[first_end:second_start]
        assert r.left == text[:min(r.entity1_start, r.entity2_start)]
        assert r.right == text[max(r.entity1_end, r.entity2_end):]
        if not ordered:
            assert r.between == text[r.entity1_end:r.entity2_start]
    expected = []
    for i, a in enumerate(placed):
        for b in placed[i + 1:]:
            if a[2] == b[2] or (max_chars is not None and b[0] - a[1] > max_chars):
                continue
            expected.append((a[0], b[0]))
            if ordered:
                expected.append((b[0], a[0]))
    assert list(zip(c["entity1_start"], c["entity2_start"])) == expected


# ------------------------------------------------------------------ splits


def test_split_sizes_partition_and_order():
    s = train_dev_test_split(100, dev_size=0.15, test_size=0.25, seed=3)
    assert isinstance(s, DataSplit)
    assert (len(s.train), len(s.dev), len(s.test)) == (60, 15, 25)
    assert np.array_equal(np.sort(np.concatenate(s)), np.arange(100))
    assert all(np.all(np.diff(p) > 0) for p in s) and s.train.dtype == np.int64
    s = train_dev_test_split(10, dev_size=0, test_size=3)
    assert (len(s.train), len(s.dev), len(s.test)) == (7, 0, 3)
    assert len(train_dev_test_split(7, dev_size=0.1, test_size=0.1).train) == 5  # ceil(0.7) = 1


def test_split_is_deterministic_for_a_seed():
    a = train_dev_test_split(200, seed=5)
    b = train_dev_test_split(200, seed=5)
    c = train_dev_test_split(200, seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a.test, c.test)


def test_split_is_stratified():
    y = np.random.default_rng(0).permutation(np.r_[np.zeros(900, int), np.ones(100, int)])
    s = train_dev_test_split(1000, y, dev_size=0.1, test_size=0.2, seed=0)
    assert [int(y[p].sum()) for p in s] == [70, 10, 20]
    assert [len(p) for p in s] == [700, 100, 200]
    three = np.repeat([0, 1, 2], [50, 30, 20])
    s = train_dev_test_split(100, three, dev_size=0.2, test_size=0.2, seed=1)
    assert [np.bincount(three[p]).tolist() for p in s] == [[30, 18, 12], [10, 6, 4], [10, 6, 4]]
    unstrat = train_dev_test_split(1000, y, dev_size=0.1, test_size=0.2, seed=0, stratify=False)
    assert [len(p) for p in unstrat] == [700, 100, 200]


def test_split_dataframe_keeps_index_and_accepts_column_name():
    df = pd.DataFrame({"text": [f"t{i}" for i in range(20)], "label": [0] * 10 + [1] * 10},
                      index=[f"id{i}" for i in range(20)])
    s = train_dev_test_split(df, "label", dev_size=0.2, test_size=0.2, seed=0)
    assert [len(p) for p in s] == [12, 4, 4]
    assert [int(p["label"].sum()) for p in s] == [6, 2, 2]
    pos = train_dev_test_split(20, df["label"].to_numpy(), dev_size=0.2, test_size=0.2, seed=0)
    assert s.dev.index.tolist() == [f"id{i}" for i in pos.dev]
    arr = train_dev_test_split(np.arange(20) * 10, dev_size=0.2, test_size=0.2, seed=0)
    pos = train_dev_test_split(20, dev_size=0.2, test_size=0.2, seed=0)
    assert arr.test.tolist() == (pos.test * 10).tolist()


def test_split_errors():
    with pytest.raises(ValueError, match="leaving no training row"):
        train_dev_test_split(10, dev_size=0.5, test_size=0.5)
    with pytest.raises(ValueError, match=r"in \[0, 1\)\. Received: test_size=1\.5"):
        train_dev_test_split(10, test_size=1.5)
    with pytest.raises(ValueError, match=r"Received shape: \(3,\)"):
        train_dev_test_split(10, [0, 1, 0])
    with pytest.raises(ValueError, match="stratified test part.*Pass stratify=False"):
        train_dev_test_split(10, [0] * 9 + [1], test_size=0.2)
    with pytest.raises(KeyError, match="names no column"):
        train_dev_test_split(pd.DataFrame({"a": [1, 2, 3]}), "label")
    with pytest.raises(TypeError, match="Received: list"):
        train_dev_test_split([1, 2, 3])


@pytest.mark.data
def test_split_youtube_train_keeps_spam_rate(youtube):
    frame, y = youtube.train.frame, youtube.train.y
    s = train_dev_test_split(frame, y, dev_size=0.1, test_size=0.2, seed=0)
    n = len(frame)
    n_test, n_dev = int(np.ceil(0.2 * n)), int(np.ceil(0.1 * n))
    assert [len(p) for p in s] == [n - n_test - n_dev, n_dev, n_test]
    pos = {k: frame.index.get_indexer(p.index) for k, p in s._asdict().items()}
    rate = y.mean()
    for k, p in pos.items():
        assert abs(y[p].mean() - rate) <= 1.0 / len(p), k
    assert sorted(np.concatenate(list(pos.values())).tolist()) == list(range(n))
