"""Learner copies of the labs: the same notebooks without their saved outputs.

The labs in labs/ are saved with outputs (strict nbval compares them, and they read well on the
web), so they show the answers right under the prompts. A learner works in copies instead:

    python -m widgets.labs                # copy each lab missing from my-labs/, output-free
    python -m widgets.labs --fresh 03     # a fresh copy of lab 03; the old one moves to my-labs/backup/
    python -m widgets.labs release --repo URL --branch learner   # publish them: widgets/release.py

Copies are never overwritten: a learner's edits stay (`make lab` runs the first command before
it opens JupyterLab, binder/postBuild the same on Binder), and labs/ is never written to. Each copy
carries a stamp in its metadata, `{"effml_widgets": {"lab": "lab03", "version": "0.1.0"}}`: the
grader takes the lab from it and flags a copy of another lab or release.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

from widgets import __version__
from widgets.manifest import LABS

STAMP = "effml_widgets"  # the notebook metadata key of a learner copy's lab and release


def learner_copy(lab: Path, version: str = __version__) -> nbformat.NotebookNode:
    """The notebook without outputs, execution counts, run timings or saved widget state,
    stamped with its lab and the release `version` if it is one of the manifest's labs."""
    notebook = nbformat.read(lab, as_version=4)
    notebook.metadata.pop("widgets", None)  # widget views saved with the outputs
    info = {info.notebook: info for info in LABS}.get(lab.name)
    if info is not None:
        notebook.metadata[STAMP] = {"lab": info.module, "version": version}
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def copy_labs(labs_dir: Path, into: Path) -> list[Path]:
    """Write a learner copy of each lab that `into` does not have yet; the paths written."""
    into.mkdir(parents=True, exist_ok=True)
    written = []
    for lab in (labs_dir / info.notebook for info in LABS):
        target = into / lab.name
        if not lab.exists():
            continue
        if not target.exists():
            nbformat.write(learner_copy(lab), target)
            written.append(target)
    return written


def fresh_copy(labs_dir: Path, into: Path, number: str) -> tuple[Path, Path | None]:
    """Replace the copy of lab `number` ('03' or '3') by a fresh one; (copy, backup of the old)."""
    numbers = {info.number: info for info in LABS}
    info = numbers.get(f"{int(number):02d}") if number.isdigit() else None
    if info is None or not (labs_dir / info.notebook).exists():
        choices = ", ".join(n for n, i in numbers.items() if (labs_dir / i.notebook).exists())
        raise ValueError(f"lab must be one of {choices}; got {number!r}")
    lab = labs_dir / info.notebook
    target, backup = into / lab.name, None
    if target.exists():
        backup = into / "backup" / f"{lab.stem}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
        backup.parent.mkdir(parents=True, exist_ok=True)
        target.rename(backup)
    into.mkdir(parents=True, exist_ok=True)
    nbformat.write(learner_copy(lab), target)
    return target, backup


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["release"]:
        from widgets.release import main as release  # widgets.release imports this module

        return release(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m widgets.labs", description=__doc__)
    parser.add_argument("--labs", type=Path, default=Path("labs"), help="default: labs")
    parser.add_argument("--into", type=Path, default=Path("my-labs"), help="default: my-labs")
    parser.add_argument("--fresh", metavar="NN", help="replace the copy of lab NN by a fresh one")
    arguments = parser.parse_args(argv)
    if not any((arguments.labs / info.notebook).exists() for info in LABS):
        parser.error(f"none of the labs of widgets.manifest is in {arguments.labs}")
    if arguments.fresh is None:
        for path in copy_labs(arguments.labs, arguments.into):
            print(f"new learner copy: {path}")
        return 0
    try:
        target, backup = fresh_copy(arguments.labs, arguments.into, arguments.fresh)
    except ValueError as error:
        parser.error(str(error))
    print(f"fresh learner copy: {target}" + (f" (your old copy: {backup})" if backup else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
