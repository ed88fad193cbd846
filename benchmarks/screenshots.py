"""Screenshots of each lab's main explorer, as JupyterLab in Chromium shows it (docs/img/).

Runs every lab top to bottom in a real JupyterLab and saves a PNG of the lab's main explorer
(the whole widget: controls, picture, readouts) and one of the first table of its numbers behind
the pictures, opened, for the README; and writes docs/img/README.md: each screenshot with the
text alternative of each of its pictures, as the page gives it to a screen reader (their `alt`).

    .venv/bin/python benchmarks/screenshots.py   # all labs -> docs/img/<lab>.png, <lab>_numbers.png
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "browser"))

from explorer_checks import run_notebook
from lab_page import explorers, fresh_page, launch_chromium, save_screenshot
from lab_server import LABS, LABS_DIR, jupyter_server
from playwright.sync_api import Locator, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
# which explorer view of a lab is its main one (default: the first); lab 03 first builds tokens
# and attention weights, and ends with the cost of attention against sequence length
MAIN_VIEW = {"03_transformers_attention": -1}


IMAGES = ROOT / "docs" / "img"
HEADER = """# Screenshots and what a screen reader hears

Made by `benchmarks/screenshots.py`: each lab's main explorer in JupyterLab (Chromium). Under
each, the text alternative of each picture as the page gives it to assistive technology (the `alt`
the explorer wrote from the picture's data), then the first table of its numbers behind the
pictures, opened.
"""


def alt_texts(view: Locator) -> list[str]:
    """The text alternative of each picture in the explorer, left to right."""
    return [image.get_attribute("alt") or "" for image in view.locator("img.widget-image").all()]


def main() -> None:
    sections = [HEADER]
    with jupyter_server([LABS_DIR]) as server, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        for lab in LABS:
            with fresh_page(browser, server) as page:
                run_notebook(page, server.lab_url(f"labs/{lab.name}"))
                view = explorers(page)[MAIN_VIEW.get(lab.stem, 0)]
                print(save_screenshot(view, IMAGES / f"{lab.stem}.png").relative_to(ROOT))
                texts = alt_texts(view)
                view.locator(".effml-numbers button").click()
                table = view.locator(".effml-numbers table").first
                table.wait_for()
                numbers = save_screenshot(table, IMAGES / f"{lab.stem}_numbers.png")
                print(numbers.relative_to(ROOT))
            sections.append(
                f"## {lab.stem}\n\n![{lab.stem}]({lab.stem}.png)\n\n"
                + "".join(f"{n}. {text}\n" for n, text in enumerate(texts, 1))
                + "\nThe first table of the numbers behind the pictures:\n\n"
                f"![{lab.stem}: the first table of its numbers]({numbers.name})\n"
            )
        browser.close()
    (IMAGES / "README.md").write_text("\n".join(sections))


if __name__ == "__main__":
    main()
