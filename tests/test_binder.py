"""Binder installs what the tests test: same dependencies, same versions, the CPU torch."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def pins(path: Path) -> dict[str, str]:
    """name -> pinned version of every `name==version` line (local labels like +cpu dropped)."""
    found = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s+#]+)(\+\w+)?", line.strip())
        if match:
            found[match[1].lower()] = match[2]
    return found


def test_binder_pins_every_runtime_dependency_at_the_tested_version():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    binder = pins(ROOT / "binder" / "requirements.txt")
    tested = pins(ROOT / "constraints.txt")
    for spec in project["dependencies"]:
        requirement = Requirement(spec)
        name = requirement.name.lower()
        assert name in binder, f"binder/requirements.txt does not pin {name}"
        assert binder[name] == tested[name], f"{name}: binder {binder[name]}, tests {tested[name]}"
        assert requirement.specifier.contains(binder[name]), f"{name} {binder[name]} vs {spec}"


def test_binder_takes_the_cpu_torch_and_installs_the_package():
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    assert any(line.startswith("--extra-index-url") and line.endswith("/whl/cpu") for line in lines)
    assert any(line.startswith("torch==") and line.endswith("+cpu") for line in lines)
    assert any(line.startswith("torchvision==") and line.endswith("+cpu") for line in lines)
    assert "." in lines  # repo2docker ignores pyproject.toml when binder/ exists
    assert (ROOT / "binder" / "runtime.txt").read_text().strip() == "python-3.11"
