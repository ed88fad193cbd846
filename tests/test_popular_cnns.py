"""The popular-CNN table: counts against torch and the published figures; the original AlexNet."""

from __future__ import annotations

import pytest
import torch
from helpers import torch_macs

from widgets.core.popular_cnns import (
    ORIGINAL_ALEXNET_INPUT,
    POPULAR_CNNS,
    measure_cnn_latency,
    original_alexnet,
    popular_cnn_table,
)
from widgets.core.profiler import meta_model


@pytest.fixture(scope="module")
def table():
    return {row.name: row for row in popular_cnn_table()}


@pytest.mark.parametrize("name", POPULAR_CNNS)
def test_counts_equal_torch(table, name):
    row, cnn = table[name], POPULAR_CNNS[name]
    model = meta_model(cnn.build)
    size = (1, 3, cnn.resolution, cnn.resolution)
    assert row.params == sum(p.numel() for p in model.parameters())
    assert row.macs == torch_macs(model, torch.empty(size, device="meta"))
    assert row.size_32bit_bytes == 4 * row.params
    assert row.size_8bit_bytes == row.params


@pytest.mark.parametrize("name", POPULAR_CNNS)
def test_published_figures_are_close(table, name):
    """Within 10 %: the published figures are rounded, and torchvision's ResNets are v1.5."""
    row = table[name]
    if row.published_params is not None:
        assert row.params == pytest.approx(row.published_params, rel=0.1)
    if row.published_macs is not None:
        assert row.macs == pytest.approx(row.published_macs, rel=0.1)


def test_torchvision_alexnet_is_not_the_original(table):
    torchvision_net, original = table["alexnet"], table["alexnet_2012"]
    assert torchvision_net.params == 61_100_840
    assert round(torchvision_net.macs / 1e9, 2) == 0.71
    assert round(original.macs / 1e6) == 724  # the lecture's ~724 M MACs
    assert round(original.params / 1e6) == 61
    # the first conv's output is 96 x 55 x 55, as in the paper
    first = original_alexnet()[0]
    out = first(torch.empty(1, 3, ORIGINAL_ALEXNET_INPUT, ORIGINAL_ALEXNET_INPUT, device="meta"))
    assert tuple(out.shape) == (1, 96, 55, 55)


def test_mobilenet_v2_has_fewer_weights_not_a_smaller_peak(table):
    mobilenet, resnet = table["mobilenet_v2"], table["resnet50"]
    assert resnet.params / mobilenet.params > 7
    assert mobilenet.peak_activation_bytes == resnet.peak_activation_bytes


def test_int8_activations_quarter_the_peak():
    fp32 = popular_cnn_table(("resnet18",))[0]
    int8 = popular_cnn_table(("resnet18",), activation_bits=8)[0]
    assert int8.peak_activation_bytes == fp32.peak_activation_bytes / 4


def test_latency_is_measured():
    timing = measure_cnn_latency("mobilenet_v2", budget_s=0.01, min_runs=2)
    assert timing.runs >= 2 and timing.median_s > 0 and timing.batch == 1


def test_bad_names():
    with pytest.raises(ValueError, match="name"):
        popular_cnn_table(("lenet",))
    with pytest.raises(ValueError, match="name"):
        measure_cnn_latency("lenet")
    with pytest.raises(ValueError, match="activation_bits"):
        popular_cnn_table(activation_bits=3)
