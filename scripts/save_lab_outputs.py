"""Run each lab top to bottom in a fresh kernel and save it with its outputs and widget state.

After a change to the package, this refreshes what strict nbval compares (`make test`) and what
a lab shows before it is run (on GitHub, or in JupyterLab before Run All).

Usage: python scripts/save_lab_outputs.py [labs/01_activation_functions.ipynb ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
from nbclient import NotebookClient

LABS_DIR = Path(__file__).resolve().parent.parent / "labs"


def save_outputs(path: Path) -> None:
    """Execute the notebook at `path` from the labs folder and write it back in place."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=300, store_widget_state=True,
        resources={"metadata": {"path": str(path.parent)}},
    )  # fmt: skip
    client.execute()
    nbformat.write(notebook, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "labs", nargs="*", type=Path, default=sorted(LABS_DIR.glob("[0-9][0-9]_*.ipynb"))
    )
    for path in parser.parse_args().labs:
        save_outputs(path)
        print(f"saved {path}")


if __name__ == "__main__":
    main()
