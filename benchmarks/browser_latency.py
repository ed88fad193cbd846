"""Slider-to-picture latency of every explorer, measured in a real browser (JupyterLab, Chromium).

For each slider of each explorer in the given notebooks: press ArrowRight on its handle 30 times
(ArrowLeft when at the maximum), each time timing in the page from the keydown to the first frame
drawn after the new PNG has loaded (see tests/browser/lab_page.py: ARM_PROBE_JS). This is what a
student feels: browser -> kernel -> matplotlib -> PNG -> browser. Prints p50 and p95 per slider
over the n steps that drew a new picture (steps to invalid settings show a message instead; a
step with no new picture within 1 s is not counted, and after five in a row the slider is left),
then pooled over every slider, and over every slider of the explorers that do not measure time
(LatencyExplorer times its model on each new setting: not a rendering benchmark); the CPU time
each process spent per drawn step (browser, kernel, server: they share the cores), and the load
average before and after: other work on the 2 cores slows every step.

    .venv/bin/python benchmarks/browser_latency.py tests/browser/fixtures/explorer.ipynb
    .venv/bin/python benchmarks/browser_latency.py labs/*.ipynb
    .venv/bin/python benchmarks/browser_latency.py --link 80,20,5 labs/*.ipynb

--link RTT_MS,DOWN_MBIT,UP_MBIT puts benchmarks/slow_link.py between the browser and the server:
a learner's link to Binder, with its delay and bandwidth.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))

import psutil
from explorer_checks import run_notebook
from lab_page import explorers, fresh_page, launch_chromium, slider_latencies_ms, sliders
from lab_server import jupyter_server
from playwright.sync_api import Locator, Page, sync_playwright
from slow_link import SlowLink


def p50_p95(latencies_ms: list[float]) -> str:
    """Median and 95th percentile (ms), as two columns; dashes for fewer than two values."""
    if len(latencies_ms) < 2:
        return f"{'-':>8} {'-':>8}"
    percentiles = statistics.quantiles(latencies_ms, n=100, method="inclusive")
    return f"{percentiles[49]:8.1f} {percentiles[94]:8.1f}"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as `uptime` shows them."""
    return ", ".join(f"{load:.2f}" for load in os.getloadavg())


# who spends the CPU while a slider moves: a process is counted under the first role it matches
ROLES = {
    "browser: page (renderer)": "--type=renderer",
    "browser: compositor (gpu)": "--type=gpu-process",
    "browser: network, other": "--type=",
    "browser: main": "chromium",
    "kernel": "ipykernel_launcher",
    "jupyter server": "jupyter",
    "playwright and this script": "",
}


def cpu_seconds_by_role() -> dict[str, float]:
    """CPU time (user + system, s) used so far by this script and the processes it started
    (the Jupyter server and its kernels, playwright and Chromium), by role in ROLES."""
    seconds = dict.fromkeys(ROLES, 0.0)
    this_script = psutil.Process()
    for process in [this_script, *this_script.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):  # it may end while we look
            command = " ".join(process.cmdline())
            times = process.cpu_times()
            role = next(role for role, word in ROLES.items() if word in command)
            seconds[role] += times.user + times.system
    return seconds


MEASURES_TIME = {"LatencyExplorer"}


def explorer_name(explorer: Locator) -> str:
    """The explorer's class name (each explorer's box carries it as a CSS class)."""
    return next(
        name for name in explorer.get_attribute("class").split() if name.endswith("Explorer")
    )


def measure_notebook(page: Page, url: str, name: str, presses: int) -> dict[str, list[float]]:
    """Run the notebook; print a row per slider of each explorer, then the CPU per drawn step;
    return every step's ms, by explorer class name."""
    run_notebook(page, url)
    cpu_before, steps_by_explorer = cpu_seconds_by_role(), {}
    for explorer in explorers(page):
        kind = explorer_name(explorer)
        explorer_steps = steps_by_explorer.setdefault(kind, [])
        for slider in sliders(explorer):
            label = slider.locator("label.widget-label").text_content()
            latencies = slider_latencies_ms(explorer, slider, presses)
            explorer_steps += latencies
            print(f"{name:32} {kind:26} {label:20} {len(latencies):3} {p50_p95(latencies)}")
    steps = sum(len(latencies) for latencies in steps_by_explorer.values())
    cpu_after = cpu_seconds_by_role()
    per_step = {role: 1e3 * (cpu_after[role] - cpu_before[role]) / max(steps, 1) for role in ROLES}
    print(
        f"  CPU ms per drawn step ({sum(per_step.values()):.0f} in all, on {os.cpu_count()} "
        "cores): " + ", ".join(f"{role} {ms:.0f}" for role, ms in per_step.items())
    )
    return steps_by_explorer


@contextlib.contextmanager
def slow_link(server, link: str | None):
    """The server as seen through a SlowLink of "RTT_MS,DOWN_MBIT,UP_MBIT", or as it is."""
    if link is None:
        yield server
        return
    rtt_ms, down_mbit, up_mbit = (float(part) for part in link.split(","))
    port = int(server.url.rsplit(":", 1)[1])
    with SlowLink(port, rtt_ms / 2e3, down_mbit * 1e6, up_mbit * 1e6) as proxy:
        print(f"through a slow link: {proxy.describe()}")
        yield dataclasses.replace(server, url=f"http://127.0.0.1:{proxy.port}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks with explorers")
    parser.add_argument("--presses", type=int, default=30, help="key presses per slider")
    parser.add_argument("--link", help="RTT_MS,DOWN_MBIT,UP_MBIT of a simulated slow link")
    args = parser.parse_args()
    notebooks = [path.resolve() for path in args.notebooks]

    print(f"load average: {load_average()}")
    print(f"{'notebook':32} {'explorer':26} {'slider':20} {'n':>3} {'p50 ms':>8} {'p95 ms':>8}")
    folders = list(dict.fromkeys(path.parent for path in notebooks))
    with (
        jupyter_server(folders) as server,
        slow_link(server, args.link) as server,
        sync_playwright() as playwright,
    ):
        browser = launch_chromium(playwright)
        every_step, untimed_steps = [], []
        for notebook in notebooks:
            with fresh_page(browser, server) as page:
                url = server.lab_url(f"{notebook.parent.name}/{notebook.name}")
                steps_by_explorer = measure_notebook(page, url, notebook.name, args.presses)
            for explorer, latencies in steps_by_explorer.items():
                every_step += latencies
                untimed_steps += [] if explorer in MEASURES_TIME else latencies
        browser.close()
    for label, steps in [("every slider", every_step), ("but LatencyExplorer's", untimed_steps)]:
        print(f"{label:32} {'':26} {'':20} {len(steps):3} {p50_p95(steps)}")
    print(f"load average: {load_average()}")


if __name__ == "__main__":
    main()
