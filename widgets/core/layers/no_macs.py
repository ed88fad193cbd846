"""Layers without MACs (pooling, normalization, embedding): torch's FlopCounterMode counts none
for them; each formula says what the layer does instead."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..validate import check_bool, check_int, check_shape, check_tuple
from .registry import LayerCost, Window, _axes, _check_input_size, _formula, _split_input, register


def _pooling_cost(kind: str, output_shape: tuple[int, ...], work: str) -> LayerCost:
    """A pooling layer: no weights and 0 MACs; `work` says what it does instead."""
    return LayerCost(
        kind=kind,
        params=0,
        macs=0,
        output_shape=output_shape,
        params_formula="0 (pooling has no weights)",
        macs_formula=f"0 ({work})",
    )


def _pool2d(
    kind: str,
    *,
    input_shape: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None,
    padding: int | Sequence[int],
    dilation: int | Sequence[int],
    ceil_mode: bool,
    work: str,
) -> LayerCost:
    batch, (channels, *sizes) = _split_input(input_shape, 3)
    kernel = check_tuple("kernel_size", kernel_size, 2)
    stride = kernel if stride is None else check_tuple("stride", stride, 2)
    pads = check_tuple("padding", padding, 2, minimum=0)
    dilation = check_tuple("dilation", dilation, 2)
    check_bool("ceil_mode", ceil_mode)
    for axis, k, p in zip(_axes(2), kernel, pads, strict=True):
        if p > k // 2:
            raise ValueError(
                f"padding ({p}) must be at most half of kernel_size ({k}) along {axis}"
            )
    out_sizes = Window(kernel, stride, pads, dilation, ceil_mode).output_sizes(sizes)
    window = f"the k_h * k_w = {math.prod(kernel)} values of each window"
    return _pooling_cost(kind, (*batch, channels, *out_sizes), f"{work} {window}")


@register("maxpool2d")
def maxpool2d(
    *,
    input_shape: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
) -> LayerCost:
    """nn.MaxPool2d; stride defaults to kernel_size.

    0 MACs (torch counts none): it costs k_h * k_w - 1 comparisons per output.
    """
    return _pool2d(
        "maxpool2d",
        input_shape=input_shape,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=dilation,
        ceil_mode=ceil_mode,
        work="compares",
    )


@register("avgpool2d")
def avgpool2d(
    *,
    input_shape: Sequence[int],
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: int | Sequence[int] = 0,
    ceil_mode: bool = False,
) -> LayerCost:
    """nn.AvgPool2d; stride defaults to kernel_size.

    0 MACs (torch counts none): it costs k_h * k_w - 1 adds and 1 divide per output.
    """
    return _pool2d(
        "avgpool2d",
        input_shape=input_shape,
        kernel_size=kernel_size,
        stride=stride,
        padding=padding,
        dilation=1,
        ceil_mode=ceil_mode,
        work="sums",
    )


def _adaptive_pool2d(
    kind: str, input_shape: Sequence[int], output_size: int | Sequence[int | None], work: str
) -> LayerCost:
    """Windows of about (H/H_out) x (W/W_out) inputs; None in output_size keeps that input size."""
    batch, (channels, *sizes) = _split_input(input_shape, 3)
    targets = (output_size,) * 2 if not isinstance(output_size, (tuple, list)) else output_size
    if len(targets) != 2:
        raise TypeError(f"output_size must be an integer or a tuple of 2, got {output_size!r}")
    out_sizes = tuple(
        size if target is None else check_int("output_size", target)
        for size, target in zip(sizes, targets, strict=True)
    )
    window = "each window of about H/H_out x W/W_out inputs"
    return _pooling_cost(kind, (*batch, channels, *out_sizes), f"{work} {window}")


@register("adaptive_avgpool2d")
def adaptive_avgpool2d(
    *, input_shape: Sequence[int], output_size: int | Sequence[int | None]
) -> LayerCost:
    """nn.AdaptiveAvgPool2d: 0 MACs (torch counts none); ~1 add per input, 1 divide per output."""
    return _adaptive_pool2d("adaptive_avgpool2d", input_shape, output_size, "averages")


@register("adaptive_maxpool2d")
def adaptive_maxpool2d(
    *, input_shape: Sequence[int], output_size: int | Sequence[int | None]
) -> LayerCost:
    """nn.AdaptiveMaxPool2d: 0 MACs (torch counts none); about 1 comparison per input element."""
    return _adaptive_pool2d("adaptive_maxpool2d", input_shape, output_size, "takes the max of")


@register("batchnorm2d")
def batchnorm2d(*, input_shape: Sequence[int], num_features: int, affine: bool = True) -> LayerCost:
    """nn.BatchNorm2d on (N, C, H, W): 0 MACs (torch counts none); a few ops per element.

    Params: a scale and a shift per channel if affine (running mean/var are buffers, not params).
    """
    shape = check_shape("input_shape", input_shape, ndim=4)
    num_features = check_int("num_features", num_features)
    check_bool("affine", affine)
    _check_input_size("num_features", num_features, shape, shape[1], "channels")
    return _per_channel_norm("batchnorm2d", shape, num_features, affine)


@register("instancenorm2d")
def instancenorm2d(
    *,
    input_shape: Sequence[int],
    num_features: int,
    affine: bool = False,
    track_running_stats: bool = False,
) -> LayerCost:
    """nn.InstanceNorm2d on (N, C, H, W) or (C, H, W): 0 MACs (torch counts none).

    Params: none by default (torch's affine=False); a scale and a shift per channel if affine.
    Running statistics, if tracked, are buffers, not params.
    """
    _, (channels, *_) = _split_input(input_shape, 3)
    num_features = check_int("num_features", num_features)
    check_bool("affine", affine)
    check_bool("track_running_stats", track_running_stats)
    _check_input_size("num_features", num_features, input_shape, channels, "channels")
    return _per_channel_norm(
        "instancenorm2d", tuple(input_shape), num_features, affine, scale_and_shift=False
    )


@register("groupnorm")
def groupnorm(
    *, input_shape: Sequence[int], num_groups: int, num_channels: int, affine: bool = True
) -> LayerCost:
    """nn.GroupNorm on (N, C, *): 0 MACs (torch counts none); a few ops per element.

    Params: a scale and a shift per channel if affine (not per group).
    """
    shape = check_shape("input_shape", input_shape)
    num_groups = check_int("num_groups", num_groups)
    num_channels = check_int("num_channels", num_channels)
    check_bool("affine", affine)
    if len(shape) < 2:
        raise ValueError(f"input_shape must be (N, C, *), got {shape}")
    _check_input_size("num_channels", num_channels, shape, shape[1], "channels")
    if num_channels % num_groups:
        raise ValueError(
            f"num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
        )
    return _per_channel_norm("groupnorm", shape, num_channels, affine)


def _per_channel_norm(
    kind: str, shape: tuple[int, ...], channels: int, affine: bool, scale_and_shift: bool = True
) -> LayerCost:
    """A norm with a scale and a shift per channel if affine: 0 MACs (torch counts none)."""
    params = 2 * channels if affine else 0
    steps = ", scale and shift" if scale_and_shift else ""
    return LayerCost(
        kind=kind,
        params=params,
        macs=0,
        output_shape=shape,
        params_formula=_formula("2 * C", params, C=channels) if affine else "0 (affine=False)",
        macs_formula=f"0 (per element: subtract the mean, divide by the std{steps})",
    )


@register("layernorm")
def layernorm(
    *,
    input_shape: Sequence[int],
    normalized_shape: int | Sequence[int],
    elementwise_affine: bool = True,
    bias: bool = True,
) -> LayerCost:
    """nn.LayerNorm over the trailing normalized_shape dims of the input.

    0 MACs (torch counts none): a few element-wise ops per element. Params: a scale (and a shift
    if bias) per normalized element, D = prod(normalized_shape).
    """
    shape = check_shape("input_shape", input_shape)
    normalized = check_shape("normalized_shape", normalized_shape)
    check_bool("elementwise_affine", elementwise_affine)
    check_bool("bias", bias)
    if not normalized or shape[len(shape) - len(normalized) :] != normalized:
        raise ValueError(
            f"normalized_shape {normalized} must match the last {len(normalized)} dims of "
            f"input_shape {shape}"
        )
    per_element = (1 + bias) if elementwise_affine else 0
    params = per_element * math.prod(normalized)
    if elementwise_affine:
        params_formula = _formula(f"{per_element} * D", params, D=math.prod(normalized))
    else:
        params_formula = "0 (elementwise_affine=False)"
    return LayerCost(
        kind="layernorm",
        params=params,
        macs=0,
        output_shape=shape,
        params_formula=params_formula,
        macs_formula="0 (per element: subtract the mean, divide by the std, scale and shift)",
    )


@register("embedding")
def embedding(*, input_shape: Sequence[int], num_embeddings: int, embedding_dim: int) -> LayerCost:
    """nn.Embedding on integer indices of any shape, e.g. (N, L).

    0 MACs (torch counts none): a lookup copies one row of embedding_dim numbers per index.
    """
    shape = check_shape("input_shape", input_shape)
    num_embeddings = check_int("num_embeddings", num_embeddings)
    embedding_dim = check_int("embedding_dim", embedding_dim)
    params = num_embeddings * embedding_dim
    return LayerCost(
        kind="embedding",
        params=params,
        macs=0,
        output_shape=(*shape, embedding_dim),
        params_formula=_formula(
            "num_embeddings * embedding_dim",
            params,
            num_embeddings=num_embeddings,
            embedding_dim=embedding_dim,
        ),
        macs_formula="0 (a table lookup: copies one row of embedding_dim numbers per index)",
    )
