"""The explorer's live region: its new numbers, said to a screen reader once the controls rest.

A visually hidden `role="status"` `aria-live="polite"` block: a screen reader reads it when it
changes, without moving the focus. A drag sends many steps a second, so in a kernel the text is
put there only once no new step came for ANNOUNCE_AFTER_S; in a script or a test, at once.
"""

from __future__ import annotations

import asyncio
import html
import sys

import ipywidgets

from . import style

ANNOUNCE_AFTER_S = 0.5  # the live region speaks once the controls rest this long


class LiveRegion:
    """`widget` is the region; `announce(text)` puts `text` there once the controls rest."""

    def __init__(self) -> None:
        self.widget = ipywidgets.HTML()
        self.widget.add_class("effml-announcement")
        self._pending = ""
        self._timer: asyncio.TimerHandle | None = None

    def announce(self, text: str) -> None:
        self._pending = text
        loop = _kernel_event_loop()
        if loop is None:  # a script or a test: nothing to wait on
            self._say()
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(ANNOUNCE_AFTER_S, self._say)

    def _say(self) -> None:
        self._timer = None
        self.widget.value = (
            f'<div role="status" aria-live="polite" style="{style.VISUALLY_HIDDEN_CSS}">'
            f"{html.escape(self._pending)}</div>"
        )


def _kernel_event_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop of the IPython kernel running this, while it runs (it handles the widgets'
    messages); None in a script or a test, even one where another library runs a loop."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "kernel"):  # not a kernel's shell
        return None
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
