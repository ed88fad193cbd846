"""Model size and human-readable units.

Memory uses binary units (1 KiB = 1024 B, 1 MiB = 1024**2 B); counts (params, MACs, FLOPs) use
SI units (1 K = 1e3, 1 M = 1e6, 1 G = 1e9), as papers do.
"""

from __future__ import annotations

from .validate import check_choice, check_int

BIT_WIDTHS = (32, 16, 8, 4, 2, 1)  # every width model_size_bytes accepts
EXPLORER_BIT_WIDTHS = (32, 16, 8, 4)  # the menus the explorers offer: fp32, fp16, int8, int4
# the number format each of those widths stands for in the lecture (floats at 32 and 16 bits)
NUMBER_FORMATS = {32: "fp32", 16: "fp16", 8: "int8", 4: "int4"}
FLOPS_PER_MAC = 2  # a multiply-accumulate is one multiply and one add
SAFE_MEMORY_SHARE = 0.5  # share of the available memory a computation may plan to allocate
BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")  # steps of 1024
SI_PREFIXES = ("", "K", "M", "G", "T", "P", "E")  # steps of 1000
MIB = 1024**2  # bytes in one MiB
GIB = 1024**3  # bytes in one GiB


def flops_from_macs(macs: float) -> float:
    """FLOPs of `macs` multiply-accumulates: FLOPS_PER_MAC (2) per MAC."""
    return FLOPS_PER_MAC * macs


def bytes_for(count: float, bits: float) -> float:
    """Bytes that hold `count` numbers of `bits` bits each: count * bits / 8."""
    return count * bits / 8


def model_size_bytes(params: int, bits: int = 32) -> float:
    """Bytes needed to store `params` numbers of `bits` bits each: params * bits / 8."""
    check_int("params", params, minimum=0)
    check_choice("bits", bits, BIT_WIDTHS)
    return bytes_for(params, bits)


def format_bytes(num_bytes: float) -> str:
    """Binary units: 1536 -> '1.50 KiB', 102_760_448 -> '98.0 MiB'."""
    value = float(num_bytes)
    for unit in BINARY_UNITS:
        if abs(value) < 1024 or unit == BINARY_UNITS[-1]:
            break
        value /= 1024
    return f"{value:.0f} B" if unit == "B" else f"{three_digits(value)} {unit}"


def format_count(count: float) -> str:
    """SI units: 25_557_032 -> '25.6 M', 4_089_184_256 -> '4.09 G'."""
    value = float(count)
    for unit in SI_PREFIXES:
        if abs(value) < 1000 or unit == SI_PREFIXES[-1]:
            break
        value /= 1000
    if unit == "":
        return f"{value:.0f}" if value == int(value) else three_digits(value)
    return f"{three_digits(value)} {unit}"


def three_digits(value: float) -> str:
    """Three significant digits, keeping trailing zeros: 98 -> '98.0', 1.5 -> '1.50'."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:#.3g}"


def power_ticks(low: float, high: float, base: int) -> list[tuple[float, str]]:
    """Axis ticks at each power of `base` (1024: '1 KiB', '1 MiB'...; 1000: '1 K', '1 M'...)
    between `low` and `high`."""
    names = {1024: BINARY_UNITS, 1000: SI_PREFIXES}[base]
    ticks = [(float(base) ** k, f"1 {name}".rstrip()) for k, name in enumerate(names)]
    return [(value, label) for value, label in ticks if low <= value <= high]
