"""Every docstring example in the package runs as written (a generic contract check)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import tfsnorkel

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(tfsnorkel.__path__, "tfsnorkel.")
    if not m.name.endswith("__main__")  # importing it runs the command
)


def test_every_module_is_listed():
    assert {"tfsnorkel.labelmodel.layer", "tfsnorkel.classify.training"} <= set(MODULES)
    assert len(MODULES) >= 25


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
