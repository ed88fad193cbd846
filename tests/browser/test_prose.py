"""The labs' prose as Voilà and nbconvert show it, every lab: axe-core's WCAG 2.1 A and AA rules
find nothing in it. Their lab template draws links in a blue only 1.9:1 from the text's grey,
without underline, so each link in a lab underlines its own text (test_conventions.py).

The Jupyter server's own nbconvert endpoint renders the page: no kernel runs, so this is fast.
JupyterLab and Notebook 7 are audited as they run the labs (explorer_checks.assert_accessible).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from accessibility_audit import PROSE, axe_violations
from lab_server import LABS, JupyterServer
from playwright.sync_api import Page, Route

pytestmark = pytest.mark.browser


def offline(route: Route) -> None:
    """Serve only the page's own server: the export links MathJax and require.js on a CDN."""
    if route.request.url.startswith("http://127.0.0.1"):
        route.continue_()
    else:
        route.abort()


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_the_prose_passes_axe_core(lab: Path, page: Page, lab_server: JupyterServer) -> None:
    page.route("**/*", offline)
    page.goto(
        f"{lab_server.url}/nbconvert/html/labs/{lab.name}?download=false&token={lab_server.token}"
    )
    assert page.locator(PROSE).count() > 3, "the export shows no prose"
    violations = axe_violations(page, (PROSE,))
    assert not violations, f"{lab.name}, axe-core, WCAG 2.1 AA:\n" + "\n".join(violations)
