"""The package uses only public API of torch, matplotlib, ipywidgets, traitlets and jupyter_server.

Read from the source of the modules of widgets/ that import one of them: a private name of another
package (an attribute or import starting with one underscore that the package does not define
itself) fails the test, and so do the ways of reaching into internals that the explorers once
used. One module may use torch's internals, the profiler's adapter: a torch that moves them breaks
there and nowhere else.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "widgets"
CHECKED_PACKAGES = ("torch", "torchvision", "matplotlib", "ipywidgets", "traitlets",
                    "jupyter_server", "PIL")  # fmt: skip
INTERNALS_ADAPTER = PACKAGE / "core" / "torch_internals.py"  # the one place allowed internals


def _imports_checked_package(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text())):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        if any(name.split(".")[0] in CHECKED_PACKAGES for name in names):
            return True
    return False


SOURCES = [
    path
    for path in sorted(PACKAGE.rglob("*.py"))
    if _imports_checked_package(path) and path != INTERNALS_ADAPTER
]
# private names the package once used (issue 11): none may come back
KNOWN_PRIVATE = {
    "_get_font_height_metrics", "_lastKey", "_loc", "_find_fonts_by_props", "_value_metadata",
    "_get_layout", "_renderer", "_cachedRenderer", "_set_position", "_trait_values",
    "_should_send_property", "_property_lock",
}  # fmt: skip
# classes whose internals a subclass would depend on
NO_SUBCLASS = {"RendererAgg", "FigureCanvasAgg", "FigureCanvasBase", "RendererBase", "Legend"}
# hooks other packages look up by these names (documented entry points)
DOCUMENTED_HOOKS = {"_repr_mimebundle_", "_jupyter_server_extension_points",
                    "_load_jupyter_server_extension"}  # fmt: skip


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in SOURCES]


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _own_names(trees: list[tuple[Path, ast.Module]]) -> set[str]:
    """Every private name the package itself defines: functions, classes, attributes it sets,
    variables, arguments."""
    names: set[str] = set()
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
    names |= {path.stem for path in SOURCES}
    return {name for name in names if _is_private(name)} - KNOWN_PRIVATE


def test_no_private_names_of_other_packages():
    trees = _trees()
    own = _own_names(trees) | DOCUMENTED_HOOKS
    found = []
    for path, tree in trees:
        for node in ast.walk(tree):
            used = []
            if isinstance(node, ast.Attribute) and _is_private(node.attr):
                used.append(node.attr)
            elif isinstance(node, ast.ImportFrom):
                module_parts = (node.module or "").split(".")
                used += [part for part in module_parts if _is_private(part)]
                used += [alias.name for alias in node.names if _is_private(alias.name)]
            elif isinstance(node, ast.Import):
                used += [p for alias in node.names for p in alias.name.split(".") if _is_private(p)]
            found += [f"{path.name}:{node.lineno}: {name}" for name in used if name not in own]
    assert not found, "private names of other packages:\n" + "\n".join(found)


def test_no_subclass_of_renderer_or_canvas_internals():
    found = [
        f"{path.name}:{node.lineno}: class {node.name}"
        for path, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        and any((getattr(base, "id", None) or getattr(base, "attr", None)) in NO_SUBCLASS
                for base in node.bases)
    ]  # fmt: skip
    assert not found, "\n".join(found)


def test_no_stale_flag_set_by_hand():
    """`x.stale = False` tells matplotlib a picture is up to date that it did not draw."""
    found = [
        f"{path.name}:{node.lineno}"
        for path, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Attribute) and t.attr == "stale" for t in node.targets)
    ]
    assert not found, "stale set by hand at " + ", ".join(found)


@pytest.mark.parametrize(
    "source",
    [
        "canvas._lastKey = None",
        "from matplotlib.font_manager import _find_fonts_by_props",
        "legend._loc = 2",
        "control._value_metadata = {}",
        "class R(RendererAgg):\n    pass",
        "figure.stale = False",
        "from torch.utils._python_dispatch import TorchDispatchMode",
        "op = func._overloadpacket",
    ],
)
def test_the_checks_catch_what_they_look_for(tmp_path, monkeypatch, source):
    module = tmp_path / "widgets" / "bad.py"
    module.parent.mkdir()
    module.write_text("import matplotlib\n" + source + "\n")
    monkeypatch.setattr(f"{__name__}.SOURCES", [*SOURCES, module])
    monkeypatch.setattr(f"{__name__}.PACKAGE", tmp_path / "widgets")
    checks = [
        test_no_private_names_of_other_packages,
        test_no_subclass_of_renderer_or_canvas_internals,
        test_no_stale_flag_set_by_hand,
    ]
    failed = 0
    for check in checks:
        try:
            check()
        except AssertionError:
            failed += 1
    assert failed == 1
