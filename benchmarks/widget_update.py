"""Kernel-side time of one explorer update while a slider moves: p50 / p95 ms per explorer.

Each case builds an explorer, then moves one control across its range, each value new (no
cache hit). An update is timed from `control.value = value` until the observer returns: compute,
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
    ("ActivationExplorer", "x_range"),  # new x ticks: every update redraws the whole figure
    ("LayerExplorer", "in_channels"),
    ("LayerExplorer", "input_size"),
    ("LayerExplorer", "kernel_size"),
]


def slider_values(control, changes: int) -> list:
    """Up to `changes` distinct values across the slider's range (a range slider widens)."""
    if isinstance(control.value, tuple):
        middle, widest = (control.min + control.max) / 2, (control.max - control.min) / 2
        return [(middle - half, middle + half) for half in np.linspace(1, widest, changes)]
    values = np.linspace(control.min, control.max, changes)
    if isinstance(control.value, int):
        return [int(v) for v in np.unique(values.round())]
    return [float(v) for v in values]


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
