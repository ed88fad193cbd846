"""ReceptiveFieldExplorer shows what widgets.core.receptive_field computes, which torch confirms."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_random_settings

from widgets.core.receptive_field import layers_to_see_all, receptive_field
from widgets.ui.receptive_field import ReceptiveFieldExplorer


@pytest.fixture(scope="module")
def explorer() -> ReceptiveFieldExplorer:
    return ReceptiveFieldExplorer()


def expected_field(values: dict):
    padding = values["dilation"] * (values["kernel_size"] - 1) // 2 if values["padded"] else 0
    return receptive_field(
        values["input_size"], values["layers"], values["kernel_size"], values["stride"],
        values["dilation"], padding,
    )  # fmt: skip


def shown(explorer: ReceptiveFieldExplorer) -> dict:
    return {name: control.value for name, control in explorer.controls.items()}


def test_image_and_readouts_are_the_core_field(explorer):
    explorer.set(layers=3, kernel_size=5, stride=2, dilation=1, padded=True, input_size=40)
    field = expected_field(shown(explorer))
    assert explorer.message == ""
    image = np.asarray(explorer.image.get_array())
    assert image.shape == (40, 40)
    assert np.array_equal(image == 1, field.seen[:, None] & field.seen[None, :])
    assert explorer.readouts["receptive_field"] == field.size == 1 + 4 * (1 + 2 + 4)
    assert explorer.readouts["pixels_seen"] == field.pixels_seen**2
    assert explorer.readouts["output_sizes"] == "40 → 20 → 10 → 5"
    assert explorer.readouts["layers_needed"] == layers_to_see_all(40, 5, 2)
    assert explorer.readouts["layers_needed_stride_1"] == layers_to_see_all(40, 5) == 10
    assert list(explorer.current_marker.get_xdata()) == [3]
    assert list(explorer.image_line.get_ydata()) == [40, 40]


def test_stride_1_grows_by_k_minus_1_a_layer(explorer):
    explorer.set(layers=6, kernel_size=3, stride=1, dilation=1, padded=False, input_size=64)
    assert explorer.readouts["receptive_field"] == 6 * 2 + 1
    assert list(explorer.stride_1_line.get_ydata()[:4]) == [3, 5, 7, 9]
    assert list(explorer.stride_line.get_ydata()) == list(explorer.stride_1_line.get_ydata())


def test_kernel_1_never_sees_the_whole_image(explorer):
    explorer.set(kernel_size=1, stride=1, dilation=1)
    assert explorer.readouts["layers_needed"].startswith("never")


def test_too_small_an_input_shows_a_message_and_keeps_the_view():
    ex = ReceptiveFieldExplorer(layers=2, kernel_size=3, input_size=16)
    readouts, png = ex.readouts, ex.png
    ex.set(layers=8, padded=False, input_size=10)
    assert "kernel_size 3" in ex.message and "larger than the padded input" in ex.message
    assert ex.readouts == readouts and ex.png == png
    ex.set(padded=True)
    assert ex.message == ""


def test_random_settings_agree_with_the_core(explorer):
    def check(values):
        try:
            field = expected_field(values)
        except ValueError as error:
            assert explorer.message == str(error)
        else:
            assert explorer.message == ""
            assert explorer.readouts["receptive_field"] == field.size
            assert explorer.readouts["pixels_seen"] == field.pixels_seen**2

    check_random_settings(explorer, check, max_examples=100)


def test_one_step_of_each_slider_changes_the_picture_at_the_defaults():
    """What the browser test checks of every explorer, here without a browser."""
    for name, control in ReceptiveFieldExplorer().controls.items():
        if not hasattr(control, "max") or isinstance(control.value, bool):
            continue
        ex = ReceptiveFieldExplorer()
        png = ex.png
        step = 1 if control.value < control.max else -1
        ex.set(**{name: control.value + step})
        assert ex.png != png or ex.message, name
