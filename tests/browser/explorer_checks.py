"""The checks every lab notebook must pass in the browser, plus a table of lab-specific ones."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lab_page import (
    CONTROL_LABEL,
    UPDATE_TIMEOUT_MS,
    Press,
    control,
    controls,
    error_outputs,
    explorers,
    open_notebook,
    read,
    run_all_cells,
    slider_key,
    sliders,
    wait_for_change,
    wait_for_image,
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


def run_notebook(page: Page, url: str) -> None:
    """Open the notebook, Run All, and assert that no cell or widget failed."""
    open_notebook(page, url)
    run_all_cells(page)
    assert_no_errors(page)


def assert_explorers_render(page: Page) -> None:
    """Every widget is on screen; every explorer shows its picture and all its controls."""
    for view in widget_views(page):
        expect(view).to_be_visible()
    assert explorers(page), "the notebook shows no explorer (a widget with an image)"
    for explorer in explorers(page):
        wait_for_image(explorer)
        expect(explorer.locator("img.widget-image").first).to_be_visible()
        assert controls(explorer), "an explorer has no controls"
        for control_element in controls(explorer):
            expect(control_element).to_be_visible()


def act_and_expect(page: Page, explorer: Locator, target: Locator, check: Check) -> None:
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
        errors = "\n\n".join(error_outputs(page)) or "none"
        raise AssertionError(f"{check}: {failure}\n\nnotebook errors:\n{errors}") from None


def assert_sliders_redraw(page: Page) -> None:
    """Step each explorer's sliders in turn: every step must redraw the image, and one of them
    must change the readout too (some sliders only change the picture)."""
    for index, explorer in enumerate(explorers(page)):
        readout_changed = False
        for slider in sliders(explorer):
            label = slider.locator(CONTROL_LABEL).first.inner_text()
            step = Check(label, Press(slider_key(slider)), changes=("image",), explorer=index)
            readout = read(explorer, "readout")
            act_and_expect(page, explorer, slider, step)
            readout_changed = read(explorer, "readout") != readout
            if readout_changed:
                break
        assert readout_changed or not sliders(explorer), (
            f"explorer {index}: no slider changed the readout"
        )


def run_check(page: Page, check: Check) -> None:
    """Do one row of a check table."""
    explorer = explorers(page)[check.explorer]
    target = control(explorer, check.control)
    expect(target, f"no single control labelled {check.control!r}").to_have_count(1)
    act_and_expect(page, explorer, target, check)


def check_notebook(page: Page, url: str, checks: list[Check]) -> None:
    """All the browser checks for one notebook; `checks` are its rows of the check table."""
    run_notebook(page, url)
    assert_explorers_render(page)
    assert_sliders_redraw(page)
    for check in checks:
        run_check(page, check)
    assert_no_errors(page)
