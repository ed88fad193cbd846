"""The explorer base class: controls -> a pure, cached compute step -> panels updated in place.

Writing an explorer: subclass `Explorer` and fill in five methods.

    class PowerExplorer(Explorer):
        panel_widths = (1, 1)                   # two panels side by side (default: one)

        def make_controls(self):
            return {"power": ipywidgets.IntSlider(value=2, min=1, max=4, description="power")}

        def make_figure(self, curve_figure, note_figure):   # once: one Figure per panel
            ax = curve_figure.add_subplot(xlabel="x", ylabel="x ** power", xlim=(0, 2),
                                          ylim=(0, 16))
            (self.line,) = ax.plot([], [], animated=True)
            ...

        def compute(self, power):               # pure: depends only on the control values
            x = np.linspace(0, 2, 50)
            return x, x**power

        def summarize(self, result):            # the numbers shown under the pictures
            x, y = result
            return {"y_at_2": y[-1]}

        def draw(self, result):                 # update artists in place, never a new figure
            self.line.set_data(*result)

    PowerExplorer(power=3, hide=["power"])

Each panel is its own picture (widgets/ui/render.py), so a step that changes one panel
redraws and sends that one only. Rules that keep a step fast: make every artist in
`make_figure` (draw only changes them); mark what changes on most steps ``animated=True``
(drawn over a saved background); change anything else (a limit, a label, a legend) only when
it really changes (`set_limits`), in coarse steps, as it redraws its whole panel, unless
`layouts` names the panel's layout and that layout was drawn before (`draw_ahead` draws them at
start); put numbers that change on every step in the readouts, not in the picture.
Optional: the class attributes `panel_widths`, `readout_labels`, `control_groups`,
`cache_size`, and the methods `layouts` (a key per panel for what is not animated) and
`warm_up` (prepare slow results, such as the profiles of the other models, at start).
"""

from __future__ import annotations

import functools
import html
import math
import numbers
from collections.abc import Hashable, Iterable
from typing import Any, ClassVar

import ipywidgets
import numpy as np
from matplotlib.figure import Figure
from traitlets import TraitError

from widgets.core.units import format_count
from widgets.core.validate import check_choice, check_number

from . import style
from .accessible_names import EXPLORER_CLASS, AccessibleNames
from .describe import data_table, describe_figure
from .live_region import LiveRegion
from .render import (
    Panel,
    coarse_limits,
    current_options,
    data_url,
    encode_png,
    fix_layout,
    in_style,
    log_limits,
    set_limits,
)

# drawing helpers explorers import from here too
__all__ = ["Explorer", "Share", "coarse_limits", "data_url", "format_readout", "log_limits",
           "set_limits"]  # fmt: skip


NUMBERS_TITLE = "Numbers behind the pictures"


class Share(float):
    """A fraction shown as a percentage in the readouts: Share(0.953) -> '95.3 %'."""


class Explorer:
    """Interactive pictures: every control change runs compute -> summarize -> draw -> render.

    Attributes:
        controls: every control widget, by parameter name.
        readouts: the numbers currently shown under the pictures.
        figures: one matplotlib Figure per panel, the same objects for the explorer's whole life.
        figure: the first of them (the only one of a one-panel explorer).
        pngs: the picture of each panel, as PNG bytes.
        png: the panels side by side, as one PNG (made when asked for).
        message: '' when the settings are valid, else the message shown in the widget.
        widget: the ipywidgets container that displaying the explorer shows.
    """

    cache_size = 64  # compute results kept; set 0 for explorers that measure time
    # relative widths of the panels, left to right; make_figure gets one Figure per panel
    panel_widths: ClassVar[tuple[float, ...]] = (1.0,)
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
        self.options = current_options()  # display_options() at the time the explorer is made

        total = sum(self.panel_widths)
        self._panels = [
            Panel(round(style.FIGURE_WIDTH_INCHES * style.DPI * width / total), self.options)
            for width in self.panel_widths
        ]
        self.figures = tuple(panel.figure for panel in self._panels)
        self.figure = self.figures[0]
        with in_style(self.options):
            self.make_figure(*self.figures)
            fix_layout(self.figures)  # before any data: the same margins whatever is shown
        for panel in self._panels:
            panel.start()
        self._compute = functools.lru_cache(maxsize=self.cache_size)(self.compute)

        # each picture's text alternative, read after the pictures and their readouts by a screen
        # reader (visually hidden). Not the images' tooltip: ipywidgets 8's ImageView fails to render
        # an Image whose tooltip is set (docs/accessibility.md)
        self._descriptions_html = ipywidgets.HTML()
        self._descriptions_html.add_class("effml-descriptions")
        self._descriptions = ("",) * len(self._panels)
        self._pictures = ipywidgets.HBox(  # side by side while they fit, else one under the other
            [panel.image for panel in self._panels], layout=ipywidgets.Layout(flex_flow="row wrap")
        )
        self._pictures.add_class("effml-pictures")  # CSS classes let page tests find the parts
        self._readouts_html = ipywidgets.HTML()
        self._readouts_html.add_class("effml-readouts")
        self._message_html = ipywidgets.HTML()
        self._message_html.add_class("effml-message")
        # for learners who do not see the pictures: a polite announcement of the new numbers,
        # and the numbers behind the pictures as tables, made only while that section is open
        self._live_region = LiveRegion()
        # (a toggle button, not an Accordion: ipywidgets' accordion header text is below the
        # WCAG AA contrast in JupyterLab's light theme)
        self._numbers_button = ipywidgets.ToggleButton(
            description=NUMBERS_TITLE, icon="table", layout=ipywidgets.Layout(width="auto")
        )
        self._numbers_html = ipywidgets.HTML()
        self._numbers = ipywidgets.VBox([self._numbers_button, self._numbers_html])
        self._numbers.add_class("effml-numbers")
        self._numbers_button.observe(self._refresh_numbers, names="value")
        shown = {name: control for name, control in self.controls.items() if name not in hide}
        self.widget = ipywidgets.VBox(
            [
                self.arrange_controls(shown),
                self._message_html,
                self._pictures,
                self._readouts_html,
                self._descriptions_html,
                self._live_region.widget,
                self._numbers,
                AccessibleNames(),  # names the slider handles and pictures in the browser
            ]
        )
        self.widget.add_class(EXPLORER_CLASS)
        self.widget.add_class(type(self).__name__)  # page tests and benchmarks tell them apart

        self._holding = False  # True while set() changes several controls
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
            if hasattr(control, "description"):  # show descriptions in full, not cut at 80 px
                control.style.description_width = "initial"
        self.set(**values)
        self.warm_up()

    @property
    def pngs(self) -> tuple[bytes, ...]:
        return tuple(panel.png for panel in self._panels)

    @property
    def descriptions(self) -> tuple[str, ...]:
        """Each panel's text alternative: what its axes are and what is drawn, in numbers."""
        return self._descriptions

    @property
    def png(self) -> bytes:
        if len(self._panels) == 1:
            return self._panels[0].png
        if any(panel.rgba is None for panel in self._panels):
            return b""
        return encode_png(np.hstack([panel.rgba for panel in self._panels]), "rgb")

    # --- to fill in by each explorer -------------------------------------------------------

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        """Return the control widgets by parameter name (the names `compute` takes)."""
        raise NotImplementedError

    def make_figure(self, *figures: Figure) -> None:
        """Add axes, labels and artists to the figures, one per panel (`panel_widths`); mark
        artists that change animated=True."""
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

    def layouts(self, result: Any) -> tuple[Hashable | None, ...]:
        """Optional: per panel, a key for everything `draw` shows of `result` that is not
        animated (limits, ticks, labels, legends), or None (unknown: the default). A panel
        whose layout was drawn before restores it instead of drawing it again."""
        return (None,) * len(self._panels)

    def draw_ahead(self, settings: Iterable[dict[str, Any]]) -> None:
        """Draw now the layouts of these control settings (each: some controls, the others as
        they are; invalid ones skipped), then show the current one again: for warm_up."""
        current = {name: control.value for name, control in self.controls.items()}
        with in_style(self.options):
            for values in settings:
                try:
                    result = self._compute(**(current | values))
                except ValueError:
                    continue
                self.draw(result)
                for panel, layout in zip(self._panels, self.layouts(result), strict=True):
                    if layout is not None:
                        panel.background(layout)
        self.update()

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
            with in_style(self.options):  # for artists made in draw (legends)
                self.draw(result)
                layouts = self.layouts(result)
                changed = [
                    panel
                    for panel, layout in zip(self._panels, layouts, strict=True)
                    if panel.render(layout)
                ]
        except Exception as error:  # an observer would swallow it: show it in the widget
            self._show_message(_describe(error))
            return
        self.readouts = readouts
        for panel in changed:  # first: the browser loads them while the readouts render
            panel.show()
        self._readouts_html.value = self._readouts_table(readouts)
        facts = self._readouts_sentence(readouts)
        # the readouts are not repeated here: the table under the pictures and the live region
        # already give them to a screen reader, and every byte is sent on every step. A picture
        # that did not change keeps its description
        self._descriptions = tuple(
            describe_figure(panel.figure) if panel in changed or not text else text
            for panel, text in zip(self._panels, self._descriptions, strict=True)
        )
        count = len(self._descriptions)
        self._descriptions_html.value = (  # traitlets sends it only when it changed
            f'<div style="{style.VISUALLY_HIDDEN_CSS}">'
            + "".join(
                f"<p>Picture {number} of {count}: {html.escape(text)}</p>"
                for number, text in enumerate(self._descriptions, 1)
            )
            + "</div>"
        )
        self._live_region.announce(facts)
        if changed:
            self._refresh_numbers()
        self._show_message("")

    def _on_change(self, change: dict) -> None:
        if not self._holding:
            self.update()

    # --- showing text ----------------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.message = text
        self._message_html.value = (
            f'<div style="{style.WARNING_CSS}">⚠ {html.escape(text)}</div>' if text else ""
        )

    def _refresh_numbers(self, _change: dict | None = None) -> None:
        # closed: nothing to make or send
        self._numbers_html.value = data_table(self.figures) if self._numbers_button.value else ""

    def _readouts_sentence(self, readouts: dict[str, Any]) -> str:
        return "; ".join(
            f"{self.readout_labels.get(name, name.replace('_', ' '))}: {format_readout(value)}"
            for name, value in readouts.items()
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
    """Readout text: 11689512 -> '11,689,512 (11.7 M)', 0.4213 -> '0.421', 8512.3 -> '8,512',
    Share(0.953) -> '95.3 %', (1, 8) -> '1 × 8'."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Share):
        return f"{100 * value:.3g} %"
    if isinstance(value, numbers.Integral):  # numpy integers too
        return f"{value:,}" if abs(value) < 10_000 else f"{value:,} ({format_count(value)})"
    if isinstance(value, numbers.Real):
        if math.isfinite(value) and abs(value) >= 1000:  # no '8.51e+03'
            return format_readout(round(value))
        return f"{value:.3g}"
    if isinstance(value, tuple):
        return " × ".join(format_readout(v) for v in value)
    return str(value)


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
