"""Exercise checkers: the machinery, every exercise of labs 1-5, then labs 1-3 one by one.

For each lab exercise: the reference answer (computed here independently, with torch where it
can be) is accepted, answers within tolerance are accepted, and typical wrong answers are
rejected with the hint that names the mistake.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from helpers import torch_macs
from torch import nn
from torch.testing import assert_close

import widgets
from widgets.exercises import (
    Exercise,
    Feedback,
    Mistake,
    Prediction,
    binary_as_si,
    bits_for_bytes,
    flops_for_macs,
    items_of,
    lab01,
    lab02,
    lab03,
    lab04,
    lab05,
    lab_modules,
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


@pytest.fixture(autouse=True)
def _fresh_records():
    """Each test starts with no answers recorded: after three wrong tries the feedback changes."""
    items = [PARAMS, SIZE_MIB, NAMED]
    items += [item for module in lab_modules() for item in items_of(module).values()]
    for item in items:
        item.forget()


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
    with pytest.raises(ValueError, match="earlier mistake"):
        Exercise("q", 1000, "h", [Mistake(2000, "first"), Mistake(2000, "never shown")])
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


def test_a_prediction_of_a_computed_value_says_computed() -> None:
    count = Prediction("How many?", measured=4.0, explanation=".", source="computed")
    assert "see the computed value" in count.predict(None).message
    assert count.predict(4).message.startswith("You predicted 4; computed: 4.")
    assert "measured" not in count.predict(3).message


# --- every exercise of labs 1-5 ---------------------------------------------------------------

LAB_MODULES = [lab01, lab02, lab03, lab04, lab05]


def _named(module, kind: type) -> list[tuple[str, object]]:
    """The module's public objects of `kind`, those built on first use included (dir, getattr)."""
    values = [(name, getattr(module, name)) for name in dir(module) if not name.startswith("__")]
    return [(name, value) for name, value in values if isinstance(value, kind)]


LAB_EXERCISES = [
    pytest.param(exercise, id=f"{module.__name__.rsplit('.', 1)[1]}.{name}")
    for module in LAB_MODULES
    for name, exercise in _named(module, Exercise)
]


def test_each_lab_has_at_least_three_exercises() -> None:
    for module in LAB_MODULES:
        assert len(_named(module, Exercise)) >= 3, module.__name__


@pytest.mark.parametrize("exercise", LAB_EXERCISES)
def test_lab_exercise_accepts_its_answer_and_names_each_mistake(exercise: Exercise) -> None:
    assert exercise.check(exercise.answer).correct
    assert exercise.check(None).status == "unanswered"
    assert len(exercise.mistakes) >= 2, "every exercise has hints for two typical mistakes"
    for mistake in exercise.mistakes:
        exercise.forget()  # a third wrong try would add the offer to reveal the solution
        assert exercise.check(mistake.answer).message == f"Not quite. {mistake.hint}"
    if not exercise.choices:
        assert exercise.check(exercise.answer * (1 + exercise.tolerance / 2)).correct
        assert not exercise.check(exercise.answer * 1.5 + 1).correct
        assert exercise.check("a word").status == "invalid"


def _parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_lab01_collapsed_layer_counts_like_torch() -> None:
    one_layer = _parameter_count(nn.Linear(784, 10))
    stack = nn.Sequential(nn.Linear(784, 256), nn.Linear(256, 256), nn.Linear(256, 10))
    assert lab01.collapsed_params.check(one_layer).correct
    assert "bias" in lab01.collapsed_params.check(one_layer - 10).message
    assert "the stack's" in lab01.collapsed_params.check(_parameter_count(stack)).message


def test_lab01_sigmoid_slope_is_the_autograd_maximum() -> None:
    x = torch.linspace(-5, 5, 1001, dtype=torch.float64, requires_grad=True)
    (slope,) = torch.autograd.grad(torch.sigmoid(x).sum(), x)
    assert lab01.sigmoid_max_slope.check(slope.max()).correct
    assert "σ(0)" in lab01.sigmoid_max_slope.check(0.5).message
    assert "ReLU" in lab01.sigmoid_max_slope.check(1).message


def test_lab01_zero_gradient_matches_autograd() -> None:
    x = torch.linspace(-10, -5, 200, requires_grad=True)  # a whole range of inputs
    flat = []
    for name in lab01.zero_gradient.choices:
        (slope,) = torch.autograd.grad(widgets.get_activation(name).torch_module()(x).sum(), x)
        if (slope == 0).all():
            flat.append(name)
    assert flat == ["hardswish"]
    assert "relu" not in lab01.zero_gradient.choices  # the prompt names ReLU as the example
    assert lab01.zero_gradient.check("Hardswish").correct
    assert "negative_slope" in lab01.zero_gradient.check("leaky_relu").message
    assert "never exactly 0" in lab01.zero_gradient.check("gelu").message


def test_lab01_dying_relu_answers_come_from_the_experiment() -> None:
    shifted = widgets.dying_relu(bias_shift=-1.0)
    assert 0 < shifted.dead_units < shifted.units
    assert lab01.dead_after_bias_shift.check(shifted.dead_units).correct
    assert "alive" in lab01.dead_after_bias_shift.check(shifted.units - shifted.dead_units).message
    assert "fraction" in lab01.dead_after_bias_shift.check(shifted.dead_fraction).message
    assert "leaky" in lab01.dead_after_bias_shift.check(0).message

    prediction = replace(lab01.dead_after_large_step)  # a fresh copy: no guess recorded
    measured = widgets.dying_relu(learning_rate=0.3).dead_units
    assert prediction.measured == measured > 0
    assert prediction.predict(None).status == "unanswered"
    assert prediction.predict(0).message.startswith(f"You predicted 0 units; computed: {measured}")


def test_lab03_attention_params_count_like_torch() -> None:
    attention = nn.MultiheadAttention(embed_dim=768, num_heads=12)
    without_bias = nn.MultiheadAttention(embed_dim=768, num_heads=12, bias=False)
    exercise = lab03.attention_params
    assert exercise.check(_parameter_count(attention)).correct
    assert "biases" in exercise.check(_parameter_count(without_bias)).message
    qkv_only = attention.in_proj_weight.numel() + attention.in_proj_bias.numel()
    assert "W_O" in exercise.check(qkv_only).message
    assert "slice" in exercise.check(12 * _parameter_count(attention)).message


def _encoder_macs(seq_len: int, d_model: int) -> int:
    """MACs of nn.TransformerEncoderLayer (d_ff = 4 d_model) on seq_len tokens, counted by torch."""
    heads = d_model // 64  # MACs do not depend on it
    block = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, batch_first=True, device="meta")
    return torch_macs(block, torch.empty(1, seq_len, d_model, device="meta"))


def test_lab03_crossover_is_where_torch_counts_equal_macs() -> None:
    # torch's MACs are linear * L + quadratic * L^2: two lengths give both coefficients
    one, two = _encoder_macs(1, d_model=768), _encoder_macs(2, d_model=768)
    quadratic = (two - 2 * one) // 2
    linear = one - quadratic
    seq_len = linear / quadratic  # where quadratic * L^2 = linear * L
    assert lab03.attention_catches_up.check(seq_len).correct
    ffn_only = 4 * 768  # attention 2 L d = FFN 2 d d_ff  ->  L = d_ff
    assert "FFN alone" in lab03.attention_catches_up.check(ffn_only).message
    assert "QKᵀ only" in lab03.attention_catches_up.check(2 * seq_len).message


def test_lab03_kv_cache_counts_keys_and_values_of_every_layer() -> None:
    layers, tokens, d_model, bytes_per_number = 12, 1024, 768, 2
    mib = 2 * layers * tokens * d_model * bytes_per_number / 1024**2
    exercise = lab03.kv_cache_mib
    assert exercise.check(mib).correct
    assert exercise.check(round(mib, 1)).correct
    assert "bits" in exercise.check(8 * mib).message
    assert "1024^2" in exercise.check(mib * 1024**2 / 1e6).message
    assert "keys only" in exercise.check(mib / 2).message
    assert "32 bits" in exercise.check(2 * mib).message


def test_lab03_doubling_tokens_grows_macs_between_linear_and_quadratic() -> None:
    prediction = replace(lab03.double_tokens)
    short = _encoder_macs(1024, d_model=512)
    long = _encoder_macs(2048, d_model=512)
    assert 2 < prediction.measured == long / short < 4
    assert prediction.predict(4).status == "revealed"
    assert prediction.predict(long / short).correct


def _meta_macs(module: nn.Module, input_shape: tuple[int, ...]) -> int:
    """MACs as torch counts them, on a meta input of `input_shape`."""
    return torch_macs(module, torch.empty(input_shape, device="meta"))


def _conv(*args, **kwargs) -> nn.Conv2d:
    return nn.Conv2d(*args, **kwargs, device="meta")


def test_lab02_conv_params_count_like_torch() -> None:
    exercise = lab02.conv_params
    assert exercise.check(_parameter_count(_conv(64, 128, 3))).correct
    assert "bias" in exercise.check(_parameter_count(_conv(64, 128, 3, bias=False))).message
    assert "3 x 3" in exercise.check(_parameter_count(_conv(64, 128, (3, 1)))).message
    assert "all 64 input channels" in exercise.check(_parameter_count(_conv(1, 128, 3))).message


def test_lab02_strided_and_dilated_macs_count_like_torch() -> None:
    shape = (8, 64, 56, 56)  # a batch of 8: the explorer's one-image readout is a mistake
    strided = _meta_macs(_conv(64, 128, 3, stride=2, padding=1), shape)
    unstrided = _meta_macs(_conv(64, 128, 3, padding=1), shape)
    assert lab02.strided_macs.check(strided).correct
    assert "FLOP" in lab02.strided_macs.check(2 * strided).message
    assert "stride 1" in lab02.strided_macs.check(unstrided).message
    assert "Bias adds" in lab02.strided_macs.check(strided + 8 * 128 * 28 * 28).message
    one_image = _meta_macs(_conv(64, 128, 3, stride=2, padding=1), (1, 64, 56, 56))
    assert "batch holds 8" in lab02.strided_macs.check(one_image).message

    dilated = _meta_macs(_conv(64, 128, 3, padding=2, dilation=2), shape)
    five_by_five = _meta_macs(_conv(64, 128, 5, padding=2), shape)
    unpadded = _meta_macs(_conv(64, 128, 3, dilation=2), shape)
    assert dilated == unstrided  # same weights, same output size: dilation is free
    assert lab02.dilated_macs.check(dilated).correct
    assert "adds no weights" in lab02.dilated_macs.check(five_by_five).message
    assert "padding" in lab02.dilated_macs.check(unpadded).message


def test_lab02_grouped_params_count_like_torch() -> None:
    exercise = lab02.grouped_params
    assert exercise.check(_parameter_count(_conv(128, 256, 3, groups=4))).correct
    assert "without groups" in exercise.check(_parameter_count(_conv(128, 256, 3))).message
    weights_only = _parameter_count(_conv(128, 256, 3, groups=4, bias=False))
    assert "weights only" in exercise.check(weights_only).message


def test_lab02_separable_saving_is_measured_with_torch() -> None:
    shape = (1, 128, 28, 28)
    standard = _meta_macs(_conv(128, 128, 3, padding=1), shape)
    depthwise = _meta_macs(_conv(128, 128, 3, padding=1, groups=128), shape)
    pointwise = _meta_macs(_conv(128, 128, 1), shape)
    prediction = replace(lab02.separable_saving)
    assert prediction.measured == pytest.approx(standard / (depthwise + pointwise))
    assert prediction.predict(2).status == "revealed"
    assert prediction.predict(9).correct  # within 10%: k^2 is the limit for many channels


def test_lab02_activations_are_the_outputs_of_the_torch_layer() -> None:
    layer = nn.Linear(784, 256)
    outputs = layer(torch.zeros(32, 784))
    exercise = lab02.layer_activations
    assert exercise.check(outputs.numel()).correct
    assert "parameters" in exercise.check(_parameter_count(layer)).message
    assert "weights" in exercise.check(layer.weight.numel()).message
    assert "one image" in exercise.check(256).message
    assert "input" in exercise.check(32 * 784).message


def test_lab02_conv1d_macs_count_like_torch() -> None:
    shape = (8, 16, 100)
    conv = nn.Conv1d(16, 32, kernel_size=5, padding=2, device="meta")
    macs = _meta_macs(conv, shape)
    exercise = lab02.conv1d_macs
    assert exercise.check(macs).correct
    assert "FLOP" in exercise.check(2 * macs).message
    square = _meta_macs(_conv(16, 32, 5, padding=2), (8, 16, 100, 1))  # 5 x 5, output width 1
    assert "not 5 x 5" in exercise.check(square).message
    assert "one sequence" in exercise.check(_meta_macs(conv, (1, 16, 100))).message
    unpadded = nn.Conv1d(16, 32, kernel_size=5, device="meta")
    assert "Padding 2" in exercise.check(_meta_macs(unpadded, shape)).message


def test_lab02_resnet_receptive_field_is_the_stem_and_stage_1_field() -> None:
    # the field itself is checked against torch's gradients in tests/test_receptive_field.py
    exercise = lab02.resnet_receptive_field
    assert exercise.check(43).correct
    assert "ignores the strides" in exercise.check(17).message  # 1 + 6 + 2 + 4 x 2
    assert "max pool" in exercise.check(27).message  # 7 + 4 x (2 x 2)


def test_lab02_normalization_answers_count_like_torch() -> None:
    shape = (16, 32, 28, 28)
    x = torch.randn(shape)
    group_norm = nn.GroupNorm(8, 32)
    y = group_norm(x).reshape(16, 8, -1)  # each row of the last axis: the numbers of one mean
    assert_close(y.mean(-1), torch.zeros(16, 8), atol=1e-5, rtol=0)
    exercise = lab02.group_norm_mean
    assert exercise.check(y.shape[-1]).correct
    assert "batch norm" in exercise.check(16 * 28 * 28).message
    assert "instance norm" in exercise.check(28 * 28).message
    assert "how many means" in exercise.check(16 * 8).message

    layer_norm = nn.LayerNorm([32, 28, 28])
    assert lab02.layer_norm_params.check(_parameter_count(layer_norm)).correct
    one_group = _parameter_count(nn.GroupNorm(1, 32))
    assert "GroupNorm(1, 32)" in lab02.layer_norm_params.check(one_group).message


def test_lab03_embedding_table_is_vocab_by_d_model() -> None:
    table = nn.Embedding(50_257, 768, device="meta")
    params = sum(p.numel() for p in table.parameters())
    assert lab03.embedding_params.check(params).correct
    assert "multiply" in lab03.embedding_params.check(50_257 + 768).message
    assert "LM head" in lab03.embedding_params.check(2 * params).message


def test_lab03_positional_value_by_hand() -> None:
    value = np.sin(15 / 10000 ** (2 / 8))  # sin(1.5): column 2 is a sine
    assert lab03.positional_value.check(value).correct
    assert lab03.positional_value.check(0.997).correct  # 3 significant digits
    assert "cosine" in lab03.positional_value.check(np.cos(15 / 10000 ** (2 / 8))).message
    assert "frequency" in lab03.positional_value.check(np.sin(15)).message
    assert "degrees" in lab03.positional_value.check(np.sin(np.radians(1.5))).message


def test_lab03_causal_mask_zeros_match_is_causal() -> None:
    """The zeros of softmax over scores masked the way scaled_dot_product_attention does."""
    q = k = torch.randn(1, 10, 4)
    scores = (q @ k.transpose(1, 2)).masked_fill(
        torch.ones(10, 10, dtype=torch.bool).triu(1), float("-inf")
    )
    v = torch.eye(10)[None]  # weights @ identity = the weights themselves
    weights = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=1.0)
    torch.testing.assert_close(weights, scores.softmax(-1))
    zeros = int((weights == 0).sum())
    assert zeros == 45
    assert lab03.masked_weights.check(zeros).correct
    assert "diagonal" in lab03.masked_weights.check(55).message


def test_importing_a_lab_module_builds_nothing_and_each_item_knows_its_name() -> None:
    import subprocess
    import sys

    # a fresh interpreter: what importing every lab module builds, before anything is used
    code = (
        "import widgets.exercises as e\n"
        "for m in e.lab_modules():\n"
        "    print(m.lab.name, sorted(m.lab.items(build=False)) == sorted(m.lab.items()))\n"
    )
    lines = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    # lab01's dying-ReLU items and the profiled items of labs 04 and 05 wait for first use
    assert lines == [
        "lab01",
        "False",
        "lab02",
        "True",
        "lab03",
        "True",
        "lab04",
        "False",
        "lab05",
        "False",
    ]
    for module in lab_modules():
        for name, item in module.lab.items().items():
            assert item.name == f"{module.lab.name}.{name}"
            assert getattr(module, name) is item  # built once


@pytest.mark.parametrize("spelling", ["hardswish", "hard swish", "Hard_Swish", " HARD-swish "])
def test_a_named_answer_is_read_whatever_its_case_spaces_hyphens_or_underscores(spelling):
    from widgets.exercises import lab01

    exercise = replace(lab01.zero_gradient)  # a copy: the lab's records stay
    assert exercise.answer == "hardswish"
    assert exercise.check(spelling).status == "correct"
