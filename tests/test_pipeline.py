"""run_pipeline and `tfsnorkel pipeline`: every stage on a user's data in one call, on real data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import tfsnorkel as ts
from tfsnorkel.labels import ABSTAIN

from test_cli import SPAM_LFS, assert_one_line_error, run_cli


@pytest.fixture(scope="module")
def youtube_frames(youtube):
    return youtube.train.frame, youtube.valid.frame.assign(label=youtube.valid.y)


@pytest.fixture(scope="module")
def result(youtube_frames, tmp_path_factory):
    train, dev = youtube_frames
    out = tmp_path_factory.mktemp("pipeline")
    lfs = ts.LFSet(ts.spam_lfs(), cardinality=2)
    # soft targets: the soft/hard choice of "auto" is tested in tests/classify
    return out, ts.run_pipeline(train, lfs, dev=dev, gold_column="label", out_dir=out,
                                label_type="soft", verbose=False)


@pytest.mark.data
def test_every_stage_equals_calling_it_by_hand(youtube, result):
    out, r = result
    lfs = ts.LFSet(ts.spam_lfs(), cardinality=2)
    np.testing.assert_array_equal(r.L, youtube.train.L[:, :7])  # the shipped tutorial columns
    L_dev = lfs.apply(youtube.valid.frame)
    lm = ts.LabelModel(2, seed=0).fit(r.L, L_dev, youtube.valid.y)  # the dev set used fully
    np.testing.assert_allclose(r.soft_labels, lm.predict_proba(r.L), atol=1e-6)
    expected = ts.lf_summary(L_dev, lfs, y=youtube.valid.y)
    pd.testing.assert_frame_equal(r.summary, expected)
    assert r.scores["label_model"] == ts.evaluate(
        youtube.valid.y, lm.predict_proba(L_dev), ["accuracy", "f1"], cardinality=2
    )
    # Measured on the gold test split, which the pipeline never saw: classifier 0.920.
    probs = ts.predict_proba(r.classifier, youtube.test.frame["text"])
    test_acc = ts.metric_score(youtube.test.y, probs)
    assert test_acc >= 0.9
    assert r.skipped_python_lfs == []


@pytest.mark.data
def test_writes_every_artefact_and_one_servable_savedmodel(youtube, result):
    out, r = result
    for name in ("L.npy", "soft_labels.npy", "label_model.keras", "lf_summary.csv",
                 "classifier.keras", "metrics_dev.json"):
        assert (out / name).is_file(), name
    np.testing.assert_array_equal(np.load(out / "L.npy"), r.L)
    assert json.loads((out / "metrics_dev.json").read_text()) == r.scores
    assert r.export_signatures == {"serving_default": ["text"], "weak_label": ["text"]}
    assert ts.find_pyfunc_ops(out / "saved_model") == []
    served = tf.saved_model.load(str(out / "saved_model"))
    texts = tf.constant(youtube.train.frame["text"].to_numpy()[:16].astype(str))
    weak = served.signatures["weak_label"](text=texts)
    np.testing.assert_array_equal(weak["votes"].numpy(), r.L[:16])
    np.testing.assert_allclose(weak["soft_labels"].numpy(), r.soft_labels[:16], atol=1e-5)
    probs = served.signatures["serving_default"](text=texts)["probabilities"].numpy()
    np.testing.assert_allclose(probs, ts.predict_proba(r.classifier, texts.numpy()), atol=1e-5)


@pytest.mark.data
def test_python_lfs_are_applied_but_left_out_of_the_savedmodel(youtube_frames, tmp_path):
    train, _ = youtube_frames

    @ts.labeling_function(fields=["text"])
    def many_exclamations(x):
        return 1 if x.text.count("!") >= 3 else ABSTAIN

    lfs = ts.LFSet([*ts.spam_lfs(), many_exclamations], cardinality=2)
    r = ts.run_pipeline(train, lfs, text_column=None, out_dir=tmp_path, verbose=False)
    assert r.L.shape == (len(train), 8) and r.classifier is None and r.scores == {}
    assert r.skipped_python_lfs == ["many_exclamations"]
    assert r.export_signatures == {}  # no classifier and no servable LF set: nothing to serve
    assert not (tmp_path / "saved_model").exists()
    assert (tmp_path / "label_model.keras").is_file()


def test_bad_arguments_name_the_column_or_the_pairing():
    lfs = ts.LFSet([ts.keyword_lf("free", label=1, field="body")], cardinality=2)
    df = pd.DataFrame({"body": ["free", "hi"], "text": ["a", "b"]})
    with pytest.raises(ValueError, match="dev and gold_column together"):
        ts.run_pipeline(df, lfs, dev=df, verbose=False)
    with pytest.raises(ValueError, match=r"column 'body' not found in data"):
        ts.run_pipeline(df.drop(columns="body"), lfs, verbose=False)
    with pytest.raises(ValueError, match=r"column 'label' not found in dev"):
        ts.run_pipeline(df, lfs, dev=df, gold_column="label", verbose=False)
    with pytest.raises(ValueError, match=r"Received: y\[1\]=7"):
        ts.run_pipeline(df, lfs, dev=df.assign(label=[0, 7]), gold_column="label", verbose=False)


@pytest.mark.data
@pytest.mark.slow  # a fresh CLI process running the whole pipeline on youtube
def test_cli_pipeline_on_files(youtube, tmp_path, cli):
    data, dev = tmp_path / "comments.jsonl", tmp_path / "dev.csv"
    youtube.train.frame.to_json(data, orient="records", lines=True)
    youtube.valid.frame.assign(label=youtube.valid.y).to_csv(dev, index=False)
    out = tmp_path / "out"
    # 2 epochs: this checks the files and the SavedModel of the command, not the classifier's
    # accuracy (test_every_stage_equals_calling_it_by_hand does, on the same data)
    proc = run_cli("pipeline", "--quiet", "--input", str(data), "--lfs", str(SPAM_LFS),
                   "--dev-input", str(dev), "--dev-gold-column", "label", "--epochs", "2",
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    scores = json.loads((out / "metrics_dev.json").read_text())
    assert set(scores) == {"majority_vote", "label_model", "classifier"}
    assert np.load(out / "L.npy").shape == (len(youtube.train.frame), 9)
    served = tf.saved_model.load(str(out / "saved_model"))
    assert set(served.signatures) == {"serving_default", "weak_label"}

    proc = cli("pipeline", "--input", str(data), "--lfs", str(SPAM_LFS), "--out", str(out),
                   "--text-column", "body")
    assert_one_line_error(proc, "column 'body' not found in")
    proc = cli("pipeline", "--input", str(data), "--lfs", str(SPAM_LFS), "--out", str(out),
                   "--dev-input", str(dev))
    assert_one_line_error(proc, "give --dev-input and --dev-gold-column together")
