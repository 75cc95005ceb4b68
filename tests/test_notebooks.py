"""The Colab notebooks in examples/, executed headless as a user would run them top to bottom.

Both notebooks run at once, each in its own kernel (one module-scoped fixture): most of a
notebook's time is its kernel importing TensorFlow and training, so on 2 cores the two overlap
instead of queuing. A notebook that fails fails its own test only.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NOTEBOOKS = ("spam_tutorial.ipynb", "complaints.ipynb")


def _client(name: str, tmp_path: Path) -> Any:
    import nbclient  # the dev extra installs both
    import nbformat

    nb = nbformat.read(EXAMPLES / name, as_version=4)
    # committed without outputs: no stale numbers in the repository
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, name
    return nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                   resources={"metadata": {"path": str(tmp_path)}})


def execute_all(runs: dict[str, tuple[Path, dict[str, str]]]) -> dict[str, Any]:
    """Executes each notebook ``name -> (working dir, extra kernel env)`` concurrently.

    Returns ``name -> the executed notebook``, or the exception its execution raised.
    """
    clients = {name: _client(name, tmp) for name, (tmp, _) in runs.items()}

    async def run_all() -> list[Any]:
        return await asyncio.gather(
            *(clients[name].async_execute(env={**os.environ, **env})
              for name, (_, env) in runs.items()),
            return_exceptions=True,
        )

    results = asyncio.run(run_all())
    return {name: clients[name].nb if not isinstance(result, BaseException) else result
            for name, result in zip(runs, results)}


@pytest.fixture(scope="module")
def executed(data_dir, cfpb_csv, tmp_path_factory) -> dict[str, Any]:
    tmp = {name: tmp_path_factory.mktemp(name.split(".")[0]) for name in NOTEBOOKS}
    results_path = tmp["complaints.ipynb"] / "results.json"
    runs = {
        "spam_tutorial.ipynb": (tmp["spam_tutorial.ipynb"], {}),
        "complaints.ipynb": (tmp["complaints.ipynb"],
                             {"TFSNORKEL_NOTEBOOK_RESULTS": str(results_path)}),
    }
    out = execute_all(runs)
    out["complaints results"] = results_path
    return out


def notebook(executed: dict[str, Any], name: str) -> Any:
    nb = executed[name]
    if isinstance(nb, BaseException):
        raise nb
    return nb


def figures(nb: Any) -> list[int]:
    """Indices of the code cells that displayed a PNG figure."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]


def cell_index(nb: Any, start: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                and "".join(c.source).startswith(start))


@pytest.mark.data
@pytest.mark.slow
def test_spam_tutorial_notebook_runs(executed):
    nb = notebook(executed, "spam_tutorial.ipynb")
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "identical to the shipped weak labels on the tutorial columns: True" in text
    # The crowd worker is used as an LF: the label model's dev accuracy with and without it.
    assert "without the worker" in text and "with the worker" in text
    # One figure (LF coverage/accuracy, learned vs dev accuracies, calibration, confusion
    # matrix), from the cell that draws it.
    assert figures(nb) == [cell_index(nb, "import matplotlib.pyplot as plt")]


@pytest.mark.data
@pytest.mark.slow
def test_complaints_notebook_label_model_beats_majority_vote(executed):
    nb = notebook(executed, "complaints.ipynb")
    # The LF summary figure and the label model's (learned vs dev accuracies, calibration,
    # confusion matrix).
    assert figures(nb) == [cell_index(nb, "ax = ts.plot_lf_summary("),
                           cell_index(nb, "import matplotlib.pyplot as plt")]
    results = json.loads(executed["complaints results"].read_text())
    assert results["label model"]["f1_macro"] > results["majority vote"]["f1_macro"]
    assert results["label model"]["accuracy"] >= results["majority vote"]["accuracy"]
