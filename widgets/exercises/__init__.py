"""Self-checking exercises and predictions for the labs.

An exercise is defined here in the package, never in the student notebook: its reference answer
is computed with widgets.core, and each typical wrong answer (bias forgotten, FLOPs given for
MACs, bits for bytes...) earns its own hint. A lab imports its module and checks:

    from widgets.exercises import lab02

    answer = None  # the learner writes a number here
    lab02.conv_params.check(answer)  # last line of the cell: the feedback box is shown

Defining one, in widgets/exercises/labNN.py:

    conv = layer_cost("conv2d", input_shape=(1, 3, 32, 32), in_channels=3, out_channels=8,
                      kernel_size=3)
    conv_params = Exercise(
        question="How many parameters has nn.Conv2d(3, 8, kernel_size=3)?",
        answer=conv.params,
        unit="parameters",
        hint="Each of the C_out filters has C_in * k_h * k_w weights and one bias.",
        mistakes=[Mistake(conv.params - 8, "That is the weights only: add one bias per filter.")],
        tolerance=0,  # exact: the bias is only 8 of 224 parameters
    )

A named answer (which layer, which activation) gives `choices` and a string answer.

A prediction is committed first, then the measured value is revealed beside it:

    double_tokens = Prediction(
        question="By what factor do the attention-score MACs grow when the tokens double?",
        measured=4.0, unit="x", explanation="Every token attends to every token: L^2.")
    double_tokens.predict(None)  # asks for a prediction first
    double_tokens.predict(2)     # "You predicted 2 x; measured: 4 x. ..."

check() and predict() never raise: a missing, non-numeric or unknown answer gets a message.
"""

from __future__ import annotations

import contextlib
import html
import math
import numbers
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from widgets.ui import style

__all__ = [
    "Exercise",
    "Feedback",
    "Mistake",
    "Prediction",
    "binary_as_si",
    "bits_for_bytes",
    "flops_for_macs",
    "macs_for_flops",
]

# status -> (symbol, colour of the box)
_LOOKS = {
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
        return f"{_LOOKS[self.status][0]} {self.message}"

    __repr__ = __str__  # the notebook's plain-text output, which nbval compares

    def _repr_html_(self) -> str:
        symbol, colour = _LOOKS[self.status]
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px;margin:2px 0">'
            f'<span style="color:{colour};font-weight:bold">{symbol}</span> '
            f"{html.escape(self.message)}</div>"
        )


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer (a number, or a name for a named answer) and the hint it earns."""

    answer: float | str
    hint: str


def flops_for_macs(macs: float) -> Mistake:
    """The FLOP count given where MACs are asked: 2 x too many."""
    return Mistake(
        2 * macs, "That is the FLOP count: 1 MAC = 1 multiply + 1 add = 2 FLOPs. Give MACs."
    )


def macs_for_flops(flops: float) -> Mistake:
    """The MAC count given where FLOPs are asked: 2 x too few."""
    return Mistake(
        flops / 2, "That is the MAC count: each MAC is a multiply and an add, i.e. 2 FLOPs."
    )


def bits_for_bytes(num_bytes: float) -> Mistake:
    """Bits given where bytes are asked: 8 x too many."""
    return Mistake(8 * num_bytes, "That is in bits: 1 byte = 8 bits, so divide by 8.")


def binary_as_si(value: float, prefix: str) -> Mistake:
    """A size in KiB/MiB/GiB computed with powers of 1000 (kB/MB/GB) instead of 1024."""
    power = {"Ki": 1, "Mi": 2, "Gi": 3}[prefix]
    return Mistake(
        value * (1024 / 1000) ** power,
        f"That divides by 1000^{power}: 1 {prefix}B = 1024^{power} bytes (binary units).",
    )


@dataclass(frozen=True)
class Exercise:
    """A question with a computed reference answer, a generic hint and hints for typical mistakes.

    tolerance is relative (0.01: within 1%, enough for answers read off with 3 digits; 0: exact).
    For a named answer give `choices`; the answer and the mistakes are then names, compared
    without case.
    """

    question: str
    answer: float | str
    hint: str  # points at the idea, never gives the answer
    mistakes: Sequence[Mistake] = ()
    unit: str = ""
    tolerance: float = 0.01
    choices: Sequence[str] = ()

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

    def check(self, answer: Any) -> Feedback:
        """Feedback on the learner's `answer`: correct, a hint, or what is expected."""
        if answer is None or answer is ...:
            return Feedback("unanswered", f"Not answered yet. {self.question}")
        given = _read_choice(answer, self.choices) if self.choices else _read_number(answer)
        if isinstance(given, Feedback):
            return given
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
        exact = _format(self.answer, self.unit)
        if self.choices or given == self.answer:
            return f"Correct: {exact}."
        return f"Correct (within {self.tolerance * 100:g}%): the exact value is {exact}."


@dataclass
class Prediction:
    """A question the learner answers with a guess before the measured value is revealed.

    The first guess is kept, so a guess changed after the reveal is shown beside it. A guess
    within `tolerance` (relative) of the measured value counts as close.
    """

    question: str
    measured: float
    explanation: str  # why the measured value is what it is
    unit: str = ""
    tolerance: float = 0.1
    source: str = "measured"  # how the value revealed was obtained: "measured" (timed) or "computed"
    first_guess: float | None = field(default=None, init=False)

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
        measured = _format(self.measured, self.unit)
        close = math.isclose(given, self.measured, rel_tol=self.tolerance)
        if close:
            verdict = "Close!"
        else:
            verdict = f"{'Higher' if self.measured > given else 'Lower'} than your prediction."
        message = f"You predicted {_format(given, self.unit)}; {self.source}: {measured}. {verdict}"
        if given != self.first_guess:
            message += f" (Your first prediction was {_format(self.first_guess, self.unit)}.)"
        return Feedback("correct" if close else "revealed", f"{message} {self.explanation}")


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
    return str(name).strip().lower()


def _format(value: float | str, unit: str) -> str:
    """12345.0 -> '12,345 unit', 3.9612 -> '3.96 unit'; names as they are."""
    if isinstance(value, str):
        text = value
    elif float(value).is_integer() and abs(value) < 1e15:
        text = f"{int(value):,}"
    else:
        text = f"{value:.3g}"
    return f"{text} {unit}" if unit else text
