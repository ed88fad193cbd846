"""Meta-tests of the labs: nbval really compares their key numbers, and each lab has its parts.

nbval (`pytest --nbval labs`) re-runs every lab and compares each cell's output with the saved
one, except cells marked `# NBVAL_IGNORE_OUTPUT` (timings, widget views). These tests make sure
that comparison has something to compare, and that a wrong saved number does make it fail.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from widgets import manifest
from widgets.exercises import Exercise

LABS_DIR = Path(__file__).resolve().parent.parent / "labs"
LABS = [LABS_DIR / lab.notebook for lab in manifest.LABS]
SANITIZE = LABS_DIR / "sanitize.cfg"
IGNORED = ("NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP")
NUMBER = re.compile(r"\d[\d,]*(\.\d+)?")


def _code_cells(lab: Path) -> list[dict]:
    return [cell for cell in json.loads(lab.read_text())["cells"] if cell["cell_type"] == "code"]


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _output_text(cell: dict) -> str:
    """The text nbval compares: printed streams and the plain-text results."""
    parts = []
    for output in cell["outputs"]:
        text = output.get("text") or output.get("data", {}).get("text/plain", "")
        parts.append("".join(text))
    return "".join(parts)


def _compared_number_cells(lab: Path) -> list[dict]:
    """Code cells whose saved output nbval compares and that print numbers."""
    return [
        cell
        for cell in _code_cells(lab)
        if not any(marker in _source(cell) for marker in IGNORED)
        and NUMBER.search(_output_text(cell))
    ]


def test_all_five_labs_exist() -> None:
    assert [lab.name[:2] for lab in LABS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.stem)
def test_lab_is_saved_run_in_order_without_errors(lab: Path) -> None:
    cells = _code_cells(lab)
    counts = [cell["execution_count"] for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), "run top to bottom once, then save"
    for cell in cells:
        assert all(output["output_type"] != "error" for output in cell["outputs"]), _source(cell)


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.stem)
def test_lab_has_compared_cells_with_numbers(lab: Path) -> None:
    assert len(_compared_number_cells(lab)) >= 3


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.stem)
def test_lab_has_goals_exercises_and_what_to_remember(lab: Path) -> None:
    cells = json.loads(lab.read_text())["cells"]
    assert "Learning goals" in "".join(cells[1]["source"])  # cells[0]: the header (test_guides)
    assert "What to remember" in "".join(cells[-1]["source"])
    sources = [_source(cell) for cell in _code_cells(lab)]
    module = f"lab{lab.name[:2]}"
    checks = [s for s in sources if re.match(rf"{module}\.\w+\.check\(answer\)$", s.strip())]
    assert len(checks) >= 3, "at least three exercises checked by widgets.exercises"
    assert sum(s.startswith("answer = None") for s in sources) == len(checks)


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.stem)
def test_saved_outputs_do_not_give_exercise_answers_away(lab: Path) -> None:
    module = importlib.import_module(f"widgets.exercises.lab{lab.name[:2]}")
    answers = {
        f"{round(exercise.answer):,}"
        for exercise in module.lab.items().values()  # built on first use too: order-free
        if isinstance(exercise, Exercise)
        and not exercise.choices
        # small numbers (0, 4, 0.25) turn up in any output; counts of 4+ digits do not
        and abs(exercise.answer) >= 1000
        and float(exercise.answer).is_integer()
    }
    saved = " ".join(_output_text(cell) for cell in _code_cells(lab))
    printed = {match.group() for match in NUMBER.finditer(saved)}
    printed |= {f"{int(n):,}" for n in printed if n.isdigit()}  # 73856 is 73,856
    assert not answers & printed


def test_a_wrong_saved_number_makes_nbval_fail(tmp_path: Path) -> None:
    lab = LABS_DIR / "03_transformers_attention.ipynb"  # the quickest lab to run
    notebook = json.loads(lab.read_text())
    count = re.compile(r"\d{1,3}(,\d{3})+")  # a count printed with thousands separators
    compared = _compared_number_cells(lab)
    stream = next(
        output
        for cell in notebook["cells"]
        if cell in compared
        for output in cell["outputs"]
        if count.search("".join(output.get("text", "")))  # printed (a stream), not displayed
    )
    text = "".join(stream["text"])
    right = count.search(text).group()
    wrong = right[:-1] + str((int(right[-1]) + 1) % 10)  # off by one in the last digit
    stream["text"] = text.replace(right, wrong, 1)
    altered = tmp_path / lab.name
    altered.write_text(json.dumps(notebook))

    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
         "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE), str(altered)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"\b1 failed, \d+ passed", run.stdout), run.stdout
    assert wrong in run.stdout and right in run.stdout  # nbval shows saved and computed output
