"""LayerExplorer (lab 2): parameters and MACs of one layer, from its hyper-parameters.

Left panel: params and MACs of the layer (log scale), and of a standard conv next to a
depthwise-separable conv (depthwise k x k, then pointwise 1 x 1) of the same shape.
Right panel: how both grow with one hyper-parameter, on log-log axes where a power law is a
straight line (MACs ~ kernel_size**2: slope 2), the current setting marked.
The exact counts are readouts; the y axes hold every count the sliders can reach, so a step
moves bars and lines only (the layouts, one per sweep and per number of bar groups, are drawn at
start).
Counts come from widgets.core.layers (batch of 1), so they are exact, for any size, instantly.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, StrMethodFormatter

from widgets.core.layers import LayerCost, layer_cost

from . import style
from .base import Explorer, set_limits

KINDS = {  # layer kind -> label in the menu
    "conv2d": "conv2d (standard or grouped)",
    "depthwise_conv2d": "depthwise conv2d",
    "linear": "linear (on the flattened C x H x W input)",
    "maxpool2d": "max pool",
    "avgpool2d": "average pool",
}
SLIDERS = {  # hyper-parameter -> (default, min, max, description)
    "in_channels": (64, 1, 512, "in channels"),
    "out_channels": (128, 1, 512, "out channels"),
    "kernel_size": (3, 1, 11, "kernel size"),
    "stride": (1, 1, 4, "stride"),
    "padding": (1, 0, 5, "padding"),
    "dilation": (1, 1, 4, "dilation"),
    "groups": (1, 1, 64, "groups"),
    "input_size": (56, 1, 224, "input size H = W"),
}
HYPER_PARAMETERS = (*SLIDERS, "bias")
USES = {  # the hyper-parameters each kind uses; the other controls are greyed out
    "conv2d": HYPER_PARAMETERS,
    "depthwise_conv2d": ("in_channels", "out_channels", "kernel_size", "stride", "padding",
                         "dilation", "input_size", "bias"),
    "linear": ("in_channels", "out_channels", "input_size", "bias"),
    "maxpool2d": ("in_channels", "kernel_size", "stride", "padding", "dilation", "input_size"),
    "avgpool2d": ("in_channels", "kernel_size", "stride", "padding", "input_size"),
}  # fmt: skip
SWEEPS = tuple(name for name in SLIDERS if name != "padding")  # log axes need values >= 1
# the y axes: above the largest count the sliders reach (conv2d 512 -> 512 channels, 11 x 11
# kernel, 224 x 224 output: 1.6e12 MACs) with room for the legend
COUNT_LIMITS = (1.0, 1e14)
COLUMNS = ("this layer", "standard\nconv", "depthwise +\npointwise")  # the bar groups


@dataclass(frozen=True)
class LayerView:
    """What the explorer shows for one setting."""

    cost: LayerCost
    standard: LayerCost | None  # the comparison, for convolutions when asked
    separable: LayerCost | None  # depthwise + pointwise, params and MACs summed
    sweep: str  # the hyper-parameter on the right panel's x axis
    sweep_values: np.ndarray  # its values
    sweep_params: np.ndarray  # params at each value, nan where the setting is invalid
    sweep_macs: np.ndarray
    current: int  # the value of the swept hyper-parameter now


class LayerExplorer(Explorer):
    """Params, MACs, output shape and formulas of one layer; invalid settings say why.

    LayerExplorer(kind="conv2d", kernel_size=5, hide=["dilation"])
    """

    readout_labels: ClassVar[dict[str, str]] = {
        "macs": "MACs",
        "params_formula": "params formula",
        "macs_formula": "MACs formula",
        "standard_macs": "standard conv MACs",
        "separable_macs": "depthwise + pointwise MACs",
        "macs_saving": "standard / separable MACs",
    }
    panel_widths = (1, 1)

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        sliders = {
            name: ipywidgets.IntSlider(value=value, min=low, max=high, description=description)
            for name, (value, low, high, description) in SLIDERS.items()
        }
        return {
            "kind": ipywidgets.Dropdown(
                options=[(label, kind) for kind, label in KINDS.items()], description="layer"
            ),
            **sliders,
            "bias": ipywidgets.Checkbox(value=True, description="bias"),
            "compare": ipywidgets.Checkbox(value=True, description="compare depthwise-separable"),
            "sweep": ipywidgets.Dropdown(
                options=[(SLIDERS[name][3], name) for name in SWEEPS],
                value="kernel_size",
                description="sweep",
            ),
        }

    def make_figure(self, bars_figure: Figure, sweep_figure: Figure) -> None:
        self.bars_ax = bars_figure.add_subplot(
            yscale="log", ylim=COUNT_LIMITS, ylabel="count (batch of 1)", title="One forward pass"
        )
        self.bars_ax.grid(axis="x", visible=False)
        self.bars_ax.set_xticks(range(len(COLUMNS)), COLUMNS)
        self.bars = {}  # (quantity, column) -> bar; the readouts hold the numbers
        for quantity, label, colour, offset, hatch in (
            ("params", "params", style.PARAMS_COLOUR, -0.2, None),
            ("macs", "MACs", style.MACS_COLOUR, 0.2, style.SECOND_BARS_HATCH),
        ):
            for column in range(len(COLUMNS)):
                self.bars[quantity, column] = self.bars_ax.bar(
                    column + offset, 1, width=0.4, color=colour, hatch=hatch, edgecolor="white",
                    linewidth=0, label=label, animated=True,  # (label: the text alternative's)
                )[0]  # fmt: skip
        self.bars_ax.legend(
            [self.bars["params", 0], self.bars["macs", 0]], ["params", "MACs"], loc="upper left"
        )

        self.sweep_ax = sweep_figure.add_subplot(
            xscale="log", yscale="log", ylim=COUNT_LIMITS, xlim=(1, 11),
            xlabel=SLIDERS["kernel_size"][3], title="Growth with one hyper-parameter",
        )  # fmt: skip
        self.sweep_ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))  # 1 2 5 10 20 50...
        self.sweep_ax.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
        for ax in (self.bars_ax, self.sweep_ax):
            ax.minorticks_off()  # ~200 minor ticks on log axes would double the drawing time
        self.sweep_lines = {
            quantity: self.sweep_ax.plot(
                [], [], line_style, color=colour, label=label, markersize=4, animated=True
            )[0]
            for quantity, line_style, colour, label in (
                ("params", "o-", style.PARAMS_COLOUR, "params"),
                ("macs", "s--", style.MACS_COLOUR, "MACs"),
            )
        }  # fmt: skip
        (self.current_marker,) = self.sweep_ax.plot(
            [], [], "o", markersize=8, markerfacecolor="none", color=style.CURRENT_COLOUR,
            label="this setting", animated=True,
        )  # fmt: skip
        self.sweep_ax.legend(loc="upper left")

    def compute(self, kind: str, compare: bool, sweep: str, **settings: Any) -> LayerView:
        """`settings` are the HYPER_PARAMETERS controls, by name."""
        cost = layer_cost(kind, **layer_arguments(kind, **settings))
        standard = separable = None
        if compare and kind in ("conv2d", "depthwise_conv2d"):
            standard, separable = _standard_and_separable(**settings)
        values = _sweep_values(sweep, settings[sweep])
        swept = [_cost_or_none(kind, {**settings, sweep: int(value)}) for value in values]
        return LayerView(
            cost=cost,
            standard=standard,
            separable=separable,
            sweep=sweep,
            sweep_values=values,
            sweep_params=np.array([c.params if c else math.nan for c in swept]),
            sweep_macs=np.array([c.macs if c else math.nan for c in swept]),
            current=settings[sweep],
        )

    def summarize(self, view: LayerView) -> dict[str, Any]:
        cost = view.cost
        readouts = {
            "params": cost.params,
            "macs": cost.macs,
            "output_shape": cost.output_shape,
            "params_formula": cost.params_formula,
            "macs_formula": cost.macs_formula,
        }
        if view.standard is not None and view.separable is not None:
            readouts["standard_macs"] = view.standard.macs
            readouts["separable_macs"] = view.separable.macs
            readouts["macs_saving"] = view.standard.macs / view.separable.macs
        return readouts

    def draw(self, view: LayerView) -> None:
        for name, control in self.controls.items():
            control.disabled = name in HYPER_PARAMETERS and name not in USES[view.cost.kind]

        compared = view.standard is not None
        columns = (view.cost, view.standard, view.separable) if compared else (view.cost,)
        set_limits(self.bars_ax, xlim=(-0.5, len(columns) - 0.5))
        for (quantity, column), bar in self.bars.items():
            bar.set_visible(column < len(columns))
            if column < len(columns):
                bar.set_height(getattr(columns[column], quantity))

        for quantity, line in self.sweep_lines.items():
            line.set_data(view.sweep_values, getattr(view, f"sweep_{quantity}"))
        self.current_marker.set_data([view.current] * 2, [view.cost.params, view.cost.macs])
        xlabel = SLIDERS[view.sweep][3]
        if self.sweep_ax.get_xlabel() != xlabel:
            self.sweep_ax.set_xlabel(xlabel)
        set_limits(self.sweep_ax, xlim=(view.sweep_values[0] / 1.2, view.sweep_values[-1] * 1.2))

    def layouts(self, view: LayerView) -> tuple[Hashable, ...]:
        return view.standard is not None, view.sweep  # bar groups shown; the swept parameter

    def warm_up(self) -> None:
        """Draw every layout (~0.3 s): a conv with and without its comparison, each sweep."""
        self.draw_ahead(
            [{"kind": "conv2d", "compare": compare} for compare in (False, True)]
            + [{"sweep": sweep} for sweep in SWEEPS]
        )


def layer_arguments(
    kind: str,
    *,
    in_channels: int,
    out_channels: int,
    kernel_size: int,
    stride: int,
    padding: int,
    dilation: int,
    groups: int,
    input_size: int,
    bias: bool,
) -> dict[str, Any]:
    """The keyword arguments of `layer_cost(kind, ...)`: torch's, plus the input of batch 1."""
    if kind == "linear":  # on the flattened input, as after nn.Flatten
        features = in_channels * input_size * input_size
        return dict(
            input_shape=(1, features), in_features=features, out_features=out_channels, bias=bias
        )
    given = dict(
        in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size,
        stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias,
    )  # fmt: skip
    used = {name: given[name] for name in USES[kind] if name in given}
    if kind.endswith("pool2d"):  # pooling keeps the channels: not a constructor argument
        del used["in_channels"]
    return {"input_shape": (1, in_channels, input_size, input_size), **used}


def _standard_and_separable(**settings: Any) -> tuple[LayerCost, LayerCost]:
    """A standard conv2d, and a depthwise conv then a 1 x 1 conv with the same input and output.

    The separable pair's params and MACs are the sums of its two layers.
    """
    settings = {**settings, "groups": 1}
    standard = layer_cost("conv2d", **layer_arguments("conv2d", **settings))
    depthwise_settings = {**settings, "out_channels": settings["in_channels"]}
    depthwise = layer_cost(
        "depthwise_conv2d", **layer_arguments("depthwise_conv2d", **depthwise_settings)
    )
    pointwise = layer_cost(
        "conv2d", input_shape=depthwise.output_shape, in_channels=settings["in_channels"],
        out_channels=settings["out_channels"], kernel_size=1, bias=settings["bias"],
    )  # fmt: skip
    separable = LayerCost(
        kind="depthwise + pointwise",
        params=depthwise.params + pointwise.params,
        macs=depthwise.macs + pointwise.macs,
        output_shape=pointwise.output_shape,
        params_formula=f"{depthwise.params:,} + {pointwise.params:,}",
        macs_formula=f"{depthwise.macs:,} + {pointwise.macs:,}",
    )
    return standard, separable


def _sweep_values(name: str, current: int) -> np.ndarray:
    """The slider's whole range if short, else ~20 log-spaced values; with the current one."""
    _, low, high, _ = SLIDERS[name]
    values = np.arange(low, high + 1) if high - low <= 16 else np.geomspace(low, high, 20).round()
    return np.unique(np.append(values, current))


def _cost_or_none(kind: str, settings: dict[str, Any]) -> LayerCost | None:
    """The layer's cost, or None where this setting is invalid (a gap in the sweep)."""
    try:
        return layer_cost(kind, **layer_arguments(kind, **settings))
    except ValueError:
        return None
