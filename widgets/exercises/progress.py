"""The learner's progress: one row per exercise and prediction of the labs."""

from __future__ import annotations

import html
from dataclasses import dataclass
from types import ModuleType

from .checks import Exercise, Prediction
from .feedback import LOOKS, format_answer
from .lab import imported_labs, lab_modules


@dataclass(frozen=True)
class ProgressRow:
    lab: str
    name: str
    kind: str  # "exercise" or "prediction"
    status: str  # unanswered, wrong, correct or revealed
    tries: int  # wrong answers checked (exercises)
    answer: float | str | None  # the last answer (exercises), the first guess (predictions)


def _row(lab: str, name: str, item: Exercise | Prediction) -> ProgressRow:
    record = item.record
    if isinstance(item, Prediction):
        answer = item.first_guess
        status = record.status if answer is not None else "unanswered"
        if answer is None and record.revealed:
            status = "revealed"
        return ProgressRow(lab, name, "prediction", status, 0, answer)
    if record.revealed_first:
        status = "revealed"
    elif record.solved:
        status = "correct"
    elif record.tries:
        status = "wrong"
    else:
        status = "unanswered"
    return ProgressRow(lab, name, "exercise", status, record.tries, record.answer)


@dataclass(frozen=True)
class Progress:
    """The table progress() shows: one row per exercise and prediction."""

    rows: tuple[ProgressRow, ...]

    def _cells(self, row: ProgressRow) -> list[str]:
        if row.status == "wrong" and row.kind == "exercise":
            status = f"wrong ({row.tries} {'try' if row.tries == 1 else 'tries'})"
        elif row.kind == "prediction" and row.status in ("correct", "wrong"):
            status = f"predicted ({'close' if row.status == 'correct' else 'off'})"
        else:
            status = row.status
        answer = "" if row.answer is None else format_answer(row.answer, "")
        return [row.lab, row.name, row.kind, status, answer]

    _HEADER = ("lab", "exercise", "kind", "status", "last answer / first guess")

    def __repr__(self) -> str:
        table = [list(self._HEADER), *(self._cells(row) for row in self.rows)]
        widths = [max(len(line[column]) for line in table) for column in range(len(self._HEADER))]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
            for line in table
        ]
        done = sum(row.status in ("correct", "revealed") for row in self.rows)
        return "\n".join([*lines, f"{done} of {len(self.rows)} done"]).rstrip()

    __str__ = __repr__

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{cell}</th>" for cell in self._HEADER)
        body = []
        for row in self.rows:
            colour = LOOKS["invalid" if row.status == "wrong" else row.status][1]
            cells = [html.escape(cell) for cell in self._cells(row)]
            cells[3] = f"<span style='color:{colour};font-weight:bold'>{cells[3]}</span>"
            body.append(
                "<tr>" + "".join(f"<td style='text-align:left'>{c}</td>" for c in cells) + "</tr>"
            )
        done = sum(row.status in ("correct", "revealed") for row in self.rows)
        return (
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"<p>{done} of {len(self.rows)} done</p>"
        )


def progress(*labs: ModuleType | str | int) -> Progress:
    """Each exercise and prediction of the labs: unanswered, wrong (tries), correct or revealed.

    labs: lab modules or numbers (progress(2), progress("lab02")); by default the labs imported
    in this kernel, or all of them if none is.
    """
    modules = lab_modules(*labs) if labs else (imported_labs() or lab_modules())
    return Progress(
        tuple(
            _row(module.__name__.rsplit(".", 1)[-1], name, item)
            for module in modules
            for name, item in module.lab.items().items()
        )
    )
