"""Text alternatives for the explorers' pictures, made from the same artists the pictures show.

A learner who does not see a picture gets, for each panel, what its axes are (label, scale,
range) and what is drawn on them (each named series with its values at both ends, its smallest
and largest value), and, for the whole explorer, the numbers behind the pictures as a table.
Both are read from the matplotlib artists after `draw`, so they always say what the picture shows.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import StepPatch

from widgets.core.units import format_count

MAX_TABLE_POINTS = 12  # points of a series listed in the table (evenly spread along it)
MAX_COUNTED_CELLS = 4096  # heat maps up to this size get their distinct values counted
MAX_LISTED_CELLS = 100  # heat maps up to this size are read out value by value


def number(value: float) -> str:
    """A value as a reader says it: 3 significant digits, SI prefixes for large counts."""
    value = float(value)
    if not np.isfinite(value):
        return "none"
    if abs(value) >= 1000:
        return format_count(value)
    return f"{value:.3g}"


def _axis(ax: Axes, which: str) -> str:
    label = ax.get_xlabel() if which == "x" else ax.get_ylabel()
    if not label:  # categories (bars) or a hidden axis: its numbers say nothing
        return ""
    scale = ax.get_xscale() if which == "x" else ax.get_yscale()
    low, high = ax.get_xlim() if which == "x" else ax.get_ylim()
    low, high = min(low, high), max(low, high)
    side = "Horizontal" if which == "x" else "Vertical"
    return f"{side} axis: {label}, {scale} scale, from {number(low)} to {number(high)}."


def _look(artist) -> tuple:
    """What tells a line apart in a legend: colour, line style, marker."""
    try:
        return (
            to_hex(artist.get_color()),
            artist.get_linestyle(),
            artist.get_marker(),
        )
    except (AttributeError, ValueError, TypeError):
        return ()


def _names(ax: Axes) -> dict[int, str]:
    """Line id -> the legend's text for it (legends draw copies of the lines they name)."""
    legend = ax.get_legend()
    if legend is None:
        return {}
    by_look = {}
    for handle, text in zip(legend.legend_handles, legend.get_texts(), strict=False):
        if handle is not None and _look(handle):
            by_look.setdefault(_look(handle), text.get_text())
    return {id(line): by_look[_look(line)] for line in ax.get_lines() if _look(line) in by_look}


def _series(ax: Axes) -> Iterable[tuple[str, np.ndarray, np.ndarray]]:
    """(name, x, y) of each visible, named line of `ax` with data."""
    names = _names(ax)
    for line in ax.get_lines():
        name = line.get_label()
        if not name or name.startswith("_"):
            name = names.get(id(line), "")
        if not line.get_visible() or not name or name.startswith("_"):
            continue
        x, y = (np.asarray(values, dtype=float).ravel() for values in line.get_data())
        keep = np.isfinite(x) & np.isfinite(y)
        if keep.any():
            yield name, x[keep], y[keep]
    for collection in ax.collections:  # scatter plots
        offsets = np.asarray(collection.get_offsets(), dtype=float).reshape(-1, 2)
        name = collection.get_label()
        if not name or name.startswith("_"):
            name = names.get(id(collection), "points")
        if collection.get_visible() and len(offsets):
            order = np.argsort(offsets[:, 0])
            yield f"{name} ({len(offsets)} points)", offsets[order, 0], offsets[order, 1]


def _bars(ax: Axes) -> Iterable[tuple[str, list[str], np.ndarray]]:
    """(name, labels, lengths) of each visible bar container of `ax`."""
    for container in ax.containers:
        patches = [patch for patch in container.patches if patch.get_visible()]
        if not patches:
            continue
        horizontal = container.orientation == "horizontal"
        lengths = np.array([p.get_width() if horizontal else p.get_height() for p in patches])
        labels = [_bar_label(ax, patch, horizontal) for patch in patches]
        name = container.get_label()
        yield ("bars" if not name or name.startswith("_") else name), labels, lengths


def _bar_label(ax: Axes, patch, horizontal: bool) -> str:
    """The tick label at the bar's centre, if a tick sits there. Read through the axis'
    formatter: asking the axes for its tick labels would mark the figure stale (a full redraw)."""
    axis = ax.yaxis if horizontal else ax.xaxis
    centre = (
        patch.get_y() + patch.get_height() / 2
        if horizontal
        else patch.get_x() + patch.get_width() / 2
    )
    if not any(abs(tick - centre) < 1e-6 for tick in axis.get_majorticklocs()):
        return ""
    return str(axis.get_major_formatter()(centre))


def describe_axes(ax: Axes) -> str:
    """One axes: its title, its axes, and what is drawn on it, in numbers."""
    title = ax.get_title() or ax.get_title(loc="left") or ax.get_title(loc="right")
    parts = [f"{title}." if title else ""]
    parts += [_axis(ax, "x"), _axis(ax, "y")]
    for name, x, y in _series(ax):
        if len(x) == 1:
            parts.append(f"{name}: the point ({number(x[0])}, {number(y[0])}).")
            continue
        top, bottom = int(np.argmax(y)), int(np.argmin(y))
        parts.append(
            f"{name}: from {number(y[0])} at {number(x[0])} to {number(y[-1])} at "
            f"{number(x[-1])}; largest {number(y[top])} at {number(x[top])}, smallest "
            f"{number(y[bottom])} at {number(x[bottom])}."
        )
    for name, labels, lengths in _bars(ax):
        top = int(np.argmax(lengths))
        where = f" ({labels[top]})" if top < len(labels) and labels[top] else ""
        parts.append(
            f"{name}: {len(lengths)} bars, largest {number(lengths[top])}{where}, smallest "
            f"{number(lengths.min())}."
        )
    for patch in ax.patches:  # histograms drawn as stairs
        if isinstance(patch, StepPatch) and patch.get_visible():
            values, edges = (np.asarray(v, dtype=float) for v in patch.get_data()[:2])
            top = int(np.argmax(values))
            parts.append(
                f"A histogram of {len(values)} bins from {number(edges[0])} to "
                f"{number(edges[-1])}: the largest bin, {number(edges[top])} to "
                f"{number(edges[top + 1])}, holds {number(values[top])}; in all "
                f"{number(values.sum())}."
            )
    images = [image for image in ax.get_images() if image.get_visible()]
    for image in images:
        values = np.ma.masked_invalid(np.asarray(image.get_array(), dtype=float))
        if values.count():
            shades = ""
            if values.size <= MAX_COUNTED_CELLS:  # counting shades of a large map costs a step
                distinct = np.unique(values.compressed())
                shades = f", {len(distinct)} distinct values" if len(distinct) <= 64 else ""
            empty = values.size - values.count()
            blank = f", {empty} cells left blank" if empty else ""
            parts.append(
                f"A heat map of {values.shape[0]} rows by {values.shape[1]} columns, values from "
                f"{number(values.min())} to {number(values.max())}{shades}{blank}."
            )
            if values.size <= MAX_LISTED_CELLS:  # small enough to read out, row by row
                rows = "; ".join(
                    " ".join("blank" if value is np.ma.masked else number(value) for value in row)
                    for row in values
                )
                parts.append(f"Row by row: {rows}.")
    return " ".join(part for part in parts if part)


def describe_figure(figure: Figure) -> str:
    """The text alternative of one panel: each of its axes described (a drawing without axes
    by its title and labels)."""
    parts = []
    for ax in figure.axes:
        if not ax.get_visible():
            continue
        if ax.axison:
            parts.append(describe_axes(ax))
        else:
            labels = ", ".join(text.get_text() for text in ax.texts if text.get_text())
            title = ax.get_title()
            parts.append(f"{title}. A drawing labelled {labels}." if labels else f"{title}.")
    return " ".join(part for part in parts if part.strip(". ")) or "An empty picture."


def data_table(figures: Iterable[Figure]) -> str:
    """The numbers behind the pictures: an HTML table per named series or bar set."""
    blocks = []
    for panel, figure in enumerate(figures, 1):
        for ax in figure.axes:
            if not ax.get_visible():
                continue
            x_label, y_label = ax.get_xlabel() or "x", ax.get_ylabel() or "y"
            for name, x, y in _series(ax):
                picks = np.unique(np.linspace(0, len(x) - 1, min(len(x), MAX_TABLE_POINTS)).round())
                rows = "".join(
                    f"<tr><td>{number(x[i])}</td><td>{number(y[i])}</td></tr>"
                    for i in picks.astype(int)
                )
                blocks.append(_table(f"Panel {panel}: {name}", x_label, y_label, rows))
            for name, labels, lengths in _bars(ax):
                rows = "".join(
                    f"<tr><td>{html.escape(label or str(i + 1))}</td><td>{number(length)}</td></tr>"
                    for i, (label, length) in enumerate(zip(labels, lengths, strict=True))
                )
                blocks.append(_table(f"Panel {panel}: {name}", "bar", x_label, rows))
    return "".join(blocks) or "<p>No numbers to show.</p>"


def _table(caption: str, x_label: str, y_label: str, rows: str) -> str:
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>"
        f"<th scope='col'>{html.escape(x_label)}</th><th scope='col'>{html.escape(y_label)}</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )
