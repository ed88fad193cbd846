"""Every torch internal the profiler needs, in one place: a new torch that moves one breaks here.

The profiler watches a forward pass op by op. torch offers that through APIs it does not promise
to keep (their modules start with an underscore): the dispatch mode, pytree flattening, the aten
op behind a call, and torch's own FLOP formulas (`torch.utils.flop_counter`, which is public but
whose formula table is not). tests/test_public_api_only.py allows them here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map
from torch.utils.flop_counter import flop_registry, sdpa_flop_count

__all__ = ["TorchDispatchMode", "flop_formula", "leaves", "op_name", "op_of", "tree_map"]

# FlopCounterMode's formulas: called with the op's arguments and out_val, they return FLOPs
FlopFormula = Callable[..., int]


def op_of(func: Any) -> Any:
    """The aten op (overload packet, e.g. aten.relu) of a dispatched call (e.g. aten.relu.default)."""
    return func._overloadpacket


def op_name(func: Any) -> str:
    """The op's name as torch prints it, e.g. "aten.nonzero"."""
    return str(op_of(func))


def leaves(tree: Any) -> list[Any]:
    """The leaves of nested tuples, lists and dicts (tensors and other values), in order."""
    return tree_flatten(tree)[0]


def _sdpa_cpu_flop(query, key, value, *args, out_val=None, **kwargs) -> int:
    """CPU fused attention: QK^T and softmax(.)V, like torch's formula for the CUDA kernels."""
    return sdpa_flop_count(query.shape, key.shape, value.shape)


# FLOP formulas for ops torch's flop_registry may lack, used by the profiler only, never
# registered into torch's global table: a torch that registers the op itself keeps working, and
# its own formula is then the one used. An op this torch does not have is simply left out.
_EXTRA_FLOP_FORMULAS = {
    op: formula
    for name, formula in [("_scaled_dot_product_flash_attention_for_cpu", _sdpa_cpu_flop)]
    if (op := getattr(torch.ops.aten, name, None)) is not None
}


def flop_formula(op: Any) -> FlopFormula | None:
    """torch's FLOP formula for an aten op (matmul, conv, attention), or None (no FLOPs counted)."""
    return flop_registry.get(op) or _EXTRA_FLOP_FORMULAS.get(op)
