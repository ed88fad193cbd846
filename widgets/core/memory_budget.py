"""Will it fit in memory: the one rule of every computation that allocates real tensors
(profile(..., device="cpu") and the latency measurements).

A computation may plan to allocate at most `units.SAFE_MEMORY_SHARE` of the memory available
when it starts (psutil's `available`): the OS, the notebook and the allocator's slack need the
rest, and swapping would make timings meaningless. Sizes are checked before anything is allocated.
"""

from __future__ import annotations

import psutil

from .units import SAFE_MEMORY_SHARE, format_bytes

__all__ = ["budget_bytes", "check_fits"]


def budget_bytes(available_bytes: float | None = None) -> float:
    """Bytes a computation may allocate: SAFE_MEMORY_SHARE of `available_bytes` (default: the
    memory available now)."""
    if available_bytes is None:
        available_bytes = psutil.virtual_memory().available
    return SAFE_MEMORY_SHARE * available_bytes


def check_fits(
    needed_bytes: float,
    what: str,
    available_bytes: float | None = None,
    detail: str = "",
    advice: str = "",
) -> float:
    """The budget (`budget_bytes`) if `needed_bytes` fit in it; else MemoryError saying that
    `what` needs about `needed_bytes` (`detail`: of what), out of how much memory, and `advice`."""
    if available_bytes is None:
        available_bytes = psutil.virtual_memory().available
    budget = budget_bytes(available_bytes)
    if needed_bytes > budget:
        raise MemoryError(
            f"{what} needs about {format_bytes(needed_bytes)}{detail}, more than "
            f"{SAFE_MEMORY_SHARE:.0%} of the {format_bytes(available_bytes)} of memory "
            f"available{advice}"
        )
    return budget
