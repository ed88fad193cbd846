"""A submission's code cells as the grader reads them: parsed, and the exercises each checks.

A cell is parsed after IPython's own transformation (so `%time x = 1` and `!ls` are Python too).
A check is a call `labNN.name.check(expr)` on an exercise of a lab module, however the module was
imported (`from widgets.exercises import lab02 as l2`, `widgets.exercises.lab02`): the grader
reads `expr` in the kernel after the cell, and never the record the learner's kernel keeps.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..checks import Exercise
from ..lab import LAB_NAME, PACKAGE, items_of, lab_modules


@dataclass(frozen=True)
class Check:
    """One `target.check(expression)` call: the exercise it checks and the answer's expression."""

    lab: str  # "lab02"
    exercise: str  # "conv_params"
    target: str  # the exercise as the cell names it: "lab02.conv_params", "l2.conv_params"
    expression: str  # the argument's source: "answer"


@dataclass(frozen=True)
class Cell:
    """A code cell: its position among all cells (1-based), its source and what it checks."""

    number: int
    source: str
    tree: ast.Module | None  # None if it does not parse
    checks: tuple[Check, ...]


def python_source(source: str) -> str:
    """The cell as plain Python: IPython's magics and shell escapes become function calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # IPython cannot read it either: the kernel will raise
        return source


@cache
def exercise_names() -> dict[str, tuple[str, ...]]:
    """lab -> the names of its exercises, in definition order (predictions are not graded)."""
    return {
        module.__name__.rsplit(".", 1)[-1]: tuple(
            name for name, item in items_of(module).items() if isinstance(item, Exercise)
        )
        for module in lab_modules()
    }


def lab_aliases(trees: list[ast.Module]) -> dict[str, str]:
    """name in the notebook -> the lab module it stands for ('l2' -> 'lab02'), from its imports."""
    aliases: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == PACKAGE:
                for name in node.names:
                    if LAB_NAME.fullmatch(name.name):
                        aliases[name.asname or name.name] = name.name
            elif isinstance(node, ast.Import):
                for name in node.names:
                    lab = name.name.removeprefix(f"{PACKAGE}.")
                    if name.asname and LAB_NAME.fullmatch(lab):
                        aliases[name.asname] = lab
    return aliases


def dotted(node: ast.AST) -> str | None:
    """'a.b.c' for a chain of names and attributes, else None."""
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(names)]) if isinstance(node, ast.Name) else None


def lab_of(path: str, aliases: dict[str, str]) -> str | None:
    """The lab a dotted name denotes ('l2', 'lab02', 'widgets.exercises.lab02'), if any."""
    if path in aliases:
        return aliases[path]
    last = path.rsplit(".", 1)[-1]
    if path in (last, f"exercises.{last}", f"{PACKAGE}.{last}") and LAB_NAME.fullmatch(last):
        return last
    return None


def _checks(tree: ast.Module, source: str, aliases: dict[str, str]) -> Iterator[Check]:
    known = exercise_names()
    calls = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    for node in calls:
        if not (
            isinstance(node.func, ast.Attribute)
            and node.func.attr == "check"
            and isinstance(node.func.value, ast.Attribute)
        ):
            continue
        arguments = [*node.args, *(k.value for k in node.keywords if k.arg == "answer")]
        base = dotted(node.func.value.value)
        lab = None if base is None else lab_of(base, aliases)
        name = node.func.value.attr
        if lab in known and name in known[lab] and len(arguments) == 1:
            expression = ast.get_source_segment(source, arguments[0])
            if expression is not None:
                yield Check(lab, name, f"{base}.{name}", expression)


def code_cells(notebook: Any) -> list[Cell]:
    """The notebook's code cells, each parsed, with the checks it calls in source order."""
    sources = [
        (number, cell.source)
        for number, cell in enumerate(notebook.cells, start=1)
        if cell.cell_type == "code"
    ]
    parsed = [(number, source, python_source(source)) for number, source in sources]
    trees = [_tree(python) for _, _, python in parsed]
    aliases = lab_aliases([tree for tree in trees if tree is not None])
    return [
        Cell(number, source, tree, () if tree is None else tuple(_checks(tree, python, aliases)))
        for (number, source, python), tree in zip(parsed, trees, strict=True)
    ]


def _tree(python: str) -> ast.Module | None:
    """The syntax tree, or None for code Python cannot parse (nor can the kernel, then)."""
    try:
        return ast.parse(python)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
