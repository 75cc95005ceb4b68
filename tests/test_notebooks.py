"""The Colab notebooks in examples/, executed headless as a user would run them top to bottom."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def execute(name: str, tmp_path: Path, **env: str):
    import nbclient  # the dev extra installs both
    import nbformat

    nb = nbformat.read(EXAMPLES / name, as_version=4)
    # committed without outputs: no stale numbers in the repository
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, name
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


@pytest.mark.data
@pytest.mark.slow
def test_spam_tutorial_notebook_runs(data_dir, tmp_path):
    nb = execute("spam_tutorial.ipynb", tmp_path)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "identical to the shipped weak labels on the tutorial columns: True" in text


@pytest.mark.data
@pytest.mark.slow
def test_complaints_notebook_label_model_beats_majority_vote(cfpb_csv, tmp_path):
    results_path = tmp_path / "results.json"
    execute("complaints.ipynb", tmp_path, TFSNORKEL_NOTEBOOK_RESULTS=str(results_path))
    results = json.loads(results_path.read_text())
    assert results["label model"]["f1_macro"] > results["majority vote"]["f1_macro"]
    assert results["label model"]["accuracy"] >= results["majority vote"]["accuracy"]
