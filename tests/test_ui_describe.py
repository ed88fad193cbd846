"""Every picture of every explorer has a text alternative made from its data, which follows it."""

from __future__ import annotations

import functools
import html
from collections.abc import Callable

import pytest
from helpers import count_full_draws
from torch import nn

import widgets
from widgets.core.profiler import meta_profile
from widgets.ui import base, live_region
from widgets.ui.base import NUMBERS_TITLE
from widgets.ui.describe import number
from widgets.ui.latency import LatencyModel

# explorer -> a control change that changes what its pictures show
CHANGES = {
    "ActivationExplorer": {"learning_rate": 0.3},
    "LayerExplorer": {"kernel_size": 5},
    "ReceptiveFieldExplorer": {"layers": 6},
    "NormalizationExplorer": {"kind": "layer"},
    "AttentionExplorer": {"d_model": 1024},
    "AttentionWeightsExplorer": {"causal": True},
    "PositionalEncodingExplorer": {"d_model": 128},
    "MemoryExplorer": {"resolution": 112},
    "EnergyExplorer": {"memory": "sram"},
    "RooflineExplorer": {"batch": 64},
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_every_picture_has_a_text_alternative_that_follows_its_data(name: str) -> None:
    explorer = getattr(widgets, name)()
    before = explorer.descriptions
    assert len(before) == len(explorer.figures) and all(before)
    hidden = explorer.widget.children[4].value  # after the pictures and readouts
    assert all(html.escape(text) in hidden for text in before)
    explorer.set(**CHANGES[name])
    assert explorer.message == ""
    after = explorer.descriptions
    assert after != before  # the text changed with the picture


def test_the_numbers_are_announced_and_tabled_only_when_asked() -> None:
    explorer = widgets.AttentionExplorer()
    announcement = explorer.widget.children[5].value
    assert 'aria-live="polite"' in announcement and 'role="status"' in announcement
    assert "attention MACs ≥ FFN MACs from seq_len" in announcement  # the readouts, one sentence
    button, numbers = explorer.widget.children[6].children
    assert button.description == NUMBERS_TITLE and button.value is False
    assert numbers.value == ""  # closed: nothing made, nothing sent
    button.value = True
    table = numbers.value
    assert "<caption>Panel 1: FFN</caption>" in table and "sequence length (tokens)" in table
    explorer.set(d_model=1024)
    assert numbers.value != table  # open: kept up to date
    button.value = False
    assert numbers.value == ""


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_describing_a_picture_never_forces_a_full_redraw(name: str, monkeypatch) -> None:
    # reading tick labels would mark a figure stale, and the next step would redraw it all
    explorer = getattr(widgets, name)()
    explorer.set(**CHANGES[name])
    full_draws = count_full_draws(explorer, monkeypatch)
    explorer.update()  # the same settings: described again, nothing to draw in full
    assert full_draws == []


class _Timer:
    def __init__(self, delay_s: float, callback: Callable[[], None]) -> None:
        self.delay_s, self.callback, self.cancelled = delay_s, callback, False

    def cancel(self) -> None:
        self.cancelled = True


class _KernelLoop:
    """A stand-in for the kernel's event loop: keeps the timers, runs them when told."""

    def __init__(self) -> None:
        self.timers: list[_Timer] = []

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> _Timer:
        self.timers.append(_Timer(delay_s, callback))
        return self.timers[-1]

    def waiting(self) -> list[_Timer]:
        return [timer for timer in self.timers if not timer.cancelled]


def test_a_drag_is_announced_once_the_controls_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    # in the kernel, slider steps arrive as comm messages while its event loop runs
    explorer = widgets.AttentionExplorer()
    first = explorer.widget.children[5].value
    loop = _KernelLoop()
    monkeypatch.setattr(live_region, "_kernel_event_loop", lambda: loop)
    for d_model in (256, 512, 768, 1024):
        explorer.controls["d_model"].value = d_model
    assert explorer.widget.children[5].value == first  # nothing said while the slider moves
    (timer,) = loop.waiting()  # one announcement, for the last step...
    assert timer.delay_s == live_region.ANNOUNCE_AFTER_S
    timer.callback()  # ...made once the slider rests
    rested = explorer.widget.children[5].value
    assert rested != first and "attention MACs" in rested  # the numbers it stopped at


def test_only_the_pictures_that_changed_are_described_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    explorer = widgets.MemoryExplorer()
    described = []
    monkeypatch.setattr(
        base, "describe_figure", lambda figure: described.append(figure) or "described"
    )
    explorer.set(resolution=explorer.controls["resolution"].value)  # the same view again
    assert described == []


def test_bars_side_by_side_are_named_by_their_series_and_the_tick_they_stand_on() -> None:
    explorer = widgets.LayerExplorer()
    params, macs = explorer.readouts["params"], explorer.readouts["macs"]
    bars = explorer.descriptions[0]
    assert f"params: 3 bars, largest {number(params)} (this layer)" in bars
    assert f"MACs: 3 bars, largest {number(macs)} (this layer)" in bars


def test_bars_drawn_as_one_path_are_read_bar_by_bar() -> None:
    explorer = widgets.MemoryExplorer(model="resnet18")
    # one bar per row with bytes (a bar of 0 bytes is not drawn)
    rows = meta_profile("resnet18", (1, 3, 224, 224)).memory_rows()
    text = explorer.descriptions[0]
    assert f"activations allocated: {sum(r.activation_bytes > 0 for r in rows)} bars" in text
    assert f"weights: {sum(r.weight_bytes > 0 for r in rows)} bars" in text
    largest = max(range(len(rows)), key=lambda i: rows[i].weight_bytes)
    assert f"largest {number(rows[largest].weight_bytes)} (at {largest + 1})" in text
    assert "Vertical axis: memory (bytes)" in text


def test_ranges_are_read_as_ranges_not_as_points() -> None:
    explorer = widgets.LatencyExplorer(
        models={"linear": LatencyModel("Linear 8 → 4", functools.partial(nn.Linear, 8, 4), (8,))},
        budget_s=0.002,
        batch=4,
    )
    latency, throughput = explorer.descriptions
    readouts = explorer.readouts
    assert f"median: the point (4, {number(readouts['median_ms'])})" in latency
    assert (
        f"p10 to p90: {number(readouts['p10_ms'])} to {number(readouts['p90_ms'])} at 4" in latency
    )
    assert "(0, 0)" not in latency  # a collection of segments has no points
    assert f"throughput: the point (4, {number(readouts['throughput'])})" in throughput
