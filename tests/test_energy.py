"""Energy estimate: the table, the arithmetic on a hand-made profile, bit widths, memory levels."""

from __future__ import annotations

from dataclasses import replace

import pytest
from helpers import hand_made_profile, layer_row

import widgets
from widgets.core.energy import format_joules, mac_energy_pj, pj_per_byte, table_pj
from widgets.core.validate import UnknownNameError

# A 1000 -> 1000 linear layer at batch 10, then a ReLU.
FC = layer_row("fc", "Linear", params=1_000_000, macs=10_000_000, inputs=10_000, outputs=10_000)
RELU = layer_row("relu", "ReLU", inputs=10_000, outputs=10_000)
FC_BYTES_32 = 4 * (1_000_000 + 20_000)
RELU_BYTES_32 = 4 * 20_000


def make_profile(bits=32, activation_bits=32):
    return hand_made_profile(FC, RELU, bits=bits, activation_bits=activation_bits)


def test_table_has_the_lectures_45nm_numbers():
    """The lecture's table (32 bits) and Horowitz's 8- and 16-bit entries, nothing else."""
    lecture = {("int add", 32): 0.1, ("fp add", 32): 0.9, ("register read", 32): 1.0,
               ("int mult", 32): 3.1, ("fp mult", 32): 3.7, ("sram read", 32): 5.0,
               ("dram read", 32): 640.0}  # fmt: skip
    horowitz = {("int add", 8): 0.03, ("int mult", 8): 0.2, ("fp add", 16): 0.4,
                ("fp mult", 16): 1.1}  # fmt: skip
    table = {(cost.operation, cost.bits): cost.energy_pj for cost in widgets.ENERGY_TABLE}
    assert table == {**lecture, **horowitz}
    assert not any("interpolat" in cost.note for cost in widgets.ENERGY_TABLE)
    # the lecture's headline: a DRAM read costs ~700 fp32 adds
    assert table_pj("dram read", 32) / table_pj("fp add", 32) == pytest.approx(711, abs=1)


def test_table_pj_finds_every_entry_once():
    entries = [(cost.operation, cost.bits) for cost in widgets.ENERGY_TABLE]
    assert len(set(entries)) == len(entries)
    for cost in widgets.ENERGY_TABLE:
        assert table_pj(cost.operation, cost.bits) == cost.energy_pj


def test_table_pj_lists_what_the_table_has():
    operations = (
        "'int add', 'fp add', 'register read', 'int mult', 'fp mult', 'sram read', 'dram read'"
    )
    with pytest.raises(UnknownNameError) as error:
        table_pj("hbm read", 32)
    assert str(error.value) == f"unknown operation 'hbm read'; choose one of: {operations}"
    with pytest.raises(UnknownNameError) as error:
        table_pj("int mult", 16)
    assert str(error.value) == "unknown bits for 'int mult' 16; choose one of: 8, 32"


def test_mac_and_byte_energies():
    assert mac_energy_pj(32) == pytest.approx(3.7 + 0.9)
    assert mac_energy_pj(16) == pytest.approx(1.1 + 0.4)
    # integer MACs: the multiply at their width, the add in a 32-bit accumulator
    assert mac_energy_pj(8) == pytest.approx(0.2 + 0.1)
    assert mac_energy_pj(4) == pytest.approx(0.2 / 4 + 0.1)  # the multiply extrapolated
    assert pj_per_byte("dram") == 160.0 and pj_per_byte("sram") == 1.25
    assert pj_per_byte("register") == 0.25  # registers are cheap, not free


def test_arithmetic_against_the_table():
    estimate = widgets.estimate_energy(make_profile())
    fc, relu = estimate.layers
    assert (fc.name, fc.macs, fc.bytes_moved, fc.memory) == ("fc", FC.macs, FC_BYTES_32, "dram")
    assert fc.compute_pj == pytest.approx(10_000_000 * 4.6)
    assert fc.memory_pj == pytest.approx(FC_BYTES_32 * 160)
    assert relu.compute_pj == 0 and relu.memory_pj == pytest.approx(RELU_BYTES_32 * 160)
    assert estimate.compute_pj == pytest.approx(fc.compute_pj)
    assert estimate.memory_pj == pytest.approx(fc.memory_pj + relu.memory_pj)
    assert estimate.total_pj == estimate.compute_pj + estimate.memory_pj
    assert (estimate.bits, estimate.memory, estimate.mac_pj) == (32, "dram", pytest.approx(4.6))


@pytest.mark.parametrize("bits", [16, 8, 4])
def test_fewer_bits_shrink_both_columns(bits):
    full = widgets.estimate_energy(make_profile())
    small = widgets.estimate_energy(make_profile(), bits=bits)
    assert small.memory_pj == pytest.approx(full.memory_pj * bits / 32)
    assert small.compute_pj == pytest.approx(FC.macs * mac_energy_pj(bits))
    assert small.compute_pj < full.compute_pj


def test_weight_only_quantization_still_computes_in_fp32():
    estimate = widgets.estimate_energy(make_profile(bits=8, activation_bits=32))
    assert estimate.bits == 32
    assert estimate.layers[0].bytes_moved == 1_000_000 + 4 * 20_000


def test_on_chip_memory():
    dram = widgets.estimate_energy(make_profile())
    sram = widgets.estimate_energy(make_profile(), memory="sram")
    assert dram.memory_pj / sram.memory_pj == pytest.approx(128)  # 160 vs 1.25 pJ per byte
    assert sram.compute_pj == dram.compute_pj
    # a 1 MiB buffer holds the ReLU's 80 KB but not the linear layer's 4 MB
    buffered = widgets.estimate_energy(make_profile(), sram_bytes=2**20)
    assert [layer.memory for layer in buffered.layers] == ["dram", "sram"]
    assert buffered.layers[1].memory_pj == pytest.approx(RELU_BYTES_32 * 1.25)


def test_resnet18_spends_more_on_dram_than_on_arithmetic():
    prof = widgets.profile(widgets.meta_model("resnet18"), input_size=(1, 3, 224, 224))
    assert widgets.estimate_energy(prof).memory_pj > widgets.estimate_energy(prof).compute_pj
    on_chip = widgets.estimate_energy(prof, memory="sram")
    assert on_chip.memory_pj < on_chip.compute_pj / 10


def test_prints_a_summary():
    text = str(widgets.estimate_energy(make_profile()))
    # 1e7 MACs x 4.6 pJ = 46.0 µJ; 4.16 MB x 160 pJ/B = 666 µJ
    assert text == (
        "712 µJ per inference: compute 46.0 µJ (10.0 M MACs at 32 bits, 4.60 pJ each), "
        "memory 666 µJ (3.97 MiB moved, dram; unfused: each layer reads and writes)"
    )
    assert "(extrapolated: not in the source)" in str(
        widgets.estimate_energy(make_profile(), bits=4)
    )
    assert format_joules(1.5e9) == "1.50 mJ"


def test_bad_input():
    with pytest.raises(ValueError, match=r"unknown bits 7; choose one of: 32, 16, 8, 4$"):
        widgets.estimate_energy(make_profile(), bits=7)
    with pytest.raises(UnknownNameError, match="unknown bits 2"):
        widgets.estimate_energy(make_profile(), bits=2)
    with pytest.raises(KeyError, match="choose one of: 'dram', 'sram', 'register'"):
        widgets.estimate_energy(make_profile(), memory="hbm")
    with pytest.raises(ValueError, match="sram_bytes must be >= 0"):
        widgets.estimate_energy(make_profile(), sram_bytes=-1)
    with pytest.raises(TypeError, match="profile must be a Profile"):
        widgets.estimate_energy(None)
    with pytest.raises(TypeError, match="fused must be True or False"):
        widgets.estimate_energy(make_profile(), fused="yes")


def test_registers_cost_one_pj_per_32_bits():
    estimate = widgets.estimate_energy(make_profile(), memory="register")
    assert estimate.memory_pj == pytest.approx((FC_BYTES_32 + RELU_BYTES_32) * 0.25)
    assert [layer.memory for layer in estimate.layers] == ["register", "register"]


# conv -> batch norm -> ReLU, then a pooling layer that is not fused
CONV = layer_row("conv", "Conv2d", params=100, macs=50_000, inputs=1_000, outputs=2_000)
BN = layer_row("bn", "BatchNorm2d", params=20, inputs=2_000, outputs=2_000)
ACT = layer_row("act", "ReLU", inputs=2_000, outputs=2_000)
POOL = layer_row("pool", "MaxPool2d", inputs=2_000, outputs=500)


def test_fused_conv_bn_relu_make_one_round_trip():
    prof = hand_made_profile(CONV, BN, ACT, POOL)
    unfused = widgets.estimate_energy(prof)
    fused = widgets.estimate_energy(prof, fused=True)
    moved = [layer.bytes_moved for layer in fused.layers]
    # the conv reads its input and weights, the chain writes the ReLU's output once; the batch
    # norm still reads its 20 parameters; pooling, not part of the chain, reads and writes
    assert moved == [4 * (100 + 1_000), 4 * 20, 4 * 2_000, 4 * (2_000 + 500)]
    kept = [layer.register_bytes for layer in fused.layers]
    assert kept == [4 * 2_000, 4 * 4_000, 4 * 2_000, 0]  # conv out; bn in, out; relu in
    for plain, joined in zip(unfused.layers, fused.layers, strict=True):
        assert plain.bytes_moved == joined.bytes_moved + joined.register_bytes
        assert joined.memory_pj == pytest.approx(
            joined.bytes_moved * 160 + joined.register_bytes * 0.25
        )
    assert fused.compute_pj == unfused.compute_pj
    assert fused.memory_pj < unfused.memory_pj / 2
    assert fused.fused and not unfused.fused
    assert "conv+BN+ReLU fused" in str(fused)


def test_fusion_needs_a_conv_or_linear_first():
    prof = hand_made_profile(POOL, ACT)  # a ReLU after pooling has nothing to fuse into
    assert widgets.estimate_energy(prof, fused=True) == replace(
        widgets.estimate_energy(prof), fused=True
    )


def test_fused_resnet18_saves_dram_traffic():
    prof = widgets.profile(widgets.meta_model("resnet18"), input_size=(1, 3, 224, 224))
    unfused, fused = (widgets.estimate_energy(prof, fused=f) for f in (False, True))
    saved = sum(layer.register_bytes for layer in fused.layers)
    assert saved > 0
    total = sum(layer.bytes_moved for layer in unfused.layers)
    assert sum(layer.bytes_moved for layer in fused.layers) == pytest.approx(total - saved)
    assert fused.memory_pj < unfused.memory_pj


def test_every_activation_of_the_registry_fuses_into_the_conv_before_it():
    # a new activation in widgets.core.activations needs no second list here
    from widgets.core.activations import ACTIVATIONS
    from widgets.core.energy import FUSED_INTO

    kinds = {type(activation.torch_module()).__name__ for activation in ACTIVATIONS.values()}
    assert kinds <= FUSED_INTO
    assert {"ReLU", "ReLU6", "Hardswish", "GELU", "SiLU"} <= kinds  # the ones lab 04 names
