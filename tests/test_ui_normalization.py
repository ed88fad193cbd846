"""NormalizationExplorer shows the blocks and params of widgets.core.normalization."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_random_settings

from widgets.core.normalization import normalization, torch_module
from widgets.ui.normalization import NormalizationExplorer, cell_shades, highlighted_block


@pytest.fixture(scope="module")
def explorer() -> NormalizationExplorer:
    return NormalizationExplorer()


@pytest.mark.parametrize(
    ("kind", "groups", "block", "means"),
    [
        ("batch", 1, (0, 4, 0, 1), 6),  # one channel, every sample
        ("layer", 1, (0, 1, 0, 6), 4),  # one sample, every channel
        ("instance", 1, (0, 1, 0, 1), 24),  # one sample, one channel
        ("group", 3, (0, 1, 0, 2), 12),  # one sample, C/G = 2 channels
    ],
)
def test_the_highlighted_block_is_the_one_mean_of_the_first_number(kind, groups, block, means):
    ex = NormalizationExplorer(kind=kind, num_groups=groups, batch=4, channels=6, size=5)
    view = normalization(kind, (4, 6, 5, 5), groups)
    assert ex.message == ""
    assert highlighted_block(view.ids) == block
    n0, n1, c0, c1 = block
    shades = np.asarray(ex.cells.get_array())
    assert shades.shape == (4, 6)
    assert np.array_equal(shades == 2, view.ids == view.ids[0, 0])
    assert (shades[n0:n1, c0:c1] == 2).all() and (shades == 2).sum() == (n1 - n0) * (c1 - c0)
    assert ex.readouts["means"] == view.statistics == means
    assert ex.readouts["numbers_per_mean"] == 4 * 6 * 25 // means
    module = torch_module(kind, (4, 6, 5, 5), groups)
    assert ex.readouts["params"] == sum(p.numel() for p in module.parameters())
    assert ex.readouts["module"].startswith(f"nn.{type(module).__name__}(")
    assert ex.highlight[2].get_visible() == (c1 == 6)  # the right face shows at the last channel


def test_neighbouring_blocks_get_different_shades():
    view = normalization("group", (3, 8, 2, 2), 4)
    shades = cell_shades(view.ids)
    assert shades[0, 0] == 2 and shades[0, 2] != shades[0, 4] and shades[1, 0] != shades[2, 0]


def test_groups_is_used_by_group_norm_only(explorer):
    explorer.set(kind="batch")
    assert explorer.controls["num_groups"].disabled
    explorer.set(kind="group", num_groups=2, channels=6)
    assert not explorer.controls["num_groups"].disabled


def test_groups_that_do_not_divide_the_channels_show_a_message(explorer):
    explorer.set(kind="group", num_groups=2, channels=6)
    readouts = explorer.readouts
    explorer.set(num_groups=4)
    assert explorer.message == "channels (6) must be divisible by num_groups (4)"
    assert explorer.readouts == readouts


def test_random_settings_agree_with_the_core(explorer):
    def check(values):
        shape = (values["batch"], values["channels"], values["size"], values["size"])
        try:
            view = normalization(values["kind"], shape, values["num_groups"])
        except ValueError as error:
            assert explorer.message == str(error)
        else:
            assert explorer.message == ""
            assert explorer.readouts["means"] == view.statistics
            assert explorer.readouts["params"] == view.cost.params

    check_random_settings(explorer, check, max_examples=100)


def test_one_step_of_each_slider_changes_the_picture_at_the_defaults():
    """What the browser test checks of every explorer, here without a browser."""
    for name, control in NormalizationExplorer().controls.items():
        if not hasattr(control, "max") or isinstance(control.value, bool):
            continue
        ex = NormalizationExplorer()
        png = ex.png
        step = 1 if control.value < control.max else -1
        ex.set(**{name: control.value + step})
        assert ex.png != png or ex.message, name
