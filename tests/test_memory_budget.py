"""One rule for "will it fit in memory", shared by profile(device="cpu") and the latency runs."""

import inspect

import pytest
import torch

from widgets.core import cpu_forward, latency, memory_budget, profiler
from widgets.core.memory_budget import budget_bytes, check_fits
from widgets.core.units import SAFE_MEMORY_SHARE


def test_budget_is_the_safe_share_of_the_available_memory():
    assert budget_bytes(1000.0) == SAFE_MEMORY_SHARE * 1000.0
    assert check_fits(SAFE_MEMORY_SHARE * 1000.0, "x", 1000.0) == budget_bytes(1000.0)
    with pytest.raises(MemoryError, match=r"^x needs about 1001 B, more than 50% of the 1000 B"):
        check_fits(1001, "x", 1000.0)


@pytest.mark.parametrize("module", [cpu_forward, latency])
def test_the_cpu_profile_and_latency_use_the_one_rule(module):
    source = inspect.getsource(module)
    assert "check_fits(" in source
    assert "SAFE_MEMORY_SHARE =" not in source and "import psutil" not in source


def test_both_refuse_at_the_same_size(monkeypatch):
    """Just under and just over the budget, on both paths (weights already exist on the CPU)."""
    model = torch.nn.Linear(1000, 1000)
    x = torch.empty(1000, 1000, device="meta")
    needed = latency.check_memory(model, (x,), available_bytes=1e12)
    for available, fits in [
        (needed / SAFE_MEMORY_SHARE, True),
        (needed / SAFE_MEMORY_SHARE - 1, False),
    ]:
        memory = type("Memory", (), {"available": available})
        monkeypatch.setattr(memory_budget.psutil, "virtual_memory", lambda m=memory: m)
        for run in (
            lambda: latency.check_memory(model, (x,)),
            lambda: profiler.profile(model, inputs=x, device="cpu"),
        ):
            if fits:
                run()
            else:
                with pytest.raises(MemoryError):
                    run()
