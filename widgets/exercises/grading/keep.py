"""What is kept per submission (`--keep DIR`): the executed notebook, for a dispute, and a
short feedback file for the student (what was right, the hint for each wrong answer).

The executed notebook holds the outputs the grader read while it ran the cells (up to the output
cap), the cells after a stop left empty. The feedback leaves out the flags: those are for TAs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nbformat

if TYPE_CHECKING:
    from .report import Grade
    from .run import Run


def write_executed(notebook: Any, run: Run, path: Path) -> None:
    """The submission with the outputs of its run, as `path`."""
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code":
            cell.outputs = run.outputs.get(number, [])
    nbformat.write(notebook, path)


def feedback_text(notebook: str, rows: Sequence[Grade]) -> str:
    """Markdown: one line per exercise, its status, the answer and the feedback it earned."""
    lines = [f"# Feedback on {Path(notebook).name}", ""]
    if rows and rows[0].stopped:
        lines += [f"The run stopped: {rows[0].stopped}.", ""]
    for row in rows:
        if not row.exercise:
            lines.append(f"- {row.status}: {row.detail}")
            continue
        answer = f" (your answer: {row.answer})" if row.answer else ""
        lines.append(f"- **{row.lab}.{row.exercise}**: {row.status}{answer}: {row.detail}")
    correct = sum(row.status == "correct" for row in rows)
    lines += ["", f"{correct} of {len([row for row in rows if row.exercise])} correct."]
    return "\n".join(lines) + "\n"
