"""Roofline: exact intensities and bounds on hand-made profiles, measured peaks, achieved speed."""

from __future__ import annotations

import pytest
import torch
from helpers import hand_made_profile, layer_row
from torch import nn

import widgets
from widgets.core.latency import Timing
from widgets.core.roofline import MATMUL_SIZES, MachinePeaks, bound_shares, layer_traffic

PEAKS = MachinePeaks(gflops=100.0, bandwidth_gbs=10.0)  # ridge point: 10 FLOP/byte
N = 1024


# an N x N input times an N x N weight: N^3 MACs over 3 N^2 numbers
MATMUL = layer_row("matmul", params=N * N, macs=N**3, inputs=N * N, outputs=N * N)
RELU = layer_row("relu", kind="ReLU", inputs=N * N, outputs=N * N)
# batch 1: a matrix-vector product, every weight used once
GEMV = layer_row("gemv", params=N * N, macs=N * N, inputs=N, outputs=N)


def test_peaks_by_hand():
    assert PEAKS.ridge_point == 10.0
    assert PEAKS.attainable_gflops(2.0) == 20.0  # on the memory roof
    assert PEAKS.attainable_gflops(10.0) == PEAKS.attainable_gflops(1e6) == 100.0
    assert str(PEAKS) == "100 GFLOP/s, 10.0 GB/s, ridge point 10.0 FLOP/byte"


def test_square_matmul_is_compute_bound():
    (point,) = widgets.roofline(hand_made_profile(MATMUL), PEAKS)
    assert point.bytes_moved == 3 * N * N * 4
    assert point.intensity == pytest.approx(2 * N**3 / (12 * N * N)) == N / 6
    assert point.bound == "compute" and point.attainable_gflops == 100.0
    assert point.predicted_s == pytest.approx(2 * N**3 / 100e9)


def test_elementwise_layer_is_memory_bound_with_zero_intensity():
    (point,) = widgets.roofline(hand_made_profile(RELU), PEAKS)
    assert (point.flops, point.intensity, point.attainable_gflops) == (0, 0.0, 0.0)
    assert point.bound == "memory"
    assert point.predicted_s == pytest.approx(8 * N * N / 10e9)  # read + write at 10 GB/s


def test_batch_one_linear_is_memory_bound():
    (point,) = widgets.roofline(hand_made_profile(GEMV), PEAKS)
    intensity = 2 * N * N / (4 * (N * N + 2 * N))  # just under 0.5 FLOP/byte
    assert point.intensity == pytest.approx(intensity)
    assert point.bound == "memory"
    assert point.attainable_gflops == pytest.approx(intensity * 10.0)


def test_fewer_bits_raise_intensity():
    full, int8 = (widgets.roofline(hand_made_profile(GEMV), PEAKS, bits=b)[0] for b in (32, 8))
    assert int8.bytes_moved == full.bytes_moved / 4
    assert int8.intensity == pytest.approx(4 * full.intensity)
    # by default, the profile's own widths: int8 weights, fp32 activations
    (mixed,) = widgets.roofline(hand_made_profile(GEMV, bits=8, activation_bits=32), PEAKS)
    assert mixed.bytes_moved == N * N + 2 * N * 4


def test_containers_count_their_own_weights_not_their_childrens_activations():
    prof = hand_made_profile(
        layer_row(
            "", kind="Net", params=10, inputs=N, outputs=N
        ),  # e.g. a learned bias of the model
        layer_row("block", kind="Sequential", inputs=N, outputs=N),  # moves nothing of its own
        layer_row("block.fc", params=N * N, macs=N * N, inputs=N, outputs=N),
        layer_row("head", inputs=N, outputs=N),
    )
    traffic = {r.name: moved for r, moved in layer_traffic(prof)}
    assert traffic == {"": 40.0, "block.fc": 4 * (N * N + 2 * N), "head": 8.0 * N}


def test_roofline_of_a_real_profile():
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    points = widgets.roofline(widgets.profile(model, input_size=(8, 64)), PEAKS)
    assert [(p.name, p.kind, p.bound) for p in points] == [
        ("0", "Linear", "memory"),
        ("1", "ReLU", "memory"),
        ("2", "Linear", "memory"),
    ]
    assert points[0].flops == 2 * 8 * 64 * 256
    assert points[0].bytes_moved == 4 * (64 * 256 + 256 + 8 * 64 + 8 * 256)


def test_machine_peaks_measures_positive_numbers_and_caches_them():
    peaks = widgets.machine_peaks(budget_s=0.05)
    assert peaks.gflops > 0 and peaks.bandwidth_gbs > 0 and peaks.ridge_point > 0
    assert isinstance(peaks.matmul, Timing) and isinstance(peaks.copy, Timing)
    assert peaks.matmul.threads == torch.get_num_threads()
    # the peak is the best run of the fastest size, never a median that interference slowed down
    n = peaks.matmul_size
    assert n in MATMUL_SIZES
    assert peaks.gflops == pytest.approx(2 * n**3 / min(peaks.matmul.times_s) / 1e9)
    assert peaks.gflops >= 2 * n**3 / peaks.matmul.median_s / 1e9
    assert str(peaks).endswith(f"({peaks.matmul.threads} threads)")
    assert widgets.machine_peaks(budget_s=0.05) is peaks
    assert widgets.machine_peaks(threads=torch.get_num_threads()) is peaks


def test_achieved_performance():
    achieved = widgets.achieved_performance(2e9, 0.02, MachinePeaks(200.0, 10.0))
    assert achieved.gflops == pytest.approx(100.0)
    assert achieved.percent_of_peak == pytest.approx(50.0)
    assert str(achieved) == "2.00 GFLOP in 20.0 ms: 100 GFLOP/s, 50 % of the peak 200 GFLOP/s"


def test_bad_input():
    with pytest.raises(ValueError, match="budget_s must be > 0, got 0"):
        widgets.machine_peaks(budget_s=0)
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        widgets.machine_peaks(threads=0)
    with pytest.raises(ValueError, match="gflops must be > 0"):
        MachinePeaks(gflops=0.0, bandwidth_gbs=1.0)
    with pytest.raises(TypeError, match="peaks must be a MachinePeaks"):
        widgets.roofline(hand_made_profile(RELU), {"gflops": 1})
    with pytest.raises(TypeError, match="profile must be a Profile"):
        widgets.roofline("resnet18", PEAKS)
    with pytest.raises(ValueError, match="unknown bits 7; choose one of: 32, 16, 8, 4, 2, 1"):
        widgets.roofline(hand_made_profile(RELU), PEAKS, bits=7)
    with pytest.raises(ValueError, match="seconds must be > 0"):
        widgets.achieved_performance(1e9, 0.0, PEAKS)
    with pytest.raises(ValueError, match="flops must be >= 0"):
        widgets.achieved_performance(-1.0, 1.0, PEAKS)


def test_bound_shares_of_alexnet_are_its_classifier():
    # at batch 4 and 8 bits, under roofs with a ridge at 10 FLOP/byte, AlexNet's three fully
    # connected layers (1 weight read per 4 MACs) wait on memory, its convs do not
    prof = widgets.profile(widgets.meta_model("alexnet"), input_size=(4, 3, 224, 224))
    points = widgets.roofline(prof, PEAKS, bits=8)
    shares = bound_shares(points)
    classifier = [(9216, 4096), (4096, 4096), (4096, 1000)]
    classifier_macs = sum(
        widgets.layer_cost(
            "linear", input_shape=(4, n_in), in_features=n_in, out_features=n_out
        ).macs
        for n_in, n_out in classifier
    )
    memory_bound = [p for p in points if p.bound == "memory"]
    assert {p.kind for p in memory_bound if p.flops} == {"Linear"}
    assert shares.layers == len(points)
    assert shares.layers_without_flops == sum(p.kind not in ("Conv2d", "Linear") for p in points)
    assert shares.memory_bound_layers == pytest.approx(len(memory_bound) / len(points))
    assert shares.memory_bound_flops == pytest.approx(classifier_macs / prof.macs)
    with pytest.raises(ValueError, match="points"):
        bound_shares([])
