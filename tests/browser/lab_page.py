"""Drive a notebook in JupyterLab or Notebook 7 like a student (open it, Run All, move controls,
read errors), or a lab served by Voilà like a class (open it, move controls).

Every wait is on a condition in the page (a prompt, an img src, a text), never a fixed sleep.
An *explorer* is a widget view with pictures, laid out as widgets.ui.base.Explorer does it:
controls (sliders, dropdowns), a message box (class effml-message, empty unless the setting
is invalid), the pictures (one `img.widget-image` per panel, each a PNG), and HTML readouts.
An invalid setting only shows a message: the picture and readouts stay as they were.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from lab_server import JupyterServer
from playwright.sync_api import Browser, Locator, Page, Playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
VIEWPORT = {"width": 1280, "height": 1000}

OPEN_TIMEOUT_MS = 60_000  # JupyterLab's first load on 2 cores takes ~4 s
RUN_ALL_TIMEOUT_MS = 300_000  # a lab may import torch and profile a few models
UPDATE_TIMEOUT_MS = 30_000  # one redraw after moving a control

WIDGET_VIEW = ".jp-OutputArea-output > .jupyter-widgets"  # the root of a displayed widget
EXPLORER = f"{WIDGET_VIEW}:has(img.widget-image)"
CONTROL = ", ".join([
    ".widget-slider", ".widget-dropdown", ".widget-select", ".widget-toggle-buttons",
    ".widget-radio", ".widget-checkbox", ".widget-text", ".widget-button",
])  # fmt: skip
# a control's description: beside it, or (for a checkbox) in the label around the box
CONTROL_LABEL = "label.widget-label, label.widget-label-basic"
STDERR_OUTPUT = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
ERROR_MIME_OUTPUT = '.jp-OutputArea-output[data-mime-type*="error"]'
ERROR_OUTPUT = ", ".join([
    f'{STDERR_OUTPUT}:has-text("Traceback")',  # JupyterLab 4 shows exceptions as stderr
    ERROR_MIME_OUTPUT,
    '.jp-OutputArea-output:has-text("Error displaying widget")',
])  # fmt: skip

# true once the notebook has a session: the toolbar then names its kernel
KERNEL_CHOSEN_JS = (
    "!['', 'No Kernel'].includes(document.querySelector('.jp-KernelName')?.innerText ?? '')"
)
KERNEL_STATUS_JS = "document.querySelector('.jp-Notebook-ExecutionIndicator')?.dataset.status"
VOILA_OUTPUT_MIME = "application/vnd.voila.cell-output+json"  # an output not shown yet
MESSAGE_BOX = ".effml-message"  # the explorer's message box (widgets/ui/base.py)
# what a check can watch change in an explorer: JS functions of the explorer's root element
PART_JS = {
    # each redraw gives a panel's image a new data: URL (it changes whenever its picture does)
    "image": """root => [...root.querySelectorAll('img.widget-image')]
                        .map(img => img.getAttribute('src') ?? '').join(' ')""",
    "readout": f"""root => [...root.querySelectorAll('.widget-html:not({MESSAGE_BOX})')]
                          .map(html => html.innerText).join('\\n')""",
    "message": f"root => root.querySelector('{MESSAGE_BOX}')?.innerText.trim() ?? ''",
    # what the live region says (the package's explorers): once the controls come to rest
    "announcement": "root => root.querySelector('[aria-live]')?.textContent.trim() ?? ''",
    "readout table": "root => root.querySelector('.effml-readouts')?.textContent.trim() ?? ''",
}
OTHER_WAY = {"ArrowRight": "ArrowLeft", "ArrowLeft": "ArrowRight"}


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian Chromium (playwright's own browser download does not work here)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@contextmanager
def fresh_page(browser: Browser, server: JupyterServer, zoom: float = 1.0) -> Iterator[Page]:
    """A page in a new browser context, at `zoom` (2.0: the browser zoomed to 200 %, i.e. half
    as many CSS pixels, each drawn twice as large); afterwards the kernels it started are shut
    down."""
    viewport = {name: round(size / zoom) for name, size in VIEWPORT.items()}
    context = browser.new_context(viewport=viewport, device_scale_factor=zoom)
    try:
        yield context.new_page()
    finally:
        context.close()
        server.shutdown_kernels()


def click_menu(page: Page, menu: str, command: str) -> None:
    """Click `menu` in the menu bar, then the item that runs JupyterLab `command`."""
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(menu)}$")).click()
    page.locator(f"li.lm-Menu-item[data-command='{command}']").click()


def has_log_console(page: Page) -> bool:
    """Whether the front end has a Log Console: JupyterLab and Notebook 7.4 or later do,
    Voilà (no menu bar) and older Notebooks do not. Looks in the View menu and closes it."""
    if not page.locator(".lm-MenuBar").count():
        return False
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^View$")).click()
    found = page.locator("li.lm-Menu-item[data-command='logconsole:open']").count() > 0
    page.keyboard.press("Escape")
    return found


def open_notebook(page: Page, url: str) -> None:
    """Load `url`, accept the default kernel if JupyterLab asks for one, wait for the notebook."""
    page.goto(url)
    # a notebook without kernelspec metadata gets a dialog asking for a kernel
    page.wait_for_function(
        f"() => document.querySelector('.jp-Dialog') || {KERNEL_CHOSEN_JS}", timeout=OPEN_TIMEOUT_MS
    )
    select_kernel = page.locator(".jp-Dialog", has_text="Select Kernel")
    if select_kernel.is_visible():
        select_kernel.locator(".jp-mod-accept").click()
    page.locator(".jp-NotebookPanel .jp-Notebook").wait_for(timeout=OPEN_TIMEOUT_MS)


def run_all_cells(page: Page) -> None:
    """Run > Run All Cells, then wait until every cell ran (or one failed) and widgets are drawn.

    The run starts only once the kernel is up: a Run All sent while it is still starting can be
    dropped. Run All marks each code cell [*] and the mark turns into [n] when the cell finishes;
    after an error the rest of the queue is dropped, so an error output also ends the wait.
    """
    page.wait_for_function(
        f"() => {KERNEL_STATUS_JS} === 'idle' && {KERNEL_CHOSEN_JS}",
        timeout=OPEN_TIMEOUT_MS,
    )
    click_menu(page, "Run", "runmenu:run-all")
    page.wait_for_function(
        f"""() => {{
            const prompts = [...document.querySelectorAll('.jp-CodeCell')]
                .filter(cell => cell.querySelector('.cm-content')?.innerText.trim())
                .map(cell => cell.querySelector('.jp-InputPrompt').textContent);
            const failed = document.querySelector('{STDERR_OUTPUT}, {ERROR_MIME_OUTPUT}');
            return {KERNEL_STATUS_JS} === 'idle' && !prompts.some(p => p.includes('*'))
                && (failed || prompts.every(p => /\\[\\d+\\]/.test(p)));
        }}""",
        timeout=RUN_ALL_TIMEOUT_MS,
    )
    wait_for_widget_views(page)


def show_app(page: Page, url: str) -> None:
    """Load a notebook served by Voilà and wait until its outputs are shown and its widgets drawn.

    Voilà runs the notebook, then shows the page; each output arrives as a script element that
    its front end replaces by the rendered output.
    """
    page.goto(url)
    page.wait_for_function(
        f"""() => !document.getElementById('loading')
                 && document.getElementById('rendered_cells')?.style.display === ''
                 && !document.querySelector('script[type="{VOILA_OUTPUT_MIME}"]')""",
        timeout=RUN_ALL_TIMEOUT_MS,
    )
    wait_for_widget_views(page)


def wait_for_widget_views(page: Page) -> None:
    """Wait until every widget output shows its widget (or says it cannot)."""
    # a widget output is an empty placeholder until its model arrives and the view renders
    page.wait_for_function(
        """() => [...document.querySelectorAll('.jp-OutputArea-output:not([data-mime-type])')]
            .every(output => output.querySelector('.jupyter-widgets')
                          || output.textContent.includes('Error displaying widget'))""",
        timeout=UPDATE_TIMEOUT_MS,
    )


def toggle_log_console(page: Page) -> None:
    """View > Show Log Console (it toggles): where widget callbacks print their tracebacks."""
    click_menu(page, "View", "logconsole:open")


def error_outputs(page: Page) -> list[str]:
    """Text of every error in the notebook and its Log Console: tracebacks, widgets not shown.

    Exceptions raised in widget callbacks (after Run All, when a control moves) go to the Log
    Console, not to a cell, so it is opened for the look and closed again. In a front end
    without one (Voilà, Notebook before 7.4), only the page's errors.
    """
    if not has_log_console(page):
        return page.locator(ERROR_OUTPUT).all_inner_texts()
    toggle_log_console(page)
    page.locator(".jp-LogConsole").wait_for()
    errors = page.locator(ERROR_OUTPUT).all_inner_texts()
    toggle_log_console(page)
    return errors


def widget_views(page: Page) -> list[Locator]:
    """Every displayed widget (the root view of each widget output), top to bottom."""
    return page.locator(WIDGET_VIEW).all()


def explorers(page: Page) -> list[Locator]:
    """Every explorer (a widget view with an image), top to bottom."""
    return page.locator(EXPLORER).all()


def controls(explorer: Locator) -> list[Locator]:
    """The explorer's controls (sliders, dropdowns, ...), top to bottom."""
    return explorer.locator(CONTROL).all()


def control(explorer: Locator, label: str) -> Locator:
    """The control whose description (the label shown next to it) is exactly `label`."""
    label_element = explorer.page.locator(
        CONTROL_LABEL, has_text=re.compile(f"^{re.escape(label)}$")
    )
    return explorer.locator(CONTROL).filter(has=label_element)


def sliders(explorer: Locator) -> list[Locator]:
    """The explorer's sliders, top to bottom."""
    return explorer.locator(".widget-slider").all()


def read(explorer: Locator, part: str) -> str:
    """The current state of `part` ("image", "readout" or "message") of the explorer."""
    return explorer.evaluate(PART_JS[part])


def wait_until(explorer: Locator, condition_js: str, arg: object, what: str) -> None:
    """Wait until `condition_js`, a JS function of (explorer root, arg), is true; else raise
    TimeoutError naming `what` did not happen."""
    try:
        explorer.page.wait_for_function(
            f"([root, arg]) => ({condition_js})(root, arg)",
            arg=[explorer.element_handle(), arg],
            timeout=UPDATE_TIMEOUT_MS,
        )
    except PlaywrightTimeoutError:
        raise TimeoutError(f"{what} in {UPDATE_TIMEOUT_MS} ms") from None


def wait_for_change(explorer: Locator, part: str, before: str) -> None:
    """Wait until `part` of the explorer differs from `before`."""
    changed = f"(root, before) => ({PART_JS[part]})(root) !== before"
    wait_until(explorer, changed, before, f"the {part} did not change")


def wait_for_image(explorer: Locator) -> None:
    """Wait until the explorer's pictures are loaded and have pixels."""
    loaded = """root => { const imgs = [...root.querySelectorAll('img.widget-image')];
                          return imgs.length > 0 && imgs.every(img => img.naturalWidth > 0); }"""
    wait_until(explorer, loaded, None, "no picture was loaded")


def wait_for_redraw(explorer: Locator, image: str, message: str) -> str:
    """After a control moved: wait for a new picture (returns "image") or, for an invalid
    setting, a new message (returns "message"). `image`, `message`: their states before."""
    redrawn = f"""(root, [image, message]) => ({PART_JS["image"]})(root) !== image
                                             || ({PART_JS["message"]})(root) !== message"""
    wait_until(explorer, redrawn, [image, message], "no new picture or message")
    return "image" if read(explorer, "image") != image else "message"


def slider_key(slider: Locator, key: str = "ArrowRight") -> str:
    """`key` (ArrowRight or ArrowLeft), or the other one if the handle is already at that end."""
    handle = slider.locator(".noUi-handle").first
    value = float(handle.get_attribute("aria-valuenow"))
    end = float(handle.get_attribute("aria-valuemax" if key == "ArrowRight" else "aria-valuemin"))
    at_end = value >= end if key == "ArrowRight" else value <= end
    return OTHER_WAY[key] if at_end else key


@dataclass(frozen=True)
class Press:
    """Action on a control: focus it (a slider's handle, a dropdown) and press `key`.

    This is how a keyboard user moves a noUiSlider: each arrow key is one step.
    """

    key: str

    def __call__(self, control_element: Locator) -> None:
        control_element.locator(".noUi-handle, select, input").first.press(self.key)


@dataclass(frozen=True)
class Drag:
    """Action on a slider: drag its handle with the mouse to `fraction` (0 to 1) of the track."""

    fraction: float

    def __call__(self, control_element: Locator) -> None:
        handle = control_element.locator(".noUi-handle").first
        handle.scroll_into_view_if_needed()
        start = handle.bounding_box()
        track = control_element.locator(".noUi-target").first.bounding_box()
        y = start["y"] + start["height"] / 2
        mouse = control_element.page.mouse
        mouse.move(start["x"] + start["width"] / 2, y)
        mouse.down()
        mouse.move(track["x"] + self.fraction * track["width"], y, steps=5)
        mouse.up()


@dataclass(frozen=True)
class Pick:
    """Action on a dropdown, list or toggle buttons: choose the option whose text is `option`."""

    option: str

    def __call__(self, control_element: Locator) -> None:
        select = control_element.locator("select")
        if not select.count():
            control_element.get_by_role("button", name=self.option, exact=True).click()
            return
        # ipywidgets shows option labels with non-breaking spaces
        labels = [text.replace("\xa0", " ") for text in select.locator("option").all_inner_texts()]
        if self.option not in labels:
            raise ValueError(f"option must be one of {labels}, got {self.option!r}")
        select.select_option(index=labels.index(self.option))


def save_screenshot(element: Locator, path: Path) -> Path:
    """Save a PNG of `element` (e.g. an explorer) to `path`, creating its folder; return path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    element.scroll_into_view_if_needed()
    element.screenshot(path=path, animations="disabled")
    return path


# Resolves to {shown, ms} for the next keydown on `handle`: shown = "image" if the explorer
# shows a new picture, with ms until the first frame drawn after it loads (a MutationObserver
# sees an img src change, the 'load' event says the PNG is decoded, requestAnimationFrame waits
# for the frame that shows it; if several panels change, for all of those changed by then);
# "message" if it shows a new message instead (an invalid setting); "nothing" if neither happens
# within waitMs (e.g. the same picture as before).
ARM_PROBE_JS = f"""([handle, root, waitMs]) => ({{ done: new Promise(resolve => {{
    const message = {PART_JS["message"]};
    const imgs = [...root.querySelectorAll('img.widget-image')];
    const oldSrcs = imgs.map(img => img.getAttribute('src'));
    const oldMessage = message(root);
    const loading = new Set();
    let pressedAt = null, done = false;
    handle.addEventListener('keydown', () => {{ pressedAt = performance.now(); }},
                            {{ once: true, capture: true }});
    const finish = shown => {{
        if (done) return;
        done = true;
        observer.disconnect();
        resolve({{ shown, ms: performance.now() - pressedAt }});
    }};
    const observer = new MutationObserver(() => {{
        if (pressedAt === null || done) return;
        imgs.forEach((img, i) => {{
            if (img.getAttribute('src') !== oldSrcs[i] && !loading.has(img)) {{
                loading.add(img);
                img.addEventListener('load', () => {{
                    loading.delete(img);
                    if (loading.size === 0) requestAnimationFrame(() => finish('image'));
                }}, {{ once: true }});
            }}
        }});
        if (loading.size === 0 && message(root) !== oldMessage) finish('message');
    }});
    observer.observe(root, {{ subtree: true, childList: true, characterData: true,
                             attributes: true, attributeFilter: ['src'] }});
    setTimeout(() => finish('nothing'), waitMs);
}}) }})"""


def timed_step(explorer: Locator, slider: Locator, key: str, wait_ms: int) -> tuple[str, float]:
    """Press `key` on the slider's handle; return what the explorer showed ("image", "message"
    or "nothing" within `wait_ms`) and the ms from the key press until it was on screen."""
    handle = slider.locator(".noUi-handle").first
    probe = explorer.page.evaluate_handle(
        ARM_PROBE_JS, [handle.element_handle(), explorer.element_handle(), wait_ms]
    )
    handle.press(key)
    result = probe.evaluate("probe => probe.done")
    probe.dispose()
    return result["shown"], result["ms"]


def slider_latencies_ms(
    explorer: Locator,
    slider: Locator,
    presses: int,
    wait_ms: int = 1_000,
    step: Callable[[Locator, Locator, str, int], tuple[str, float]] = timed_step,
) -> list[float]:
    """Step the slider with the keyboard until `presses` steps have drawn a new picture (at most
    3 * presses steps); return the ms from each of those key presses to its picture on screen.

    The slider walks right and turns at either end, and where two steps in a row are invalid
    (a message and no picture): a run of invalid settings, not a lone one (a head count that
    does not divide d_model) that the next step passes. A step that shows nothing new within
    `wait_ms` (the same picture as before: a marker that moves less than a pixel) is not
    counted; after five in a row the slider is left (at these settings its steps change no
    picture, e.g. the leaky slope when no leaky ReLU is shown). `step` presses the key and
    times it (default `timed_step`; a benchmark may wrap it to watch more).
    """
    latencies: list[float] = []
    key, invalid_in_a_row, nothing_in_a_row = "ArrowRight", 0, 0
    for _ in range(3 * presses):
        key = slider_key(slider, key)
        shown, ms = step(explorer, slider, key, wait_ms)
        if shown == "image":
            latencies.append(ms)
        nothing_in_a_row = nothing_in_a_row + 1 if shown == "nothing" else 0
        if nothing_in_a_row == 5:
            break
        invalid = shown == "message" and bool(read(explorer, "message"))
        invalid_in_a_row = invalid_in_a_row + 1 if invalid else 0
        if invalid_in_a_row == 2:
            key, invalid_in_a_row = OTHER_WAY[key], 0
        if len(latencies) == presses:
            break
    return latencies
