"""RooflineExplorer places roofline() points under given roofs; no test measures the machine."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check_random_settings, count_full_draws
from torch.testing import assert_close

import widgets
import widgets.ui.roofline as roofline_ui
from widgets.core.latency import summarize
from widgets.core.roofline import MachinePeaks, bound_shares
from widgets.ui.roofline import INTENSITY_LIMITS, RooflineExplorer

PEAKS = MachinePeaks(gflops=100.0, bandwidth_gbs=10.0)  # ridge point: 10 FLOP/byte


@pytest.fixture(scope="module")
def explorer() -> RooflineExplorer:
    return RooflineExplorer(peaks=PEAKS)


def core_points(model: str, batch: int, bits: int) -> list:
    """The core's answer, computed here from scratch."""
    prof = widgets.profile(widgets.meta_model(model), input_size=(batch, 3, 224, 224))
    return widgets.roofline(prof, PEAKS, bits=bits)


def shown(scatter) -> torch.Tensor:
    return torch.from_numpy(np.asarray(scatter.get_offsets(), dtype=np.float64))


def test_readouts_are_the_core_roofline(explorer):
    ex = explorer
    ex.set(model="alexnet", batch=4, bits=8)
    shares = bound_shares(core_points("alexnet", 4, 8))  # checked in tests/test_roofline.py
    assert ex.message == ""
    assert ex.readouts == {
        "peak_gflops": 100.0,
        "bandwidth_gbs": 10.0,
        "ridge_point": 10.0,
        "roofs": "given",
        "layers": shares.layers,
        "layers_without_flops": shares.layers_without_flops,
        "memory_bound_layers": shares.memory_bound_layers,
        "memory_bound_macs": shares.memory_bound_flops,
    }
    assert "ridge point (FLOP/byte)" in ex.widget.children[3].value


def test_points_sit_on_the_roof_coloured_by_bound(explorer):
    ex = explorer
    ex.set(model="resnet18", batch=1, bits=32)
    points = core_points("resnet18", 1, 32)
    for scatter, bound in ((ex.memory_points, "memory"), (ex.compute_points, "compute")):
        expected = [
            (p.intensity, p.attainable_gflops) for p in points if p.bound == bound and p.flops
        ]
        assert_close(shown(scatter), torch.tensor(expected, dtype=torch.float64).reshape(-1, 2))
    on_memory_roof = shown(ex.memory_points)
    assert_close(on_memory_roof[:, 1], on_memory_roof[:, 0] * 10.0)  # GFLOP/s = I x GB/s
    assert (shown(ex.compute_points)[:, 1] == 100.0).all()


def test_roofs_and_ridge_point_are_drawn(explorer):
    roof = explorer.ax.lines[0]
    low, high = INTENSITY_LIMITS
    assert list(roof.get_xdata()) == [low, 10.0, high]
    assert list(roof.get_ydata()) == [low * 10.0, 100.0, 100.0]
    texts = [t.get_text() for t in explorer.ax.texts]
    assert "ridge point 10 FLOP/byte" in texts
    assert any(t.startswith("roofs given, not measured: 100 GFLOP/s") for t in texts)


def test_a_bigger_batch_moves_layers_right_on_the_same_figure(explorer):
    ex = explorer
    ex.set(model="alexnet", batch=1, bits=32)
    figure, before = ex.figure, shown(ex.memory_points)
    share = ex.readouts["memory_bound_macs"]
    ex.set(batch=64)  # weights are read once per batch: more FLOPs per byte
    assert ex.figure is figure
    assert ex.readouts["memory_bound_macs"] < share
    assert not torch.equal(shown(ex.memory_points), before)


def test_updates_redraw_only_the_points(monkeypatch):
    ex = RooflineExplorer(peaks=PEAKS)
    full_draws = count_full_draws(ex, monkeypatch)
    ex.set(model="vgg11", batch=256, bits=4)
    ex.set(model="mobilenet_v2", batch=1, bits=32)
    assert full_draws == []  # fixed axes: blitting only


def test_every_setting_fits_the_fixed_axes():
    low, high = INTENSITY_LIMITS
    for model in roofline_ui.MODELS:
        for batch in (1, 256):
            intensities = [p.intensity for p in core_points(model, batch, 32) if p.flops]
            intensities += [p.intensity for p in core_points(model, batch, 4) if p.flops]
            assert low <= min(intensities) and max(intensities) <= high, model


def test_roofs_are_measured_once_when_not_given(monkeypatch):
    timing = summarize([0.01], total_s=0.01)
    measured = MachinePeaks(gflops=50.0, bandwidth_gbs=5.0, matmul=timing, copy=timing)
    budgets = []
    monkeypatch.setattr(
        roofline_ui, "machine_peaks", lambda budget_s: budgets.append(budget_s) or measured
    )
    ex = RooflineExplorer(batch=2)
    assert budgets == [roofline_ui.PEAKS_BUDGET_S] == [1.0]
    assert ex.peaks is measured
    assert ex.readouts["roofs"] == "measured here"
    assert ex.readouts["ridge_point"] == 10.0
    assert any(t.get_text().startswith("roofs measured here") for t in ex.ax.texts)


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ({"batch": 3}, ValueError, "unknown batch 3; choose one of: 1, 2, 4"),
        ({"bits": 2}, ValueError, "unknown bits 2; choose one of: 32, 16, 8, 4"),
        (
            {"model": "resnet1000"},
            KeyError,
            "unknown model 'resnet1000'; choose one of: 'resnet18'",
        ),
    ],
)
def test_bad_values_name_the_parameter_and_keep_the_view(explorer, values, error, match):
    readouts = explorer.readouts
    with pytest.raises(error, match=match):
        explorer.set(**values)
    assert explorer.readouts == readouts


def test_peaks_must_be_machine_peaks():
    with pytest.raises(TypeError, match="peaks must be a MachinePeaks or None, got dict"):
        RooflineExplorer(peaks={"gflops": 100})


def test_random_settings_never_raise(explorer):
    def check(values):
        assert explorer.message == ""
        assert 0 < explorer.readouts["memory_bound_layers"] < 1
        assert 0 <= explorer.readouts["memory_bound_macs"] < 1

    check_random_settings(explorer, check)
