"""LatencyExplorer shows what measure_latency measured; tiny models keep this independent of speed."""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
from helpers import check_random_settings
from torch import nn

import widgets
import widgets.ui.latency as latency_ui
from widgets.ui.latency import BATCHES, LatencyExplorer, LatencyModel

BUDGET_S = 0.002  # per setting: a tiny model runs thousands of times in that


def _mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


class FailsAbove4(nn.Module):
    def forward(self, x):
        if x.shape[0] > 4:
            raise RuntimeError("batch too big for this test model")
        return x


TINY = {
    "linear": LatencyModel("Linear 8 → 4", functools.partial(nn.Linear, 8, 4), (8,)),
    "mlp": LatencyModel("MLP 8-16-4", _mlp, (8,)),
}


def tiny_explorer(**values) -> LatencyExplorer:
    return LatencyExplorer(models=TINY, budget_s=BUDGET_S, **values)


@pytest.fixture(scope="module")
def explorer() -> LatencyExplorer:
    return tiny_explorer()


@pytest.fixture
def record_measurements(monkeypatch):
    """record(ex): patch measure_latency to list each call's batch and the progress shown then."""

    def record(ex: LatencyExplorer) -> list[dict]:
        calls = []
        measure_latency = latency_ui.measure_latency

        def measure(model, input_size, **kwargs):
            calls.append(
                {"batch": input_size[0], "progress": ex.progress.value, "status": ex.status.value}
            )
            return measure_latency(model, input_size=input_size, **kwargs)

        monkeypatch.setattr(latency_ui, "measure_latency", measure)
        return calls

    return record


def xy(line) -> tuple[list, list]:
    return list(line.get_xdata()), list(line.get_ydata())


def test_readouts_are_the_timing_of_the_current_setting():
    ex = tiny_explorer(model="mlp", batch=16)
    timing = ex.timings["mlp", 1, 16]
    assert (timing.batch, timing.threads) == (16, 1)
    assert ex.message == ""
    assert ex.readouts == {
        "median_ms": timing.median_s * 1e3,
        "p10_ms": timing.p10_s * 1e3,
        "p90_ms": timing.p90_s * 1e3,
        "throughput": 16 / timing.median_s,
        "runs": timing.runs,
    }
    assert timing.runs >= latency_ui.MIN_RUNS
    assert timing.p10_s <= timing.median_s <= timing.p90_s
    assert xy(ex.latency_line) == ([16], [timing.median_s * 1e3])
    assert xy(ex.throughput_line) == ([16], [16 / timing.median_s])
    assert xy(ex.current_markers[1]) == ([16], [16 / timing.median_s])
    spread = ex.spread.get_segments()[0]
    assert spread.tolist() == [[16, timing.p10_s * 1e3], [16, timing.p90_s * 1e3]]
    assert "throughput (samples/s) = batch / median" in ex.widget.children[3].value


def test_sliders_act_when_released_not_while_dragged(explorer):
    assert explorer.controls["batch"].continuous_update is False
    assert explorer.controls["threads"].continuous_update is False
    assert explorer.controls["threads"].max == (os.cpu_count() or 1)
    assert explorer.cache_size == 0


def test_the_sweep_button_and_progress_sit_under_the_controls():
    ex = tiny_explorer(hide=["threads"])
    controls, measuring = ex.widget.children[0].children
    assert ex.controls["threads"] not in controls.children
    assert ex.controls["batch"] in controls.children
    assert list(measuring.children) == [ex.sweep_button, ex.progress, ex.status]
    assert ex.status.value.startswith("measured 1 of 1 here in ")


def test_sweep_measures_every_batch_with_progress(record_measurements):
    ex = tiny_explorer(batch=8)
    calls = record_measurements(ex)
    figure = ex.figure
    ex.measure_sweep()
    assert [c["batch"] for c in calls] == [8, 1, 2, 4, 16, 32, 64]  # the current batch first
    assert [c["progress"] for c in calls] == list(range(7))
    assert calls[2]["status"] == "measuring batch 2 (3 of 7)…"
    assert ex.progress.value == ex.progress.max == 7
    assert ex.status.value.startswith("measured 7 of 7 here in ")
    assert not ex.sweep_button.disabled
    assert ex.figure is figure
    timings = [ex.timings["linear", 1, b] for b in BATCHES]
    assert xy(ex.latency_line) == (list(BATCHES), [t.median_s * 1e3 for t in timings])
    assert xy(ex.throughput_line) == (
        list(BATCHES),
        [b / t.median_s for b, t in zip(BATCHES, timings, strict=True)],
    )
    assert xy(ex.current_markers[0]) == ([8], [ex.timings["linear", 1, 8].median_s * 1e3])
    assert len(ex.spread.get_segments()) == 7


def test_a_setting_is_measured_once_and_the_sweep_re_measures(record_measurements):
    ex = tiny_explorer(batch=16)
    calls = record_measurements(ex)
    first = ex.timings["linear", 1, 16]
    ex.set(batch=32)
    ex.set(batch=16)
    assert [c["batch"] for c in calls] == [32]  # 16 was kept
    assert ex.timings["linear", 1, 16] is first
    assert ex.readouts["median_ms"] == first.median_s * 1e3
    ex.sweep_button.click()  # the button re-measures the current model and threads
    assert len(calls) == 1 + len(BATCHES)
    assert ex.timings["linear", 1, 16] is not first
    assert ex.readouts["median_ms"] == ex.timings["linear", 1, 16].median_s * 1e3


def test_a_sweep_stops_at_its_budget_but_keeps_the_current_batch():
    ex = LatencyExplorer(models=TINY, budget_s=BUDGET_S, sweep_budget_s=1e-9, batch=4)
    ex.measure_sweep()
    assert ex.message == ""
    assert list(ex.timings) == [("linear", 1, 4)]
    assert ex.status.value.endswith("; the others are measured when chosen")
    assert "measured 1 of 7" in ex.status.value


def test_models_and_threads_are_separate_settings():
    ex = tiny_explorer(model="mlp", batch=2)
    ex.set(model="linear")
    assert set(ex.timings) == {("mlp", 1, 2), ("linear", 1, 2)}
    assert xy(ex.latency_line)[0] == [2]  # only this model's points
    low, high = ex.latency_ax.get_ylim()  # but axes that hold every model's
    assert all(low <= t.p10_s * 1e3 and t.p90_s * 1e3 <= high for t in ex.timings.values())
    low, high = ex.throughput_ax.get_ylim()
    assert all(low <= t.throughput <= high for t in ex.timings.values())
    if (os.cpu_count() or 1) >= 2:
        ex.set(threads=2)
        assert ex.timings["linear", 2, 2].threads == 2
        assert ex.readouts["throughput"] == 2 / ex.timings["linear", 2, 2].median_s


def test_a_failing_model_shows_a_message_and_keeps_the_view():
    models = {**TINY, "fails": LatencyModel("fails above batch 4", FailsAbove4, (8,))}
    ex = LatencyExplorer(models=models, budget_s=BUDGET_S, model="fails", batch=4)
    readouts, ydata = ex.readouts, ex.latency_line.get_ydata().copy()
    ex.set(batch=8)
    assert ex.message == (
        "the model failed on inputs of shape (8, 8): batch too big for this test model"
    )
    assert ex.readouts == readouts
    assert np.array_equal(ex.latency_line.get_ydata(), ydata)
    assert not ex.sweep_button.disabled
    assert ex.status.value.startswith("measured 0 of 1 here")
    ex.set(batch=2)
    assert ex.message == ""


def test_too_little_memory_is_a_message_not_a_traceback(monkeypatch):
    ex = tiny_explorer(batch=1)
    monkeypatch.setattr(
        "widgets.core.memory_budget.psutil.virtual_memory",
        lambda: type("M", (), {"available": 100}),
    )
    ex.set(batch=64)
    assert ex.message.startswith("MemoryError: batch 64 at 8 needs about")
    assert ex.readouts["throughput"] == 1 / ex.timings["linear", 1, 1].median_s


@pytest.mark.parametrize(
    ("values", "error", "match"),
    [
        ({"batch": 3}, ValueError, "unknown batch 3; choose one of: 1, 2, 4"),
        ({"threads": 0}, ValueError, "threads must be between 1 and"),
        ({"model": "vgg"}, KeyError, "unknown model 'vgg'; choose one of: 'linear', 'mlp'"),
    ],
)
def test_bad_values_name_the_parameter(explorer, values, error, match):
    with pytest.raises(error, match=match):
        explorer.set(**values)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"budget_s": 0}, ValueError, "budget_s must be > 0, got 0"),
        ({"sweep_budget_s": -1.0}, ValueError, "sweep_budget_s must be > 0"),
        ({"models": {}}, TypeError, "models must map names to LatencyModel objects"),
        ({"models": {"a": nn.Linear(2, 2)}}, TypeError, "models must map names to LatencyModel"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        LatencyExplorer(**{"models": TINY, **kwargs})


def test_default_models_are_small_enough():
    """Every default choice does a batch of 64 in a few GMACs (counted on the meta device)."""
    for model in latency_ui.MODELS.values():
        prof = widgets.profile(
            widgets.meta_model(model.build), input_size=(64, *model.sample_shape)
        )
        assert prof.macs < 5e9, model.label  # ~0.1 s at 50 GMAC/s, 1 core


def test_random_settings_never_raise(explorer):
    def check(values):
        assert explorer.message == ""
        timing = explorer.timings[values["model"], values["threads"], values["batch"]]
        assert explorer.readouts["throughput"] == values["batch"] / timing.median_s

    check_random_settings(explorer, check)
