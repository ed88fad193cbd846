"""Lab 02 (layers, params and MACs): exercises and a prediction, answers from widgets.core."""

from __future__ import annotations

from typing import Any

from widgets.core.layers import LayerCost, layer_cost

from . import Exercise, Mistake, Prediction, flops_for_macs, lab_progress

progress = lab_progress(__name__)  # lab02.progress(): this lab's exercises and their status

INPUT_SHAPE = (1, 64, 56, 56)  # a ResNet stage-1 feature map: 64 channels of 56 x 56


def _conv(**hyper_params: Any) -> LayerCost:
    """nn.Conv2d on INPUT_SHAPE (in_channels = 64) unless hyper_params say otherwise."""
    arguments = {"input_shape": INPUT_SHAPE, "in_channels": 64, "out_channels": 128}
    return layer_cost("conv2d", **(arguments | hyper_params))


# --- parameters of a convolution ----------------------------------------------------------

_conv3 = _conv(kernel_size=3, padding=1)

conv_params = Exercise(
    question="How many parameters (weights and biases) has nn.Conv2d(64, 128, kernel_size=3)?",
    answer=_conv3.params,
    hint="Each of the 128 filters spans all 64 input channels with a 3 x 3 kernel, plus a bias.",
    mistakes=[
        Mistake(
            _conv(kernel_size=3, bias=False).params,
            "That is the weights only: each of the 128 filters also has a bias.",
        ),
        Mistake(
            _conv(kernel_size=(3, 1)).params,
            "The kernel is 3 x 3: 9 weights per input channel, not 3.",
        ),
        Mistake(
            _conv(in_channels=1, input_shape=(1, 1, 56, 56), kernel_size=3).params,
            "Each filter spans all 64 input channels, not one.",
        ),
    ],
    unit="parameters",
    tolerance=0,
    solution=[
        "Each of the C_out filters has C_in x k_h x k_w weights and one bias.",
        _conv3.params_formula,
    ],
)


def _output_size_step(hyper_params: dict[str, int], conv: LayerCost) -> str:
    """The output-size formula along one axis, filled in with the conv's hyper-parameters."""
    p, d = hyper_params.get("padding", 0), hyper_params.get("dilation", 1)
    k, s = hyper_params["kernel_size"], hyper_params.get("stride", 1)
    size, out = INPUT_SHAPE[-1], conv.output_shape[-1]
    return (
        f"H_out = W_out = floor((H + 2p - d(k - 1) - 1) / s) + 1 = "
        f"floor(({size} + 2 x {p} - {d} x ({k} - 1) - 1) / {s}) + 1 = {out}"
    )


def _conv_macs(hyper_params: dict[str, int], hint: str, mistakes: list[Mistake]) -> Exercise:
    """The MACs of nn.Conv2d(64, 128, **hyper_params) on INPUT_SHAPE; FLOPs are a mistake too."""
    conv = _conv(**hyper_params)
    arguments = ", ".join(f"{name}={value}" for name, value in hyper_params.items())
    return Exercise(
        question=(
            f"nn.Conv2d(64, 128, {arguments}) runs on an input of shape {INPUT_SHAPE}. "
            "How many MACs does it take?"
        ),
        answer=conv.macs,
        hint=hint,
        mistakes=[flops_for_macs(conv.macs), *mistakes],
        unit="MACs",
        tolerance=0,
        solution=[
            _output_size_step(hyper_params, conv),
            "Each output value is one dot product over C_in x k_h x k_w weights: "
            + conv.macs_formula,
        ],
    )


# --- stride: fewer output positions, fewer MACs -------------------------------------------

_STRIDED = {"kernel_size": 3, "stride": 2, "padding": 1}
_strided = _conv(**_STRIDED)

strided_macs = _conv_macs(
    _STRIDED,
    hint=(
        "MACs = output positions x weights per output: find the output height and width first "
        "(stride 2 keeps every second position), then C_out x H_out x W_out x C_in x 3 x 3."
    ),
    mistakes=[
        Mistake(_conv3.macs, "That is at stride 1: stride 2 halves both the height and the width."),
        Mistake(
            _strided.macs + _strided.output_elements,
            "Bias adds are not MACs (torch's convention): count the multiply-accumulates only.",
        ),
    ],
)

# --- dilation: a wider view for the same weights ------------------------------------------

dilated_macs = _conv_macs(
    {"kernel_size": 3, "padding": 2, "dilation": 2},
    hint=(
        "Dilation 2 spreads the 3 x 3 taps over a 5 x 5 window; with padding 2 the output keeps "
        "the input's size. Each output still uses 3 x 3 weights per input channel."
    ),
    mistakes=[
        Mistake(
            _conv(kernel_size=5, padding=2).macs,
            "Dilation spaces the 3 x 3 taps apart; it adds no weights, so no MACs per output.",
        ),
        Mistake(
            _conv(kernel_size=3, dilation=2).macs,
            "The padding of 2 keeps the output at 56 x 56.",
        ),
    ],
)

# --- grouped convolution ------------------------------------------------------------------

GROUPS = 4
_grouped_shape = (1, 128, 28, 28)


def _grouped(groups: int, bias: bool = True) -> int:
    return _conv(
        input_shape=_grouped_shape, in_channels=128, out_channels=256, kernel_size=3,
        groups=groups, bias=bias,
    ).params  # fmt: skip


_grouped_cost = _conv(
    input_shape=_grouped_shape, in_channels=128, out_channels=256, kernel_size=3, groups=GROUPS
)

grouped_params = Exercise(
    question=(
        f"How many parameters (weights and biases) has "
        f"nn.Conv2d(128, 256, kernel_size=3, groups={GROUPS})?"
    ),
    answer=_grouped(GROUPS),
    hint=(
        "With groups, each filter sees only C_in / groups input channels; there are still C_out "
        "filters, each with its own bias."
    ),
    mistakes=[
        Mistake(_grouped(1), f"That is without groups: each filter sees 128 / {GROUPS} channels."),
        Mistake(
            _grouped(GROUPS, bias=False),
            "That is the weights only: each of the 256 filters has a bias.",
        ),
        Mistake(
            _grouped(1) // GROUPS,
            "The biases are not split by the groups: each of the 256 filters keeps one.",
        ),
        Mistake(
            _grouped(1, bias=False) // GROUPS**2 + 256,
            "Only the input channels are split: each filter sees C_in / groups channels, and "
            "there are still C_out filters.",
        ),
    ],
    unit="parameters",
    tolerance=0,
    solution=[
        f"Each of the 256 filters sees 128 / {GROUPS} = {128 // GROUPS} input channels and has "
        "one bias.",
        _grouped_cost.params_formula,
    ],
)

# --- prediction: depthwise-separable vs standard ------------------------------------------

SEPARABLE_CHANNELS, SEPARABLE_SIZE = 128, 28
_shape = (1, SEPARABLE_CHANNELS, SEPARABLE_SIZE, SEPARABLE_SIZE)
_same = {"in_channels": SEPARABLE_CHANNELS, "input_shape": _shape, "padding": 1}
_standard = layer_cost("conv2d", out_channels=SEPARABLE_CHANNELS, kernel_size=3, **_same)
_depthwise = layer_cost("depthwise_conv2d", kernel_size=3, **_same)
_pointwise = layer_cost(
    "conv2d", input_shape=_shape, in_channels=SEPARABLE_CHANNELS,
    out_channels=SEPARABLE_CHANNELS, kernel_size=1,
)  # fmt: skip

separable_saving = Prediction(
    question=(
        f"A standard 3 x 3 conv ({SEPARABLE_CHANNELS} -> {SEPARABLE_CHANNELS} channels) is "
        "replaced by a depthwise 3 x 3 conv followed by a pointwise 1 x 1 conv (MobileNet's "
        "depthwise-separable block). How many times fewer MACs does the pair need?"
    ),
    measured=_standard.macs / (_depthwise.macs + _pointwise.macs),
    explanation=(
        "Per output position, the standard conv costs k² x C_in x C_out MACs, the pair "
        "k² x C_in + C_in x C_out: the saving is 1 / (1/C_out + 1/k²), a little under k² = 9 "
        "for many channels."
    ),
    unit="times",
    solution=[
        f"standard 3 x 3: {_standard.macs_formula}",
        f"depthwise 3 x 3: {_depthwise.macs_formula}",
        f"pointwise 1 x 1: {_pointwise.macs_formula}",
        f"{_standard.macs:,} / ({_depthwise.macs:,} + {_pointwise.macs:,}) = "
        f"{_standard.macs / (_depthwise.macs + _pointwise.macs):.3g}",
    ],
)
