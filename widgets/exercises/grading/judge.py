"""Judge an answer read from a submission, in the grader's own process.

The reference answers are computed here, by importing the lab modules; the learner's kernel only
supplies the values of its answers. Each answer is checked by a fresh copy of the exercise, so
nothing a notebook did to its own exercises (or an earlier answer) changes the verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Any

from ..checks import Exercise
from ..lab import items_of, lab_modules


@dataclass(frozen=True)
class Unreadable:
    """An answer that is neither a number, a string nor None: only its repr reached the grader."""

    text: str

    def __repr__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Verdict:
    """The grader's verdict on one answer."""

    status: str  # correct, wrong or unanswered
    answer: str  # the answer as the CSV shows it
    detail: str  # the feedback the learner got


@cache
def exercise(lab: str, name: str) -> Exercise:
    """The exercise as the package defines it (built on first use, once per grader process)."""
    (module,) = lab_modules(lab)
    item = items_of(module).get(name)
    if not isinstance(item, Exercise):
        raise ValueError(f"{lab} has no exercise {name!r}")
    return item


def judge(lab: str, name: str, answer: Any) -> Verdict:
    """The verdict of the exercise's checker on `answer`, as the learner's check gave it."""
    feedback = replace(exercise(lab, name)).check(answer)
    status = {"correct": "correct", "unanswered": "unanswered"}.get(feedback.status, "wrong")
    return Verdict(status, answer_text(answer), feedback.message)


def answer_text(answer: Any) -> str:
    """The answer for the CSV: '' for none, whole numbers without '.0'."""
    if answer is None:
        return ""
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return str(answer)
