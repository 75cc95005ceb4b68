"""The `tfsnorkel` command on files shaped as a user's own (issue 13).

A CSV whose text column name has spaces (``Consumer complaint narrative``), empty text cells,
gold labels written as class names, an LF file that imports a module beside it and declares
``classes``, and an LF that raises. Each run exits 0, or prints exactly one line
``tfsnorkel: error: ...`` and exits 2, and a plain run's stderr holds no TensorFlow log line.

Subprocesses cost a TensorFlow start-up each (~10 s), so they are few and each checks several
things; the remaining checks drive ``tfsnorkel.cli.main`` in-process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tfsnorkel as ts
from tfsnorkel.cli import _TF_NOISE, main

REPO = Path(__file__).resolve().parents[1]
COL = "Consumer complaint narrative"
CARD = ["my card was charged a fee twice", "the card statement shows a wrong charge",
        "late fee on my card", "card charge not mine, statement wrong"]
LOAN = ["the mortgage payment was lost", "loan interest went up",
        "mortgage servicer lost my payment", "interest on the loan is wrong"]
KB = 'WORDS = {"loans": ["loan", "mortgage", "payment"], "cards": ["card", "charge", "fee"]}\n'
LF_FILE = f'''import tfsnorkel as ts
from kb import WORDS

COL = {COL!r}
classes = ["Credit card", "Mortgage"]
lfs = [
    ts.keyword_lf(WORDS["cards"], label=0, field=COL, name="card_words"),
    ts.keyword_lf(WORDS["loans"], label=1, field=COL, name="loan_words"),
    ts.keyword_lf("interest", label=1, field=COL, name="interest"),
    ts.regex_lf(r"(?i)\\bstatement\\b", label=0, field=COL, name="statement"),
]
'''
RAISING_LF_FILE = f'''import tfsnorkel as ts

COL = {COL!r}


@ts.labeling_function(fields=[COL])
def picky(row):
    if "boom" in row[COL]:
        raise ValueError("cannot parse this complaint")
    return -1


lfs = [picky, ts.keyword_lf("card", label=0, field=COL), ts.keyword_lf("loan", label=1, field=COL)]
'''
#: What a subprocess may print on stderr besides one error line: nothing from TensorFlow.
TF_LOG_HINTS = ("cuda", "cuInit", "absl", "tensorflow/", "oneDNN", "cpu_feature_guard")


def complaints(n: int = 40) -> pd.DataFrame:
    """n complaints, every 10th (from row 3) with an empty text, gold labels as names."""
    rows = []
    for i in range(n):
        if i % 10 == 3:
            rows.append((None, "Mortgage" if i % 2 else "Credit card"))
        elif i % 2:
            rows.append((LOAN[i % 4], "Mortgage"))
        else:
            rows.append((CARD[i % 4], "Credit card"))
    return pd.DataFrame(rows, columns=[COL, "Product"])


@pytest.fixture(scope="module")
def user_dir(tmp_path_factory) -> Path:
    """lfs/ (an LF file importing kb.py beside it, a raising LF file) and data/ (CSVs)."""
    d = tmp_path_factory.mktemp("user")
    (d / "lfs").mkdir()
    (d / "lfs" / "kb.py").write_text(KB)
    (d / "lfs" / "complaint_lfs.py").write_text(LF_FILE)
    (d / "lfs" / "raising_lfs.py").write_text(RAISING_LF_FILE)
    (d / "data").mkdir()
    complaints().to_csv(d / "data" / "complaints.csv", index=False)
    boom = complaints(20)
    boom.loc[[7, 15], COL] = ["it went boom here", "boom again"]
    boom.to_csv(d / "data" / "boom.csv", index=False)
    return d


def clean_env() -> dict[str, str]:
    """A user's environment: without the test suite's TF_CPP_MIN_LOG_LEVEL (the command's own
    silencing is what is tested) or a PYTHONWARNINGS setting."""
    return {k: v for k, v in os.environ.items()
            if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONWARNINGS")}


def console_script() -> Path:
    script = Path(sysconfig.get_path("scripts")) / "tfsnorkel"
    assert script.is_file(), f"the tfsnorkel console script is not installed at {script}"
    return script


def run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=clean_env(),
                          timeout=timeout, check=False)


def imported_modules(stderr: str) -> list[str]:
    """The modules a ``python -X importtime`` process imported (from its stderr)."""
    return [ln.rsplit("|", 1)[-1].strip() for ln in stderr.splitlines()
            if ln.startswith("import time:")]


def assert_no_tf_log(stderr: str) -> None:
    for line in stderr.splitlines():
        assert not _TF_NOISE.match(line), stderr
        assert not any(h in line for h in TF_LOG_HINTS), stderr


def assert_one_error_line(proc: subprocess.CompletedProcess, expected: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines()
             if ln.strip() and not ln.startswith("import time:")]
    assert lines == [lines[0]] and lines[0].startswith("tfsnorkel: error: "), proc.stderr
    assert expected in lines[0], lines[0]


def error_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("tfsnorkel: error: "), err
    return lines[0]


# ----------------------------------------------------------------------------- start-up (item 1)
def test_help_and_early_errors_never_import_tensorflow(user_dir, tmp_path):
    """`--help`, a bad --label-matrix and a bad --out fail or answer without TensorFlow:
    ``-X importtime`` lists every module the process imported."""
    script = console_script()
    for cmd in ([sys.executable, "-X", "importtime", "-m", "tfsnorkel", "--help"],
                [sys.executable, "-X", "importtime", str(script), "pipeline", "--help"]):
        proc = run(cmd, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "usage: tfsnorkel" in proc.stdout
        imported = imported_modules(proc.stderr)
        assert "tfsnorkel.cli" in imported
        assert not [m for m in imported if m.split(".")[0] in ("tensorflow", "keras")]
    # fit --label-matrix on a CSV: the accepted format, not pickles, and no TF start-up
    proc = run([sys.executable, "-X", "importtime", "-m", "tfsnorkel", "fit", "--label-matrix",
                str(user_dir / "data" / "complaints.csv"), "--out", str(tmp_path / "lm.keras")],
               cwd=tmp_path)
    assert_one_error_line(proc, "must be a .npy file")
    assert "pickle" not in proc.stderr.splitlines()[-1]
    assert "tensorflow" not in imported_modules(proc.stderr)
    # an --out the command could only reject after the work: refused first
    L = tmp_path / "L.npy"
    np.save(L, np.zeros((4, 3), np.int32))
    proc = run([sys.executable, "-m", "tfsnorkel", "fit", "--label-matrix", str(L), "--out",
                str(tmp_path / "lm.h5")], cwd=tmp_path)
    assert_one_error_line(proc, f"label model {tmp_path / 'lm.h5'} must end in .keras")


@pytest.mark.parametrize("argv, lazy", [
    (["python", "-m", "tfsnorkel", "--help"], True),
    (["python", "-W", "ignore", "-m", "tfsnorkel.cli", "fit"], True),
    (["python", "-mtfsnorkel"], True),
    (["python", "/venv/bin/tfsnorkel", "apply"], True),
    (["python", "C:/venv/Scripts/tfsnorkel-script.py"], True),
    (["python", "-c", "import tfsnorkel"], False),
    (["python", "train.py"], False),
    (["python", "-m", "pytest", "tests"], False),
    (["python", "-m", "tfsnorkel_extras"], False),
    (["python"], False),
])
def test_only_the_command_is_lazy(monkeypatch, argv, lazy):
    monkeypatch.setattr(sys, "orig_argv", argv)
    assert ts._started_as_cli() is lazy


def test_the_start_up_filter_drops_tf_lines_only():
    noise = [
        "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
        ("I0000 00:00:1796171124.823003   27411 cudart_stub.cc:31] Could not find cuda drivers "
         "on your machine, GPU will not be used."),
        ("E0000 00:00:1796171177.276828   27656 cuda_platform.cc:52] failed call to cuInit: "
         "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)"),
        ("To enable the following instructions: AVX2 FMA, in other operations, rebuild "
         "TensorFlow with the appropriate compiler flags."),
    ]
    kept = ["/x/keras/src/saving/saving_lib.py:869: UserWarning: Skipping variable loading",
            "Traceback (most recent call last):", "tfsnorkel: error: input file not found: x",
            "ImportError: libcudart.so.12: cannot open shared object file"]
    assert all(_TF_NOISE.match(ln) for ln in noise)
    assert not any(_TF_NOISE.match(ln) for ln in kept)


def test_error_lines_carry_no_graph_trace_or_ansi_codes():
    from tfsnorkel.cli import _one_line

    graph = ValueError("Graph execution error:\n\nDetected at node StatefulPartitionedCall "
                       "defined at (most recent call last):\n  File \"x.py\", line 3\n"
                       "\x1b[1mvotes must be in [-1, 1]\x1b[0m")
    assert _one_line(graph) == "votes must be in [-1, 1]"
    autograph = NameError("in user code:\n\n    File \"export.py\", line 9, in weak_label  *\n"
                          "        votes = f(x)\n\n    NameError: name 'f' is not defined")
    assert _one_line(autograph) == "NameError: name 'f' is not defined"
    assert _one_line(OSError("[Errno 28] No space left on device")) == (
        "[Errno 28] No space left on device")


def test_lazy_names_cover_the_public_api():
    assert set(ts._LAZY_NAMES) | set(ts._SUBMODULES) == set(ts.__all__)
    for name, module in ts._LAZY_NAMES.items():
        assert getattr(sys.modules[module], name) is getattr(ts, name), name
    assert not ts._LAZY  # pytest imports tfsnorkel as a library: eagerly


def test_import_tfsnorkel_then_keras_load_model_in_a_fresh_process(tmp_path):
    """`import tfsnorkel` registers the Keras classes (Keras 3 would not import a non-keras
    module named in a saved config by itself), so a saved LabelModel loads with plain Keras."""
    L = np.array([[0, 1, -1], [1, 1, 0], [0, 0, 0], [-1, 1, 1]] * 10, dtype=np.int32)
    lm = ts.LabelModel(cardinality=2, seed=0).fit(L, lf_names=["a", "b", "c"])
    lm.save(tmp_path / "lm.keras")
    np.save(tmp_path / "L.npy", L)
    code = (
        "import sys, numpy as np, tfsnorkel, keras\n"
        f"m = keras.saving.load_model({str(tmp_path / 'lm.keras')!r})\n"
        f"L = np.load({str(tmp_path / 'L.npy')!r})\n"
        "layers = [type(x).__name__ for x in m.layers]\n"
        "print('LabelModel' in layers, 'tensorflow' in sys.modules)\n"
        "np.save(sys.argv[1], np.asarray(m.predict(L, verbose=0)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "P.npy")],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True"]
    np.testing.assert_allclose(np.load(tmp_path / "P.npy"), lm.predict_proba(L), atol=1e-6)


# ----------------------------------------------------------------------------- user files
def test_console_script_applies_an_lf_file_importing_a_sibling_module(user_dir, tmp_path):
    """Items 1, 7, 2, 3, 4: the console script, run from elsewhere, imports kb.py beside the LF
    file; empty cells abstain; the record names the classes and the text field; stderr holds
    no TensorFlow log line; the footer counts TensorFlow's start-up."""
    out = tmp_path / "L.npy"
    proc = run([str(console_script()), "apply", "--input",
                str(user_dir / "data" / "complaints.csv"), "--lfs",
                str(user_dir / "lfs" / "complaint_lfs.py"), "--out", str(out)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_no_tf_log(proc.stderr)
    assert proc.stderr.strip() == "", proc.stderr
    assert "\x1b[" not in proc.stdout  # no progress bar in a pipe
    m = re.search(r"done in (\d+\.\d) s \(TensorFlow start-up (\d+\.\d) s\)", proc.stdout)
    assert m and float(m.group(1)) >= float(m.group(2)) > 0, proc.stdout
    L = np.load(out)
    frame = complaints()
    empty = frame[COL].isna().to_numpy()
    assert L.shape == (40, 4)
    assert (L[empty] == -1).all()  # the LFs abstain on every empty text cell
    lfset = ts.LFSet([ts.keyword_lf(["card", "charge", "fee"], 0, field=COL),
                      ts.keyword_lf(["loan", "mortgage", "payment"], 1, field=COL),
                      ts.keyword_lf("interest", 1, field=COL),
                      ts.regex_lf(r"(?i)\bstatement\b", 0, field=COL)])
    np.testing.assert_array_equal(L, lfset.apply(frame))
    record = json.loads((tmp_path / "L.lfs.json").read_text())
    assert record["classes"] == ["Credit card", "Mortgage"]
    assert record["text_fields"] == [COL]
    assert record["lf_names"] == ["card_words", "loan_words", "interest", "statement"]


def test_a_raising_lf_is_one_line_on_its_first_row(user_dir, tmp_path):
    """Item 6: one line naming the LF, the exception, the first failing row (7, also with small
    batches run in parallel) and the CLI's --fault-tolerant; no TF kernel dump, no traceback."""
    proc = run([sys.executable, "-m", "tfsnorkel", "apply", "--batch-size", "4", "--input",
                str(user_dir / "data" / "boom.csv"), "--lfs",
                str(user_dir / "lfs" / "raising_lfs.py"), "--out", str(tmp_path / "L.npy")],
               cwd=tmp_path)
    assert_one_error_line(
        proc,
        f"LF 'picky' raised ValueError: cannot parse this complaint on row 7 of "
        f"{user_dir / 'data' / 'boom.csv'} (use --fault-tolerant to make it abstain on such "
        "rows instead)",
    )
    assert_no_tf_log(proc.stderr)
    assert not (tmp_path / "L.npy").exists()


def test_pipeline_on_a_user_csv_serves_the_column_and_the_class_names(user_dir, tmp_path):
    """Items 2, 3, 4, 8, 9 end to end: a text column with spaces (the LFs' own text field, no
    --text-column), empty cells, gold labels as names; the SavedModel takes the sanitized
    column name in both signatures and returns class names."""
    import tensorflow as tf

    out = tmp_path / "run"
    proc = run([sys.executable, "-m", "tfsnorkel", "pipeline", "--input",
                str(user_dir / "data" / "complaints.csv"), "--lfs",
                str(user_dir / "lfs" / "complaint_lfs.py"), "--dev-input",
                str(user_dir / "data" / "complaints.csv"), "--dev-gold-column", "Product",
                "--epochs", "2", "--out", str(out)], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert_no_tf_log(proc.stderr)
    assert "\x1b[" not in proc.stdout
    assert f"classifier: reads {COL!r}; targets auto (the default with a gold dev set)" \
        in proc.stdout
    assert re.search(r"targets: auto kept (soft|hard) \(gold dev accuracy \d\.\d{3} with \1 "
                     r"targets, \d\.\d{3} with (soft|hard)", proc.stdout), proc.stdout
    assert "0 (Credit card): " in proc.stdout and "[Mortgage]" in proc.stdout
    # 3 decimals for every score in the printed table
    scores = re.findall(r"^(majority_vote|label_model|classifier)\s+(\S+)\s+(\S+)$",
                        proc.stdout, re.MULTILINE)
    assert len(scores) == 3 and all(re.fullmatch(r"\d\.\d{3}", v) for s in scores
                                    for v in s[1:]), proc.stdout
    assert ("SavedModel argument 'Consumer_complaint_narrative' = column "
            "'Consumer complaint narrative'") in proc.stdout
    metrics = json.loads((out / "metrics_dev.json").read_text())
    # measured 0.900: the 36 covered rows right; the 4 empty ones (Mortgage) get the class
    # balance's Credit card
    assert metrics["label_model"]["accuracy"] >= 0.875
    info = json.loads((out / "saved_model" / "assets.extra" / "tfsnorkel_signature.json")
                      .read_text())
    assert info["inputs"] == {"Consumer_complaint_narrative": COL}
    assert info["class_names"] == ["Credit card", "Mortgage"]
    assert info["signatures"] == {"weak_label": ["Consumer_complaint_narrative"],
                                  "serving_default": ["Consumer_complaint_narrative"]}
    served = tf.saved_model.load(str(out / "saved_model"))
    texts = tf.constant(["late fee on my card", "", "the mortgage payment was lost"])
    weak = served.signatures["weak_label"](Consumer_complaint_narrative=texts)
    assert weak["class_name"].numpy().tolist() == [b"Credit card", b"Credit card", b"Mortgage"]
    assert weak["covered"].numpy().tolist() == [True, False, True]
    clf = served.signatures["serving_default"](Consumer_complaint_narrative=texts)
    names = np.array([b"Credit card", b"Mortgage"])
    np.testing.assert_array_equal(clf["class_name"].numpy(), names[clf["label"].numpy()])


# ----------------------------------------------------------------------------- in-process checks
@pytest.fixture(scope="module")
def applied(user_dir, tmp_path_factory):
    d = tmp_path_factory.mktemp("applied")
    assert main(["apply", "--quiet", "--input", str(user_dir / "data" / "complaints.csv"),
                 "--lfs", str(user_dir / "lfs" / "complaint_lfs.py"),
                 "--out", str(d / "L.npy")]) == 0
    assert str(user_dir / "lfs") not in sys.path  # the LF folder is off the path again
    return d


def test_fit_knows_the_lfs_and_refuses_a_contradicting_cardinality(applied, tmp_path, capsys):
    """Item 8: LF names and class names from L.lfs.json; a --cardinality the votes contradict
    is one clear error, before anything is written."""
    assert main(["fit", "--label-matrix", str(applied / "L.npy"), "--out",
                 str(tmp_path / "lm.keras"), "--soft-labels", str(tmp_path / "P.npy")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"class balance \(learned\): 0 \(Credit card\): \d\.\d{3} "
                     r"1 \(Mortgage\): \d\.\d{3}", out), out
    assert "card_words" in out and "-1 = none" in out
    assert ts.LabelModel.load(tmp_path / "lm.keras").lf_names == [
        "card_words", "loan_words", "interest", "statement"]
    # without the record: binary votes, --cardinality 3
    bare = tmp_path / "bare.npy"
    np.save(bare, np.load(applied / "L.npy"))
    assert main(["fit", "--label-matrix", str(bare), "--cardinality", "3",
                 "--out", str(tmp_path / "lm3.keras")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("tfsnorkel: warning: no LF names for")  # no L.lfs.json beside it
    assert len(err) == 2 and err[1].startswith(
        "tfsnorkel: error: --cardinality 3 contradicts the votes: no LF"), err
    assert not (tmp_path / "lm3.keras").exists()
    assert main(["fit", "--label-matrix", str(applied / "L.npy"), "--cardinality", "3",
                 "--out", str(tmp_path / "lm3.keras")]) == 2
    assert "--cardinality 3 differs from the LFs' cardinality 2" in error_line(capsys)


def test_gold_names_and_bad_classes_are_one_line_errors(user_dir, applied, tmp_path, capsys):
    """Item 4: names map through the LF file's classes; an unknown name, names without
    `classes`, and a bad `classes` each give one line (exit 2)."""
    lfs = str(user_dir / "lfs" / "complaint_lfs.py")
    data = user_dir / "data" / "complaints.csv"
    assert main(["analyze", "--quiet", "--lfs", lfs, "--input", str(data), "--gold-column",
                 "Product"]) == 0
    out = capsys.readouterr().out
    assert "classes: 0 (Credit card), 1 (Mortgage)" in out and "[Credit card]" in out
    bad = complaints().assign(Product=lambda f: f["Product"].replace("Mortgage", "Loan"))
    bad.to_csv(tmp_path / "bad.csv", index=False)
    assert main(["analyze", "--lfs", lfs, "--input", str(tmp_path / "bad.csv"),
                 "--gold-column", "Product"]) == 2
    assert ("gold column 'Product' of " + str(tmp_path / "bad.csv") + " holds 'Loan' at row 1, "
            "which is not one of the classes ['Credit card', 'Mortgage']") in error_line(capsys)
    no_classes = tmp_path / "no_classes.py"
    no_classes.write_text(LF_FILE.replace('classes = ["Credit card", "Mortgage"]\n', "")
                          .replace("from kb import WORDS", KB.strip()))
    assert main(["analyze", "--lfs", str(no_classes), "--input", str(data),
                 "--gold-column", "Product"]) == 2
    assert "holds class names ('Credit card', ...); declare them" in error_line(capsys)
    three = tmp_path / "three.py"
    three.write_text(LF_FILE.replace('["Credit card", "Mortgage"]', '["a", "b", "a"]')
                     .replace("from kb import WORDS", KB.strip()))
    assert main(["apply", "--lfs", str(three), "--input", str(data), "--out",
                 str(tmp_path / "L.npy")]) == 2
    assert "`classes` names 'a' twice" in error_line(capsys)


def test_train_and_export_on_the_user_files(user_dir, applied, tmp_path, capsys):
    """Items 3, 5, 8, 9: train reads the LFs' text field (empty cells as ""), maps the gold
    names, says which targets auto kept; export serves both signatures under one argument."""
    import tensorflow as tf

    assert main(["fit", "--quiet", "--label-matrix", str(applied / "L.npy"), "--out",
                 str(tmp_path / "lm.keras"), "--soft-labels", str(tmp_path / "P.npy")]) == 0
    data = str(user_dir / "data" / "complaints.csv")
    capsys.readouterr()
    assert main(["train", "--input", data, "--soft-labels", str(tmp_path / "P.npy"),
                 "--label-matrix", str(applied / "L.npy"), "--dev-input", data,
                 "--dev-gold-column", "Product", "--epochs", "2",
                 "--out", str(tmp_path / "clf.keras")]) == 0
    out = capsys.readouterr().out
    assert f"training on {COL!r}, auto targets (the default with a gold dev set)" in out
    assert re.search(r"targets: auto kept (soft|hard) \(gold dev accuracy \d\.\d{3} with "
                     r"\1 targets, \d\.\d{3} with (soft|hard)", out), out
    assert "[soft targets] epoch 1/2: loss " in out and "[hard targets] epoch 2/2" in out
    assert "\x1b[" not in out
    sm = tmp_path / "sm"
    assert main(["export", "--lfs", str(user_dir / "lfs" / "complaint_lfs.py"), "--label-model",
                 str(tmp_path / "lm.keras"), "--classifier", str(tmp_path / "clf.keras"),
                 "--out", str(sm)]) == 0
    out = capsys.readouterr().out
    assert (f"SavedModel -> {sm}: weak_label(Consumer_complaint_narrative), "
            "serving_default(Consumer_complaint_narrative)") in out
    served = tf.saved_model.load(str(sm))
    texts = tf.constant(["card fee", ""])
    probs = served.signatures["serving_default"](Consumer_complaint_narrative=texts)
    import keras

    clf = keras.saving.load_model(tmp_path / "clf.keras")
    np.testing.assert_allclose(probs["probabilities"].numpy(),
                               ts.predict_proba(clf, np.array(["card fee", ""])), atol=1e-5)
    # an export directory that is not a SavedModel is refused before anything loads
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("x")
    assert main(["export", "--label-model", str(tmp_path / "lm.keras"), "--out",
                 str(tmp_path / "busy")]) == 2
    assert "is a non-empty directory that holds no SavedModel" in error_line(capsys)


def test_pipeline_with_a_raising_lf_is_one_line(user_dir, tmp_path, capsys):
    """Item 6 in `pipeline`: the same one line (first failing row), and nothing written."""
    out = tmp_path / "run"
    boom = user_dir / "data" / "boom.csv"
    assert main(["pipeline", "--quiet", "--no-classifier", "--input", str(boom), "--lfs",
                 str(user_dir / "lfs" / "raising_lfs.py"), "--out", str(out)]) == 2
    assert error_line(capsys) == (
        f"tfsnorkel: error: LF 'picky' raised ValueError: cannot parse this complaint on row 7 "
        f"of {boom} (fix the LF, or run `tfsnorkel apply --fault-tolerant` to make it abstain "
        "on such rows)"
    )
    assert not (out / "L.npy").exists()
