"""widgets.manifest is the one list of the labs: the README, the labs folder and the exercise
modules agree with it."""

from __future__ import annotations

from pathlib import Path

from widgets import manifest
from widgets.exercises import lab_modules

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_table_is_the_manifests() -> None:
    readme = (ROOT / "README.md").read_text()
    assert manifest.readme_table() in readme
    assert readme.count("| [0") == len(manifest.LABS)  # each lab once
    badge = next(line for line in readme.splitlines() if "badge_logo.svg" in line)
    assert badge.endswith(f"({manifest.LABS[0].binder_url})")


def test_the_labs_and_the_exercise_modules_are_the_manifests() -> None:
    on_disk = sorted(path.name for path in (ROOT / "labs").glob("[0-9][0-9]_*.ipynb"))
    assert on_disk == [lab.notebook for lab in manifest.LABS]
    assert [module.lab.name for module in lab_modules()] == [lab.module for lab in manifest.LABS]
    assert all(lab.notebook.startswith(f"{lab.number}_") for lab in manifest.LABS)
