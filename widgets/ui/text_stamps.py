"""Text drawn once, then stamped: a cache for matplotlib's Agg text (~1 ms a label -> ~0.05 ms).

matplotlib 3.11 lays out and renders every glyph each time a text is drawn, about 1 ms for a short
label; text is most of what an explorer's redraw costs. Explorers draw the same strings again and
again (tick labels, a title, "dead: 3 of 256 units"), so this renderer keeps each text it drew as
a small RGBA image (a stamp), keyed by everything that sets its pixels, and blends it in with
numpy the next time. Positions are rounded to 1/4 pixel, on a miss too: the picture never depends
on what the cache held before (tests compare pictures pixel by pixel).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg

SUBPIXELS = 4  # positions are rounded to 1/4 pixel
MAX_STAMPS = 2048  # per renderer; the least recently used go first


class StampingRenderer(RendererAgg):
    """RendererAgg whose plain text (not mathtext, not clipped) is drawn from a cache of stamps."""

    def __init__(self, width: float, height: float, dpi: float) -> None:
        super().__init__(width, height, dpi)
        # key -> (RGBA stamp, straight alpha; row and column of its top left corner relative
        # to the text's anchor pixel)
        self._stamps: OrderedDict[tuple, tuple[np.ndarray, int, int]] = OrderedDict()

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
    alpha = np.asarray(scratch.buffer_rgba())[..., 3]
    rows, columns = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):  # nothing visible (e.g. a space)
        return np.zeros((0, 0, 4), np.uint8), 0, 0
    stamp = np.asarray(scratch.buffer_rgba())[rows[0] : rows[-1] + 1, columns[0] : columns[-1] + 1]
    return stamp.copy(), int(rows[0]) - anchor_row, int(columns[0]) - anchor_column


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
