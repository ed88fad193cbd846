"""The browser harness, proven on small fixture notebooks. These always run (no labs needed)."""

from __future__ import annotations

import sys

import pytest
from explorer_checks import Check, assert_sliders_redraw, check_notebook, run_notebook
from lab_page import (
    UPDATE_TIMEOUT_MS,
    Pick,
    Press,
    control,
    error_outputs,
    explorers,
    open_notebook,
    read,
    run_all_cells,
    save_screenshot,
    slider_key,
    slider_latencies_ms,
    toggle_log_console,
)
from lab_server import FIXTURES_DIR, LAB_SETTINGS, REPO, JupyterServer
from PIL import Image
from playwright.sync_api import Locator, Page, expect

pytestmark = pytest.mark.browser

EXPLORER_NOTEBOOK = "fixtures/explorer.ipynb"
# the fixture's check table, written as a lab's would be in test_labs.LAB_CHECKS
FIXTURE_CHECKS = [
    Check("shape", Pick("square"), shows="square wave"),
    Check("frequency", Press("End"), changes=("message",), shows="above 3 Hz are not allowed"),
    Check("frequency", Press("Home"), changes=("image", "readout", "message"), shows="1 Hz"),
]


def test_server_serves_copies_with_our_settings(lab_server: JupyterServer) -> None:
    # (the kernel: lab_server checks its spec, test_kernel_runs_in_the_venv_python its python)
    served = lab_server.root_dir / EXPLORER_NOTEBOOK
    assert served.read_bytes() == (FIXTURES_DIR / "explorer.ipynb").read_bytes()
    assert REPO not in served.resolve().parents  # autosave can never write into the repo
    for plugin, values in LAB_SETTINGS.items():
        assert lab_server.api(f"/lab/api/settings/{plugin}")["settings"] == values


def test_explorer_notebook_passes_the_lab_checks(page: Page, lab_server: JupyterServer) -> None:
    check_notebook(page, lab_server.lab_url(EXPLORER_NOTEBOOK), FIXTURE_CHECKS)


@pytest.fixture(scope="module")
def explorer(module_page: Page, lab_server: JupyterServer) -> Locator:
    """The fixture's explorer, after Run All."""
    run_notebook(module_page, lab_server.lab_url(EXPLORER_NOTEBOOK))
    return explorers(module_page)[0]


def test_kernel_runs_in_the_venv_python(explorer: Locator) -> None:
    stdout = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]'
    assert explorer.page.locator(stdout).first.inner_text().strip() == sys.executable


def test_slider_key_turns_at_either_end(explorer: Locator) -> None:
    amplitude = control(explorer, "amplitude")
    Press("End")(amplitude)
    assert slider_key(amplitude, "ArrowRight") == "ArrowLeft"
    assert slider_key(amplitude, "ArrowLeft") == "ArrowLeft"
    Press("Home")(amplitude)
    assert slider_key(amplitude, "ArrowLeft") == "ArrowRight"


def test_an_invalid_step_is_stepped_back(explorer: Locator) -> None:
    # at 3 Hz square, the frequency step (to 4 Hz) is invalid and must be undone
    Pick("square")(control(explorer, "shape"))
    Press("Home")(control(explorer, "amplitude"))
    Press("Home")(control(explorer, "frequency"))
    for _ in range(2):
        Press("ArrowRight")(control(explorer, "frequency"))
    expect(explorer).to_contain_text("1 × 3 Hz square wave")
    assert_sliders_redraw(explorer.page)
    expect(explorer).to_contain_text("2 × 3 Hz square wave")
    assert not read(explorer, "message")


def test_screenshot_is_a_png_of_the_explorer(explorer: Locator, tmp_path) -> None:
    path = save_screenshot(explorer, tmp_path / "img" / "explorer.png")
    box = explorer.bounding_box()
    with Image.open(path) as png:
        assert png.format == "PNG"
        assert abs(png.width - box["width"]) <= 1 and abs(png.height - box["height"]) <= 1
        darkest, lightest = png.convert("L").getextrema()
        assert lightest - darkest > 100  # a drawn plot, not a blank box


def test_latency_probe_times_pictures_and_turns_at_invalid_settings(explorer: Locator) -> None:
    Pick("square")(control(explorer, "shape"))
    Press("Home")(control(explorer, "amplitude"))
    frequency = control(explorer, "frequency")
    Press("Home")(frequency)
    expect(explorer).to_contain_text("1 × 1 Hz square wave")
    # pictures at 2 and 3 Hz; 4 Hz is invalid (a message), back at 3 Hz it clears; pictures at
    # 2 and 1 Hz
    latencies = slider_latencies_ms(explorer, frequency, presses=4)
    assert len(latencies) == 4
    assert all(0 < ms < UPDATE_TIMEOUT_MS for ms in latencies)
    expect(explorer).to_contain_text("1 × 1 Hz square wave")
    assert not read(explorer, "message")


def test_errors_are_found(page: Page, lab_server: JupyterServer) -> None:
    # broken.ipynb has no kernelspec: open_notebook must accept the "Select Kernel" dialog
    open_notebook(page, lab_server.lab_url("fixtures/broken.ipynb"))
    run_all_cells(page)
    expect(page.locator(".jp-KernelName")).to_have_text("Python 3 (ipykernel)")
    errors = "\n".join(error_outputs(page))
    assert "Error displaying widget" in errors
    assert "ZeroDivisionError" in errors
    assert "level 2 is broken" not in errors

    # an exception in a widget callback shows only in the Log Console
    toggle_log_console(page)
    Press("ArrowRight")(page.locator(".widget-slider"))
    expect(page.locator(".jp-LogConsole")).to_contain_text("level 2 is broken on purpose")
    toggle_log_console(page)
    assert "ValueError: level 2 is broken on purpose" in "\n".join(error_outputs(page))
