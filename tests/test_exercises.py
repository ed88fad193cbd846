"""Exercise checkers: the machinery, then every exercise of labs 1-3.

For each lab exercise: the reference answer (computed here independently, with torch where it
can be) is accepted, answers within tolerance are accepted, and typical wrong answers are
rejected with the hint that names the mistake.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from widgets.exercises import (
    Exercise,
    Feedback,
    Mistake,
    Prediction,
    binary_as_si,
    bits_for_bytes,
    flops_for_macs,
    macs_for_flops,
)

# --- machinery ------------------------------------------------------------------------------

PARAMS = Exercise(
    question="How many parameters has nn.Conv2d(3, 8, kernel_size=3)?",
    answer=224,
    hint="Each filter has C_in * k_h * k_w weights and one bias.",
    mistakes=[Mistake(216, "Add one bias per filter."), flops_for_macs(224)],
    unit="parameters",
    tolerance=0,
)
SIZE_MIB = Exercise(
    question="Size in MiB?", answer=100.0, hint="params x bits / 8 bytes.", unit="MiB"
)
NAMED = Exercise(
    question="Which activation dies?",
    answer="relu",
    hint="Look for a zero derivative.",
    mistakes=[Mistake("sigmoid", "Sigmoid saturates but its gradient is never exactly 0.")],
    choices=("relu", "sigmoid", "tanh"),
)


@pytest.mark.parametrize(
    "answer", [224, 224.0, np.int64(224), torch.tensor(224), torch.ones(1) * 224]
)
def test_reference_answer_in_any_numeric_type_is_correct(answer) -> None:
    feedback = PARAMS.check(answer)
    assert feedback.correct
    assert feedback.status == "correct"
    assert feedback.message == "Correct: 224 parameters."


@pytest.mark.parametrize("answer", [None, ...])
def test_unanswered_says_so_and_repeats_the_question(answer) -> None:
    feedback = PARAMS.check(answer)
    assert feedback.status == "unanswered"
    assert not feedback.correct
    assert feedback.message == f"Not answered yet. {PARAMS.question}"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("224", "without quotes"),
        ("many", "without quotes"),
        (True, "got True"),
        (float("nan"), "got nan"),
        (float("inf"), "got inf"),
        (torch.ones(3), "got tensor"),
        ([224], "got [224]"),
        (object(), "got <object"),
    ],
)
def test_a_non_number_says_what_is_expected(answer, expected) -> None:
    feedback = PARAMS.check(answer)
    assert feedback.status == "invalid"
    assert feedback.message.startswith("Expected a finite number")
    assert expected in feedback.message


def test_typical_mistakes_get_their_own_hint() -> None:
    assert PARAMS.check(216).message == "Not quite. Add one bias per filter."
    assert "FLOP count" in PARAMS.check(448).message


def test_other_wrong_answers_get_the_direction_and_the_generic_hint() -> None:
    assert PARAMS.check(225).message == f"Not quite: your answer is too high. {PARAMS.hint}"
    assert PARAMS.check(0).message == f"Not quite: your answer is too low. {PARAMS.hint}"


def test_tolerance_is_relative_and_says_the_exact_value() -> None:
    assert SIZE_MIB.check(100.9).message == "Correct (within 1%): the exact value is 100 MiB."
    assert SIZE_MIB.check(99.1).correct
    assert not SIZE_MIB.check(101.1).correct
    assert not PARAMS.check(224.5).correct  # tolerance 0: exact


def test_named_answers_ignore_case_and_list_the_choices() -> None:
    assert NAMED.check(" ReLU ").correct
    assert NAMED.check("sigmoid").message == f"Not quite. {NAMED.mistakes[0].hint}"
    assert NAMED.check("tanh").message == f"Not quite. {NAMED.hint}"
    for bad in ("gelu", 3):
        feedback = NAMED.check(bad)
        assert feedback.status == "invalid"
        assert "'relu', 'sigmoid', 'tanh'" in feedback.message


def test_definition_errors_fail_at_definition() -> None:
    with pytest.raises(ValueError, match="within tolerance"):
        Exercise("q", 1000, "h", [Mistake(1005, "unreachable")], tolerance=0.01)
    with pytest.raises(ValueError, match="among the choices"):
        Exercise("q", "relu", "h", choices=("gelu", "tanh"))


def test_common_mistakes_scale_the_right_way() -> None:
    assert flops_for_macs(100).answer == 200
    assert macs_for_flops(100).answer == 50
    assert bits_for_bytes(100).answer == 800
    assert binary_as_si(100, "Mi").answer == pytest.approx(100 * 1024**2 / 1000**2)
    assert binary_as_si(100, "Ki").answer == pytest.approx(102.4)


def test_feedback_shows_as_escaped_html_and_plain_text() -> None:
    feedback = Feedback("wrong", "x < y & z")
    assert str(feedback) == repr(feedback) == "✘ x < y & z"
    assert "x &lt; y &amp; z" in feedback._repr_html_()
    assert Feedback("correct", "ok")._repr_html_() != Feedback("wrong", "ok")._repr_html_()


def test_prediction_asks_first_then_reveals_and_remembers_the_first_guess() -> None:
    doubling = Prediction("By what factor?", measured=4.0, explanation="L^2.", unit="times")
    asked = doubling.predict(None)
    assert asked.status == "unanswered"
    assert "4" not in asked.message  # nothing revealed before a prediction
    assert doubling.first_guess is None

    far = doubling.predict(2)
    assert far.status == "revealed"
    assert far.message == (
        "You predicted 2 times; measured: 4 times. Higher than your prediction. L^2."
    )
    close = doubling.predict(4.2)
    assert close.correct
    assert "Close!" in close.message
    assert "(Your first prediction was 2 times.)" in close.message
    assert doubling.predict("four").status == "invalid"
