"""ReceptiveFieldExplorer (lab 2): which input pixels one output of a stack of convolutions sees.

Left: the input image, the pixels the middle output of the last layer depends on in blue (a
k x k convolution treats both axes alike, so the 2-D set is the product of the 1-D sets).
Right: the receptive field's width against the number of layers, at stride 1 and at the stride
chosen, beside the image width: at stride 1 it grows by (k - 1) d pixels a layer, with
downsampling it multiplies. Numbers from widgets.core.receptive_field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from widgets.core.receptive_field import (
    ReceptiveField,
    layers_to_see_all,
    receptive_field,
    receptive_field_size,
)

from . import style
from .base import Explorer

MAX_LAYERS = 12  # on the slider and the right panel's x axis
FIELD_LIMITS = (1, 1e4)  # pixels: the right panel's y axis, fixed so it stays still
UNSEEN_COLOUR = "#EEEEEE"


@dataclass(frozen=True)
class ReceptiveFieldView:
    """What the explorer shows for one setting."""

    field: ReceptiveField
    padding: int
    layer_counts: np.ndarray  # 1 .. MAX_LAYERS
    sizes: np.ndarray  # the receptive field's width after each count of layers, this stride
    sizes_stride_1: np.ndarray  # the same at stride 1
    layers_needed: int | None  # to see the whole input width, this stride
    layers_needed_stride_1: int | None


class ReceptiveFieldExplorer(Explorer):
    """L stacked k x k convolutions (stride s, dilation d): the input pixels one output sees.

    ReceptiveFieldExplorer(layers=3, kernel_size=5, stride=2)
    """

    panel_widths = (1, 1)
    readout_labels: ClassVar[dict[str, str]] = {
        "output_sizes": "image size, then output size after each layer (H = W)",
        "receptive_field": "receptive field (pixels, per axis)",
        "pixels_seen": "input pixels one output sees",
        "fraction_seen": "fraction of the image it sees",
        "jump": "input pixels between neighbouring outputs",
        "layers_needed": "layers to see the whole width, this stride",
        "layers_needed_stride_1": "layers to see the whole width, stride 1",
    }

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        def slider(value: int, low: int, high: int, description: str) -> ipywidgets.IntSlider:
            return ipywidgets.IntSlider(value=value, min=low, max=high, description=description)

        return {
            "layers": slider(4, 1, MAX_LAYERS, "layers L"),
            "kernel_size": slider(3, 1, 7, "kernel size k"),
            "stride": slider(1, 1, 4, "stride s"),
            "dilation": slider(1, 1, 4, "dilation d"),
            "padded": ipywidgets.Checkbox(value=False, description="zero padding (k-1)d/2"),
            "input_size": slider(32, 4, 256, "image size H = W"),
        }

    def make_figure(self, image_figure: Figure, growth_figure: Figure) -> None:
        self.image_ax = image_figure.add_subplot()
        self.growth_ax = growth_figure.add_subplot()
        # the image fills fixed axes whatever its size (no ticks to renumber: a new size only
        # swaps the pixels); the readouts give the sizes
        self.image_ax.set(
            xlim=(0, 1), ylim=(1, 0), xticks=[], yticks=[], aspect="equal",
            xlabel="input columns", ylabel="input rows",
            title="Input pixels the middle output sees (blue)",
        )  # fmt: skip
        self.image_ax.grid(False)
        colours = ListedColormap([UNSEEN_COLOUR, style.PARAMS_COLOUR])
        self.image = self.image_ax.imshow(
            np.zeros((1, 1)), cmap=colours, vmin=0, vmax=1, interpolation="nearest",
            extent=(0, 1, 1, 0), animated=True,
        )  # fmt: skip

        self.growth_ax.set(
            xlabel="layers L", ylabel="receptive field (pixels)", yscale="log",
            xlim=(0.5, MAX_LAYERS + 0.5), ylim=FIELD_LIMITS, title="Receptive field vs depth",
        )  # fmt: skip
        self.growth_ax.set_xticks(range(1, MAX_LAYERS + 1))
        self.growth_ax.minorticks_off()
        (self.stride_1_line,) = self.growth_ax.plot(
            [], [], ".:", color=style.GREY, label="stride 1", animated=True
        )
        (self.stride_line,) = self.growth_ax.plot(
            [], [], ".-", color=style.PARAMS_COLOUR, label="stride s (this setting)", animated=True
        )
        (self.image_line,) = self.growth_ax.plot(
            [0.5, MAX_LAYERS + 0.5], [1, 1], "--", color=style.VERMILLION,
            label="image width", animated=True,
        )  # fmt: skip
        (self.current_marker,) = self.growth_ax.plot(
            [], [], "o", markersize=8, markerfacecolor="none", color=style.CURRENT_COLOUR,
            label="L layers", animated=True,
        )  # fmt: skip
        self.growth_ax.legend(loc="upper left")

    def compute(
        self,
        layers: int,
        kernel_size: int,
        stride: int,
        dilation: int,
        padded: bool,
        input_size: int,
    ) -> ReceptiveFieldView:
        padding = dilation * (kernel_size - 1) // 2 if padded else 0
        field = receptive_field(input_size, layers, kernel_size, stride, dilation, padding)
        counts = np.arange(1, MAX_LAYERS + 1)
        return ReceptiveFieldView(
            field=field,
            padding=padding,
            layer_counts=counts,
            sizes=np.array(
                [receptive_field_size(n, kernel_size, stride, dilation) for n in counts], float
            ),
            sizes_stride_1=np.array(
                [receptive_field_size(n, kernel_size, 1, dilation) for n in counts], float
            ),
            layers_needed=layers_to_see_all(input_size, kernel_size, stride, dilation),
            layers_needed_stride_1=layers_to_see_all(input_size, kernel_size, 1, dilation),
        )

    def summarize(self, view: ReceptiveFieldView) -> dict[str, Any]:
        field = view.field
        never = "never (kernel size 1)"
        return {
            "output_sizes": " → ".join(
                str(size) for size in (field.input_size, *field.output_sizes)
            ),
            "receptive_field": field.size,
            "pixels_seen": field.pixels_seen**2,
            "fraction_seen": field.fraction_seen**2,
            "jump": field.jump,
            "layers_needed": never if view.layers_needed is None else view.layers_needed,
            "layers_needed_stride_1": (
                never if view.layers_needed_stride_1 is None else view.layers_needed_stride_1
            ),
        }

    def draw(self, view: ReceptiveFieldView) -> None:
        field = view.field
        seen = field.seen[:, None] & field.seen[None, :]
        self.image.set_data(seen.astype(float))

        self.stride_line.set_data(view.layer_counts, view.sizes)
        self.stride_1_line.set_data(view.layer_counts, view.sizes_stride_1)
        self.image_line.set_ydata([field.input_size] * 2)
        layers = len(field.output_sizes)
        self.current_marker.set_data([layers], [field.size])
