"""How an explorer's pictures are drawn and sent: one small figure per panel, blitted, as PNG.

Each panel is its own matplotlib Figure with its own Agg canvas and its own ipywidgets.Image, so
a step that changes one panel redraws, encodes and sends that panel only. Within a panel:

- artists made with ``animated=True`` are drawn over a saved background (blitting, with the
  public ``canvas.copy_from_bbox`` / ``restore_region`` and ``figure.draw_artist``);
- anything else that changes marks the figure ``stale`` (matplotlib's own flag), and then the
  panel is drawn in full and its background saved again, unless the explorer named the panel's
  layout (a key for everything in it that is not animated: limits, ticks, labels, legends) and
  that layout was drawn before: its saved background is restored instead (the last
  LAYOUTS_KEPT layouts of each panel are kept);
- a panel whose pixels came out the same is not encoded or sent again.

The layout is fixed once, when the figures are made (``tight_layout`` on the labels and limits
make_figure set, then the same bottom and top for every panel): no layout engine re-measures
text on later steps, and a picture never depends on the steps before it.

The picture is a palette PNG (Pillow's ``quantize``): about 40 % of the bytes of an RGB PNG in less
time. ``display_options`` sets the fonts' size and the pixels per CSS pixel for the
explorers made after it. The measurements behind these choices are in benchmarks/README.md.
"""

from __future__ import annotations

import base64
import io
import math
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import ipywidgets
import matplotlib
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from widgets.core.validate import check_choice, check_number

from . import style

ENCODINGS = ("palette", "rgb")  # PNG of at most PALETTE_COLOURS colours, or of 24-bit pixels
PALETTE_COLOURS = 256
COMPRESS_LEVEL = 6  # zlib level; 9 gives ~8 % fewer bytes for 3-4x the time
LAYOUTS_KEPT = 16  # saved backgrounds per panel (an 800 x 350 panel: 1.1 MB each at pixel ratio 1)


@dataclass(frozen=True)
class DisplayOptions:
    """How explorers draw their pictures.

    font_scale: text size relative to the default (1.5 for a classroom projector).
    pixel_ratio: picture pixels per CSS pixel (2 for a 2x "retina" screen: crisp, ~2.5x bytes).
    encoding: "palette" (PNG of PALETTE_COLOURS colours) or "rgb" (PNG of every colour).
    """

    font_scale: float = 1.0
    pixel_ratio: float = 1.0
    encoding: str = "palette"


_current = DisplayOptions()


def display_options(
    *,
    font_scale: float | None = None,
    pixel_ratio: float | None = None,
    encoding: str | None = None,
) -> DisplayOptions:
    """Set how explorers made after this call draw (unset arguments stay); return the settings.

    widgets.display_options(font_scale=1.5, pixel_ratio=2)   # projector, 2x screen
    """
    global _current
    changes: dict[str, Any] = {}
    for name, value in (("font_scale", font_scale), ("pixel_ratio", pixel_ratio)):
        if value is not None:
            changes[name] = _check_scale(name, value)
    if encoding is not None:
        changes["encoding"] = check_choice("encoding", encoding, ENCODINGS)
    _current = replace(_current, **changes)
    return _current


def _check_scale(name: str, value: float) -> float:
    """A scale factor between 0.5 and 3: beyond that, pictures are unreadable or huge."""
    value = check_number(name, value, minimum=0.5, inclusive=True)
    if value > 3:
        raise ValueError(f"{name} must be between 0.5 and 3, got {value:g}")
    return value


def current_options() -> DisplayOptions:
    """The display options explorers made now use."""
    return _current


def rc_params(options: DisplayOptions) -> dict[str, Any]:
    """style.RC_PARAMS with the font sizes scaled by options.font_scale."""
    return {
        name: value * options.font_scale if name in style.FONT_SIZES else value
        for name, value in style.RC_PARAMS.items()
    }


class Panel:
    """One panel: a Figure, its Agg canvas, and the Image that shows its PNG.

    `render()` brings the picture up to date; `png` is the last picture, `rgba` its pixels.
    """

    def __init__(self, width_px: int, options: DisplayOptions) -> None:
        """`width_px`: CSS pixels, whatever the pixel ratio."""
        self.options = options
        self.figure = Figure(
            figsize=(width_px / style.DPI, style.FIGURE_HEIGHT_INCHES),
            dpi=style.DPI * options.pixel_ratio,
        )
        self.canvas = FigureCanvasAgg(self.figure)
        # narrower than the page (a zoomed browser, a phone): the picture shrinks, keeping its shape
        self.image = ipywidgets.Image(
            format="url", width=str(width_px),
            layout=ipywidgets.Layout(max_width="100%", height="auto"),
        )  # fmt: skip
        self.png = b""
        self.rgba: np.ndarray | None = None
        self._animated: list[Artist] = []  # found by start(), after make_figure
        self._shown: list[Artist] = []  # the animated artists visible at the last render
        self._background: Any = None  # the figure's pixels without its animated artists
        self._layout: Hashable | None = None  # the layout key of that background
        # layout key -> its background, least recently used first
        self._backgrounds: OrderedDict[Hashable, Any] = OrderedDict()

    def start(self) -> None:
        """Note the animated artists (call once make_figure has made them)."""
        self._animated = sorted(
            self.figure.findobj(lambda artist: artist.get_animated()), key=Artist.get_zorder
        )

    def render(self, layout: Hashable | None = None) -> bool:
        """Draw what changed since the last call; return True if the picture changed.

        `layout`: a key for everything in the panel that is not animated, or None (unknown: a
        change draws the panel in full).
        """
        shown = [artist for artist in self._animated if artist.get_visible()]
        # with a layout, its key says whether the background changed (the figure stays stale
        # after a saved background is restored: only drawing it clears the flag)
        changed = self.figure.stale and (layout is None or layout != self._layout)
        if self._background is None or changed:
            self._background, self._layout = self.background(layout), layout
            self.canvas.restore_region(self._background)
        elif shown == self._shown and not any(artist.stale for artist in shown):
            return False  # nothing in this panel was touched
        else:
            self.canvas.restore_region(self._background)
        for artist in shown:
            self.figure.draw_artist(artist)
        self._shown = shown
        rgba = np.asarray(self.canvas.buffer_rgba())
        if self.rgba is not None and np.array_equal(rgba, self.rgba):
            return False  # touched, but the same pixels (e.g. the same data set again)
        self.rgba = rgba.copy()
        self.png = encode_png(self.rgba, self.options.encoding)
        return True

    def background(self, layout: Hashable | None = None) -> Any:
        """The figure drawn without its animated artists: the saved one of `layout` if there
        is one, else drawn now (and saved under `layout`, unless None)."""
        if layout is not None and layout in self._backgrounds:
            self._backgrounds.move_to_end(layout)
            return self._backgrounds[layout]
        # a full draw skips animated artists, but matplotlib 3.10 and older draw an animated
        # AxesImage all the same (matplotlib issue 18985): saved in a background, one step's image
        # would show around a later, smaller one. Hidden, they are left out in every version
        # (hiding an animated artist does not mark the figure stale)
        shown = [artist for artist in self._animated if artist.get_visible()]
        for artist in shown:
            artist.set_visible(False)
        try:
            self.canvas.draw()
        finally:
            for artist in shown:
                artist.set_visible(True)
        background = self.canvas.copy_from_bbox(self.figure.bbox)
        if layout is not None:
            self._backgrounds[layout] = background
            if len(self._backgrounds) > LAYOUTS_KEPT:
                self._backgrounds.popitem(last=False)
        return background

    def show(self) -> None:
        """Send the last picture to the browser (traitlets sends nothing if it is the same)."""
        self.image.value = data_url(self.png)


def fix_layout(figures: Sequence[Figure]) -> None:
    """Fit each figure's margins to its labels and ticks once (tight_layout), with one bottom
    and top for all, so that panels side by side line up; later steps keep these margins.
    Set representative axis limits in make_figure: tick labels wider than those are cut."""
    for figure in figures:
        figure.tight_layout(pad=0.5)
    bottom = max(figure.subplotpars.bottom for figure in figures)
    top = min(figure.subplotpars.top for figure in figures)
    for figure in figures:
        figure.subplots_adjust(bottom=bottom, top=top)


def encode_png(rgba: np.ndarray, encoding: str = "palette") -> bytes:
    """A PNG of the (height, width, 4) uint8 pixels of an opaque figure."""
    image = Image.fromarray(rgba).convert("RGB")  # faster than slicing the channels in numpy
    if encoding == "palette":
        # no dithering: flat plot colours stay flat, and equal pixels give equal bytes
        image = image.quantize(
            PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=COMPRESS_LEVEL)
    return buffer.getvalue()


def data_url(png: bytes) -> bytes:
    """The PNG as a data: URL (bytes), what an ipywidgets.Image with format="url" shows.

    A data: URL is decoded in the page; ipywidgets turns raw bytes into a blob: URL, which
    Chromium fetches through its browser process (~10 ms more a step).
    """
    return b"data:image/png;base64," + base64.b64encode(png)


def set_limits(
    ax: Axes, xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None
) -> None:
    """Set axis limits only if they changed: new limits redraw the whole panel."""
    if xlim is not None and tuple(ax.get_xlim()) != tuple(xlim):
        ax.set_xlim(xlim)
    if ylim is not None and tuple(ax.get_ylim()) != tuple(ylim):
        ax.set_ylim(ylim)


def log_limits(values: Iterable[float], base: float = 10) -> tuple[float, float]:
    """Powers of `base` around the positive `values`: log-axis limits that change rarely."""
    positive = [v for v in values if v > 0] or [1]
    low, high = math.log(min(positive), base), math.log(max(positive), base)
    # a hair of tolerance: log(1000, 10) is 2.9999999999999996
    low, high = math.floor(low + 1e-9), math.ceil(high - 1e-9)
    return float(base) ** low, float(base) ** max(high, low + 1)


def coarse_limits(low: float, high: float, step: float) -> tuple[float, float]:
    """(low, high) rounded out to multiples of `step`: linear limits that change rarely."""
    return math.floor(low / step) * step, math.ceil(high / step) * step


def in_style(options: DisplayOptions) -> Any:
    """A context in which matplotlib makes artists in the explorers' style."""
    return matplotlib.rc_context(rc_params(options))
