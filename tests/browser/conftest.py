"""Fixtures for the browser tests: one JupyterLab and one Chromium per session, a page per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from lab_page import CHROMIUM, fresh_page, launch_chromium
from lab_server import FIXTURES_DIR, LABS_DIR, JupyterServer, jupyter_lab
from playwright.sync_api import Browser, Page, sync_playwright


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium; skipped without /usr/bin/chromium, except on CI where it must run."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (run scripts/install_browser.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run the browser tests: {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def lab_server() -> Iterator[JupyterServer]:
    """JupyterLab serving copies of labs/ and the fixtures as <root>/labs and <root>/fixtures."""
    with jupyter_lab([d for d in (LABS_DIR, FIXTURES_DIR) if d.is_dir()]) as server:
        yield server


@pytest.fixture
def page(browser: Browser, lab_server: JupyterServer) -> Iterator[Page]:
    with fresh_page(browser, lab_server) as new_page:
        yield new_page


@pytest.fixture(scope="module")
def module_page(browser: Browser, lab_server: JupyterServer) -> Iterator[Page]:
    """One page shared by a module's tests (for checks that need a notebook already run)."""
    with fresh_page(browser, lab_server) as new_page:
        yield new_page
