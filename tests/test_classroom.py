"""The way out of an exercise (reveal), progress, the answer key and the grader.

The grader is tested on real kernels: small generated submissions (right, wrong, unanswered, a
cell that raises, an endless loop, a truncated file) and a learner copy of lab 03 filled in with
the key's answers. Hostile submissions and the sandbox: tests/test_grading_sandbox.py.
"""

from __future__ import annotations

import ast
import csv
import itertools
import json
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from widgets.exercises import (
    REVEAL_AFTER_TRIES,
    Exercise,
    Mistake,
    Prediction,
    items_of,
    lab01,
    lab02,
    lab03,
    lab_modules,
    progress,
)
from widgets.exercises.__main__ import main
from widgets.exercises.answer_key import answer_key, answer_literal

ROOT = Path(__file__).resolve().parents[1]
LAB_ITEMS = [
    pytest.param(item, id=f"{module.__name__.rsplit('.', 1)[1]}.{name}")
    for module in lab_modules()
    for name, item in items_of(module).items()
]
WITH_WORKED_SOLUTIONS = {  # the exercises and predictions written with their worked solution
    "lab01": "collapsed_params sigmoid_max_slope zero_gradient dead_after_large_step "
    "dead_after_bias_shift",
    "lab02": "conv_params strided_macs dilated_macs grouped_params separable_saving",
    "lab03": "attention_params attention_catches_up kv_cache_mib double_tokens",
    "lab04": "ffn_flops served_throughput resnet_gflops linear_intensity batch_intensity_gain "
    "dram_vs_mac memory_energy_share",
    "lab05": "resnet50_4bit_size peak_block peak_ratio flash_params sram_resolution",
}


@pytest.fixture(autouse=True)
def _fresh_records():
    for module in lab_modules():
        for item in items_of(module).values():
            item.forget()


def _number(text: str) -> float:
    return float(text.replace(",", ""))


# --- reveal ---------------------------------------------------------------------------------


def test_worked_solutions_exist_for_every_written_exercise() -> None:
    count = 0
    for lab, names in WITH_WORKED_SOLUTIONS.items():
        (module,) = lab_modules(lab)
        for name in names.split():
            item = items_of(module).get(name)
            if item is not None:  # renamed since: the test of all items below still runs
                assert len(item.solution) >= 2, f"{lab}.{name}"
                count += 1
    assert count >= 24


@pytest.mark.parametrize("item", LAB_ITEMS)
def test_reveal_shows_numbered_steps_with_numbers_and_the_answer(item) -> None:
    feedback = item.reveal()
    assert feedback.status == "revealed"
    steps = re.findall(r"^(\d+)\. (.+)$", feedback.message, flags=re.MULTILINE)
    assert [int(number) for number, _ in steps] == list(range(1, len(steps) + 1))
    assert len(steps) == len(item.solution or [None])
    if item.solution:
        assert any(re.search(r"\d", step) for _, step in steps), "steps have numbers filled in"
    if isinstance(item, Exercise):
        assert feedback.message.endswith(f"Answer: {item.reveal().message.rsplit(': ', 1)[1]}")
        if isinstance(item.answer, str):
            assert item.answer in feedback.message.splitlines()[-1]
        else:
            assert f"{item.answer:,.0f}" in feedback.message or f"{item.answer:.3g}" in (
                feedback.message
            )
    assert "white-space:pre-line" in feedback._repr_html_()


def test_the_worked_solution_ends_with_the_answer_it_computes() -> None:
    # the last step's number is the answer, so the steps and the answer come from the same values
    for exercise in (lab02.conv_params, lab02.strided_macs, lab03.kv_cache_mib):
        last = re.findall(r"[\d,]+(?:\.\d+)?", exercise.solution[-1])[-1]
        assert _number(last.rstrip(".")) == pytest.approx(exercise.answer)


def test_reveal_is_offered_after_three_wrong_tries_only() -> None:
    exercise = lab02.conv_params
    for _ in range(REVEAL_AFTER_TRIES - 1):
        assert "reveal" not in exercise.check(1).message
    assert exercise.check(None).status == "unanswered"  # not a wrong try
    assert exercise.check("many").status == "invalid"  # nor this
    third = exercise.check(2)
    assert third.status == "wrong"
    assert third.message.endswith("Stuck? lab02.conv_params.reveal() shows the worked solution.")
    assert exercise.check(exercise.answer).correct


def test_an_exercise_outside_the_labs_offers_reveal_without_a_name() -> None:
    exercise = Exercise("q?", 10, "h", [Mistake(20, "m"), Mistake(30, "n")], tolerance=0)
    for answer in (20, 30):
        exercise.check(answer)
    assert exercise.check(40).message.endswith(
        "Stuck? reveal() on this exercise shows the worked solution."
    )
    assert exercise.reveal().message == "Worked solution:\n1. h\nAnswer: 10."  # the fallback


class _Hostile:
    def item(self):
        raise ZeroDivisionError("no")

    def __float__(self):
        raise ZeroDivisionError("no")


@pytest.mark.parametrize("item", LAB_ITEMS)
def test_feedback_never_raises(item) -> None:
    call = item.check if isinstance(item, Exercise) else item.predict
    for answer in (_Hostile(), object(), "x", [1], float("nan"), -1e300, 1e300, None):
        assert call(answer).status in ("correct", "wrong", "unanswered", "invalid", "revealed")


# --- progress -------------------------------------------------------------------------------


def test_progress_tabulates_each_exercise_and_prediction_of_a_lab() -> None:
    lab01.collapsed_params.check(lab01.collapsed_params.answer)
    lab01.sigmoid_max_slope.check(0.5)
    lab01.sigmoid_max_slope.check(1)
    lab01.zero_gradient.reveal()
    lab01.dead_after_large_step.predict(10)
    lab01.dead_after_large_step.predict(lab01.dead_after_large_step.measured)  # after the reveal

    table = lab01.progress()
    rows = {row.name: row for row in table.rows}
    assert list(rows) == list(items_of(lab01))
    assert rows["collapsed_params"].status == "correct"
    assert (rows["sigmoid_max_slope"].status, rows["sigmoid_max_slope"].tries) == ("wrong", 2)
    assert rows["zero_gradient"].status == "revealed"
    assert rows["dead_after_bias_shift"].status == "unanswered"
    assert rows["dead_after_large_step"].kind == "prediction"
    assert rows["dead_after_large_step"].answer == 10  # the first guess is kept

    text = repr(table)
    assert "wrong (2 tries)" in text and "predicted (off)" in text
    assert text.splitlines()[-1] == f"2 of {len(rows)} done"
    assert "<table>" in table._repr_html_()


def test_a_correct_answer_after_a_reveal_still_counts_as_revealed() -> None:
    lab02.grouped_params.reveal()
    lab02.grouped_params.check(lab02.grouped_params.answer)
    lab02.conv_params.check(lab02.conv_params.answer)
    lab02.conv_params.reveal()  # solved first: stays correct
    rows = {row.name: row.status for row in lab02.progress().rows}
    assert rows["grouped_params"] == "revealed"
    assert rows["conv_params"] == "correct"


def test_progress_takes_labs_by_number_or_name_and_defaults_to_the_imported_ones() -> None:
    assert {row.lab for row in progress(2, "lab03").rows} == {"lab02", "lab03"}
    assert {row.lab for row in progress().rows} >= {"lab01", "lab02", "lab03"}
    with pytest.raises(ValueError, match="lab must be one of"):
        progress(9)


def test_a_fresh_copy_of_a_prediction_has_no_guess() -> None:
    lab03.double_tokens.predict(2)
    copy = replace(lab03.double_tokens)
    assert copy.first_guess is None and copy.record.checks == 0
    assert "How the value comes about:\n1. " in copy.predict(3).message
    bare = Prediction("q?", measured=4.0, explanation="L^2.")
    assert "\n" not in bare.predict(2).message  # no worked solution, no extra lines


# --- answer key -----------------------------------------------------------------------------


def test_the_key_answer_of_every_exercise_passes_its_own_checker() -> None:
    key = answer_key()
    for module in lab_modules():
        lab = module.__name__.rsplit(".", 1)[1]
        assert f"## Lab {lab[3:]}" in key
        for name, item in items_of(module).items():
            section = key.split(f"### `{lab}.{name}`")[1].split("\n### ")[0]
            if isinstance(item, Prediction):
                assert section.startswith(" (prediction)")
                continue
            (literal,) = re.findall(r"\(`answer = (.+?)`\)", section)
            assert literal == answer_literal(item)
            assert item.check(ast.literal_eval(literal)).correct, f"{lab}.{name}"
            for mistake in item.mistakes:
                assert mistake.hint.replace("|", "\\|") in section
            assert item.hint in section
            for step in item.solution:
                assert step in section


def test_key_command_writes_the_file(tmp_path: Path, capsys) -> None:
    out = tmp_path / "key.md"
    assert main(["key", "--out", str(out)]) == 0
    assert out.read_text() == answer_key()
    assert main(["key"]) == 0
    assert capsys.readouterr().out == answer_key()


# --- grading --------------------------------------------------------------------------------

LAB = lab03  # the quickest lab module to import in a kernel
# the grading logic is tested sandboxed where the sandbox tests run (root, bubblewrap), else
# unconfined; tests/test_grading_sandbox.py tests the sandbox itself
SANDBOX = [] if os.geteuid() == 0 and shutil.which("bwrap") else ["--no-sandbox"]
EXERCISES = {name: item for name, item in items_of(LAB).items() if isinstance(item, Exercise)}


def _submission(path: Path, cells: list[str]) -> Path:
    notebook = new_notebook(cells=[new_markdown_cell("# a submission")])
    notebook.cells += [new_code_cell(source) for source in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)
    return path


def _answering(answers: dict[str, str]) -> list[str]:
    cells = ["from widgets.exercises import lab03"]
    for name, answer in answers.items():
        cells += [f"answer = {answer}", f"lab03.{name}.check(answer)"]
    return cells


def _rows(csv_path: Path) -> dict[tuple[str, str], dict[str, str]]:
    with open(csv_path, newline="") as file:
        return {(Path(row["notebook"]).stem, row["exercise"]): row for row in csv.DictReader(file)}


def _learner_copy_with_key_answers(path: Path) -> Path:
    """Lab 03 as a learner gets it (no outputs), every answer cell filled in from the key."""
    notebook = nbformat.read(ROOT / "labs" / "03_transformers_attention.ipynb", as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell, following in itertools.pairwise(code):
        cell.outputs, cell.execution_count = [], None
        checked = re.match(r"lab03\.(\w+)\.check\(answer\)", following.source.strip())
        if cell.source.startswith("answer = None") and checked:
            cell.source = f"answer = {answer_literal(EXERCISES[checked[1]])}"
    nbformat.write(notebook, path)
    return path


def test_grade_reports_each_submission_and_survives_broken_ones(tmp_path: Path) -> None:
    first, *rest = EXERCISES
    submissions = [
        _learner_copy_with_key_answers(tmp_path / "right.ipynb"),
        _submission(
            tmp_path / "wrong.ipynb",
            _answering({name: repr(item.mistakes[0].answer) for name, item in EXERCISES.items()}),
        ),
        _submission(tmp_path / "unanswered.ipynb", _answering(dict.fromkeys(EXERCISES, "None"))),
        _submission(
            tmp_path / "raises.ipynb",
            [
                *_answering({first: answer_literal(EXERCISES[first])}),
                "raise RuntimeError('my bug')",
                *_answering({name: answer_literal(EXERCISES[name]) for name in rest})[1:],
            ],
        ),
    ]
    truncated = tmp_path / "03_truncated.ipynb"
    truncated.write_text(submissions[1].read_text()[:200])
    csv_path = tmp_path / "grades.csv"

    paths = map(str, [*submissions, truncated])
    assert main(["grade", *paths, "--csv", str(csv_path), "--jobs", "2", *SANDBOX]) == 1

    rows = _rows(csv_path)
    assert {(stem, exercise) for stem, exercise in rows} == {
        (stem, name)
        for stem in ("right", "wrong", "unanswered", "raises", "03_truncated")
        for name in EXERCISES
    }
    for name, exercise in EXERCISES.items():
        assert rows["right", name]["status"] == "correct"
        assert ast.literal_eval(rows["right", name]["answer"]) == pytest.approx(
            ast.literal_eval(answer_literal(exercise))
        )
        assert rows["right", name]["lab"] == "lab03"
        assert rows["wrong", name]["status"] == "wrong"
        assert rows["wrong", name]["detail"] == f"Not quite. {exercise.mistakes[0].hint}"
        assert rows["unanswered", name]["status"] == "unanswered"
        assert rows["03_truncated", name]["status"] == "error"
        assert "not a valid notebook" in rows["03_truncated", name]["detail"]
    assert rows["raises", first]["status"] == "correct"  # checked before the error
    for name in rest:  # not reached: Run All stops at the first error too
        assert rows["raises", name]["status"] == "error"
        assert rows["raises", name]["detail"] == "cell 5 raised RuntimeError: my bug"


def test_grade_stops_an_endless_loop_and_keeps_what_was_checked(tmp_path: Path) -> None:
    # 20 s: the cells before the loop (a kernel, import torch) must finish even on a busy machine
    first, second, *_ = EXERCISES
    looping = _submission(
        tmp_path / "loop.ipynb",
        [
            *_answering({first: answer_literal(EXERCISES[first])}),
            "while True:\n    pass",
            *_answering({second: answer_literal(EXERCISES[second])})[1:],
        ],
    )
    right = _submission(
        tmp_path / "after.ipynb",
        _answering({name: answer_literal(item) for name, item in EXERCISES.items()}),
    )
    csv_path = tmp_path / "grades.csv"

    arguments = [str(looping), str(right), "--csv", str(csv_path), "--timeout", "20", *SANDBOX]
    assert main(["grade", *arguments]) == 1

    rows = _rows(csv_path)
    assert rows["loop", first]["status"] == "correct"
    assert rows["loop", second]["status"] == "error"
    assert (
        rows["loop", second]["detail"]
        == "cell 5 still ran at the time limit (20 s for the notebook)"
    )
    assert all(rows["after", name]["status"] == "correct" for name in EXERCISES)


def test_grade_exits_0_when_everything_was_graded(tmp_path: Path) -> None:
    submission = _submission(tmp_path / "some.ipynb", _answering({next(iter(EXERCISES)): "1"}))
    csv_path = tmp_path / "grades.csv"
    assert main(["grade", str(submission), "--csv", str(csv_path), *SANDBOX]) == 0
    statuses = [row["status"] for row in _rows(csv_path).values()]
    assert statuses == ["wrong"] + ["unanswered"] * (len(EXERCISES) - 1)
    assert json.dumps(statuses)  # plain strings


@pytest.mark.parametrize("text", ["{}", '{"cells": 5}', "[]", "", "not json"])
def test_a_file_that_is_no_notebook_gets_an_error_row(tmp_path: Path, text: str) -> None:
    path = tmp_path / "lab03_submission.ipynb"
    path.write_text(text)
    csv_path = tmp_path / "grades.csv"
    assert main(["grade", str(path), "--csv", str(csv_path), *SANDBOX]) == 1
    rows = _rows(csv_path)
    assert {row["status"] for row in rows.values()} == {"error"}
    assert {exercise for _, exercise in rows} <= {"", *EXERCISES}
