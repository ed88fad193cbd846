"""pyproject.toml declares what the code imports, and `make test-lowest` tests its lower bounds."""

from __future__ import annotations

import ast
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version
from test_binder import ROOT, pins

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
RUNTIME = [Requirement(spec) for spec in PROJECT["dependencies"]]
TEST = [Requirement(spec) for spec in PROJECT["optional-dependencies"]["test"]]
LOWEST = {canonicalize_name(name): v for name, v in pins(ROOT / "constraints-lowest.txt").items()}
# the only torch build on this machine: any other is a multi-GB download
LOCAL_BUILDS = {"torch", "torchvision"}


def imported_distributions(folder: Path) -> set[str]:
    """Distributions (canonical names) whose modules the .py files under `folder` import;
    the standard library and the repo's own modules (`widgets`, tests' helpers) left out."""
    top_level = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                top_level |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                top_level.add(node.module.split(".")[0])
    owners = packages_distributions()
    return {
        canonicalize_name(owners[module][0])
        for module in top_level - set(sys.stdlib_module_names)
        if module in owners and module != "widgets"
    }


def names(requirements: list[Requirement]) -> set[str]:
    return {canonicalize_name(requirement.name) for requirement in requirements}


def test_the_package_declares_every_package_it_imports():
    undeclared = imported_distributions(ROOT / "widgets") - names(RUNTIME)
    assert not undeclared, f"widgets/ imports {sorted(undeclared)}: add them to dependencies"


def test_the_test_extra_declares_every_package_the_tests_import():
    undeclared = imported_distributions(ROOT / "tests") - names(RUNTIME) - names(TEST)
    assert not undeclared, f"tests/ import {sorted(undeclared)}: add them to the test extra"


@pytest.mark.parametrize("requirement", RUNTIME, ids=str)
def test_lowest_constraints_pin_each_runtime_dependency_at_its_lower_bound(requirement):
    name = canonicalize_name(requirement.name)
    assert name in LOWEST, f"constraints-lowest.txt does not pin {name}"
    if name in LOCAL_BUILDS:
        assert LOWEST[name] == pins(ROOT / "constraints.txt")[name]
        return
    lower_bounds = [
        Version(spec.version) for spec in requirement.specifier if spec.operator == ">="
    ]
    assert lower_bounds == [Version(LOWEST[name])], (
        f"{requirement}: the lowest pin is {LOWEST[name]}"
    )


@pytest.mark.parametrize("requirement", TEST, ids=str)
def test_lowest_constraints_pin_each_test_tool_at_an_admitted_version(requirement):
    name = canonicalize_name(requirement.name)
    assert name in LOWEST, f"constraints-lowest.txt does not pin {name} (the run would drift)"
    assert requirement.specifier.contains(LOWEST[name])
