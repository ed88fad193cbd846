"""AttentionExplorer shows what widgets.core.transformer computes, in its panels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check_random_settings, count_full_draws, floats
from torch.testing import assert_close

from widgets.core.transformer import ATTENTION_TERMS, KINDS, TransformerConfig, transformer_cost
from widgets.core.units import format_bytes
from widgets.ui.attention import (
    MACS_CURVES,
    MEMORY_CURVES,
    SEQ_LENS,
    SWEEP,
    AttentionExplorer,
    crossover_seq_len,
)
from widgets.ui.base import format_readout


@pytest.fixture(scope="module")
def explorer() -> AttentionExplorer:
    return AttentionExplorer()


def ydata(line) -> torch.Tensor:
    return floats(line.get_ydata())


def test_readouts_are_the_core_numbers():
    ex = AttentionExplorer(
        seq_len=4096, d_model=768, n_heads=12, n_layers=12, ffn_multiplier=4.0, bits=16
    )
    cost = transformer_cost(TransformerConfig(768, 12, 12, d_ff=3072, bits=16), 4096)
    assert ex.message == ""
    assert ex.readouts == {
        "params": cost.params,
        "d_ff": 3072,
        "macs": cost.macs,
        "attention_share": cost.macs_of(*ATTENTION_TERMS) / cost.macs,
        "crossover_seq_len": 3072,  # encoder: 2 S² d >= 2 S d d_ff from S = d_ff
        "attention_matrix": format_bytes(cost.attention_matrix_bytes),
        "kv_cache": format_bytes(cost.kv_cache_bytes),
        "weights": format_bytes(cost.weight_bytes),
    }
    assert ex.readouts["attention_matrix"] == "384 MiB"  # 12 heads x 4096² x 2 bytes
    assert "params (the same for every seq_len)" in ex.widget.children[3].value


def test_curves_are_the_core_terms_over_the_sweep():
    ex = AttentionExplorer(kind="decoder", d_model=256, n_heads=4, n_layers=2, bits=8)
    config = TransformerConfig(256, 4, 2, d_ff=1024, kind="decoder", bits=8)
    costs = [transformer_cost(config, int(n)) for n in SWEEP]
    assert list(SWEEP) == [2**k for k in range(4, 18)]  # 16 to 131072 tokens
    for line, terms in zip(ex.macs_lines, MACS_CURVES.values(), strict=True):
        assert np.array_equal(line.get_xdata(), SWEEP)
        expected = floats(cost.macs_of(*terms) for cost in costs)
        assert_close(ydata(line), expected, rtol=0, atol=0)
    for line, name in zip(ex.memory_lines, MEMORY_CURVES.values(), strict=True):
        expected = floats(getattr(cost, name) for cost in costs)
        assert_close(ydata(line), expected, rtol=0, atol=0)


@pytest.mark.parametrize("kind", KINDS)
def test_every_curve_is_a_power_of_seq_len_so_its_sweep_draws_it_exactly(kind):
    """On log-log axes a straight line between the sweep's points is then the curve itself."""
    config = TransformerConfig(256, 4, 2, d_ff=1024, kind=kind, bits=8)
    lengths = [16, 100, 1000, 10_000, 131_072]
    costs = [transformer_cost(config, n) for n in lengths]
    curves = [[cost.macs_of(*terms) for cost in costs] for terms in MACS_CURVES.values()]
    curves += [[getattr(cost, name) for cost in costs] for name in MEMORY_CURVES.values()]
    for values in curves:
        slopes = np.diff(np.log(values)) / np.diff(np.log(lengths))
        np.testing.assert_allclose(slopes, round(slopes[0]), rtol=0, atol=1e-9)  # 0, 1 or 2


def test_current_seq_len_and_crossover_are_marked(explorer):
    explorer.set(seq_len=8192, d_model=512, n_heads=8, n_layers=6, ffn_multiplier=4.0)
    cost = transformer_cost(TransformerConfig(512, 8, 6, d_ff=2048), 8192)
    macs_dots, memory_dots = explorer.current_dots
    assert set(macs_dots.get_xdata()) == {8192}
    assert_close(ydata(macs_dots), floats(cost.macs_of(*t) for t in MACS_CURVES.values()))
    assert list(memory_dots.get_ydata()) == [getattr(cost, n) for n in MEMORY_CURVES.values()]
    assert list(explorer.crossover_ring.get_xdata()) == [2048]
    at_crossover = transformer_cost(TransformerConfig(512, 8, 6, d_ff=2048), 2048)
    assert list(explorer.crossover_ring.get_ydata()) == [at_crossover.macs_of(*ATTENTION_TERMS)]
    assert explorer.readouts["crossover_seq_len"] == 2048
    legend = [text.get_text() for text in explorer.macs_ax.get_legend().texts]
    assert legend[-2:] == ["at the chosen seq_len", "attention = FFN"]  # the dots, the ring
    assert "%" in format_readout(explorer.readouts["attention_share"])
    assert explorer.readouts["attention_share"] > 0.5  # 8192 tokens: past the crossover


@pytest.mark.parametrize("kind", ["encoder", "decoder"])
@pytest.mark.parametrize(("d_model", "n_layers", "d_ff"), [(64, 1, 96), (96, 3, 200), (128, 2, 7)])
def test_crossover_is_the_smallest_length_where_attention_wins(kind, d_model, n_layers, d_ff):
    config = TransformerConfig(d_model, 1, n_layers, d_ff, kind=kind)

    def attention_wins(seq_len):
        cost = transformer_cost(config, seq_len)
        return cost.macs_of(*ATTENTION_TERMS) >= cost.macs_of("ffn")

    brute_force = next(n for n in range(1, 1000) if attention_wins(n))
    assert crossover_seq_len(config) == brute_force
    # encoder: 2 S² d vs 2 S d d_ff; decoder adds cross-attention over S tokens: 4 S² d
    assert brute_force == (d_ff if kind == "encoder" else -(-d_ff // 2))


def test_seq_len_moves_the_marker_not_the_curves_and_keeps_the_figure(explorer):
    explorer.set(seq_len=1024, d_model=512, n_heads=8)
    figure, curve, dots = (
        explorer.figure,
        ydata(explorer.macs_lines[0]),
        ydata(explorer.current_dots[0]),
    )
    explorer.set(seq_len=65536)
    assert explorer.figure is figure
    assert torch.equal(ydata(explorer.macs_lines[0]), curve)
    assert not torch.equal(ydata(explorer.current_dots[0]), dots)
    explorer.set(d_model=1024)
    assert not torch.equal(ydata(explorer.macs_lines[0]), curve)


def test_the_slider_shows_token_counts(explorer):
    explorer.set(seq_len=131072)
    assert explorer.controls["seq_len"].label == "131,072"
    assert SEQ_LENS[:5] == (16, 24, 32, 48, 64) and SEQ_LENS[-1] == 131072


def test_updates_redraw_only_the_curves(monkeypatch):
    ex = AttentionExplorer()
    full_draws = count_full_draws(ex, monkeypatch)
    ex.set(seq_len=16, d_model=8192, n_heads=64, n_layers=96, ffn_multiplier=8.0, kind="decoder")
    ex.set(seq_len=131072, bits=4)
    assert full_draws == []  # the axes hold every setting: no new limits, no full redraw


def test_indivisible_heads_show_the_core_message_and_keep_the_view():
    ex = AttentionExplorer()
    readouts, curve = ex.readouts, ydata(ex.macs_lines[0])
    ex.set(d_model=100, n_heads=3)
    assert ex.message == "d_model (100) must be divisible by n_heads (3)"
    assert ex.readouts == readouts
    assert torch.equal(ydata(ex.macs_lines[0]), curve)
    ex.set(n_heads=4)
    assert ex.message == "" and ex.readouts["params"] != readouts["params"]


@pytest.mark.parametrize(
    ("values", "match"),
    [({"seq_len": 1000}, "unknown seq_len 1000"), ({"n_layers": 0}, "n_layers must be between")],
)
def test_values_outside_the_controls_raise(explorer, values, match):
    with pytest.raises(ValueError, match=match):
        explorer.set(**values)


def test_random_settings_never_raise(explorer):
    def check(values):
        assert (explorer.message == "") == (values["d_model"] % values["n_heads"] == 0)

    check_random_settings(explorer, check)
