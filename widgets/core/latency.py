"""Latency and throughput of a model on this CPU, measured the careful way.

One run is a noisy number: the first calls pay for lazy set-up and cold caches, and later ones
are disturbed by other processes. So, like `torch.utils.benchmark`, we warm up first, then time
many runs with a monotonic nanosecond clock and report the median and the 10th/90th percentiles.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from . import profiler
from .memory_budget import check_fits
from .units import three_digits
from .validate import check_int, check_number, check_shape

WARMUP_SHARE = 0.1  # automatic warm-up: at least 2 runs and 10 % of the budget


@dataclass(frozen=True)
class Timing:
    """Timed runs of one forward pass. Times are in seconds; `total_s` includes the warm-up."""

    times_s: tuple[float, ...]
    median_s: float
    p10_s: float
    p90_s: float
    mean_s: float
    runs: int
    total_s: float
    batch: int
    threads: int

    @property
    def throughput(self) -> float:
        """Samples per second at the median latency: batch / median_s."""
        return self.batch / self.median_s

    @property
    def seconds_per_sample(self) -> float:
        """1 / throughput = median_s / batch: the batch's time shared out over its samples.

        Not a latency: every request in the batch waits the whole median_s for its answer, so
        batching raises throughput but never lowers latency.
        """
        return self.median_s / self.batch

    def __str__(self) -> str:
        scale, prefix = si_scale(self.median_s)
        p10, p90 = (three_digits(t * scale) for t in (self.p10_s, self.p90_s))
        return (
            f"median {three_digits(self.median_s * scale)} {prefix}s (p10 {p10}, p90 {p90}) "
            f"over {self.runs} runs, {three_digits(self.throughput)} samples/s, "
            f"{self.threads} thread{'s' if self.threads > 1 else ''}"
        )


def summarize(times_s: Sequence[float], total_s: float, batch: int = 1, threads: int = 1) -> Timing:
    """Statistics of per-run times: median, mean, and percentiles interpolated like numpy's."""
    if not times_s:
        raise ValueError("times_s must hold at least one run time")
    ordered = sorted(times_s)
    return Timing(
        times_s=tuple(times_s),
        median_s=statistics.median(ordered),
        p10_s=_percentile(ordered, 10),
        p90_s=_percentile(ordered, 90),
        mean_s=statistics.fmean(ordered),
        runs=len(ordered),
        total_s=total_s,
        batch=batch,
        threads=threads,
    )


def measure_latency(
    model_or_fn: Callable[..., Any],
    inputs: torch.Tensor | Sequence[torch.Tensor] | None = None,
    input_size: Sequence[int] | None = None,
    budget_s: float = 0.5,
    warmup: int | None = None,
    threads: int | None = None,
    min_runs: int = 5,
) -> Timing:
    """Time `model_or_fn(*inputs)` under `torch.inference_mode()`.

    Give `inputs` (a tensor or a tuple of tensors) or `input_size` (a shape, batch first; the
    input is then `torch.randn` of it, seeded). After `warmup` runs (default: at least 2 and 10 %
    of the budget), runs are timed until `budget_s` seconds have passed and at least `min_runs`
    were made. `threads` sets `torch.set_num_threads` for the call only; a module is put in eval
    mode for the call only. Raises MemoryError, before allocating, if the run would not fit.
    """
    budget_s = check_number("budget_s", budget_s)
    min_runs = check_int("min_runs", min_runs)
    if warmup is not None:
        warmup = check_int("warmup", warmup, minimum=0)
    threads = torch.get_num_threads() if threads is None else check_int("threads", threads)
    if (inputs is None) == (input_size is None):
        given = "neither" if inputs is None else "both"
        raise ValueError(
            f"give exactly one of inputs (a tensor or a tuple of tensors) and input_size "
            f"(a shape like (1, 3, 224, 224)), got {given}"
        )
    if input_size is not None:
        shape = check_shape("input_size", input_size)
        check_memory(model_or_fn, (torch.empty(shape, device="meta"),))
        inputs = (torch.randn(shape, generator=torch.Generator().manual_seed(0)),)
    else:
        inputs = _as_tensors(inputs)
        check_memory(model_or_fn, inputs)

    budget_ns = budget_s * 1e9
    warmup_runs, warmup_ns = (2, WARMUP_SHARE * budget_ns) if warmup is None else (warmup, 0)
    start = time.perf_counter_ns()
    with using_threads(threads), profiler.eval_mode(model_or_fn), torch.inference_mode():
        try:
            _timed_runs(model_or_fn, inputs, min_runs=warmup_runs, budget_ns=warmup_ns)
            times_ns = _timed_runs(model_or_fn, inputs, min_runs=min_runs, budget_ns=budget_ns)
        except Exception as error:  # say which inputs broke the model, keep the original error
            shapes = ", ".join(str(tuple(t.shape)) for t in inputs)
            raise ValueError(f"the model failed on inputs of shape {shapes}: {error}") from error
    total_s = (time.perf_counter_ns() - start) / 1e9

    batch = inputs[0].shape[0] if inputs[0].dim() > 0 else 1
    return summarize([t / 1e9 for t in times_ns], total_s, batch=batch, threads=threads)


def throughput_sweep(
    model: Callable[..., Any],
    batch_sizes: Sequence[int],
    input_shape: Sequence[int],
    budget_s: float = 0.3,
    threads: int | None = None,
) -> list[Timing]:
    """One `measure_latency` per batch size; `input_shape` excludes the batch dimension.

    Latency grows with the batch, throughput (samples/s) grows too until the cores are busy and
    then saturates: the latency/throughput trade-off of serving.
    """
    batch_sizes = check_shape("batch_sizes", batch_sizes)
    if not batch_sizes:
        raise ValueError("batch_sizes must list at least one batch size, got ()")
    input_shape = check_shape("input_shape", input_shape)
    check_number("budget_s", budget_s)
    # Refuse the whole sweep up front rather than after timing the smaller batches.
    check_memory(model, (torch.empty((max(batch_sizes), *input_shape), device="meta"),))
    return [
        measure_latency(model, input_size=(batch, *input_shape), budget_s=budget_s, threads=threads)
        for batch in batch_sizes
    ]


def check_memory(
    model_or_fn: Callable[..., Any],
    inputs: Sequence[torch.Tensor],
    available_bytes: float | None = None,
) -> float:
    """Estimated bytes one forward pass needs; MemoryError if they do not fit
    (`memory_budget.check_fits`).

    The estimate is the model's peak activation memory from `profile()` (inputs included; traced
    on the meta device, so nothing is allocated), or just the inputs when the profiler cannot
    trace `model_or_fn`. Weights are not counted: they already exist, so the free memory
    (`available_bytes`, default `psutil.virtual_memory().available`) already excludes them.
    Meta tensors stand for inputs not allocated yet.
    """
    needed = float(sum(t.numel() * t.element_size() for t in inputs))
    if isinstance(model_or_fn, nn.Module):
        needed = max(needed, _peak_activation_bytes(model_or_fn, inputs))
    check_fits(needed, _describe(inputs[0].shape), available_bytes, detail=" of activations")
    return needed


def _peak_activation_bytes(model: nn.Module, inputs: Sequence[torch.Tensor]) -> float:
    """Peak activation bytes from the profiler, or 0 if it is missing or cannot trace `model`."""
    profile = getattr(profiler, "profile", None)
    if profile is None:
        return 0.0
    try:
        return profile(model, inputs=tuple(inputs)).peak_activation_bytes
    except Exception:  # a guard only: the real run reports the model's own errors
        return 0.0


def _timed_runs(
    fn: Callable[..., Any], inputs: tuple[torch.Tensor, ...], min_runs: int, budget_ns: float
) -> list[int]:
    """Per-run nanoseconds of `fn(*inputs)`, run until both `min_runs` and `budget_ns` are met."""
    times_ns: list[int] = []
    start = time.perf_counter_ns()
    while len(times_ns) < min_runs or time.perf_counter_ns() - start < budget_ns:
        run_start = time.perf_counter_ns()
        fn(*inputs)
        times_ns.append(time.perf_counter_ns() - run_start)
    return times_ns


def _as_tensors(inputs: Any) -> tuple[torch.Tensor, ...]:
    """`inputs` as a non-empty tuple of tensors."""
    tensors = (inputs,) if isinstance(inputs, torch.Tensor) else inputs
    if (
        not isinstance(tensors, (tuple, list))
        or not tensors
        or not all(isinstance(t, torch.Tensor) for t in tensors)
    ):
        raise TypeError(f"inputs must be a tensor or a tuple of tensors, got {inputs!r}")
    return tuple(tensors)


@contextmanager
def using_threads(threads: int) -> Iterator[None]:
    """torch uses `threads` threads inside the block; the previous count is restored after."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _percentile(ordered: Sequence[float], percent: float) -> float:
    """Linear interpolation between the two nearest ranks (numpy's default method)."""
    position = percent / 100 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def si_scale(value: float) -> tuple[float, str]:
    """(scale, prefix) showing a small `value` with 1 to 3 digits: 0.0123 -> (1e3, "m")."""
    for scale, prefix in ((1, ""), (1e3, "m"), (1e6, "µ"), (1e9, "n")):
        if abs(value) * scale >= 1:
            return scale, prefix
    return 1e12, "p"


def _describe(shape: Sequence[int]) -> str:
    """'batch 4096 at 3x224x224' for a batch of samples, the plain shape otherwise."""
    if len(shape) < 2:
        return f"an input of shape {tuple(shape)}"
    return f"batch {shape[0]} at {'x'.join(map(str, shape[1:]))}"
