"""Every picture of every explorer has a text alternative made from its data, which follows it."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from helpers import count_full_draws

import widgets
from widgets.ui import base, live_region
from widgets.ui.base import NUMBERS_TITLE

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
