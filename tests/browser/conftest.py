"""Fixtures for the browser tests: one Chromium and one server per front end (JupyterLab,
Notebook 7, Voilà) per session, a page per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from lab_page import CHROMIUM, fresh_page, launch_chromium
from lab_server import DARK_THEME, FIXTURES_DIR, LABS_DIR, JupyterServer, jupyter_server
from playwright.sync_api import Browser, Page, sync_playwright

# each server serves copies of these as <root>/labs and <root>/fixtures
SERVED = [folder for folder in (LABS_DIR, FIXTURES_DIR) if folder.is_dir()]


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
    """JupyterLab."""
    with jupyter_server(SERVED, "lab") as server:
        yield server


@pytest.fixture(scope="session")
def dark_lab_server() -> Iterator[JupyterServer]:
    """JupyterLab in its dark theme."""
    with jupyter_server(SERVED, "lab", DARK_THEME) as server:
        yield server


@pytest.fixture(scope="session")
def notebook_server() -> Iterator[JupyterServer]:
    """Jupyter Notebook 7."""
    with jupyter_server(SERVED, "notebook") as server:
        yield server


@pytest.fixture(scope="session")
def voila_server() -> Iterator[JupyterServer]:
    """Voilà, serving the folder as an instructor serves a lab."""
    with jupyter_server(SERVED, "voila") as server:
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
