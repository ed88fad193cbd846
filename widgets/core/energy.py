"""Energy of one inference, from the energy of single operations and memory accesses.

The numbers are for a 45 nm process at 0.9 V, from M. Horowitz, "Computing's energy problem (and
what we can do about it)", ISSCC 2014: an int8 add costs 0.03 pJ, reading 32 bits from DRAM
costs 640 pJ, over 20 000 times more. Newer chips lower every number, but the ratios, and so the
lesson (moving data costs more than computing on it), still hold.
"""

from __future__ import annotations

from dataclasses import dataclass

from .latency import si_scale
from .profiler import Profile
from .roofline import layer_traffic
from .units import format_bytes, format_count, three_digits
from .validate import check_choice, check_number


@dataclass(frozen=True)
class EnergyCost:
    """Energy of one operation on `bits`-bit operands, or of one `bits`-bit memory read."""

    operation: str  # "int add", "fp mult", "sram read", "dram read", ...
    bits: int
    energy_pj: float
    note: str = ""


ENERGY_TABLE: tuple[EnergyCost, ...] = (
    EnergyCost("int add", 8, 0.03),
    EnergyCost("int add", 16, 0.05, "interpolated between 8 and 32 bits; not in the paper"),
    EnergyCost("int add", 32, 0.1),
    EnergyCost("fp add", 16, 0.4),
    EnergyCost("fp add", 32, 0.9),
    EnergyCost("int mult", 8, 0.2),
    EnergyCost("int mult", 32, 3.1),
    EnergyCost("fp mult", 16, 1.1),
    EnergyCost("fp mult", 32, 3.7),
    EnergyCost("sram read", 64, 10.0, "8 KB cache; often quoted as 5 pJ per 32 bits"),
    EnergyCost(
        "dram read",
        32,
        640.0,
        "as quoted by Han et al. (NeurIPS 2015); the paper gives 1.3-2.6 nJ per 64 bits, "
        "and 640 pJ per 32 bits is its low end",
    ),
)
"""Horowitz, ISSCC 2014, 45 nm (the paper also lists 20 pJ for a 32 KB and 100 pJ for a 1 MB
cache, per 64 bits: bigger memories cost more per access)."""

ENERGY_BITS = (32, 16, 8, 4)  # MAC widths estimate_energy knows: fp32, fp16, int8, int4
MEMORIES = ("dram", "sram")

_PJ = {(cost.operation, cost.bits): cost.energy_pj for cost in ENERGY_TABLE}


@dataclass(frozen=True)
class LayerEnergy:
    """Energy of one layer of a profile, in picojoules."""

    name: str
    kind: str
    macs: int
    bytes_moved: float
    memory: str  # where this layer's bytes come from: "dram" or "sram"
    compute_pj: float
    memory_pj: float

    @property
    def total_pj(self) -> float:
        return self.compute_pj + self.memory_pj


@dataclass(frozen=True)
class EnergyEstimate:
    """Energy of one inference, in picojoules (1 pJ = 1e-12 J), split into compute and memory."""

    bits: int  # width of the multiply-accumulates
    memory: str
    mac_pj: float  # energy of one multiply-accumulate
    compute_pj: float
    memory_pj: float
    layers: tuple[LayerEnergy, ...]

    @property
    def total_pj(self) -> float:
        return self.compute_pj + self.memory_pj

    def __str__(self) -> str:
        macs = sum(layer.macs for layer in self.layers)
        moved = sum(layer.bytes_moved for layer in self.layers)
        return (
            f"{format_joules(self.total_pj)} per inference: "
            f"compute {format_joules(self.compute_pj)} ({format_count(macs)} MACs at {self.bits} "
            f"bits, {three_digits(self.mac_pj)} pJ each), memory "
            f"{format_joules(self.memory_pj)} ({format_bytes(moved)} moved, {self.memory})"
        )


def table_pj(operation: str, bits: int) -> float:
    """Energy (pJ) of one entry of ENERGY_TABLE: table_pj("dram read", 32) -> 640.0."""
    check_choice("operation", operation, dict.fromkeys(op for op, _ in _PJ))
    check_choice(f"bits for {operation!r}", bits, [b for op, b in _PJ if op == operation])
    return _PJ[operation, bits]


def mac_energy_pj(bits: int) -> float:
    """Energy (pJ) of one multiply plus one add: fp32 at 32 bits, fp16 at 16, int8 at 8.

    4 bits is an extrapolation from int8, not a number from the paper: a multiplier's energy grows
    with bits^2 and an adder's with bits (the table agrees: int8 to int32 is x15.5 for the
    multiply and x3.3 for the add), so int4 = int8 mult / 4 + int8 add / 2.
    """
    check_choice("bits", bits, ENERGY_BITS)
    if bits == 4:
        return table_pj("int mult", 8) * (4 / 8) ** 2 + table_pj("int add", 8) * (4 / 8)
    kind = "fp" if bits >= 16 else "int"
    return table_pj(f"{kind} mult", bits) + table_pj(f"{kind} add", bits)


def pj_per_byte(memory: str) -> float:
    """Energy (pJ) to read one byte: the table's access energy divided by its bytes."""
    check_choice("memory", memory, MEMORIES)
    read = next(cost for cost in ENERGY_TABLE if cost.operation == f"{memory} read")
    return read.energy_pj / (read.bits / 8)


def estimate_energy(
    profile: Profile, bits: int | None = None, memory: str = "dram", sram_bytes: float = 0.0
) -> EnergyEstimate:
    """Estimate the energy of one inference of a profiled model.

    Assumptions, stated plainly:
    - Each MAC is one multiply and one add at `bits` (see `mac_energy_pj`). By default the
      profile's widths are used and MACs run at the wider of its weight and activation widths
      (weights stored in int8 but multiplied in fp32 cost fp32 MACs).
    - `bits` also sets the width of stored weights and activations, so a smaller model saves
      energy in both columns.
    - Each layer reads its weights and inputs and writes its outputs once per inference (see
      `roofline.layer_traffic`); a write costs as much as a read; a byte costs the table's
      access energy divided by the bytes per access: 160 pJ from DRAM, 1.25 pJ from SRAM.
    - `memory="dram"`: bytes come from DRAM, except for the layers whose bytes moved fit in an
      on-chip SRAM buffer of `sram_bytes` bytes. `memory="sram"`: everything is on chip.
    - Registers, control, leakage and data reuse inside a layer are ignored.
    """
    check_choice("memory", memory, MEMORIES)
    sram_bytes = check_number("sram_bytes", sram_bytes, inclusive=True)
    if bits is not None:  # list the widths with an energy, not every width of BIT_WIDTHS
        check_choice("bits", bits, ENERGY_BITS)
    traffic = layer_traffic(profile, bits)
    mac_bits = max(profile.bits, profile.activation_bits) if bits is None else bits
    mac_pj = mac_energy_pj(mac_bits)
    layers = []
    for row, moved in traffic:
        source = "sram" if memory == "sram" or moved <= sram_bytes else "dram"
        layers.append(
            LayerEnergy(
                name=row.name,
                kind=row.kind,
                macs=row.macs,
                bytes_moved=moved,
                memory=source,
                compute_pj=row.macs * mac_pj,
                memory_pj=moved * pj_per_byte(source),
            )
        )
    return EnergyEstimate(
        bits=mac_bits,
        memory=memory,
        mac_pj=mac_pj,
        compute_pj=sum(layer.compute_pj for layer in layers),
        memory_pj=sum(layer.memory_pj for layer in layers),
        layers=tuple(layers),
    )


def format_joules(picojoules: float) -> str:
    """Energy with an SI prefix: 1.5e9 pJ -> '1.50 mJ'."""
    joules = picojoules * 1e-12
    scale, prefix = si_scale(joules)
    return f"{three_digits(joules * scale)} {prefix}J"
