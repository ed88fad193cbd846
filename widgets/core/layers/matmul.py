"""Matmul-like layers (linear, convolutions, attention): their MACs are what torch's
FlopCounterMode counts. 1 MAC = 1 multiply + 1 add; bias adds are not counted in MACs."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ..validate import check_bool, check_choice, check_int, check_shape, check_tuple
from .registry import (
    _PADDING_MODES,
    LayerCost,
    Window,
    _axes,
    _check_groups,
    _check_input_size,
    _formula,
    _split_input,
    register,
)


@register("linear")
def linear(
    *, input_shape: Sequence[int], in_features: int, out_features: int, bias: bool = True
) -> LayerCost:
    """nn.Linear on (*, in_features): 1 MAC (multiply + add) per weight per input vector.

    N is the number of input vectors: the product of all input dims but the last. Bias adds are
    not counted in MACs; biases are counted in params.
    """
    shape = check_shape("input_shape", input_shape)
    in_features = check_int("in_features", in_features)
    out_features = check_int("out_features", out_features)
    check_bool("bias", bias)
    if not shape:
        raise ValueError("input_shape must have at least 1 dimension (in_features), got ()")
    _check_input_size("in_features", in_features, shape, shape[-1], "features")
    vectors = math.prod(shape[:-1])
    params = (in_features + bias) * out_features
    macs = vectors * in_features * out_features
    sizes = {"in_features": in_features, "out_features": out_features}
    plus_bias = " + 1" if bias else ""
    return LayerCost(
        kind="linear",
        params=params,
        macs=macs,
        output_shape=(*shape[:-1], out_features),
        params_formula=_formula(f"(in_features{plus_bias}) * out_features", params, **sizes),
        macs_formula=_formula("N * in_features * out_features", macs, N=vectors, **sizes),
    )


def _conv(
    kind: str,
    spatial_ndim: int,
    *,
    input_shape: Sequence[int],
    in_channels: int,
    out_channels: int,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: str | int | Sequence[int] = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    bias: bool = True,
    padding_mode: str = "zeros",
) -> LayerCost:
    """nn.Conv1d / nn.Conv2d, with torch's arguments and defaults: 1 MAC per weight per output.

    1 MAC = 1 multiply + 1 add. Bias adds are not counted in MACs; biases are counted in params.
    """
    batch, (channels, *sizes) = _split_input(input_shape, spatial_ndim + 1)
    in_channels = check_int("in_channels", in_channels)
    out_channels = check_int("out_channels", out_channels)
    groups = check_int("groups", groups)
    kernel = check_tuple("kernel_size", kernel_size, spatial_ndim)
    stride = check_tuple("stride", stride, spatial_ndim)
    dilation = check_tuple("dilation", dilation, spatial_ndim)
    check_bool("bias", bias)
    check_choice("padding_mode", padding_mode, _PADDING_MODES)  # border values only, same cost
    _check_input_size("in_channels", in_channels, input_shape, channels, "channels")
    _check_groups(in_channels, out_channels, groups)
    if isinstance(padding, str):
        check_choice("padding", padding, ("same", "valid"))
    if padding == "same":
        if any(s != 1 for s in stride):
            raise ValueError(f"padding='same' needs stride 1 (as in torch), got stride={stride}")
        out_sizes = tuple(sizes)
    else:
        pads = (0,) * spatial_ndim if padding == "valid" else padding
        pads = check_tuple("padding", pads, spatial_ndim, minimum=0)
        out_sizes = Window(kernel, stride, pads, dilation).output_sizes(sizes)

    axes = _axes(spatial_ndim)
    kernel_symbols = {f"k_{axis[0]}": k for axis, k in zip(axes, kernel, strict=True)}
    out_symbols = {
        f"{axis[0].upper()}_out": size for axis, size in zip(axes, out_sizes, strict=True)
    }
    kernel_product = " * ".join(kernel_symbols)
    channel_symbols = {"C_in": in_channels, "C_out": out_channels, "groups": groups}
    weights_per_output = in_channels // groups * math.prod(kernel)
    params = (weights_per_output + bias) * out_channels
    batch_size = math.prod(batch)
    macs = batch_size * out_channels * math.prod(out_sizes) * weights_per_output
    plus_bias = " + 1" if bias else ""
    macs_template = f"N * C_out * {' * '.join(out_symbols)} * C_in/groups * {kernel_product}"
    return LayerCost(
        kind=kind,
        params=params,
        macs=macs,
        output_shape=(*batch, out_channels, *out_sizes),
        params_formula=_formula(
            f"(C_in/groups * {kernel_product}{plus_bias}) * C_out",
            params,
            **channel_symbols,
            **kernel_symbols,
        ),
        macs_formula=_formula(
            macs_template, macs, N=batch_size, **channel_symbols, **kernel_symbols, **out_symbols
        ),
    )


@register("conv1d")
def conv1d(**arguments: Any) -> LayerCost:
    """nn.Conv1d on (N, C_in, L) or (C_in, L): 1 MAC per weight per output position.

    The arguments are input_shape and nn.Conv1d's, with its defaults (see _conv).
    """
    return _conv("conv1d", 1, **arguments)


@register("conv2d")
def conv2d(**arguments: Any) -> LayerCost:
    """nn.Conv2d on (N, C_in, H, W) or (C_in, H, W): 1 MAC per weight per output position.

    The arguments are input_shape and nn.Conv2d's, with its defaults (see _conv).
    """
    return _conv("conv2d", 2, **arguments)


@register("depthwise_conv2d")
def depthwise_conv2d(
    *, in_channels: int, out_channels: int | None = None, **arguments: Any
) -> LayerCost:
    """nn.Conv2d with groups=in_channels: each input channel has its own k_h x k_w filters.

    out_channels defaults to in_channels and must be a multiple of it (the depth multiplier).
    The other arguments are conv2d's but groups. Same counting as conv2d, with C_in/groups = 1.
    """
    out_channels = in_channels if out_channels is None else out_channels
    check_int("in_channels", in_channels)
    if check_int("out_channels", out_channels) % in_channels:
        raise ValueError(
            f"out_channels ({out_channels}) must be a multiple of in_channels ({in_channels})"
        )
    return _conv(
        "depthwise_conv2d",
        2,
        in_channels=in_channels,
        out_channels=out_channels,
        groups=in_channels,
        **arguments,
    )


@register("conv_transpose2d")
def conv_transpose2d(
    *,
    input_shape: Sequence[int],
    in_channels: int,
    out_channels: int,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    padding: int | Sequence[int] = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    bias: bool = True,
    dilation: int | Sequence[int] = 1,
    padding_mode: str = "zeros",
) -> LayerCost:
    """nn.ConvTranspose2d on (N, C_in, H, W) or (C_in, H, W).

    1 MAC (multiply + add) per weight per *input* position: each input value is multiplied by
    C_out/groups * k_h * k_w weights and added into the output. Bias adds are not counted in
    MACs; biases are in params. `padding` crops the output; `output_padding` extends it.
    """
    batch, (channels, *sizes) = _split_input(input_shape, 3)
    in_channels = check_int("in_channels", in_channels)
    out_channels = check_int("out_channels", out_channels)
    groups = check_int("groups", groups)
    kernel = check_tuple("kernel_size", kernel_size, 2)
    stride = check_tuple("stride", stride, 2)
    pads = check_tuple("padding", padding, 2, minimum=0)
    extra = check_tuple("output_padding", output_padding, 2, minimum=0)
    dilation = check_tuple("dilation", dilation, 2)
    check_bool("bias", bias)
    check_choice("padding_mode", padding_mode, ("zeros",))  # the only mode torch supports here
    _check_input_size("in_channels", in_channels, input_shape, channels, "channels")
    _check_groups(in_channels, out_channels, groups)
    out_sizes = []
    for axis, size, k, s, p, e, d in zip(
        _axes(2), sizes, kernel, stride, pads, extra, dilation, strict=True
    ):
        if e >= max(s, d):
            raise ValueError(
                f"output_padding ({e}) must be smaller than stride ({s}) or dilation ({d}) "
                f"along {axis}"
            )
        out_size = (size - 1) * s - 2 * p + d * (k - 1) + e + 1
        if out_size < 1:
            raise ValueError(f"padding {p} is too large: the output {axis} would be {out_size}")
        out_sizes.append(out_size)

    symbols = {"C_in": in_channels, "C_out": out_channels, "groups": groups}
    symbols |= {"k_h": kernel[0], "k_w": kernel[1], "H_in": sizes[0], "W_in": sizes[1]}
    batch_size = math.prod(batch)
    weights = in_channels * out_channels // groups * math.prod(kernel)
    params = weights + (out_channels if bias else 0)
    macs = batch_size * math.prod(sizes) * weights
    plus_bias = " + C_out" if bias else ""
    return LayerCost(
        kind="conv_transpose2d",
        params=params,
        macs=macs,
        output_shape=(*batch, out_channels, *out_sizes),
        params_formula=_formula(f"C_in * C_out/groups * k_h * k_w{plus_bias}", params, **symbols),
        macs_formula=_formula(
            "N * H_in * W_in * C_in * C_out/groups * k_h * k_w", macs, N=batch_size, **symbols
        ),
    )


def attention_macs(*, batch: int, queries: int, keys: int, d_model: int) -> int:
    """MACs of one of attention's two token-by-token matmuls, Q K^T or softmax(.) V, summed over
    the heads: each of `queries` tokens meets each of `keys` tokens over d_model features (the
    heads split d_model, so their count does not change the total)."""
    return batch * queries * keys * d_model


@register("multihead_attention")
def multihead_attention(
    *,
    input_shape: Sequence[int],
    embed_dim: int,
    num_heads: int,
    bias: bool = True,
    kdim: int | None = None,
    vdim: int | None = None,
    batch_first: bool = True,
) -> LayerCost:
    """nn.MultiheadAttention used for self-attention on (N, L, E), or (L, E) unbatched.

    batch_first defaults to True here (torch's default is False, i.e. (L, N, E)). Query, key and
    value come from the same sequence; with kdim/vdim the key/value inputs have the same N and L
    and kdim/vdim features. MACs (1 MAC = multiply + add): the q, k, v projections
    N*L*E*(E + kdim + vdim), the scores Q K^T and the weighted sum of V (N*L*L*E each, summed
    over heads), the output projection N*L*E*E. Bias adds, softmax and scaling (element-wise
    on the N*heads*L*L scores) count 0 MACs, as in torch.
    """
    shape = check_shape("input_shape", input_shape, ndim=(2, 3))
    embed_dim = check_int("embed_dim", embed_dim)
    num_heads = check_int("num_heads", num_heads)
    kdim = embed_dim if kdim is None else check_int("kdim", kdim)
    vdim = embed_dim if vdim is None else check_int("vdim", vdim)
    check_bool("bias", bias)
    check_bool("batch_first", batch_first)
    if embed_dim % num_heads:
        raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})")
    _check_input_size("embed_dim", embed_dim, shape, shape[-1], "features")
    if len(shape) == 2:
        batch_size, length = 1, shape[0]
    else:
        batch_size, length = shape[:2] if batch_first else shape[1::-1]

    symbols = {"E": embed_dim, "kdim": kdim, "vdim": vdim}
    params = (embed_dim + kdim + vdim) * embed_dim + embed_dim * embed_dim + 4 * embed_dim * bias
    tokens = batch_size * length
    macs = (
        tokens * (embed_dim + kdim + vdim) * embed_dim  # q, k and v projections
        + 2 * attention_macs(batch=batch_size, queries=length, keys=length, d_model=embed_dim)
        + tokens * embed_dim * embed_dim  # output projection
    )
    plus_bias = " + 4 * E" if bias else ""
    return LayerCost(
        kind="multihead_attention",
        params=params,
        macs=macs,
        output_shape=shape,
        params_formula=_formula(f"(E + kdim + vdim) * E + E * E{plus_bias}", params, **symbols),
        macs_formula=_formula(
            "N * L * (E + kdim + vdim) * E + 2 * N * L * L * E + N * L * E * E",
            macs,
            N=batch_size,
            L=length,
            **symbols,
        ),
    )
