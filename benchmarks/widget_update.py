"""Kernel-side time and bytes of one explorer update: every control moved across its range.

For each explorer that does not measure time (LatencyExplorer does, on each update), and each of
its controls: build the explorer, then move that control to up to `--changes` values spread over
its whole range or options, each new to the explorer (no hit in its result cache; profiles its
warm_up prepared at start are used, as a learner gets them). An update is timed from
`control.value = value` until the observer returns: compute, draw, encode the pictures of the
panels that changed and hand them to their Image widgets. Bytes are the data: URLs handed over
(what goes to the browser, base64 included). It runs in a real IPython kernel, as in JupyterLab.

Prints a row per control, then the pooled p50 / p95 per kind of control (sliders; dropdowns,
multi-selects, toggles and checkboxes) against the targets, and the load average: other work on
the machine's cores slows every step (CPU ms is what an idle machine's wall time would be).

With --random N: N steps per explorer, each moving one control (picked at random) to a value
picked at random from its whole range or options (seeded), so the explorer wanders through random
combinations of every control, extremes included (not one control swept from the defaults).
Prints slider and choice p50 / p95 per explorer (wall, then the kernel's CPU time), then pooled,
against the targets.

Usage: python benchmarks/widget_update.py [--changes 30] [--random 200] [--seed 0]
       [--pixel-ratio 1] [--font-scale 1]
"""

from __future__ import annotations

import argparse
import os
import time

import ipywidgets
import numpy as np
from render_options import run_in_kernel

import widgets

EXPLORERS = [
    "ActivationExplorer",
    "LayerExplorer",
    "AttentionExplorer",
    "MemoryExplorer",
    "EnergyExplorer",
    "RooflineExplorer",
    "ReceptiveFieldExplorer",
    "NormalizationExplorer",
    "AttentionWeightsExplorer",
    "PositionalEncodingExplorer",
]  # LatencyExplorer measures time on each update: not a rendering benchmark
SLIDERS = (ipywidgets.IntSlider, ipywidgets.FloatSlider, ipywidgets.SelectionSlider,
           ipywidgets.IntRangeSlider, ipywidgets.FloatRangeSlider)  # fmt: skip
TARGETS_MS = {"slider": 25, "choice": 50}  # pooled p95, issue 11
EXPLORER_TARGETS_MS = {"slider": 40, "choice": 70}  # p95 of any one explorer, issue 17
TARGET_SLIDER_KIB = 25  # median bytes per slider step


def kind(control: ipywidgets.ValueWidget) -> str:
    return "slider" if isinstance(control, SLIDERS) else "choice"


def control_values(control: ipywidgets.ValueWidget, changes: int) -> list:
    """Up to `changes` values the browser could send, spread over the whole range or options,
    none the current value."""
    if isinstance(control, ipywidgets.SelectMultiple):  # growing and shrinking selections
        options = [option[1] if isinstance(option, tuple) else option for option in control.options]
        values = [tuple(options[: k + 1]) for k in range(len(options))]
        values += [tuple(options[k:]) for k in range(1, len(options))]
    elif hasattr(control, "options"):
        values = [option[1] if isinstance(option, tuple) else option for option in control.options]
    elif isinstance(control.value, bool):
        values = [not control.value, control.value] * (changes // 2)
        return values[:changes]
    else:
        offsets = np.arange(0, control.max - control.min + control.step / 2, control.step)
        if isinstance(control.value, tuple):  # a range slider: narrow it from both ends
            values = [(control.min + o, control.max - o) for o in offsets if 2 * o < offsets[-1]]
        else:
            values = [type(control.value)(control.min + o) for o in offsets]
    values = [value for value in values if value != control.value]
    picked = np.linspace(0, len(values) - 1, min(changes, len(values))).round().astype(int)
    return [values[i] for i in picked]


def time_control(name: str, control_name: str, changes: int) -> tuple[str, list, list, list]:
    """Move one control of a new explorer across its range: (kind, ms, CPU ms, KiB) per step."""
    explorer = getattr(widgets, name)()
    control = explorer.controls[control_name]
    sent: list[int] = []
    for image in explorer.widget.children[2].children:
        image.observe(lambda change: sent.append(len(change["new"])), names="value")
    wall, cpu, kib = [], [], []
    for value in control_values(control, changes):
        sent.clear()
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        control.value = value
        wall.append((time.perf_counter() - wall_start) * 1e3)
        cpu.append((time.process_time() - cpu_start) * 1e3)
        if explorer.message == "":  # an invalid setting sends a message, not a picture
            kib.append(sum(sent) / 1024)
    return kind(control), wall, cpu, kib


def all_values(control: ipywidgets.ValueWidget) -> list:
    """Every value the browser could send for `control` (a range slider: every ordered pair)."""
    if isinstance(control, ipywidgets.SelectMultiple):  # every non-empty contiguous selection
        options = [option[1] if isinstance(option, tuple) else option for option in control.options]
        n = len(options)
        return [tuple(options[i:j]) for i in range(n) for j in range(i + 1, n + 1)]
    if hasattr(control, "options"):
        return [option[1] if isinstance(option, tuple) else option for option in control.options]
    if isinstance(control.value, bool):
        return [False, True]
    steps = np.arange(0, control.max - control.min + control.step / 2, control.step)
    values = [type(control.min)(control.min + o) for o in steps]
    if isinstance(control.value, tuple):
        return [(low, high) for i, low in enumerate(values) for high in values[i:]]
    return values


def time_random(name: str, steps: int, seed: int) -> tuple[dict, dict]:
    """`steps` random moves of a new explorer's controls: ms and CPU ms per step, by kind of
    control."""
    rng = np.random.default_rng(seed)
    explorer = getattr(widgets, name)()
    names = list(explorer.controls)
    choices = {control_name: all_values(explorer.controls[control_name]) for control_name in names}
    times: dict[str, list[float]] = {k: [] for k in TARGETS_MS}
    cpu_times: dict[str, list[float]] = {k: [] for k in TARGETS_MS}
    while sum(map(len, times.values())) < steps:
        control_name = names[rng.integers(len(names))]
        control = explorer.controls[control_name]
        value = choices[control_name][rng.integers(len(choices[control_name]))]
        if value == control.value:  # no change, no update
            continue
        start, cpu_start = time.perf_counter(), time.process_time()
        control.value = value
        times[kind(control)].append((time.perf_counter() - start) * 1e3)
        cpu_times[kind(control)].append((time.process_time() - cpu_start) * 1e3)
    return times, cpu_times


def report_random(steps: int, seed: int) -> None:
    """Print p50 / p95 per explorer and pooled for random combinations; call inside a kernel."""
    print(f"{steps} random steps per explorer, seed {seed}; load average before: {load_average()}")
    print(
        "| explorer | slider steps | slider p50 / p95 ms | CPU | choice steps "
        "| choice p50 / p95 ms | CPU |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    pooled: dict[str, tuple[list, list]] = {k: ([], []) for k in TARGETS_MS}
    for index, name in enumerate(EXPLORERS):
        times, cpu_times = time_random(name, steps, seed + index)
        cells = []
        for control_kind, wall in times.items():
            cpu = cpu_times[control_kind]
            pooled[control_kind][0].extend(wall)
            pooled[control_kind][1].extend(cpu)
            over = (
                " ✗" if wall and np.percentile(wall, 95) > EXPLORER_TARGETS_MS[control_kind] else ""
            )
            cells.append(
                f"{len(wall)} | {percentiles(wall).replace(' | ', ' / ')}{over} | "
                f"{percentiles(cpu).replace(' | ', ' / ')}"
            )
        print(f"| {name} | {' | '.join(cells)} |")
    print(f"\nload average after: {load_average()}\n")
    print("| pooled | steps | p50 ms | p95 ms (target) | CPU p50 / p95 ms |")
    print("|---|---:|---:|---:|---:|")
    for control_kind, (wall, cpu) in pooled.items():
        p50, p95 = np.percentile(wall, [50, 95])
        print(
            f"| {control_kind}s | {len(wall)} | {p50:.1f} | {p95:.1f} (≤ {TARGETS_MS[control_kind]}) "
            f"| {percentiles(cpu).replace(' | ', ' / ')} |"
        )
    print(f"\nper explorer p95 targets: {EXPLORER_TARGETS_MS} ms (✗: over)")


def percentiles(values: list[float]) -> str:
    if not values:
        return "- | -"
    p50, p95 = np.percentile(values, [50, 95])
    return f"{p50:.1f} | {p95:.1f}"


def report(changes: int, pixel_ratio: float, font_scale: float) -> None:
    """Print markdown tables of update times and bytes; call this inside a kernel."""
    widgets.display_options(pixel_ratio=pixel_ratio, font_scale=font_scale)
    print(f"display_options: {widgets.display_options()}; load average before: {load_average()}")
    print(
        "| explorer | control | kind | steps | p50 ms | p95 ms | CPU p50 ms | KiB p50 | KiB p95 |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    pooled: dict[str, tuple[list, list, list]] = {k: ([], [], []) for k in TARGETS_MS}
    for name in EXPLORERS:
        for control_name in getattr(widgets, name)().controls:
            control_kind, wall, cpu, kib = time_control(name, control_name, changes)
            for total, part in zip(pooled[control_kind], (wall, cpu, kib), strict=True):
                total += part
            print(
                f"| {name} | {control_name} | {control_kind} | {len(wall)} | "
                f"{percentiles(wall)} | {np.median(cpu):.1f} | {percentiles(kib)} |"
            )
    print(f"\nload average after: {load_average()}\n")
    print("| pooled | steps | p50 ms | p95 ms (target) | CPU p50 / p95 ms | KiB p50 (target) |")
    print("|---|---:|---:|---:|---:|---:|")
    for control_kind, (wall, cpu, kib) in pooled.items():
        p50, p95 = np.percentile(wall, [50, 95])
        cpu50, cpu95 = np.percentile(cpu, [50, 95])
        kib_target = f" (≤ {TARGET_SLIDER_KIB})" if control_kind == "slider" else ""
        print(
            f"| {control_kind}s | {len(wall)} | {p50:.1f} | {p95:.1f} (≤ {TARGETS_MS[control_kind]}) "
            f"| {cpu50:.1f} / {cpu95:.1f} | {np.median(kib):.1f}{kib_target} |"
        )


def load_average() -> str:
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--random", type=int, default=0, help="random steps per explorer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pixel-ratio", type=float, default=1.0)
    parser.add_argument("--font-scale", type=float, default=1.0)
    args = parser.parse_args()
    if args.random:
        call = f"report_random({args.random}, {args.seed})"
    else:
        call = f"report({args.changes}, {args.pixel_ratio}, {args.font_scale})"
    run_in_kernel(__file__, call)


if __name__ == "__main__":
    main()
