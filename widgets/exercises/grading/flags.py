"""Flags for a human to review: code in a submission that reads, reveals or forges answers.

Static analysis of the cells (after IPython's transformation): a flag is not a zero, since a
learner may read `.answer` by mistake or out of curiosity, but a TA should look. Flagged:

- reading a reference answer or an exercise's internals (`lab02.conv_params.answer`, `.solution`,
  `.record`, a private attribute of a lab module or an exercise);
- calling `reveal()` or `forget()`;
- importing the answer key, the grader, the exercises' classes and modules, or `*` from the package;
- assigning to an attribute of anything from the package (patching `Exercise`, a lab module), or
  to a private attribute of anything;
- code the grader cannot read statically: eval/exec, `setattr`, `__dict__`, `sys.modules`,
  `subprocess`, shell escapes and magics that run code or files.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

from ..lab import PACKAGE
from .cells import Cell, dotted, lab_aliases, python_source

REFERENCE = {"answer", "solution", "measured", "record", "mistakes", "first_guess"}
SENSITIVE_IMPORTS = {
    f"{PACKAGE}.{name}": why
    for name, why in {
        "answer_key": "the answer key",
        "grading": "the grader",
        "__main__": "the answer-key command",
        "checks": "the exercises' classes",
        "lab": "the labs' internals",
    }.items()
}
SENSITIVE_NAMES = {"answer_key", "grading", "Exercise", "Prediction", "Record", "Lab", "items_of"}
ESCAPES = {
    "subprocess", "runpy", "ctypes", "gc", "importlib", "inspect", "pty", "multiprocessing",
    "dataclasses", "pickle", "copyreg", "marshal",
}  # fmt: skip
DYNAMIC_CALLS = {"eval", "exec", "compile", "__import__", "globals", "vars", "setattr", "delattr"}
DUNDERS = {
    "__dict__", "__class__", "__globals__", "__subclasses__", "__builtins__", "__code__",
    "__closure__", "__setattr__", "__delattr__", "__mro__", "__bases__", "__func__", "__self__",
    "__getattribute__", "__reduce__", "__reduce_ex__", "__getstate__",
}  # fmt: skip
SAFE_MAGICS = {"matplotlib", "load_ext", "autoreload", "pip", "who", "whos", "pwd"}
CODE_MAGICS = {"time", "timeit", "prun", "capture"}  # their argument is Python: analysed


def flags(cells: Sequence[Cell]) -> list[str]:
    """What a TA should look at, one line each ('cell 4: reads lab02.conv_params.answer')."""
    trees = [cell.tree for cell in cells if cell.tree is not None]
    package_names = lab_aliases(trees) | _package_imports(trees)
    found: list[str] = []
    for cell in cells:
        if cell.tree is not None:
            for reason in _reasons(cell.tree, package_names):
                line = _shorten(f"cell {cell.number}: {reason}")
                if line not in found:
                    found.append(line)
    return found


def _shorten(text: str, width: int = 200) -> str:
    """`text`, cut to `width` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def _package_imports(trees: list[ast.Module]) -> dict[str, str]:
    """name in the notebook -> the package module or name it was imported as."""
    names: dict[str, str] = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("widgets"):
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("widgets"):
                        names[alias.asname or alias.name.split(".")[0]] = alias.name
    return names


def _from_package(node: ast.AST, package_names: dict[str, str]) -> bool:
    """Whether an attribute chain starts at a name the notebook took from the package."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return isinstance(node, ast.Name) and node.id in package_names


def _reasons(tree: ast.Module, package_names: dict[str, str]) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            yield from _attribute(node, package_names)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            yield from _import(node)
        elif isinstance(node, ast.Call):
            yield from _call(node, package_names)
        elif isinstance(node, ast.Name) and node.id in DUNDERS:
            yield f"uses {node.id}"


def _attribute(node: ast.Attribute, package_names: dict[str, str]) -> Iterator[str]:
    name = dotted(node) or f"….{node.attr}"
    if isinstance(node.ctx, ast.Store | ast.Del) and _from_package(node.value, package_names):
        yield f"assigns to {name} (patches the package)"
    elif isinstance(node.ctx, ast.Store | ast.Del) and node.attr.startswith("_"):
        yield f"assigns to {name} (a private attribute)"
    elif node.attr in REFERENCE:
        yield f"reads {name} (a reference answer or a record)"
    elif node.attr in DUNDERS:
        yield f"uses {node.attr}"
    elif node.attr == "modules" and dotted(node.value) == "sys":
        yield "uses sys.modules"
    elif (
        node.attr.startswith("_")
        and not node.attr.startswith("__")
        and _from_package(node.value, package_names)
    ):
        yield f"reads {name} (internals of the exercises)"


def _import(node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    else:
        module = node.module or ""
        modules = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        for alias in node.names:
            if module.startswith("widgets") and alias.name in SENSITIVE_NAMES | {"*"}:
                yield f"imports {alias.name} from {module}"
    for module in modules:
        for sensitive, why in SENSITIVE_IMPORTS.items():
            if module == sensitive or module.startswith(f"{sensitive}."):
                yield f"imports {module} ({why})"
        if module.split(".")[0] in ESCAPES:
            yield f"imports {module.split('.')[0]}"


def _call(node: ast.Call, package_names: dict[str, str]) -> Iterator[str]:
    function = node.func
    if isinstance(function, ast.Name) and function.id in DYNAMIC_CALLS:
        yield f"calls {function.id}()"
    elif isinstance(function, ast.Name) and function.id == "getattr" and not _constant(node, 1):
        yield "calls getattr() with a computed name"
    elif (dotted(function) or "").endswith(("getattr", "attrgetter")) and (
        names := [
            arg.value
            for arg in node.args
            if isinstance(arg, ast.Constant) and str(arg.value).split(".")[-1] in REFERENCE
        ]
    ):
        yield f"reads .{names[0]} by name (a reference answer or a record)"
    elif isinstance(function, ast.Attribute):
        if function.attr in ("reveal", "forget"):
            yield f"calls {dotted(function) or function.attr}()"
        elif dotted(function.value) == "os" and function.attr.startswith(
            ("system", "popen", "exec", "spawn", "fork", "posix_spawn")
        ):
            yield f"calls os.{function.attr}()"
        elif _is_get_ipython(function.value):
            yield from _ipython(function.attr, node, package_names)


def _is_get_ipython(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "get_ipython"
    )


def _ipython(method: str, node: ast.Call, package_names: dict[str, str]) -> Iterator[str]:
    """A magic or shell escape, as IPython's transformation writes it."""
    if method in ("system", "getoutput"):
        yield "runs a shell command"
        return
    if method not in ("run_line_magic", "run_cell_magic") or not _constant(node, 0):
        yield f"calls get_ipython().{method}()"
        return
    magic = node.args[0].value
    if magic in CODE_MAGICS:
        code = [arg.value for arg in node.args[1:] if isinstance(arg, ast.Constant)]
        try:
            tree = ast.parse(python_source("\n".join(map(str, code))))
        except SyntaxError:
            yield f"uses %{magic} on code the grader cannot read"
        else:
            yield from _reasons(tree, package_names)
    elif magic not in SAFE_MAGICS:
        yield f"uses the magic %{magic}"


def _constant(node: ast.Call, position: int) -> bool:
    return len(node.args) > position and isinstance(node.args[position], ast.Constant)
