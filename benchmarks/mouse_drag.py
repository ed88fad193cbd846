"""Dragging a slider with the mouse: pictures a second, and the last one after release.

For each (explorer, slider) in CASES, in JupyterLab in Chromium: press the slider's handle, sweep
it back and forth across the track for ~1 s, release. The page records when each picture of the
explorer finishes loading. Prints, per case: pictures a second during the drag (target >= 15;
the new pictures of the panel that changes most: a step changes a panel at most once, whereas
pooling all panels' loads and splitting them at 5 ms gaps, as this did before, could count one
step of a two- or three-panel explorer two or three times), ms from the release to the last
picture (target <= 100), and whether the pictures shown at the end equal those a new explorer
draws for the final control values (no stale intermediate left on screen); and the load average,
since the machine's other work slows every step.

    .venv/bin/python benchmarks/mouse_drag.py [--link 80,20,5] [--seconds 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))

import nbformat
from browser_latency import load_average, slow_link
from explorer_checks import run_notebook
from lab_page import control, explorers, fresh_page, launch_chromium
from lab_server import jupyter_server
from playwright.sync_api import Locator, Page, sync_playwright

CASES = [  # explorer, its arguments, the label of the slider dragged
    ("ActivationExplorer", "", "leaky slope"),
    ("ActivationExplorer", "", "bias shift"),
    ("LayerExplorer", "", "in channels"),
    ("AttentionExplorer", "", "seq_len (tokens)"),
    ("MemoryExplorer", "", "resolution (pixels)"),
]
QUIET_MS = 1500  # the drag is over when no picture has changed for this long

# records [panel index, performance.now()] of each picture load of the explorer, and of the
# mouse release
RECORD_JS = """root => {
    window.effmlLoads = [];
    window.effmlRelease = null;
    root.querySelectorAll('img.widget-image').forEach((img, panel) => {
        img.addEventListener('load', () => window.effmlLoads.push([panel, performance.now()]));
    });
    document.addEventListener('mouseup', () => { window.effmlRelease = performance.now(); },
                              { once: true, capture: true });
}"""
SOURCES_JS = "root => [...root.querySelectorAll('img.widget-image')].map(img => img.src)"


def notebook(case: tuple[str, str, str]) -> nbformat.NotebookNode:
    """The explorer, then a cell that hashes a new explorer's pictures at the current values."""
    name, arguments, _ = case
    check = (
        "import hashlib, json\n"
        "from widgets.ui.render import data_url\n"
        "values = {n: c.value for n, c in explorer.controls.items()}\n"
        "fresh = type(explorer)(**values)\n"
        "print('FRESH', time.time(), json.dumps("
        "[hashlib.sha1(data_url(png)).hexdigest() for png in fresh.pngs]))"
    )
    return nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                f"import time\nimport widgets\n\nexplorer = widgets.{name}({arguments})\nexplorer"
            ),
            nbformat.v4.new_code_cell(check),
        ],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def drag(page: Page, explorer: Locator, slider: Locator, seconds: float) -> dict:
    """Sweep the slider's handle back and forth for `seconds`; return the timings."""
    explorer.evaluate(RECORD_JS)
    track = slider.locator(".noUi-base").bounding_box()
    handle = slider.locator(".noUi-handle").first.bounding_box()
    y = handle["y"] + handle["height"] / 2
    page.mouse.move(handle["x"] + handle["width"] / 2, y)
    page.mouse.down()
    start, step = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        # a triangle wave over the track, one sweep a second, a move every ~10 ms
        phase = ((time.perf_counter() - start) * 2) % 2
        fraction = phase if phase < 1 else 2 - phase
        page.mouse.move(track["x"] + fraction * track["width"], y)
        step += 1
    page.mouse.up()
    pressed_at = page.evaluate("performance.now()") - 1e3 * (time.perf_counter() - start)
    page.wait_for_function(
        "() => performance.now() - Math.max(window.effmlRelease, "
        f"...window.effmlLoads.map(load => load[1])) > {QUIET_MS}",
        timeout=60_000,
    )
    loads = page.evaluate("window.effmlLoads")
    release = page.evaluate("window.effmlRelease")
    # a step changes each panel at most once: count the pictures of the busiest panel
    per_panel: dict[int, int] = {}
    for panel, t in loads:
        if pressed_at <= t <= release:
            per_panel[panel] = per_panel.get(panel, 0) + 1
    return {
        "moves": step,
        "pictures_per_s": max(per_panel.values(), default=0) / ((release - pressed_at) / 1e3),
        "last_after_release_ms": max(0.0, max((t for _, t in loads), default=release) - release),
    }


def shown_equals_fresh(page: Page, explorer: Locator) -> bool:
    """Run the check cell; compare the hashes of a new explorer's pictures with those shown."""
    shown = [hashlib.sha1(src.encode()).hexdigest() for src in explorer.evaluate(SOURCES_JS)]
    cell = page.locator(".jp-CodeCell").nth(1)
    before = cell.locator(".jp-OutputArea").inner_text()
    cell.locator(".cm-content").click()
    page.keyboard.press("Shift+Enter")
    page.wait_for_function(
        "([before]) => { const out = document.querySelectorAll('.jp-CodeCell')[1]"
        ".querySelector('.jp-OutputArea').innerText; return out.includes('FRESH') && out !== before; }",
        arg=[before],
        timeout=60_000,
    )
    text = cell.locator(".jp-OutputArea").inner_text()
    fresh = json.loads(text.split("FRESH", 1)[1].split(None, 1)[1])
    return fresh == shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--link", help="RTT_MS,DOWN_MBIT,UP_MBIT of a simulated slow link")
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    print(f"load average: {load_average()}")
    print(
        "| explorer | slider | mouse moves | pictures/s (≥ 15) | last picture after release ms (≤ 100) | final picture = fresh |"
    )
    print("|---|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "drag"
        folder.mkdir()
        for index, case in enumerate(CASES):
            nbformat.write(notebook(case), folder / f"drag_{index}.ipynb")
        with (
            jupyter_server([folder]) as server,
            slow_link(server, args.link) as server,
            sync_playwright() as playwright,
        ):
            browser = launch_chromium(playwright)
            for index, case in enumerate(CASES):
                with fresh_page(browser, server) as page:
                    run_notebook(page, server.lab_url(f"drag/drag_{index}.ipynb"))
                    (explorer,) = explorers(page)
                    slider = control(explorer, case[2])
                    result = drag(page, explorer, slider, args.seconds)
                    same = shown_equals_fresh(page, explorer)
                    print(
                        f"| {case[0]} | {case[2]} | {result['moves']} | "
                        f"{result['pictures_per_s']:.1f} | {result['last_after_release_ms']:.0f} "
                        f"| {'yes' if same else 'NO'} |",
                        flush=True,
                    )
            browser.close()
    print(f"load average: {load_average()}")


if __name__ == "__main__":
    main()
