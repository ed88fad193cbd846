"""ActivationExplorer (lab 1): activation functions, their derivatives, and dying ReLUs.

Left panel: the selected activations f(x) (solid) and their derivatives f'(x) (dashed).
Right panel: one real nn.Linear layer followed by ReLU or leaky ReLU after one SGD step
(widgets.core.activations.dying_relu): how many units still fire, and on what share of the batch.
The count of dead units is a readout, so a step of the dying-ReLU sliders redraws the histogram
only; the x axis follows the x range in steps of 2, so most x range steps move the curves only.
The legend is drawn apart, once per selection, and laid over the curves as a picture: new limits
redraw the axes without it (~20 ms instead of ~35 to 60 ms with 4 to 14 activations).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.offsetbox import AnnotationBbox, OffsetImage

from widgets.core.activations import (
    ACTIVATIONS,
    SMALL_LEARNING_RATE,
    Activation,
    DyingReluResult,
    dying_relu,
)
from widgets.core.latency import using_threads

from . import style
from .base import Explorer, Share, coarse_limits, set_limits

POINTS = 401  # samples of x per curve
MAX_SLOPE = 0.5  # of leaky ReLU, on the slider
BINS = np.linspace(0, 1, 21)  # of the share of the batch on which a unit fires
X_STEP = 2.0  # the x axis limits are multiples of this (the x range slider steps by 0.5)
Y_STEP = 1.0  # and the y axis limits


@dataclass(frozen=True)
class ActivationView:
    """What the explorer shows for one setting."""

    x: np.ndarray
    outputs: dict[str, np.ndarray]  # activation name -> f(x)
    derivatives: dict[str, np.ndarray]  # activation name -> f'(x), empty if not shown
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    dying: DyingReluResult
    units_per_bin: np.ndarray  # histogram of dying.active_fraction over BINS


class ActivationExplorer(Explorer):
    """Compare activation functions and watch ReLU units die after a too large SGD step.

    ActivationExplorer(activations=("relu", "gelu"), hide=["x_range"])
    """

    readout_labels: ClassVar[dict[str, str]] = {
        **{name: activation.display_name for name, activation in ACTIVATIONS.items()},
        "dead_units": "dead units",
        "dead_fraction": "dead units (share)",
        "gradient_norm": "|dL/dW| after the step",
    }
    panel_widths = (1, 1)
    control_groups: ClassVar[dict[str, tuple[str, ...]]] = {
        "Curves": ("activations", "show_derivative", "x_range", "negative_slope"),
        "Dying ReLU: one SGD step on a 64 → 256 layer": (
            "dying_activation",
            "bias_shift",
            "learning_rate",
        ),
    }

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        names = [(activation.display_name, name) for name, activation in ACTIVATIONS.items()]
        return {
            "activations": ipywidgets.SelectMultiple(
                options=names, value=("relu", "leaky_relu", "gelu", "sigmoid"), rows=7,
                description="activations",
            ),
            "show_derivative": ipywidgets.Checkbox(value=True, description="derivatives f'(x)"),
            "x_range": ipywidgets.FloatRangeSlider(
                value=(-4.0, 4.0), min=-10.0, max=10.0, step=0.5, readout_format=".1f",
                description="x range",
            ),
            "negative_slope": ipywidgets.FloatSlider(
                value=0.1, min=0.0, max=MAX_SLOPE, step=0.01, description="leaky slope"
            ),
            "dying_activation": ipywidgets.ToggleButtons(
                options=[("ReLU", "relu"), ("leaky ReLU", "leaky_relu")], description="unit"
            ),
            "bias_shift": ipywidgets.FloatSlider(
                value=0.0, min=-2.0, max=1.0, step=0.05, description="bias shift"
            ),
            "learning_rate": ipywidgets.FloatSlider(
                value=SMALL_LEARNING_RATE, min=0.0, max=0.3, step=0.005, readout_format=".3f",
                description="learning rate",
            ),
        }  # fmt: skip

    def make_figure(self, curves_figure: Figure, units_figure: Figure) -> None:
        ax = self.curves_ax = curves_figure.add_subplot(
            xlabel="input x", ylabel="f(x), f'(x)", title="Activations",
            xlim=(-4, 4), ylim=(-1, 4),
        )  # fmt: skip
        ax.axhline(0, color=style.GREY, linewidth=0.8)
        ax.axvline(0, color=style.GREY, linewidth=0.8)
        ax.locator_params(nbins=5)
        # one solid and one dashed line per activation, shown when selected
        # (and a marker each: activations are told apart without their colours too)
        every = {"markevery": style.MARKER_EVERY, "markersize": 5}
        self.output_lines = {
            name: ax.plot([], [], animated=True, visible=False, **every)[0] for name in ACTIVATIONS
        }
        self.derivative_lines = {
            name: ax.plot(
                [], [], "--", linewidth=1.2, fillstyle="none", animated=True, visible=False, **every
            )[0]
            for name in ACTIVATIONS
        }
        # the key to the line styles, after the activations' colours in the legend
        self.style_keys = {
            "f(x)": Line2D([], [], color=style.GREY),
            "derivative f'(x)": Line2D([], [], color=style.GREY, linestyle="--", linewidth=1.2),
        }
        # the legend, drawn on a transparent copy of this figure with an axes at the same place,
        # then shown over the curves as a picture: a legend costs ~15 ms (4 entries) to ~40 ms
        # (16), and new axis limits must not draw it again
        self.legend: Legend | None = None
        self._legend_figure = Figure(
            figsize=curves_figure.get_size_inches(), dpi=curves_figure.dpi, facecolor="none"
        )
        self._legend_canvas = FigureCanvasAgg(self._legend_figure)
        self._legend_ax = self._legend_figure.add_axes((0, 0, 1, 1))
        self._legend_ax.set_axis_off()
        # (its pixels only, placed pixel for pixel: a figure-sized picture would cost ~12 ms)
        self.legend_picture = OffsetImage(np.zeros((1, 1, 4)), dpi_cor=False)
        self._legend_box = curves_figure.add_artist(
            AnnotationBbox(
                self.legend_picture, (0, 0), xycoords="figure pixels", box_alignment=(0, 1),
                frameon=False, pad=0, annotation_clip=False, animated=True, zorder=5,
            )
        )  # fmt: skip

        self.units_ax = units_figure.add_subplot(
            xlabel="share of the batch on which a unit fires",
            ylabel="units",
            title="After one SGD step",
            xlim=(0, 1),
            ylim=(0, 256),
        )
        self.unit_histogram = self.units_ax.stairs(
            np.zeros(len(BINS) - 1), BINS, fill=True, color=style.BLUE, animated=True
        )

    def compute(
        self,
        activations: tuple[str, ...],
        show_derivative: bool,
        x_range: tuple[float, float],
        negative_slope: float,
        dying_activation: str,
        bias_shift: float,
        learning_rate: float,
    ) -> ActivationView:
        if not activations:
            raise ValueError("activations: select at least one activation")
        low, high = x_range
        if not low < high:
            raise ValueError(f"x_range must span a positive width, got ({low:g}, {high:g})")
        chosen = {name: ACTIVATIONS[name] for name in activations}
        params = {name: _params(a, negative_slope) for name, a in chosen.items()}
        leaky = dying_activation == "leaky_relu"
        # One thread: these tensors are too small to gain from more, and while another program
        # (the browser...) keeps a core busy, waiting threads make a 401-element exp take ~10 ms.
        with using_threads(1):
            x = torch.linspace(low, high, POINTS, dtype=torch.float64)
            outputs = {name: a.forward(x, **params[name]).numpy() for name, a in chosen.items()}
            derivatives = {
                name: a.derivative(x, **params[name]).numpy()
                for name, a in chosen.items()
                if show_derivative
            }
            limit_curves = [*outputs.values(), *derivatives.values()]
            if "leaky_relu" in chosen:  # fit the steepest slope: the axes stay still as it moves
                steepest = chosen["leaky_relu"].forward(x, negative_slope=MAX_SLOPE)
                limit_curves.append(steepest.numpy())
            dying, units_per_bin = _dying_relu(
                bias_shift, learning_rate, negative_slope if leaky else 0.0
            )
        return ActivationView(
            x=x.numpy(),
            outputs=outputs,
            derivatives=derivatives,
            xlim=coarse_limits(low, high, X_STEP),
            ylim=_round_out(*limit_curves),
            dying=dying,
            units_per_bin=units_per_bin,
        )

    def summarize(self, view: ActivationView) -> dict[str, Any]:
        facts = {name: _facts(ACTIVATIONS[name]) for name in view.outputs}
        return {
            **facts,
            "dead_units": f"{view.dying.dead_units} of {view.dying.units}",
            "dead_fraction": Share(view.dying.dead_fraction),
            "gradient_norm": view.dying.gradient_norm,
        }

    def draw(self, view: ActivationView) -> None:
        for name in ACTIVATIONS:
            self.output_lines[name].set_visible(name in view.outputs)
            self.derivative_lines[name].set_visible(name in view.derivatives)
        for order, name in enumerate(view.outputs):  # the first shown is always blue
            colour = style.SERIES_COLOURS[order % len(style.SERIES_COLOURS)]
            marker = style.SERIES_MARKERS[order % len(style.SERIES_MARKERS)]
            self.output_lines[name].set_data(view.x, view.outputs[name])
            # named for the text alternative (the legend is not in these axes)
            self.output_lines[name].set(
                color=colour, marker=marker, label=ACTIVATIONS[name].display_name
            )
            if name in view.derivatives:
                self.derivative_lines[name].set_data(view.x, view.derivatives[name])
                self.derivative_lines[name].set(color=colour, marker=marker)
        labels = [ACTIVATIONS[name].display_name for name in view.outputs]
        keys = list(self.style_keys) if view.derivatives else []
        if self.legend is None or [t.get_text() for t in self.legend.texts] != labels + keys:
            if self.legend is not None:
                self.legend.remove()
            handles = [self.output_lines[name] for name in view.outputs]
            handles += [self.style_keys[key] for key in keys]
            self._legend_ax.set_position(self.curves_ax.get_position())
            self.legend = self._legend_ax.legend(handles, labels + keys, loc="upper left")
            self._legend_canvas.draw()
            box = self.legend.get_window_extent(self._legend_canvas.get_renderer())
            left, top = math.floor(box.x0), math.ceil(box.y1)  # in pixels from the bottom left
            pixels = np.asarray(self._legend_canvas.buffer_rgba())  # rows from the top
            height = len(pixels)
            rows = slice(height - top, height - max(math.floor(box.y0), 0))
            self.legend_picture.set_data(pixels[rows, left : math.ceil(box.x1)].copy())
            self._legend_box.xy = self._legend_box.xybox = (left, top)  # the box's top left
        set_limits(self.curves_ax, xlim=view.xlim, ylim=view.ylim)

        self.unit_histogram.set_data(values=view.units_per_bin)
        set_limits(self.units_ax, ylim=(0, view.dying.units))

    def layouts(self, view: ActivationView) -> tuple[Hashable, ...]:
        return (view.xlim, view.ylim), view.dying.units


@functools.lru_cache(maxsize=64)
def _dying_relu(
    bias_shift: float, learning_rate: float, negative_slope: float
) -> tuple[DyingReluResult, np.ndarray]:
    """The experiment and its histogram, cached apart: the curve controls do not change them."""
    dying = dying_relu(bias_shift, learning_rate, negative_slope)
    return dying, np.histogram(dying.active_fraction, bins=BINS)[0]


def _params(activation: Activation, negative_slope: float) -> dict[str, float]:
    """The slider's negative_slope for the activations that take one; defaults otherwise."""
    return (
        {"negative_slope": negative_slope} if "negative_slope" in activation.default_params else {}
    )


def _round_out(*curves: np.ndarray) -> tuple[float, float]:
    """y limits covering `curves`, rounded out to multiples of Y_STEP so they rarely change."""
    low = min(0.0, *(float(c.min()) for c in curves))
    high = max(1.0, *(float(c.max()) for c in curves))
    margin = 0.05 * (high - low)
    return coarse_limits(low - margin, high + margin, Y_STEP)


def _facts(activation: Activation) -> str:
    """One line: range, zero-centred, monotonic, cost. (Not where f' is 0: lab 01's Exercise 3
    asks the learner to reason that out from the formulas.)"""
    return "; ".join(
        [
            f"range {activation.output_range}",
            "zero-centred" if activation.zero_centred else "not zero-centred",
            "monotonic" if activation.monotonic else "not monotonic",
            f"cost: {activation.relative_cost}",
        ]
    )
