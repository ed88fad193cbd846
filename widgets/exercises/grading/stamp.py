"""The lab and release a submission says it is: the stamp its learner copy was made with.

`python -m widgets.labs` writes `{"lab": "lab03", "version": "0.1.0"}` under the notebook
metadata key `effml_widgets`. The grader takes the lab from it (not from the code, where a
comment can name any lab) and flags a missing stamp, another lab than the one asked for, and
another release than the grader's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from widgets import __version__
from widgets.labs import STAMP

from .cells import exercise_names


@dataclass(frozen=True)
class Stamp:
    lab: str | None  # "lab03", None if missing or not a lab
    version: str | None  # "0.1.0", None if missing


def read_stamp(notebook: Any) -> Stamp:
    """The stamp in the notebook's metadata; None for what is missing or malformed."""
    stamp = notebook.metadata.get(STAMP)
    if not isinstance(stamp, dict):
        return Stamp(None, None)
    lab, version = stamp.get("lab"), stamp.get("version")
    return Stamp(
        lab if lab in exercise_names() else None, version if isinstance(version, str) else None
    )


def stamp_flags(stamp: Stamp, expected: str | None) -> list[str]:
    """What a TA should know about the stamp: missing, another lab, another release."""
    found = []
    if stamp.lab is None:
        found.append("no lab stamp: not a learner copy of this release (python -m widgets.labs)")
    elif expected is not None and stamp.lab != expected:
        found.append(f"wrong lab: a copy of {stamp.lab} handed in for {expected}")
    if stamp.lab is not None and stamp.version is None:
        found.append("the lab stamp names no release")
    elif stamp.version is not None and stamp.version != __version__:
        found.append(f"made from release {stamp.version}; the grader is release {__version__}")
    return found
