"""Binder installs what the tests test (same dependencies, same versions, the CPU torch) and opens
learner copies of the labs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from packaging.requirements import Requirement

from widgets import manifest

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


def test_binder_post_build_makes_the_learner_copies(tmp_path: Path):
    post_build = ROOT / "binder" / "postBuild"
    assert os.access(post_build, os.X_OK), "repo2docker runs postBuild only if it is executable"
    lines = post_build.read_text().splitlines()
    assert lines[0] == "#!/bin/bash" and "set -euo pipefail" in lines
    shutil.copytree(ROOT / "labs", tmp_path / "labs")  # repo2docker runs it in the repository
    environment = os.environ | {
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
    }
    subprocess.run([str(post_build)], cwd=tmp_path, env=environment, check=True, timeout=60)
    labs = sorted(path.name for path in (ROOT / "labs").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(path.name for path in (tmp_path / "my-labs").glob("*.ipynb")) == labs
    for name in labs:
        cells = json.loads((tmp_path / "my-labs" / name).read_text())["cells"]
        assert all(not cell.get("outputs") for cell in cells)


def test_readme_launch_links_open_the_learner_copies():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/gh/[^)\s]+", readme)
    assert links
    labs = {path.name for path in (ROOT / "labs").glob("[0-9][0-9]_*.ipynb")}
    for link in links:
        path = re.search(r"urlpath=lab/tree/(\S+)", link)[1]
        assert path.startswith("my-labs/") and path.removeprefix("my-labs/") in labs, link


def test_the_launch_links_name_a_ref_of_this_repository():
    """Binder builds the ref the badge and the links name: the development branch, main, or a
    tag of this repository (a fresh clone may hold no other branch)."""
    readme = (ROOT / "README.md").read_text()
    links = set(re.findall(r"https://mybinder\.org/v2/gh/[^/]+/[^/]+/([^?)\s]+)", readme))
    assert links == {manifest.BINDER_REF}
    if manifest.BINDER_REF != "main":
        tags = subprocess.run(["git", "tag"], cwd=ROOT, capture_output=True, text=True)
        if tags.returncode != 0:
            pytest.skip(f"not a git checkout: {tags.stderr.strip()}")
        assert manifest.BINDER_REF in tags.stdout.split(), f"no tag {manifest.BINDER_REF} here"


def test_the_instructors_outputs_are_never_committed():
    """The answer key, the grades and the graded notebooks are git-ignored wherever written."""
    outputs = ["answer-key.md", "docs/answer-key.md", "grades.csv", "grades-lab03.csv", "lms.csv"]
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *outputs, "graded/x.ipynb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if ignored.returncode == 128:
        pytest.skip(f"not a git checkout: {ignored.stderr.strip()}")
    assert ignored.stdout.split() == [*outputs, "graded/x.ipynb"]
