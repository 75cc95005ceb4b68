"""LFSet: one tf.function for all LFs, validation with clear errors, signed sets, export."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfsnorkel.labeling import (
    LabelingFunctionError,
    LFSet,
    classifier_lf,
    column_lf,
    keyword_lf,
    labeling_function,
    length_lf,
    lookup_lf,
    threshold_lf,
)


@labeling_function()
def mentions_video(x):
    return 0 if "video" in x.text.lower() else -1


@labeling_function(fields={"stars": "float64"})
def many_stars(x):
    return 1 if x.stars >= 4 else -1


def make_set():
    return LFSet([
        keyword_lf("subscribe", 1, match="substring", name="kw_sub"),
        mentions_video,
        threshold_lf("stars", 0, below=2.0, name="low_stars"),
        many_stars,
        lookup_lf({"bob"}, field="author", label=1, name="known_spammer"),
    ], cardinality=2)


FEATS = {
    "text": ["Subscribe to my video", "nice", "great VIDEO"],
    "stars": np.array([5.0, 1.0, 3.0]),
    "author": ["bob", "al", "eve"],
    "other": [1, 2, 3],
}
EXPECTED = [[1, 0, -1, 1, 1], [-1, -1, 0, -1, -1], [-1, 0, -1, -1, -1]]


def test_interface_names_fields_signature():
    lfs = make_set()
    assert lfs.names == ["kw_sub", "mentions_video", "low_stars", "many_stars", "known_spammer"]
    assert lfs.cardinality == 2 and len(lfs) == 5 and not lfs.signed
    assert lfs.fields == {"text": tf.string, "stars": tf.float64, "author": tf.string}
    assert lfs.python_lf_names == ["mentions_video", "many_stars"]
    sig = lfs.input_signature()
    assert sig["stars"] == tf.TensorSpec([None], tf.float64, name="stars")
    assert isinstance(lfs, tf.Module)


def test_call_eager_tf_function_and_ds_map_agree():
    lfs = make_set()
    tensors = {k: tf.constant(v) for k, v in FEATS.items()}
    eager = lfs(tensors)
    assert eager.dtype == tf.int32 and eager.shape == (3, 5)
    assert eager.numpy().tolist() == EXPECTED
    assert tf.function(lambda f: lfs(f))(tensors).numpy().tolist() == EXPECTED
    ds = tf.data.Dataset.from_tensor_slices(tensors).batch(2).map(
        lfs, num_parallel_calls=2, deterministic=True)
    assert np.concatenate([b.numpy() for b in ds]).tolist() == EXPECTED
    # numpy / list inputs are converted like the appliers do
    assert lfs(FEATS).numpy().tolist() == EXPECTED


def test_duplicate_names_and_non_lf_items():
    with pytest.raises(ValueError, match=r"duplicate LF name 'kw'.*positions 0 and 1"):
        LFSet([keyword_lf("a", 1, name="kw"), keyword_lf("b", 0, name="kw")])
    with pytest.raises(TypeError, match=r"item 0 is not a labeling function.*@labeling_function"):
        LFSet([lambda x: 1])
    with pytest.raises(ValueError, match="at least one"):
        LFSet([])
    with pytest.raises(ValueError, match="cardinality must be an integer >= 2"):
        LFSet([keyword_lf("a", 1)], cardinality=1)


def test_missing_field_names_lf_field_and_available_fields():
    lfs = make_set()
    with pytest.raises(KeyError, match=r"LF 'low_stars' reads field 'stars'.*Available fields: "
                                       r"\['author', 'text'\]"):
        lfs({"text": tf.constant(["a"]), "author": tf.constant(["b"])})
    with pytest.raises(TypeError, match=r"LF 'low_stars' reads field 'stars' as float64.*string"):
        lfs({"text": tf.constant(["a"]), "author": tf.constant(["b"]), "stars": tf.constant(["x"])})
    with pytest.raises(ValueError, match="1-D tensor"):
        lfs({"text": tf.constant([["a"]]), "author": tf.constant(["b"]),
             "stars": tf.constant([1.0])})


def test_compiled_label_outside_cardinality_is_rejected_at_construction():
    with pytest.raises(ValueError, match=r"LF 'kw' votes 3, outside the labels.*cardinality=3"):
        LFSet([keyword_lf("a", 3, name="kw")], cardinality=3)


@pytest.mark.parametrize(
    "ret, err, match",
    [
        (2, ValueError,
         r"LF 'bad' returned 2 on row 1 of the batch; votes must be ABSTAIN \(-1\) or 0\.\.1"),
        (-3, ValueError, r"LF 'bad' returned -3 on row 1"),
        (1.0, TypeError, r"LF 'bad' returned a non-integer label 1\.0 on row 1"),
        (None, TypeError,
         r"returned a non-integer label None \(did it forget to return ABSTAIN\?\)"),
        (True, TypeError, r"non-integer label True"),
    ],
)
def test_python_lf_bad_outputs_name_lf_and_row(ret, err, match):
    bad = labeling_function("bad")(lambda x: ret if x.text == "b" else -1)
    lfs = LFSet([bad])
    with pytest.raises(err, match=match):
        lfs({"text": tf.constant(["a", "b"])})
    with pytest.raises(err, match=match.replace("row 1 of the batch", "row 1")):
        lfs.apply({"text": ["a", "b"]})


def test_python_lf_exception_names_lf_row_and_original_error():
    @labeling_function()
    def fragile(x):
        return 1 if 1 / (len(x.text) - 3) > 0 else 0

    lfs = LFSet([keyword_lf("a", 1), fragile])
    with pytest.raises(LabelingFunctionError,
                       match=r"LF 'fragile' raised ZeroDivisionError: division by zero on row 2"
                             r".*fault_tolerant=True.*Received: text='abc'") as info:
        lfs.apply({"text": ["a", "abcd", "abc", "x"]}, batch_size=2)
    assert isinstance(info.value.__cause__, ZeroDivisionError)


def test_compiled_run_time_labels_are_range_checked_with_lf_and_row():
    lfs = LFSet([column_lf("w"), keyword_lf("a", 1)], cardinality=2)
    with pytest.raises(ValueError,
                       match=r"LF 'w' voted 5 at row 1 of the batch; votes must be in \[-1, 1\]"):
        lfs({"w": tf.constant([1.0, 5.0]), "text": tf.constant(["a", "b"])})
    with pytest.raises(ValueError, match=r"LF 'w' voted 5 at row 3;"):
        lfs.apply({"w": np.array([1.0, 0.0, -1.0, 5.0]), "text": ["a"] * 4}, batch_size=2)
    with pytest.raises(TypeError, match=r"LF 'w' returned a non-integer label at row 0"):
        lfs.apply({"w": np.array([0.5, 0.0]), "text": ["a"] * 2})


def test_signed_set_converts_like_from_signed():
    @labeling_function()
    def signed_py(x):
        return {"pos": 1, "neg": -1}.get(x.text, 0)

    lfs = LFSet([keyword_lf("pos", 1, name="kp"), keyword_lf("neg", -1, name="kn"), signed_py,
                 column_lf("w")], signed=True)
    out = lfs({"text": tf.constant(["pos", "neg", "other"]), "w": tf.constant([-1.0, 0.0, 1.0])})
    assert out.numpy().tolist() == [[1, -1, 1, 0], [-1, 0, 0, -1], [-1, -1, -1, 1]]
    with pytest.raises(ValueError, match=r"LF 'k0' votes 0, outside the labels.*\[-1, 1\].*signed"):
        LFSet([keyword_lf("x", 0, name="k0")], signed=True)
    with pytest.raises(ValueError, match="needs cardinality=2"):
        LFSet([keyword_lf("x", 1)], cardinality=3, signed=True)
    with pytest.raises(ValueError, match=r"labels=\(-1, 1\)"):
        LFSet([classifier_lf(lambda t: tf.zeros_like(t, tf.float32), name="c")], signed=True)
    bad = labeling_function("two")(lambda x: 2)
    with pytest.raises(ValueError, match=r"LF 'two' returned 2.*\+1, -1 or 0 \(signed\)"):
        LFSet([bad], signed=True)({"text": tf.constant(["a"])})


def test_field_dtype_merging():
    num_py = labeling_function("s32", fields={"stars": "float32"})(lambda x: -1)
    lfs = LFSet([num_py, threshold_lf("stars", 1, above=1)])
    assert lfs.fields == {"stars": tf.float64}
    text_reader = labeling_function("txt", fields="stars")(lambda x: -1)
    with pytest.raises(TypeError,
                       match=r"incompatible dtypes: 'txt' as string, 'threshold_stars' as float64"):
        LFSet([text_reader, threshold_lf("stars", 1, above=1)])


def test_saved_model_export_with_lookup_table_and_keras_classifier(tmp_path):
    import keras

    inp = keras.Input(shape=(), dtype="string")
    hot = keras.layers.TextVectorization(vocabulary=["hi", "there"], output_mode="multi_hot")(inp)
    out = keras.layers.Dense(1, activation="sigmoid", kernel_initializer="ones",
                             bias_initializer=keras.initializers.Constant(-1.5))(hot)
    clf = classifier_lf(keras.Model(inp, out), "text", low=0.4, high=0.6, name="clf")
    lfs = LFSet([lookup_lf({"bob": 1, "al": 0}, field="author"), keyword_lf("hi", 1),
                 length_lf("text", 0, max_words=1), clf])
    module = tf.Module()
    module.lfs = lfs
    module.votes = tf.function(lambda f: lfs(f), input_signature=[lfs.input_signature()])
    tf.saved_model.save(module, str(tmp_path / "m"))
    loaded = tf.saved_model.load(str(tmp_path / "m"))
    feats = {"author": tf.constant(["bob", "x", "al"]),
             "text": tf.constant(["hi there", "a", "b c"])}
    np.testing.assert_array_equal(loaded.votes(feats).numpy(), lfs(feats).numpy())
    # clf: sigmoid(2 - 1.5) = 0.62 -> 1; sigmoid(1 - 1.5) = 0.38 -> 0 (only OOV tokens)
    assert loaded.votes(feats).numpy().tolist() == [[1, 1, -1, 1], [-1, -1, 0, 0], [0, -1, -1, 0]]
    ckpt = str(tmp_path / "m" / "variables" / "variables")
    saved = [name for name, _ in tf.train.list_variables(ckpt)]
    assert any("/3/model/" in name and "kernel" in name for name in saved), saved
