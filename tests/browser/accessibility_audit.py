"""axe-core (from npm, tests/browser/axe) run in a page: WCAG 2.0 and 2.1, levels A and AA."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCOPE = ".effml-explorer"  # the package's explorers, not the front end's own page
_RUN = """async ([scope, tags]) => {
  const results = await axe.run(
    {include: [scope]}, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map(v => `${v.id} (${v.impact}): ${v.help}; at `
    + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')
    + (v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''));
}"""


def axe_violations(page: Page) -> list[str]:
    """What axe-core's WCAG 2.1 AA rules find in the page's explorers, one line a rule."""
    if not AXE.exists():
        raise FileNotFoundError(f"{AXE} is missing: run scripts/install_browser.sh")
    if not page.locator(SCOPE).count():
        return []
    page.add_script_tag(path=str(AXE))
    return page.evaluate(_RUN, [SCOPE, WCAG_21_AA])
