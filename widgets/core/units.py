"""Model size and human-readable units.

Memory uses binary units (1 KiB = 1024 B, 1 MiB = 1024**2 B); counts (params, MACs, FLOPs) use
SI units (1 K = 1e3, 1 M = 1e6, 1 G = 1e9), as papers do.
"""

from __future__ import annotations

from .validate import check_choice, check_int

BIT_WIDTHS = (32, 16, 8, 4, 2, 1)
MIB = 1024**2  # bytes in one MiB


def model_size_bytes(params: int, bits: int = 32) -> float:
    """Bytes needed to store `params` numbers of `bits` bits each: params * bits / 8."""
    check_int("params", params, minimum=0)
    check_choice("bits", bits, BIT_WIDTHS)
    return params * bits / 8


def format_bytes(num_bytes: float) -> str:
    """Binary units: 1536 -> '1.50 KiB', 102_760_448 -> '98.0 MiB'."""
    value = float(num_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            break
        value /= 1024
    return f"{value:.0f} B" if unit == "B" else f"{three_digits(value)} {unit}"


def format_count(count: float) -> str:
    """SI units: 25_557_032 -> '25.6 M', 4_089_184_256 -> '4.09 G'."""
    value = float(count)
    for unit in ("", "K", "M", "G", "T", "P"):
        if abs(value) < 1000 or unit == "P":
            break
        value /= 1000
    if unit == "":
        return f"{value:.0f}" if value == int(value) else three_digits(value)
    return f"{three_digits(value)} {unit}"


def three_digits(value: float) -> str:
    """Three significant digits, keeping trailing zeros: 98 -> '98.0', 1.5 -> '1.50'."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:#.3g}"
