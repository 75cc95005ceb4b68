"""Python LFs: the LabelingFunction value object, the decorator and the Row an LF sees."""

from __future__ import annotations

import types

import pandas as pd
import pytest
import tensorflow as tf

from tfsnorkel.labeling import LabelingFunction, Row, labeling_function
from tfsnorkel.labels import ABSTAIN


def test_decorator_with_parentheses_defaults_name_and_text_field():
    @labeling_function()
    def has_link(x):
        return 1 if "http" in x.text else ABSTAIN

    assert isinstance(has_link, LabelingFunction)
    assert has_link.name == "has_link"
    assert has_link.fields == {"text": tf.string}
    assert has_link({"text": "see http://x"}) == 1
    assert has_link({"text": "nice"}) == ABSTAIN


def test_bare_decorator_works_too():
    @labeling_function
    def short(x):
        return 0 if len(x.text.split()) < 5 else -1

    assert isinstance(short, LabelingFunction)
    assert short.name == "short"
    assert short({"text": "cool video"}) == 0


def test_named_lf_with_resources_and_fields():
    @labeling_function("in_kb", fields={"author": "string", "stars": "float64"},
                       resources={"known": {"bob"}})
    def lf(x, known):
        return 1 if x.author in known and x.stars > 4 else -1

    assert lf.name == "in_kb"
    assert lf.fields == {"author": tf.string, "stars": tf.float64}
    assert lf({"author": "bob", "stars": 5.0}) == 1
    assert lf({"author": "al", "stars": 5.0}) == -1


def test_row_attribute_and_mapping_access_and_other_row_types():
    lf = LabelingFunction("t", lambda x: 1 if x.text == x["text"] == "a" else -1)
    assert lf(Row({"text": "a"})) == 1
    assert lf(pd.Series({"text": "a"})) == 1
    assert lf({"text": "b"}) == -1
    ns = types.SimpleNamespace(text="a")
    assert LabelingFunction("u", lambda x: 1 if x.text == "a" else -1)(ns) == 1


def test_row_names_undeclared_field_and_is_read_only():
    row = Row({"text": "a"})
    with pytest.raises(AttributeError, match=r"no field 'author'.*fields=\[\.\.\.\].*\['text'\]"):
        row.author
    with pytest.raises(KeyError, match="no field 'author'"):
        row["author"]
    with pytest.raises(AttributeError, match="read-only"):
        row.text = "b"
    assert dict(row) == {"text": "a"} and len(row) == 1


def test_friendly_errors():
    with pytest.raises(ValueError, match="lambda has no usable name"):
        labeling_function()(lambda x: 1)
    with pytest.raises(TypeError, match="must decorate a function"):
        labeling_function()(3)
    with pytest.raises(TypeError, match="name.*string.*Received: name=3"):
        labeling_function(3)
    with pytest.raises(TypeError, match=r"f\(x, \*\*resources\).*Received: signature"):
        LabelingFunction("no_args", lambda: 1)
    with pytest.raises(TypeError, match="resources=\\['missing'\\]"):
        LabelingFunction("res", lambda x: 1, resources={"missing": 1})
    with pytest.raises(ValueError, match="on_missing"):
        LabelingFunction("m", lambda x: 1, on_missing="skip")
    with pytest.raises(TypeError, match="non-empty string"):
        LabelingFunction("", lambda x: 1)
    with pytest.raises(ValueError, match="at least one field"):
        LabelingFunction("nofields", lambda x: 1, fields=[])
    with pytest.raises(TypeError, match="unknown dtype"):
        LabelingFunction("badtype", lambda x: 1, fields={"a": "nonsense"})
