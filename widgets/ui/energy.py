"""EnergyExplorer (lab 4): reading a number from DRAM costs far more than computing with it.

Left panel: the energy of single operations and memory reads on a 45 nm chip (M. Horowitz, ISSCC
2014; widgets.core.energy.ENERGY_TABLE), with the energy of one multiply-accumulate at the chosen
bit width. Middle and right panels: one inference of a layer or a model (profiled on the meta
device), split into arithmetic and memory traffic by widgets.core.energy.estimate_energy, on a
log axis (the sizes) and linearly (the shares: a log axis makes 95 % look like half). Data in
registers is the best case (1 pJ per 32-bit access). `fused` chooses whether conv + batch norm +
ReLU run as one kernel (one round trip to memory) or each layer reads and writes memory.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
from matplotlib.figure import Figure
from torch import nn

from widgets.core.energy import (
    ENERGY_TABLE,
    INT_ACCUMULATOR_BITS,
    TABLE_MAC_BITS,
    EnergyEstimate,
    estimate_energy,
    format_joules,
    table_pj,
)
from widgets.core.profiler import meta_profile
from widgets.core.units import NUMBER_FORMATS, format_bytes
from widgets.core.vision_models import TorchvisionModel

from . import style
from .base import Explorer, Share

SOURCE = "Horowitz, ISSCC 2014, 45 nm"
MEMORY_LEVELS = {"register": "registers", "sram": "SRAM", "dram": "DRAM"}
# pJ per inference shown: every workload at every setting fits (5e5 to 3e10 pJ), so the axes
# never change and an update only redraws the bars
ENERGY_LIMITS_PJ = (1e5, 1e11)


@dataclass(frozen=True)
class Workload:
    """A layer or model, built on the meta device, and the input of one inference."""

    label: str
    build: Callable[[], nn.Module]
    input_size: tuple[int, ...]


_LINEAR = functools.partial(nn.Linear, 4096, 4096)
WORKLOADS = {
    "linear_batch_1": Workload("Linear 4096 → 4096, batch 1", _LINEAR, (1, 4096)),
    "linear_batch_64": Workload("Linear 4096 → 4096, batch 64", _LINEAR, (64, 4096)),
    "conv": Workload(
        "Conv 3×3, 64 → 64, 56×56",
        functools.partial(nn.Conv2d, 64, 64, 3, padding=1),
        (1, 64, 56, 56),
    ),
    "resnet18": Workload("ResNet-18, 224×224", TorchvisionModel("resnet18"), (1, 3, 224, 224)),
    "mobilenet_v2": Workload(
        "MobileNetV2, 224×224", TorchvisionModel("mobilenet_v2"), (1, 3, 224, 224)
    ),
}


@dataclass(frozen=True)
class EnergyView:
    """What the explorer shows for one setting. Energies in picojoules."""

    memory: str  # where data lives: a key of MEMORY_LEVELS
    estimate: EnergyEstimate


class EnergyExplorer(Explorer):
    """Energy per operation on a 45 nm chip, and of one inference: arithmetic vs memory.

    EnergyExplorer(workload="resnet18", bits=8, memory="dram", fused=True)
    """

    readout_labels: ClassVar[dict[str, str]] = {
        "energy": "energy per inference",
        "arithmetic": "arithmetic (MACs)",
        "memory": "memory (reads and writes)",
        "memory_fraction": "memory's share of the energy",
        "macs": "MACs",
        "bytes_moved": "bytes moved",
        "mac_pj": "one MAC (pJ)",
        "layers": "layers",
        "source": "energy numbers",
    }
    panel_widths = (1.5, 0.8, 0.7)

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        return {
            "workload": ipywidgets.Dropdown(
                options=[(w.label, name) for name, w in WORKLOADS.items()],
                value="resnet18",
                description="layer or model",
            ),
            "bits": ipywidgets.ToggleButtons(
                options=[(NUMBER_FORMATS[bits], bits) for bits in TABLE_MAC_BITS],
                description="bit width",
            ),
            "memory": ipywidgets.ToggleButtons(
                options=[(label, name) for name, label in MEMORY_LEVELS.items()],
                value="dram",
                description="data lives in",
            ),
            "fused": ipywidgets.ToggleButtons(
                options=[
                    ("each layer reads and writes memory", False),
                    ("conv + BN + ReLU fused", True),
                ],
                description="layers",
            ),
        }

    def make_figure(self, table_figure: Figure, split_figure: Figure, share_figure: Figure) -> None:
        self.table_ax = table_figure.add_subplot()
        self._make_table(self.table_ax)

        ax = self.split_ax = split_figure.add_subplot(
            yscale="log", ylim=ENERGY_LIMITS_PJ, ylabel="energy per inference (pJ)",
            title="One inference",
        )  # fmt: skip
        ax.minorticks_off()
        ax.grid(axis="x", visible=False)
        colours = [style.ENERGY_COLOUR, style.MEMORY_COLOUR]
        self.bars = ax.bar(["arithmetic", "memory"], [1, 1], color=colours, animated=True)

        ax = self.share_ax = share_figure.add_subplot(
            xlim=(-0.6, 0.6), ylim=(0, 100), ylabel="share of the energy (%)", title="Shares",
        )  # fmt: skip
        ax.set_xticks([])
        ax.grid(axis="x", visible=False)
        self.share_bars = [
            ax.bar(0, 0, width=0.8, color=colour, animated=True)[0] for colour in colours
        ]
        self.bar_texts = [
            ax.text(0, 0, "", ha="center", va="center", animated=True) for _ in colours
        ]

    def _make_table(self, ax) -> None:
        """Bars of ENERGY_TABLE (they never change), one MAC at the chosen width, a data marker."""
        labels = [f"{c.operation} ({c.bits} bit){' *' if c.note else ''}" for c in ENERGY_TABLE]
        colours = [
            style.MEMORY_COLOUR if c.operation.endswith("read") else style.ENERGY_COLOUR
            for c in ENERGY_TABLE
        ]
        self.table_bars = ax.barh(labels, [c.energy_pj for c in ENERGY_TABLE], color=colours)
        (self.mac_bar,) = ax.barh(["MAC (mult + add)"], [1], color=style.BLACK, animated=True)
        self.mac_text = ax.text(0, 0, "", va="center", animated=True)
        self.data_marker = ax.text(0, 0, "◀ your data", va="center", animated=True)
        ax.invert_yaxis()  # the table's order, top to bottom
        ax.set(xscale="log", xlim=(0.01, 1e5), xlabel="energy per operation (pJ, 45 nm)")
        ax.minorticks_off()
        ratio = table_pj("dram read", 32) / table_pj("fp add", 32)
        ax.set_title(f"One operation: DRAM read = {ratio:.0f}× fp32 add", loc="right")

    def warm_up(self) -> None:
        """Profile every workload now: picking one is then fast."""
        for workload in WORKLOADS.values():
            meta_profile(workload.build, workload.input_size)

    def compute(self, workload: str, bits: int, memory: str, fused: bool) -> EnergyView:
        chosen = WORKLOADS[workload]
        estimate = estimate_energy(
            meta_profile(chosen.build, chosen.input_size), bits=bits, memory=memory, fused=fused
        )
        return EnergyView(memory=memory, estimate=estimate)

    def summarize(self, view: EnergyView) -> dict[str, Any]:
        estimate = view.estimate
        return {
            "energy": format_joules(estimate.total_pj),
            "arithmetic": format_joules(estimate.compute_pj),
            "memory": format_joules(estimate.memory_pj),
            "memory_fraction": Share(estimate.memory_pj / estimate.total_pj),
            "macs": sum(layer.macs for layer in estimate.layers),
            "bytes_moved": format_bytes(sum(layer.bytes_moved for layer in estimate.layers)),
            "mac_pj": estimate.mac_pj,
            "layers": "conv + BN + ReLU fused: one round trip"
            if estimate.fused
            else "each layer reads and writes memory",
            "source": f"{SOURCE} (*: see the notes in widgets.ENERGY_TABLE)",
        }

    def draw(self, view: EnergyView) -> None:
        mac_pj = view.estimate.mac_pj
        self.mac_bar.set_width(mac_pj)
        self.mac_text.set_position(_right_of(self.mac_bar))
        number_format = NUMBER_FORMATS[view.estimate.bits]
        integer = number_format.startswith("int")
        accumulator = f" mult, {INT_ACCUMULATOR_BITS}-bit add" if integer else ""
        self.mac_text.set_text(f" {mac_pj:.3g} pJ ({number_format}{accumulator})")
        reads = [
            bar
            for bar, cost in zip(self.table_bars, ENERGY_TABLE, strict=True)
            if cost.operation == f"{view.memory} read"
        ]
        self.data_marker.set_visible(bool(reads))
        for read in reads:
            self.data_marker.set_position(_right_of(read))

        energies = (view.estimate.compute_pj, view.estimate.memory_pj)
        bottom = 0.0
        for bar, share_bar, text, energy, name in zip(
            self.bars, self.share_bars, self.bar_texts, energies, ("arithmetic", "memory"),
            strict=True,
        ):  # fmt: skip
            bar.set_height(energy)
            share = 100 * energy / view.estimate.total_pj
            share_bar.set_y(bottom)
            share_bar.set_height(share)
            # inside its bar if there is room, else just above the bars
            text.set_position(
                (0, bottom + share / 2 if share > 12 else min(bottom + share, 90) + 5)
            )
            text.set_text(f"{name}\n{share:.0f} %" if share >= 0.5 else f"{name}\n< 0.5 %")
            bottom += share


def _right_of(bar) -> tuple[float, float]:
    """Where text just right of a horizontal bar goes, on a log x axis."""
    return bar.get_width() * 1.2, bar.get_y() + bar.get_height() / 2
