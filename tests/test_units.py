"""Sizes, units and argument checks."""

from __future__ import annotations

import pytest

import widgets
from widgets.core.validate import (
    UnknownNameError,
    check_choice,
    check_int,
    check_number,
    check_shape,
    check_tuple,
)


def test_model_size_at_each_bit_width():
    params = 25_557_032  # ResNet-50
    sizes = {bits: widgets.model_size_bytes(params, bits) for bits in widgets.BIT_WIDTHS}
    assert sizes[32] == 4 * params
    assert sizes[8] == params
    assert sizes[4] == params / 2
    assert widgets.format_bytes(sizes[32]) == "97.5 MiB"
    assert widgets.format_bytes(sizes[4]) == "12.2 MiB"


@pytest.mark.parametrize(
    ("num_bytes", "text"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1536, "1.50 KiB"),
        (3 * 2**20, "3.00 MiB"),
        (2**40, "1.00 TiB"),
    ],
)
def test_format_bytes(num_bytes, text):
    assert widgets.format_bytes(num_bytes) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0"), (999, "999"), (1000, "1.00 K"), (25_557_032, "25.6 M"), (4_089_184_256, "4.09 G")],
)
def test_format_count(count, text):
    assert widgets.format_count(count) == text


def test_checks_name_the_parameter():
    with pytest.raises(ValueError, match="width must be a positive integer, got 0"):
        check_int("width", 0)
    with pytest.raises(TypeError, match="width must be an integer, got True"):
        check_int("width", True)
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        check_int("padding", -1, minimum=0)
    with pytest.raises(ValueError, match="budget_s must be > 0"):
        check_number("budget_s", 0)
    with pytest.raises(ValueError, match="budget_s"):
        check_number("budget_s", float("nan"))
    with pytest.raises(UnknownNameError, match="unknown bits 3; choose one of: 32, 16") as info:
        check_choice("bits", 3, (32, 16))
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    with pytest.raises(ValueError, match=r"input_size must have 4 dimensions"):
        check_shape("input_size", (1, 2), ndim=4)
    assert check_tuple("kernel_size", 3, 2) == (3, 3)
    with pytest.raises(TypeError, match="kernel_size"):
        check_tuple("kernel_size", (3, 3, 3), 2)
    with pytest.raises(ValueError, match="bits"):
        widgets.model_size_bytes(10, bits=5)


def test_unknown_public_name():
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        widgets.nothing  # noqa: B018
