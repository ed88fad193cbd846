"""The Explorer contract, exercised on a tiny explorer defined here."""

from __future__ import annotations

import base64
import io
from typing import ClassVar

import ipywidgets
import numpy as np
import pytest
from helpers import check_random_settings, count_full_draws
from numpy.testing import assert_array_equal
from PIL import Image

from widgets.core.validate import UnknownNameError
from widgets.ui.base import (
    Explorer,
    Share,
    _describe,
    data_url,
    format_readout,
    log_limits,
    set_limits,
)
from widgets.ui.render import DisplayOptions, Panel, coarse_limits, display_options, encode_png


class PowerExplorer(Explorer):
    """y = scale * x**power on 0 <= x <= 2; scale 0 is invalid and scale < -1.5 crashes."""

    readout_labels: ClassVar[dict[str, str]] = {"y_at_2": "y at x = 2"}

    def __init__(self, **values):
        self.computed = []  # arguments of every compute call, to see cache hits
        self.draws = 0
        super().__init__(**values)

    def make_controls(self):
        return {
            "power": ipywidgets.IntSlider(value=2, min=1, max=4, description="power"),
            "scale": ipywidgets.FloatSlider(value=1.0, min=-2.0, max=2.0, description="scale"),
            "fixed_axes": ipywidgets.Checkbox(value=True, description="fixed axes"),
        }

    def make_figure(self, figure):
        self.ax = figure.add_subplot(xlabel="x", ylabel="y", xlim=(0, 2), ylim=(-32, 32))
        (self.line,) = self.ax.plot([], [], animated=True)

    def compute(self, power, scale, fixed_axes):
        self.computed.append((power, scale, fixed_axes))
        if scale == 0:
            raise ValueError("scale must be non-zero, got 0.0")
        if scale < -1.5:
            raise RuntimeError("something unexpected")
        x = np.linspace(0, 2, 50)
        return x, scale * x**power, fixed_axes

    def summarize(self, result):
        x, y, _ = result
        return {"y_at_2": float(y[-1]), "points": len(x)}

    def draw(self, result):
        x, y, fixed_axes = result
        self.draws += 1
        self.line.set_data(x, y)
        set_limits(self.ax, ylim=(-32, 32) if fixed_axes else (min(y.min(), 0), max(y.max(), 1)))


def test_initial_values_and_first_view():
    ex = PowerExplorer(power=3, scale=0.5)
    assert ex.controls["power"].value == 3
    assert ex.readouts == {"y_at_2": 4.0, "points": 50}
    assert ex.message == ""
    assert ex.png.startswith(b"\x89PNG")
    assert ex.draws == 1


def test_set_changes_data_on_the_same_figure():
    ex = PowerExplorer()
    figure, line = ex.figure, ex.line
    before, image_before = line.get_ydata().copy(), ex.png
    ex.set(power=3)
    assert ex.figure is figure and ex.figure.axes[0].lines[0] is line
    assert not np.array_equal(line.get_ydata(), before)
    assert_array_equal(line.get_ydata(), np.linspace(0, 2, 50) ** 3)
    assert ex.readouts["y_at_2"] == 8.0
    assert ex.png != image_before


def test_control_change_updates_synchronously():
    ex = PowerExplorer()
    ex.controls["scale"].value = 2.0
    assert ex.readouts["y_at_2"] == 8.0


def test_set_updates_once():
    ex = PowerExplorer()
    ex.set(power=4, scale=0.5, fixed_axes=False)
    assert ex.draws == 2  # the first view, then one update for three changes
    assert ex.computed == [(2, 1.0, True), (4, 0.5, False)]
    assert ex.readouts["y_at_2"] == 8.0


def test_cache_hit_does_not_recompute():
    ex = PowerExplorer()
    ex.set(power=3)
    ex.set(power=2)
    assert ex.computed == [(2, 1.0, True), (3, 1.0, True)]
    assert ex.readouts["y_at_2"] == 4.0
    assert ex.draws == 3  # the view still follows the controls


@pytest.mark.parametrize(
    ("scale", "message"),
    [(0.0, "scale must be non-zero, got 0.0"), (-2.0, "RuntimeError: something unexpected")],
)
def test_error_shows_message_and_keeps_last_view(scale, message):
    ex = PowerExplorer(power=3)
    readouts, image, ydata = ex.readouts, ex.png, ex.line.get_ydata().copy()
    ex.set(scale=scale)
    assert ex.message == message
    assert message in ex.widget.children[1].value  # shown in the widget
    assert ex.readouts == readouts
    assert ex.png == image
    assert_array_equal(ex.line.get_ydata(), ydata)
    ex.set(scale=1.0)
    assert ex.message == "" and ex.widget.children[1].value == ""


def test_fast_redraw_gives_the_same_pixels_as_a_full_draw(monkeypatch):
    ex = PowerExplorer()
    full_draws = count_full_draws(ex, monkeypatch)
    ex.set(power=3)  # only the animated line changed: blit
    assert full_draws == []
    assert ex.png == PowerExplorer(power=3).png
    ex.set(fixed_axes=False)  # new axis limits: full draw
    assert full_draws == [0]
    assert ex.png == PowerExplorer(power=3, fixed_axes=False).png


class LayoutExplorer(PowerExplorer):
    """PowerExplorer that names its layout (the y limits) and draws one ahead."""

    def layouts(self, result):
        _, y, fixed_axes = result
        return ((-32, 32) if fixed_axes else (min(y.min(), 0), max(y.max(), 1)),)

    def warm_up(self):
        self.draw_ahead([{"fixed_axes": False}])


def test_a_layout_drawn_before_is_restored_not_drawn(monkeypatch):
    ex = LayoutExplorer()
    assert ex.png == PowerExplorer().png  # drawing ahead left the view as it was
    full_draws = count_full_draws(ex, monkeypatch)
    ex.set(fixed_axes=False)  # limits (0, 4): drawn ahead at start
    ex.set(fixed_axes=True)  # limits (-32, 32): drawn at start
    ex.set(power=3)
    assert full_draws == []
    ex.set(fixed_axes=False)  # limits (0, 8): new
    ex.set(fixed_axes=True)
    ex.set(fixed_axes=False)
    assert full_draws == [0]
    assert ex.png == PowerExplorer(power=3, fixed_axes=False).png
    ex.set(power=2)
    assert ex.png == PowerExplorer(fixed_axes=False).png


def test_a_background_leaves_out_an_animated_image():
    """matplotlib 3.10 and older draw an animated AxesImage in a full draw (its issue 18985)."""
    backgrounds = []
    for shown in (True, False):
        panel = Panel(200, DisplayOptions())
        image = panel.figure.add_subplot().imshow(
            np.zeros((2, 2)), cmap="gray", vmin=0, vmax=1, animated=True
        )  # black
        image.set_visible(shown)
        panel.start()
        panel.canvas.restore_region(panel.background())
        backgrounds.append(np.asarray(panel.canvas.buffer_rgba()).copy())
        assert image.get_visible() == shown  # as it was
    assert_array_equal(*backgrounds)


class TwoPanelExplorer(PowerExplorer):
    """PowerExplorer with a still panel on its left, a title that changes on the right."""

    panel_widths = (1, 2)

    def make_controls(self):
        return {**super().make_controls(), "long_title": ipywidgets.Checkbox(value=False)}

    def make_figure(self, still_figure, figure):
        self.still_ax = still_figure.add_subplot(xlabel="a still panel", title="left")
        super().make_figure(figure)

    def compute(self, long_title, **values):
        return (*super().compute(**values), long_title)

    def summarize(self, result):
        return super().summarize(result[:3])

    def draw(self, result):
        *power_result, long_title = result
        super().draw(power_result)
        title = "right " * (5 if long_title else 1)
        if self.ax.get_title() != title:  # set_title marks the panel stale, even unchanged
            self.ax.set_title(title)


def test_each_panel_is_its_own_figure_and_picture():
    ex = TwoPanelExplorer()
    assert len(ex.figures) == 2 and ex.figure is ex.figures[0]
    assert ex.still_ax.figure is ex.figures[0] and ex.ax.figure is ex.figures[1]
    images = ex.widget.children[2].children
    assert [bytes(image.value) for image in images] == [data_url(png) for png in ex.pngs]
    widths = [Image.open(io.BytesIO(png)).width for png in ex.pngs]
    assert widths == [267, 533]  # 800 CSS pixels in the ratio 1 : 2
    assert [image.width for image in images] == ["267", "533"]
    assert Image.open(io.BytesIO(ex.png)).size == (800, 350)  # both, side by side


def test_only_the_changed_panel_is_redrawn_and_sent(monkeypatch):
    ex = TwoPanelExplorer()
    full_draws = count_full_draws(ex, monkeypatch)
    sent = []
    for index, image in enumerate(ex.widget.children[2].children):
        image.observe(lambda change, index=index: sent.append(index), names="value")
    left = ex.pngs[0]
    ex.set(power=3)  # the line moves: blit the right panel, send it only
    assert (full_draws, sent) == ([], [1])
    ex.set(fixed_axes=False, long_title=True)  # new limits and title: redraw the right panel
    assert (full_draws, sent) == ([1], [1, 1])
    assert ex.pngs[0] == left
    assert ex.pngs == TwoPanelExplorer(power=3, fixed_axes=False, long_title=True).pngs


def test_the_same_pixels_are_not_sent_again():
    ex = PowerExplorer()
    sent = []
    ex.widget.children[2].children[0].observe(lambda change: sent.append(1), names="value")
    ex.set(power=3)
    ex.line.set_data(*ex.line.get_data())  # touched, not changed
    ex.update()
    assert sent == [1]


def test_png_holds_exactly_the_figure_pixels_up_to_the_palette():
    ex = PowerExplorer(power=3)
    decoded = np.asarray(Image.open(io.BytesIO(ex.png)).convert("RGB"))
    pixels = np.asarray(ex._panels[0].canvas.buffer_rgba())[..., :3]
    assert decoded.shape == pixels.shape
    assert np.abs(decoded.astype(int) - pixels).mean() < 2  # 256 colours: close, not equal
    exact = encode_png(pixels, "rgb")
    assert_array_equal(np.asarray(Image.open(io.BytesIO(exact))), pixels)


def test_image_shows_the_png_as_a_data_url():
    ex = PowerExplorer(power=3)
    (image,) = ex.widget.children[2].children
    assert image.format == "url"
    prefix, encoded = bytes(image.value).split(b",")
    assert prefix == b"data:image/png;base64"
    assert base64.b64decode(encoded) == ex.png


def test_picture_is_sent_before_the_readouts():
    ex = PowerExplorer()
    sent = []
    ex.widget.children[2].children[0].observe(lambda change: sent.append("picture"), "value")
    ex._readouts_html.observe(lambda change: sent.append("readouts"), names="value")
    ex.set(power=3)
    assert sent == ["picture", "readouts"]


def test_hide_keeps_the_control_but_does_not_show_it():
    ex = PowerExplorer(hide=["scale"], scale=2.0)
    shown = ex.widget.children[0].children
    assert ex.controls["scale"] not in shown and ex.controls["power"] in shown
    assert ex.readouts["y_at_2"] == 8.0


@pytest.mark.parametrize(
    "make",
    [
        lambda: PowerExplorer(powr=3),
        lambda: PowerExplorer(hide=["powr"]),
        lambda: PowerExplorer().set(powr=3),
    ],
)
def test_unknown_control_name_lists_the_names(make):
    with pytest.raises(KeyError, match="unknown control 'powr'; choose one of: 'power', 'scale'"):
        make()


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ({"scale": 5.0}, ValueError, "scale must be between -2 and 2, got 5.0"),
        ({"scale": "big"}, TypeError, "scale must be a number, got 'big'"),
        ({"fixed_axes": "yes"}, ValueError, "fixed_axes: "),
    ],
)
def test_bad_value_raises_and_changes_nothing(values, error, match):
    ex = PowerExplorer()
    with pytest.raises(error, match=match):
        ex.set(power=3, **values)
    assert ex.controls["power"].value == 2
    assert ex.draws == 1


def test_displaying_shows_the_widget():
    ex = PowerExplorer()
    bundle = ex._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.widget.model_id
    assert bytes(ex.widget.children[2].children[0].value) == data_url(ex.png)
    table = ex.widget.children[3].value
    assert "<table" in table and "y at x = 2" in table and ">4</td>" in table


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (11_689_512, "11,689,512 (11.7 M)"),
        (9_999, "9,999"),
        (np.int64(73_856), "73,856 (73.9 K)"),
        (0.42137, "0.421"),
        ((1, 64, 56, 56), "1 × 64 × 56 × 56"),
        (True, "yes"),
        (8512.3, "8,512"),
        (123456.0, "123,456 (123 K)"),
        (Share(0.9531), "95.3 %"),
        ("[0, inf)", "[0, inf)"),
    ],
)
def test_format_readout(value, text):
    assert format_readout(value) == text


class GroupedExplorer(PowerExplorer):
    control_groups: ClassVar[dict[str, tuple[str, ...]]] = {"Curve": ("power", "scale")}


def test_control_groups_are_titled_columns_then_the_rest():
    ex = GroupedExplorer(hide=["scale"])
    column, rest = ex.widget.children[0].children
    assert column.children[0].value == "<b>Curve</b>"
    assert column.children[1:] == (ex.controls["power"],)
    assert rest is ex.controls["fixed_axes"]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ValueError("groups must divide 64"), "groups must divide 64"),
        (KeyError("power"), "power"),  # not "'power'"
        (
            UnknownNameError("unknown kind 'x'; choose one of: 'y'"),
            "unknown kind 'x'; choose one of: 'y'",
        ),
        (MemoryError(), "MemoryError"),
        (ZeroDivisionError("division by zero"), "ZeroDivisionError: division by zero"),
    ],
)
def test_error_messages_are_never_empty(error, message):
    assert _describe(error) == message


@pytest.mark.parametrize(
    ("values", "limits"),
    [([3e2, 7e6], (1e2, 1e7)), ([0, 5], (1, 10)), ([1000], (1e3, 1e4)), ([], (1, 10))],
)
def test_log_limits_are_powers_of_ten(values, limits):
    assert log_limits(values) == limits


def test_coarse_limits_round_out():
    assert coarse_limits(-3.4, 4.1, 2) == (-4, 6)
    assert coarse_limits(-4, 4, 2) == (-4, 4)


def test_random_settings_never_raise():
    def check(values):
        assert (explorer.message != "") == (values["scale"] == 0 or values["scale"] < -1.5)

    explorer = PowerExplorer()
    check_random_settings(explorer, check, max_examples=50)


@pytest.fixture
def restore_display_options():
    before = display_options()
    yield
    display_options(**vars(before))


def test_display_options_apply_to_explorers_made_after(restore_display_options):
    before = PowerExplorer()
    options = display_options(font_scale=1.5, pixel_ratio=2)
    assert options == DisplayOptions(font_scale=1.5, pixel_ratio=2.0)
    crisp = PowerExplorer()
    assert Image.open(io.BytesIO(crisp.png)).size == (1600, 700)  # 2 pixels per CSS pixel
    assert crisp.widget.children[2].children[0].width == "800"  # the same size on screen
    assert crisp.ax.xaxis.label.get_fontsize() == 1.5 * before.ax.xaxis.label.get_fontsize()
    assert Image.open(io.BytesIO(before.png)).size == (800, 350)  # made before: unchanged
    before.set(power=3)
    assert Image.open(io.BytesIO(before.png)).size == (800, 350)
    assert display_options(encoding="rgb").pixel_ratio == 2  # unset arguments stay


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"font_scale": 0}, ValueError, "font_scale must be >= 0.5, got 0"),
        ({"pixel_ratio": 4}, ValueError, "pixel_ratio must be between 0.5 and 3, got 4"),
        ({"pixel_ratio": "2"}, TypeError, "pixel_ratio must be a number"),
        ({"encoding": "jpeg"}, ValueError, "unknown encoding 'jpeg'; choose one of: 'palette'"),
    ],
)
def test_bad_display_options_are_refused(restore_display_options, arguments, error, match):
    before = display_options()
    with pytest.raises(error, match=match):
        display_options(**arguments)
    assert display_options() == before
