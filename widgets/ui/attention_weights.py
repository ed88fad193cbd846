"""AttentionWeightsExplorer (lab 3): who attends to whom, with and without the causal mask.

A sentence is tokenized (words or characters, vocabulary built from the sentence), embedded
(a seeded random nn.Embedding), the positional encoding is added, and one seeded random
nn.MultiheadAttention computes softmax(Q Kᵀ / √d_head) (widgets.core.tokens.attention_weights).
The heat map shows one head's weights: a row per query token, a column per key token; each row
sums to 1. With the causal mask (a decoder's masked self-attention) a token sees only itself
and the tokens before it: every weight above the diagonal is exactly 0 (drawn grey). The weights
are random, not trained: they show the shapes and the mask, not what a model has learnt.
"""

from __future__ import annotations

import functools
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
import matplotlib
import numpy as np
import torch
from torch import nn

from widgets.core.latency import using_threads
from widgets.core.tokens import LEVELS, attention_weights, text_to_vectors

from . import style
from .base import Explorer, set_limits

SENTENCES = (
    "The cat sat on the mat.",
    "Attention is all you need.",
    "A transformer reads every token at once.",
    "Tokens become vectors before attention.",
)
D_MODEL = 16
HEAD_COUNTS = (1, 2, 4)
MAX_TOKENS = 48  # characters of the longest sentence: the heat map stays readable


@dataclass(frozen=True)
class AttentionWeightsView:
    """What the explorer shows for one setting."""

    tokens: list[str]
    weights: np.ndarray  # (tokens, tokens) of the chosen head; masked entries exactly 0
    masked: np.ndarray  # (tokens, tokens) bool: True where the causal mask removed a key
    torch_difference: float  # largest |difference| from nn.MultiheadAttention's own weights
    d_head: int


@functools.cache  # one per (n_heads, seed): rebuilding it cost ~10 ms a step
def seeded_attention(n_heads: int, seed: int = 0) -> nn.MultiheadAttention:
    """A random nn.MultiheadAttention(D_MODEL, n_heads), the same for the same seed."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return nn.MultiheadAttention(D_MODEL, n_heads, batch_first=True).eval()


class AttentionWeightsExplorer(Explorer):
    """One head's attention weights for a sentence; the causal mask toggled.

    AttentionWeightsExplorer(sentence="Attention is all you need.", n_heads=2, head=1, causal=True)
    """

    cache_size = 256  # every setting: 4 sentences x 2 levels x (1 + 2 + 4) heads x 2 masks
    readout_labels: ClassVar[dict[str, str]] = {
        "tokens": "tokens (queries = keys)",
        "d_head": "d_head = d_model / n_heads",
        "row_sums": "each row sums to",
        "masked": "weights set to exactly 0 by the mask",
        "torch_difference": "largest difference from nn.MultiheadAttention's weights",
    }
    control_groups: ClassVar[dict[str, tuple[str, ...]]] = {
        "Text": ("sentence", "level"),
        "Attention": ("n_heads", "head", "causal"),
    }

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        return {
            "sentence": ipywidgets.Dropdown(options=SENTENCES, description="sentence"),
            "level": ipywidgets.ToggleButtons(options=LEVELS, description="tokens"),
            "n_heads": ipywidgets.ToggleButtons(
                options=HEAD_COUNTS, value=2, description="n_heads",
                style={"button_width": "48px"},
            ),
            "head": ipywidgets.IntSlider(value=0, min=0, max=max(HEAD_COUNTS) - 1, description="head"),
            "causal": ipywidgets.ToggleButtons(
                options=[("encoder: no mask", False), ("decoder: causal mask", True)],
                description="self-attention",
            ),
        }  # fmt: skip

    def make_figure(self, figure) -> None:
        ax = self.ax = figure.add_subplot()
        ax.grid(False)
        ax.set(xlabel="key token (attended to)", ylabel="query token")
        # margins are fitted once, to these: word-sized tick labels like the sentences' tokens
        ax.set_xticks([0], ["token"], rotation=90)
        ax.set_yticks([0], ["token"])
        colours = _colormap()
        self.image = ax.imshow(  # nearest sampling, then colours: the same pixels, faster
            np.ma.masked_all((1, 1)), cmap=colours, vmin=0, vmax=1, animated=True,
            interpolation="nearest", interpolation_stage="data", aspect="auto",
        )  # fmt: skip
        figure.colorbar(self.image, ax=ax, label="attention weight", fraction=0.04)
        self.note = ax.text(
            1.0, 1.02, "", transform=ax.transAxes, ha="right", va="bottom", animated=True
        )
        self._tokens: list[str] = []

    def compute(
        self, sentence: str, level: str, n_heads: int, head: int, causal: bool
    ) -> AttentionWeightsView:
        if head >= n_heads:
            raise ValueError(f"head must be below n_heads ({n_heads}): heads 0 to {n_heads - 1}")
        # one thread: while another program keeps a core busy, waiting threads make these tiny
        # tensors take ~100 ms
        with using_threads(1):
            vectors = text_to_vectors(sentence, d_model=D_MODEL, level=level)
            if len(vectors.tokens) > MAX_TOKENS:
                raise ValueError(
                    f"at most {MAX_TOKENS} tokens are shown, got {len(vectors.tokens)}"
                )
            attention = seeded_attention(n_heads)
            weights = attention_weights(vectors.inputs, attention, causal=causal)
            n_tokens = len(vectors.tokens)
            masked = np.triu(np.ones((n_tokens, n_tokens), dtype=bool), k=1) if causal else None
            x = vectors.inputs[None]
            with torch.no_grad():  # torch's own weights, for the readout
                _, expected = attention(
                    x, x, x, attn_mask=None if masked is None else torch.from_numpy(masked),
                    average_attn_weights=False,
                )  # fmt: skip
        return AttentionWeightsView(
            tokens=vectors.tokens,
            weights=weights[head].numpy(),
            masked=np.zeros((n_tokens, n_tokens), bool) if masked is None else masked,
            torch_difference=float((weights - expected[0]).abs().max()),
            d_head=D_MODEL // n_heads,
        )

    def summarize(self, view: AttentionWeightsView) -> dict[str, Any]:
        row_sums = view.weights.sum(axis=1)
        return {
            "tokens": len(view.tokens),
            "d_head": view.d_head,
            "row_sums": f"{row_sums.min():.4f} to {row_sums.max():.4f}",
            "masked": int((view.weights[view.masked] == 0).sum()),
            "torch_difference": f"{view.torch_difference:.1e}",
        }

    def draw(self, view: AttentionWeightsView) -> None:
        n_tokens = len(view.tokens)
        # masked cells are drawn in the colour map's "bad" colour: grey, not a pale blue
        self.image.set_data(np.ma.masked_array(view.weights, mask=view.masked))
        if view.tokens != self._tokens:  # a new sentence: new extent and tick labels (~10 ms)
            self.image.set_extent((-0.5, n_tokens - 0.5, n_tokens - 0.5, -0.5))
            set_limits(self.ax, (-0.5, n_tokens - 0.5), (n_tokens - 0.5, -0.5))
            labels = [repr(t)[1:-1] if t.isspace() else t for t in view.tokens]
            self.ax.set_xticks(range(n_tokens), labels, rotation=90)
            self.ax.set_yticks(range(n_tokens), labels)
            self._tokens = list(view.tokens)
        masked = int(view.masked.sum())
        self.note.set_text(f"grey: masked, weight exactly 0 ({masked} cells)" if masked else "")

    def layouts(self, view: AttentionWeightsView) -> tuple[Hashable, ...]:
        return (tuple(view.tokens),)  # the limits and tick labels

    def warm_up(self) -> None:
        """Draw the tick labels of every sentence at every level (~0.5 s): relabelling a panel
        with a character per tick takes ~150 ms."""
        self.draw_ahead(
            {"sentence": sentence, "level": level} for sentence in SENTENCES for level in LEVELS
        )


def _colormap() -> matplotlib.colors.Colormap:
    """Blues from 0 (white) to 1; masked cells grey."""
    return matplotlib.colormaps["Blues"].with_extremes(
        bad=matplotlib.colors.to_rgba(style.GREY, 0.6)
    )
