"""layer_cost against the real torch modules, run on the meta device (no memory, no compute)."""

from __future__ import annotations

import math
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from widgets.core.layers import LAYER_FORMULAS, layer_cost
from widgets.core.validate import UnknownNameError


def depthwise_conv2d_module(in_channels, out_channels=None, **hyper_params):
    return nn.Conv2d(in_channels, out_channels or in_channels, groups=in_channels, **hyper_params)


def multihead_attention_module(batch_first=True, **hyper_params):
    return nn.MultiheadAttention(batch_first=batch_first, **hyper_params)  # our default: True


TORCH_MODULES = {
    "linear": nn.Linear,
    "conv1d": nn.Conv1d,
    "conv2d": nn.Conv2d,
    "depthwise_conv2d": depthwise_conv2d_module,
    "conv_transpose2d": nn.ConvTranspose2d,
    "multihead_attention": multihead_attention_module,
    "maxpool2d": nn.MaxPool2d,
    "avgpool2d": nn.AvgPool2d,
    "adaptive_avgpool2d": nn.AdaptiveAvgPool2d,
    "adaptive_maxpool2d": nn.AdaptiveMaxPool2d,
    "batchnorm2d": nn.BatchNorm2d,
    "instancenorm2d": nn.InstanceNorm2d,
    "groupnorm": nn.GroupNorm,
    "layernorm": nn.LayerNorm,
    "embedding": nn.Embedding,
}


def torch_inputs(kind: str, hyper_params: dict, input_shape: tuple) -> list[torch.Tensor]:
    """The tensors the torch module is called with (on the current default device)."""
    if kind == "embedding":
        return [torch.zeros(input_shape, dtype=torch.long)]
    if kind == "multihead_attention":  # self-attention: key and value share the query's N and L
        embed_dim = hyper_params["embed_dim"]
        key_dim = hyper_params.get("kdim") or embed_dim
        value_dim = hyper_params.get("vdim") or embed_dim
        leading = input_shape[:-1]
        return [
            torch.empty(input_shape),
            torch.empty(*leading, key_dim),
            torch.empty(*leading, value_dim),
        ]
    return [torch.empty(input_shape)]


def torch_cost(kind: str, hyper_params: dict, input_shape: tuple) -> tuple[int, int, tuple]:
    """(params, MACs, output shape) of the real torch module, measured on the meta device."""
    with torch.device("meta"):
        module = TORCH_MODULES[kind](**hyper_params)
        inputs = torch_inputs(kind, hyper_params, input_shape)
        with FlopCounterMode(display=False) as counter:
            output = module(*inputs)
    if isinstance(output, tuple):  # MultiheadAttention also returns the attention weights
        output = output[0]
    params = sum(p.numel() for p in module.parameters())
    return params, counter.get_total_flops() // 2, tuple(output.shape)


def check_formula(formula: str, value: int) -> None:
    """A filled formula 'symbols = numbers = result' must evaluate to `value`."""
    if value == 0 and formula.startswith("0 ("):
        return
    _, filled, result = formula.split(" = ")
    assert re.fullmatch(r"[\d ()+*/]+", filled), formula
    assert eval(filled) == value, formula  # only digits and + * / ( ) (checked above)
    assert result == f"{value:,}"


def assert_matches_torch(kind: str, hyper_params: dict, input_shape: tuple) -> None:
    cost = layer_cost(kind, input_shape=input_shape, **hyper_params)
    assert (cost.params, cost.macs, cost.output_shape) == torch_cost(
        kind, hyper_params, input_shape
    )
    assert cost.kind == kind
    assert cost.flops == 2 * cost.macs
    assert cost.output_elements == math.prod(cost.output_shape)
    check_formula(cost.params_formula, cost.params)
    check_formula(cost.macs_formula, cost.macs)


# kind, hyper-parameters (torch's constructor arguments), input_shape
CASES = [
    ("linear", dict(in_features=512, out_features=1000), (8, 512)),
    ("linear", dict(in_features=16, out_features=4, bias=False), (2, 7, 16)),
    ("linear", dict(in_features=16, out_features=4), (16,)),
    ("conv1d", dict(in_channels=4, out_channels=6, kernel_size=5, stride=2, padding=1), (3, 4, 30)),
    ("conv1d", dict(in_channels=4, out_channels=8, kernel_size=4, padding="same"), (4, 9)),
    (
        "conv1d",
        dict(in_channels=6, out_channels=9, kernel_size=3, dilation=2, groups=3, bias=False),
        (2, 6, 17),
    ),
    ("conv2d", dict(in_channels=64, out_channels=128, kernel_size=3, padding=1), (1, 64, 56, 56)),
    (
        "conv2d",
        dict(in_channels=3, out_channels=64, kernel_size=7, stride=2, padding=3, bias=False),
        (2, 3, 224, 224),
    ),
    (
        "conv2d",
        dict(in_channels=8, out_channels=12, kernel_size=(3, 5), groups=4, dilation=(2, 1)),
        (2, 8, 17, 11),
    ),
    (
        "conv2d",
        dict(in_channels=3, out_channels=5, kernel_size=3, padding="same", dilation=2),
        (3, 10, 9),
    ),
    ("conv2d", dict(in_channels=3, out_channels=5, kernel_size=3, padding="valid"), (1, 3, 10, 9)),
    (
        "conv2d",
        dict(in_channels=3, out_channels=5, kernel_size=3, padding=1, padding_mode="reflect"),
        (1, 3, 8, 8),
    ),
    ("depthwise_conv2d", dict(in_channels=32, kernel_size=3, padding=1), (2, 32, 28, 28)),
    (
        "depthwise_conv2d",
        dict(in_channels=8, out_channels=24, kernel_size=5, stride=2, bias=False),
        (8, 15, 15),
    ),
    (
        "conv_transpose2d",
        dict(in_channels=16, out_channels=8, kernel_size=4, stride=2, padding=1),
        (2, 16, 7, 7),
    ),
    (
        "conv_transpose2d",
        dict(
            in_channels=4,
            out_channels=6,
            kernel_size=3,
            stride=(2, 3),
            output_padding=(1, 2),
            groups=2,
            dilation=2,
            bias=False,
        ),
        (4, 5, 6),
    ),
    ("multihead_attention", dict(embed_dim=64, num_heads=8), (2, 10, 64)),
    ("multihead_attention", dict(embed_dim=12, num_heads=3, bias=False), (7, 12)),
    ("multihead_attention", dict(embed_dim=8, num_heads=2, kdim=5, vdim=3), (3, 4, 8)),
    ("multihead_attention", dict(embed_dim=8, num_heads=4, batch_first=False), (6, 2, 8)),
    ("maxpool2d", dict(kernel_size=3, stride=2, padding=1), (2, 64, 112, 112)),
    ("maxpool2d", dict(kernel_size=3, stride=2, dilation=2, ceil_mode=True), (3, 10, 11)),
    ("avgpool2d", dict(kernel_size=2), (1, 8, 7, 9)),
    ("avgpool2d", dict(kernel_size=(3, 2), stride=2, padding=1, ceil_mode=True), (1, 2, 6, 5)),
    ("adaptive_avgpool2d", dict(output_size=1), (2, 512, 7, 7)),
    ("adaptive_avgpool2d", dict(output_size=(None, 3)), (4, 7, 9)),
    ("adaptive_maxpool2d", dict(output_size=(5, 2)), (1, 3, 13, 4)),
    ("batchnorm2d", dict(num_features=64), (2, 64, 8, 8)),
    ("batchnorm2d", dict(num_features=3, affine=False), (2, 3, 4, 4)),
    ("instancenorm2d", dict(num_features=16), (2, 16, 8, 8)),
    ("instancenorm2d", dict(num_features=3, affine=True), (3, 5, 4)),
    ("groupnorm", dict(num_groups=4, num_channels=16), (2, 16, 8, 8)),
    ("groupnorm", dict(num_groups=3, num_channels=6, affine=False), (2, 6, 5)),
    ("layernorm", dict(normalized_shape=(16, 8, 8)), (2, 16, 8, 8)),
    ("layernorm", dict(normalized_shape=768), (2, 16, 768)),
    ("layernorm", dict(normalized_shape=(4, 5), bias=False), (3, 4, 5)),
    ("layernorm", dict(normalized_shape=[5], elementwise_affine=False), (3, 4, 5)),
    ("embedding", dict(num_embeddings=50257, embedding_dim=768), (2, 128)),
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize(("kind", "hyper_params", "input_shape"), CASES)
def test_matches_torch(kind, hyper_params, input_shape):
    assert_matches_torch(kind, hyper_params, input_shape)


def test_every_kind_is_checked_against_torch():
    assert {kind for kind, _, _ in CASES} == set(LAYER_FORMULAS) == set(TORCH_MODULES)


def test_formula_is_filled_in():
    cost = layer_cost(
        "conv2d", in_channels=64, out_channels=128, kernel_size=3, input_shape=(1, 64, 56, 56)
    )
    assert cost.params_formula == (
        "(C_in/groups * k_h * k_w + 1) * C_out = (64/1 * 3 * 3 + 1) * 128 = 73,856"
    )
    assert cost.macs_formula == (
        "N * C_out * H_out * W_out * C_in/groups * k_h * k_w"
        " = 1 * 128 * 54 * 54 * 64/1 * 3 * 3 = 214,990,848"
    )


def test_multihead_attention_by_hand():
    batch, length, embed_dim, num_heads = 2, 5, 8, 2
    head_dim = embed_dim // num_heads
    projections = 4 * batch * length * embed_dim * embed_dim  # q, k, v and output
    scores = batch * num_heads * length * length * head_dim  # Q K^T, per head
    weighted_values = batch * num_heads * length * length * head_dim  # weights x V, per head
    cost = layer_cost(
        "multihead_attention",
        embed_dim=embed_dim,
        num_heads=num_heads,
        input_shape=(batch, length, embed_dim),
    )
    assert cost.macs == projections + scores + weighted_values == 3360
    assert cost.params == 4 * (embed_dim * embed_dim + embed_dim) == 288


def test_absurd_size_is_exact_without_allocating():
    shape = (4096, 512, 8192, 8192)  # 2**47 floats: 512 TiB if it were allocated
    hyper_params = dict(in_channels=512, out_channels=512, kernel_size=3, padding=1)
    cost = layer_cost("conv2d", input_shape=shape, **hyper_params)
    assert cost.macs == 4096 * 512 * 8192 * 8192 * 512 * 3 * 3  # beyond float64's exact range
    assert isinstance(cost.macs, int)
    assert cost.output_elements == 4096 * 512 * 8192 * 8192
    assert (cost.params, cost.macs, cost.output_shape) == torch_cost("conv2d", hyper_params, shape)


# ---------------------------------------------------------------------------------------------
# property tests: random valid hyper-parameters, same numbers as torch


def per_axis(low: int, high: int, spatial_ndim: int) -> st.SearchStrategy[tuple[int, ...]]:
    return st.tuples(*[st.integers(low, high)] * spatial_ndim)


def input_size(draw, kernel: int, dilation: int, padding: int) -> int:
    """An input size up to a bit larger than the dilated kernel (so sometimes too small)."""
    return draw(st.integers(1, dilation * (kernel - 1) + 1 + 12))


@st.composite
def conv_cases(draw, kind: str):
    spatial_ndim = 1 if kind == "conv1d" else 2
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 3))
    out_channels = groups * draw(st.integers(1, 3))
    kernel = draw(per_axis(1, 5, spatial_ndim))
    dilation = draw(per_axis(1, 3, spatial_ndim))
    padding = draw(st.sampled_from(["same", "valid"]) | per_axis(0, 3, spatial_ndim))
    stride = (1,) * spatial_ndim if padding == "same" else draw(per_axis(1, 3, spatial_ndim))
    pads = (0,) * spatial_ndim if isinstance(padding, str) else padding
    sizes = [input_size(draw, *axis) for axis in zip(kernel, dilation, pads, strict=True)]
    batch = draw(st.sampled_from([(), (1,), (3,)]))
    hyper_params = dict(
        in_channels=in_channels,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        bias=draw(st.booleans()),
    )
    if kind == "depthwise_conv2d":
        hyper_params["out_channels"] = in_channels * draw(st.integers(1, 3))
    else:
        hyper_params |= dict(out_channels=out_channels, groups=groups)
    return hyper_params, (*batch, in_channels, *sizes)


@st.composite
def conv_transpose2d_cases(draw):
    groups = draw(st.integers(1, 3))
    in_channels = groups * draw(st.integers(1, 3))
    kernel, stride, dilation = (draw(per_axis(1, 4, 2)) for _ in range(3))
    padding = draw(per_axis(0, 3, 2))
    output_padding = tuple(
        draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True)
    )
    sizes = draw(per_axis(1, 12, 2))
    hyper_params = dict(
        in_channels=in_channels,
        out_channels=groups * draw(st.integers(1, 3)),
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        groups=groups,
        dilation=dilation,
        bias=draw(st.booleans()),
    )
    return hyper_params, (draw(st.integers(1, 3)), in_channels, *sizes)


@st.composite
def pool_cases(draw, kind: str):
    kernel = draw(per_axis(1, 5, 2))
    dilation = draw(per_axis(1, 3, 2)) if kind == "maxpool2d" else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    sizes = [input_size(draw, *axis) for axis in zip(kernel, dilation, padding, strict=True)]
    hyper_params = dict(
        kernel_size=kernel,
        stride=draw(st.none() | per_axis(1, 3, 2)),
        padding=padding,
        ceil_mode=draw(st.booleans()),
    )
    if kind == "maxpool2d":
        hyper_params["dilation"] = dilation
    return hyper_params, (draw(st.integers(1, 3)), 2, *sizes)


RANDOM_CASES = {
    "conv1d": conv_cases("conv1d"),
    "conv2d": conv_cases("conv2d"),
    "depthwise_conv2d": conv_cases("depthwise_conv2d"),
    "conv_transpose2d": conv_transpose2d_cases(),
    "maxpool2d": pool_cases("maxpool2d"),
    "avgpool2d": pool_cases("avgpool2d"),
}


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("kind", RANDOM_CASES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_random_hyper_params_match_torch(kind, data):
    """Same numbers as torch when torch accepts the layer, a ValueError when torch refuses it."""
    hyper_params, input_shape = data.draw(RANDOM_CASES[kind])
    try:  # torch refuses an input too small for the (dilated) kernel, or too much padding
        _, _, output_shape = torch_cost(kind, hyper_params, input_shape)
        refused = 0 in output_shape  # meta allows an empty output; the CPU kernels refuse it
    except RuntimeError:
        refused = True
    if refused:
        with pytest.raises(ValueError, match=r"kernel_size|padding"):
            layer_cost(kind, input_shape=input_shape, **hyper_params)
    else:
        assert_matches_torch(kind, hyper_params, input_shape)


# ---------------------------------------------------------------------------------------------
# bad input: the message names the parameter and what is allowed

C = dict(in_channels=4, out_channels=8, kernel_size=3)  # a valid conv on IMAGE
IMAGE = (1, 4, 8, 8)
MHA = dict(embed_dim=8, num_heads=2)
TOKENS = (2, 4, 8)

# kind, hyper-parameters, input_shape, a regex the ValueError's message must match
VALUE_ERRORS = [
    ("conv2d", C | dict(kernel_size=0), IMAGE, "kernel_size must be a positive integer, got 0"),
    ("conv2d", C | dict(out_channels=-2), IMAGE, "out_channels must be a positive integer"),
    ("conv2d", C, (1, 4, 0, 8), r"input_shape\[2\] must be a positive integer, got 0"),
    ("conv2d", C, (4, 8), "input_shape must have 3 or 4 dimensions"),
    ("conv2d", C | dict(in_channels=3), IMAGE, r"in_channels is 3 but input_shape .* 4 channels"),
    ("conv2d", C | dict(groups=8), IMAGE, r"in_channels \(4\) must be divisible by groups \(8\)"),
    ("conv2d", C | dict(groups=4, out_channels=6), IMAGE, r"out_channels \(6\) must be divisible"),
    ("conv2d", C | dict(dilation=(1, 4)), IMAGE, r"kernel_size 3 \(dilated: 9\) .* along width"),
    (
        "conv1d",
        C | dict(kernel_size=9, padding=1),
        (1, 4, 6),
        r"input 8 \(6 \+ 2\*1\) along length",
    ),
    ("conv2d", C | dict(stride=0), IMAGE, "stride must be a positive integer, got 0"),
    ("conv2d", C | dict(stride=(1, -1)), IMAGE, "stride must be a positive integer, got -1"),
    ("conv2d", C | dict(padding="same", stride=2), IMAGE, "padding='same' needs stride 1"),
    ("conv2d", C | dict(padding="full"), IMAGE, "padding 'full'; choose one of: 'same', 'valid'"),
    ("conv2d", C | dict(padding=-1), IMAGE, "padding must be an integer >= 0, got -1"),
    ("conv2d", C | dict(padding_mode="mirror"), IMAGE, "padding_mode 'mirror'; choose one of"),
    ("depthwise_conv2d", C | dict(out_channels=6), IMAGE, r"out_channels \(6\) must be a multiple"),
    ("conv_transpose2d", C | dict(output_padding=1), IMAGE, r"output_padding \(1\) must be small"),
    ("conv_transpose2d", C | dict(padding=3), (4, 1, 1), "padding 3 is too large: the output"),
    ("maxpool2d", dict(kernel_size=3, padding=2), IMAGE, r"padding \(2\) must be at most half"),
    ("avgpool2d", dict(kernel_size=5), (1, 4, 3, 8), r"kernel_size 5 .* along height"),
    ("maxpool2d", dict(kernel_size=2, stride=0), IMAGE, "stride must be a positive integer"),
    ("adaptive_avgpool2d", dict(output_size=(0, 2)), IMAGE, "output_size must be a positive"),
    ("linear", dict(in_features=5, out_features=2), (3, 4), "in_features is 5 but input_shape"),
    ("linear", dict(in_features=5, out_features=0), (3, 5), "out_features must be a positive"),
    ("multihead_attention", MHA, (2, 4, 6), r"embed_dim is 8 but input_shape \(2, 4, 6\)"),
    ("multihead_attention", MHA | dict(num_heads=0), TOKENS, "num_heads must be a positive"),
    ("multihead_attention", MHA | dict(kdim=-1), TOKENS, "kdim must be a positive integer"),
    ("batchnorm2d", dict(num_features=3), IMAGE, "num_features is 3 but input_shape"),
    ("batchnorm2d", dict(num_features=4), (4, 8, 8), "input_shape must have 4 dimensions"),
    ("layernorm", dict(normalized_shape=(1, 2, 8)), TOKENS, "normalized_shape .* must match"),
    ("instancenorm2d", dict(num_features=3), IMAGE, "num_features is 3 but input_shape"),
    ("groupnorm", dict(num_groups=3, num_channels=4), IMAGE, r"num_channels \(4\) must be divi"),
    ("groupnorm", dict(num_groups=2, num_channels=8), IMAGE, "num_channels is 8 but input_shape"),
    ("layernorm", dict(normalized_shape=0), TOKENS, r"normalized_shape\[0\] must be a positive"),
    ("embedding", dict(num_embeddings=0, embedding_dim=4), (2, 3), "num_embeddings must be a"),
]

TYPE_ERRORS = [
    ("conv2d", C | dict(bias=1), IMAGE, "bias must be True or False, got 1"),
    ("conv2d", C | dict(kernel_size=(3, 3, 3)), IMAGE, "kernel_size must be an integer or a tuple"),
    ("conv2d", C | dict(stride=1.5), IMAGE, "stride must be an integer or a tuple of 2 integers"),
    ("conv_transpose2d", C | dict(padding="same"), IMAGE, "padding must be an integer or a tuple"),
    ("adaptive_maxpool2d", dict(output_size=(1, 2, 3)), IMAGE, "output_size must be an integer"),
    ("maxpool2d", dict(kernel_size=2, ceil_mode="yes"), IMAGE, "ceil_mode must be True or False"),
    ("multihead_attention", MHA | dict(batch_first=None), TOKENS, "batch_first must be True or"),
    ("conv2d", C | dict(kernel=3), IMAGE, "unexpected keyword argument 'kernel'"),
]


@pytest.mark.parametrize(("kind", "hyper_params", "input_shape", "match"), VALUE_ERRORS)
def test_bad_value_names_the_parameter(kind, hyper_params, input_shape, match):
    with pytest.raises(ValueError, match=match):
        layer_cost(kind, input_shape=input_shape, **hyper_params)


@pytest.mark.parametrize(("kind", "hyper_params", "input_shape", "match"), TYPE_ERRORS)
def test_bad_type_names_the_parameter(kind, hyper_params, input_shape, match):
    with pytest.raises(TypeError, match=match):
        layer_cost(kind, input_shape=input_shape, **hyper_params)


def test_exact_messages():
    too_small = (1, 4, 5, 9)
    with pytest.raises(ValueError) as error:
        layer_cost("conv2d", input_shape=too_small, **C | dict(kernel_size=7))
    assert str(error.value) == (
        "kernel_size 7 (dilated: 7) is larger than the padded input 5 (5 + 2*0) along height"
    )
    with pytest.raises(ValueError) as error:
        layer_cost("multihead_attention", input_shape=(2, 4, 10), embed_dim=10, num_heads=3)
    assert str(error.value) == "embed_dim (10) must be divisible by num_heads (3)"


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(UnknownNameError) as error:
        layer_cost("conv3d", input_shape=(1, 1, 4, 4, 4))
    assert isinstance(error.value, KeyError) and isinstance(error.value, ValueError)
    kinds = ", ".join(repr(kind) for kind in LAYER_FORMULAS)
    assert str(error.value) == f"unknown layer kind 'conv3d'; choose one of: {kinds}"
