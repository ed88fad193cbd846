"""The explorer base class: controls -> a pure, cached compute step -> one figure updated in place.

How the figure reaches the browser was measured, not guessed (benchmarks/render_options.py:
a 2-panel line plot, 8 x 3.5 in at 100 dpi, in a kernel on 2 CPU cores, ms per update, p50 / p95):

    Agg draw, Pillow PNG into an ipywidgets.Image          55 / 56
    Agg draw, fig.savefig PNG into an Image                58 / 59
    Agg draw, png_bytes (below) into an Image              51 / 53
    Agg redraw of the lines only (blitting), png_bytes      4 /  4
    Output widget, clear_output(wait=True) + display(fig)  118 / 122
    ipympl canvas.draw()                                    68 / 69

So an explorer draws with the Agg canvas and pushes PNG bytes into an ipywidgets.Image. Artists
created with ``animated=True`` are redrawn on a saved background (blitting). When something else
changed (matplotlib then marks the axes ``stale``), e.g. new axis limits, only the changed axes
are drawn again (~10 ms each, mostly their text) unless they would touch another one; then
the whole figure. Text and legends are drawn from a cache of stamps (stamps.py: a label costs
~0.1 ms instead of ~1 ms when drawn before). A slider update of ActivationExplorer or
LayerExplorer takes 6-14 ms (benchmarks/widget_update.py); one that changes an axis (x range)
~16 ms.

In the browser (benchmarks/browser_latency.py: key press on a slider -> picture on screen, JupyterLab
and Chromium sharing the 2 cores with the kernel) a step takes ~32-44 ms (p50): the kernel's
update above is 10-30 % of the CPU a step costs; the rest is the browser (JupyterLab's key
handling, 2-3 repaints) and the Jupyter server. Four choices cut ~15-25 ms from each step:

    the picture is a data: URL, not PNG bytes     src -> loaded ~3 ms, not ~10 ms: ipywidgets
                                                  makes bytes a blob: URL, which Chromium fetches
                                                  through its browser process
    the picture is sent before the readouts       the browser loads it while the readouts render
    no echo of the control's value                one message (and one re-render) less per step
    TCP_NODELAY on the kernel websocket           widgets/fast_websocket.py: Nagle's algorithm
                                                  no longer holds the picture behind "busy"

Readouts and message are sent only when their text changes (traitlets skips equal values).

Writing an explorer: subclass `Explorer` and fill in five methods.

    class PowerExplorer(Explorer):
        def make_controls(self):
            return {"power": ipywidgets.IntSlider(value=2, min=1, max=4, description="power")}

        def make_figure(self, figure):          # called once: axes, labels, empty artists
            ax = figure.add_subplot(xlabel="x", ylabel="x ** power", xlim=(0, 2), ylim=(0, 16))
            (self.line,) = ax.plot([], [], animated=True)

        def compute(self, power):               # pure: depends only on the control values
            x = np.linspace(0, 2, 50)
            return x, x**power

        def summarize(self, result):            # the numbers shown under the figure
            x, y = result
            return {"y_at_2": y[-1]}

        def draw(self, result):                 # update artists in place, never a new figure
            self.line.set_data(*result)

    PowerExplorer(power=3, hide=["power"])

Rules that keep an update fast: make every artist in `make_figure` (draw only changes them);
mark what changes on most updates ``animated=True``; change anything else only when it really
changes (`set_limits` does that for axis limits), as it costs a redraw of its axes (~10 ms);
add legends with `stamps.stamped_legend`, drawn from the pixels of their first draw.
Optional: the class attributes `readout_labels`, `control_groups`, `cache_size`, and the method
`warm_up` (prepare slow results, such as the profiles of the other models, at start).
"""

from __future__ import annotations

import base64
import functools
import html
import math
import numbers
import struct
import zlib
from collections.abc import Iterable
from typing import Any, ClassVar

import ipywidgets
import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox, IdentityTransform
from traitlets import TraitError

from widgets.core.units import format_count
from widgets.core.validate import check_choice, check_number

from . import style
from .stamps import StampingCanvas, pixel_bounds


class Explorer:
    """An interactive figure: every control change runs compute -> summarize -> draw -> render.

    Attributes:
        controls: every control widget, by parameter name.
        readouts: the numbers currently shown under the figure.
        figure: the one matplotlib Figure, the same object for the explorer's whole life.
        png: the picture shown, as PNG bytes.
        message: '' when the settings are valid, else the message shown in the widget.
        widget: the ipywidgets container that displaying the explorer shows.
    """

    cache_size = 64  # compute results kept; set 0 for explorers that measure time
    # readout name -> label shown, e.g. {"macs": "MACs"}; default: the name with spaces
    readout_labels: ClassVar[dict[str, str]] = {}
    # column title -> control names, to group controls; default: one wrapping row
    control_groups: ClassVar[dict[str, tuple[str, ...]]] = {}

    def __init__(self, *, hide: Iterable[str] = (), **values: Any) -> None:
        """Build the widget; `values` set initial control values, `hide` controls not shown."""
        self.controls: dict[str, ipywidgets.ValueWidget] = self.make_controls()
        hide = [self._check_control_name(name) for name in hide]
        self.readouts: dict[str, Any] = {}
        self.message = ""
        self.png = b""

        with matplotlib.rc_context(style.RC_PARAMS):
            self.figure = Figure(figsize=style.FIGSIZE_INCHES, dpi=style.DPI)
            self.figure.subplots_adjust(**style.MARGINS)
            self._canvas = StampingCanvas(self.figure)
            self.make_figure(self.figure)
        self._animated = sorted(
            self.figure.findobj(lambda a: a.get_animated()), key=lambda a: a.get_zorder()
        )
        self._background = None  # pixels of the figure without its animated artists
        self._axes_boxes: dict[Axes, Bbox] = {}  # pixels each axes covered when last drawn, if any
        self._outside_axes_ids: list[int] = []  # the figure's other artists at the last full draw
        self._compute = functools.lru_cache(maxsize=self.cache_size)(self.compute)

        self._image = ipywidgets.Image(format="url")  # value: data_url(self.png)
        self._readouts_html = ipywidgets.HTML()
        self._readouts_html.add_class("effml-readouts")  # CSS classes let page tests find them
        self._message_html = ipywidgets.HTML()
        self._message_html.add_class("effml-message")
        shown = {name: control for name, control in self.controls.items() if name not in hide}
        self.widget = ipywidgets.VBox(
            [self.arrange_controls(shown), self._message_html, self._image, self._readouts_html]
        )

        self._holding = False  # True while set() changes several controls
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
            # ipywidgets 8 echoes every value the browser sends (for several browsers on one
            # kernel); an explorer has one, and the echo costs a message per slider step
            control._value_metadata = {"echo_update": False}  # traitlets: per-widget metadata
            if hasattr(control, "description"):  # show descriptions in full, not cut at 80 px
                control.style.description_width = "initial"
        self.set(**values)
        self.warm_up()

    # --- to fill in by each explorer -------------------------------------------------------

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        """Return the control widgets by parameter name (the names `compute` takes)."""
        raise NotImplementedError

    def make_figure(self, figure: Figure) -> None:
        """Add axes, labels and artists to `figure`; mark artists that change animated=True."""
        raise NotImplementedError

    def compute(self, **values: Any) -> Any:
        """Return what to show for these control values; raise ValueError for invalid ones."""
        raise NotImplementedError

    def summarize(self, result: Any) -> dict[str, Any]:
        """Return the readouts (name -> number) for a `compute` result."""
        raise NotImplementedError

    def draw(self, result: Any) -> None:
        """Update the artists made in `make_figure` to show a `compute` result."""
        raise NotImplementedError

    def warm_up(self) -> None:
        """Optional: compute now what is slow and likely asked for next (e.g. the profiles of
        the other models), so that the learner's first pick is fast too. Called once, after the
        first view."""

    def arrange_controls(self, shown: dict[str, ipywidgets.ValueWidget]) -> ipywidgets.Widget:
        """Lay out the shown controls: a titled column per `control_groups` entry, then the rest."""
        shown = dict(shown)
        columns = []
        for title, names in self.control_groups.items():
            controls = [shown.pop(name) for name in names if name in shown]
            if controls:
                title_html = ipywidgets.HTML(f"<b>{html.escape(title)}</b>")
                columns.append(ipywidgets.VBox([title_html, *controls]))
        return ipywidgets.HBox(
            [*columns, *shown.values()], layout=ipywidgets.Layout(flex_flow="row wrap")
        )

    # --- the update path -------------------------------------------------------------------

    def set(self, **values: Any) -> None:
        """Change several controls, then update once; a bad value changes nothing and raises."""
        old_values = {name: self.controls[self._check_control_name(name)].value for name in values}
        self._holding = True
        try:
            for name, value in values.items():
                _assign(name, self.controls[name], value)
        except (ValueError, TypeError):
            for name, value in old_values.items():
                self.controls[name].value = value
            raise
        finally:
            self._holding = False
        self.update()

    def update(self) -> None:
        """Show the current control values; an error becomes `message` and the last view stays."""
        values = {name: control.value for name, control in self.controls.items()}
        try:
            result = self._compute(**values)
            readouts = self.summarize(result)
            with matplotlib.rc_context(style.RC_PARAMS):  # for artists made in draw (legends)
                self.draw(result)
                png = self._render()
        except Exception as error:  # an observer would swallow it: show it in the widget
            self._show_message(_describe(error))
            return
        self.readouts, self.png = readouts, png
        self._image.value = data_url(png)  # first: the browser loads it while readouts render
        self._readouts_html.value = self._readouts_table(readouts)
        self._show_message("")

    def _on_change(self, change: dict) -> None:
        if not self._holding:
            self.update()

    def _render(self) -> bytes:
        """Draw the figure with Agg and return it as PNG bytes."""
        if self._background is None:
            self._draw_all()
        elif not self.figure.stale:  # only animated artists changed: they do not mark it stale
            self._canvas.restore_region(self._background)
        elif not self._redraw_stale_axes():  # something else changed, e.g. an axis limit
            self._draw_all()
        for artist in self._animated:
            if artist.get_visible():  # most explorers keep unused artists hidden
                self.figure.draw_artist(artist)
        return png_bytes(np.asarray(self._canvas.buffer_rgba()))

    def _draw_all(self) -> None:
        """Draw the whole figure except its animated artists, and save it as the background."""
        renderer = self._canvas.get_renderer()
        # what each axes covers, labels included: where a redraw of that axes alone must paint
        # (measured before drawing, which clears the stale flags that measuring sets; ~5 ms an
        # axes, so not for a single axes, which is always redrawn with its figure)
        axes = self.figure.axes if len(self.figure.axes) > 1 else []
        boxes = {ax: ax.get_tightbbox(renderer) for ax in axes}
        self._axes_boxes = {ax: box for ax, box in boxes.items() if box is not None}  # None: hidden
        self._outside_axes_ids = [
            id(artist) for artist in self.figure.get_children() if artist not in self.figure.axes
        ]
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(self.figure.bbox)

    def _redraw_stale_axes(self) -> bool:
        """Redraw only the axes that changed (~10 ms each) over the background, and save the
        result as the new background.

        Each changed axes is painted over with the figure's colour where it was, then drawn
        again. What it covers now is read from the pixels its drawing changed: measuring its
        labels beforehand would cost ~5 ms. Returns False, having drawn nothing or the changed
        axes only, when what it covered or covers now touches another axes or a figure-level
        artist: then only a full redraw is right.
        """
        renderer = self._canvas.get_renderer()
        stale = [ax for ax in self.figure.axes if ax.stale]
        outside_axes = [a for a in self.figure.get_children() if a not in self.figure.axes]
        if (
            not stale
            or len(stale) == len(self.figure.axes)
            or any(artist.stale for artist in outside_axes)  # e.g. a new figure legend
            or [id(artist) for artist in outside_axes] != self._outside_axes_ids  # or a removed one
        ):
            return False
        others = [box for ax, box in self._axes_boxes.items() if ax not in stale]
        others += [
            artist.get_window_extent(renderer)
            for artist in outside_axes
            if artist is not self.figure.patch and artist.get_visible()
            and not artist.get_animated()
        ]  # fmt: skip
        areas = [self._axes_boxes[ax].padded(2) for ax in stale if ax in self._axes_boxes]
        if any(area.overlaps(box) for area in areas for box in others):
            return False
        self._canvas.restore_region(self._background)
        for area in areas:
            x0, y0 = math.floor(area.x0), math.floor(area.y0)
            paint = Rectangle(
                (x0, y0), math.ceil(area.x1) - x0, math.ceil(area.y1) - y0,
                transform=IdentityTransform(), facecolor=self.figure.get_facecolor(),
                edgecolor="none", antialiased=False, figure=self.figure,
            )  # fmt: skip
            paint.draw(renderer)
        # one 32-bit number per RGBA pixel: comparing those is ~4x faster than comparing bytes
        pixels = np.asarray(self._canvas.buffer_rgba()).view(np.uint32)[..., 0]
        new_boxes = {}
        for ax in sorted(stale, key=lambda ax: ax.get_zorder()):
            before = pixels.copy()
            ax.draw(renderer)  # skips animated artists, like the full draw
            new_boxes[ax] = _changed_box(before, pixels)
        new_extents = [box for box in new_boxes.values() if box is not None]
        if any(box.overlaps(other) for box in new_extents for other in others):
            return False
        for ax, box in new_boxes.items():
            if box is None:
                self._axes_boxes.pop(ax, None)
            else:
                self._axes_boxes[ax] = box
        self.figure.stale = False  # an axes drawn alone does not clear its figure's flag
        self._background = self._canvas.copy_from_bbox(self.figure.bbox)
        return True

    # --- showing text ----------------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.message = text
        self._message_html.value = (
            f'<div style="{style.WARNING_CSS}">⚠ {html.escape(text)}</div>' if text else ""
        )

    def _readouts_table(self, readouts: dict[str, Any]) -> str:
        rows = "".join(
            f'<tr><th style="{style.READOUT_NAME_CSS}">'
            f"{html.escape(self.readout_labels.get(name, name.replace('_', ' ')))}</th>"
            f'<td style="{style.READOUT_VALUE_CSS}">{html.escape(format_readout(value))}</td></tr>'
            for name, value in readouts.items()
        )
        return f'<table style="{style.READOUT_CSS}">{rows}</table>'

    def _check_control_name(self, name: str) -> str:
        return check_choice("control", name, self.controls)

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        return self.widget._repr_mimebundle_(**kwargs)


def format_readout(value: Any) -> str:
    """Readout text: 11689512 -> '11,689,512 (11.7 M)', 0.4213 -> '0.421', (1, 8) -> '1 × 8'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):  # numpy integers too
        return f"{value:,}" if abs(value) < 10_000 else f"{value:,} ({format_count(value)})"
    if isinstance(value, numbers.Real):
        return f"{value:.3g}"
    if isinstance(value, tuple):
        return " × ".join(format_readout(v) for v in value)
    return str(value)


def png_bytes(rgba: np.ndarray) -> bytes:
    """A PNG file of an (height, width, 4) uint8 RGBA image.

    Rows are stored unfiltered and zlib-compressed at level 1: for a plot (large flat areas) that
    is ~40 KiB, written in ~2.5 ms, where Pillow's PNG encoder takes ~6.5 ms.
    """
    height, width, _ = rgba.shape
    rows = np.zeros((height, 1 + 4 * width), np.uint8)  # each row starts with its filter, 0: none
    rows[:, 1:] = rgba.reshape(height, 4 * width)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, no interlace
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)),
            _png_chunk(b"IEND", b""),
        ]
    )


def data_url(png: bytes) -> bytes:
    """The PNG as a data: URL (bytes), what an ipywidgets.Image with format="url" shows."""
    return b"data:image/png;base64," + base64.b64encode(png)


def _changed_box(before: np.ndarray, after: np.ndarray) -> Bbox | None:
    """The pixels that differ between two (height, width) images, as a Bbox in display
    coordinates (y up, as matplotlib measures); None when none differ."""
    bounds = pixel_bounds(before != after)
    if bounds is None:
        return None
    top, bottom, left, right = bounds
    height = after.shape[0]  # Agg's rows count downwards
    return Bbox([[left, height - bottom], [right, height - top]])


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    """Length, kind, data and CRC-32 of kind + data, as the PNG format lays out every chunk."""
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def set_limits(
    ax: Axes, xlim: tuple[float, float] | None = None, ylim: tuple[float, float] | None = None
) -> None:
    """Set axis limits only if they changed, so unchanged limits allow a fast redraw."""
    if xlim is not None and tuple(ax.get_xlim()) != tuple(xlim):
        ax.set_xlim(xlim)
    if ylim is not None and tuple(ax.get_ylim()) != tuple(ylim):
        ax.set_ylim(ylim)


def log_limits(values: Iterable[float]) -> tuple[float, float]:
    """Powers of 10 around the positive `values`: log-axis limits that change rarely."""
    positive = [v for v in values if v > 0] or [1]
    low, high = math.log10(min(positive)), math.log10(max(positive))
    return 10.0 ** math.floor(low), 10.0 ** max(math.ceil(high), math.floor(low) + 1)


def _assign(name: str, control: ipywidgets.ValueWidget, value: Any) -> None:
    """Set `control.value`, refusing what a slider would silently clip or a list would not hold."""
    items = value if isinstance(value, (tuple, list)) else (value,)
    if hasattr(control, "options"):
        allowed = [option[1] if isinstance(option, tuple) else option for option in control.options]
        for item in items:
            check_choice(name, item, allowed)
    elif hasattr(control, "min") and hasattr(control, "max"):
        for item in items:
            check_number(name, item, minimum=-math.inf)
            if not control.min <= item <= control.max:
                raise ValueError(
                    f"{name} must be between {control.min:g} and {control.max:g}, got {value!r}"
                )
    try:
        control.value = value
    except TraitError as error:
        raise ValueError(f"{name}: {error}") from None


def _describe(error: Exception) -> str:
    """The message for an error: its text, prefixed with its type when it is unexpected."""
    text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
    if isinstance(error, (ValueError, TypeError, KeyError)) and text:
        return text
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
