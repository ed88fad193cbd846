"""The grades of submitted notebooks: one row per notebook and exercise, written as CSV."""

from __future__ import annotations

import csv
import os
import re
import shutil
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

import nbformat

from widgets.core.units import MIB

from .cells import Cell, code_cells, exercise_names, lab_aliases
from .flags import flags
from .judge import judge
from .keep import feedback_text, write_executed
from .lms import write_lms
from .run import run
from .sandbox import NOBODY, Limits, Sandbox, require_tools
from .stamp import read_stamp, stamp_flags

STATUSES = ("correct", "wrong", "unanswered", "error")
MAX_NOTEBOOK_BYTES = 64 * MIB  # a submission is read whole into the grader's memory


@dataclass(frozen=True)
class Grade:
    """One row of the CSV: a notebook's result on one exercise."""

    notebook: str
    lab: str
    exercise: str
    status: str  # correct, wrong, unanswered or error
    answer: str  # the last answer checked ('' if none)
    detail: str  # the feedback the answer got, or why there is none
    stopped: str  # '' if every cell ran, else which cell stopped the run and why
    flags: str  # code for a human to review ('; '-separated), '' if none


def labs_used(cells: Sequence[Cell]) -> list[str]:
    """The labs whose exercises the cells check or whose modules they import (not comments)."""
    trees = [cell.tree for cell in cells if cell.tree is not None]
    found = {check.lab for cell in cells for check in cell.checks}
    found |= set(lab_aliases(trees).values())
    return sorted(found & set(exercise_names()))


def _lab_from_file_name(path: Path) -> list[str]:
    """For a file that is not a notebook: the lab its name suggests (03_... or lab03), if any."""
    match = re.match(r"(\d\d)_", path.name) or re.search(r"lab(\d\d)", path.name)
    return [f"lab{match[1]}"] if match and f"lab{match[1]}" in exercise_names() else []


def _errors(notebook: str, labs: Sequence[str], detail: str, flagged: str = "") -> list[Grade]:
    rows = [
        Grade(notebook, lab, name, "error", "", detail, "", flagged)
        for lab in labs
        for name in exercise_names()[lab]
    ]
    return rows or [Grade(notebook, "", "", "error", "", detail, "", flagged)]


def grade_notebook(
    path: Path,
    limits: Limits | None = None,
    sandboxed: bool = True,
    kernel_name: str = "python3",
    lab: str | None = None,
    keep: Path | None = None,
) -> list[Grade]:
    """The rows of one submission: one per exercise of `lab`, else of the lab its stamp names,
    else of each lab its code uses. With `keep`, the executed notebook is written there."""
    limits = limits or Limits()
    name = str(path)
    try:
        if Path(path).stat().st_size > MAX_NOTEBOOK_BYTES:
            raise ValueError(f"larger than {MAX_NOTEBOOK_BYTES // MIB} MiB")
        notebook = nbformat.read(path, as_version=4)
        cells = code_cells(notebook)
    except Exception as error:  # not JSON, not a notebook, unreadable
        detail = f"not a valid notebook: {type(error).__name__}: {error}"
        return _errors(name, [lab] if lab else _lab_from_file_name(Path(path)), detail)
    stamp = read_stamp(notebook)
    labs = [lab] if lab else [stamp.lab] if stamp.lab else labs_used(cells)
    others = sorted({check.lab for cell in cells for check in cell.checks} - set(labs))
    other_labs = [f"checks exercises of {', '.join(others)}, not graded here"] if others else []
    flagged = "; ".join(stamp_flags(stamp, lab) + other_labs + flags(cells))
    if not labs:
        return _errors(name, [], "uses no lab of widgets.exercises", flagged)
    sandbox = Sandbox(limits, enabled=sandboxed)
    try:
        copy = sandbox.folder / "work" / Path(path).name
        shutil.copyfile(path, copy)
        if sandboxed and os.geteuid() == 0:
            os.chown(copy, NOBODY, NOBODY)
        result = run(cells, sandbox, kernel_name)
    finally:
        sandbox.close()
    if keep is not None:
        write_executed(notebook, result, keep / Path(path).name)
    rows = []
    last_check = {
        (check.lab, check.exercise): cell.number for cell in cells for check in cell.checks
    }
    for lab in labs:
        for exercise in exercise_names()[lab]:
            key = (lab, exercise)
            if key in result.answers:
                verdict = judge(lab, exercise, result.answers[key])
                status, answer, detail = verdict.status, verdict.answer, verdict.detail
            elif key in result.unread:
                status, answer, detail = "error", "", result.unread[key]
            elif result.stopped and last_check.get(key, -1) >= result.stopped_at:
                status, answer, detail = "error", "", result.stopped
            else:
                status, answer, detail = "unanswered", "", "never checked"
            rows.append(Grade(name, lab, exercise, status, answer, detail, result.stopped, flagged))
    return rows


def summary(path: Any, rows: Sequence[Grade]) -> str:
    """The status line of one notebook: '03_x.ipynb: 5 correct, 1 wrong, ... [flagged]'."""
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row.status] += 1
    line = f"{path}: " + ", ".join(f"{count} {status}" for status, count in counts.items())
    if rows and rows[0].stopped:
        line += f" (stopped: {rows[0].stopped})"
    if any(row.flags for row in rows):
        line += " [flagged for review]"
    return line


def grade(
    notebooks: Sequence[Path],
    csv_path: Path,
    limits: Limits | None = None,
    sandboxed: bool = True,
    kernel_name: str = "python3",
    jobs: int = 1,
    lab: str | None = None,
    lms_path: Path | None = None,
    student_ids: re.Pattern[str] | None = None,
    keep: Path | None = None,
) -> int:
    """Grade each notebook into one CSV, `jobs` at a time, as a submission for `lab` ('lab03')
    if given, and into the LMS export `lms_path` if given (student ids from the file names by
    `student_ids`); with `keep`, each executed notebook and its feedback (NAME.feedback.md) are
    written there. 0 if every row was graded, 1 if some could not be."""
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    if lab is not None and lab not in exercise_names():
        raise ValueError(f"lab must be one of {', '.join(exercise_names())}; got {lab!r}")
    if sandboxed:
        require_tools()
    exercise_names()  # every lab imported and built here, before the threads start
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)

    def one(path: Path) -> list[Grade]:
        try:
            return grade_notebook(Path(path), limits, sandboxed, kernel_name, lab, keep)
        except Exception as error:  # a notebook of a shape nothing above expected
            return _errors(
                str(path), [lab] if lab else [], f"could not grade: {type(error).__name__}: {error}"
            )

    rows: list[Grade] = []
    with open(csv_path, "w", newline="") as file, ThreadPoolExecutor(jobs) as pool:
        writer = csv.writer(file)
        writer.writerow([field.name for field in fields(Grade)])
        for path, graded in zip(notebooks, pool.map(one, notebooks), strict=True):
            writer.writerows(astuple(row) for row in graded)
            if keep is not None:
                feedback = feedback_text(str(path), graded)
                (keep / f"{Path(path).stem}.feedback.md").write_text(feedback)
            file.flush()  # a grading run of a class takes a while: keep what is done
            print(summary(path, graded), flush=True)
            rows += graded
    if lms_path is not None:
        write_lms(rows, lms_path, student_ids)
    return 1 if any(row.status == "error" for row in rows) else 0
