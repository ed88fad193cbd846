"""MemoryExplorer (lab 5): weights against activations, layer by layer, in real torchvision models.

One bar pair per layer in forward order, along the model's depth (0: input, 1: output, so models of
any depth share one axis): the memory of its weights (blue) and of the activations it allocates
(green), on a log axis; the activation memory alive after each layer (the curve)
and its peak (the star). In a CNN the early layers hold little weight but see large images, so
they allocate most of the activation memory; the late layers are the other way round.
Numbers come from widgets.core.profiler.meta_profile (profile() on the meta device): any batch and
resolution cost no memory and no arithmetic.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
import numpy as np
import psutil
from matplotlib.axes import Axes
from matplotlib.patches import PathPatch
from matplotlib.path import Path

from widgets.core.profiler import LayerRow, Profile, meta_profile, profiled_batch
from widgets.core.units import format_bytes

from . import style
from .base import Explorer

MODELS = ("resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
          "efficientnet_b0", "vgg16", "alexnet", "vit_b_16")  # fmt: skip
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
BITS = (32, 16, 8, 4)
# One y axis for every model and setting (1 B to 1 TiB holds them all, vgg16 at batch 256 and
# 512 x 512 included): changing batch or bits moves the bars, not the axis, and redraws only them.
Y_LIMITS = (1.0, 1024.0**4)
BAR_WIDTH = 0.4  # of a layer's slot: a weight bar and an activation bar side by side


@dataclass(frozen=True)
class MemoryView:
    """What the explorer shows for one setting."""

    profile: Profile
    rows: list[LayerRow]  # the rows with weights or activations, in forward order
    depth: np.ndarray  # per row: the centre of its slot, from 0 (input) to 1 (output)
    weight_bytes: np.ndarray  # per row
    activation_bytes: np.ndarray  # per row: memory of the tensors it allocated
    live_bytes: np.ndarray  # per row: activation memory alive when it returned
    peak_row: int  # index of the row during which the peak was reached
    early_rows: int  # the rows in the first quarter of the layers
    early_share: float  # share of all activation memory allocated by those rows


class MemoryExplorer(Explorer):
    """Weight and activation memory per layer of a torchvision model; where the peak is.

    MemoryExplorer(model="resnet50", batch=32, activation_bits=16, hide=["weight_bits"])
    """

    readout_labels: ClassVar[dict[str, str]] = {
        "model_size": "model size (weights at weight bits)",
        "params": "weights (params)",
        "peak_activation": "peak activation memory",
        "peak_layer": "peak reached during",
        "early_share": "activation memory in the first quarter of the layers (share)",
        "activations_allocated": "activation memory allocated in the forward pass",
    }
    control_groups: ClassVar[dict[str, tuple[str, ...]]] = {
        "Model and input": ("model", "resolution", "batch"),
        "Bits": ("weight_bits", "activation_bits"),
    }

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        return {
            "model": ipywidgets.Dropdown(options=MODELS, value="resnet18", description="model"),
            "resolution": ipywidgets.IntSlider(
                value=224, min=32, max=512, step=16, description="resolution (pixels)"
            ),
            "batch": ipywidgets.SelectionSlider(options=BATCHES, value=1, description="batch"),
            "weight_bits": _bits_buttons("weights"),
            "activation_bits": _bits_buttons("activations"),
        }

    def make_figure(self, figure) -> None:
        ax = self.ax = figure.add_subplot()
        # one x axis for every model: a new model moves the bars, not the axis (no full redraw)
        ax.set(
            xlabel="depth: share of the layers before this one (forward order)",
            ylabel="memory", yscale="log", xlim=(0, 1), ylim=Y_LIMITS,
        )  # fmt: skip
        ax.set_yticks([1024**k for k in range(5)], ["1 B", "1 KiB", "1 MiB", "1 GiB", "1 TiB"])
        ax.minorticks_off()
        ax.grid(axis="x", visible=False)
        # The first quarter of the layers, where a CNN allocates most of its activation memory
        self.early_span = ax.axvspan(0, 0, color=style.GREY, alpha=0.15, animated=True)
        ax.text(0.01, 0.97, "first quarter of the layers", transform=ax.transAxes, va="top")
        self.weight_bars = _bar_series(ax, style.PARAMS_COLOUR)
        self.activation_bars = _bar_series(ax, style.MEMORY_COLOUR)
        (self.live_line,) = ax.plot(
            [], [], color=style.ORANGE, drawstyle="steps-mid", animated=True
        )
        (self.peak_marker,) = ax.plot([], [], "*", color=style.VERMILLION, ms=12, animated=True)
        ax.legend(
            [self.weight_bars, self.activation_bars, self.live_line, self.peak_marker],
            ["weights", "activations allocated", "activations alive", "peak"],
            loc="lower left", bbox_to_anchor=(0, 1), ncols=4, borderaxespad=0.2,
        )  # fmt: skip

    def compute(
        self, model: str, resolution: int, batch: int, weight_bits: int, activation_bits: int
    ) -> MemoryView:
        try:
            prof = meta_profile(
                model, (batch, 3, resolution, resolution), weight_bits, activation_bits
            )
        except ValueError as error:  # the forward failed: the model cannot take this image size
            raise ValueError(
                f"resolution {resolution} does not work for {model}: {error}"
            ) from None
        rows = [row for row in prof.layers if row.params or row.activation_bytes]
        activation_bytes = np.array([row.activation_bytes for row in rows])
        early_rows = len(rows) // 4
        return MemoryView(
            profile=prof,
            rows=rows,
            depth=(np.arange(len(rows)) + 0.5) / len(rows),
            weight_bytes=np.array([row.weight_bytes for row in rows]),
            activation_bytes=activation_bytes,
            live_bytes=np.array([row.live_activation_bytes for row in rows]),
            # a module called twice has two rows: its first call is marked
            peak_row=next((i for i, row in enumerate(rows) if row.name == prof.peak_layer), 0),
            early_rows=early_rows,
            early_share=float(activation_bytes[:early_rows].sum() / activation_bytes.sum()),
        )

    def summarize(self, view: MemoryView) -> dict[str, Any]:
        prof, peak = view.profile, view.rows[view.peak_row]
        return {
            "model_size": format_bytes(prof.weight_bytes),
            "params": prof.params,
            "peak_activation": _peak_text(prof.peak_activation_bytes),
            "peak_layer": f"{peak.name or '(model)'} ({peak.kind}), "
            f"layer {view.peak_row + 1} of {len(view.rows)}",
            "early_share": view.early_share,
            "activations_allocated": format_bytes(prof.activation_bytes),
        }

    def draw(self, view: MemoryView) -> None:
        x, bar_width = view.depth, BAR_WIDTH / len(view.rows)
        self.weight_bars.set_path(_bars(x - bar_width, bar_width, view.weight_bytes))
        self.activation_bars.set_path(_bars(x, bar_width, view.activation_bytes))
        self.live_line.set_data(x, view.live_bytes)
        self.peak_marker.set_data([x[view.peak_row]], [view.profile.peak_activation_bytes])
        self.early_span.set_width(view.early_rows / len(view.rows))

    def warm_up(self) -> None:
        """Profile now what the next move most likely needs (~1 s in all): every model at
        this setting, this model at every resolution, and at the other batches meta_profile
        runs (larger ones are scaled from them)."""
        values = {name: control.value for name, control in self.controls.items()}
        bits = values["weight_bits"], values["activation_bits"]
        resolution = self.controls["resolution"]
        batch = profiled_batch(values["batch"])  # the profile this batch is scaled from
        wanted = [(model, batch, values["resolution"]) for model in MODELS]
        wanted += [
            (values["model"], batch, r)
            for r in range(resolution.min, resolution.max + 1, resolution.step)
        ]
        other_batches = {profiled_batch(b) for b in BATCHES} - {batch}
        wanted += [(values["model"], b, values["resolution"]) for b in sorted(other_batches)]
        for model, batch, size in wanted:
            # a size the model cannot take shows its message when picked
            with contextlib.suppress(ValueError):
                meta_profile(model, (batch, 3, size, size), *bits)


def _bits_buttons(description: str) -> ipywidgets.ToggleButtons:
    """Buttons choosing a bit width."""
    return ipywidgets.ToggleButtons(
        options=[(f"{b} bit", b) for b in BITS],
        description=description,
        style={"button_width": "64px"},
    )


def _bar_series(ax: Axes, colour: str) -> PathPatch:
    """An empty, animated bar series on `ax`.

    All its bars are one path: a single artist to redraw instead of one per bar (for the
    180 rows of efficientnet_b0, ~3 ms instead of ~40 ms per update).
    """
    # no outline (it would merge thin bars) and no anti-aliasing: crisp bars, filled faster
    no_bars = Path(np.zeros((0, 2)))
    return ax.add_patch(
        PathPatch(no_bars, color=colour, linewidth=0, antialiased=False, animated=True)
    )


def _bars(left: np.ndarray, width: float, heights: np.ndarray) -> Path:
    """One path of bars `width` wide, from the bottom of the y axis up to `heights`."""
    bottom = np.full_like(heights, Y_LIMITS[0])
    top = np.maximum(heights, bottom)  # no bar for 0 bytes (log axis)
    right = left + width
    xs = np.stack([left, left, right, right], axis=1)
    ys = np.stack([bottom, top, top, bottom], axis=1)
    return Path.make_compound_path_from_polys(np.stack([xs, ys], axis=-1))


def _peak_text(peak_bytes: float) -> str:
    """The peak in binary units, with a warning when it exceeds this machine's memory."""
    total = psutil.virtual_memory().total
    if peak_bytes <= total:
        return format_bytes(peak_bytes)
    return f"{format_bytes(peak_bytes)}: would not fit in this machine's memory ({format_bytes(total)})"
