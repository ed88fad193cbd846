"""Argument checks shared by the whole package.

Every check names the parameter and says what is allowed, so the same sentence can be raised by
the API and shown inside a widget.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any


class UnknownNameError(KeyError, ValueError):
    """An unknown name (layer kind, activation, model...); catchable as KeyError or ValueError."""

    def __str__(self) -> str:  # KeyError would otherwise print the message in quotes
        return str(self.args[0]) if self.args else ""


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(name: str, value: Any, minimum: int = 1) -> int:
    """Return `value` as int if it is an integer >= `minimum`; raise TypeError/ValueError."""
    if not _is_int(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {what}, got {value}")
    return int(value)


def check_number(name: str, value: Any, minimum: float = 0.0, inclusive: bool = False) -> float:
    """Return `value` as float if it is a real number > `minimum` (>= if inclusive)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {value!r}")
    if value != value or (value < minimum if inclusive else value <= minimum):
        relation = ">=" if inclusive else ">"
        raise ValueError(f"{name} must be {relation} {minimum:g}, got {value}")
    return float(value)


def check_bool(name: str, value: Any) -> bool:
    """Return `value` if it is True or False (not 0, 1 or None); else raise TypeError."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return value


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return `value` if it is one of `allowed`; else raise UnknownNameError listing them."""
    allowed = list(allowed)
    if value not in allowed:
        listed = ", ".join(repr(a) for a in allowed)
        raise UnknownNameError(f"unknown {name} {value!r}; choose one of: {listed}")
    return value


def check_shape(
    name: str, shape: Any, ndim: int | tuple[int, ...] | None = None
) -> tuple[int, ...]:
    """Return `shape` as a tuple of positive ints, optionally with a given number of dimensions."""
    if _is_int(shape):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"{name} must be a tuple of positive integers, got {shape!r}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if len(shape) not in allowed:
            dims = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name} must have {dims} dimensions, got {tuple(shape)}")
    for i, size in enumerate(shape):
        check_int(f"{name}[{i}]", size)
    return tuple(int(s) for s in shape)


def check_tuple(name: str, value: Any, length: int, minimum: int = 1) -> tuple[int, ...]:
    """Expand an int or a tuple into `length` ints, each >= `minimum` (e.g. kernel_size=3)."""
    values = (value,) * length if _is_int(value) else value
    if not isinstance(values, (tuple, list)) or len(values) != length:
        raise TypeError(f"{name} must be an integer or a tuple of {length} integers, got {value!r}")
    return tuple(check_int(name, v, minimum) for v in values)
