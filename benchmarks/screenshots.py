"""Screenshots of each lab's main explorer, as JupyterLab in Chromium shows it (docs/img/).

Runs every lab top to bottom in a real JupyterLab and saves a PNG of the lab's main explorer
(the whole widget: controls, picture, readouts), for the README.

    .venv/bin/python benchmarks/screenshots.py            # all labs -> docs/img/<lab>.png
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))

from explorer_checks import run_notebook
from lab_page import explorers, fresh_page, launch_chromium, save_screenshot
from lab_server import LABS, LABS_DIR, jupyter_server
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
# which explorer view of a lab is its main one (default: the first); lab 03 first builds tokens
# and attention weights, and ends with the cost of attention against sequence length
MAIN_VIEW = {"03_transformers_attention": -1}


def main() -> None:
    with jupyter_server([LABS_DIR]) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for lab in LABS:
            with fresh_page(browser, server) as page:
                run_notebook(page, server.lab_url(f"labs/{lab.name}"))
                image = ROOT / "docs" / "img" / f"{lab.stem}.png"
                view = explorers(page)[MAIN_VIEW.get(lab.stem, 0)]
                print(save_screenshot(view, image).relative_to(ROOT))
        browser.close()


if __name__ == "__main__":
    main()
