"""A lab's exercises and predictions: their names, their order, the ones built on first use.

Each lab module (widgets/exercises/labNN.py) defines its exercises and predictions at module level,
then ends with

    lab = Lab(globals(), built_on_first_use={"peak_block": _peak_block})
    progress, __getattr__, __dir__ = lab.progress, lab.module_getattr, lab.module_dir

A builder (a function returning an Exercise or Prediction) is for an item whose answer needs real
work, such as profiling a model: it runs on first use, once, so importing the module does no work
and a prediction keeps its first guess. The Lab names each item ("lab02.conv_params"), so feedback
can say how to reveal it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .checks import Exercise, Prediction

Item = Exercise | Prediction
LAB_NAME = re.compile(r"lab\d\d")
PACKAGE = __name__.rsplit(".", 1)[0]  # widgets.exercises


class Lab:
    """The exercises and predictions of one lab module, in the order the module defines them."""

    def __init__(
        self,
        namespace: dict[str, Any],
        built_on_first_use: dict[str, Callable[[], Item]] | None = None,
    ) -> None:
        self.module_name = namespace["__name__"]
        self.name = self.module_name.rsplit(".", 1)[-1]  # "lab02"
        self._namespace = namespace
        self._builders = dict(built_on_first_use or {})
        # definition order: an item stands where it, or its builder, is defined
        builder_names = {id(builder): name for name, builder in self._builders.items()}
        self._order = [
            builder_names.get(id(value), name)
            for name, value in namespace.items()
            if id(value) in builder_names or (isinstance(value, Item) and not name.startswith("_"))
        ]
        for name in self._order:
            if name in namespace and isinstance(namespace[name], Item):
                self._name(name, namespace[name])

    def items(self, *, build: bool = True) -> dict[str, Item]:
        """name -> exercise or prediction, in definition order; build=False leaves out those
        not built yet."""
        return {
            name: self.module_getattr(name)
            for name in self._order
            if build or isinstance(self._namespace.get(name), Item)
        }

    def module_getattr(self, name: str) -> Any:
        """The module's `__getattr__` (PEP 562): builds an item on first use, once."""
        value = self._namespace.get(name)
        if isinstance(value, Item):
            return value
        build = self._builders.get(name)
        if build is None:
            raise AttributeError(f"module {self.module_name!r} has no attribute {name!r}")
        value = self._namespace[name] = self._name(name, build())
        return value

    def module_dir(self) -> list[str]:
        """The module's `__dir__`: its names and the items not built yet."""
        return sorted({*self._namespace, *self._builders})

    def progress(self) -> Any:
        """Each exercise and prediction of this lab, and its status (a Progress table)."""
        from .progress import progress  # progress imports this module

        return progress(self.name)

    def _name(self, name: str, item: Item) -> Item:
        object.__setattr__(item, "name", f"{self.name}.{name}")  # Exercise is frozen
        return item


def lab_modules(*labs: ModuleType | str | int) -> list[ModuleType]:
    """The lab modules named (lab02, "lab02", "02" or 2), importing them; none: every lab."""
    package = importlib.import_module(PACKAGE)
    names = [
        module.name
        for module in pkgutil.iter_modules(package.__path__)
        if LAB_NAME.fullmatch(module.name)
    ]
    if labs:
        wanted = []
        for lab in labs:
            name = lab.__name__.rsplit(".", 1)[-1] if isinstance(lab, ModuleType) else str(lab)
            name = f"lab{int(name):02d}" if name.isdigit() else name
            if name not in names:
                raise ValueError(f"lab must be one of {', '.join(names)}; got {lab!r}")
            wanted.append(name)
        names = wanted
    return [importlib.import_module(f"{PACKAGE}.{name}") for name in names]


def imported_labs() -> list[ModuleType]:
    """The lab modules imported in this kernel so far."""
    return [
        module
        for name, module in sorted(sys.modules.items())
        if module is not None and LAB_NAME.fullmatch(name.removeprefix(f"{PACKAGE}."))
    ]


def items_of(module: ModuleType, *, build: bool = True) -> dict[str, Item]:
    """name -> exercise or prediction of a lab module (its Lab's items)."""
    return module.lab.items(build=build)
