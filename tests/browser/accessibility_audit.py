"""axe-core (from npm, tests/browser/axe) run in a page: WCAG 2.0 and 2.1, levels A and AA."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# our content, not the front end's own page: the package's explorers and the labs' prose
EXPLORERS, PROSE = ".effml-explorer", ".jp-RenderedMarkdown"
_RUN = """async ([scopes, tags]) => {
  const results = await axe.run({include: scopes.filter(s => document.querySelector(s))
    .map(s => [s])}, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return results.violations.map(v => `${v.id} (${v.impact}): ${v.help}; at `
    + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')
    + (v.nodes.length > 3 ? ` and ${v.nodes.length - 3} more` : ''));
}"""


_LOWEST_CONTRAST = """selector => {
  const luminance = ([r, g, b]) => [r, g, b].map(v => v / 255)
    .map(v => v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const rgba = text => text.match(/[\\d.]+/g).map(Number);
  const over = (top, bottom) => top.length < 4 ? top.slice(0, 3)
    : top.slice(0, 3).map((v, i) => v * top[3] + bottom[i] * (1 - top[3]));
  const background = element => {  // the first opaque background up the tree
    for (let e = element; e; e = e.parentElement) {
      const colour = rgba(getComputedStyle(e).backgroundColor);
      if (colour.length < 4 || colour[3] > 0) return colour.slice(0, 3);
    }
    return [255, 255, 255];
  };
  let lowest = 21;
  for (const element of document.querySelectorAll(selector)) {
    const back = background(element);
    const fore = over(rgba(getComputedStyle(element).color), back);
    const [light, dark] = [luminance(fore), luminance(back)].sort((a, b) => b - a);
    lowest = Math.min(lowest, (light + 0.05) / (dark + 0.05));
  }
  return lowest;
}"""


def lowest_contrast(page: Page, selector: str) -> float:
    """The lowest WCAG contrast ratio of the text of the elements `selector` finds against the
    background they sit on (axe-core leaves some of these undecided, e.g. in a dark theme)."""
    return page.evaluate(_LOWEST_CONTRAST, selector)


def axe_violations(page: Page, scopes: tuple[str, ...] = (EXPLORERS, PROSE)) -> list[str]:
    """What axe-core's WCAG 2.1 AA rules find in the elements the CSS selectors `scopes` find
    (by default the explorers and the prose), one line a rule."""
    if not AXE.exists():
        raise FileNotFoundError(f"{AXE} is missing: run scripts/install_browser.sh")
    if not any(page.locator(scope).count() for scope in scopes):
        return []
    page.add_script_tag(path=str(AXE))
    return page.evaluate(_RUN, [list(scopes), WCAG_21_AA])
