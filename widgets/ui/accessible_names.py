"""A front-end piece of our own that names what ipywidgets leaves unnamed, for screen readers.

ipywidgets 8 ties a slider's description label to nothing: the focusable slider handle
(noUiSlider's `role="slider"` element) has no accessible name, and an `Image` cannot carry `alt`
text (its `tooltip` breaks the view: docs/accessibility.md). This widget, one per explorer, has
no view of its own; in the browser it watches its explorer's DOM and
- names each slider handle with the text of the slider's label (`aria-label`), and keeps the
  page's keyboard shortcuts off it (`data-lm-suppress-shortcuts`, Lumino's documented attribute):
  Notebook 7 ran its own commands on the arrow keys before a focused slider saw them,
- gives each picture the text alternative the explorer wrote for it (`alt`, from the visually
  hidden paragraphs), then hides those paragraphs from assistive technology, which would
  otherwise read each description twice.
Without JavaScript (a static export) nothing changes: the paragraphs stay readable.
It uses anywidget, a public way to ship a few lines of JavaScript with a widget, which runs in
JupyterLab, Notebook 7 and Voilà alike.
"""

from __future__ import annotations

import anywidget

EXPLORER_CLASS = "effml-explorer"  # on the explorer's outermost box: the piece's scope

_ESM = """
const EXPLORER = ".__EXPLORER_CLASS__";

function nameEverything(root) {
  for (const row of root.querySelectorAll(".widget-slider")) {
    const label = row.querySelector(".widget-label");
    const name = label ? label.textContent.trim() : "";
    for (const handle of row.querySelectorAll('[role="slider"]')) {
      if (name && handle.getAttribute("aria-label") !== name) {
        handle.setAttribute("aria-label", name);
      }
      // Lumino's documented opt-out: no keyboard shortcut of the page runs while the handle
      // has the focus, so the arrow keys move the slider (Notebook 7 took them in command mode)
      if (!handle.hasAttribute("data-lm-suppress-shortcuts")) {
        handle.setAttribute("data-lm-suppress-shortcuts", "true");
      }
    }
  }
  const block = root.querySelector(".effml-descriptions");
  if (!block) return;
  const texts = [...block.querySelectorAll("p")].map(
    (p) => p.textContent.replace(/^Picture \\d+ of \\d+: /, "")
  );
  const images = root.querySelectorAll(".effml-pictures img");
  images.forEach((image, index) => {
    if (texts[index] && image.alt !== texts[index]) image.alt = texts[index];
  });
  if (texts.length && images.length === texts.length) {
    block.setAttribute("aria-hidden", "true");  // the images say it now
  }
}

function render({ el }) {
  el.style.display = "none";
  let observer = null;
  let frames = 0;
  let pending = false;
  const start = () => {
    const root = el.closest(EXPLORER);
    if (!root) {  // not in the page yet: ipywidgets attaches a box's children later
      if (frames++ < 600) requestAnimationFrame(start);
      return;
    }
    nameEverything(root);
    observer = new MutationObserver(() => {
      if (pending) return;
      pending = true;  // one pass for a burst of changes
      queueMicrotask(() => { pending = false; nameEverything(root); });
    });
    observer.observe(root, {
      subtree: true, childList: true, characterData: true, attributes: true,
      attributeFilter: ["src", "role"],
    });
  };
  start();
  return () => observer && observer.disconnect();
}

export default { render };
""".replace("__EXPLORER_CLASS__", EXPLORER_CLASS)


class AccessibleNames(anywidget.AnyWidget):
    """Names the slider handles and pictures of the explorer box it is put in (no view)."""

    _esm = _ESM
