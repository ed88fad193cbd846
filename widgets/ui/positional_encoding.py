"""PositionalEncodingExplorer (lab 3): the sinusoidal positional encoding, as a heat map.

Left: PE[position, dimension] of widgets.core.tokens.sinusoidal_positional_encoding, from -1
(red) to 1 (blue). Column 2i is sin(pos / 10000^(2i / d_model)), column 2i + 1 the cosine of the
same angle: the first columns change fast along the positions, the last ones hardly at all.
Right: a few columns against the position: sine waves whose wavelength grows with the dimension
(the low, middle and high column; their numbers are a readout, so a step only moves the lines).
Each row (a position) is a different pattern of numbers in [-1, 1], added to the token vectors.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any, ClassVar

import ipywidgets
import numpy as np
import torch
from matplotlib.figure import Figure

from widgets.core.latency import using_threads
from widgets.core.tokens import sinusoidal_positional_encoding

from . import style
from .base import Explorer, set_limits

LINE_COLOURS = (style.BLUE, style.VERMILLION, style.GREEN)
LINE_STYLES = ("-", "--", ":")  # the lines differ without their colours too
LINE_NAMES = ("low", "middle", "high")  # which of shown_columns, in the legend
# the axes' limits: the smallest of these that holds d_model or positions (the sliders' range is
# 8 to 512). Three layouts per axis, drawn at start: a step never draws a panel in full, and a
# value above 64 fills at least 3/8 of its axis
AXIS_LENGTHS = (64, 192, 512)


def shown_columns(d_model: int) -> list[int]:
    """The sine columns drawn on the right: d_model / 8, d_model / 4 and d_model / 2, rounded to
    even (wavelengths of ~20, ~60 and ~630 positions, whatever d_model)."""
    return sorted({2 * max(1, d_model // divisor // 2) for divisor in (8, 4, 2)})


class PositionalEncodingExplorer(Explorer):
    """The sinusoidal positional encoding for `positions` tokens of `d_model` features.

    PositionalEncodingExplorer(d_model=128, positions=100)
    """

    panel_widths = (1.3, 1)
    readout_labels: ClassVar[dict[str, str]] = {
        "shape": "shape (positions × d_model)",
        "fastest_wavelength": "wavelength of columns 0, 1 (positions)",
        "slowest_wavelength": "wavelength of the last columns (positions)",
        "value_range": "values",
        "columns": "columns drawn on the right (low, middle, high)",
    }

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        return {
            "d_model": ipywidgets.IntSlider(
                value=64, min=8, max=512, step=8, description="d_model"
            ),
            "positions": ipywidgets.IntSlider(
                value=64,
                min=8,
                max=512,
                step=8,
                description="positions (tokens)",
            ),
        }

    def make_figure(self, map_figure: Figure, lines_figure: Figure) -> None:
        self.map_ax = map_figure.add_subplot()
        self.lines_ax = lines_figure.add_subplot()
        self.map_ax.grid(False)
        self.map_ax.set(xlabel="dimension (column)", ylabel="position (token)",
                        title="PE[position, dimension]")  # fmt: skip
        # nearest sampling of the values, then their colours: the same pixels as colouring every
        # value first, in a fifth of the time for 512 x 512 values
        self.image = self.map_ax.imshow(
            np.zeros((1, 1)), cmap="RdBu", vmin=-1, vmax=1, aspect="auto",
            interpolation="nearest", interpolation_stage="data", animated=True,
        )  # fmt: skip
        self.map_ax.set_autoscale_on(False)  # a new extent must not move the limits: draw does
        map_figure.colorbar(self.image, ax=self.map_ax, fraction=0.05)
        self.lines_ax.set(xlabel="position (token)", ylabel="PE value", ylim=(-1.1, 1.1))
        self.lines = [
            self.lines_ax.plot([], [], line_style, color=colour, animated=True)[0]
            for colour, line_style in zip(LINE_COLOURS, LINE_STYLES, strict=True)
        ]
        self.legend_texts = [  # the line's style, then its name
            self.lines_ax.text(
                0.02 + 0.33 * i, 1.02, f"{style.SERIES_LINESTYLES[line_style]} {name}",
                transform=self.lines_ax.transAxes, ha="left", va="bottom", color=colour,
            )
            for i, (colour, line_style, name) in enumerate(
                zip(LINE_COLOURS, LINE_STYLES, LINE_NAMES, strict=True)
            )
        ]  # fmt: skip

    def compute(self, d_model: int, positions: int) -> torch.Tensor:
        # one thread: while another program keeps a core busy, waiting threads turn ~1 ms into ~50
        with using_threads(1):
            return sinusoidal_positional_encoding(positions, d_model)

    def summarize(self, encoding: torch.Tensor) -> dict[str, Any]:
        positions, d_model = encoding.shape
        values = encoding.numpy()  # numpy: one thread
        last_pair = 2 * ((d_model - 1) // 2)
        return {
            "shape": (positions, d_model),
            "fastest_wavelength": 2 * math.pi,
            "slowest_wavelength": 2 * math.pi * 10000 ** (last_pair / d_model),
            "value_range": f"{values.min():.3f} to {values.max():.3f}",
            "columns": ", ".join(map(str, shown_columns(d_model))),
        }

    def draw(self, encoding: torch.Tensor) -> None:
        positions, d_model = encoding.shape
        values = encoding.numpy()
        self.image.set_data(values)
        self.image.set_extent((-0.5, d_model - 0.5, positions - 0.5, -0.5))
        columns_shown, positions_shown = _axis_length(d_model), _axis_length(positions)
        set_limits(self.map_ax, (-0.5, columns_shown - 0.5), (positions_shown - 0.5, -0.5))
        set_limits(self.lines_ax, (0, positions_shown - 1))
        columns = shown_columns(d_model)
        for index, (line, text) in enumerate(zip(self.lines, self.legend_texts, strict=True)):
            shown = index < len(columns)
            line.set_visible(shown)
            if text.get_visible() != shown:  # redraws the panel: the layout says so
                text.set_visible(shown)
            if shown:
                line.set_data(np.arange(positions), values[:, columns[index]])
                line.set_label(f"column {columns[index]}")  # for the text alternative

    def layouts(self, encoding: torch.Tensor) -> tuple[Hashable, ...]:
        positions, d_model = encoding.shape
        lines = len(shown_columns(d_model))  # 2 for the smallest d_model
        return (_axis_length(d_model), _axis_length(positions)), (_axis_length(positions), lines)

    def warm_up(self) -> None:
        """Draw the layouts of every pair of AXIS_LENGTHS, and of the smallest d_model (~0.6 s)."""
        d_models = (*AXIS_LENGTHS, self.controls["d_model"].min)
        self.draw_ahead(
            {"d_model": d_model, "positions": positions}
            for d_model in d_models
            for positions in AXIS_LENGTHS
        )


def _axis_length(n: int) -> int:
    """The axis' limit for n columns or positions: the smallest AXIS_LENGTHS that holds them."""
    return next(length for length in AXIS_LENGTHS if n <= length)
