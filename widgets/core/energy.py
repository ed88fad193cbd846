"""Energy of one inference, from the energy of single operations and memory accesses.

The numbers are the lecture's table for a 45 nm process at 0.9 V, from M. Horowitz, "Computing's
energy problem (and what we can do about it)", ISSCC 2014: a 32-bit int add costs 0.1 pJ, a
32-bit read from the register file 1 pJ, from an on-chip SRAM cache 5 pJ and from DRAM 640 pJ,
over 6000 times the add. Horowitz's 8-bit and 16-bit entries give the narrower MACs. Newer chips
lower every number, but the ratios, and so the lesson (moving data costs more than computing on
it), still hold.

Whether layers are fused changes the traffic. Unfused (the default), every layer reads its input
from memory and writes its output back, so conv -> batch norm -> ReLU makes three round trips.
Fused, the three run as one kernel: the conv's output stays in registers through the batch norm
and the ReLU, and only the ReLU's output goes back to memory: one round trip.
"""

from __future__ import annotations

from dataclasses import dataclass

from .activations import ACTIVATIONS
from .latency import si_scale
from .profile_result import LayerRow, Profile
from .roofline import layer_traffic
from .units import EXPLORER_BIT_WIDTHS, bytes_for, format_bytes, format_count, three_digits
from .validate import check_bool, check_choice, check_number


@dataclass(frozen=True)
class EnergyCost:
    """Energy of one operation on `bits`-bit operands, or of one `bits`-bit memory read."""

    operation: str  # "int add", "fp mult", "sram read", "dram read", ...
    bits: int
    energy_pj: float
    note: str = ""


ENERGY_TABLE: tuple[EnergyCost, ...] = (
    EnergyCost("int add", 8, 0.03),
    EnergyCost("int add", 32, 0.1),
    EnergyCost("fp add", 16, 0.4),
    EnergyCost("fp add", 32, 0.9),
    EnergyCost("register read", 32, 1.0, "the lecture's table: a 32-bit register file access"),
    EnergyCost("int mult", 8, 0.2),
    EnergyCost("int mult", 32, 3.1),
    EnergyCost("fp mult", 16, 1.1),
    EnergyCost("fp mult", 32, 3.7),
    EnergyCost(
        "sram read", 32, 5.0, "the lecture's table; Horowitz gives 10 pJ per 64 bits (8 KB cache)"
    ),
    EnergyCost(
        "dram read",
        32,
        640.0,
        "the lecture's figure (as in Han et al., NeurIPS 2015); Horowitz gives 1.3-2.6 nJ per 64 "
        "bits, 650-1300 pJ per 32 bits",
    ),
)
"""The lecture's 45 nm table after Horowitz, ISSCC 2014, with his 8- and 16-bit entries (he also
lists 20 pJ for a 32 KB and 100 pJ for a 1 MB cache, per 64 bits: bigger memories cost more per
access). Every value is in the source; the int4 MAC of `mac_energy_pj` is not (extrapolated)."""

ENERGY_BITS = EXPLORER_BIT_WIDTHS  # MAC widths estimate_energy knows: fp32, fp16, int8, int4
MEMORIES = ("dram", "sram", "register")  # where the bytes a layer moves come from
# conv + batch norm + activation fuse into one kernel: a layer of FUSED_INTO kinds directly after
# a FUSED_HEADS layer (or after another FUSED_INTO layer of the same chain) takes its input from
# registers, and the layer before it keeps its output there
FUSED_HEADS = frozenset({"Conv1d", "Conv2d", "Linear"})
# the batch norms and every activation of the registry (a new activation fuses by itself)
FUSED_INTO = frozenset(
    {"BatchNorm1d", "BatchNorm2d"}
    | {type(activation.torch_module()).__name__ for activation in ACTIVATIONS.values()}
)

_PJ = {(cost.operation, cost.bits): cost.energy_pj for cost in ENERGY_TABLE}
# the MAC widths whose multiply the table gives (fp32, fp16, int8); int4 is extrapolated
TABLE_MAC_BITS = tuple(
    bits for bits in ENERGY_BITS if any(op.endswith("mult") and b == bits for op, b in _PJ)
)


@dataclass(frozen=True)
class LayerEnergy:
    """Energy of one layer of a profile, in picojoules."""

    name: str
    kind: str
    macs: int
    bytes_moved: float  # bytes read from and written to `memory`
    memory: str  # where this layer's bytes come from: "dram", "sram" or "register"
    compute_pj: float
    memory_pj: float  # of bytes_moved, plus register_bytes at the register file's energy
    register_bytes: float = 0.0  # activations a fused kernel keeps in registers instead

    @property
    def total_pj(self) -> float:
        return self.compute_pj + self.memory_pj


@dataclass(frozen=True)
class EnergyEstimate:
    """Energy of one inference, in picojoules (1 pJ = 1e-12 J), split into compute and memory."""

    bits: int  # width of the multiply-accumulates
    memory: str
    fused: bool  # conv + batch norm + activation fused (one round trip), or each layer's own
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
        extrapolated = " (extrapolated: not in the source)" if self.bits == 4 else ""
        fusion = "conv+BN+ReLU fused" if self.fused else "unfused: each layer reads and writes"
        return (
            f"{format_joules(self.total_pj)} per inference: "
            f"compute {format_joules(self.compute_pj)} ({format_count(macs)} MACs at {self.bits} "
            f"bits, {three_digits(self.mac_pj)} pJ each{extrapolated}), memory "
            f"{format_joules(self.memory_pj)} ({format_bytes(moved)} moved, {self.memory}; "
            f"{fusion})"
        )


def table_pj(operation: str, bits: int) -> float:
    """Energy (pJ) of one entry of ENERGY_TABLE: table_pj("dram read", 32) -> 640.0."""
    check_choice("operation", operation, dict.fromkeys(op for op, _ in _PJ))
    check_choice(f"bits for {operation!r}", bits, [b for op, b in _PJ if op == operation])
    return _PJ[operation, bits]


INT_ACCUMULATOR_BITS = 32  # integer MACs sum their products in 32-bit registers


def mac_energy_pj(bits: int) -> float:
    """Energy (pJ) of one multiply plus one add: fp32 at 32 bits, fp16 at 16, int8 at 8.

    Integer MACs multiply at `bits` but accumulate in INT_ACCUMULATOR_BITS (32): the sum of many
    8-bit products needs more than 8 bits, so an int8 MAC is an 8-bit multiply and a 32-bit add.
    4 bits is an extrapolation from int8, not a number from the paper: a multiplier's energy grows
    with bits^2 (the table agrees: int8 to int32 is x15.5), so an int4 multiply is int8's / 4.
    """
    check_choice("bits", bits, ENERGY_BITS)
    if bits >= 16:
        return table_pj("fp mult", bits) + table_pj("fp add", bits)
    int8 = 8  # the narrowest multiply in the table
    multiply = table_pj("int mult", int8) * (bits / int8) ** 2
    return multiply + table_pj("int add", INT_ACCUMULATOR_BITS)


def pj_per_byte(memory: str) -> float:
    """Energy (pJ) to read one byte: the table's access energy divided by its bytes."""
    check_choice("memory", memory, MEMORIES)
    read = next(cost for cost in ENERGY_TABLE if cost.operation == f"{memory} read")
    return read.energy_pj / bytes_for(1, read.bits)


def estimate_energy(
    profile: Profile,
    bits: int | None = None,
    memory: str = "dram",
    sram_bytes: float = 0.0,
    fused: bool = False,
) -> EnergyEstimate:
    """Estimate the energy of one inference of a profiled model.

    Assumptions, stated plainly:
    - Each MAC is one multiply at `bits` and one add (32-bit for integers; see `mac_energy_pj`). By default the
      profile's widths are used and MACs run at the wider of its weight and activation widths
      (weights stored in int8 but multiplied in fp32 cost fp32 MACs).
    - `bits` also sets the width of stored weights and activations, so a smaller model saves
      energy in both columns.
    - Each layer reads its weights and inputs and writes its outputs once per inference (see
      `roofline.layer_traffic`); a write costs as much as a read; a byte costs the table's
      access energy divided by the bytes per access: 160 pJ from DRAM, 1.25 pJ from SRAM,
      0.25 pJ from the register file.
    - `memory="dram"`: bytes come from DRAM, except for the layers whose bytes moved fit in an
      on-chip SRAM buffer of `sram_bytes` bytes. `memory="sram"`: everything is on chip;
      `memory="register"`: the floor, every byte from the register file.
    - `fused=False`: every layer reads and writes `memory` (conv, batch norm and ReLU: three
      round trips). `fused=True`: a conv or linear layer and the batch norm and activations
      right after it run as one kernel: the activations between them stay in registers (at the
      register file's energy) and only the chain's input and last output use `memory`.
    - Control, leakage and data reuse inside a layer are ignored.
    """
    check_choice("memory", memory, MEMORIES)
    sram_bytes = check_number("sram_bytes", sram_bytes, inclusive=True)
    check_bool("fused", fused)
    if bits is not None:  # list the widths with an energy, not every width of BIT_WIDTHS
        check_choice("bits", bits, ENERGY_BITS)
    traffic = layer_traffic(profile, bits)
    mac_bits = max(profile.bits, profile.activation_bits) if bits is None else bits
    activation_bytes = bytes_for(1, profile.activation_bits if bits is None else bits)
    mac_pj = mac_energy_pj(mac_bits)
    kept = _kept_in_registers(traffic, activation_bytes) if fused else [0.0] * len(traffic)
    layers = []
    for (row, moved), in_registers in zip(traffic, kept, strict=True):
        moved -= in_registers
        source = memory if memory != "dram" or moved > sram_bytes else "sram"
        layers.append(
            LayerEnergy(
                name=row.name,
                kind=row.kind,
                macs=row.macs,
                bytes_moved=moved,
                memory=source,
                compute_pj=row.macs * mac_pj,
                memory_pj=moved * pj_per_byte(source) + in_registers * pj_per_byte("register"),
                register_bytes=in_registers,
            )
        )
    return EnergyEstimate(
        bits=mac_bits,
        memory=memory,
        fused=fused,
        mac_pj=mac_pj,
        compute_pj=sum(layer.compute_pj for layer in layers),
        memory_pj=sum(layer.memory_pj for layer in layers),
        layers=tuple(layers),
    )


def _kept_in_registers(
    traffic: list[tuple[LayerRow, float]], activation_bytes: float
) -> list[float]:
    """Per traffic row, the activation bytes a fused kernel keeps in registers: for each layer
    fused into the one before it, its input and the output of the layer before it."""
    kept = [0.0] * len(traffic)
    previous = None  # index of the last leaf that computes or moves activations
    chain = False  # whether the previous leaf is part of a conv/linear-led chain
    for index, (row, _) in enumerate(traffic):
        if not row.input_elements and not row.output_elements:
            continue
        if chain and row.kind in FUSED_INTO and previous is not None:
            kept[index] += row.input_elements * activation_bytes
            kept[previous] += traffic[previous][0].output_elements * activation_bytes
        else:
            chain = False
        chain = chain or row.kind in FUSED_HEADS
        previous = index
    return kept


def format_joules(picojoules: float) -> str:
    """Energy with an SI prefix: 1.5e9 pJ -> '1.50 mJ'."""
    joules = picojoules * 1e-12
    scale, prefix = si_scale(joules)
    return f"{three_digits(joules * scale)} {prefix}J"
