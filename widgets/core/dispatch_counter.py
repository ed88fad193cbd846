"""The counter behind `profile()`: a dispatch mode that sees every aten op of one forward pass.

Module hooks attribute each op and allocation to the innermost module being called. Matmul-like
ops (conv, mm, addmm, bmm, attention) are counted with torch's own FLOP formulas; MACs = FLOPs / 2.
Every new tensor storage is an activation allocation, and a finalizer tells when it is freed: the
running sum of live storages (views counted once, weights excluded) gives the peak activation
memory and the layer during which it is reached.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from .meta_shortcuts import meta_output
from .profile_result import LayerRow
from .torch_internals import TorchDispatchMode, flop_formula, leaves, op_name, op_of
from .units import bytes_for

__all__ = ["ActivationLimitError", "Counter"]


class ActivationLimitError(MemoryError):
    """The live activations of a CPU forward outgrew the memory set aside for them."""


# Ops whose second output, int64 argmax indices, only the backward pass needs. The meta forward
# records max_pool2d_with_indices; an inference forward (torch.inference_mode(), what the profile
# describes) calls max_pool2d, which returns the pooled output alone: torch's CPU kernel frees
# the indices before it returns, and an int8 runtime never makes them. Counted, they would add
# 8 bytes per output element: for ResNet-18 at int8 a false peak during maxpool (2.63 MiB, not
# the 1.67 MiB reached during bn1).
_INDICES_ONLY_FOR_TRAINING = {torch.ops.aten.max_pool2d_with_indices}


@dataclass
class _Call:
    """A module call being recorded; becomes a LayerRow."""

    name: str
    module: nn.Module
    input_elements: int
    macs: int = 0
    activation_bytes: float = 0.0
    output_shape: tuple[int, ...] = ()
    output_elements: int = 0
    live_bytes: float = 0.0


class Counter(TorchDispatchMode):
    """Counts MACs per op and tracks live activation storages during one forward pass."""

    def __init__(self, model: nn.Module, activation_bits: int):
        super().__init__()
        self.names = {id(m): name for name, m in model.named_modules(remove_duplicate=False)}
        self.model = model
        self.bytes_per_float = bytes_for(1, activation_bits)
        self.calls: list[_Call] = []
        self.stack: list[_Call] = []
        self.weight_storages: set[int] = set()
        self.live: dict[int, float] = {}  # storage id -> bytes, for storages alive now
        self.live_bytes = 0.0
        self.integer_bytes = 0.0  # of the integer tensors counted (they keep their real size)
        self.peak_bytes = 0.0
        self.peak_layer = ""
        self.failed_op: str | None = None  # the aten op that raised, if the forward failed
        self.limit_bytes = math.inf  # live activation bytes beyond which the forward stops
        self.hooks = [
            nn.modules.module.register_module_forward_pre_hook(self._enter),
            nn.modules.module.register_module_forward_hook(self._exit),
        ]

    def close(self) -> None:
        for hook in self.hooks:
            hook.remove()

    # -- module calls --------------------------------------------------------------------
    def _enter(self, module: nn.Module, args: tuple) -> None:
        name = self.names.get(id(module))
        if name is None:  # a module built during forward, not part of the model
            return
        call = _Call(name, module, _unique_elements(args))
        self.calls.append(call)
        self.stack.append(call)

    def _exit(self, module: nn.Module, args: tuple, output: Any) -> None:
        if not self.stack or self.stack[-1].module is not module:
            return
        call = self.stack.pop()
        tensors = _tensors(output)
        call.output_shape = tuple(tensors[0].shape) if tensors else ()
        call.output_elements = _unique_elements(tensors)
        call.live_bytes = self.live_bytes

    # -- ops -----------------------------------------------------------------------------
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = meta_output(func, args, kwargs)
        if out is None:
            try:
                out = func(*args, **kwargs)
            except Exception:
                self.failed_op = op_name(func)  # e.g. "aten.nonzero"
                raise
        owner = self.stack[-1] if self.stack else None
        op = op_of(func)
        formula = flop_formula(op)
        if formula is not None and owner is not None:
            owner.macs += formula(*args, **kwargs, out_val=out) // 2
        allocated = out if isinstance(out, (tuple, list)) else (out,)  # aten: a flat tuple/list
        if op in _INDICES_ONLY_FOR_TRAINING:
            allocated = allocated[:1]  # the pooled output; inference keeps no indices
        for tensor in allocated:
            self.track(tensor, owner)
        if self.live_bytes > self.limit_bytes:
            raise ActivationLimitError
        return out

    def track(self, tensor: Any, owner: _Call | None) -> None:
        """Count a tensor's storage as live activation memory until it is freed."""
        if not isinstance(tensor, torch.Tensor):
            return
        storage = tensor.untyped_storage()
        key = id(storage)
        if key in self.live or key in self.weight_storages:
            return  # a view, an in-place result, or a weight
        if tensor.is_floating_point():
            num_bytes = storage.nbytes() // tensor.element_size() * self.bytes_per_float
        else:
            num_bytes = float(storage.nbytes())
            self.integer_bytes += num_bytes
        self.live[key] = num_bytes
        self.live_bytes += num_bytes
        weakref.finalize(storage, self._free, key)
        if owner is not None:
            owner.activation_bytes += num_bytes
        if self.live_bytes > self.peak_bytes:
            self.peak_bytes = self.live_bytes
            self.peak_layer = owner.name if owner is not None else ""

    def _free(self, key: int) -> None:
        self.live_bytes -= self.live.pop(key, 0.0)

    def rows(self, bits: int) -> list[LayerRow]:
        """One row per call that owns params, did work or allocated; leaves always kept."""
        params_of = self._params_per_called_module()
        seen: set[int] = set()
        rows = []
        for call in self.calls:
            is_leaf = next(call.module.children(), None) is None
            params = 0 if id(call.module) in seen else params_of.get(id(call.module), 0)
            seen.add(id(call.module))
            if not (is_leaf or params or call.macs or call.activation_bytes):
                continue
            rows.append(
                LayerRow(
                    name=call.name,
                    kind=type(call.module).__name__,
                    output_shape=call.output_shape,
                    params=params,
                    macs=call.macs,
                    input_elements=call.input_elements,
                    output_elements=call.output_elements,
                    activation_elements=round(call.activation_bytes / self.bytes_per_float),
                    weight_bytes=bytes_for(params, bits),
                    activation_bytes=call.activation_bytes,
                    live_activation_bytes=call.live_bytes,
                )
            )
        return rows

    def _params_per_called_module(self) -> dict[int, int]:
        """Each parameter goes to its module, or to the nearest called ancestor if never called."""
        called = {id(call.module) for call in self.calls}
        params_of: dict[int, int] = {}
        seen: set[int] = set()

        def visit(module: nn.Module, owner: int | None) -> None:
            owner = id(module) if id(module) in called else owner
            for p in module.parameters(recurse=False):
                if id(p) not in seen and owner is not None:
                    seen.add(id(p))
                    params_of[owner] = params_of.get(owner, 0) + p.numel()
            for child in module.children():
                visit(child, owner)

        visit(self.model, None)
        return params_of


def _tensors(values: Any) -> list[torch.Tensor]:
    """The tensors in a module's arguments or output (a tensor, a flat tuple, or any pytree)."""
    if isinstance(values, torch.Tensor):
        return [values]
    if isinstance(values, (tuple, list)) and all(isinstance(v, torch.Tensor) for v in values):
        return list(values)  # the common cases, without the cost of tree_flatten
    return [t for t in leaves(values) if isinstance(t, torch.Tensor)]


def _unique_elements(values: Any) -> int:
    """Elements of the distinct tensors among `values` (self-attention passes x three times)."""
    tensors = {id(t): t for t in _tensors(values)}
    return sum(t.numel() for t in tensors.values())
