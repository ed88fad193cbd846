"""Lab 02 (layers, params and MACs): exercises and a prediction, answers from widgets.core."""

from __future__ import annotations

import math
from typing import Any

from widgets.core.layers import LayerCost, layer_cost
from widgets.core.normalization import normalization
from widgets.core.receptive_field import stack_receptive_field

from . import Exercise, Lab, Mistake, Prediction, flops_for_macs

INPUT_SHAPE = (1, 64, 56, 56)  # a ResNet stage-1 feature map: 64 channels of 56 x 56
# Exercises 4 and 5: a batch of such maps. The LayerExplorer shows one image: its readout is a
# hint, not the answer
BATCH_SHAPE = (8, *INPUT_SHAPE[1:])

# --- terminology: parameters (weights, "synapses") vs activations ("neurons", features) -------

IMAGES, PIXELS, HIDDEN = 32, 784, 256  # a batch of 32 flattened 28 x 28 images


def _hidden_layer(batch: int = IMAGES, bias: bool = True) -> LayerCost:
    return layer_cost(
        "linear", input_shape=(batch, PIXELS), in_features=PIXELS, out_features=HIDDEN, bias=bias
    )


layer_activations = Exercise(
    question=(
        f"A batch of {IMAGES} flattened 28 x 28 images (shape ({IMAGES}, {PIXELS})) goes through "
        f"nn.Linear({PIXELS}, {HIDDEN}). How many activations (output features, the whole "
        "batch's) does the layer produce?"
    ),
    answer=_hidden_layer().output_elements,
    hint="Activations are the layer's outputs: one number per output feature per image.",
    mistakes=[
        Mistake(
            _hidden_layer().params,
            "That is the parameters (weights and biases), stored once whatever the batch. "
            "Count the outputs.",
        ),
        Mistake(_hidden_layer(bias=False).params, "That is the weights. Count the outputs."),
        Mistake(
            _hidden_layer(batch=1).output_elements, f"That is for one image; there are {IMAGES}."
        ),
        Mistake(IMAGES * PIXELS, "That is the input activations; count the layer's outputs."),
    ],
    unit="activations",
    tolerance=0,
)


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
    """The MACs of nn.Conv2d(64, 128, **hyper_params) on BATCH_SHAPE; FLOPs and one image's MACs
    are mistakes too."""
    conv = _conv(input_shape=BATCH_SHAPE, **hyper_params)
    one_image = _conv(**hyper_params)
    arguments = ", ".join(f"{name}={value}" for name, value in hyper_params.items())
    return Exercise(
        question=(
            f"nn.Conv2d(64, 128, {arguments}) runs on an input of shape {BATCH_SHAPE} (a batch "
            f"of {BATCH_SHAPE[0]} feature maps). How many MACs does it take?"
        ),
        answer=conv.macs,
        hint=hint,
        mistakes=[
            flops_for_macs(conv.macs),
            Mistake(
                one_image.macs,
                f"That is for one image; the batch holds {BATCH_SHAPE[0]}, and each image runs "
                "the same conv.",
            ),
            *mistakes,
        ],
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
_strided = _conv(input_shape=BATCH_SHAPE, **_STRIDED)

strided_macs = _conv_macs(
    _STRIDED,
    hint=(
        "MACs = output positions x weights per output: find the output height and width first "
        "(stride 2 keeps every second position), then N x C_out x H_out x W_out x C_in x 3 x 3 "
        "for a batch of N."
    ),
    mistakes=[
        Mistake(
            _conv(input_shape=BATCH_SHAPE, kernel_size=3, padding=1).macs,
            "That is at stride 1: stride 2 halves both the height and the width.",
        ),
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
        "the input's size. Each output still uses 3 x 3 weights per input channel, and each of "
        "the N images of the batch has its outputs."
    ),
    mistakes=[
        Mistake(
            _conv(input_shape=BATCH_SHAPE, kernel_size=5, padding=2).macs,
            "Dilation spaces the 3 x 3 taps apart; it adds no weights, so no MACs per output.",
        ),
        Mistake(
            _conv(input_shape=BATCH_SHAPE, kernel_size=3, dilation=2).macs,
            "The padding of 2 keeps the output at 56 x 56.",
        ),
    ],
)

# --- conv1d: a kernel along one axis ------------------------------------------------------

SEQUENCES = (8, 16, 100)  # a batch of 8 sequences of 16 channels x 100 time steps


def _conv1d(**hyper_params: Any) -> LayerCost:
    """nn.Conv1d(16, 32, kernel_size=5, padding=2) on SEQUENCES unless hyper_params say otherwise."""
    arguments = dict(
        input_shape=SEQUENCES, in_channels=16, out_channels=32, kernel_size=5, padding=2
    )
    return layer_cost("conv1d", **(arguments | hyper_params))


_sequence_conv = _conv1d()

conv1d_macs = Exercise(
    question=(
        f"nn.Conv1d(16, 32, kernel_size=5, padding=2) runs on an input of shape {SEQUENCES} "
        "(8 sequences, 16 channels, 100 steps). How many MACs does it take?"
    ),
    answer=_sequence_conv.macs,
    hint=(
        "As for conv2d, with one spatial axis: N x C_out x L_out x C_in x k. Padding 2 keeps the "
        "length at 100."
    ),
    mistakes=[
        flops_for_macs(_sequence_conv.macs),
        Mistake(
            _sequence_conv.macs * 5,
            "A Conv1d kernel is 5 taps long along one axis, not 5 x 5: C_in x k weights per output.",
        ),
        Mistake(_conv1d(input_shape=(1, 16, 100)).macs, "That is for one sequence; there are 8."),
        Mistake(_conv1d(padding=0).macs, "Padding 2 keeps the output length at 100."),
        Mistake(
            _sequence_conv.macs + _sequence_conv.output_elements,
            "Bias adds are not MACs (torch's convention): count the multiply-accumulates only.",
        ),
    ],
    unit="MACs",
    tolerance=0,
)

# --- receptive field: downsampling makes the field grow geometrically ------------------------

# ResNet-18's stem (7 x 7 conv, stride 2; 3 x 3 max pool, stride 2) and its first stage (four
# 3 x 3 convs, stride 1), as (kernel, stride) windows
RESNET_STEM_AND_STAGE_1 = ((7, 2), (3, 2), (3, 1), (3, 1), (3, 1), (3, 1))
_stride_1 = stack_receptive_field([(kernel, 1) for kernel, _ in RESNET_STEM_AND_STAGE_1])
_conv_stride_only = stack_receptive_field([(7, 2), (3, 1), (3, 1), (3, 1), (3, 1), (3, 1)])

resnet_receptive_field = Exercise(
    question=(
        "ResNet-18 starts with a 7 x 7 conv of stride 2, then a 3 x 3 max pool of stride 2, then "
        "the four 3 x 3 convs (stride 1) of its first stage. How many input pixels wide is the "
        "receptive field of one output of that first stage? (A pooling window widens the field "
        "as a kernel of its size does.)"
    ),
    answer=stack_receptive_field(RESNET_STEM_AND_STAGE_1),
    hint=(
        "Go layer by layer: a k-wide window widens the field by (k - 1) x the jump, the input "
        "pixels between two neighbouring positions of that layer's input (the product of the "
        "strides below it: 1 for the first layer)."
    ),
    mistakes=[
        Mistake(
            _stride_1,
            "That ignores the strides: after the stride-2 conv and the stride-2 "
            "pool, one step of the stage's input is 4 input pixels.",
        ),
        Mistake(
            _conv_stride_only,
            "That leaves out the max pool: its 3-wide window and its stride 2 both count.",
        ),
    ],
    unit="pixels",
    tolerance=0,
    solution=[
        *(
            f"{name} (k = {kernel}, stride {stride}): adds ({kernel} - 1) x jump {jump} = "
            f"{(kernel - 1) * jump}; the field is now {stack_receptive_field(windows)} pixels"
            for name, (kernel, stride), jump, windows in zip(
                ["the 7 x 7 conv", "the 3 x 3 max pool", *["a 3 x 3 conv of stage 1"] * 4],
                RESNET_STEM_AND_STAGE_1,
                [math.prod(s for _, s in RESNET_STEM_AND_STAGE_1[:i]) for i in range(6)],
                [RESNET_STEM_AND_STAGE_1[: i + 1] for i in range(6)],
                strict=True,
            )
        ),
        "The jump is the product of the strides below: 1, then 2, then 4 for the whole stage.",
    ],
)

# --- normalization: which numbers share a mean ---------------------------------------------

NORM_INPUT = (16, 32, 28, 28)  # N, C, H, W
NORM_GROUPS = 8


def _numbers_per_mean(kind: str, groups: int = 1) -> int:
    return normalization(kind, NORM_INPUT, groups).elements_per_statistic


_group_norm = normalization("group", NORM_INPUT, NORM_GROUPS)

group_norm_mean = Exercise(
    question=(
        f"nn.GroupNorm(num_groups={NORM_GROUPS}, num_channels=32) normalizes an input of shape "
        f"{NORM_INPUT}. Over how many numbers is each mean taken?"
    ),
    answer=_group_norm.elements_per_statistic,
    hint="One mean per sample and group: the group's C/G channels, each with H x W positions.",
    mistakes=[
        Mistake(
            _numbers_per_mean("batch"), "That is batch norm's: group norm never mixes samples."
        ),
        Mistake(_numbers_per_mean("layer"), "That is layer norm's: a group holds C/G channels."),
        Mistake(
            _numbers_per_mean("instance"), "That is instance norm's: a group holds C/G channels."
        ),
        Mistake(_group_norm.statistics, "That is how many means are computed, not their size."),
        Mistake(
            NORM_GROUPS * NORM_INPUT[2] * NORM_INPUT[3],
            f"{NORM_GROUPS} is the number of groups; each group holds C/G channels.",
        ),
    ],
    unit="numbers",
    tolerance=0,
)

_layer_norm = normalization("layer", NORM_INPUT)

layer_norm_params = Exercise(
    question=(
        "How many parameters has nn.LayerNorm([32, 28, 28]), the layer norm of the same input? "
        "(nn.GroupNorm(1, 32) averages over the same numbers.)"
    ),
    answer=_layer_norm.cost.params,
    hint=(
        "torch's LayerNorm learns a scale and a shift for every element of normalized_shape; "
        "GroupNorm learns them per channel."
    ),
    mistakes=[
        Mistake(
            normalization("group", NORM_INPUT, 1).cost.params,
            "That is GroupNorm(1, 32)'s: one scale and shift per channel. LayerNorm has them for "
            "every element of normalized_shape.",
        ),
        Mistake(_layer_norm.cost.params // 2, "That is the scales only: add a shift for each."),
    ],
    unit="parameters",
    tolerance=0,
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
    source="computed",
    solution=[
        f"standard 3 x 3: {_standard.macs_formula}",
        f"depthwise 3 x 3: {_depthwise.macs_formula}",
        f"pointwise 1 x 1: {_pointwise.macs_formula}",
        f"{_standard.macs:,} / ({_depthwise.macs:,} + {_pointwise.macs:,}) = "
        f"{_standard.macs / (_depthwise.macs + _pointwise.macs):.3g}",
    ],
)

lab = Lab(globals())
progress, __getattr__, __dir__ = lab.progress, lab.module_getattr, lab.module_dir
