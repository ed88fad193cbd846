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
        solution=["Each filter: 3 x 3 x 3 weights and a bias.", conv.params_formula],
    )

A named answer (which layer, which activation) gives `choices` and a string answer.

A prediction is committed first, then the measured value is revealed beside it:

    double_tokens = Prediction(
        question="By what factor do the attention-score MACs grow when the tokens double?",
        measured=4.0, unit="x", explanation="Every token attends to every token: L^2.")
    double_tokens.predict(None)  # asks for a prediction first
    double_tokens.predict(2)     # "You predicted 2 x; measured: 4 x. ..."

A stuck learner gets a way out: after three wrong tries the feedback offers `reveal()`, which
shows the worked solution (`solution`: the steps with the numbers filled in, computed from the
same arguments as the answer). `progress()` (or `lab02.progress()`) tabulates every exercise and
prediction: unanswered, wrong (and how often), correct or revealed. The same records let
`python -m widgets.exercises grade` collect the answers of a submitted notebook.

check(), predict() and reveal() never raise: a missing, non-numeric or unknown answer gets a
message.
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib
import math
import numbers
import pkgutil
import re
import reprlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, TypeVar

from widgets.ui import style

__all__ = [
    "Exercise",
    "Feedback",
    "Mistake",
    "Prediction",
    "Progress",
    "binary_as_si",
    "bits_for_bytes",
    "built_on_first_use",
    "flops_for_macs",
    "items_of",
    "lab_modules",
    "macs_for_flops",
    "progress",
]

REVEAL_AFTER_TRIES = 3  # wrong answers before the feedback offers the worked solution

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
        lines = ";white-space:pre-line" if "\n" in self.message else ""  # a worked solution
        return (
            f'<div style="border-left:4px solid {colour};padding:4px 10px;margin:2px 0{lines}">'
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


_Method = TypeVar("_Method", bound=Callable[..., "Feedback"])


def _never_raises(method: _Method) -> _Method:
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


@dataclass
class Record:
    """What the learner did with one exercise or prediction in this kernel.

    `answer` is the last answer checked (a number or a name; the repr of anything else) and
    `status` what its check said; `progress()` reports the whole history, the grader the last
    answer, as a notebook run top to bottom leaves it.
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


def _steps(solution: Sequence[str]) -> str:
    """'1. first step\n2. second step'."""
    return "\n".join(f"{number}. {step}" for number, step in enumerate(solution, 1))


@dataclass(frozen=True)
class Exercise:
    """A question with a computed reference answer, a generic hint and hints for typical mistakes.

    tolerance is relative (0.01: within 1%, enough for answers read off with 3 digits; 0: exact).
    For a named answer give `choices`; the answer and the mistakes are then names, compared
    without case. `solution` is the worked solution, one step a string with its numbers filled
    in; without one, reveal() shows the hint and the answer.
    """

    question: str
    answer: float | str
    hint: str  # points at the idea, never gives the answer
    mistakes: Sequence[Mistake] = ()
    unit: str = ""
    tolerance: float = 0.01
    choices: Sequence[str] = ()
    solution: Sequence[str] = ()
    record: Record = field(default_factory=Record, init=False, repr=False, compare=False)

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

    @_never_raises
    def check(self, answer: Any) -> Feedback:
        """Feedback on the learner's `answer`: correct, a hint, or what is expected."""
        given = self._read(answer)
        feedback = given if isinstance(given, Feedback) else self._judge(given)
        self.record.add(answer if isinstance(given, Feedback) else given, feedback)
        if feedback.status == "wrong" and self.record.tries >= REVEAL_AFTER_TRIES:
            call = f"{name_of(self)}.reveal()" if name_of(self) else "reveal() on this exercise"
            return Feedback(
                feedback.status, f"{feedback.message} Stuck? {call} shows the worked solution."
            )
        return feedback

    @_never_raises
    def reveal(self) -> Feedback:
        """The worked solution: each step with its numbers, then the answer."""
        self.record.reveal()
        steps = self.solution or [self.hint]
        answer = _format(self.answer, self.unit)
        return Feedback("revealed", f"Worked solution:\n{_steps(steps)}\nAnswer: {answer}.")

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
        exact = _format(self.answer, self.unit)
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

    @_never_raises
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
        measured = _format(self.measured, self.unit)
        if self._close(given):
            verdict = "Close!"
        else:
            verdict = f"{'Higher' if self.measured > given else 'Lower'} than your prediction."
        message = f"You predicted {_format(given, self.unit)}; {self.source}: {measured}. {verdict}"
        if given != self.first_guess:
            message += f" (Your first prediction was {_format(self.first_guess, self.unit)}.)"
        message += f" {self.explanation}"
        if self.solution:
            message += f"\nHow the value comes about:\n{_steps(self.solution)}"
        return Feedback("correct" if self._close(given) else "revealed", message)

    @_never_raises
    def reveal(self) -> Feedback:
        """The measured value and its worked solution, without a prediction."""
        self.record.reveal()
        steps = f"\n{_steps(self.solution)}" if self.solution else ""
        measured = _format(self.measured, self.unit)
        return Feedback(
            "revealed", f"The {self.source} value: {measured}. {self.explanation}{steps}"
        )

    def forget(self) -> None:
        """Forget the first guess and any reveal: the next guess counts as the first."""
        self.first_guess = None
        self.record = Record()

    def _close(self, guess: float) -> bool:
        return math.isclose(guess, self.measured, rel_tol=self.tolerance)


# --- the labs' exercises, by name ---------------------------------------------------------

_LAB_NAME = re.compile(r"lab\d\d")


def lab_modules(*labs: ModuleType | str | int) -> list[ModuleType]:
    """The lab modules named (lab02, "lab02", "02" or 2), importing them; none: every lab."""
    names = [
        module.name for module in pkgutil.iter_modules(__path__) if _LAB_NAME.fullmatch(module.name)
    ]
    if labs:
        wanted = []
        for lab in labs:
            name = lab.__name__.rsplit(".", 1)[-1] if isinstance(lab, ModuleType) else str(lab)
            name = f"lab{int(name):02d}" if name.isdigit() else name
            if name not in names:
                raise ValueError(f"lab must be one of {', '.join(names)}; got {lab!r}")
            wanted.append(name)
        names = wanted
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


def built_on_first_use(
    namespace: dict[str, Any], builders: dict[str, Callable[[], Exercise | Prediction]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A lab module's `__getattr__` and `__dir__` (PEP 562) that build each of `builders` (name ->
    builder) on first use, once: importing the module then profiles no model, and a prediction
    keeps its first guess. `namespace` is the module's globals()."""

    def __getattr__(name: str) -> Any:
        build = builders.get(name)
        if build is None:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = namespace[name] = build()
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *builders})

    return __getattr__, __dir__


def items_of(module: ModuleType, *, build: bool = True) -> dict[str, Exercise | Prediction]:
    """name -> exercise or prediction of a lab module, in the order they are defined.

    A lab module may build some on first use (`_BUILT_ON_FIRST_USE`: name -> builder, served by
    its module `__getattr__`); they are built now and stand where their builder is defined, or
    are left out with build=False until something else builds them.
    """
    built_later = {
        id(builder): name for name, builder in getattr(module, "_BUILT_ON_FIRST_USE", {}).items()
    }
    items: dict[str, Exercise | Prediction] = {}
    for name, value in list(vars(module).items()):
        if id(value) in built_later:
            name = built_later[id(value)]
            if not build and name not in vars(module):
                continue
            value = getattr(module, name)
        if isinstance(value, Exercise | Prediction) and not name.startswith("_"):
            items.setdefault(name, value)
    return items


def name_of(item: Exercise | Prediction) -> str:
    """'lab02.conv_params' for an exercise of an imported lab module; '' for any other."""
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith(f"{__name__}.lab") and module is not None:
            for name, value in items_of(module, build=False).items():
                if value is item:
                    return f"{module_name.rsplit('.', 1)[-1]}.{name}"
    return ""


def _imported_labs() -> list[ModuleType]:
    return [
        module
        for name, module in sorted(sys.modules.items())
        if module is not None and _LAB_NAME.fullmatch(name.removeprefix(f"{__name__}."))
    ]


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
        answer = "" if row.answer is None else _format(row.answer, "")
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
            colour = _LOOKS["invalid" if row.status == "wrong" else row.status][1]
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
    modules = lab_modules(*labs) if labs else (_imported_labs() or lab_modules())
    return Progress(
        tuple(
            _row(module.__name__.rsplit(".", 1)[-1], name, item)
            for module in modules
            for name, item in items_of(module).items()
        )
    )


def lab_progress(module_name: str) -> Callable[[], Progress]:
    """The progress() of one lab module, as labNN.progress()."""

    def lab_progress() -> Progress:
        return progress(module_name.rsplit(".", 1)[-1])

    lab_progress.__doc__ = f"Each exercise and prediction of {module_name}, and its status."
    return lab_progress


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
