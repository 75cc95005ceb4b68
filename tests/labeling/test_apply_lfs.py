"""Appliers: pandas, dict of arrays, tf.data (examples or batches), streaming, missing values,
fault tolerance, progress bar, empty data."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from tfsnorkel.labeling import (
    LabelingFunctionError,
    LFSet,
    classifier_lf,
    column_lf,
    iter_label_batches,
    keyword_lf,
    labeling_function,
    length_lf,
    lookup_lf,
    regex_lf,
    threshold_lf,
)


def text_kinds():
    """One LF of every kind that reads text; each would fire on the strings 'nan'/'None'/''."""
    return [
        keyword_lf(["nan", "none"], 1, match="substring", name="kw"),
        regex_lf(r"^(nan|None)?$", 1, name="rx"),
        length_lf("text", 0, max_words=3, name="short"),
        length_lf("text", 0, max_chars=10, name="few_chars"),
        lookup_lf({"nan", "None", ""}, field="text", label=1, name="kb"),
        classifier_lf(lambda t: tf.ones_like(t, tf.float32), name="clf"),
        labeling_function("py")(lambda x: 1),
    ]


def test_missing_text_abstains_for_every_kind_in_pandas_and_dict():
    lfs = LFSet(text_kinds())
    df = pd.DataFrame({"text": ["nan", None, np.nan, "None", pd.NA, ""]})
    L = lfs.apply(df)
    assert L.shape == (6, 7) and L.dtype == np.int32
    fired = [1, 1, 0, 0, 1, 1, 1]
    for row in (0, 3):  # the literal strings are real text
        assert L[row].tolist() == fired
    for row in (1, 2, 4):  # missing values: every LF abstains
        assert L[row].tolist() == [-1] * 7
    assert L[5].tolist() == [-1, 1, 0, 0, 1, 1, 1]  # "" is text, not missing
    np.testing.assert_array_equal(lfs.apply({"text": df["text"].tolist()}), L)
    np.testing.assert_array_equal(lfs.apply({"text": df["text"].to_numpy()}), L)


def test_on_missing_pass_gives_none_and_numeric_nan_abstains():
    seen = labeling_function("seen", on_missing="pass")(lambda x: 1 if x.text is None else 0)
    lfs = LFSet([seen, threshold_lf("p", 1, below=5.0), column_lf("w", {"spam": 1, "ham": 0})])
    df = pd.DataFrame({"text": ["a", None], "p": [1.0, None], "w": [None, "ham"]})
    assert lfs.apply(df).tolist() == [[0, 1, -1], [1, -1, 0]]
    nullable = pd.DataFrame({"text": ["a", "b"], "p": pd.array([1, None], dtype="Int64"),
                             "w": ["spam", "x"]})
    assert lfs.apply(nullable).tolist() == [[0, 1, 1], [0, -1, -1]]


def test_tf_data_examples_and_batches_and_ds_map():
    lfs = LFSet([keyword_lf("song", 0), regex_lf(r"check.*out", 1, ignore_case=True),
                 labeling_function("py")(lambda x: 1 if "!" in x.text else -1)])
    texts = ["great song!", "check it out", "meh", "Check this song out!"] * 5
    expected = [[0, -1, 1], [-1, 1, -1], [-1, -1, -1], [0, 1, 1]] * 5
    examples = tf.data.Dataset.from_tensor_slices({"text": texts, "id": list(range(20))})
    assert lfs.apply(examples, batch_size=3).tolist() == expected
    assert lfs.apply(examples.batch(7)).tolist() == expected
    frame = pd.DataFrame({"text": texts})
    assert lfs.apply(frame, batch_size=6, num_parallel_calls=2).tolist() == expected


def test_stream_yields_feature_batches_with_their_votes():
    lfs = LFSet([keyword_lf("song", 0)])
    df = pd.DataFrame({"text": ["a song", "b", None, "song"], "extra": [1, 2, 3, 4]})
    out = list(lfs.stream(df, batch_size=3))
    assert [len(x) for x, _ in out] == [3, 1]
    assert out[0][0]["extra"].tolist() == [1, 2, 3]  # original rows, all columns
    assert np.concatenate([L for _, L in out]).ravel().tolist() == [0, -1, -1, 0]
    ds = tf.data.Dataset.from_tensor_slices({"text": ["song", "x", "song"]})
    batches = list(iter_label_batches(lfs, ds, batch_size=2))
    assert [b[0]["text"].tolist() for b in batches] == [[b"song", b"x"], [b"song"]]
    assert [b[1].ravel().tolist() for b in batches] == [[0, -1], [0]]
    d = {"text": np.array(["x", "song"], dtype=object)}
    assert [(f["text"].tolist(), L.tolist()) for f, L in lfs.stream(d, 1)] == [
        (["x"], [[-1]]), (["song"], [[0]])]


def test_fault_tolerant_abstains_counts_and_warns():
    @labeling_function()
    def fragile(x):
        return 1 if int(x.text) > 2 else 0

    lfs = LFSet([keyword_lf("1", 1, match="substring", name="kw1"), fragile])
    data = {"text": ["1", "x", "3", "y", "5"]}
    with pytest.raises(LabelingFunctionError,
                       match=r"LF 'fragile' raised ValueError: invalid literal.*row 1"):
        lfs.apply(data)
    with pytest.warns(RuntimeWarning, match=r"'fragile': 2 rows"):
        L = lfs.apply(data, fault_tolerant=True, batch_size=2)
    assert L.tolist() == [[1, 0], [-1, -1], [-1, 1], [-1, -1], [-1, 1]]
    assert lfs.failures_ == {"fragile": 2}
    ds = tf.data.Dataset.from_tensor_slices(data).batch(2)
    with pytest.raises(LabelingFunctionError, match=r"LF 'fragile'.*on row 1 of batch 0"):
        lfs.apply(ds)
    # the flag is restored: a direct call is strict again
    with pytest.raises(LabelingFunctionError, match="row 1 of the batch"):
        lfs({"text": tf.constant(["1", "x"])})


def test_empty_data_and_bad_inputs():
    lfs = LFSet([keyword_lf("a", 1)])
    with pytest.raises(ValueError, match=r"empty dataset. Received: DataFrame with 0 rows"):
        lfs.apply(pd.DataFrame({"text": []}))
    with pytest.raises(ValueError, match=r"empty dataset. Received: a dataset with 0 rows"):
        lfs.apply(tf.data.Dataset.from_tensor_slices({"text": tf.constant([], tf.string)}))
    with pytest.raises(KeyError, match=r"LF 'keyword_a' reads field 'text', which the data lacks. "
                                       r"Available fields: \['body'\]"):
        lfs.apply(pd.DataFrame({"body": ["a"]}))
    with pytest.raises(KeyError, match=r"which the dataset lacks. Available fields: \['body'\]"):
        lfs.apply(tf.data.Dataset.from_tensor_slices({"body": ["a"]}))
    with pytest.raises(TypeError, match="pandas DataFrame, a dict"):
        lfs.apply(["a", "b"])
    with pytest.raises(ValueError,
                       match="batch_size must be a positive integer. Received: batch_size=0"):
        lfs.apply({"text": ["a"]}, batch_size=0)
    with pytest.raises(ValueError, match="different lengths"):
        two = LFSet([keyword_lf("a", 1), threshold_lf("p", 0, above=1)])
        two.apply({"text": ["a"], "p": [1, 2]})
    with pytest.raises(TypeError, match=r"reads 'text' as text, but the column holds numbers"):
        lfs.apply({"text": [1.0, 2.0]})
    with pytest.raises(TypeError, match=r"reads 'p' as a number.*Received: 'high'"):
        LFSet([threshold_lf("p", 0, above=1)]).apply({"p": ["high", None]})


def test_progress_bar(capsys):
    lfs = LFSet([keyword_lf("a", 1)])
    lfs.apply({"text": ["a", "b", "c"]}, batch_size=1, progress=True)
    assert "3/3" in capsys.readouterr().out
    lfs.apply({"text": ["a", "b", "c"]}, batch_size=1)
    assert capsys.readouterr().out == ""


def test_python_lfs_equal_compiled_lfs_on_youtube(youtube):
    """The numpy_function path and the compiled path give the same matrix on real data."""
    import re

    @labeling_function()
    def py_check_out(x):
        return 1 if re.search(r"check.*out", x.text, flags=re.I) else -1

    @labeling_function()
    def py_short(x):
        return 0 if len(x.text.split()) < 5 else -1

    @labeling_function(resources={"words": ("please", "plz")})
    def py_please(x, words):
        return 1 if any(w in x.text.lower() for w in words) else -1

    compiled = LFSet([regex_lf(r"check.*out", 1, ignore_case=True),
                      length_lf("text", 0, max_words=4),
                      keyword_lf(["please", "plz"], 1, match="substring")])
    python = LFSet([py_check_out, py_short, py_please])
    frame = youtube.train.frame
    L_py = python.apply(frame, batch_size=512)
    np.testing.assert_array_equal(L_py, compiled.apply(frame))
    np.testing.assert_array_equal(L_py, youtube.train.L[:, [5, 6, 3]])


def test_chunk_iterators_like_read_csv_chunksize(tmp_path):
    @labeling_function()
    def needs_digit(x):
        return 1 if int(x.text[-1]) > 4 else 0

    lfs = LFSet([keyword_lf("song", 0), needs_digit])
    texts = [f"song {i}" if i % 3 == 0 else f"row {i}" for i in range(10)]
    path = tmp_path / "data.csv"
    pd.DataFrame({"text": texts}).to_csv(path, index=False)
    expected = lfs.apply(pd.DataFrame({"text": texts}))
    with pd.read_csv(path, chunksize=4) as reader:
        L = lfs.apply(reader, batch_size=3)
    np.testing.assert_array_equal(L, expected)
    assert L[:, 1].tolist() == [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]
    chunks = iter([{"text": texts[:6]}, {"text": []}, {"text": texts[6:]}])
    pieces = list(lfs.stream(chunks, batch_size=4))
    assert [len(f["text"]) for f, _ in pieces] == [4, 2, 4]
    np.testing.assert_array_equal(np.concatenate([L for _, L in pieces]), expected)
    bad = iter([pd.DataFrame({"text": texts[:6]}), pd.DataFrame({"text": ["row x"]})])
    with pytest.raises(LabelingFunctionError,
                       match=r"LF 'needs_digit' raised ValueError.*on row 6"):
        lfs.apply(bad)
    with pytest.warns(RuntimeWarning, match="'needs_digit': 2 rows"):
        L = lfs.apply(iter([pd.DataFrame({"text": ["a", "b1"]}), pd.DataFrame({"text": ["c"]})]),
                      fault_tolerant=True)
    assert L[:, 1].tolist() == [-1, 0, -1] and lfs.failures_ == {"needs_digit": 2}
    with pytest.raises(ValueError, match="no rows in any chunk"):
        lfs.apply(iter([]))


def test_a_run_that_stops_early_ends_its_python_lfs_first():
    """An error (or a consumer that stops reading) ends the dataset before its next batch and runs
    out the batches already in flight, so no Python LF is left waiting for the GIL when the
    iterator is destroyed (that wait hung ~1 in 10 CLI runs): the LF ran on a handful of the
    500 batches, and on none once the call returned."""
    calls = []

    @labeling_function()
    def boom(x):
        calls.append(1)
        if x.text == "boom":
            raise ValueError("boom")
        return -1

    lfs = LFSet([boom])
    texts = ["ok"] * 2000
    texts[7] = "boom"
    with pytest.raises(LabelingFunctionError, match=r"LF 'boom' raised ValueError: boom on row 7"):
        lfs.apply({"text": np.array(texts, dtype=object)}, batch_size=4, num_parallel_calls=2)
    after_error = len(calls)
    assert 8 <= after_error <= 4 * 40, after_error
    stream = iter_label_batches(lfs, {"text": np.array(["ok"] * 2000, dtype=object)}, 4)
    first, L = next(stream)
    assert L.shape == (4, 1) and len(first["text"]) == 4
    stream.close()
    done = len(calls)
    assert done - after_error <= 4 * 40, done - after_error
    time.sleep(0.5)
    assert len(calls) == done  # nothing still running after close()
