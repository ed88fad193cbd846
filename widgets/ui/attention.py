"""AttentionExplorer (lab 3): attention's cost grows quadratically with the number of tokens.

Left panel: MACs of each term of `n_layers` transformer blocks against the sequence length,
log-log. The projections and the FFN grow linearly with the tokens, QKᵀ and softmax·V (always
equal: one curve) quadratically, so from some length on attention needs more MACs than the FFN
(the crossover, ringed; its length is a readout).
Right panel: the memory that grows with tokens: one layer's attention matrix (quadratic), the KV
cache (linear) and, for scale, the weights (constant). Dots mark the chosen seq_len.
Every number comes from widgets.core.transformer.transformer_cost for one sequence (batch 1);
a decoder's cross-attention reads an encoder output as long as its own input.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from widgets.core.transformer import (
    ATTENTION_TERMS,
    KINDS,
    TransformerConfig,
    TransformerCost,
    transformer_cost,
)
from widgets.core.units import EXPLORER_BIT_WIDTHS, format_bytes

from . import style
from .base import Explorer, Share, log_limits

# the seq_len slider: powers of two and the halfway points 1.5 x 2^k, from 16 to 128 Ki tokens
SEQ_LENS = tuple(sorted(n for k in range(4, 18) for n in (2**k, 3 * 2 ** (k - 1)) if n <= 2**17))
# the lengths the curves are drawn at: the powers of two over the slider's range. Each curve is a
# constant times seq_len or seq_len² (a straight line on log-log axes), so these draw it exactly
SWEEP = np.array([n for n in SEQ_LENS if n & (n - 1) == 0])
HEAD_COUNTS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64)

# curve label -> the transformer_cost breakdown terms it adds up
MACS_CURVES = {
    "projections (QKV + output)": ("qkv_projection", "output_projection"),
    "FFN": ("ffn",),
    "QKᵀ = softmax·V, each": ("attention_scores",),
    "attention = QKᵀ + softmax·V": ATTENTION_TERMS,
}
# curve label -> the TransformerCost field it shows, in bytes
MEMORY_CURVES = {
    "attention matrix (one layer)": "attention_matrix_bytes",
    "KV cache (all layers)": "kv_cache_bytes",
    "weights": "weight_bytes",
}
# y tick labels in the units the readouts use
SI_TICKS = {1000**k: f"1 {unit}" for k, unit in enumerate(["", "K", "M", "G", "T", "P", "E"])}
BINARY_TICKS = {1024**k: f"1 {unit}" for k, unit in enumerate(["B", "KiB", "MiB", "GiB", "TiB"])}


@dataclass(frozen=True)
class AttentionView:
    """What the explorer shows for one setting."""

    cost: TransformerCost  # at the chosen seq_len
    seq_len: int
    d_ff: int
    crossover_seq_len: int
    crossover_macs: int  # attention MACs at crossover_seq_len
    macs: np.ndarray  # MACs of each MACS_CURVES entry (rows) at each SWEEP length (columns)
    memory: np.ndarray  # bytes of each MEMORY_CURVES entry (rows) at each SWEEP length


def crossover_seq_len(config: TransformerConfig) -> int:
    """The smallest seq_len at which attention (QKᵀ + softmax·V) needs >= the FFN's MACs.

    Attention grows as seq_len² and the FFN as seq_len, so once attention catches up it stays
    ahead: double the length until it does, then bisect. Each step asks transformer_cost.
    """

    def attention_wins(seq_len: int) -> bool:
        cost = transformer_cost(config, seq_len)
        return cost.macs_of(*ATTENTION_TERMS) >= cost.macs_of("ffn")

    high = 1
    while not attention_wins(high):
        high *= 2
    low = high // 2  # attention does not win at `low` (or low is 0)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if attention_wins(middle) else (middle, high)
    return high


class AttentionExplorer(Explorer):
    """MACs and memory of transformer blocks as the sequence grows; where attention dominates.

    AttentionExplorer(seq_len=4096, d_model=768, n_heads=12, n_layers=12, hide=["bits"])
    """

    readout_labels: ClassVar[dict[str, str]] = {
        "params": "params (the same for every seq_len)",
        "d_ff": "d_ff (FFN width)",
        "macs": "MACs (one sequence)",
        "attention_share": "attention's share of the MACs",
        "crossover_seq_len": "attention MACs ≥ FFN MACs from seq_len",
        "attention_matrix": "attention matrix, one layer (at bits)",
        "kv_cache": "KV cache, all layers (at bits)",
        "weights": "weights (at bits)",
    }
    panel_widths = (1, 1)
    control_groups: ClassVar[dict[str, tuple[str, ...]]] = {
        "Input": ("seq_len", "bits"),
        "Model": ("kind", "d_model", "n_heads", "n_layers", "ffn_multiplier"),
    }

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        return {
            "seq_len": ipywidgets.SelectionSlider(
                options=[(f"{n:,}", n) for n in SEQ_LENS], value=1024,
                description="seq_len (tokens)",
            ),
            "bits": ipywidgets.ToggleButtons(
                options=[(f"{b} bit", b) for b in EXPLORER_BIT_WIDTHS], description="bits",
                style={"button_width": "64px"},
            ),
            "kind": ipywidgets.ToggleButtons(options=KINDS, description="kind"),
            "d_model": ipywidgets.IntSlider(
                value=512, min=64, max=8192, step=64, description="d_model"
            ),
            # head counts real models use; 3, 6, 12 and 24 do not divide every d_model (a message)
            "n_heads": ipywidgets.SelectionSlider(
                options=HEAD_COUNTS, value=8, description="n_heads"
            ),
            "n_layers": ipywidgets.IntSlider(value=6, min=1, max=96, description="n_layers"),
            "ffn_multiplier": ipywidgets.FloatSlider(
                value=4.0, min=1.0, max=8.0, step=0.5, description="d_ff / d_model"
            ),
        }  # fmt: skip

    def make_figure(self, macs_figure: Figure, memory_figure: Figure) -> None:
        self.macs_ax = macs_figure.add_subplot(
            ylabel="MACs per forward pass", title="Compute (batch 1)"
        )
        self.memory_ax = memory_figure.add_subplot(
            ylabel="memory (bytes)", title="Memory (at the chosen bits)"
        )
        ticks = [16, 128, 1024, 8192, 65536]
        for ax in (self.macs_ax, self.memory_ax):
            ax.set(xscale="log", yscale="log", xlabel="sequence length (tokens)")
            ax.set_xlim(SWEEP[0], SWEEP[-1])
            ax.set_xticks(ticks, [f"{n:,}" for n in ticks])
        # Axes that hold every setting the controls allow: a change moves the curves, never the
        # axes, so a bigger model looks bigger, and an update redraws only the curves (fast).
        extremes = self._extreme_costs()
        _set_log_ticks(self.macs_ax, SI_TICKS, [v for c in extremes for v in _curve_macs(c)])
        _set_log_ticks(self.memory_ax, BINARY_TICKS, [v for c in extremes for v in _curve_bytes(c)])

        colours = [style.BLUE, style.GREEN, style.SKY, style.VERMILLION]
        line_styles = [":", "-.", "--", "-"]  # told apart without their colours too
        widths = [1.8, 1.8, 1.4, 2.6]
        self.macs_lines = [
            self.macs_ax.plot([], [], ls, color=c, linewidth=w, animated=True)[0]
            for c, ls, w in zip(colours, line_styles, widths, strict=True)
        ]
        self.memory_lines = [
            self.memory_ax.plot([], [], line_style, color=colour, animated=True)[0]
            for colour, line_style in ((style.VERMILLION, "-"), (style.PURPLE, "--"),
                                       (style.BLUE, "-."))
        ]  # fmt: skip
        # the current seq_len: a dot on every curve, on a line up from the x axis
        current = {"color": style.CURRENT_COLOUR, "animated": True}
        axes = (self.macs_ax, self.memory_ax)
        self.current_lines = [ax.plot([], [], linewidth=0.8, **current)[0] for ax in axes]
        self.current_dots = [ax.plot([], [], "o", markersize=4, **current)[0] for ax in axes]
        # the crossover: a ring where the attention curve meets the FFN curve
        (self.crossover_ring,) = self.macs_ax.plot(
            [], [], "o", markersize=10, fillstyle="none", markeredgewidth=1.5,
            color=style.VERMILLION, animated=True,
        )  # fmt: skip
        self.macs_ax.legend(
            [*self.macs_lines, self.current_dots[0], self.crossover_ring],
            [*MACS_CURVES, "at the chosen seq_len", "attention = FFN"],
            loc="upper left",
        )
        self.memory_ax.legend(
            [*self.memory_lines, self.current_dots[1]],
            [*MEMORY_CURVES, "at the chosen seq_len"],
            loc="upper left",
        )

    def compute(
        self,
        seq_len: int,
        bits: int,
        kind: str,
        d_model: int,
        n_heads: int,
        n_layers: int,
        ffn_multiplier: float,
    ) -> AttentionView:
        d_ff = _d_ff(ffn_multiplier, d_model)
        config = TransformerConfig(d_model, n_heads, n_layers, d_ff, kind=kind, bits=bits)
        macs, memory, crossover, crossover_macs = _curves(config)
        return AttentionView(
            cost=transformer_cost(config, seq_len),
            seq_len=seq_len,
            d_ff=d_ff,
            crossover_seq_len=crossover,
            crossover_macs=crossover_macs,
            macs=macs,
            memory=memory,
        )

    def summarize(self, view: AttentionView) -> dict[str, Any]:
        cost = view.cost
        return {
            "params": cost.params,
            "d_ff": view.d_ff,
            "macs": cost.macs,
            "attention_share": Share(cost.macs_of(*ATTENTION_TERMS) / cost.macs),
            "crossover_seq_len": view.crossover_seq_len,
            "attention_matrix": format_bytes(cost.attention_matrix_bytes),
            "kv_cache": format_bytes(cost.kv_cache_bytes),
            "weights": format_bytes(cost.weight_bytes),
        }

    def draw(self, view: AttentionView) -> None:
        for lines, curves in [(self.macs_lines, view.macs), (self.memory_lines, view.memory)]:
            for line, values in zip(lines, curves, strict=True):
                line.set_data(SWEEP, values)
        now = [_curve_macs(view.cost), _curve_bytes(view.cost)]
        axes = (self.macs_ax, self.memory_ax)
        for ax, line, dots, values in zip(
            axes, self.current_lines, self.current_dots, now, strict=True
        ):
            line.set_data([view.seq_len] * 2, [ax.get_ylim()[0], max(values)])
            dots.set_data([view.seq_len] * len(values), values)
        self.crossover_ring.set_data([view.crossover_seq_len], [view.crossover_macs])

    def _extreme_costs(self) -> tuple[TransformerCost, TransformerCost]:
        """The costs at the controls' smallest and largest settings (every term grows with each)."""
        d_model, n_layers, multiplier = (
            self.controls[name] for name in ("d_model", "n_layers", "ffn_multiplier")
        )
        smallest = TransformerConfig(
            d_model.min, HEAD_COUNTS[0], n_layers.min, _d_ff(multiplier.min, d_model.min),
            kind="encoder", bits=min(EXPLORER_BIT_WIDTHS),
        )  # fmt: skip
        largest = TransformerConfig(
            d_model.max, HEAD_COUNTS[-1], n_layers.max, _d_ff(multiplier.max, d_model.max),
            kind="decoder", bits=max(EXPLORER_BIT_WIDTHS),
        )  # fmt: skip
        return transformer_cost(smallest, SWEEP[0]), transformer_cost(largest, SWEEP[-1])


@functools.lru_cache(maxsize=64)
def _curves(config: TransformerConfig) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The MACs and memory curves over SWEEP, the crossover seq_len and its attention MACs:
    cached apart, as seq_len (a step of its slider) changes none of them."""
    sweep = [transformer_cost(config, n) for n in SWEEP]
    crossover = crossover_seq_len(config)
    return (
        np.array([_curve_macs(cost) for cost in sweep], dtype=float).T,
        np.array([_curve_bytes(cost) for cost in sweep]).T,
        crossover,
        transformer_cost(config, crossover).macs_of(*ATTENTION_TERMS),
    )


def _d_ff(ffn_multiplier: float, d_model: int) -> int:
    """The FFN width: ffn_multiplier x d_model, rounded to whole units."""
    return max(1, round(ffn_multiplier * d_model))


def _curve_macs(cost: TransformerCost) -> list[int]:
    """MACs of each MACS_CURVES entry."""
    return [cost.macs_of(*terms) for terms in MACS_CURVES.values()]


def _curve_bytes(cost: TransformerCost) -> list[float]:
    """Bytes of each MEMORY_CURVES entry."""
    return [getattr(cost, name) for name in MEMORY_CURVES.values()]


def _set_log_ticks(ax: Axes, ticks: dict[float, str], values: list[float]) -> None:
    """Fix the y axis to powers of 10 around `values`, with the labelled `ticks` inside them."""
    low, high = log_limits(values)
    shown = {value: label for value, label in ticks.items() if low <= value <= high}
    ax.set_yticks(list(shown), list(shown.values()))
    ax.set_ylim(low, high)
    ax.minorticks_off()
