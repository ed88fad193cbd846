"""Typical wrong answers shared by the labs, each with the hint it earns."""

from __future__ import annotations

from dataclasses import dataclass

from widgets.core.units import FLOPS_PER_MAC, flops_from_macs


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer (a number, or a name for a named answer) and the hint it earns."""

    answer: float | str
    hint: str


def flops_for_macs(macs: float) -> Mistake:
    """The FLOP count given where MACs are asked: 2 x too many."""
    return Mistake(
        flops_from_macs(macs),
        "That is the FLOP count: 1 MAC = 1 multiply + 1 add = 2 FLOPs. Give MACs.",
    )


def macs_for_flops(flops: float) -> Mistake:
    """The MAC count given where FLOPs are asked: 2 x too few."""
    return Mistake(
        flops / FLOPS_PER_MAC,
        "That is the MAC count: each MAC is a multiply and an add, i.e. 2 FLOPs.",
    )


def bits_for_bytes(num_bytes: float) -> Mistake:
    """Bits given where bytes are asked: 8 x too many."""
    return Mistake(8 * num_bytes, "That is in bits: 1 byte = 8 bits, so divide by 8.")


def binary_as_si(value: float, prefix: str) -> Mistake:
    """A size in KiB/MiB/GiB computed with powers of 1000 (kB/MB/GB) instead of 1024."""
    power = {"Ki": 1, "Mi": 2, "Gi": 3}[prefix]
    return Mistake(
        value * (1024 / 1000) ** power,
        f"That divides by 1000^{power}: 1 {prefix}B = 1024^{power} bytes (binary units).",
    )
