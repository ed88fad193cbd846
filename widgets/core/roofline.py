"""The roofline model: is a layer limited by arithmetic or by memory traffic?

A layer doing F FLOPs while moving B bytes has arithmetic intensity I = F / B (FLOP/byte). On a
machine with peak compute P (FLOP/s) and memory bandwidth W (bytes/s) it reaches at most
min(P, I * W): below the ridge point I = P / W it waits on memory (memory-bound), above it on
arithmetic (compute-bound). Williams, Waterman and Patterson, "Roofline", CACM 2009.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .latency import Timing, measure_latency, si_scale
from .profile_result import LayerRow, Profile
from .units import BIT_WIDTHS, MIB, bytes_for, three_digits
from .validate import check_choice, check_int, check_number

# n for the n x n fp32 matmuls: the BLAS's fastest size varies by machine (blocking, caches), so
# the peak is the best of several sizes, each timed many times (2048: 17 GFLOP a run)
MATMUL_SIZES = (1024, 2048, 3072)
COPY_BYTES = 64 * MIB  # far larger than the per-core caches, so the copy streams from DRAM


@dataclass(frozen=True)
class MachinePeaks:
    """Attainable fp32 compute and memory bandwidth; build one by hand for other hardware."""

    gflops: float  # GFLOP/s, 1e9 FLOP per second
    bandwidth_gbs: float  # GB/s, 1e9 bytes per second
    matmul: Timing | None = None  # the measurements behind the numbers, if measured here
    copy: Timing | None = None
    matmul_size: int | None = None  # n of the n x n matmul that ran fastest, if measured here

    def __post_init__(self) -> None:
        check_number("gflops", self.gflops)
        check_number("bandwidth_gbs", self.bandwidth_gbs)

    @property
    def ridge_point(self) -> float:
        """Arithmetic intensity (FLOP/byte) where the memory roof meets the compute roof."""
        return self.gflops / self.bandwidth_gbs

    def attainable_gflops(self, intensity: float) -> float:
        """The roof at `intensity` FLOP/byte: min(peak GFLOP/s, intensity * bandwidth GB/s)."""
        return min(self.gflops, intensity * self.bandwidth_gbs)

    def __str__(self) -> str:
        measured = "" if self.matmul is None else f" ({self.matmul.threads} threads)"
        return (
            f"{three_digits(self.gflops)} GFLOP/s, {three_digits(self.bandwidth_gbs)} GB/s, "
            f"ridge point {three_digits(self.ridge_point)} FLOP/byte{measured}"
        )


@dataclass(frozen=True)
class RooflinePoint:
    """One layer on the roofline plot."""

    name: str
    kind: str
    flops: int
    bytes_moved: float  # weights, inputs and outputs at the chosen bit widths
    intensity: float  # FLOP/byte; inf for a row that computes without moving any bytes
    attainable_gflops: float  # the roof above this intensity
    bound: str  # "compute" or "memory"
    predicted_s: float  # max(FLOPs / peak, bytes / bandwidth): the roofline's latency estimate


@dataclass(frozen=True)
class AchievedPerformance:
    """FLOPs is work, FLOP/s is speed: how fast some work actually ran, against the peak."""

    flops: float
    seconds: float
    peak_gflops: float

    @property
    def gflops(self) -> float:
        return self.flops / self.seconds / 1e9

    @property
    def percent_of_peak(self) -> float:
        return 100 * self.gflops / self.peak_gflops

    def __str__(self) -> str:
        scale, prefix = si_scale(self.seconds)
        return (
            f"{three_digits(self.flops / 1e9)} GFLOP in {three_digits(self.seconds * scale)} "
            f"{prefix}s: "
            f"{three_digits(self.gflops)} GFLOP/s, {self.percent_of_peak:.0f} % of the peak "
            f"{three_digits(self.peak_gflops)} GFLOP/s"
        )


_MEASURED: dict[int, MachinePeaks] = {}  # thread count -> peaks, measured once per session


def machine_peaks(budget_s: float = 2.0, threads: int | None = None) -> MachinePeaks:
    """Measure this machine's attainable fp32 GFLOP/s and memory bandwidth (GB/s).

    Half the budget times n x n matmuls for each n in MATMUL_SIZES (2 n^3 FLOPs), half a copy of
    COPY_BYTES (bandwidth counts the bytes read plus the bytes written). Each is the best run:
    a peak is what the machine can reach, and slower runs are interference (other processes,
    frequency ramps), not the machine. The result is cached per thread count: later calls return
    it whatever their budget.
    """
    budget_s = check_number("budget_s", budget_s)
    threads = torch.get_num_threads() if threads is None else check_int("threads", threads)
    if threads not in _MEASURED:
        generator = torch.Generator().manual_seed(0)
        best_gflops, best_size, best_matmul = 0.0, None, None
        for size in MATMUL_SIZES:
            a, b = (torch.randn(size, size, generator=generator) for _ in range(2))
            matmul = measure_latency(
                torch.mm, inputs=(a, b), budget_s=budget_s / 2 / len(MATMUL_SIZES), threads=threads
            )
            gflops = 2 * size**3 / min(matmul.times_s) / 1e9
            if gflops > best_gflops:
                best_gflops, best_size, best_matmul = gflops, size, matmul
        source = torch.ones(COPY_BYTES // 4)
        copy = measure_latency(
            torch.Tensor.copy_,
            inputs=(torch.empty_like(source), source),
            budget_s=budget_s / 2,
            threads=threads,
        )
        _MEASURED[threads] = MachinePeaks(
            gflops=best_gflops,
            bandwidth_gbs=2 * COPY_BYTES / min(copy.times_s) / 1e9,
            matmul=best_matmul,
            copy=copy,
            matmul_size=best_size,
        )
    return _MEASURED[threads]


def roofline(profile: Profile, peaks: MachinePeaks, bits: int | None = None) -> list[RooflinePoint]:
    """Place each layer of `profile` under the roofs of `peaks`.

    Bytes moved are the layer's weights, inputs and outputs (see `layer_traffic`), at `bits` for
    all of them or, by default, at the profile's widths. A layer with no FLOPs (ReLU, pooling,
    normalization: the profiler counts only matmul/conv/attention) has intensity 0 and is
    memory-bound.
    """
    if not isinstance(peaks, MachinePeaks):
        raise TypeError(f"peaks must be a MachinePeaks, got {type(peaks).__name__}")
    points = []
    for row, moved in layer_traffic(profile, bits):
        intensity = row.flops / moved if moved else float("inf")
        points.append(
            RooflinePoint(
                name=row.name,
                kind=row.kind,
                flops=row.flops,
                bytes_moved=moved,
                intensity=intensity,
                attainable_gflops=peaks.attainable_gflops(intensity),
                bound="compute" if intensity >= peaks.ridge_point else "memory",
                predicted_s=max(row.flops / peaks.gflops, moved / peaks.bandwidth_gbs) / 1e9,
            )
        )
    return points


@dataclass(frozen=True)
class BoundShares:
    """How a network's layers split between the two roofs."""

    layers: int
    layers_without_flops: int  # ReLU, pooling, normalization: intensity 0, memory-bound
    memory_bound_layers: float  # share of the layers under the memory roof
    memory_bound_flops: float  # share of the FLOPs done in those layers


def bound_shares(points: Sequence[RooflinePoint]) -> BoundShares:
    """The share of layers and of FLOPs that wait on memory, for `roofline()`'s points."""
    if not points:
        raise ValueError("points must hold at least one RooflinePoint, got none")
    memory_bound = [p for p in points if p.bound == "memory"]
    total_flops = sum(p.flops for p in points)
    return BoundShares(
        layers=len(points),
        layers_without_flops=sum(1 for p in points if p.flops == 0),
        memory_bound_layers=len(memory_bound) / len(points),
        memory_bound_flops=sum(p.flops for p in memory_bound) / total_flops if total_flops else 0.0,
    )


def achieved_performance(
    flops: float, seconds: float, peaks: MachinePeaks | None = None
) -> AchievedPerformance:
    """Achieved GFLOP/s of `flops` FLOPs done in `seconds`, and its share of the peak.

    `peaks` defaults to `machine_peaks()` (measured once per session, about 2 s).
    """
    flops = check_number("flops", flops, inclusive=True)
    seconds = check_number("seconds", seconds)
    peaks = machine_peaks() if peaks is None else peaks
    return AchievedPerformance(flops=flops, seconds=seconds, peak_gflops=peaks.gflops)


def layer_traffic(profile: Profile, bits: int | None = None) -> list[tuple[LayerRow, float]]:
    """(row, bytes moved) for each row of `profile` that computes or moves data.

    A row moves its own weights and, if it is a leaf (no other row is inside it), reads its
    inputs and writes its outputs once; a container's inputs and outputs are its children's, so
    counting them again would count them twice. `bits` sets the width of weights and activations;
    by default the profile's `bits` and `activation_bits`.
    """
    if not isinstance(profile, Profile):
        raise TypeError(f"profile must be a Profile from widgets.profile(), got {profile!r}")
    if bits is None:
        weight_bits, activation_bits = profile.bits, profile.activation_bits
    else:
        weight_bits = activation_bits = check_choice("bits", bits, BIT_WIDTHS)
    containers = {ancestor for row in profile.layers for ancestor in _ancestors(row.name)}
    traffic = []
    for row in profile.layers:
        activations = 0 if row.name in containers else row.input_elements + row.output_elements
        moved = bytes_for(row.params, weight_bits) + bytes_for(activations, activation_bits)
        if moved or row.macs:
            traffic.append((row, moved))
    return traffic


def _ancestors(name: str) -> list[str]:
    """Names of the modules containing module `name`: "a.b.c" -> ["", "a", "a.b"]."""
    if not name:
        return []
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(len(parts))]
