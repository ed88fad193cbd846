"""EnergyExplorer shows the Horowitz table and estimate_energy's split, in its panels."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import check_random_settings, count_full_draws

import widgets
from widgets.core.energy import ENERGY_TABLE, format_joules
from widgets.core.units import format_bytes
from widgets.ui.energy import ENERGY_LIMITS_PJ, WORKLOADS, EnergyExplorer


@pytest.fixture(scope="module")
def explorer() -> EnergyExplorer:
    return EnergyExplorer()


def core_estimate(workload: str, bits: int, memory: str, fused: bool = False):
    """The core's answer, computed here from scratch."""
    chosen = WORKLOADS[workload]
    prof = widgets.profile(widgets.meta_model(chosen.build), input_size=chosen.input_size)
    return widgets.estimate_energy(prof, bits=bits, memory=memory, fused=fused)


def bar_heights(ex: EnergyExplorer) -> list[float]:
    return [bar.get_height() for bar in ex.bars]


def test_readouts_and_bars_are_the_core_estimate(explorer):
    ex = explorer
    ex.set(workload="resnet18", bits=32, memory="dram", fused=False)
    estimate = core_estimate("resnet18", 32, "dram")
    assert ex.message == ""
    assert ex.readouts == {
        "energy": format_joules(estimate.total_pj),
        "arithmetic": format_joules(estimate.compute_pj),
        "memory": format_joules(estimate.memory_pj),
        "memory_fraction": estimate.memory_pj / estimate.total_pj,
        "macs": 1_814_073_344,  # ResNet-18 at 224 x 224
        "bytes_moved": format_bytes(sum(layer.bytes_moved for layer in estimate.layers)),
        "mac_pj": 3.7 + 0.9,
        "layers": "each layer reads and writes memory",
        "source": "Horowitz, ISSCC 2014, 45 nm (*: see the notes in widgets.ENERGY_TABLE)",
    }
    assert bar_heights(ex) == [estimate.compute_pj, estimate.memory_pj]
    assert ex.readouts["memory_fraction"] > 0.5  # from DRAM, memory costs more than arithmetic
    assert ex.bar_texts[1].get_text() == "memory\n67 %"  # the linear panel
    shares = [bar.get_height() for bar in ex.share_bars]
    assert shares == pytest.approx([100 * e / estimate.total_pj for e in bar_heights(ex)])
    assert ex.share_bars[1].get_y() == pytest.approx(shares[0])  # stacked: they fill 100 %
    assert "energy numbers" in ex.widget.children[3].value


def test_the_table_is_drawn_with_the_dram_gap(explorer):
    ex = explorer
    ex.set(bits=8)
    assert [bar.get_width() for bar in ex.table_bars] == [c.energy_pj for c in ENERGY_TABLE]
    labels = [label.get_text() for label in ex.table_ax.get_yticklabels()]
    assert labels[:2] == ["int add (8 bit)", "int add (32 bit)"]
    assert "register read (32 bit) *" in labels  # * has a note
    assert labels[-3:] == ["sram read (32 bit) *", "dram read (32 bit) *", "MAC (mult + add)"]
    assert ex.table_ax.get_title(loc="right") == "One operation: DRAM read = 711× fp32 add"
    assert ex.mac_bar.get_width() == pytest.approx(0.2 + 0.1)  # int8 mult + 32-bit add
    assert ex.mac_text.get_text() == " 0.3 pJ (int8 mult, 32-bit add)"


def test_memory_level_moves_the_marker_and_the_memory_bar(explorer):
    ex = explorer
    ex.set(workload="linear_batch_1", bits=16, memory="dram")
    figure = ex.figure
    dram_y = ex.data_marker.get_position()[1]
    ex.set(memory="sram")
    sram = core_estimate("linear_batch_1", 16, "sram")
    assert ex.figure is figure
    assert bar_heights(ex) == [sram.compute_pj, sram.memory_pj]
    assert ex.data_marker.get_visible()
    assert ex.data_marker.get_position()[1] == dram_y - 1  # the bar above
    ex.set(memory="register")  # the floor: 1 pJ per 32-bit register access, not 0
    register = core_estimate("linear_batch_1", 16, "register")
    assert bar_heights(ex) == [register.compute_pj, register.memory_pj]
    assert register.memory_pj == pytest.approx(sram.memory_pj / 5)  # 1 pJ vs 5 pJ per 32 bits
    assert ex.readouts["memory"] == format_joules(register.memory_pj)
    assert 0 < ex.readouts["memory_fraction"] < 1
    assert ex.data_marker.get_visible()
    assert ex.data_marker.get_position()[1] < dram_y - 1  # the register bar, above SRAM's


def test_fused_layers_move_less(explorer):
    ex = explorer
    ex.set(workload="mobilenet_v2", bits=32, memory="dram", fused=False)
    unfused = bar_heights(ex)
    ex.set(fused=True)
    fused = core_estimate("mobilenet_v2", 32, "dram", fused=True)
    assert bar_heights(ex) == [fused.compute_pj, fused.memory_pj]
    assert fused.memory_pj < unfused[1] and fused.compute_pj == unfused[0]
    assert ex.readouts["layers"] == "conv + BN + ReLU fused: one round trip"


def test_fewer_bits_cost_less_everywhere(explorer):
    explorer.set(workload="conv", bits=32, memory="dram")
    fp32 = bar_heights(explorer)
    explorer.set(bits=8)
    int8 = bar_heights(explorer)
    assert int8[0] < fp32[0] / 10  # an int8 MAC is 20x cheaper than an fp32 one
    assert int8[1] == fp32[1] / 4  # a quarter of the bytes


def test_updates_redraw_only_what_changed(monkeypatch):
    ex = EnergyExplorer()
    full_draws = count_full_draws(ex, monkeypatch)
    ex.set(workload="conv", bits=8, memory="register")
    ex.set(workload="mobilenet_v2", bits=32, memory="dram")
    assert full_draws == []  # fixed axes: blitting only
    fresh = EnergyExplorer(workload="mobilenet_v2", bits=32, memory="dram")
    assert ex.pngs == fresh.pngs  # the same pixels as a full draw


def test_every_setting_fits_the_fixed_axes():
    low, high = ENERGY_LIMITS_PJ
    for workload in WORKLOADS:
        for bits in (32, 8):
            estimate = core_estimate(workload, bits, "dram")
            assert low <= core_estimate(workload, bits, "sram").memory_pj, workload
            assert low <= estimate.compute_pj and estimate.memory_pj <= high, workload


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ({"bits": 4}, ValueError, "unknown bits 4; choose one of: 32, 16, 8"),
        ({"memory": "hbm"}, ValueError, "unknown memory 'hbm'; choose one of: 'register'"),
        ({"workload": "gpt"}, KeyError, "unknown workload 'gpt'; choose one of: 'linear_batch_1'"),
    ],
)
def test_bad_values_name_the_parameter_and_keep_the_view(explorer, values, error, match):
    readouts, heights = explorer.readouts, bar_heights(explorer)
    with pytest.raises(error, match=match):
        explorer.set(**values)
    assert explorer.readouts == readouts
    assert np.array_equal(bar_heights(explorer), heights)


def test_random_settings_never_raise(explorer):
    def check(values):
        assert explorer.message == ""
        assert 0 < explorer.readouts["memory_fraction"] < 1

    check_random_settings(explorer, check)
