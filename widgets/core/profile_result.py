"""What a profile found: one row per module call (`LayerRow`), the totals (`Profile`), and the
table `print(profile)` shows."""

from __future__ import annotations

from dataclasses import dataclass, replace

from .units import BIT_WIDTHS, bytes_for, flops_from_macs, format_bytes, format_count
from .validate import check_choice, check_int

__all__ = ["LayerRow", "Profile", "format_table"]


@dataclass(frozen=True)
class LayerRow:
    """One call of one module during the forward pass (a module called twice gives two rows).

    Counts are exact integers; bytes follow the profile's bit widths.
    """

    name: str  # qualified module name, e.g. "layer1.0.conv1" ("" for the model itself)
    kind: str  # module class name, e.g. "Conv2d"
    output_shape: tuple[int, ...]
    params: int  # parameters owned by this module and not by a called sub-module
    macs: int  # multiply-accumulates of matmul/conv/attention ops run directly in this call
    input_elements: int  # elements of the tensors passed to the call
    output_elements: int  # elements of the tensors it returned
    activation_elements: int  # elements of new tensors allocated during the call (views excluded)
    weight_bytes: float  # params * bits / 8
    activation_bytes: float  # activation_elements * activation_bits / 8
    live_activation_bytes: float  # activation memory alive when the call returned

    @property
    def flops(self) -> int:
        return flops_from_macs(self.macs)


@dataclass(frozen=True)
class Profile:
    """What `profile()` measured. MACs count multiply-accumulates; flops = 2 * macs."""

    params: int
    macs: int
    bits: int
    activation_bits: int
    weight_bytes: float
    activation_bytes: float  # all activation tensors allocated during the forward pass
    peak_activation_bytes: float  # max of live activation memory (inputs included, weights not)
    peak_layer: str  # name of the row during which the peak was reached
    layers: tuple[LayerRow, ...] = ()  # a tuple: profiles are cached and shared
    batchnorm_folded: bool = False  # each BatchNorm folded into the conv before it
    integer_bytes: float = 0.0  # of integer activations (indices), which keep their real size

    @property
    def flops(self) -> int:
        return flops_from_macs(self.macs)

    def memory_rows(self) -> tuple[LayerRow, ...]:
        """The rows that hold memory: weights of their own, or activations they allocate."""
        return tuple(row for row in self.layers if row.params or row.activation_bytes)

    def early_activation_share(self) -> tuple[int, float]:
        """(n, share): the first quarter of memory_rows() (n rows, rounded down) and the share of
        all activation bytes they allocate. In a CNN it is large: early layers see big images."""
        rows = self.memory_rows()
        early = len(rows) // 4
        total = sum(row.activation_bytes for row in rows)
        share = sum(row.activation_bytes for row in rows[:early]) / total if total else 0.0
        return early, share

    def scale_batch(self, factor: int) -> Profile:
        """This profile for a batch `factor` times larger, without running the model again.

        MACs and activation bytes grow `factor` times, weights do not; output shapes are taken
        to be batch-first. Exact when the samples of a batch do not interact (eval mode: no
        batch statistics) and the model runs the same ops at both sizes. Scale a profile at
        batch 2 or more: at batch 1 some reshapes are free views that copy at larger batches
        (ViT). tests/test_profiler.py checks it for every model the explorers offer.
        """
        factor = check_int("factor", factor, minimum=1)
        layers = [
            replace(
                row,
                output_shape=(row.output_shape[0] * factor, *row.output_shape[1:])
                if row.output_shape
                else (),
                macs=row.macs * factor,
                input_elements=row.input_elements * factor,
                output_elements=row.output_elements * factor,
                activation_elements=row.activation_elements * factor,
                activation_bytes=row.activation_bytes * factor,
                live_activation_bytes=row.live_activation_bytes * factor,
            )
            for row in self.layers
        ]
        return replace(
            self,
            macs=self.macs * factor,
            activation_bytes=self.activation_bytes * factor,
            peak_activation_bytes=self.peak_activation_bytes * factor,
            layers=tuple(layers),
        )

    def at_bits(self, bits: int, activation_bits: int) -> Profile:
        """This profile with weights at `bits` and activations at `activation_bits` bits, without
        running the model again.

        Exact: every byte count is a count of numbers times bits / 8, summed, and the bit widths
        are powers of 2, so the scaled floats equal the ones a new profile would sum. Refused for
        a profile with integer activations (`integer_bytes`): they keep their size.
        """
        check_choice("bits", bits, BIT_WIDTHS)
        check_choice("activation_bits", activation_bits, BIT_WIDTHS)
        if self.integer_bytes:
            raise ValueError("at_bits: integer activations keep their size; profile again")
        factor = activation_bits / self.activation_bits
        layers = tuple(
            replace(
                row,
                weight_bytes=bytes_for(row.params, bits),
                activation_bytes=row.activation_bytes * factor,
                live_activation_bytes=row.live_activation_bytes * factor,
            )
            for row in self.layers
        )
        return replace(
            self,
            bits=bits,
            activation_bits=activation_bits,
            weight_bytes=bytes_for(self.params, bits),
            activation_bytes=self.activation_bytes * factor,
            peak_activation_bytes=self.peak_activation_bytes * factor,
            layers=layers,
        )

    def __str__(self) -> str:
        return format_table(self)


def format_table(prof: Profile, max_rows: int = 60) -> str:
    """A readable table: one line per layer (the largest ones if there are many), then totals."""
    rows = prof.layers
    if len(rows) > max_rows:
        keep = set(sorted(range(len(rows)), key=lambda i: -rows[i].macs)[:max_rows])
        rows = [row for i, row in enumerate(rows) if i in keep]
    header = ("layer", "kind", "output shape", "params", "MACs", "weights", "activations")
    lines = [
        (
            row.name or "(model)",
            row.kind,
            "x".join(map(str, row.output_shape)),
            format_count(row.params),
            format_count(row.macs),
            format_bytes(row.weight_bytes),
            format_bytes(row.activation_bytes),
        )
        for row in rows
    ]
    total = (
        "total",
        f"{len(prof.layers)} rows",
        "",
        format_count(prof.params),
        format_count(prof.macs),
        format_bytes(prof.weight_bytes),
        format_bytes(prof.activation_bytes),
    )
    widths = [max(len(line[i]) for line in [header, *lines, total]) for i in range(len(header))]

    def fmt(line: tuple[str, ...]) -> str:
        cells = [line[0].ljust(widths[0]), line[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(line[2:], widths[2:], strict=True)]
        return "  ".join(cells).rstrip()

    rule = "-" * len(fmt(header))
    shown = "" if len(rows) == len(prof.layers) else f" ({len(rows)} largest by MACs shown)"
    footer = (
        f"peak activation memory {format_bytes(prof.peak_activation_bytes)} "
        f"during {prof.peak_layer or '(model)'}; weights at {prof.bits} bit, "
        f"activations at {prof.activation_bits} bit"
        f"{'; BatchNorm folded into the convs' if prof.batchnorm_folded else ''}"
        f"; MACs = FLOPs / 2{shown}"
    )
    return "\n".join([fmt(header), rule, *map(fmt, lines), rule, fmt(total), footer])
