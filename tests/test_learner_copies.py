"""Learner copies (python -m widgets.labs, `make lab`): output-free, never overwritten, and the
tracked labs/ never written to."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from widgets import manifest
from widgets.labs import main

ROOT = Path(__file__).resolve().parents[1]
LABS = [ROOT / "labs" / lab.notebook for lab in manifest.LABS]


def _digest(paths: list[Path]) -> str:
    return hashlib.sha256(b"".join(path.read_bytes() for path in paths)).hexdigest()


@pytest.fixture
def copies(tmp_path: Path) -> Path:
    before = _digest(LABS)
    assert main(["--labs", str(ROOT / "labs"), "--into", str(tmp_path / "my-labs")]) == 0
    yield tmp_path / "my-labs"
    assert _digest(LABS) == before, "labs/ must never be written to"


def test_copies_have_every_cell_and_no_output(copies: Path) -> None:
    assert [path.name for path in sorted(copies.glob("*.ipynb"))] == [lab.name for lab in LABS]
    for lab in LABS:
        original, copy = json.loads(lab.read_text()), json.loads((copies / lab.name).read_text())
        assert [c["source"] for c in copy["cells"]] == [c["source"] for c in original["cells"]]
        code = [cell for cell in copy["cells"] if cell["cell_type"] == "code"]
        assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
        assert all("execution" not in cell["metadata"] for cell in copy["cells"])
        assert "widgets" not in copy["metadata"]  # saved widget views show answers too
        assert copy["metadata"]["kernelspec"] == original["metadata"]["kernelspec"]


def test_a_learners_edits_are_never_overwritten(copies: Path) -> None:
    edited = copies / LABS[0].name
    edited.write_text(edited.read_text().replace("answer = None", "answer = 42", 1))
    mine = edited.read_text()
    assert main(["--labs", str(ROOT / "labs"), "--into", str(copies)]) == 0
    assert edited.read_text() == mine


def test_fresh_replaces_one_copy_and_keeps_the_old_one(copies: Path, capsys) -> None:
    lab = copies / LABS[2].name
    lab.write_text(lab.read_text().replace("answer = None", "answer = 42", 1))
    edited, untouched = lab.read_text(), (copies / LABS[0].name).read_text()
    assert main(["--labs", str(ROOT / "labs"), "--into", str(copies), "--fresh", "3"]) == 0
    assert "answer = 42" not in lab.read_text()
    (backup,) = (copies / "backup").glob(f"{LABS[2].stem}-*.ipynb")
    assert backup.read_text() == edited
    assert (copies / LABS[0].name).read_text() == untouched
    assert f"your old copy: {backup}" in capsys.readouterr().out


def test_fresh_names_the_labs_when_one_does_not_exist(copies: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["--labs", str(ROOT / "labs"), "--into", str(copies), "--fresh", "9"])
    assert "lab must be one of 01, 02, 03, 04, 05; got '9'" in capsys.readouterr().err


def test_learner_copies_are_git_ignored() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "my-labs/01_activation_functions.ipynb"], cwd=ROOT
    )
    assert ignored.returncode == 0


def test_make_lab_makes_the_copies_and_opens_them() -> None:
    plan = subprocess.run(
        ["make", "-n", "-W", ".venv/.installed", "lab"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "-m widgets.labs --into my-labs" in plan
    assert "--LabApp.default_url=/lab/tree/my-labs" in plan
    fresh = subprocess.run(
        ["make", "-n", "fresh-lab", "LAB=03"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert "-m widgets.labs --into my-labs --fresh 03" in fresh
