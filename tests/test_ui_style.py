"""The explorers' colours under colour-vision deficiencies, series told apart without colour, and
the contrast of their text."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

import widgets
from widgets.core.activations import ACTIVATIONS
from widgets.ui import style

# Machado, Oliveira and Fernandes (2009), severity 1: linear RGB -> linear RGB as seen
DEFICIENCIES = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                   [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                     [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                   [0.004733, 0.691367, 0.303900]],
}  # fmt: skip
MIN_DELTA_E = 15  # CIE76 distance in Lab: two series' colours are told apart at a glance


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _linear(c: np.ndarray) -> np.ndarray:
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _lab(linear_rgb: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    x, y, z = (xyz @ np.clip(linear_rgb, 0, 1)) / np.array([0.95047, 1.0, 1.08883])
    f = [np.cbrt(v) if v > 0.008856 else 7.787 * v + 16 / 116 for v in (x, y, z)]
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def _luminance(hex_colour: str) -> float:
    return float(np.array([0.2126, 0.7152, 0.0722]) @ _linear(_rgb(hex_colour)))


def contrast(foreground: str, background: str) -> float:
    """WCAG 2.1 contrast ratio, 1 to 21."""
    light, dark = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("deficiency", sorted(DEFICIENCIES))
def test_every_pair_of_series_colours_stays_distinct(deficiency: str) -> None:
    seen = {
        c: _lab(np.array(DEFICIENCIES[deficiency]) @ _linear(_rgb(c))) for c in style.SERIES_COLOURS
    }
    closest = min(
        (float(np.linalg.norm(seen[a] - seen[b])), a, b)
        for a, b in itertools.combinations(style.SERIES_COLOURS, 2)
    )
    assert closest[0] >= MIN_DELTA_E, closest


def test_text_contrast_is_at_least_aa() -> None:
    white = "#FFFFFF"
    assert contrast("#555555", white) >= 4.5  # readout names (READOUT_NAME_CSS)
    assert "color:var(--jp-content-font-color2,#555)" in style.READOUT_NAME_CSS  # and the theme's
    assert contrast("#664d03", "#fff3cd") >= 4.5  # the warning box (WARNING_CSS)
    assert "color:#664d03" in style.WARNING_CSS and "background:#fff3cd" in style.WARNING_CSS
    assert contrast(style.BLACK, white) == pytest.approx(21)  # axis labels and ticks
    assert contrast(style.TEXT_GREY, white) >= 4.5  # grey text in the pictures


def _look(handle: Any) -> tuple:
    """What tells a legend entry apart, colour aside: line style, marker, fill, hatch."""
    if isinstance(handle, Line2D):
        return ("line", handle.get_linestyle(), handle.get_marker(), handle.get_fillstyle())
    if isinstance(handle, PathCollection):
        return ("points", tuple(map(tuple, handle.get_paths()[0].vertices.round(3))))
    if isinstance(handle, Patch):
        return ("patch", handle.get_hatch())
    return (type(handle).__name__,)


def _legend_entries(explorer: Any) -> list[tuple[str, list]]:
    legends = [ax.get_legend() for figure in explorer.figures for ax in figure.axes]
    legends.append(getattr(explorer, "legend", None))  # ActivationExplorer's, drawn apart
    return [
        (
            f"{type(explorer).__name__} {legend.get_texts()[0].get_text()!r}...",
            legend.legend_handles,
        )
        for legend in legends
        if legend is not None
    ]


EXPLORERS = sorted(name for name in widgets.__all__ if name.endswith("Explorer"))


@pytest.mark.parametrize("name", EXPLORERS)
def test_every_legend_entry_is_told_apart_without_colour(name: str) -> None:
    explorer = getattr(widgets, name)()
    if name == "ActivationExplorer":  # every activation at once, with its derivative
        explorer.set(activations=tuple(ACTIVATIONS), show_derivative=True)
    for where, handles in _legend_entries(explorer):
        looks = [_look(handle) for handle in handles]
        assert len(set(looks)) == len(looks), f"{where}: {looks}"


def test_the_positional_encoding_lines_are_named_with_their_style() -> None:
    explorer = widgets.PositionalEncodingExplorer()
    for line, text in zip(explorer.lines, explorer.legend_texts, strict=True):
        if line.get_visible():
            assert text.get_text().startswith(style.SERIES_LINESTYLES[line.get_linestyle()])
