"""Grade submitted lab notebooks: run each in a fresh kernel, then read what its exercises saw.

The exercise objects record every answer checked in the kernel (widgets.exercises.Record). The
grader runs a submission's code cells in order, as "Run All" would (stopping at the first error,
and at the time limit for the whole notebook), then runs one more cell of its own that prints
those records as JSON. So the answer graded is the one the learner's check cell checked, and a
notebook that raises, loops or is not a notebook at all costs its own rows, never the run.

    python -m widgets.exercises grade submissions/*.ipynb --csv grades.csv --timeout 120
"""

from __future__ import annotations

import csv
import json
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from . import items_of, lab_modules

MARKER = "effml-widgets-grades:"  # starts the line of JSON the grader's own cell prints
_COLLECT = "from widgets.exercises import grading\ngrading.print_records({labs!r})"
_LAB_USE = re.compile(r"\blab(\d\d)\b")
_COLLECT_TIMEOUT_S = 30  # for the grader's own cell, after the learner's


@dataclass(frozen=True)
class Grade:
    """One row of the CSV: a notebook's result on one exercise."""

    notebook: str
    lab: str
    exercise: str
    status: str  # correct, wrong, unanswered or error
    answer: str  # the last answer checked ('' if none)
    revealed: str  # 'yes' if the learner looked at the worked solution
    detail: str  # why it is an error, or the feedback the learner got


def records(labs: Sequence[str]) -> list[dict[str, Any]]:
    """The records of every exercise of the labs, in this process (run inside the kernel)."""
    return [
        {"lab": module.__name__.rsplit(".", 1)[-1], "exercise": name}
        | {field.name: getattr(item.record, field.name) for field in fields(item.record)}
        for module in lab_modules(*labs)
        for name, item in items_of(module).items()
        if not hasattr(item, "predict")  # predictions are not graded
    ]


def print_records(labs: Sequence[str]) -> None:
    print(MARKER + json.dumps(records(labs)))


def labs_used(notebook: Any) -> list[str]:
    """The lab modules ('lab02') a notebook's code cells use, among those that exist."""
    known = {module.__name__.rsplit(".", 1)[-1] for module in lab_modules()}
    found = {
        f"lab{number}"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for number in _LAB_USE.findall(cell.source)
    }
    return sorted(found & known)


def _exercise_names(lab: str) -> list[str]:
    (module,) = lab_modules(lab)
    return [name for name, item in items_of(module).items() if not hasattr(item, "predict")]


def _errors(notebook: str, labs: Iterable[str], detail: str) -> list[Grade]:
    rows = [
        Grade(notebook, lab, name, "error", "", "", detail)
        for lab in labs
        for name in _exercise_names(lab)
    ]
    return rows or [Grade(notebook, "", "", "error", "", "", detail)]


def _lab_from_file_name(path: Path) -> list[str]:
    """For a file that is not a notebook: the lab its name suggests (01_... or lab01), if any."""
    known = {module.__name__.rsplit(".", 1)[-1] for module in lab_modules()}
    match = re.match(r"(\d\d)_", path.name) or re.search(r"lab(\d\d)", path.name)
    return [f"lab{match[1]}"] if match and f"lab{match[1]}" in known else []


def _answer_text(answer: Any) -> str:
    if answer is None:
        return ""
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer)


def _grade(notebook: str, record: dict[str, Any], problem: str) -> Grade:
    if record["checks"] == 0:  # its check cell never ran
        status, detail = ("error", problem) if problem else ("unanswered", "never checked")
    else:
        status = {"correct": "correct", "unanswered": "unanswered"}.get(record["status"], "wrong")
        detail = record["message"]
    revealed = "yes" if record["revealed"] else ""
    answer = _answer_text(record["answer"])
    return Grade(notebook, record["lab"], record["exercise"], status, answer, revealed, detail)


def _run(notebook: Any, client: Any, timeout_s: float) -> str:
    """Run the code cells in order; '' if all ran, else what stopped them."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError
    from nbclient.util import run_sync

    deadline = time.monotonic() + timeout_s
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        client.timeout = max(math.ceil(deadline - time.monotonic()), 1)  # whole seconds
        try:
            client.execute_cell(cell, index)
        except CellTimeoutError:
            # stop the cell but keep the kernel, and its records; wait for the cell's reply so
            # that the grader's own cell is not queued behind it (and aborted with it)
            run_sync(client.km.interrupt_kernel)()
            run_sync(client.kc.shell_channel.get_msg)(timeout=_COLLECT_TIMEOUT_S)
            return (
                f"cell {index + 1} still ran at the time limit ({timeout_s:g} s for the notebook)"
            )
        except CellExecutionError as error:
            return f"cell {index + 1} raised {error.ename}: {error.evalue}"
    return ""


def grade_notebook(path: Path, timeout_s: float = 300, kernel_name: str = "python3") -> list[Grade]:
    """The rows of one submission: one per exercise of each lab it uses."""
    import nbformat
    from nbclient import NotebookClient

    name = str(path)
    try:
        notebook = nbformat.read(path, as_version=4)
    except Exception as error:  # not JSON, not a notebook, unreadable
        return _errors(name, _lab_from_file_name(path), f"not a valid notebook: {error}")
    labs = labs_used(notebook)
    if not labs:
        return _errors(name, [], "uses no lab of widgets.exercises")
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        allow_errors=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        with client.setup_kernel():
            problem = _run(notebook, client, timeout_s)
            collect = nbformat.v4.new_code_cell(_COLLECT.format(labs=labs))
            notebook.cells.append(collect)
            client.timeout = _COLLECT_TIMEOUT_S
            client.execute_cell(collect, len(notebook.cells) - 1)
    except Exception as error:  # the kernel died, or is stuck in learner code
        return _errors(name, labs, f"could not run the notebook: {type(error).__name__}: {error}")
    lines = [
        line
        for output in collect.outputs
        if output.get("name") == "stdout"
        for line in output.text.splitlines()
        if line.startswith(MARKER)
    ]
    if not lines:
        return _errors(name, labs, "the grader's cell printed no records")
    return [_grade(name, record, problem) for record in json.loads(lines[-1][len(MARKER) :])]


def grade(
    notebooks: Sequence[Path], csv_path: Path, timeout_s: float = 300, kernel_name: str = "python3"
) -> int:
    """Grade each notebook into one CSV; 0 if every row was graded, 1 if some could not be."""
    rows: list[Grade] = []
    with open(csv_path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([field.name for field in fields(Grade)])
        for path in notebooks:
            try:
                graded = grade_notebook(Path(path), timeout_s, kernel_name)
            except Exception as error:  # a notebook of a shape nothing above expected
                graded = _errors(str(path), [], f"could not grade: {type(error).__name__}: {error}")
            writer.writerows(astuple(row) for row in graded)
            file.flush()  # a grading run of a class takes a while: keep what is done
            counts = {status: 0 for status in ("correct", "wrong", "unanswered", "error")}
            for row in graded:
                counts[row.status] += 1
            summary = ", ".join(f"{count} {status}" for status, count in counts.items())
            print(f"{path}: {summary}", flush=True)
            rows += graded
    return 1 if any(row.status == "error" for row in rows) else 0
