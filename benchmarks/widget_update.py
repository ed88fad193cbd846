"""Kernel-side time of one explorer update while a slider moves: p50 / p95 ms per explorer.

Each case builds an explorer, then moves one control across its range or options, each value
new to the explorer (no hit in its result cache; profiles its warm_up prepared at start are
used, as a learner gets them). An update is timed from `control.value = value` until the observer returns: compute,
draw, render the PNG and hand it to the Image widget. It runs in a real IPython kernel, as in
JupyterLab (the browser's part is not included). Add an explorer with one line in CASES.

Usage: python benchmarks/widget_update.py [--changes 50]
"""

from __future__ import annotations

import argparse

import numpy as np
from render_options import TIMES_ALIGN, TIMES_HEADER, run_in_kernel, time_updates

import widgets

CASES = [  # (explorer, control moved); the others keep their defaults
    ("ActivationExplorer", "negative_slope"),
    ("ActivationExplorer", "bias_shift"),
    ("ActivationExplorer", "x_range"),  # new x ticks: every update redraws the curves' axes
    ("LayerExplorer", "in_channels"),
    ("LayerExplorer", "input_size"),
    ("LayerExplorer", "kernel_size"),
    ("ReceptiveFieldExplorer", "layers"),
    ("ReceptiveFieldExplorer", "input_size"),  # a new image size: new image extent and ticks
    ("NormalizationExplorer", "kind"),
    ("NormalizationExplorer", "channels"),  # a new cell grid: the right panel is redrawn
    ("AttentionExplorer", "d_model"),
    ("AttentionExplorer", "seq_len"),
    ("MemoryExplorer", "model"),
    ("MemoryExplorer", "resolution"),  # each new resolution is a new profile
    ("MemoryExplorer", "batch"),
    ("EnergyExplorer", "workload"),
    ("RooflineExplorer", "model"),
    ("RooflineExplorer", "batch"),
    ("AttentionWeightsExplorer", "causal"),
    ("AttentionWeightsExplorer", "sentence"),  # new tick labels: redraws the heat map's axes
    ("PositionalEncodingExplorer", "d_model"),  # new limits each step: redraws both axes
    # LatencyExplorer measures time on each update: not a rendering benchmark
]


def slider_values(control, changes: int) -> list:
    """Up to `changes` values the browser could send (options, or steps of the slider), spread
    over the whole range, none the current value."""
    if hasattr(control, "options"):
        values = [option[1] if isinstance(option, tuple) else option for option in control.options]
    else:
        offsets = np.arange(0, control.max - control.min + control.step / 2, control.step)
        if isinstance(control.value, tuple):  # a range slider: narrow it from both ends
            values = [(control.min + o, control.max - o) for o in offsets if 2 * o < offsets[-1]]
        else:
            values = [type(control.value)(control.min + o) for o in offsets]
    values = [value for value in values if value != control.value]
    picked = np.linspace(0, len(values) - 1, min(changes, len(values))).round().astype(int)
    return [values[i] for i in picked]


def report(changes: int) -> None:
    """Print a markdown table of update times; call this inside a kernel."""
    print(f"| explorer | control moved | updates | {TIMES_HEADER} | messages |")
    print(f"|---|---|---:|{TIMES_ALIGN}|---:|")
    for name, control_name in CASES:
        print(time_case(name, control_name, changes))


def time_case(name: str, control_name: str, changes: int) -> str:
    """One table row: move the control of a new explorer across its range."""
    explorer = getattr(widgets, name)()
    control = explorer.controls[control_name]
    values = slider_values(control, changes)
    messages = []

    def move(value) -> None:
        control.value = value
        messages.append(explorer.message)

    times = time_updates(move, values)
    shown = sum(message != "" for message in messages)
    return f"| {name} | {control_name} | {len(values)} | {times} | {shown} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    run_in_kernel(__file__, f"report({args.changes})")


if __name__ == "__main__":
    main()
