"""The answer key of every lab, in Markdown, generated from the exercise objects themselves.

`python -m widgets.exercises key --out answer-key.md` writes it: for each exercise the question,
the answer with its unit (and as a line to paste, `answer = ...`), the worked solution, the
typical mistakes with the hint each earns and the generic hint; for each prediction the value,
its explanation and worked solution. Nothing is typed here: change an exercise and the key
follows.
"""

from __future__ import annotations

from types import ModuleType

from . import Exercise, Prediction, items_of, lab_modules
from .feedback import format_answer


def answer_literal(exercise: Exercise) -> str:
    """The answer as a line of Python the exercise's checker accepts: '7850', '0.25', "'relu'"."""
    answer = exercise.answer
    if isinstance(answer, str):
        return repr(answer)
    if float(answer).is_integer():
        return str(int(answer))
    return repr(float(answer)) if exercise.tolerance == 0 else f"{answer:.6g}"


def _title(module: ModuleType) -> str:
    """'Lab 01 (activation functions)', from the first line of the module's docstring."""
    first_line = (module.__doc__ or module.__name__).strip().splitlines()[0]
    return first_line.split(":")[0]


def _tolerance(exercise: Exercise) -> str:
    if exercise.choices:
        return ", one of " + ", ".join(f"`{choice!r}`" for choice in exercise.choices)
    return f", within {exercise.tolerance:.0%}" if exercise.tolerance else ", exact"


def _cell(text: str) -> str:
    """Text for a Markdown table cell."""
    return text.replace("|", "\\|")


def _numbered(steps: list[str]) -> list[str]:
    return [f"{number}. {step}" for number, step in enumerate(steps, 1)]


def _exercise_section(name: str, exercise: Exercise) -> list[str]:
    lines = [
        f"### `{name}`",
        "",
        f"**Question.** {exercise.question}",
        "",
        f"**Answer:** {format_answer(exercise.answer, exercise.unit)} "
        f"(`answer = {answer_literal(exercise)}`)" + _tolerance(exercise),
        "",
        "**Worked solution.**",
        "",
        *_numbered(list(exercise.solution) or [exercise.hint]),
        "",
    ]
    if exercise.mistakes:
        lines += ["**Typical mistakes.**", "", "| answer | hint the learner gets |", "|---|---|"]
        lines += [
            f"| {_cell(format_answer(mistake.answer, exercise.unit))} | {_cell(mistake.hint)} |"
            for mistake in exercise.mistakes
        ]
        lines.append("")
    lines += [f"**Any other wrong answer** gets the hint: {exercise.hint}", ""]
    return lines


def _prediction_section(name: str, prediction: Prediction) -> list[str]:
    return [
        f"### `{name}` (prediction)",
        "",
        f"**Question.** {prediction.question}",
        "",
        f"**Value:** {format_answer(prediction.measured, prediction.unit)} (a guess within "
        f"{prediction.tolerance:.0%} counts as close). {prediction.explanation}",
        "",
        *(["**Worked solution.**", "", *_numbered(list(prediction.solution)), ""]
          if prediction.solution else []),
    ]  # fmt: skip


def answer_key(*labs: ModuleType | str | int) -> str:
    """The Markdown answer key of the labs given (default: all)."""
    lines = [
        "# Answer key",
        "",
        "Generated from the exercise objects in `widgets/exercises/` by "
        "`python -m widgets.exercises key`; every number is computed by the package.",
        "",
    ]
    for module in lab_modules(*labs):
        lab = module.__name__.rsplit(".", 1)[-1]
        lines += [f"## {_title(module)}", ""]
        for name, item in items_of(module).items():
            section = _exercise_section if isinstance(item, Exercise) else _prediction_section
            lines += section(f"{lab}.{name}", item)
    return "\n".join(lines).rstrip() + "\n"
