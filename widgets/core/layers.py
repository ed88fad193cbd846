"""Parameters, MACs and output shape of one layer, computed from its hyper-parameters alone.

One small formula per layer kind, registered in LAYER_FORMULAS (like torch/utils/flop_counter.py).
Hyper-parameter names are torch's constructor arguments and input_shape includes the batch
dimension, so

    layer_cost("conv2d", in_channels=3, out_channels=8, kernel_size=3, input_shape=(1, 3, 32, 32))

describes `nn.Conv2d(in_channels=3, out_channels=8, kernel_size=3)(torch.empty(1, 3, 32, 32))`.
Where torch accepts an input without the batch dimension, so do the formulas (batch = 1).

Counting convention (the one of torch.utils.flop_counter.FlopCounterMode): 1 MAC = 1 multiply +
1 add, FLOPs = 2 * MACs, and only matmul-like work (linear, convolution, attention) is counted.
Bias adds are not counted in MACs, but biases are counted in params. Everything is Python int
arithmetic: no tensor is allocated, so any size is instant and exact.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .units import flops_from_macs
from .validate import check_choice, check_int, check_shape, check_tuple


@dataclass(frozen=True)
class LayerCost:
    """Cost of one forward call of one layer on a whole input (all of its batch)."""

    kind: str
    params: int  # learnable numbers: weights and biases (buffers such as running stats excluded)
    macs: int  # multiply-accumulates of the forward call
    output_shape: tuple[int, ...]
    # the formulas with the numbers filled in, e.g.
    # "(C_in/groups * k_h * k_w + 1) * C_out = (64/1 * 3 * 3 + 1) * 128 = 73,856"
    params_formula: str
    macs_formula: str

    @property
    def output_elements(self) -> int:
        return math.prod(self.output_shape)

    @property
    def flops(self) -> int:
        return flops_from_macs(self.macs)


LayerFormula = Callable[..., LayerCost]
LAYER_FORMULAS: dict[str, LayerFormula] = {}


def register(kind: str) -> Callable[[LayerFormula], LayerFormula]:
    """Decorator: add a formula to LAYER_FORMULAS under the name `kind`."""

    def add(formula: LayerFormula) -> LayerFormula:
        LAYER_FORMULAS[kind] = formula
        return formula

    return add


def layer_cost(kind: str, *, input_shape: Sequence[int], **hyper_params: Any) -> LayerCost:
    """Params, MACs and output shape of layer `kind` (a key of LAYER_FORMULAS) on `input_shape`.

    `hyper_params` are the torch constructor arguments of that layer, by name.
    """
    formula = LAYER_FORMULAS[check_choice("layer kind", kind, LAYER_FORMULAS)]
    return formula(input_shape=input_shape, **hyper_params)


# ---------------------------------------------------------------------------------------------
# shared helpers

_SYMBOL = re.compile(r"[A-Za-z_]\w*")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _formula(template: str, result: int, **values: int) -> str:
    """Fill a formula in: ("C * k", 24, C=8, k=3) -> "C * k = 8 * 3 = 24"."""
    filled = _SYMBOL.sub(lambda symbol: str(values[symbol.group()]), template)
    return f"{template} = {filled} = {result:,}"


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def _split_input(input_shape: Any, feature_ndim: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Split input_shape into its batch dims (() or (N,)) and its last `feature_ndim` dims."""
    shape = check_shape("input_shape", input_shape, ndim=(feature_ndim, feature_ndim + 1))
    return shape[:-feature_ndim], shape[-feature_ndim:]


def _check_input_size(
    name: str, value: int, input_shape: Sequence[int], size: int, what: str
) -> None:
    if value != size:
        raise ValueError(
            f"{name} is {value} but input_shape {tuple(input_shape)} has {size} {what}"
        )


def _check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(f"{name} ({channels}) must be divisible by groups ({groups})")


def _axes(ndim: int) -> tuple[str, ...]:
    """Names of the spatial axes; their first letters name the formula symbols (k_h, H_out)."""
    return {1: ("length",), 2: ("height", "width")}[ndim]


def _window_output(
    axis: str, size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool
) -> int:
    """Output size of a sliding window (convolution or pooling) along one axis, as torch does."""
    span = dilation * (kernel - 1) + 1
    last_start = size + 2 * padding - span + (stride - 1 if ceil_mode else 0)
    output = last_start // stride + 1
    if ceil_mode and (output - 1) * stride >= size + padding:
        output -= 1  # torch: the last window must start inside the input or the left padding
    if output < 1:
        raise ValueError(
            f"kernel_size {kernel} (dilated: {span}) is larger than the padded input "
            f"{size + 2 * padding} ({size} + 2*{padding}) along {axis}"
        )
    return output


def _window_outputs(
    sizes: Sequence[int],
    kernel: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[int],
    dilation: Sequence[int],
    ceil_mode: bool = False,
) -> tuple[int, ...]:
    axes = _axes(len(sizes))
    return tuple(
        _window_output(*args, ceil_mode)
        for args in zip(axes, sizes, kernel, stride, padding, dilation, strict=True)
    )


# ---------------------------------------------------------------------------------------------
# matmul-like layers: their MACs are what FlopCounterMode counts


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
    _check_bool("bias", bias)
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
    _check_bool("bias", bias)
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
        out_sizes = _window_outputs(sizes, kernel, stride, pads, dilation)

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
    _check_bool("bias", bias)
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
    _check_bool("bias", bias)
    _check_bool("batch_first", batch_first)
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


# ---------------------------------------------------------------------------------------------
# layers without MACs: torch's FlopCounterMode counts none for them


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
    _check_bool("ceil_mode", ceil_mode)
    for axis, k, p in zip(_axes(2), kernel, pads, strict=True):
        if p > k // 2:
            raise ValueError(
                f"padding ({p}) must be at most half of kernel_size ({k}) along {axis}"
            )
    out_sizes = _window_outputs(sizes, kernel, stride, pads, dilation, ceil_mode)
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
        "maxpool2d", input_shape, kernel_size, stride, padding, dilation, ceil_mode, "compares"
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
    return _pool2d("avgpool2d", input_shape, kernel_size, stride, padding, 1, ceil_mode, "sums")


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
    _check_bool("affine", affine)
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
    _check_bool("affine", affine)
    _check_bool("track_running_stats", track_running_stats)
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
    _check_bool("affine", affine)
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
    _check_bool("elementwise_affine", elementwise_affine)
    _check_bool("bias", bias)
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
