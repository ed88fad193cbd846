"""The registry of layer formulas (`LAYER_FORMULAS`, `layer_cost`), their result (`LayerCost`),
and the helpers every formula shares: input checks, filled-in formulas, sliding windows."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..units import flops_from_macs
from ..validate import check_choice, check_shape


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


# --- helpers the formulas share ---------------------------------------------------------------

_SYMBOL = re.compile(r"[A-Za-z_]\w*")
_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _formula(template: str, result: int, **values: int) -> str:
    """Fill a formula in: ("C * k", 24, C=8, k=3) -> "C * k = 8 * 3 = 24"."""
    filled = _SYMBOL.sub(lambda symbol: str(values[symbol.group()]), template)
    return f"{template} = {filled} = {result:,}"


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


@dataclass(frozen=True)
class Window:
    """A sliding window over the spatial axes, as torch's conv and pooling layers take it: one
    entry per axis (height, width), checked by the caller."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    ceil_mode: bool = False

    def output_sizes(self, sizes: Sequence[int]) -> tuple[int, ...]:
        """Output size along each axis for an input of `sizes`, as torch computes it."""
        return tuple(
            self._output_size(axis, size, *per_axis)
            for axis, size, *per_axis in zip(
                _axes(len(sizes)), sizes, self.kernel, self.stride, self.padding, self.dilation,
                strict=True,
            )
        )  # fmt: skip

    def _output_size(
        self, axis: str, size: int, kernel: int, stride: int, padding: int, dilation: int
    ) -> int:
        span = dilation * (kernel - 1) + 1
        last_start = size + 2 * padding - span + (stride - 1 if self.ceil_mode else 0)
        output = last_start // stride + 1
        if self.ceil_mode and (output - 1) * stride >= size + padding:
            output -= 1  # torch: the last window must start inside the input or the left padding
        if output < 1:
            raise ValueError(
                f"kernel_size {kernel} (dilated: {span}) is larger than the padded input "
                f"{size + 2 * padding} ({size} + 2*{padding}) along {axis}"
            )
        return output
