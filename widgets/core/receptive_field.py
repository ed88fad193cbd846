"""The receptive field of a stack of convolutions: which input pixels one output depends on.

A stack of L identical convolutions (kernel k, stride s, dilation d, padding p), along one axis.
Layer l's taps are d input positions apart, and one step of its output is s^(l-1) input pixels
(the jump of the layers below), so each layer widens the field by (k - 1) * d * s^(l-1):

    receptive field = 1 + sum over l = 1..L of (k - 1) * d * s^(l - 1)
                    = L (k - 1) + 1          at stride 1 and dilation 1.

A k x k convolution does the same along both axes, so in 2-D the pixels one output sees are
the product of the 1-D sets. Output sizes are those of widgets.core.layers (as torch computes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .layers import layer_cost
from .validate import check_int

# more layers than any network needs for one output to see a whole image of this package's
# sizes: layers_to_see_all stops there (kernel 2 at stride 1 needs n - 1 layers for n pixels)
MAX_LAYERS = 10_000


def stack_receptive_field(windows: Sequence[tuple[int, ...]]) -> int:
    """Receptive field (input pixels) of a stack of windows, first layer first.

    Each window is (kernel, stride) or (kernel, stride, dilation): a convolution or a pooling
    layer. Layer l widens the field by (k_l - 1) d_l times the jump below it, the product of the
    strides of the layers before it: r = 1 + sum_l (k_l - 1) d_l s_1 ... s_(l-1).
    """
    size, jump = 1, 1
    for index, window in enumerate(windows):
        if not 2 <= len(window) <= 3:
            raise ValueError(f"windows[{index}] must be (kernel, stride[, dilation]), got {window}")
        kernel, stride, dilation = (*window, 1)[:3]
        check_int(f"windows[{index}] kernel", kernel)
        check_int(f"windows[{index}] stride", stride)
        check_int(f"windows[{index}] dilation", dilation)
        size += (kernel - 1) * dilation * jump
        jump *= stride
    return size


def receptive_field_size(layers: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> int:
    """How many input pixels wide the window of one output is: 1 + sum_l (k-1) d s^(l-1)."""
    layers = check_int("layers", layers)
    window = (
        check_int("kernel_size", kernel_size),
        check_int("stride", stride),
        check_int("dilation", dilation),
    )
    return stack_receptive_field([window] * layers)


def layers_to_see_all(
    input_size: int, kernel_size: int, stride: int = 1, dilation: int = 1
) -> int | None:
    """The fewest stacked layers whose receptive field is at least `input_size` pixels wide;
    None if more than MAX_LAYERS would be needed (kernel 1 never widens it)."""
    input_size = check_int("input_size", input_size)
    receptive_field_size(1, kernel_size, stride, dilation)  # checks the arguments
    if kernel_size == 1 and input_size > 1:
        return None  # a 1 x 1 kernel never widens the field: no need to count to MAX_LAYERS
    size = 1
    for layer in range(MAX_LAYERS + 1):
        if size >= input_size:
            return layer
        size += (kernel_size - 1) * dilation * stride**layer  # what layer + 1 adds
    return None


@dataclass(frozen=True)
class ReceptiveField:
    """One output of a stack of convolutions, and the input pixels it depends on (one axis)."""

    input_size: int
    output_sizes: tuple[int, ...]  # after each layer
    output_index: int  # the output position looked at (in the last layer's output)
    size: int  # the receptive field's width in input pixels (padding included)
    jump: int  # input pixels between two neighbouring outputs of the last layer: s^L
    seen: np.ndarray  # (input_size,) bool: the input pixels the output depends on

    @property
    def pixels_seen(self) -> int:
        return int(self.seen.sum())

    @property
    def fraction_seen(self) -> float:
        return self.pixels_seen / self.input_size


def receptive_field(
    input_size: int,
    layers: int,
    kernel_size: int,
    stride: int = 1,
    dilation: int = 1,
    padding: int = 0,
    output_index: int | None = None,
) -> ReceptiveField:
    """The input pixels output `output_index` (default: the middle one) of L stacked
    Conv1d(kernel_size, stride, padding, dilation) layers depends on, along one axis.

    Padding zeros are not input pixels: a window that hangs over the border sees fewer pixels.
    Raises ValueError, as torch would, when a layer's input is smaller than its dilated kernel.
    """
    layers = check_int("layers", layers)
    size = receptive_field_size(layers, kernel_size, stride, dilation)
    sizes = [check_int("input_size", input_size)]
    for _ in range(layers):
        conv = layer_cost(
            "conv1d", input_shape=(1, sizes[-1]), in_channels=1, out_channels=1,
            kernel_size=kernel_size, stride=stride, padding=padding, dilation=dilation,
        )  # fmt: skip
        sizes.append(conv.output_shape[-1])
    if output_index is None:
        output_index = (sizes[-1] - 1) // 2
    output_index = check_int("output_index", output_index, minimum=0)
    if output_index >= sizes[-1]:
        raise ValueError(
            f"output_index must be below the output size {sizes[-1]}, got {output_index}"
        )
    # from the output down: the positions each layer's input is read at, taps o*s - p + t*d
    positions = np.array([output_index])
    taps = np.arange(kernel_size) * dilation
    for below in reversed(sizes[:-1]):
        read = (positions[:, None] * stride - padding + taps[None, :]).ravel()
        positions = np.unique(read[(read >= 0) & (read < below)])
    seen = np.zeros(input_size, dtype=bool)
    seen[positions] = True
    return ReceptiveField(
        input_size=input_size,
        output_sizes=tuple(sizes[1:]),
        output_index=output_index,
        size=size,
        jump=stride**layers,
        seen=seen,
    )
