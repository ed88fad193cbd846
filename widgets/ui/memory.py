"""MemoryExplorer (lab 5): weights against activations, layer by layer, in real torchvision models.

One bar pair per layer in forward order: the memory of the activations it allocates (green) and,
in front, of its weights (blue), on a log axis from 1 B to 1 TiB, which holds every setting; the
activation memory alive after each layer (the curve) and its peak (the star). The layer axis has
one of LAYER_AXIS_LENGTHS, the shortest that holds the model's layers: each is drawn at start, so
a step moves the bars and the curve only. In a CNN the early layers hold little weight but see
large images, so they allocate most of the activation memory; the late layers are the other way
round.
Numbers come from widgets.core.profiler.meta_profile (profile() on the meta device): any batch and
resolution cost no memory and no arithmetic. "fold BatchNorm" shows the network as deployed: each
BatchNorm folded into the conv before it (lab 04's fusion), so the conv's and the BatchNorm's
outputs are never alive together; the "profile shown" readout says which profile is drawn.
"""

from __future__ import annotations

import contextlib
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
import numpy as np
import psutil
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path

from widgets.core.profiler import LayerRow, Profile, meta_profile, profiled_batch
from widgets.core.units import EXPLORER_BIT_WIDTHS, format_bytes

from . import style
from .base import Explorer, Share, set_limits

MODELS = ("resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
          "efficientnet_b0", "vgg16", "alexnet", "vit_b_16")  # fmt: skip
BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256)
# of a layer's slot: the activation bar, and in front of it a narrower weight bar (bars side by
# side are ~2 px wide for the 180 layers of efficientnet_b0 and blur into one colour)
ACTIVATION_BAR_WIDTH, WEIGHT_BAR_WIDTH = 0.9, 0.45
PROFILE_NAMES = {  # by Profile.batchnorm_folded
    False: "unfused: each conv's output alive beside its BatchNorm's",
    True: "BatchNorm folded into the conv before it, as deployed (lab 04's fusion)",
}
BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
# the memory axis: every number the controls reach lies between (vgg16 at 512 pixels, batch 256,
# 32 bit: a 33 GiB peak; an SE block's pooled output at batch 1, 32 pixels, 4 bit: 8 B)
MEMORY_LIMITS = (1.0, 1024.0**4)
# the layer axis' lengths (the models offered have 12 to 180 rows, each filling >= 2/3 of one)
LAYER_AXIS_LENGTHS = (16, 32, 64, 96, 128, 192)


@dataclass(frozen=True)
class MemoryView:
    """What the explorer shows for one setting."""

    profile: Profile
    rows: tuple[LayerRow, ...]  # the rows with weights or activations, in forward order
    position: np.ndarray  # per row: its number in forward order, 1 to len(rows)
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
        "profile": "profile shown",
        "model_size": "model size (weights at weight bits)",
        "params": "weights (params)",
        "peak_activation": "peak activation memory",
        "peak_layer": "peak reached during",
        "early_share": "share of the activation memory allocated in the first quarter of the layers",
        "activations_allocated": "activation memory allocated in the forward pass",
    }
    control_groups: ClassVar[dict[str, tuple[str, ...]]] = {
        "Model and input": ("model", "resolution", "batch", "fold_batchnorm"),
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
            "fold_batchnorm": ipywidgets.Checkbox(
                value=False, description="fold BatchNorm into the conv before it"
            ),
        }

    def make_figure(self, figure: Figure) -> None:
        ax = self.ax = figure.add_subplot(
            xlabel="layer (in forward order)", ylabel="memory (bytes)", yscale="log",
            xlim=(0.5, 60.5), ylim=MEMORY_LIMITS,
        )  # fmt: skip
        _binary_ticks(ax)
        ax.minorticks_off()
        ax.grid(axis="x", visible=False)
        # The first quarter of the layers, where a CNN allocates most of its activation memory
        # (a Rectangle: axvspan gives a Polygon before matplotlib 3.9)
        self.early_span = ax.add_patch(
            Rectangle((0.5, 0), 0, 1, transform=ax.get_xaxis_transform(), color=style.GREY,
                      alpha=0.15, linewidth=0, animated=True)
        )  # fmt: skip
        ax.text(0.01, 0.97, "first quarter of the layers", transform=ax.transAxes, va="top")
        self.activation_bars = _bar_series(ax, "activations allocated", style.MEMORY_COLOUR)
        self.weight_bars = _bar_series(ax, "weights", style.PARAMS_COLOUR, style.SECOND_BARS_HATCH)
        (self.live_line,) = ax.plot(
            [], [], color=style.ORANGE, drawstyle="steps-mid", label="activations alive",
            animated=True,
        )  # fmt: skip
        (self.peak_marker,) = ax.plot(
            [], [], "*", color=style.VERMILLION, ms=12, label="peak", animated=True
        )
        ax.legend(
            handles=[self.weight_bars, self.activation_bars, self.live_line, self.peak_marker],
            loc="lower left", bbox_to_anchor=(0, 1), ncols=4, borderaxespad=0.2,
        )  # fmt: skip

    def compute(
        self,
        model: str,
        resolution: int,
        batch: int,
        weight_bits: int,
        activation_bits: int,
        fold_batchnorm: bool,
    ) -> MemoryView:
        try:
            prof = meta_profile(
                model,
                (batch, 3, resolution, resolution),
                weight_bits,
                activation_bits,
                fold_batchnorm,
            )
        except ValueError as error:  # the forward failed: the model cannot take this image size
            raise ValueError(
                f"resolution {resolution} does not work for {model}: {error}"
            ) from None
        rows = prof.memory_rows()
        activation_bytes = np.array([row.activation_bytes for row in rows])
        weight_bytes = np.array([row.weight_bytes for row in rows])
        live_bytes = np.array([row.live_activation_bytes for row in rows])
        early_rows, early_share = prof.early_activation_share()
        return MemoryView(
            profile=prof,
            rows=rows,
            position=np.arange(1, len(rows) + 1),
            weight_bytes=weight_bytes,
            activation_bytes=activation_bytes,
            live_bytes=live_bytes,
            # a module called twice has two rows: its first call is marked
            peak_row=next((i for i, row in enumerate(rows) if row.name == prof.peak_layer), 0),
            early_rows=early_rows,
            early_share=early_share,
        )

    def summarize(self, view: MemoryView) -> dict[str, Any]:
        prof, peak = view.profile, view.rows[view.peak_row]
        return {
            "profile": PROFILE_NAMES[prof.batchnorm_folded],
            "model_size": format_bytes(prof.weight_bytes),
            "params": prof.params,
            "peak_activation": _peak_text(prof.peak_activation_bytes),
            "peak_layer": f"{peak.name or '(model)'} ({peak.kind}), "
            f"layer {view.peak_row + 1} of {len(view.rows)}",
            "early_share": Share(view.early_share),
            "activations_allocated": format_bytes(prof.activation_bytes),
        }

    def draw(self, view: MemoryView) -> None:
        ax, x = self.ax, view.position
        set_limits(ax, xlim=(0.5, _layer_axis_length(len(view.rows)) + 0.5))
        bottom = MEMORY_LIMITS[0]
        self.activation_bars.set_path(_bars(x, ACTIVATION_BAR_WIDTH, view.activation_bytes, bottom))
        self.weight_bars.set_path(_bars(x, WEIGHT_BAR_WIDTH, view.weight_bytes, bottom))
        self.live_line.set_data(x, view.live_bytes)
        self.peak_marker.set_data([x[view.peak_row]], [view.profile.peak_activation_bytes])
        self.early_span.set_width(view.early_rows)

    def layouts(self, view: MemoryView) -> tuple[Hashable, ...]:
        return (_layer_axis_length(len(view.rows)),)

    def warm_up(self) -> None:
        """Profile now what the next move most likely needs (~2 s in all): every model at
        this setting with BatchNorm folded or not (the first fold of a model builds its folded
        copy, 40-110 ms: not on a learner's click), this model at every resolution and at the
        other batches meta_profile runs (larger ones are scaled from them); then draw the layer
        axes of every model."""
        values = {name: control.value for name, control in self.controls.items()}
        bits = values["weight_bits"], values["activation_bits"]
        fold = values["fold_batchnorm"]
        resolution = self.controls["resolution"]
        batch = profiled_batch(values["batch"])  # the profile this batch is scaled from
        wanted = [(model, batch, values["resolution"], folded) for folded in (fold, not fold)
                  for model in MODELS]  # fmt: skip
        wanted += [
            (values["model"], batch, r, fold)
            for r in range(resolution.min, resolution.max + 1, resolution.step)
        ]
        other_batches = {profiled_batch(b) for b in BATCHES} - {batch}
        wanted += [(values["model"], b, values["resolution"], fold) for b in sorted(other_batches)]
        for model, batch, size, folded in wanted:
            # a size the model cannot take shows its message when picked
            with contextlib.suppress(ValueError):
                meta_profile(model, (batch, 3, size, size), *bits, folded)
        self.draw_ahead({"model": model} for model in MODELS)  # their layer axes


def _bits_buttons(description: str) -> ipywidgets.ToggleButtons:
    """Buttons choosing a bit width."""
    return ipywidgets.ToggleButtons(
        options=[(f"{b} bit", b) for b in EXPLORER_BIT_WIDTHS],
        description=description,
        style={"button_width": "64px"},
    )


def _bar_series(ax: Axes, label: str, colour: str, hatch: str | None = None) -> PathPatch:
    """An empty, animated bar series named `label` on `ax`, hatched in white if `hatch` is given.

    All its bars are one path: a single artist to redraw instead of one per bar (for the
    180 rows of efficientnet_b0, ~3 ms instead of ~40 ms per update).
    """
    # no outline (it would merge thin bars) and no anti-aliasing: crisp bars, filled faster
    no_bars = Path(np.zeros((0, 2)))
    bars = PathPatch(
        no_bars, facecolor=colour, edgecolor="white", hatch=hatch, linewidth=0,
        antialiased=False, label=label, animated=True,
    )  # fmt: skip
    return ax.add_patch(bars)


def _bars(centre: np.ndarray, width: float, heights: np.ndarray, bottom: float) -> Path:
    """One path of bars `width` wide around `centre`, from `bottom` (the y axis' lower limit)
    up to `heights`."""
    bottoms = np.full_like(heights, bottom, dtype=float)
    top = np.maximum(heights, bottoms)  # no bar for 0 bytes (log axis)
    left, right = centre - width / 2, centre + width / 2
    xs = np.stack([left, left, right, right], axis=1)
    ys = np.stack([bottoms, top, top, bottoms], axis=1)
    return Path.make_compound_path_from_polys(np.stack([xs, ys], axis=-1))


def _layer_axis_length(rows: int) -> int:
    """The layer axis' length for `rows` rows: the shortest LAYER_AXIS_LENGTHS that holds them."""
    return next((length for length in LAYER_AXIS_LENGTHS if rows <= length), rows)


def _binary_ticks(ax: Axes) -> None:
    """A tick at each power of 1024 within the y limits, labelled 1 B, 1 KiB, 1 MiB..."""
    low, high = ax.get_ylim()
    ticks = [(1024.0**k, f"1 {unit}") for k, unit in enumerate(BINARY_UNITS)]
    shown = [(value, label) for value, label in ticks if low <= value <= high]
    ax.set_yticks([value for value, _ in shown], [label for _, label in shown])


def _peak_text(peak_bytes: float) -> str:
    """The peak in binary units, with a warning when it exceeds this machine's memory."""
    total = psutil.virtual_memory().total
    if peak_bytes <= total:
        return format_bytes(peak_bytes)
    return f"{format_bytes(peak_bytes)}: would not fit in this machine's memory ({format_bytes(total)})"
