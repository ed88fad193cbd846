"""What a check says: a small coloured box in the notebook, plain text for nbval."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from widgets.ui import style

# status -> (symbol, colour of the box)
LOOKS = {
    "correct": ("✔", style.GREEN),
    "wrong": ("✘", style.VERMILLION),
    "unanswered": ("…", style.GREY),
    "invalid": ("?", style.ORANGE),
    "revealed": ("◆", style.BLUE),
}


@dataclass(frozen=True)
class Feedback:
    """What check() or predict() says; a notebook shows it as a small coloured box.

    status: "correct", "wrong", "unanswered", "invalid" (not a usable answer) or "revealed"
    (a prediction shown beside the measured value, and not close to it).
    """

    status: str
    message: str

    @property
    def correct(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        return f"{LOOKS[self.status][0]} {self.message}"

    __repr__ = __str__  # the notebook's plain-text output, which nbval compares

    def _repr_html_(self) -> str:
        symbol, colour = LOOKS[self.status]
        lines = ";white-space:pre-line" if "\n" in self.message else ""  # a worked solution
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px;margin:2px 0{lines}">'
            f'<span style="color:{colour};font-weight:bold">{symbol}</span> '
            f"{html.escape(self.message)}</div>"
        )


_Method = TypeVar("_Method", bound=Callable[..., "Feedback"])


def never_raises(method: _Method) -> _Method:
    """Feedback instead of a traceback, whatever the learner passed in (a last resort)."""

    @functools.wraps(method)
    def guarded(self: Any, *args: Any) -> Feedback:
        try:
            return method(self, *args)
        except Exception as error:  # an answer whose comparison or conversion fails
            return Feedback(
                "invalid", f"Could not use this answer: {type(error).__name__}: {error}"
            )

    return guarded  # type: ignore[return-value]


def numbered_steps(solution: Sequence[str]) -> str:
    """'1. first step\n2. second step'."""
    return "\n".join(f"{number}. {step}" for number, step in enumerate(solution, 1))


def format_answer(value: float | str, unit: str) -> str:
    """12345.0 -> '12,345 unit', 3.9612 -> '3.96 unit'; names as they are."""
    if isinstance(value, str):
        text = value
    elif float(value).is_integer() and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}" if unit else text
