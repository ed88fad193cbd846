"""PositionalEncodingExplorer shows widgets.core.tokens.sinusoidal_positional_encoding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import check_random_settings, check_same_pictures_as_new, count_full_draws
from torch.testing import assert_close

from widgets.core.tokens import sinusoidal_positional_encoding
from widgets.ui.positional_encoding import PositionalEncodingExplorer, shown_columns


@pytest.fixture(scope="module")
def explorer() -> PositionalEncodingExplorer:
    return PositionalEncodingExplorer()


def test_heat_map_and_lines_are_the_encoding(explorer):
    explorer.set(d_model=64, positions=100)
    encoding = sinusoidal_positional_encoding(100, 64)
    assert_close(torch.from_numpy(np.asarray(explorer.image.get_array())), encoding)
    assert shown_columns(64) == [8, 16, 32]
    for line, column in zip(explorer.lines, [8, 16, 32], strict=True):
        assert line.get_visible()
        assert_close(torch.from_numpy(np.asarray(line.get_ydata())), encoding[:, column])
    assert explorer.legend_texts[2].get_text() == "··· high"  # the line's style, then its name
    assert explorer.readouts["columns"] == "8, 16, 32"
    assert explorer.lines[2].get_label() == "column 32"  # named in the text alternative
    assert "column 32: from 0 at 0 to" in explorer.descriptions[1]
    assert explorer.readouts["shape"] == (100, 64)
    assert explorer.readouts["fastest_wavelength"] == pytest.approx(2 * math.pi)
    assert explorer.readouts["slowest_wavelength"] == pytest.approx(
        2 * math.pi * 10000 ** (62 / 64)
    )
    assert explorer.map_ax.get_xlim() == (-0.5, 63.5)


def test_small_d_model_draws_fewer_distinct_columns(explorer):
    explorer.set(d_model=8)
    assert shown_columns(8) == [2, 4]
    assert [line.get_visible() for line in explorer.lines] == [True, True, False]
    assert [text.get_visible() for text in explorer.legend_texts] == [True, True, False]
    assert explorer.readouts["columns"] == "2, 4"


def test_random_settings_never_raise(explorer):
    def check(values):
        assert explorer.message == ""
        assert explorer.readouts["shape"] == (values["positions"], values["d_model"])

    check_random_settings(explorer, check, max_examples=20)


def test_no_step_draws_a_panel_in_full_and_pictures_stay_exact(monkeypatch):
    ex = PositionalEncodingExplorer()
    full_draws = count_full_draws(ex, monkeypatch)
    steps = [{"d_model": 512}, {"positions": 8}, {"d_model": 136, "positions": 200},
             {"positions": 64}, {"d_model": 8}, {"positions": 512}, {"d_model": 200},
             {"d_model": 8, "positions": 100}]  # fmt: skip
    for step in steps:
        ex.set(**step)
    assert full_draws == []
    check_same_pictures_as_new(ex, steps)
