"""Fault injection (issue 11): failed writes, killed runs and concurrent writers lose nothing.

A write that fails midway (the writer patched to write part of the file and then raise
``OSError(ENOSPC)`` / ``OSError(EIO)``) must leave the previous output intact and no temporary
file behind; a killed ``run_pipeline`` must be detectable from its manifest; a second writer
to the same output must be refused with a clear error.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

import tfsnorkel as ts
from tfsnorkel import outputs
from tfsnorkel.cli import main
from tfsnorkel.outputs import IncompleteRunError, OutputLock, OutputLockedError, verify_run

REPO = Path(__file__).resolve().parents[1]
TEXTS = ["check out my channel", "nice song", "subscribe to my channel", "love this song",
         "free gift card", "great video", "my new song is out", "so good"] * 20
LF_FILE = """
import tfsnorkel as ts
lfs = [
    ts.keyword_lf("my", label=1, field="text", match="substring", name="kw_my"),
    ts.keyword_lf("song", label=0, field="text", name="kw_song"),
    ts.keyword_lf(["subscribe", "free"], label=1, field="text", name="kw_sub"),
    ts.length_lf("text", label=0, max_words=2, name="short"),
]
"""


def lfset() -> ts.LFSet:
    ns: dict = {}
    exec(LF_FILE, ns)  # the same LFs as the CLI's LF file
    return ts.LFSet(ns["lfs"], cardinality=2)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), hidden ones included."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name)


def fail_midway(err: int):
    """A writer that writes half of what it was asked to, then fails like a full disk."""

    def write(target, *args, **kwargs):
        data = b"\x93NUMPY partial" * 64
        if hasattr(target, "write"):
            target.write(data[: len(data) // 2])
        else:
            Path(target).write_bytes(data[: len(data) // 2])
        raise OSError(err, os.strerror(err))

    return write


@pytest.fixture()
def cli_files(tmp_path):
    (tmp_path / "lfs.py").write_text(LF_FILE)
    pd.DataFrame({"text": TEXTS}).to_csv(tmp_path / "data.csv", index=False)
    return tmp_path


@pytest.fixture(scope="module")
def data():
    return pd.DataFrame({"text": TEXTS}), pd.DataFrame({"text": TEXTS[:16],
                                                        "y": [1, 0, 1, 0, 1, 0, 1, 0] * 2})


# ----------------------------------------------------------------------------- failed writes
@pytest.mark.parametrize("err", [errno.ENOSPC, errno.EIO])
def test_apply_on_a_full_disk_keeps_the_previous_label_matrix(cli_files, monkeypatch, capsys,
                                                              err):
    args = ["apply", "--quiet", "--input", str(cli_files / "data.csv"), "--lfs",
            str(cli_files / "lfs.py"), "--out", str(cli_files / "L.npy")]
    assert main(args) == 0
    before = snapshot(cli_files)
    monkeypatch.setattr(outputs.np, "save", fail_midway(err))
    assert main(args) == 1
    assert os.strerror(err) in capsys.readouterr().err
    assert snapshot(cli_files) == before  # L.npy and L.lfs.json untouched, nothing left over
    np.testing.assert_array_equal(np.load(cli_files / "L.npy"), lfset().apply({"text": TEXTS}))


def test_a_failed_label_model_save_leaves_the_previous_file_and_no_temp(cli_files,
                                                                        monkeypatch):
    args = ["apply", "--quiet", "--input", str(cli_files / "data.csv"), "--lfs",
            str(cli_files / "lfs.py"), "--out", str(cli_files / "L.npy")]
    assert main(args) == 0
    fit = ["fit", "--quiet", "--label-matrix", str(cli_files / "L.npy"), "--out",
           str(cli_files / "lm.keras")]
    assert main(fit) == 0
    before = snapshot(cli_files)
    monkeypatch.setattr(keras.Model, "save", lambda self, path, *a, **k: fail_midway(
        errno.ENOSPC)(path))
    assert main(fit) == 1
    assert snapshot(cli_files) == before
    assert ts.LabelModel.load(cli_files / "lm.keras").lf_names == lfset().names


def test_a_failed_pipeline_write_is_incomplete_and_loses_nothing(data, tmp_path, monkeypatch):
    train, dev = data
    out = tmp_path / "run"
    ts.run_pipeline(train, lfset(), text_column=None, dev=dev, gold_column="y", out_dir=out,
                    verbose=False)
    first = verify_run(out)
    assert first["status"] == "complete"
    assert {"L.npy", "label_model.keras", "metrics_dev.json",
            "saved_model/saved_model.pb"} <= set(first["files"])
    before = snapshot(out)

    def broken_savedmodel(obj, export_dir, *args, **kwargs):
        Path(export_dir).mkdir()
        (Path(export_dir) / "saved_model.pb").write_bytes(b"partial")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(tf.saved_model, "save", broken_savedmodel)
    second = pd.DataFrame({"text": TEXTS[::-1]})
    with pytest.raises(OSError, match="No space left"):
        ts.run_pipeline(second, lfset(), text_column=None, out_dir=out, verbose=False)
    with pytest.raises(IncompleteRunError, match="did not finish .*'running'"):
        verify_run(out)
    assert leftovers(out) == []
    # the previous SavedModel is intact, file for file
    after = snapshot(out)
    for rel, content in before.items():
        if rel.startswith("saved_model/"):
            assert after[rel] == content, rel
    # what this run did write is complete, never truncated
    np.testing.assert_array_equal(np.load(out / "L.npy"), lfset().apply(second))
    assert ts.LabelModel.load(out / "label_model.keras").lf_names == lfset().names


def test_verify_run_detects_a_changed_or_missing_file(data, tmp_path):
    train, _ = data
    out = tmp_path / "run"
    ts.run_pipeline(train, lfset(), text_column=None, out_dir=out, verbose=False)
    manifest = verify_run(out)
    assert manifest["tfsnorkel_version"] == ts.__version__
    assert manifest["files"]["L.npy"]["sha256"] == outputs.file_sha256(out / "L.npy")
    L = np.load(out / "L.npy")
    L[0, 0] = 1 - L[0, 0]
    np.save(out / "L.npy", L)
    with pytest.raises(IncompleteRunError, match="L.npy changed since the run wrote it"):
        verify_run(out)
    (out / "L.npy").unlink()
    with pytest.raises(IncompleteRunError, match="L.npy is listed in the manifest but missing"):
        verify_run(out)
    with pytest.raises(IncompleteRunError, match="holds no run_manifest.json"):
        verify_run(tmp_path)


def test_outputs_a_run_did_not_produce_are_removed(data, tmp_path):
    train, dev = data
    out = tmp_path / "run"
    ts.run_pipeline(train, lfset(), text_column=None, dev=dev, gold_column="y", out_dir=out,
                    verbose=False)
    assert (out / "metrics_dev.json").is_file()
    ts.run_pipeline(train, lfset(), text_column=None, out_dir=out, verbose=False)
    assert not (out / "metrics_dev.json").exists()
    assert "metrics_dev.json" not in verify_run(out)["outputs"]


def test_atomic_path_and_dir_keep_the_old_content_on_failure(tmp_path):
    dest = tmp_path / "a.txt"
    outputs.write_text(dest, "old")
    with pytest.raises(OSError), outputs.atomic_path(dest) as tmp:
        tmp.write_text("new, half writ")
        raise OSError(errno.EIO, "I/O error")
    assert dest.read_text() == "old" and leftovers(tmp_path) == []
    model = tmp_path / "model"
    with outputs.atomic_dir(model) as tmp:
        tmp.mkdir()
        (tmp / "x").write_text("1")
    with pytest.raises(KeyboardInterrupt), outputs.atomic_dir(model) as tmp:
        tmp.mkdir()
        (tmp / "x").write_text("2")
        raise KeyboardInterrupt
    assert snapshot(model) == {"x": b"1"} and leftovers(tmp_path) == []


# ----------------------------------------------------------------------------- fresh processes
class Children:
    """The fault-injection scripts, each in a fresh Python process, all started at once.

    Importing TensorFlow takes most of each child's time; started together, the children
    overlap on 2 cores instead of queuing. Each test waits for its own child's result.
    """

    def __init__(self, root: Path) -> None:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
        (root / "lfs.py").write_text(LF_FILE)
        pd.DataFrame({"text": TEXTS}).to_csv(root / "data.csv", index=False)
        (root / "killed.py").write_text(KILLED_RUN.format(tests=str(REPO / "tests")))
        (root / "terminated.py").write_text(TERMINATED_CLI)
        self.outs = {"killed": root / "killed_run", "terminated": root / "terminated_run"}
        commands = {
            "killed": [str(root / "killed.py"), str(self.outs["killed"])],
            "terminated": [str(root / "terminated.py"), "pipeline", "--quiet", "--no-classifier",
                           "--input", str(root / "data.csv"), "--lfs", str(root / "lfs.py"),
                           "--out", str(self.outs["terminated"])],
        }
        self.logs = {name: (root / f"{name}.stdout", root / f"{name}.stderr") for name in commands}
        self.procs = {}
        for name, cmd in commands.items():  # output to files: no pipe fills while we wait
            with open(self.logs[name][0], "w") as out, open(self.logs[name][1], "w") as err:
                self.procs[name] = subprocess.Popen([sys.executable, *cmd], env=env,
                                                    stdout=out, stderr=err)

    def result(self, name: str) -> tuple[subprocess.CompletedProcess, Path]:
        """The finished child ``name`` (return code, stdout, stderr) and its output folder."""
        proc = self.procs[name]
        proc.wait(timeout=600)
        stdout, stderr = (path.read_text() for path in self.logs[name])
        done = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
        return done, self.outs[name]

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def children(tmp_path_factory):
    kids = Children(tmp_path_factory.mktemp("children"))
    yield kids
    kids.close()


# ----------------------------------------------------------------------------- killed runs
KILLED_RUN = textwrap.dedent("""
    import os, signal, sys
    import pandas as pd
    import tfsnorkel as ts
    import tfsnorkel.pipeline as pipeline
    sys.path.insert(0, {tests!r})
    from test_faults import TEXTS, lfset

    def killed(*args, **kwargs):  # SIGKILL in the middle of the write phase
        os.kill(os.getpid(), signal.SIGKILL)

    pipeline.export_pipeline = killed
    ts.run_pipeline(pd.DataFrame({{"text": TEXTS}}), lfset(), text_column=None,
                    out_dir=sys.argv[1], verbose=False)
""")


@pytest.mark.slow  # a fresh Python process importing TensorFlow
def test_a_killed_pipeline_run_is_detectable_and_frees_its_lock(data, children):
    proc, out = children.result("killed")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert (out / "L.npy").is_file()  # some outputs were written ...
    with pytest.raises(IncompleteRunError, match="did not finish"):
        verify_run(out)  # ... but the manifest says the run is not complete
    manifest = json.loads((out / outputs.MANIFEST_NAME).read_text())
    assert manifest["status"] == "running" and manifest["files"] == {}
    # the kernel released the dead run's lock: the next run completes
    train, _ = data
    ts.run_pipeline(train, lfset(), text_column=None, out_dir=out, verbose=False)
    assert verify_run(out)["status"] == "complete"


# ----------------------------------------------------------------------------- concurrency
def test_a_second_writer_is_refused(data, tmp_path, capsys, cli_files):
    train, _ = data
    out = tmp_path / "run"
    with OutputLock(out):
        with pytest.raises(OutputLockedError, match=r"another tfsnorkel process is writing to"):
            ts.run_pipeline(train, lfset(), text_column=None, out_dir=out, verbose=False)
        assert main(["pipeline", "--quiet", "--no-classifier", "--input",
                     str(cli_files / "data.csv"), "--lfs", str(cli_files / "lfs.py"), "--out",
                     str(out)]) == 2
        err = capsys.readouterr().err
        assert f"tfsnorkel: error: another tfsnorkel process is writing to {out}" in err
    assert not (out / outputs.MANIFEST_NAME).exists()  # the refused runs wrote nothing
    with OutputLock(tmp_path / "sm", is_dir=False):
        with pytest.raises(OutputLockedError, match=f"held by pid/host {os.getpid()} "):
            ts.export_pipeline(tmp_path / "sm", lfset=lfset())
    assert not (tmp_path / "sm").exists()


def test_a_writer_in_another_process_is_refused(tmp_path):
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "sys.modules['tensorflow'] = None  # not needed: outputs.py is plain Python\n"
         "import importlib.util as u\n"
         f"spec = u.spec_from_file_location('outputs', {str(REPO / 'tfsnorkel/outputs.py')!r})\n"
         "m = u.module_from_spec(spec); spec.loader.exec_module(m)\n"
         "lock = m.OutputLock(sys.argv[1]); lock.acquire(); print('locked', flush=True)\n"
         "time.sleep(120)\n", str(out)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputLockedError, match=f"held by pid/host {holder.pid} "):
            OutputLock(out).acquire()
    finally:
        holder.kill()
        holder.wait()
    with OutputLock(out):  # free again once the holder died
        pass


TERMINATED_CLI = textwrap.dedent("""
    import os, signal, sys
    import tfsnorkel.pipeline as pipeline
    from tfsnorkel.cli import main

    real = pipeline.export_pipeline

    def terminated(path, *args, **kwargs):  # SIGTERM while the SavedModel is being written
        import tensorflow as tf
        save = tf.saved_model.save

        def slow_save(obj, export_dir, *a, **k):
            save(obj, export_dir, *a, **k)
            os.kill(os.getpid(), signal.SIGTERM)

        tf.saved_model.save = slow_save
        return real(path, *args, **kwargs)

    pipeline.export_pipeline = terminated
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.slow  # a fresh Python process importing TensorFlow
def test_sigterm_during_the_write_phase_leaves_no_temporary_output(children):
    proc, out = children.result("terminated")
    assert proc.returncode == 128 + signal.SIGTERM, proc.stderr
    assert "tfsnorkel: terminated" in proc.stderr
    assert leftovers(out) == [] and not (out / "saved_model").exists()
    with pytest.raises(IncompleteRunError, match="did not finish"):
        verify_run(out)
    with OutputLock(out):  # released on the way out
        pass
