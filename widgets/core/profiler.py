"""Model profiler: params, MACs and activation memory of a real torch model, on the meta device."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LayerRow:
    """One call of one module during the forward pass (a module called twice gives two rows).

    Counts are exact integers; bytes follow the profile's bit widths.
    """

    name: str  # qualified module name, e.g. "layer1.0.conv1" ("" for the model itself)
    kind: str  # module class name, e.g. "Conv2d"
    output_shape: tuple[int, ...]
    params: int  # parameters owned by this module and not by a called sub-module
    macs: int  # multiply-accumulates of matmul/conv/attention ops run directly in this call
    input_elements: int  # elements of the tensors passed to the call
    output_elements: int  # elements of the tensors it returned
    activation_elements: int  # elements of new tensors allocated during the call (views excluded)
    weight_bytes: float  # params * bits / 8
    activation_bytes: float  # activation_elements * activation_bits / 8
    live_activation_bytes: float  # activation memory alive when the call returned


@dataclass(frozen=True)
class Profile:
    """What `profile()` measured. MACs count multiply-accumulates; flops = 2 * macs."""

    params: int
    macs: int
    bits: int
    activation_bits: int
    weight_bytes: float
    activation_bytes: float  # all activation tensors allocated during the forward pass
    peak_activation_bytes: float  # max of live activation memory (inputs included, weights not)
    peak_layer: str  # name of the row during which the peak was reached
    layers: list[LayerRow] = field(default_factory=list)

    @property
    def flops(self) -> int:
        return 2 * self.macs
