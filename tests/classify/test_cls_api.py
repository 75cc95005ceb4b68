"""Public names of the classify, metrics and export stages: sorted __all__, resolvable names.

Which of them the package root re-exports is curated in tfsnorkel/__init__.py and checked in
tests/test_public_api.py.
"""

from __future__ import annotations

import importlib

import pytest

import tfsnorkel as ts

MODULES = [
    "tfsnorkel.classify",
    "tfsnorkel.classify.data",
    "tfsnorkel.classify.losses",
    "tfsnorkel.classify.models",
    "tfsnorkel.classify.softlabels",
    "tfsnorkel.export",
    "tfsnorkel.metrics",
]

REQUIRED = {
    "NoiseAwareLoss", "noise_aware_loss", "soft_label_dataset", "stream_soft_labels",
    "text_classifier", "tabular_classifier", "expand_soft_labels", "write_soft_labels",
    "read_soft_labels", "export_pipeline", "evaluate", "metric_score", "lf_report",
    "confusion_matrix", "predict_proba", "gold_dataset",
}


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_resolves(name):
    mod = importlib.import_module(name)
    assert list(mod.__all__) == sorted(mod.__all__)
    for public in mod.__all__:
        assert hasattr(mod, public), f"{name}.{public}"
        if public in ts.__all__:
            assert getattr(mod, public) is getattr(ts, public)


def test_required_names_are_public():
    assert REQUIRED <= set(ts.__all__)
