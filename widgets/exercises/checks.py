"""Exercises and predictions: a question, its computed answer, and the learner's record."""

from __future__ import annotations

import contextlib
import math
import numbers
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .feedback import Feedback, format_answer, never_raises, numbered_steps
from .mistakes import Mistake

REVEAL_AFTER_TRIES = 3  # wrong answers before the feedback offers the worked solution


@dataclass
class Record:
    """What the learner did with one exercise or prediction in this kernel.

    `answer` is the last answer checked (a number or a name; the repr of anything else) and
    `status` what its check said; `progress()` reports the whole history. The grader reads only
    `checks`, to know whether a check ran, and judges the answer itself.
    """

    status: str = "unanswered"  # of the last check: correct, wrong, unanswered or invalid
    answer: float | str | None = None
    message: str = ""  # what the last check said
    checks: int = 0  # check() calls
    tries: int = 0  # wrong answers checked
    solved: bool = False  # some answer was correct
    revealed: bool = False  # reveal() was called
    revealed_first: bool = False  # ... before any correct answer

    def add(self, answer: Any, feedback: Feedback) -> None:
        self.status, self.message = feedback.status, feedback.message
        self.answer = answer if isinstance(answer, float | str | None) else reprlib.repr(answer)
        self.checks += 1
        self.tries += feedback.status == "wrong"
        self.solved |= feedback.correct

    def reveal(self) -> None:
        self.revealed_first |= not self.solved
        self.revealed = True


@dataclass(frozen=True)
class Exercise:
    """A question with a computed reference answer, a generic hint and hints for typical mistakes.

    tolerance is relative (0.01: within 1%, enough for answers read off with 3 digits; 0: exact).
    For a named answer give `choices`; the answer and the mistakes are then names, compared
    without case. `solution` is the worked solution, one step a string with its numbers filled
    in; without one, reveal() shows the hint and the answer.
    """

    question: str
    answer: float | str = field(repr=False)  # shown by reveal(), never by displaying the object
    hint: str  # points at the idea, never gives the answer
    mistakes: Sequence[Mistake] = field(default=(), repr=False)
    unit: str = ""
    tolerance: float = 0.01
    choices: Sequence[str] = ()
    solution: Sequence[str] = field(default=(), repr=False)
    record: Record = field(default_factory=Record, init=False, repr=False, compare=False)
    name: str = field(default="", init=False, repr=False, compare=False)  # "lab02.conv_params"

    def __post_init__(self) -> None:
        # a definition mistake (an unreachable hint, an answer not among the choices) fails at
        # import, so the tests that import every lab module catch it
        for index, mistake in enumerate(self.mistakes):
            earlier = [self.answer, *(m.answer for m in self.mistakes[:index])]
            if any(self._matches(mistake.answer, value) for value in earlier):
                raise ValueError(
                    f"mistake {mistake.answer!r} is within tolerance of the answer or of an "
                    "earlier mistake: its hint could never be shown"
                )
        if self.choices and any(
            _normal(name) not in map(_normal, self.choices)
            for name in [self.answer, *(m.answer for m in self.mistakes)]
        ):
            raise ValueError(f"answer and mistakes must be among the choices {self.choices}")

    @never_raises
    def check(self, answer: Any) -> Feedback:
        """Feedback on the learner's `answer`: correct, a hint, or what is expected."""
        given = self._read(answer)
        feedback = given if isinstance(given, Feedback) else self._judge(given)
        self.record.add(answer if isinstance(given, Feedback) else given, feedback)
        if feedback.status == "wrong" and self.record.tries >= REVEAL_AFTER_TRIES:
            call = f"{self.name}.reveal()" if self.name else "reveal() on this exercise"
            return Feedback(
                feedback.status, f"{feedback.message} Stuck? {call} shows the worked solution."
            )
        return feedback

    @never_raises
    def reveal(self) -> Feedback:
        """The worked solution: each step with its numbers, then the answer."""
        self.record.reveal()
        steps = self.solution or [self.hint]
        answer = format_answer(self.answer, self.unit)
        return Feedback("revealed", f"Worked solution:\n{numbered_steps(steps)}\nAnswer: {answer}.")

    def forget(self) -> None:
        """Forget the answers checked so far and any reveal: progress starts over."""
        object.__setattr__(self, "record", Record())  # frozen: the record is the mutable part

    def _read(self, answer: Any) -> float | str | Feedback:
        """The answer as a number or a choice, or the Feedback saying why it is not one."""
        if answer is None or answer is ...:
            return Feedback("unanswered", f"Not answered yet. {self.question}")
        return _read_choice(answer, self.choices) if self.choices else _read_number(answer)

    def _judge(self, given: float | str) -> Feedback:
        if self._matches(given, self.answer):
            return Feedback("correct", self._correct_message(given))
        for mistake in self.mistakes:
            if self._matches(given, mistake.answer):
                return Feedback("wrong", f"Not quite. {mistake.hint}")
        if self.choices:
            return Feedback("wrong", f"Not quite. {self.hint}")
        direction = "high" if given > self.answer else "low"
        return Feedback("wrong", f"Not quite: your answer is too {direction}. {self.hint}")

    def _matches(self, given: float | str, expected: float | str) -> bool:
        if self.choices:
            return _normal(given) == _normal(expected)
        return math.isclose(given, expected, rel_tol=self.tolerance)

    def _correct_message(self, given: float | str) -> str:
        exact = format_answer(self.answer, self.unit)
        if self.choices or given == self.answer:
            return f"Correct: {exact}."
        return f"Correct (within {self.tolerance * 100:g}%): the exact value is {exact}."


@dataclass
class Prediction:
    """A question the learner answers with a guess before the measured value is revealed.

    The first guess is kept, so a guess changed after the reveal is shown beside it. A guess
    within `tolerance` (relative) of the measured value counts as close. `solution` is the worked
    solution (steps with their numbers), shown with the measured value.
    """

    question: str
    measured: float
    explanation: str  # why the measured value is what it is
    unit: str = ""
    tolerance: float = 0.1
    source: str = "measured"  # what the value is: "measured" only if timed, else "computed"
    solution: Sequence[str] = ()
    first_guess: float | None = field(default=None, init=False)
    record: Record = field(default_factory=Record, init=False, repr=False, compare=False)
    name: str = field(default="", init=False, repr=False, compare=False)  # "lab03.double_tokens"

    @never_raises
    def predict(self, guess: Any) -> Feedback:
        """Record `guess` and reveal the measured value beside it; without a guess, ask for one."""
        if guess is None or guess is ...:
            return Feedback(
                "unanswered",
                f"Make a prediction first: {self.question} "
                f"Then run this cell again to see the {self.source} value.",
            )
        given = _read_number(guess)
        if isinstance(given, Feedback):
            return given
        if self.first_guess is None:
            self.first_guess = given
            self.record.add(given, Feedback("correct" if self._close(given) else "wrong", ""))
        measured = format_answer(self.measured, self.unit)
        if self._close(given):
            verdict = "Close!"
        else:
            verdict = f"{'Higher' if self.measured > given else 'Lower'} than your prediction."
        message = (
            f"You predicted {format_answer(given, self.unit)}; {self.source}: {measured}. {verdict}"
        )
        if given != self.first_guess:
            message += f" (Your first prediction was {format_answer(self.first_guess, self.unit)}.)"
        message += f" {self.explanation}"
        if self.solution:
            message += f"\nHow the value comes about:\n{numbered_steps(self.solution)}"
        return Feedback("correct" if self._close(given) else "revealed", message)

    @never_raises
    def reveal(self) -> Feedback:
        """The measured value and its worked solution, without a prediction."""
        self.record.reveal()
        steps = f"\n{numbered_steps(self.solution)}" if self.solution else ""
        measured = format_answer(self.measured, self.unit)
        return Feedback(
            "revealed", f"The {self.source} value: {measured}. {self.explanation}{steps}"
        )

    def forget(self) -> None:
        """Forget the first guess and any reveal: the next guess counts as the first."""
        self.first_guess = None
        self.record = Record()

    def _close(self, guess: float) -> bool:
        return math.isclose(guess, self.measured, rel_tol=self.tolerance)


def _read_number(answer: Any) -> float | Feedback:
    """The answer as a finite float, or the Feedback saying what is expected."""
    with contextlib.suppress(AttributeError, TypeError, ValueError, RuntimeError):
        answer = answer.item()  # a one-element tensor or array, a numpy scalar
    if isinstance(answer, numbers.Real) and not isinstance(answer, bool) and math.isfinite(answer):
        return float(answer)
    quotes = " without quotes" if isinstance(answer, str) else ""
    return Feedback(
        "invalid",
        f"Expected a finite number{quotes} (e.g. 1234 or 1.2e6), got {reprlib.repr(answer)}.",
    )


def _read_choice(answer: Any, choices: Sequence[str]) -> str | Feedback:
    """The answer if it names one of the choices, or the Feedback listing them."""
    if isinstance(answer, str) and _normal(answer) in map(_normal, choices):
        return answer
    listed = ", ".join(repr(choice) for choice in choices)
    return Feedback("invalid", f"Expected one of {listed}; got {reprlib.repr(answer)}.")


def _normal(name: Any) -> str:
    """A name as compared: case, spaces, hyphens and underscores ignored ("Hard swish" is
    "hardswish")."""
    return "".join(char for char in str(name).lower() if char not in " -_\t")
