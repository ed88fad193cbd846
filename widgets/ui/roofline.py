"""RooflineExplorer (lab 4): which layers of a model wait on memory, and which on arithmetic?

The roofs are this machine's, measured here once per session (widgets.core.roofline.machine_peaks:
an fp32 matmul for the compute roof, a large copy for the memory roof, about 1 s). Each layer of
a torchvision model (weights=None, profiled on the meta device) sits under the roofs at its
arithmetic intensity: FLOPs / bytes of weights, inputs and outputs. The roofs are fp32 numbers;
a lower bit width only shrinks the bytes a layer moves, and so moves it to the right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from widgets.core.profiler import meta_profile, profiled_batch
from widgets.core.roofline import (
    MachinePeaks,
    RooflinePoint,
    bound_shares,
    machine_peaks,
    roofline,
)
from widgets.core.units import EXPLORER_BIT_WIDTHS

from . import style
from .base import Explorer, Share, log_limits

MODELS = ("resnet18", "mobilenet_v2", "squeezenet1_1", "alexnet", "vgg11")
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
IMAGE = (3, 224, 224)  # channels, height, width of one input
PEAKS_BUDGET_S = 1.0  # for measuring the roofs, once per session
# FLOP/byte shown: every layer of every setting fits (0.5 to 9100), so the axes never change
# and an update only redraws the points
INTENSITY_LIMITS = (0.1, 1e4)


@dataclass(frozen=True)
class RooflineView:
    """What the explorer shows for one setting."""

    points: list[RooflinePoint]


class RooflineExplorer(Explorer):
    """This machine's roofline with one model's layers placed under it.

    RooflineExplorer(model="mobilenet_v2", batch=1, peaks=MachinePeaks(100.0, 10.0))
    Without `peaks`, the roofs are measured here (machine_peaks, once per session).
    """

    readout_labels: ClassVar[dict[str, str]] = {
        "peak_gflops": "peak compute (GFLOP/s)",
        "bandwidth_gbs": "memory bandwidth (GB/s)",
        "ridge_point": "ridge point (FLOP/byte)",
        "roofs": "roofs",
        "layers": "layers (rows that compute or move data)",
        "layers_without_flops": "of which without FLOPs (ReLU, norm, pooling): memory-bound, "
        "not plotted",
        "memory_bound_layers": "memory-bound layers (share)",
        "memory_bound_macs": "share of the MACs in memory-bound layers",
    }

    def __init__(self, *, peaks: MachinePeaks | None = None, **values: Any) -> None:
        """`peaks`: the roofs to use; by default measured here (about 1 s, once per session)."""
        if peaks is not None and not isinstance(peaks, MachinePeaks):
            raise TypeError(f"peaks must be a MachinePeaks or None, got {type(peaks).__name__}")
        self.peaks = machine_peaks(budget_s=PEAKS_BUDGET_S) if peaks is None else peaks
        super().__init__(**values)

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        return {
            "model": ipywidgets.Dropdown(options=MODELS, value="resnet18", description="model"),
            "batch": ipywidgets.SelectionSlider(options=BATCHES, value=1, description="batch"),
            "bits": ipywidgets.ToggleButtons(
                options=[(f"{bits} bit", bits) for bits in EXPLORER_BIT_WIDTHS],
                description="bit width",
            ),
        }

    def make_figure(self, figure: Figure) -> None:
        peaks = self.peaks
        ridge = peaks.ridge_point
        low, high = INTENSITY_LIMITS
        ax = self.ax = figure.add_subplot(
            xscale="log",
            yscale="log",
            xlabel="arithmetic intensity (FLOP/byte)",
            ylabel="attainable performance (GFLOP/s)",
            xlim=INTENSITY_LIMITS,
            ylim=log_limits([peaks.attainable_gflops(low), 10 * peaks.gflops]),  # room for text
        )
        ax.plot(
            [low, ridge, high],
            [peaks.attainable_gflops(low), peaks.gflops, peaks.gflops],
            color=style.BLACK,
            linewidth=1.2,
        )
        ax.axvline(ridge, color=style.GREY, linestyle=":", linewidth=1)
        ax.annotate(
            f"ridge point {ridge:.3g} FLOP/byte", (ridge, 0.03), xycoords=("data", "axes fraction"),
            xytext=(3, 0), textcoords="offset points", rotation=90, color=style.TEXT_GREY,
        )  # fmt: skip
        measured = "measured here" if peaks.matmul is not None else "given, not measured"
        ax.text(
            0.99, 0.98, f"roofs {measured}: {peaks}", transform=ax.transAxes, ha="right",
            va="top", color=style.TEXT_GREY, fontsize="small",
        )  # fmt: skip
        self.memory_points = ax.scatter(
            [], [], color=style.MEMORY_COLOUR, alpha=0.7, label="memory-bound layer",
            animated=True,
        )  # fmt: skip
        self.compute_points = ax.scatter(
            [], [], color=style.MACS_COLOUR, alpha=0.7, label="compute-bound layer", marker="^",
            animated=True,
        )  # fmt: skip
        ax.legend(loc="upper left", title="marker area ∝ the layer's FLOPs")

    def compute(self, model: str, batch: int, bits: int) -> RooflineView:
        prof = meta_profile(model, (batch, *IMAGE))
        return RooflineView(
            points=roofline(prof, self.peaks, bits=bits),
        )

    def warm_up(self) -> None:
        """Profile every model at each batch meta_profile runs (larger ones are scaled from
        them): picking a model or a batch is then fast."""
        for model in MODELS:
            for batch in sorted({profiled_batch(batch) for batch in BATCHES}):
                meta_profile(model, (batch, *IMAGE))

    def summarize(self, view: RooflineView) -> dict[str, Any]:
        shares = bound_shares(view.points)
        return {
            "peak_gflops": self.peaks.gflops,
            "bandwidth_gbs": self.peaks.bandwidth_gbs,
            "ridge_point": self.peaks.ridge_point,
            "roofs": "measured here" if self.peaks.matmul is not None else "given",
            "layers": shares.layers,
            "layers_without_flops": shares.layers_without_flops,
            "memory_bound_layers": Share(shares.memory_bound_layers),
            "memory_bound_macs": Share(shares.memory_bound_flops),  # MACs and FLOPs: same share
        }

    def draw(self, view: RooflineView) -> None:
        shown = [p for p in view.points if 0 < p.intensity < float("inf")]  # log axes
        largest = max(p.flops for p in shown)
        for scatter, bound in ((self.memory_points, "memory"), (self.compute_points, "compute")):
            points = [p for p in shown if p.bound == bound]
            offsets = [(p.intensity, p.attainable_gflops) for p in points]
            scatter.set_offsets(np.array(offsets).reshape(-1, 2))
            scatter.set_sizes([8 + 200 * p.flops / largest for p in points])
