"""Regression tests of issue 11: inputs that gave silently wrong results, lost data or crashed.

Each test reproduces one reported case (it failed before the fix) and checks the fixed
behaviour with exact values. The CLI is driven in-process (``tfsnorkel.cli.main``) to keep the
suite fast; tests/test_cli.py drives it as a subprocess.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import tensorflow as tf

import tfsnorkel as ts
from tfsnorkel import datasets, export
from tfsnorkel.cli import main
from tfsnorkel.labeling.lfset import LabelingFunctionError

HAM, SPAM = 0, 1
TEXTS = [
    "check out my channel", "nice song", "subscribe to my channel", "love this song",
    "free gift card http", "great video", "my new song is out", "so good",
] * 25
LF_FILE = """
import tfsnorkel as ts
cardinality = 2
lfs = [
    ts.keyword_lf("my", label=1, field="text", match="substring", name="kw_my"),
    ts.keyword_lf("song", label=0, field="text", name="kw_song"),
    ts.keyword_lf(["subscribe", "free"], label=1, field="text", name="kw_sub"),
    ts.length_lf("text", label=0, max_words=2, name="short"),
]
"""


def lf_names_path(label_matrix: Path) -> Path:
    """Where `tfsnorkel apply` records the LF names of ``L.npy``: ``L.lfs.json``."""
    return label_matrix.with_name(label_matrix.stem + ".lfs.json")


def make_lfs() -> ts.LFSet:
    return ts.LFSet([
        ts.keyword_lf("my", label=SPAM, field="text", match="substring", name="kw_my"),
        ts.keyword_lf("song", label=HAM, field="text", name="kw_song"),
        ts.keyword_lf(["subscribe", "free"], label=SPAM, field="text", name="kw_sub"),
        ts.length_lf("text", label=HAM, max_words=2, name="short"),
    ], cardinality=2)


@pytest.fixture(scope="module")
def lfs():
    return make_lfs()


@pytest.fixture(scope="module")
def fitted(lfs):
    L = lfs.apply({"text": TEXTS})
    return L, ts.LabelModel(2, seed=0).fit(L, lf_names=lfs.names)


@pytest.fixture(scope="module")
def clf():
    keras.utils.set_random_seed(0)
    return ts.text_classifier(2, adapt_data=TEXTS, max_tokens=64)


@pytest.fixture(scope="module")
def files(tmp_path_factory, fitted, clf):
    """LF files (as written and reordered), a data file, L.npy via `apply`, lm.keras, clf.keras."""
    d = tmp_path_factory.mktemp("cli")
    (d / "lfs.py").write_text(LF_FILE)
    lines = LF_FILE.strip().splitlines()
    body = lines[3:-1]
    (d / "lfs_reordered.py").write_text("\n".join(lines[:3] + body[::-1] + lines[-1:]) + "\n")
    pd.DataFrame({"text": TEXTS}).to_csv(d / "data.csv", index=False)
    assert main(["apply", "--quiet", "--input", str(d / "data.csv"), "--lfs", str(d / "lfs.py"),
                 "--out", str(d / "L.npy")]) == 0
    assert main(["fit", "--quiet", "--label-matrix", str(d / "L.npy"),
                 "--out", str(d / "lm.keras")]) == 0
    clf.save(d / "clf.keras")
    return d


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("tfsnorkel: error:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# ----------------------------------------------------------------------------- item 1
def test_export_refuses_a_reordered_lf_set(fitted, lfs, tmp_path):
    _, lm = fitted
    reordered = ts.LFSet(list(lfs.lfs)[::-1], cardinality=2)
    with pytest.raises(ValueError, match=r"column 0 is LF 'short' in the LF set but 'kw_my'"):
        ts.export_pipeline(tmp_path / "sm", lfset=reordered, label_model=lm)
    assert not (tmp_path / "sm").exists()
    three = ts.LFSet(list(lfs.lfs)[:3], cardinality=2)
    with pytest.raises(ValueError, match="it has 3 LFs, the label model was fitted on 4"):
        ts.export_pipeline(tmp_path / "sm", lfset=three, label_model=lm)
    multi = ts.LFSet(list(lfs.lfs), cardinality=3)
    with pytest.raises(ValueError, match="it has cardinality 3, the label model 2"):
        ts.export_pipeline(tmp_path / "sm", lfset=multi, label_model=lm)


def test_export_warns_when_the_label_model_does_not_know_its_lfs(fitted, lfs, tmp_path):
    L, _ = fitted
    anonymous = ts.LabelModel(2, seed=0).fit(L)
    with pytest.warns(UserWarning, match="only their number was checked"):
        ts.export_pipeline(tmp_path / "sm", lfset=lfs, label_model=anonymous)


def test_pipeline_records_the_lf_names_and_checks_them(lfs, tmp_path):
    r = ts.run_pipeline(pd.DataFrame({"text": TEXTS}), lfs, text_column=None, verbose=False)
    assert r.label_model.lf_names == lfs.names
    with pytest.raises(ValueError, match="does not match the label model"):
        ts.export_pipeline(tmp_path / "sm", lfset=ts.LFSet(list(lfs.lfs)[::-1]),
                           label_model=r.label_model)


def test_cli_apply_records_names_fit_keeps_them_export_checks_them(files, capsys):
    record = json.loads(lf_names_path(files / "L.npy").read_text())
    assert record["lf_names"] == ["kw_my", "kw_song", "kw_sub", "short"]
    assert record["cardinality"] == 2
    assert ts.LabelModel.load(files / "lm.keras").lf_names == record["lf_names"]
    capsys.readouterr()
    code = main(["export", "--lfs", str(files / "lfs_reordered.py"), "--label-model",
                 str(files / "lm.keras"), "--out", str(files / "sm_bad")])
    assert code == 2
    line = error_line(capsys)
    assert "column 0 is LF 'short' in the LF set but 'kw_my' in the label model" in line
    assert not (files / "sm_bad").exists()
    # fit --lfs names the LFs itself, and refuses a file that does not match the matrix.
    assert main(["fit", "--quiet", "--label-matrix", str(files / "L.npy"), "--lfs",
                 str(files / "lfs.py"), "--out", str(files / "lm2.keras")]) == 0
    assert ts.LabelModel.load(files / "lm2.keras").lf_names == record["lf_names"]
    capsys.readouterr()
    assert main(["fit", "--quiet", "--label-matrix", str(files / "L.npy"), "--lfs",
                 str(files / "lfs_reordered.py"), "--out", str(files / "lm3.keras")]) == 2
    assert "was made by the LFs ['kw_my'" in error_line(capsys)
    # analyze refuses a label matrix made by other LFs.
    assert main(["analyze", "--lfs", str(files / "lfs_reordered.py"), "--label-matrix",
                 str(files / "L.npy")]) == 2
    assert "column 0 is LF 'kw_my' there but 'short'" in error_line(capsys)


def test_cli_fit_refuses_a_stale_lf_names_record(files, tmp_path, capsys):
    L = np.load(files / "L.npy")
    np.save(tmp_path / "L.npy", L)
    lf_names_path(tmp_path / "L.npy").write_text(lf_names_path(files / "L.npy").read_text())
    np.save(tmp_path / "L.npy", L[:, ::-1])  # rewritten after the record: no longer described
    assert main(["fit", "--quiet", "--label-matrix", str(tmp_path / "L.npy"),
                 "--out", str(tmp_path / "lm.keras")]) == 2
    assert "describes another label matrix" in error_line(capsys)


# ----------------------------------------------------------------------------- item 2
def test_invalid_utf8_is_replaced_everywhere(tmp_path):
    @ts.labeling_function()
    def py_song(x):
        return HAM if "song" in x.text else ts.ABSTAIN

    compiled = [
        ts.keyword_lf("song", label=HAM, name="kw"),
        ts.regex_lf(r"nice\s+song", label=HAM, name="re"),
        ts.length_lf("text", label=HAM, max_words=3, name="len"),
        ts.lookup_lf({"song"}, field="text", label=HAM, tokens=True, name="lookup"),
    ]
    texts = [b"\xff nice song", b"nice song", b"\xc3 x", "caf\u00e9 song".encode()]
    expected = [[0, 0, 0, 0], [0, 0, 0, 0], [-1, -1, 0, -1], [0, -1, 0, 0]]
    lfs = ts.LFSet(compiled, cardinality=2)
    np.testing.assert_array_equal(lfs.apply({"text": texts}), expected)
    np.testing.assert_array_equal(lfs({"text": tf.constant(texts)}).numpy(), expected)
    np.testing.assert_array_equal(compiled[0]({"text": texts}).numpy(), [0, 0, -1, 0])
    # a Python LF sees the same decoded text (U+FFFD), fault tolerant or not
    with_py = ts.LFSet([*compiled, py_song], cardinality=2)
    for tolerant in (False, True):
        L = with_py.apply({"text": texts}, fault_tolerant=tolerant)
        np.testing.assert_array_equal(L[:, 4], [0, 0, -1, 0])
    # served: the same votes from the SavedModel, and the classifier does not fail on them
    keras.utils.set_random_seed(0)
    clf = ts.text_classifier(2, adapt_data=TEXTS, max_tokens=64)
    ts.export_pipeline(tmp_path / "sm", lfset=lfs, classifier=clf)
    served = tf.saved_model.load(str(tmp_path / "sm"))
    weak = served.signatures["weak_label"](text=tf.constant(texts))
    np.testing.assert_array_equal(weak["votes"].numpy(), expected)
    probs = served.signatures["serving_default"](text=tf.constant(texts))["probabilities"]
    replaced = [t.decode("utf-8", "replace") for t in texts]
    np.testing.assert_allclose(probs.numpy(), ts.predict_proba(clf, np.array(replaced)),
                               atol=1e-6)


def test_valid_utf8_equals_python_replace():
    cases = [b"\xff", b"a\xc3", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\x80", b"ok",
             "\u00e9\u4e2d\U0001f600".encode(), b"", b"a\x00b\xfe"]
    out = ts.labeling.builtin.valid_utf8(tf.constant(cases)).numpy().tolist()
    assert out == [c.decode("utf-8", "replace").encode() for c in cases]


# ----------------------------------------------------------------------------- item 3
def test_python_repeat_without_lower_bound_means_zero_to_n():
    lf = ts.regex_lf(r"colou{,1}r", label=1)
    assert lf({"text": ["color", "colour", "colouur", "colou{,1}r"]}).numpy().tolist() == [
        1, 1, -1, -1]
    assert ts.regex_lf(r"ab{,}c", label=1)({"text": ["ac", "abbbc", "ab{,}c"]}).numpy().tolist(
    ) == [1, 1, -1]
    # escaped and in-class braces stay literal, as in Python
    assert ts.regex_lf(r"u\{,1}", label=1)({"text": ["u{,1}", "u"]}).numpy().tolist() == [1, -1]
    assert ts.regex_lf(r"[{,1}]", label=1)({"text": ["{", "x"]}).numpy().tolist() == [1, -1]
    with pytest.raises(ValueError, match="cannot compile"):
        ts.regex_lf(r"{,2}", label=1)  # Python: "nothing to repeat"


def test_whitespace_class_difference_is_documented_and_real():
    doc = ts.labeling.builtin.__doc__
    assert '``"\\x0b"``' in doc and "{,n}" in doc and "U+FFFD" in doc
    votes = ts.regex_lf(r"a\sb", label=1)({"text": ["a b", "a\x0bb"]}).numpy().tolist()
    assert votes == [1, -1]  # Python's re.search(r"a\sb", "a\x0bb") matches


# ----------------------------------------------------------------------------- item 4
def _wrench_dir(root: Path, name: str, train_label=1, weak=(0, -1)) -> Path:
    folder = root / "wrench" / name
    folder.mkdir(parents=True)
    (folder / "label.json").write_text(json.dumps({"0": "HAM", "1": "SPAM"}))
    good = {"0": {"data": {"text": "a"}, "label": 0, "weak_labels": [0, -1]},
            "1": {"data": {"text": "b"}, "label": 1, "weak_labels": [1, 1]}}
    bad = {**good, "2": {"data": {"text": "c"}, "label": train_label, "weak_labels": list(weak)}}
    (folder / "train.json").write_text(json.dumps(bad))
    for split in ("valid", "test"):
        (folder / f"{split}.json").write_text(json.dumps(good))
    return root


@pytest.mark.parametrize(
    ("label", "weak", "match"),
    [
        (1.5, (0, -1), r"example '2' has gold label 1\.5"),
        (2, (0, -1), r"example '2' has gold label 2; gold labels must be integers in \[0, 1\]"),
        (-1, (0, -1), r"example '2' has gold label -1"),
        (1, (0, 2), r"example '2' has weak label 2; weak labels must be integers in \[-1, 1\]"),
        (1, (0.5, 1), r"example '2' has weak label 0\.5"),
        (1, (0, -1, 1), r"example '2' has 3 weak labels, the first example 2"),
    ],
)
def test_wrench_loader_rejects_bad_labels(tmp_path, label, weak, match):
    root = _wrench_dir(tmp_path, "mine", label, weak)
    with pytest.raises(ValueError, match=match) as info:
        datasets.load_wrench("mine", data_dir=root)
    assert "train.json" in str(info.value)
    ok = _wrench_dir(tmp_path / "ok", "mine", 1.0, (0, -1))  # integral floats are fine
    assert datasets.load_wrench("mine", data_dir=ok).train.y.tolist() == [0, 1, 1]


def test_wrench_json_errors_name_the_file(tmp_path):
    root = _wrench_dir(tmp_path, "mine")
    (root / "wrench" / "mine" / "valid.json").write_text('{"0": {"data": ')
    with pytest.raises(ValueError, match=r"valid\.json is not valid JSON: .* at line 1"):
        datasets.load_wrench("mine", data_dir=root)


def test_cli_rejects_float_and_out_of_range_gold_labels(files, tmp_path, capsys):
    L = np.load(files / "L.npy")
    np.save(tmp_path / "Ldev.npy", L[:2])
    for gold, match in (([0.9, 1.5], "must be integers. Received: 0.9"),
                        ([0, 7], "gold labels must be in [0, 1]. Received: y[1]=7")):
        pd.DataFrame({"text": TEXTS[:2], "y": gold}).to_csv(tmp_path / "dev.csv", index=False)
        code = main(["fit", "--quiet", "--label-matrix", str(files / "L.npy"), "--out",
                     str(tmp_path / "lm.keras"), "--dev-label-matrix", str(tmp_path / "Ldev.npy"),
                     "--dev-input", str(tmp_path / "dev.csv"), "--dev-gold-column", "y"])
        assert code == 2
        line = error_line(capsys)
        assert f"gold column 'y' of {tmp_path / 'dev.csv'}" in line and match in line
    assert not (tmp_path / "lm.keras").exists()


# ----------------------------------------------------------------------------- item 5
def test_column_lf_does_not_wrap_int64():
    lfs = ts.LFSet([ts.column_lf("worker")], cardinality=2)
    with pytest.raises(ValueError, match=r"LF 'worker' voted 4294967297 at row 1"):
        lfs.apply({"worker": np.array([1, 2**32 + 1], np.int64)})
    with pytest.raises(ValueError, match=r"LF 'worker' voted 1099511627776 at row 0"):
        lfs.apply({"worker": np.array([2.0**40, 1.0])})
    np.testing.assert_array_equal(
        lfs.apply({"worker": np.array([1, -1, 0], np.int64)}).ravel(), [1, -1, 0])
    with pytest.raises(ValueError, match=r"Received: y\[1\]=1e\+300"):
        ts.check_gold_labels(np.array([0.0, 1e300]), cardinality=2)


# ----------------------------------------------------------------------------- item 6
def test_export_checks_what_each_file_holds(files, tmp_path, capsys):
    as_model = keras.saving.load_model(files / "lm.keras")
    with pytest.raises(ValueError, match="classifier holds a tfsnorkel LabelModel"):
        ts.export_pipeline(tmp_path / "sm", classifier=as_model)
    clf = keras.saving.load_model(files / "clf.keras")
    with pytest.raises(ValueError, match="label_model is a Keras model without a LabelModel"):
        ts.export_pipeline(tmp_path / "sm", label_model=clf)
    assert main(["export", "--classifier", str(files / "lm.keras"), "--out",
                 str(tmp_path / "sm")]) == 2
    assert "classifier holds a tfsnorkel LabelModel" in error_line(capsys)
    assert main(["export", "--label-model", str(files / "clf.keras"), "--out",
                 str(tmp_path / "sm")]) == 2
    assert "pass it as --classifier" in error_line(capsys)
    assert not (tmp_path / "sm").exists()


# ----------------------------------------------------------------------------- item 8
def test_load_wrench_validates_names_and_never_downloads_unverified(tmp_path, monkeypatch):
    fetched = []
    monkeypatch.setattr(datasets, "_fetch", lambda url, timeout=60.0: fetched.append(url))
    monkeypatch.setenv("TFSNORKEL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("TFSNORKEL_DATA_DIR", raising=False)
    for bad in ("../../evil", "a/b", "", "..", ".hidden", 3):
        with pytest.raises(ValueError, match="name must be a WRENCH set's folder name"):
            datasets.load_wrench(bad)
    with pytest.raises(datasets.DatasetNotFoundError, match="only files with a pinned SHA-256"):
        datasets.load_wrench("agnews")
    with pytest.raises(datasets.DatasetNotFoundError, match="no pinned SHA-256"):
        datasets._store("wrench/agnews/train.json", b"{}", tmp_path / "cache")
    assert fetched == [] and not (tmp_path / "cache").exists()
    # a cached file that does not match its pin is not used
    cache = tmp_path / "cache" / "wrench" / "youtube"
    cache.mkdir(parents=True)
    for f in ("label.json", "train.json", "valid.json", "test.json"):
        (cache / f).write_text("{}")
    monkeypatch.setattr(datasets, "_fetch", lambda url, timeout=60.0: b"tampered")
    with pytest.raises(datasets.DatasetNotFoundError, match="checksum mismatch"):
        datasets.load_wrench("youtube")


# ----------------------------------------------------------------------------- crashes
def test_python_lf_raising_system_exit_is_named():
    @ts.labeling_function()
    def quits(x):
        raise SystemExit(3)

    lfs = ts.LFSet([quits, ts.keyword_lf("a", label=1)], cardinality=2)
    with pytest.raises(LabelingFunctionError, match=r"LF 'quits' raised SystemExit: 3 on row 0"):
        lfs.apply({"text": ["a", "b"]})
    with pytest.warns(RuntimeWarning, match="'quits': 2 rows"):
        L = lfs.apply({"text": ["a", "b"]}, fault_tolerant=True)
    np.testing.assert_array_equal(L, [[-1, 1], [-1, -1]])


def test_lf_file_calling_sys_exit_is_an_error(tmp_path, capsys):
    (tmp_path / "lfs.py").write_text("import sys\nsys.exit(0)\n")
    pd.DataFrame({"text": ["a"]}).to_csv(tmp_path / "d.csv", index=False)
    assert main(["apply", "--input", str(tmp_path / "d.csv"), "--lfs", str(tmp_path / "lfs.py"),
                 "--out", str(tmp_path / "L.npy")]) == 2
    assert "called sys.exit(0) while being imported" in error_line(capsys)
    assert not (tmp_path / "L.npy").exists()


def test_serving_large_batches_in_chunks(clf, tmp_path, monkeypatch):
    monkeypatch.setattr(export, "SERVING_BATCH", 3)
    ts.export_pipeline(tmp_path / "sm", classifier=clf)
    served = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    texts = np.array(TEXTS[:10])
    probs = served(text=tf.constant(texts))["probabilities"].numpy()
    np.testing.assert_allclose(probs, ts.predict_proba(clf, texts), atol=1e-6)
    assert served(text=tf.constant([], tf.string))["probabilities"].shape == (0, 2)


def test_serving_100k_texts(clf, tmp_path):
    ts.export_pipeline(tmp_path / "sm", classifier=clf)
    served = tf.saved_model.load(str(tmp_path / "sm")).signatures["serving_default"]
    texts = np.array(TEXTS * 500)  # 100,000 rows in one request
    out = served(text=tf.constant(texts))
    assert out["probabilities"].shape == (100_000, 2)
    np.testing.assert_allclose(out["probabilities"].numpy()[:8],
                               ts.predict_proba(clf, texts[:8]), atol=1e-6)


def test_sparse_and_unbatched_inputs_get_a_hint(fitted):
    L, _ = fitted
    with pytest.raises(TypeError, match="not a scipy sparse matrix.*Received: csr_matrix"):
        ts.MajorityVoter(2).predict_proba(sp.csr_matrix(L))
    with pytest.raises(TypeError, match="soft labels must be a dense array"):
        ts.soft_label_dataset(np.array(TEXTS), sp.csr_matrix(np.full((len(TEXTS), 2), 0.5)))
    with pytest.raises(TypeError, match="the label matrix must be a dense array"):
        ts.lf_summary(sp.csr_matrix(L))
    with pytest.raises(ValueError, match=r"must be batched: ds\.batch\(n\)\)\. Received shape"):
        ts.LabelModel(2).fit(tf.data.Dataset.from_tensor_slices(L))


def test_truncated_keras_file_is_named(files, tmp_path, capsys):
    data = (files / "clf.keras").read_bytes()
    (tmp_path / "clf.keras").write_bytes(data[: len(data) // 2])
    assert not zipfile.is_zipfile(tmp_path / "clf.keras")
    assert main(["export", "--classifier", str(tmp_path / "clf.keras"), "--out",
                 str(tmp_path / "sm")]) == 2
    assert "is not a complete .keras archive (truncated" in error_line(capsys)
    (tmp_path / "lm.keras").write_bytes((files / "lm.keras").read_bytes()[:100])
    assert main(["export", "--label-model", str(tmp_path / "lm.keras"), "--out",
                 str(tmp_path / "sm")]) == 2
    assert "label model" in error_line(capsys)


def test_cli_json_input_errors_name_the_file(tmp_path, capsys):
    (tmp_path / "d.jsonl").write_text('{"text": "a"}\n{"text": \n')
    (tmp_path / "lfs.py").write_text(LF_FILE)
    assert main(["apply", "--input", str(tmp_path / "d.jsonl"), "--lfs",
                 str(tmp_path / "lfs.py"), "--out", str(tmp_path / "L.npy")]) == 2
    assert f"cannot read {tmp_path / 'd.jsonl'}" in error_line(capsys)


def test_stream_soft_labels_checks_the_pairing(fitted, lfs):
    _, lm = fitted
    ds = tf.data.Dataset.from_tensor_slices({"text": TEXTS[:8]})
    with pytest.raises(ValueError, match="column 0 is LF 'short' in the LF set but 'kw_my'"):
        ts.stream_soft_labels(ds, ts.LFSet(list(lfs.lfs)[::-1]), lm)
    got = np.concatenate([p.numpy() for _, p in ts.stream_soft_labels(ds, lfs, lm,
                                                                       feature_key="text")])
    L = lfs.apply({"text": TEXTS[:8]})
    np.testing.assert_allclose(got, lm.predict_proba(L[(L != -1).any(axis=1)]), atol=1e-5)


def test_export_never_replaces_a_directory_that_is_not_a_savedmodel(lfs, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="non-empty directory that holds no SavedModel"):
        ts.export_pipeline(tmp_path, lfset=lfs)
    assert (tmp_path / "notes.txt").read_text() == "mine"
    ts.export_pipeline(tmp_path / "sm", lfset=lfs)  # a SavedModel is replaced by the next one
    (tmp_path / "sm" / "stale.txt").write_text("from the previous export")
    ts.export_pipeline(tmp_path / "sm", lfset=lfs)
    assert not (tmp_path / "sm" / "stale.txt").exists()
    votes = tf.saved_model.load(str(tmp_path / "sm")).signatures["weak_label"](
        text=tf.constant(TEXTS[:4]))["votes"]
    np.testing.assert_array_equal(votes.numpy(), lfs.apply({"text": TEXTS[:4]}))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "sm"]
