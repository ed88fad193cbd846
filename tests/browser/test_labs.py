"""Every lab in labs/*.ipynb, run in JupyterLab in a real browser, must work for a student.

Generic checks (explorer_checks.check_notebook): Run All gives no error, every widget renders,
every explorer shows its picture and controls, a step of each of its sliders redraws the image
(until one also changes the readout), and no error appears meanwhile. Lab-specific checks are
rows in LAB_CHECKS below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from explorer_checks import Check, check_notebook
from lab_server import LABS_DIR, JupyterServer
from playwright.sync_api import Page

# lab file -> rows of (control label, action, expected change), actions from lab_page; e.g.
#   "05_memory.ipynb": [Check("bits", pick("4"), shows="4-bit"), Check("batch", Press("End"))],
LAB_CHECKS: dict[str, list[Check]] = {}

LABS = sorted(LABS_DIR.glob("*.ipynb"))


def test_check_table_names_existing_labs() -> None:
    assert set(LAB_CHECKS) <= {lab.name for lab in LABS}


@pytest.mark.browser
@pytest.mark.parametrize(
    "lab",
    LABS or [pytest.param(None, marks=pytest.mark.skip(reason="no labs/*.ipynb yet"))],
    ids=lambda lab: lab.name if isinstance(lab, Path) else "no-labs",
)
def test_lab(lab: Path, page: Page, lab_server: JupyterServer) -> None:
    check_notebook(page, lab_server.lab_url(f"labs/{lab.name}"), LAB_CHECKS.get(lab.name, []))
