"""The exercises of labs 04 and 05 one by one: the reference answer, recomputed here
independently (with torch, or by hand from the published numbers), is accepted, and each typical
wrong answer gets the hint that names its mistake. test_exercises.py checks them all generically.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
import torch
import torchvision
from helpers import torch_flops, torch_macs
from torch import nn

import widgets
from widgets.exercises import Exercise, Prediction, lab04, lab05


def _meta_model(name: str) -> nn.Module:
    # a fresh model, not the cached widgets.meta_model: some tests add hooks to its modules
    with torch.device("meta"):
        return getattr(torchvision.models, name)(weights=None)


def _hint_for(exercise: Exercise, answer: float) -> str:
    feedback = exercise.check(answer)
    assert not feedback.correct
    return feedback.message


# --- lab 04 ---------------------------------------------------------------------------------


def test_lab04_ffn_flops_are_what_flop_counter_mode_reports() -> None:
    flops = torch_flops(nn.Linear(768, 3072), torch.randn(1, 128, 768))
    assert lab04.ffn_flops.check(flops).correct
    assert "MAC count" in _hint_for(lab04.ffn_flops, flops / 2)
    assert "bias" in _hint_for(lab04.ffn_flops, flops + 128 * 3072)
    assert "one token" in _hint_for(lab04.ffn_flops, flops / 128)


def test_lab04_throughput_is_batch_over_latency() -> None:
    assert lab04.served_throughput.check(32 / 0.040).correct
    assert "batches per second" in _hint_for(lab04.served_throughput, 25)
    assert "millisecond" in _hint_for(lab04.served_throughput, 0.8)


def test_lab04_resnet_gflops_from_flop_counter_mode() -> None:
    flops = torch_flops(_meta_model("resnet50"), torch.empty(1, 3, 224, 224, device="meta"))
    assert flops == pytest.approx(8.18e9, rel=1e-3)  # the published 4.09 G MACs
    gflops = flops / 0.050 / 1e9
    assert lab04.resnet_gflops.check(gflops).correct
    assert "MACs per second" in _hint_for(lab04.resnet_gflops, gflops / 2)
    assert "divide by the time" in _hint_for(lab04.resnet_gflops, flops / 1e9)
    assert "milliseconds" in _hint_for(lab04.resnet_gflops, gflops / 1000)


def _linear_intensity(batch: int, features: int = 1024) -> float:
    """FLOPs / bytes of Linear(features, features) in fp32, moving everything once."""
    flops = 2 * batch * features * features
    numbers = features * features + features + 2 * batch * features  # W, b, input, output
    return flops / (4 * numbers)


def test_lab04_intensity_by_hand() -> None:
    intensity = _linear_intensity(batch=1)
    assert intensity == pytest.approx(0.4985, abs=1e-4)
    assert lab04.linear_intensity.check(intensity).correct
    assert "counts MACs" in _hint_for(lab04.linear_intensity, intensity / 2)
    assert "bits" in _hint_for(lab04.linear_intensity, intensity / 8)
    assert "4 bytes" in _hint_for(lab04.linear_intensity, intensity * 4)


def test_lab04_batching_raises_intensity_a_bit_less_than_the_batch() -> None:
    gain = _linear_intensity(batch=256) / _linear_intensity(batch=1)
    prediction: Prediction = replace(lab04.batch_intensity_gain)  # fresh: no guess recorded
    assert prediction.measured == pytest.approx(gain)
    assert 100 < gain < 256
    assert prediction.predict(None).status == "unanswered"
    assert prediction.predict(256).message.startswith("You predicted 256 x; computed: 171 x.")


def test_lab04_dram_read_vs_mac_from_horowitz() -> None:
    dram_read_32bit_pj, fp32_mult_pj, fp32_add_pj = 640, 3.7, 0.9  # ISSCC 2014, 45 nm
    ratio = dram_read_32bit_pj / (fp32_mult_pj + fp32_add_pj)
    assert lab04.dram_vs_mac.check(ratio).correct
    assert "add" in _hint_for(lab04.dram_vs_mac, dram_read_32bit_pj / fp32_mult_pj)
    assert "multiply" in _hint_for(lab04.dram_vs_mac, dram_read_32bit_pj / fp32_add_pj)
    assert "one byte" in _hint_for(lab04.dram_vs_mac, ratio / 4)


def _leaf_traffic_elements(model: nn.Module, *inputs: torch.Tensor) -> int:
    """Elements every leaf module reads and writes once: its input and its output."""
    elements = 0

    def count(module, args, output) -> None:
        nonlocal elements
        elements += args[0].numel() + output.numel()

    for module in model.modules():
        if next(module.children(), None) is None:
            module.register_forward_hook(count)
    model.eval()(*inputs)
    return elements


def test_lab04_memory_share_of_mobilenet_energy_by_hand() -> None:
    model = _meta_model("mobilenet_v2")
    image = torch.empty(1, 3, 224, 224, device="meta")
    compute_pj = torch_macs(model, image) * (3.7 + 0.9)  # fp32 multiply + add per MAC
    moved_bytes = 4 * (
        sum(p.numel() for p in model.parameters()) + _leaf_traffic_elements(model, image)
    )
    memory_pj = moved_bytes * 640 / 4  # 640 pJ per 32-bit DRAM word
    share = 100 * memory_pj / (memory_pj + compute_pj)
    assert lab04.memory_energy_share.measured == pytest.approx(share)
    assert 90 < share < 99


# --- lab 05 ---------------------------------------------------------------------------------


def test_lab05_resnet50_size_at_4_bits() -> None:
    params = sum(p.numel() for p in _meta_model("resnet50").parameters())
    assert params == 25_557_032
    mib = params * 4 / 8 / 2**20
    assert lab05.resnet50_4bit_size.check(mib).correct
    assert "in bits" in _hint_for(lab05.resnet50_4bit_size, params * 4 / 2**20)
    assert "at 8 bits" in _hint_for(lab05.resnet50_4bit_size, params / 2**20)
    assert "1000^2" in _hint_for(lab05.resnet50_4bit_size, params * 4 / 8 / 1e6)


def _largest_outputs_per_block(model: nn.Module, resolution: int) -> dict[int, int]:
    """features block index -> elements of the largest tensor a layer of it returns."""
    largest: dict[int, int] = {}

    def record(index: int):
        def hook(module, args, output) -> None:
            largest[index] = max(largest.get(index, 0), output.numel())

        return hook

    for index, block in enumerate(model.features):
        for layer in block.modules():
            layer.register_forward_hook(record(index))
    model(torch.empty(1, 3, resolution, resolution, device="meta"))
    return largest


def test_lab05_peak_block_writes_the_largest_tensor() -> None:
    largest = _largest_outputs_per_block(_meta_model("mobilenet_v2"), 224)
    biggest_block = max(largest, key=largest.get)
    assert largest[biggest_block] == 96 * 112 * 112  # block 2 expands 16 -> 96 channels
    assert lab05.peak_block.check(biggest_block).correct
    assert "expands" in _hint_for(lab05.peak_block, 0)
    assert "most channels" in _hint_for(lab05.peak_block, len(largest) - 1)


def test_lab05_peak_activations_are_alike_although_weights_are_not() -> None:
    prediction: Prediction = replace(lab05.peak_ratio)
    assert prediction.measured == pytest.approx(1.0, abs=0.1)
    assert "7.3 x the parameters" in prediction.question
    assert prediction.predict(7.3).message.startswith("You predicted 7.3 x; computed: 1 x.")


def test_lab05_flash_holds_two_4_bit_weights_per_byte() -> None:
    assert lab05.flash_params.check(2 * 2**20).correct
    assert "not 10^6" in _hint_for(lab05.flash_params, 2_000_000)
    assert "bytes by bits" in _hint_for(lab05.flash_params, 2**20 / 4)
    assert "one byte" in _hint_for(lab05.flash_params, 2**20)


def _mobilenet_int8_peak_bytes(resolution: int, folded: bool) -> int:
    """By hand, one byte a number. Unfused, the peak is in block 2 during the batch norm after the
    1x1 expansion: the input, the block's 16-channel input and two 96-channel tensors (the conv's
    and the batch norm's outputs) at half the resolution. Folded, it is during the 3x3 depthwise
    conv (stride 2): the input, the block's input, the one 96-channel expanded map, and the
    depthwise output at a quarter of the resolution."""
    half, quarter = resolution // 2, resolution // 4
    if folded:
        return 3 * resolution**2 + (16 + 96) * half**2 + 96 * quarter**2
    return 3 * resolution**2 + (16 + 96 + 96) * half**2


def test_lab05_sram_resolution_by_hand() -> None:
    sram = 256 * 1024
    fits = {
        folded: [r for r in range(32, 225, 16) if _mobilenet_int8_peak_bytes(r, folded) <= sram]
        for folded in (False, True)
    }
    assert fits[False][-1] == 64 and fits[True][-1] == 80
    assert lab05.sram_resolution.check(fits[True][-1]).correct
    assert "eager mode" in _hint_for(lab05.sram_resolution, fits[False][-1])
    assert "area" in _hint_for(lab05.sram_resolution, 16)
    assert "fp32" in _hint_for(lab05.sram_resolution, 32)
    assert "just over 256 KiB" in _hint_for(lab05.sram_resolution, 96)
    assert "too high" in _hint_for(lab05.sram_resolution, 224)


# --- importing profiles nothing -----------------------------------------------------------------


def test_importing_labs_4_and_5_profiles_no_model() -> None:
    code = (
        "import widgets.core.profiler as profiler\n"
        "runs = []\n"
        "profile = profiler.profile\n"
        "profiler.profile = lambda *args, **kwargs: runs.append(args) or profile(*args, **kwargs)\n"
        "from widgets.exercises import lab04, lab05\n"
        "assert runs == [], runs\n"
        "assert {'resnet_gflops', 'memory_energy_share'} <= set(dir(lab04))\n"
        "assert 'sram_resolution' in dir(lab05)\n"
        "lab05.peak_ratio\n"
        "assert len(runs) == 2, runs  # MobileNetV2 and ResNet-50, once each\n"
        "assert lab05.peak_ratio is lab05.peak_ratio and len(runs) == 2\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="lab04' has no attribute 'resnet_gflop'"):
        lab04.resnet_gflop  # noqa: B018


def test_lab05_alexnet_conv2_macs_by_hand() -> None:
    """256 filters x 27 x 27 outputs, each a dot product over 48 channels x 5 x 5."""
    macs = 256 * 27 * 27 * 48 * 5 * 5
    assert macs == 223_948_800
    conv = nn.Conv2d(96, 256, 5, padding=2, groups=2, device="meta")
    assert torch_macs(conv, torch.empty(1, 96, 27, 27, device="meta")) == macs
    assert lab05.alexnet_conv2_macs.check(macs).correct
    assert "groups=1" in _hint_for(lab05.alexnet_conv2_macs, 2 * macs)
    assert "one GPU" in _hint_for(lab05.alexnet_conv2_macs, macs / 2)
    # the same layer of the network the table profiles
    prof = widgets.meta_profile(widgets.original_alexnet, (1, 3, 227, 227))
    assert next(row.macs for row in prof.layers if row.name == "3") == macs


def test_lab04_a_request_waits_for_its_whole_batch() -> None:
    assert lab04.request_latency_ms.check(40).correct
    assert "1 / throughput" in _hint_for(lab04.request_latency_ms, 40 / 32)


def test_lab04_tops_count_two_operations_per_mac() -> None:
    assert lab04.peak_int8_macs.check(2e12).correct
    assert "two" in _hint_for(lab04.peak_int8_macs, 4e12)
    assert "10^12" in _hint_for(lab04.peak_int8_macs, 2e9)


def test_lab04_fused_conv_bn_relu_by_hand() -> None:
    channels, side = 64, 56
    activation = channels * side * side
    fused = 4 * (activation + channels * channels * 9 + 2 * channels + activation)
    # unfused: conv in + out, batch norm in + out, ReLU in + out, and the same parameters
    unfused = fused + 4 * 4 * activation
    assert lab04.fused_dram_mib.check(fused / 2**20).correct
    assert "unfused" in _hint_for(lab04.fused_dram_mib, unfused / 2**20)
