"""The LMS export: one row per student, a point per correct exercise, the total, the flags.

The student id comes from the file name, by a regular expression the instructor gives (its
first group, or the group named `id`): with `--student-id "(\\d+)_lab03"`, `123456_lab03.ipynb`
is student 123456. Flagged submissions keep their points: the `flags` column says what to
review before the grades go out.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report import Grade


def student_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled pattern; ValueError if it does not compile or has no group."""
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise ValueError(f"--student-id is not a regular expression: {error}") from None
    if compiled.groups == 0:
        raise ValueError(
            f"--student-id needs a group around the id, e.g. '(\\d+)_lab03'; got {pattern!r}"
        )
    return compiled


def student_id(notebook: str, pattern: re.Pattern[str] | None) -> str:
    """The id in the notebook's file name ('' if it does not match); its stem without a pattern."""
    name = Path(notebook).name
    if pattern is None:
        return Path(notebook).stem
    match = pattern.search(name)
    if match is None:
        return ""
    return match["id"] if "id" in pattern.groupindex else match[1]


def write_lms(rows: Sequence[Grade], path: Path, pattern: re.Pattern[str] | None = None) -> None:
    """One row per notebook: student, notebook, a column per exercise (1 if correct, else 0),
    total, out_of, flags (and a note when the file name does not match the pattern)."""
    exercises = list(dict.fromkeys(f"{row.lab}.{row.exercise}" for row in rows if row.exercise))
    notebooks: dict[str, list[Grade]] = {}
    for row in rows:
        notebooks.setdefault(row.notebook, []).append(row)
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["student", "notebook", *exercises, "total", "out_of", "flags"])
        for notebook, graded in notebooks.items():
            points = {f"{row.lab}.{row.exercise}": int(row.status == "correct") for row in graded}
            student = student_id(notebook, pattern)
            notes = [graded[0].flags] if graded[0].flags else []
            if not student:
                notes.insert(0, "the file name does not match --student-id")
            writer.writerow(
                [
                    student,
                    notebook,
                    *(points.get(name, "") for name in exercises),
                    sum(points.values()),
                    len([row for row in graded if row.exercise]),
                    "; ".join(notes),
                ]
            )
