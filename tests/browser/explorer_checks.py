"""The checks every lab notebook must pass in the browser, plus a table of lab-specific ones."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from accessibility_audit import axe_violations
from lab_page import (
    CONTROL_LABEL,
    OTHER_WAY,
    UPDATE_TIMEOUT_MS,
    Press,
    control,
    controls,
    error_outputs,
    explorers,
    open_notebook,
    read,
    run_all_cells,
    show_app,
    slider_key,
    sliders,
    wait_for_change,
    wait_for_image,
    wait_for_redraw,
    wait_until,
    widget_views,
)
from playwright.sync_api import Locator, Page, expect


@dataclass(frozen=True)
class Check:
    """One row of a lab's check table: act on a control, then expect the explorer to change.

    e.g. Check("bits", Pick("4"), shows="4-bit") or Check("batch size", Press("End")).
    """

    control: str  # the control's label, as shown next to it
    action: Callable[[Locator], None]  # lab_page.Press(key) or lab_page.Pick(option)
    changes: tuple[str, ...] = ("image", "readout")  # parts that must change (lab_page.PART_JS)
    shows: str = ""  # text the explorer must then show (a readout value, a warning), if any
    explorer: int = 0  # which explorer of the notebook, counted from the top


def assert_no_errors(page: Page) -> None:
    errors = error_outputs(page)
    assert not errors, "errors in the notebook:\n\n" + "\n\n".join(errors)


def with_errors(explorer: Locator, failure: str) -> AssertionError:
    """An AssertionError saying `failure`, with the explorer's message and the notebook's errors
    (often the cause)."""
    message = read(explorer, "message") or "none"
    errors = "\n\n".join(error_outputs(explorer.page)) or "none"
    return AssertionError(f"{failure}\nexplorer message: {message}\nnotebook errors:\n{errors}")


def run_notebook(page: Page, url: str) -> None:
    """Open the notebook, Run All, and assert that no cell or widget failed."""
    open_notebook(page, url)
    run_all_cells(page)
    assert_no_errors(page)


def assert_explorers_render(page: Page) -> None:
    """Every widget is on screen; every explorer shows its picture, all its controls, readouts,
    and no message (the default settings are valid, and compute errors would show there)."""
    for view in widget_views(page):
        view.scroll_into_view_if_needed()  # JupyterLab renders only the cells near the viewport
        expect(view).to_be_visible()
    assert explorers(page), "the notebook shows no explorer (a widget with an image)"
    for index, explorer in enumerate(explorers(page)):
        explorer.scroll_into_view_if_needed()
        wait_for_image(explorer)
        expect(explorer.locator("img.widget-image").first).to_be_visible()
        assert controls(explorer), f"explorer {index} has no controls"
        for control_element in controls(explorer):
            expect(control_element).to_be_visible()
        assert read(explorer, "readout"), f"explorer {index} shows no readout"
        assert not read(explorer, "message"), f"explorer {index}: {read(explorer, 'message')}"
        assert_named(explorer)


def assert_named(explorer: Locator) -> None:
    """For a screen reader: each slider handle is named by its label, each picture has its text
    alternative, and the paragraphs that held them are not read twice
    (widgets/ui/accessible_names.py). Only for the package's explorers, not the fixture's."""
    if not explorer.evaluate("root => root.classList.contains('effml-explorer')"):
        return
    for slider in sliders(explorer):
        label = slider.locator(CONTROL_LABEL).first.inner_text().strip()
        expect(slider.locator('[role="slider"]').first).to_have_attribute("aria-label", label)
    for image in explorer.locator("img.widget-image").all():
        expect(image).to_have_attribute("alt", re.compile(r"\S{3}"))
    expect(explorer.locator(".effml-descriptions")).to_have_attribute("aria-hidden", "true")


def act_and_expect(explorer: Locator, target: Locator, check: Check) -> None:
    """Do `check.action` on `target`, then wait for each part in `check.changes` to change and
    for `check.shows`; on failure, report the notebook's errors too."""
    before = {part: read(explorer, part) for part in check.changes}
    check.action(target)
    try:
        for part, old in before.items():
            wait_for_change(explorer, part, old)
        if check.shows:
            expect(explorer).to_contain_text(check.shows, timeout=UPDATE_TIMEOUT_MS)
    except (AssertionError, TimeoutError) as failure:
        raise with_errors(explorer, f"{check}: {failure}") from None


def step(explorer: Locator, slider: Locator, key: str) -> str:
    """Press `key` on the slider; wait for a new picture ("image") or message ("message")."""
    image, message = read(explorer, "image"), read(explorer, "message")
    Press(key)(slider)
    try:
        return wait_for_redraw(explorer, image, message)
    except TimeoutError as failure:
        label = slider.locator(CONTROL_LABEL).first.inner_text()
        raise with_errors(explorer, f"{key} on slider {label!r}: {failure}") from None


# the live region says the readouts table's numbers (one sentence: "name: value; ...")
ANNOUNCES_THE_TABLE = """root => {
  const bare = text => (text ?? '').replace(/[:;\\s]/g, '');
  return bare(root.querySelector('[aria-live]')?.textContent)
    === bare(root.querySelector('.effml-readouts')?.textContent);
}"""


def assert_announces(page: Page) -> None:
    """After a slider step that changes the readouts, the live region of a package explorer says
    the new numbers (once the slider rests: widgets/ui/live_region.py ANNOUNCE_AFTER_S)."""
    for explorer in explorers(page):
        if not explorer.evaluate("root => root.classList.contains('effml-explorer')"):
            continue
        for slider in sliders(explorer):
            key = slider_key(slider)
            table = read(explorer, "readout table")
            changed = step(explorer, slider, key) == "image"
            if changed and read(explorer, "readout table") != table:
                label = slider.locator(CONTROL_LABEL).first.inner_text()
                wait_until(explorer, ANNOUNCES_THE_TABLE, None, f"after {key} on {label!r}, the "
                           "live region did not say the readouts")  # fmt: skip
                step(explorer, slider, OTHER_WAY[key])
                break  # one slider is enough
            step(explorer, slider, OTHER_WAY[key])


def assert_sliders_redraw(page: Page) -> None:
    """One step of every slider draws a new picture, or, at an invalid setting, shows a message
    that a step back clears."""
    for explorer in explorers(page):
        for slider in sliders(explorer):
            key = slider_key(slider)
            if step(explorer, slider, key) == "message":
                step(explorer, slider, OTHER_WAY[key])
                assert not read(explorer, "message"), "the message stayed after a step back"


def run_check(page: Page, check: Check) -> None:
    """Do one row of a check table."""
    explorer = explorers(page)[check.explorer]
    target = control(explorer, check.control)
    expect(target, f"no single control labelled {check.control!r}").to_have_count(1)
    act_and_expect(explorer, target, check)


def assert_accessible(page: Page) -> None:
    """axe-core finds no WCAG 2.1 A or AA violation in the package's explorers or the prose."""
    violations = axe_violations(page)
    assert not violations, "axe-core, WCAG 2.1 AA:\n" + "\n".join(violations)


def check_explorers(page: Page, checks: list[Check]) -> None:
    """All the browser checks for a notebook that ran: its explorers render and pass axe-core's
    WCAG 2.1 AA rules, every slider redraws, and `checks` (its rows of the check table) pass,
    with no error."""
    assert_explorers_render(page)
    assert_accessible(page)
    assert_sliders_redraw(page)
    assert_announces(page)
    for check in checks:
        run_check(page, check)
    assert_no_errors(page)


def check_notebook(page: Page, url: str, checks: list[Check]) -> None:
    """All the browser checks for one notebook in JupyterLab or Notebook 7, after Run All."""
    run_notebook(page, url)
    check_explorers(page, checks)


def check_app(page: Page, url: str, checks: list[Check]) -> None:
    """All the browser checks for one notebook served by Voilà."""
    show_app(page, url)
    assert_no_errors(page)
    check_explorers(page, checks)
