"""Text and legends drawn once, then stamped: ~1 ms a label -> ~0.05 ms, ~3 ms a legend -> ~0.2.

matplotlib 3.11 lays out and renders every glyph each time a text is drawn, about 1 ms for a short
label; text is most of what an explorer's redraw costs. Explorers draw the same strings again and
again (tick labels, a title, "dead: 3 of 256 units"), so this renderer keeps each text it drew as
a small RGBA image (a stamp), keyed by everything that sets its pixels, and blends it in with
numpy the next time. Positions are rounded to 1/4 pixel, on a miss too: the picture never depends
on what the cache held before (tests compare pictures pixel by pixel).

A legend is laid out again on every draw too (~3 ms); a `StampedLegend` keeps its pixels.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np
from matplotlib.artist import allow_rasterization
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.font_manager import fontManager, get_font
from matplotlib.legend import Legend

SUBPIXELS = 4  # positions are rounded to 1/4 pixel
MAX_STAMPS = 2048  # per renderer; the least recently used go first


class StampingRenderer(RendererAgg):
    """RendererAgg whose plain text (not mathtext, not clipped) is drawn from a cache of stamps."""

    def __init__(self, width: float, height: float, dpi: float) -> None:
        super().__init__(width, height, dpi)
        # key -> (RGBA stamp, straight alpha; row and column of its top left corner relative
        # to the text's anchor pixel)
        self._stamps: OrderedDict[tuple, tuple[np.ndarray, int, int]] = OrderedDict()
        self._height_metrics: dict[int, tuple[float | None, float | None, float | None]] = {}

    def _get_font_height_metrics(self, prop: Any) -> tuple[float | None, ...]:
        """A font's ascent, descent and line gap in pixels, which matplotlib's text layout asks
        a backend for if it can (Text._get_layout); else it reads them from the font file for
        every text it measures or draws (~0.1 ms each)."""
        key = hash(prop)
        if key not in self._height_metrics:
            self._height_metrics[key] = _font_height_metrics(prop, self.dpi)
        return self._height_metrics[key]

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None) -> None:
        clip_path, _ = gc.get_clip_path()
        if ismath or gc.get_clip_rectangle() is not None or clip_path is not None:
            return super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        x, y = round(x * SUBPIXELS) / SUBPIXELS, round(y * SUBPIXELS) / SUBPIXELS
        column, row = math.floor(x), math.floor(y)  # the anchor pixel (Agg's y counts downwards)
        # font features and language shape glyphs too (a language may be a list: repr is hashable)
        features = (mtext.get_fontfeatures(), repr(mtext.get_language())) if mtext else None
        key = (s, hash(prop), angle, gc.get_rgb(), gc.get_alpha(), gc.get_forced_alpha(),
               gc.get_antialiased(), x - column, y - row, features)  # fmt: skip
        if key in self._stamps:
            self._stamps.move_to_end(key)
        else:
            self._stamps[key] = _render_stamp(self, gc, x - column, y - row, s, prop, angle, mtext)
            if len(self._stamps) > MAX_STAMPS:
                self._stamps.popitem(last=False)
        stamp, top, left = self._stamps[key]
        _blend(np.asarray(self.buffer_rgba()), stamp, row + top, column + left)
        return None


class StampingCanvas(FigureCanvasAgg):
    """FigureCanvasAgg that draws with a StampingRenderer."""

    def get_renderer(self) -> StampingRenderer:
        width, height = self.get_width_height(physical=True)
        key = width, height, self.figure.dpi
        if self._lastKey != key:
            self.renderer = StampingRenderer(width, height, self.figure.dpi)
            self._lastKey = key
        return self.renderer


class StampedLegend(Legend):
    """A legend of an axes, drawn by Agg from the pixels of its first draw (~0.2 ms, not ~3 ms).

    Its pixels are kept for one canvas size, dpi and position of its axes. Make a new legend
    rather than change this one, and give it a fixed `loc`: "best" moves with the data.
    """

    def __init__(self, ax: Axes, handles: list, labels: list[str], **kwargs: Any) -> None:
        super().__init__(ax, handles, labels, **kwargs)
        if self._loc == 0:  # Legend's code for "best"
            raise ValueError('StampedLegend: loc must be a fixed place, not "best"')
        self._stamp_key: tuple | None = None
        self._stamp: tuple[np.ndarray, int, int] = (np.zeros((0, 0, 4), np.uint8), 0, 0)

    @allow_rasterization
    def draw(self, renderer: Any) -> None:
        if not isinstance(renderer, RendererAgg):  # e.g. savefig to PDF: draw as usual
            return super().draw(renderer)
        if not self.get_visible():
            return None
        key = (renderer.width, renderer.height, renderer.dpi, tuple(self.axes.bbox.bounds))
        if key != self._stamp_key:
            scratch = RendererAgg(int(renderer.width), int(renderer.height), renderer.dpi)
            super().draw(scratch)
            self._stamp, self._stamp_key = _visible_part(scratch, 0, 0), key
        stamp, top, left = self._stamp
        _blend(np.asarray(renderer.buffer_rgba()), stamp, top, left)
        return None


def stamped_legend(
    ax: Axes, handles: list | None = None, labels: list[str] | None = None, **kwargs: Any
) -> StampedLegend:
    """Add a StampedLegend to `ax`, as `ax.legend` would add a Legend; without handles and
    labels, those of the labelled artists of `ax`."""
    if handles is None:
        handles, labels = ax.get_legend_handles_labels()
    legend = StampedLegend(ax, handles, labels, **kwargs)
    ax.add_artist(legend)
    return legend


def _font_height_metrics(prop: Any, dpi: float) -> tuple[float | None, ...]:
    """Ascent, descent and line gap of the font `prop` selects, read as matplotlib 3.11 reads
    them in Text._get_layout; Nones (matplotlib then measures "lp") if the font has no table."""
    font = get_font(fontManager._find_fonts_by_props(prop))
    scale = 1 / font.get_sfnt_table("head")["unitsPerEm"] * prop.get_size_in_points() * dpi / 72
    for table_name, line_gap, ascent, descent in [
        ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
        ("hhea", "lineGap", "ascent", "descent"),
    ]:
        table = font.get_sfnt_table(table_name)
        if table is not None:
            return table[ascent] * scale, -table[descent] * scale, table[line_gap] * scale
    return None, None, None


def _render_stamp(
    renderer: RendererAgg,
    gc: Any,
    dx: float,
    dy: float,
    s: str,
    prop: Any,
    angle: float,
    mtext: Any,
) -> tuple[np.ndarray, int, int]:
    """Draw the text alone on a transparent scratch canvas, anchored (baseline, left) at (dx, dy)
    past an anchor pixel; return the pixels it touched and their top left corner relative to
    that anchor pixel (rows and columns)."""
    em = math.ceil(prop.get_size_in_points() * renderer.dpi / 72)  # a glyph is at most ~1 em
    reach = (len(s) + 1) * em  # how far from its anchor the text can go
    if angle == 0:  # most text: a strip, the baseline 2 em from the top
        width, height, anchor_column, anchor_row = reach + em, 3 * em, em, 2 * em
    else:  # any angle: a square around the anchor
        width = height = 2 * reach
        anchor_column = anchor_row = reach
    scratch = RendererAgg(width, height, renderer.dpi)
    RendererAgg.draw_text(
        scratch, gc, anchor_column + dx, anchor_row + dy, s, prop, angle, False, mtext
    )
    return _visible_part(scratch, anchor_row, anchor_column)


def _visible_part(scratch: RendererAgg, row: int, column: int) -> tuple[np.ndarray, int, int]:
    """The smallest RGBA image holding every pixel drawn on the transparent `scratch`, and its
    top left corner relative to (`row`, `column`)."""
    rgba = np.asarray(scratch.buffer_rgba())
    bounds = pixel_bounds(rgba[..., 3] > 0)
    if bounds is None:  # nothing visible (e.g. a space)
        return np.zeros((0, 0, 4), np.uint8), 0, 0
    top, bottom, left, right = bounds
    return rgba[top:bottom, left:right].copy(), top - row, left - column


def pixel_bounds(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Rows top:bottom and columns left:right (ends excluded) of the smallest rectangle holding
    every True pixel of a (height, width) mask; None if there is none."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1


def _blend(canvas: np.ndarray, stamp: np.ndarray, top: int, left: int) -> None:
    """Draw `stamp` (straight alpha) over `canvas` at row `top`, column `left`, as Agg blends."""
    bottom, right = top + stamp.shape[0], left + stamp.shape[1]
    crop_top, crop_left = max(0, -top), max(0, -left)
    top, left = max(top, 0), max(left, 0)
    bottom, right = min(bottom, canvas.shape[0]), min(right, canvas.shape[1])
    if top >= bottom or left >= right:
        return
    source = stamp[crop_top : crop_top + bottom - top, crop_left : crop_left + right - left]
    target = canvas[top:bottom, left:right]
    alpha = source[..., 3:4].astype(np.float32) / 255
    target_alpha = target[..., 3:4].astype(np.float32) / 255
    out_alpha = alpha + target_alpha * (1 - alpha)
    colour = source[..., :3] * alpha + target[..., :3] * (target_alpha * (1 - alpha))
    target[..., :3] = np.round(colour / np.maximum(out_alpha, 1e-6)).astype(np.uint8)
    target[..., 3:4] = np.round(out_alpha * 255).astype(np.uint8)
