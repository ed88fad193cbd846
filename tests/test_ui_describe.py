"""Every picture of every explorer has a text alternative made from its data, which follows it."""

from __future__ import annotations

import asyncio
import html

import pytest

import widgets
from widgets.ui import base
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
    numbers = explorer.widget.children[6]
    assert numbers.titles == (NUMBERS_TITLE,) and numbers.selected_index is None
    assert numbers.children[0].value == ""  # closed: nothing made, nothing sent
    numbers.selected_index = 0
    table = numbers.children[0].value
    assert "<caption>Panel 1: FFN</caption>" in table and "sequence length (tokens)" in table
    explorer.set(d_model=1024)
    assert numbers.children[0].value != table  # open: kept up to date


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_describing_a_picture_never_forces_a_full_redraw(name: str) -> None:
    # reading tick labels would mark a figure stale, and the next step would redraw it all
    explorer = getattr(widgets, name)()
    explorer.set(**CHANGES[name])
    assert not any(figure.stale for figure in explorer.figures)


def test_a_drag_is_announced_once_the_controls_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    # in the kernel, slider steps arrive as comm messages on a running event loop
    monkeypatch.setattr(base, "ANNOUNCE_AFTER_S", 0.05)
    explorer = widgets.AttentionExplorer()
    first = explorer.widget.children[5].value

    async def drag() -> tuple[str, str]:
        for d_model in (256, 512, 768, 1024):
            explorer.controls["d_model"].value = d_model
        during = explorer.widget.children[5].value
        await asyncio.sleep(0.2)
        return during, explorer.widget.children[5].value

    during, rested = asyncio.run(drag())
    assert during == first  # nothing said while the slider moves
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
