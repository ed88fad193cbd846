"""NormalizationExplorer (lab 2): which numbers batch, layer, instance and group norm average.

Left: the input drawn as the lecture draws it, a block of N samples x C channels x H*W positions
(H x W on one axis, its H rows drawn thin); in blue the numbers that share one mean and variance with the first
number. Right: every (sample, channel) slice of H*W numbers as one cell, a block of cells of one
shade per mean: the number of blocks is the number of means the layer computes.
Numbers from widgets.core.normalization; params from widgets.core.layers (torch's defaults).
"""

from __future__ import annotations

from typing import Any, ClassVar

import ipywidgets
import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from widgets.core.normalization import NORMALIZATIONS, NormalizationView, normalization

from . import style
from .base import Explorer

# the drawn block, in axes data units: the front face (channels x positions) and the depth
# vector along which the samples go back
FRONT_WIDTH, FRONT_HEIGHT = 6.0, 4.0
DEPTH = np.array([2.4, 1.8])
FACE_COLOURS = ("#F2F2F2", "#E0E0E0", "#D0D0D0")  # front, top, right: a lit block
# cell shades of the right panel: two alternating greys, then the highlighted block
CELL_COLOURS = ListedColormap(["#E6E6E6", "#C8C8C8", style.PARAMS_COLOUR])


def _point(channel: float, height: float, sample: float) -> tuple[float, float]:
    """Where the fractions (channel, height, sample) of the block are drawn; sample 0 in front."""
    x = channel * FRONT_WIDTH + sample * DEPTH[0]
    y = height * FRONT_HEIGHT + sample * DEPTH[1]
    return x, y


def _faces(c0: float, c1: float, n0: float, n1: float) -> tuple[list, list, list]:
    """Front, top and right faces of the block spanning channels c0..c1 and samples n0..n1
    (fractions) and every position."""
    front = [_point(c0, 0, n0), _point(c1, 0, n0), _point(c1, 1, n0), _point(c0, 1, n0)]
    top = [_point(c0, 1, n0), _point(c1, 1, n0), _point(c1, 1, n1), _point(c0, 1, n1)]
    right = [_point(c1, 0, n0), _point(c1, 0, n1), _point(c1, 1, n1), _point(c1, 1, n0)]
    return front, top, right


def _grid(batch: int, channels: int) -> list[list[tuple[float, float]]]:
    """Lines between the channels (front and top faces) and between the samples (top, right)."""
    lines = []
    for c in np.arange(1, channels) / channels:
        lines.append([_point(c, 0, 0), _point(c, 1, 0)])
        lines.append([_point(c, 1, 0), _point(c, 1, 1)])
    for n in np.arange(1, batch) / batch:
        lines.append([_point(0, 1, n), _point(1, 1, n)])
        lines.append([_point(1, 0, n), _point(1, 1, n)])
    return lines


def _rows(height: int) -> list[list[tuple[float, float]]]:
    """Thin lines between the H rows (of W positions each) on the front and right faces."""
    lines = []
    for h in np.arange(1, height) / height:
        lines.append([_point(0, h, 0), _point(1, h, 0)])
        lines.append([_point(1, h, 0), _point(1, h, 1)])
    return lines


def highlighted_block(ids: np.ndarray) -> tuple[int, int, int, int]:
    """(first sample, last sample + 1, first channel, last channel + 1) of the numbers that
    share their mean with sample 0, channel 0: always a rectangle of (sample, channel) cells."""
    samples, channels = np.nonzero(ids == ids[0, 0])
    return samples.min(), samples.max() + 1, channels.min(), channels.max() + 1


def cell_shades(ids: np.ndarray) -> np.ndarray:
    """0 or 1 alternating from one mean's block of cells to the next; 2 for the first block."""
    sample_block = np.cumsum(np.r_[0, np.any(ids[1:] != ids[:-1], axis=1)])
    channel_block = np.cumsum(np.r_[0, np.any(ids[:, 1:] != ids[:, :-1], axis=0)])
    shades = (sample_block[:, None] + channel_block[None, :]) % 2
    return np.where(ids == ids[0, 0], 2, shades).astype(float)


class NormalizationExplorer(Explorer):
    """Which numbers of an (N, C, H, W) input share one mean and variance, and the params.

    NormalizationExplorer(kind="group", num_groups=2, channels=8)
    """

    panel_widths = (3, 2)
    readout_labels: ClassVar[dict[str, str]] = {
        "module": "torch module",
        "averages_over": "one mean over",
        "numbers_per_mean": "numbers per mean",
        "means": "means (and variances) computed",
        "params": "params (scale and shift)",
        "params_formula": "params formula",
    }

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        def slider(value: int, low: int, high: int, description: str) -> ipywidgets.IntSlider:
            return ipywidgets.IntSlider(value=value, min=low, max=high, description=description)

        kinds = [(norm.title, kind) for kind, norm in NORMALIZATIONS.items()]
        return {
            # group norm first: every slider then changes the picture
            "kind": ipywidgets.ToggleButtons(
                options=kinds, value="group", description="normalization"
            ),
            "num_groups": slider(2, 1, 16, "groups G"),
            "batch": slider(4, 1, 8, "batch N"),
            "channels": slider(6, 1, 16, "channels C"),
            "size": slider(8, 1, 32, "H = W"),
        }

    def make_figure(self, block_figure: Figure, cells_figure: Figure) -> None:
        self.block_ax = block_figure.add_subplot()
        self.cells_ax = cells_figure.add_subplot()
        corner = _point(1, 1, 1)
        self.block_ax.set(xlim=(-1.2, corner[0] + 0.3), ylim=(-0.8, corner[1] + 0.3))
        self.block_ax.set_aspect("equal")
        self.block_ax.set_axis_off()
        self.block_ax.set_title("The input: one mean over the blue numbers")
        for face, colour in zip(_faces(0, 1, 0, 1), FACE_COLOURS, strict=True):
            self.block_ax.add_patch(Polygon(face, facecolor=colour, edgecolor=style.BLACK))
        self.highlight = [
            self.block_ax.add_patch(
                Polygon(face, facecolor=style.PARAMS_COLOUR, edgecolor=style.BLACK, alpha=0.85,
                        animated=True)
            )
            for face in _faces(0, 1, 0, 1)
        ]  # fmt: skip
        self.row_lines = LineCollection([], colors=style.GREY, linewidths=0.3, animated=True)
        self.block_ax.add_collection(self.row_lines)
        self.grid_lines = LineCollection([], colors=style.BLACK, linewidths=0.6, animated=True)
        self.block_ax.add_collection(self.grid_lines)
        self.block_ax.text(FRONT_WIDTH / 2, -0.4, "C (channels)", ha="center", va="center")
        self.block_ax.text(-0.4, FRONT_HEIGHT / 2, "H × W", ha="center", va="center",
                           rotation=90)  # fmt: skip
        depth_label = _point(1, 0, 0.5)
        self.block_ax.text(depth_label[0] + 0.3, depth_label[1] - 0.3, "N (samples)",
                           ha="left", va="center", rotation=37)  # fmt: skip

        # fixed axes whatever N and C (no ticks to renumber): a new grid only swaps the pixels
        self.cells_ax.set(
            xlim=(0, 1), ylim=(1, 0), xticks=[], yticks=[],
            xlabel="channels c → (a cell: H × W numbers)", ylabel="← samples n",
        )  # fmt: skip
        self.cells_ax.set_title("One shade = one mean")
        self.cells_ax.grid(False)
        self.cells = self.cells_ax.imshow(
            np.zeros((1, 1)), cmap=CELL_COLOURS, vmin=0, vmax=2, interpolation="nearest",
            extent=(0, 1, 1, 0), aspect="auto", animated=True,
        )  # fmt: skip
        self.cell_borders = LineCollection([], colors="white", linewidths=1, animated=True)
        self.cells_ax.add_collection(self.cell_borders)

    def compute(
        self, kind: str, num_groups: int, batch: int, channels: int, size: int
    ) -> NormalizationView:
        return normalization(kind, (batch, channels, size, size), num_groups)

    def summarize(self, view: NormalizationView) -> dict[str, Any]:
        norm = NORMALIZATIONS[view.kind]
        over = norm.averages_over
        if view.kind == "group":
            over = over.replace("C/G", f"C/G = {view.input_shape[1] // view.num_groups}")
        return {
            "module": view.torch_call,
            "averages_over": f"{over} (one per {norm.one_statistic_per})",
            "numbers_per_mean": view.elements_per_statistic,
            "means": view.statistics,
            "params": view.cost.params,
            "params_formula": view.cost.params_formula,
        }

    def draw(self, view: NormalizationView) -> None:
        self.controls["num_groups"].disabled = view.kind != "group"
        batch, channels = view.ids.shape
        n0, n1, c0, c1 = highlighted_block(view.ids)
        faces = _faces(c0 / channels, c1 / channels, n0 / batch, n1 / batch)
        for patch, face in zip(self.highlight, faces, strict=True):
            patch.set_xy(face)
        self.highlight[2].set_visible(c1 == channels)  # otherwise hidden behind the next channels
        self.grid_lines.set_segments(_grid(batch, channels))
        self.row_lines.set_segments(_rows(view.input_shape[2]))

        self.cells.set_data(cell_shades(view.ids))
        self.cell_borders.set_segments(
            [[(c, 0), (c, 1)] for c in np.arange(1, channels) / channels]
            + [[(0, n), (1, n)] for n in np.arange(1, batch) / batch]
        )
