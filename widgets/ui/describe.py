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
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, StepPatch

from widgets.core.units import format_count

MAX_TABLE_POINTS = 16  # a series in the table: whole up to this many points, else this many spread
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
    for collection in ax.collections:  # scatter plots (other collections have no points)
        if not isinstance(collection, PathCollection):
            continue
        offsets = np.asarray(collection.get_offsets(), dtype=float).reshape(-1, 2)
        name = collection.get_label()
        if not name or name.startswith("_"):
            name = names.get(id(collection), "points")
        if collection.get_visible() and len(offsets):
            order = np.argsort(offsets[:, 0])
            yield f"{name} ({len(offsets)} points)", offsets[order, 0], offsets[order, 1]


def _named(artist) -> str:
    """The artist's own label, '' if it has none (matplotlib names unlabelled ones "_child0")."""
    name = artist.get_label()
    return "" if not name or name.startswith("_") else name


def _bars(ax: Axes) -> Iterable[tuple[str, list[str | float], np.ndarray, bool]]:
    """(name, labels, heights, horizontal) of each set of visible bars of `ax`: the bar
    containers of one label together (each bar labelled by its tick), and each labelled PathPatch
    of rectangles (bars drawn as one path, each labelled by the x of its centre: `_bar_name`
    words it, only when it is read). A bar's height is where its top reads on the value axis
    (the x axis for horizontal bars)."""
    bar_sets: dict[str, tuple[list[str | float], list[float], bool]] = {}
    for container in ax.containers:
        patches = [patch for patch in container.patches if patch.get_visible()]
        horizontal = container.orientation == "horizontal"
        labels, heights, _ = bar_sets.setdefault(_named(container) or "bars", ([], [], horizontal))
        labels += [_bar_label(ax, patch, horizontal) for patch in patches]
        heights += [patch.get_width() if horizontal else patch.get_height() for patch in patches]
    for patch in ax.patches:
        if not (isinstance(patch, PathPatch) and patch.get_visible() and _named(patch)):
            continue
        labels, heights, _ = bar_sets.setdefault(_named(patch), ([], [], False))
        for corners in _same_length_groups(patch.get_path().to_polygons(closed_only=False)):
            low, high = corners.min(axis=1), corners.max(axis=1)  # per bar: (x, y) corners
            drawn = high[:, 1] > low[:, 1]  # a bar of no height is not drawn
            labels += list((low[drawn, 0] + high[drawn, 0]) / 2)
            heights += list(high[drawn, 1])
    for name, (labels, heights, horizontal) in bar_sets.items():
        if heights:
            yield name, labels, np.array(heights, dtype=float), horizontal


def _same_length_groups(polygons: list[np.ndarray]) -> Iterable[np.ndarray]:
    """The polygons as arrays of shape (polygons, corners, 2), one per number of corners."""
    by_length: dict[int, list[np.ndarray]] = {}
    for polygon in polygons:
        by_length.setdefault(len(polygon), []).append(polygon)
    return (np.stack(group) for group in by_length.values())


def _bar_name(label: str | float) -> str:
    """A bar's label as read: its tick's text, or "at x" for the x of its centre."""
    return label if isinstance(label, str) else f"at {number(label)}"


def _ranges(ax: Axes) -> Iterable[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(name, x, low, high) of each visible, labelled collection of vertical segments of `ax`
    (e.g. a spread from the 10th to the 90th percentile at each x)."""
    for collection in ax.collections:
        if not (isinstance(collection, LineCollection) and collection.get_visible()):
            continue
        segments = [np.asarray(s, dtype=float) for s in collection.get_segments() if len(s)]
        if _named(collection) and segments:
            x = np.array([segment[0, 0] for segment in segments])
            low = np.array([segment[:, 1].min() for segment in segments])
            high = np.array([segment[:, 1].max() for segment in segments])
            yield _named(collection), x, low, high


def _bar_label(ax: Axes, patch, horizontal: bool) -> str:
    """The label of the tick the bar stands on (its centre, or an edge for bars side by side),
    if any. Read through the axis' formatter: asking the axes for its tick labels would mark the
    figure stale (a full redraw)."""
    axis = ax.yaxis if horizontal else ax.xaxis
    start, size = (
        (patch.get_y(), patch.get_height()) if horizontal else (patch.get_x(), patch.get_width())
    )
    low, high = min(start, start + size) - 1e-6, max(start, start + size) + 1e-6
    ticks = [tick for tick in axis.get_majorticklocs() if low <= tick <= high]
    return " ".join(str(axis.get_major_formatter()(ticks[0])).split()) if ticks else ""


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
    for name, labels, heights, _ in _bars(ax):
        top, bottom = int(np.argmax(heights)), int(np.argmin(heights))
        if len(heights) == 1:
            parts.append(f"{name}: one bar, {number(heights[0])}{_where(labels[0])}.")
            continue
        parts.append(
            f"{name}: {len(heights)} bars, largest {number(heights[top])}{_where(labels[top])}"
            f", smallest {number(heights[bottom])}{_where(labels[bottom])}."
        )
    for name, x, low, high in _ranges(ax):
        spans = "; ".join(
            f"{number(a)} to {number(b)} at {number(at)}"
            for at, a, b in zip(x, low, high, strict=True)
        )
        parts.append(f"{name}: {spans}.")
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


def _where(label: str | float) -> str:
    return f" ({_bar_name(label)})" if label != "" else ""


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
            for name, labels, heights, horizontal in _bars(ax):
                rows = "".join(
                    f"<tr><td>{html.escape(_bar_name(label) or str(i + 1))}</td>"
                    f"<td>{number(height)}</td></tr>"
                    for i, (label, height) in enumerate(zip(labels, heights, strict=True))
                )
                value_label = x_label if horizontal else y_label
                blocks.append(_table(f"Panel {panel}: {name}", "bar", value_label, rows))
    return "".join(blocks) or "<p>No numbers to show.</p>"


def _table(caption: str, x_label: str, y_label: str, rows: str) -> str:
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>"
        f"<th scope='col'>{html.escape(x_label)}</th><th scope='col'>{html.escape(y_label)}</th>"
        f"</tr></thead><tbody>{rows}</tbody></table>"
    )
