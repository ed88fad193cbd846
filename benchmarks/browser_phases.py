"""Where a key press's time goes, from the slider's handle to its new picture on screen.

The same steps as benchmarks/browser_latency.py (JupyterLab, Chromium, loopback; lab_page's
slider_latencies_ms), with the page's websocket watched: for each step that drew a new picture, the times after the keydown at which
- the browser sent the new value to the kernel (`sent`),
- the page's main thread was first free for another task (`page free`: until then it is busy
  with the key press itself: the slider, JupyterLab's reaction to it, style and layout),
- the kernel's "busy" status arrived (`busy`: the kernel started on the message; the page sees
  it once its main thread is free),
- the first new picture arrived (`picture in`: the kernel's update, compute to PNG, done),
- the picture was on screen (`on screen`: decoded and drawn, see lab_page.ARM_PROBE_JS).
Prints the median of each per explorer, then over every step.

    .venv/bin/python benchmarks/browser_phases.py labs/*.ipynb
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))

from browser_latency import explorer_name, load_average
from explorer_checks import run_notebook
from lab_page import (
    explorers,
    fresh_page,
    launch_chromium,
    slider_latencies_ms,
    sliders,
    timed_step,
)
from lab_server import jupyter_server
from playwright.sync_api import Locator, sync_playwright

# Before the page's own scripts: log each websocket frame sent and received (with the kernel
# message type of those received) and, at each keydown, when the main thread is next free.
WATCH_JS = """
window.effmlLog = [];
const log = entry => window.effmlLog.push({ t: performance.now(), ...entry });
const PageWebSocket = window.WebSocket;
window.WebSocket = class extends PageWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', event => {
      const data = event.data;
      const head = typeof data === 'string' ? data.slice(0, 3000)
        : new TextDecoder('latin1').decode(new Uint8Array(data, 0, Math.min(3000, data.byteLength)));
      const type = head.match(/"msg_type":\\s*"(\\w+)"/)?.[1] ?? '';
      const state = head.match(/"execution_state":\\s*"(\\w+)"/)?.[1] ?? '';
      // an Image's new value travels as a binary buffer: the only buffers our explorers send
      const picture = /"buffer_paths":\\s*\\[\\s*\\[\\s*"value"/.test(head);
      log({ what: 'in', type, state, picture });
    });
  }
  send(data) { log({ what: 'out' }); super.send(data); }
};
document.addEventListener('keydown', () => {
  log({ what: 'key' });
  const channel = new MessageChannel();  // a task: runs once the main thread is free
  channel.port1.onmessage = () => log({ what: 'free' });
  channel.port2.postMessage(0);
}, { capture: true });
"""
PHASES = ("sent", "page free", "busy", "picture in", "on screen")


def phases_ms(log: list[dict], on_screen_ms: float) -> dict[str, float] | None:
    """Each phase's time after the keydown (ms), from one step's log; None if one is missing."""
    key = next((entry["t"] for entry in log if entry["what"] == "key"), None)
    times = {
        "sent": next((e["t"] for e in log if e["what"] == "out"), None),
        "page free": next((e["t"] for e in log if e["what"] == "free"), None),
        "busy": next((e["t"] for e in log if e.get("state") == "busy"), None),
        "picture in": next((e["t"] for e in log if e.get("picture")), None),
    }
    if key is None or None in times.values():
        return None
    return {**{phase: t - key for phase, t in times.items()}, "on screen": on_screen_ms}


def explorer_steps(explorer: Locator, presses: int) -> list[dict[str, float]]:
    """Each slider of the explorer stepped as browser_latency steps it: the phases of each step
    that drew a new picture."""
    page, steps = explorer.page, []

    def watched_step(explorer: Locator, slider: Locator, key: str, wait_ms: int):
        page.evaluate("window.effmlLog.length = 0")
        shown, ms = timed_step(explorer, slider, key, wait_ms)
        phases = phases_ms(page.evaluate("window.effmlLog"), ms) if shown == "image" else None
        if phases is not None:
            steps.append(phases)
        return shown, ms

    for slider in sliders(explorer):
        slider_latencies_ms(explorer, slider, presses, step=watched_step)
    return steps


def row(label: str, steps: list[dict[str, float]]) -> str:
    medians = (statistics.median(step[phase] for step in steps) for phase in PHASES)
    return f"| {label} | {len(steps)} | " + " | ".join(f"{ms:.1f}" for ms in medians) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks with explorers")
    parser.add_argument("--presses", type=int, default=15, help="key presses per slider")
    args = parser.parse_args()
    notebooks = [path.resolve() for path in args.notebooks]
    print(f"load average: {load_average()}; median ms after the keydown")
    print("| explorer | steps | " + " | ".join(PHASES) + " |")
    print("|---|---:|" + "---:|" * len(PHASES))
    every_step = []
    folders = list(dict.fromkeys(path.parent for path in notebooks))
    with jupyter_server(folders) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for notebook in notebooks:
            with fresh_page(browser, server) as page:
                page.add_init_script(WATCH_JS)
                run_notebook(page, server.lab_url(f"{notebook.parent.name}/{notebook.name}"))
                for explorer in explorers(page):
                    steps = explorer_steps(explorer, args.presses)
                    if steps:
                        print(row(explorer_name(explorer), steps), flush=True)
                    every_step += steps
        browser.close()
    print(row("**every step**", every_step))
    print(f"load average: {load_average()}")


if __name__ == "__main__":
    main()
