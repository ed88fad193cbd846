"""Stamped text looks like matplotlib's own, and a picture does not depend on the cache."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text

from widgets.ui import stamps
from widgets.ui.stamps import StampingCanvas, stamped_legend


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
    monkeypatch.setattr(stamps, "MAX_STAMPS", 3)
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


def test_text_is_laid_out_as_matplotlib_lays_it_out():
    figure = figure_with_text()
    figure.text(0.1, 0.1, "two\nlines", fontsize=14)  # the line gap counts too
    texts = [text for text in figure.findobj(Text) if text.get_text()]
    stamping = StampingCanvas(figure).get_renderer()
    plain = FigureCanvasAgg(figure).get_renderer()
    assert "_get_font_height_metrics" not in dir(plain)  # so matplotlib reads the font itself
    for text in texts:
        assert text.get_window_extent(stamping).bounds == text.get_window_extent(plain).bounds


def figure_with_legend(legend: Callable) -> Figure:
    figure = Figure(figsize=(4, 2), dpi=100)
    ax = figure.add_subplot()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.plot([0, 1], [1, 0], "--", label="a dashed line")
    legend(ax)
    return figure


def test_a_stamped_legend_looks_like_matplotlibs():
    stamped = pixels(FigureCanvasAgg(figure_with_legend(lambda ax: stamped_legend(ax, loc=2))))
    plain = pixels(FigureCanvasAgg(figure_with_legend(lambda ax: ax.legend(loc=2))))
    difference = np.abs(stamped - plain).max(axis=-1)
    assert difference.max() <= 2  # blending the legend's pixels rounds once more
    assert (difference > 0).mean() < 0.01


def test_a_stamped_legend_is_drawn_again_only_when_its_axes_moved(monkeypatch):
    figure = figure_with_legend(lambda ax: stamped_legend(ax, loc="upper left"))
    canvas = FigureCanvasAgg(figure)  # ticks drawn by matplotlib, as in `plain` below
    layouts = []
    draw = Legend.draw
    monkeypatch.setattr(Legend, "draw", lambda self, r: layouts.append(1) or draw(self, r))
    first = pixels(canvas)
    assert np.array_equal(pixels(canvas), first) and layouts == [1]
    figure.axes[0].set_position([0.2, 0.2, 0.6, 0.6])
    moved = pixels(canvas)
    assert layouts == [1, 1]
    plain = figure_with_legend(lambda ax: ax.legend(loc="upper left"))
    plain.axes[0].set_position([0.2, 0.2, 0.6, 0.6])
    assert np.abs(moved - pixels(FigureCanvasAgg(plain))).max() <= 2


def test_a_stamped_legend_needs_a_fixed_place_and_draws_into_any_file(tmp_path):
    with pytest.raises(ValueError, match='loc must be a fixed place, not "best"'):
        figure_with_legend(lambda ax: stamped_legend(ax, loc="best"))
    figure = figure_with_legend(lambda ax: stamped_legend(ax, loc="lower right"))
    for suffix in ("svg", "pdf", "png"):
        figure.savefig(tmp_path / f"legend.{suffix}")
    assert "a dashed line" in (tmp_path / "legend.svg").read_text()
