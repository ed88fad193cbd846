"""Stamped text looks like matplotlib's own, and a picture does not depend on the cache."""

from __future__ import annotations

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from widgets.ui import text_stamps
from widgets.ui.text_stamps import StampingCanvas


def figure_with_text() -> Figure:
    figure = Figure(figsize=(4, 2), dpi=100)
    ax = figure.add_subplot(xlabel="input x", ylabel="f(x), rotated", title="A title")
    ax.set_xlim(-4.3, 4.7)
    ax.text(0.5, 0.5, "dead: 3 of 256 units", transform=ax.transAxes, color="#D55E00")
    ax.text(0.1, 0.2, r"$\alpha^2$ (mathtext: not stamped)", transform=ax.transAxes)
    return figure


def pixels(canvas: FigureCanvasAgg) -> np.ndarray:
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).astype(int)


def test_stamped_text_matches_matplotlib_but_for_edge_pixels():
    figure = figure_with_text()
    stamped = pixels(StampingCanvas(figure))
    plain = pixels(FigureCanvasAgg(figure))
    difference = np.abs(stamped - plain).max(axis=-1)
    assert difference.max() <= 96  # anti-aliased glyph edges: text is placed to 1/4 pixel
    assert difference.mean() < 1.0  # out of 255
    ink = lambda image: (image[..., :3] < 128).any(axis=-1)  # noqa: E731
    assert (ink(stamped) != ink(plain)).mean() < 0.005  # the same glyphs in the same places


def test_a_cached_stamp_gives_the_same_pixels_as_a_new_one():
    figure = figure_with_text()
    canvas = StampingCanvas(figure)
    first = pixels(canvas)
    renderer = canvas.get_renderer()
    assert renderer._stamps  # the texts were stamped
    hits = len(renderer._stamps)
    assert np.array_equal(pixels(canvas), first)  # drawn from the cache
    assert len(renderer._stamps) == hits
    assert np.array_equal(pixels(StampingCanvas(figure_with_text())), first)


def test_old_stamps_are_dropped(monkeypatch):
    monkeypatch.setattr(text_stamps, "MAX_STAMPS", 3)
    canvas = StampingCanvas(figure_with_text())
    pixels(canvas)
    assert len(canvas.get_renderer()._stamps) == 3


def test_texts_with_features_and_a_language_list_are_stamped():
    figure = Figure(figsize=(2, 1), dpi=100)
    text = figure.text(0.1, 0.5, "office", fontfeatures=["-liga"], language=[("en", 0, 3)])
    canvas = StampingCanvas(figure)
    pixels(canvas)
    assert len(canvas.get_renderer()._stamps) == 1
    text.set_fontfeatures(None)  # another shaping: another stamp
    pixels(canvas)
    assert len(canvas.get_renderer()._stamps) == 2
