"""The `device="cpu"` path of `profile()`: real tensors for a forward that reads values.

It checks that the tensors fit before anything is allocated, gives a meta model initialized CPU
weights, gives meta inputs seeded values, and makes attention take the same (math) path as on
the meta device, so both devices give the same counts.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from .memory_budget import check_fits
from .torch_internals import leaves
from .units import format_bytes

__all__ = ["activation_budget", "as_real", "initialized_on_cpu", "math_attention"]


def activation_budget(
    model: nn.Module,
    args: tuple,
    kwargs: dict,
    on_meta: bool,
    peak_bytes: float | None,
    shapes: str,
) -> float:
    """Bytes the activations of a CPU forward may take; MemoryError, before anything is
    allocated, if the weights, inputs and `peak_bytes` of activations (fp32, inputs included, as
    the meta device finds them; None when the forward reads values: then only the inputs are
    known, and the activations are watched while it runs) would not fit in the memory budget
    (`memory_budget.check_fits`). `shapes` names the inputs in the message."""
    tensors = [*model.parameters(), *model.buffers()]
    weight_bytes = sum(t.nbytes for t in tensors) if on_meta else 0  # a meta model's are new
    values = [t for t in leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
    activation_bytes = sum(t.nbytes for t in values if t.device.type == "meta")
    if peak_bytes is not None:
        activation_bytes = peak_bytes
    budget = check_fits(
        weight_bytes + activation_bytes,
        f"device='cpu' on inputs of shape {shapes}",
        detail=f" (weights {format_bytes(weight_bytes)}, activations "
        f"{format_bytes(activation_bytes)})",
        advice="; profile a smaller size, or on the meta device (the default), which allocates "
        "nothing",
    )
    return budget - weight_bytes


def as_real(value: Any, generator: torch.Generator) -> Any:
    """A CPU tensor with values for a meta tensor (floats: seeded standard normal; integers
    and booleans: zeros); anything else as it is."""
    if not isinstance(value, torch.Tensor) or value.device.type != "meta":
        return value
    if value.is_floating_point() or value.is_complex():
        return torch.randn(value.shape, dtype=value.dtype, generator=generator)
    return torch.zeros(value.shape, dtype=value.dtype)


def initialized_on_cpu(model: nn.Module) -> nn.Module:
    """A CPU copy of a meta model with weights initialized as at construction: each module's
    reset_parameters(); a parameter no module resets gets N(0, 0.02) values. A buffer no module
    resets (a constant computed at construction, e.g. rotary frequencies) cannot be recovered
    from a meta model: ValueError."""
    cpu = copy.deepcopy(model).to_empty(device="cpu")
    tensors = dict([*cpu.named_parameters(), *cpu.named_buffers()])
    with torch.no_grad():
        for tensor in tensors.values():
            tensor.fill_(_unset_value(tensor.dtype))
        for module in cpu.modules():
            reset = getattr(module, "reset_parameters", None)
            if callable(reset):
                reset()
        buffers = [name for name, b in cpu.named_buffers() if _is_unset(b)]
        if buffers:
            raise ValueError(
                f"device='cpu' needs the values of the buffers {buffers}, which a model on the "
                "meta device does not have and no reset_parameters() sets: build the model on "
                "the CPU (or load its weights) and profile that"
            )
        for parameter in cpu.parameters():
            if _is_unset(parameter):
                nn.init.normal_(parameter, std=0.02)
    return cpu


def _unset_value(dtype: torch.dtype) -> float | int | bool:
    """A value that marks a tensor no initializer has written yet (booleans cannot be marked)."""
    if dtype.is_floating_point or dtype.is_complex:
        return math.nan
    return False if dtype == torch.bool else torch.iinfo(dtype).min


def _is_unset(tensor: torch.Tensor) -> bool:
    if tensor.numel() == 0 or tensor.dtype == torch.bool:
        return False
    unset = _unset_value(tensor.dtype)
    marked = tensor.isnan() if isinstance(unset, float) else tensor == unset
    return bool(marked.all())


@contextmanager
def math_attention() -> Iterator[None]:
    """Attention as the meta device computes it, also on CPU tensors: torch's math path for
    scaled_dot_product_attention (it stores the scores) and no fused MultiheadAttention."""
    from torch.nn.attention import SDPBackend, sdpa_kernel

    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            yield
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
