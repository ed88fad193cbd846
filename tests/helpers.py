"""Helpers shared by several test files (pytest puts tests/ on sys.path: `from helpers import ...`).

- layer_row, hand_made_profile: small Profiles with numbers chosen by hand.
- control_settings, check_random_settings: random control values never break an explorer.
- count_full_draws: which panels of an explorer are redrawn in full.
- check_same_pictures_as_new: an explorer's pictures after steps equal a new explorer's.
- torch_flops, torch_macs: FLOPs and MACs as torch's FlopCounterMode counts them; floats: a float64 tensor.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from widgets.core.profiler import LayerRow, Profile
from widgets.ui.base import Explorer

# --- hand-made profiles -----------------------------------------------------------------------


def layer_row(
    name: str,
    kind: str = "Linear",
    params: int = 0,
    macs: int = 0,
    inputs: int = 0,
    outputs: int = 0,
) -> LayerRow:
    """A fp32 row that reads `inputs` numbers and writes `outputs` numbers (a 1-d output)."""
    return LayerRow(
        name=name,
        kind=kind,
        output_shape=(outputs,),
        params=params,
        macs=macs,
        input_elements=inputs,
        output_elements=outputs,
        activation_elements=outputs,
        weight_bytes=params * 4,
        activation_bytes=outputs * 4,
        live_activation_bytes=0.0,
    )


def hand_made_profile(*rows: LayerRow, bits: int = 32, activation_bits: int = 32) -> Profile:
    """A Profile of `rows`: params and MACs summed; the byte totals, which no test reads, 0."""
    return Profile(
        params=sum(row.params for row in rows),
        macs=sum(row.macs for row in rows),
        bits=bits,
        activation_bits=activation_bits,
        weight_bytes=0.0,
        activation_bytes=0.0,
        peak_activation_bytes=0.0,
        peak_layer="",
        layers=rows,
    )


# --- random control settings ------------------------------------------------------------------


def control_settings(controls: dict[str, ipywidgets.ValueWidget]) -> st.SearchStrategy[dict]:
    """Random values for every control, within its min/max or options."""
    return st.fixed_dictionaries({name: _values(control) for name, control in controls.items()})


def _values(control: ipywidgets.ValueWidget) -> st.SearchStrategy:
    if hasattr(control, "options"):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        if isinstance(control, ipywidgets.SelectMultiple):
            return st.lists(st.sampled_from(options), unique=True).map(tuple)
        return st.sampled_from(options)
    if isinstance(control.value, bool):
        return st.booleans()
    if isinstance(control, (ipywidgets.IntRangeSlider, ipywidgets.FloatRangeSlider)):
        number = _number(control.min, control.max)
        return st.tuples(number, number).map(sorted).map(tuple)
    return _number(control.min, control.max)


def _number(low: float, high: float) -> st.SearchStrategy:
    if isinstance(low, int) and isinstance(high, int):
        return st.integers(low, high)
    return st.floats(low, high)


def check_random_settings(
    explorer: Explorer,
    check: Callable[[dict[str, Any]], None],
    max_examples: int = 200,
    examples: Sequence[dict[str, Any]] = (),
) -> None:
    """Set `explorer` to `max_examples` random control settings (hypothesis, shrunk on failure).

    After each: no exception, the same figure, a message string, and `check(values)` passes;
    it asserts what this explorer must show for `values`. `examples` are settings always tried
    first (failures once found, pinned): each gives some controls, the others keep their
    current values.
    """
    current = {name: control.value for name, control in explorer.controls.items()}

    @settings(max_examples=max_examples, deadline=None)
    @given(values=control_settings(explorer.controls))
    def set_and_check(values: dict[str, Any]) -> None:
        figure = explorer.figure
        explorer.set(**values)
        assert explorer.figure is figure
        assert isinstance(explorer.message, str)
        check(values)

    for pinned in reversed(examples):  # example() decorators run bottom-up: keep the order
        set_and_check = example(values=current | dict(pinned))(set_and_check)
    set_and_check()


def count_full_draws(explorer: Explorer, monkeypatch: Any) -> list[int]:
    """A list that gets the panel's index each time `explorer` redraws a whole panel from now on
    (a one-panel explorer: 0 for each full redraw)."""
    full_draws: list[int] = []
    for index, panel in enumerate(explorer._panels):
        draw = panel.canvas.draw

        def counted(index: int = index, draw: Callable[[], None] = draw) -> None:
            full_draws.append(index)
            draw()

        monkeypatch.setattr(panel.canvas, "draw", counted)
    return full_draws


def check_same_pictures_as_new(explorer: Explorer, steps: Sequence[dict[str, Any]]) -> None:
    """After each step (some controls set), `explorer` shows the pictures of a new explorer made
    at its settings: no saved background (`Explorer.layouts`) shows anything out of date."""
    for step in steps:
        explorer.set(**step)
        values = {name: control.value for name, control in explorer.controls.items()}
        assert explorer.pngs == type(explorer)(**values).pngs, f"after {step}: {values}"


def torch_flops(module: Any, *inputs: Any, **keyword_inputs: Any) -> int:
    """FLOPs of `module(*inputs, **keyword_inputs)` as torch's FlopCounterMode counts them."""
    with FlopCounterMode(display=False) as counter:
        module(*inputs, **keyword_inputs)
    return counter.get_total_flops()


def torch_macs(module: Any, *inputs: Any, **keyword_inputs: Any) -> int:
    """MACs of `module(*inputs, **keyword_inputs)` as torch counts them: FlopCounterMode's
    FLOPs / 2."""
    return torch_flops(module, *inputs, **keyword_inputs) // 2


def floats(values: Any) -> torch.Tensor:
    """`values` as a float64 tensor, for assert_close."""
    return torch.tensor([float(v) for v in values], dtype=torch.float64)
