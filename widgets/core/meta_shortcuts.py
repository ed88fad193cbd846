"""Shortcuts for the commonest ops on meta tensors: the output's shape without torch's kernel.

torch's meta kernels for elementwise ops are written in Python (~0.5-1 ms a call), which would
dominate a profile of a big model; the output made here is what torch returns on the CPU for
contiguous inputs (same shape, dtype, contiguous strides). Any other call goes to torch.
The activation ops are found by running every activation of the registry once, so a new
activation gets its shortcut by itself.
"""

from __future__ import annotations

import functools
from typing import Any

import torch

from .activations import ACTIVATIONS
from .torch_internals import TorchDispatchMode, op_of

__all__ = ["meta_output"]

_aten = torch.ops.aten
# shape-preserving ops that are not activations: attention's softmax (torch >= 2.5), arithmetic
_OTHER_UNARY = ("_safe_softmax",)
_BINARY = ("add", "mul", "sub")


def _ops(*names: str) -> frozenset:
    """The aten ops (overload packets) of these names that this torch has."""
    return frozenset(op for name in names if (op := getattr(_aten, name, None)) is not None)


class _RecordOps(TorchDispatchMode):
    """Records the aten ops a call runs that take one tensor and return one of its shape."""

    def __init__(self) -> None:
        super().__init__()
        self.elementwise: set[str] = set()
        self.other: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        tensors = [a for a in args if isinstance(a, torch.Tensor)]
        one_to_one = (
            len(tensors) == 1
            and isinstance(out, torch.Tensor)
            and out.shape == tensors[0].shape
            and out.dtype == tensors[0].dtype
        )
        (self.elementwise if one_to_one else self.other).add(op_of(func).__name__)
        return out


@functools.cache
def _shortcuts() -> tuple[frozenset, frozenset, frozenset]:
    """(unary, in-place, binary) ops: the activations' ops, their in-place forms, arithmetic."""
    recorder = _RecordOps()
    with recorder, torch.no_grad():
        for activation in ACTIVATIONS.values():
            activation.torch_module()(torch.empty(2, 3, device="meta"))
    unary = recorder.elementwise - recorder.other  # an op seen in another form is left to torch
    names = [*unary, *_OTHER_UNARY]
    return (
        _ops(*names),
        _ops(*(f"{name}_" for name in [*unary, *_BINARY])),
        _ops(*_BINARY),
    )


def meta_output(func: Any, args: tuple, kwargs: dict) -> Any:
    """The output of `func` for meta inputs, or None to let torch compute it."""
    x = args[0] if args else None
    if not isinstance(x, torch.Tensor) or x.device.type != "meta" or not x.is_contiguous():
        return None
    unary, inplace, binary = _shortcuts()
    op = op_of(func)
    if op in unary:
        return torch.empty_like(x)
    same = (
        len(args) < 2
        or not isinstance(args[1], torch.Tensor)
        or (args[1].shape == x.shape and args[1].dtype == x.dtype)
    )
    if op in inplace and same:
        return x
    if op in binary and same:
        return torch.empty_like(x)
    if op is _aten.native_batch_norm and not args[5]:  # eval mode: no batch statistics
        return torch.empty_like(x), _empty_like_dtype(x, 0), _empty_like_dtype(x, 0)
    if op is _aten.native_layer_norm:
        stats_shape = x.shape[: x.dim() - len(args[1])] + (1,) * len(args[1])
        stats = _empty_like_dtype(x, *stats_shape), _empty_like_dtype(x, *stats_shape)
        return _empty_like_dtype(x, *x.shape), *stats
    if op is _aten.addmm:
        return _empty_like_dtype(args[1], args[1].shape[0], args[2].shape[1])
    return None


def _empty_like_dtype(like: torch.Tensor, *shape: int) -> torch.Tensor:
    """A contiguous meta tensor of `shape` with the dtype of `like`."""
    return torch.empty(shape, dtype=like.dtype, device="meta")
