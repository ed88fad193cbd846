"""LatencyExplorer (lab 4): latency vs throughput, measured on this CPU.

A bigger batch takes longer (latency per batch goes up) but uses the cores better (samples per
second go up), until the cores are busy and throughput saturates: serving trades one against
the other. Timings come from widgets.core.latency.measure_latency (warm-up, then the median and
the 10th/90th percentiles of many runs).

Measuring is slow, so the explorer measures only when asked and never twice for nothing:
- the sliders act when released (continuous_update=False); a setting (model, batch, threads) is
  measured the first time it is shown (about `budget_s` = 0.3 s), then kept in `timings`;
- "Measure sweep" (re)measures every batch size for the current model and threads, about 0.3 s
  each, showing progress between points. A sweep stops after `sweep_budget_s` = 3 s (on a slow
  machine or model); the batch sizes it did not reach are measured when chosen.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import ipywidgets
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from torch import nn

from widgets.core.latency import Timing, measure_latency
from widgets.core.validate import check_number
from widgets.core.vision_models import TorchvisionModel

from . import style
from .base import Explorer, log_limits, set_limits

BATCHES = (1, 2, 4, 8, 16, 32, 64)
POINT_BUDGET_S = 0.3  # timing budget per setting; a sweep of BATCHES takes about 7 x this
# At least 1 + 3 forward passes per setting, even when one pass is slower than the budget: enough
# for a median and a spread, few enough that a slow model keeps the sweep short.
WARMUP_RUNS, MIN_RUNS = 1, 3
SWEEP_BUDGET_S = 3.0  # a sweep measures no new batch size after this many seconds


@dataclass(frozen=True)
class LatencyModel:
    """A model to time, and the shape of one sample (no batch dimension)."""

    label: str
    build: Callable[[], nn.Module]
    sample_shape: tuple[int, ...]


def _mlp() -> nn.Module:
    return nn.Sequential(
        nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)
    )


def _cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 10),
    )  # fmt: skip


def _transformer() -> nn.Module:
    layer = nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=512, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)


# Small inputs (32 x 32 images, 64 tokens) keep a batch-64 forward well under a second on 2 cores.
MODELS = {
    "mlp": LatencyModel("MLP 784-1024-1024-10", _mlp, (784,)),
    "cnn": LatencyModel("small CNN, 3×32×32", _cnn, (3, 32, 32)),
    "resnet18": LatencyModel(
        "ResNet-18, 3×32×32", TorchvisionModel("resnet18", num_classes=10),
        (3, 32, 32),
    ),
    "mobilenet_v2": LatencyModel(
        "MobileNetV2, 3×32×32", TorchvisionModel("mobilenet_v2", num_classes=10),
        (3, 32, 32),
    ),
    "transformer": LatencyModel("Transformer encoder, 2 layers, 64×128", _transformer, (64, 128)),
}  # fmt: skip


@functools.cache
def _built(build: Callable[[], nn.Module]) -> nn.Module:
    """The model `build()` returns (random weights, CPU), built once per session."""
    return build()


@dataclass(frozen=True)
class LatencyView:
    """The measured timings of one model and thread count, and the current setting's."""

    batches: list[int]
    timings: list[Timing]
    current: Timing
    # axis limits holding every timing measured so far, of any model: switching models moves
    # the curves on fixed axes, and the figure is redrawn in full only when a point falls out
    latency_limits_ms: tuple[float, float]
    throughput_limits: tuple[float, float]


class LatencyExplorer(Explorer):
    """Latency and throughput of a small model against batch size, measured here.

    LatencyExplorer(model="resnet18", batch=16, threads=1)
    `models` replaces the model choices; `budget_s` is the timing budget per setting and
    `sweep_budget_s` the time after which a sweep stops (seconds).
    """

    cache_size = 0  # measured results are kept in `timings`, and re-measured on request
    readout_labels: ClassVar[dict[str, str]] = {
        "median_ms": "latency per batch, median (ms)",
        "p10_ms": "latency, 10th percentile (ms)",
        "p90_ms": "latency, 90th percentile (ms)",
        "throughput": "throughput (samples/s) = batch / median",
        "runs": "timed runs",
    }
    panel_widths = (1, 1)

    def __init__(
        self,
        *,
        models: Mapping[str, LatencyModel] | None = None,
        budget_s: float = POINT_BUDGET_S,
        sweep_budget_s: float = SWEEP_BUDGET_S,
        **values: Any,
    ) -> None:
        self.models = dict(MODELS if models is None else models)
        if not self.models or not all(isinstance(m, LatencyModel) for m in self.models.values()):
            raise TypeError(f"models must map names to LatencyModel objects, got {models!r}")
        self.budget_s = check_number("budget_s", budget_s)
        self.sweep_budget_s = check_number("sweep_budget_s", sweep_budget_s)
        self.timings: dict[tuple[str, int, int], Timing] = {}  # (model, threads, batch) -> timing
        self._queued: tuple[int, ...] = ()  # batch sizes the next update must (re)measure
        self.sweep_button = ipywidgets.Button(
            description="Measure sweep", tooltip=f"measure every batch size in {BATCHES}"
        )
        self.sweep_button.on_click(lambda _: self.measure_sweep())
        self.progress = ipywidgets.IntProgress(min=0, max=1, value=0)
        self.status = ipywidgets.Label()
        super().__init__(**values)

    def make_controls(self) -> dict[str, ipywidgets.ValueWidget]:
        cores = os.cpu_count() or 1
        return {
            "model": ipywidgets.Dropdown(
                options=[(m.label, name) for name, m in self.models.items()], description="model"
            ),
            "batch": ipywidgets.SelectionSlider(
                options=BATCHES, value=8, description="batch", continuous_update=False
            ),
            "threads": ipywidgets.IntSlider(
                value=1, min=1, max=cores,  # 1 thread: the most repeatable timing
                description="threads", continuous_update=False,
            ),
        }  # fmt: skip

    def arrange_controls(self, shown: dict[str, ipywidgets.ValueWidget]) -> ipywidgets.Widget:
        measuring = ipywidgets.HBox([self.sweep_button, self.progress, self.status])
        return ipywidgets.VBox([super().arrange_controls(shown), measuring])

    def make_figure(self, latency_figure: Figure, throughput_figure: Figure) -> None:
        self.latency_ax = latency_figure.add_subplot(
            ylabel="latency per batch (ms)", title="Latency: median, p10–p90"
        )
        self.throughput_ax = throughput_figure.add_subplot(
            ylabel="throughput (samples/s)", title="Throughput = batch / median"
        )
        for ax in (self.latency_ax, self.throughput_ax):
            # limits with the widest tick labels the data can give: the margins fit them
            ax.set(xscale="log", yscale="log", xlabel="batch size (○: the chosen one)",
                   xlim=(0.7, 90), ylim=(0.01, 1e5))  # fmt: skip
            ax.set_xticks(BATCHES, [str(b) for b in BATCHES])
            ax.minorticks_off()
        colour = style.LATENCY_COLOUR
        # labels name the series in the text alternative (the titles say what they are)
        (self.latency_line,) = self.latency_ax.plot(
            [], [], "o-", color=colour, label="median", animated=True
        )
        self.spread = self.latency_ax.add_collection(
            LineCollection([], color=colour, linewidth=4, alpha=0.35, label="p10 to p90",
                           animated=True)
        )  # fmt: skip
        (self.throughput_line,) = self.throughput_ax.plot(
            [], [], "o-", color=colour, label="throughput", animated=True
        )
        # a ring around the chosen batch's point (the x label says so: a legend key would look
        # like one more measured point)
        self.current_markers = [
            ax.plot([], [], "o", markersize=11, markerfacecolor="none", markeredgewidth=2,
                    color=style.CURRENT_COLOUR, label="the chosen batch", animated=True)[0]
            for ax in (self.latency_ax, self.throughput_ax)
        ]  # fmt: skip

    def measure_sweep(self) -> None:
        """(Re)measure every batch size for the current model and threads, then show them."""
        model, threads = self.controls["model"].value, self.controls["threads"].value
        for batch in BATCHES:
            self.timings.pop((model, threads, batch), None)
        self._queued = BATCHES
        self.update()

    def compute(self, model: str, batch: int, threads: int) -> LatencyView:
        queued, self._queued = self._queued, ()
        # the current batch first: a sweep cut short by its budget still has it
        missing = [
            b for b in dict.fromkeys((batch, *queued)) if (model, threads, b) not in self.timings
        ]
        self._measure(model, threads, missing)
        batches = sorted(b for m, t, b in self.timings if (m, t) == (model, threads))
        every = self.timings.values()
        return LatencyView(
            batches=batches,
            timings=[self.timings[model, threads, b] for b in batches],
            current=self.timings[model, threads, batch],
            latency_limits_ms=log_limits(
                [t.p10_s * 1e3 for t in every] + [t.p90_s * 1e3 for t in every]
            ),
            throughput_limits=log_limits([t.throughput for t in every]),
        )

    def _measure(self, model: str, threads: int, batches: list[int]) -> None:
        """Time `model` at each batch size into `timings`, showing progress between points.

        The first batch size is always measured; the others only within the sweep budget.
        """
        if not batches:
            return
        chosen = self.models[model]
        network = _built(chosen.build)
        self.sweep_button.disabled = True  # clicks would queue up while the kernel is busy
        self.progress.max, self.progress.value = len(batches), 0
        start, done = time.perf_counter(), 0
        try:
            for batch in batches:
                if done and time.perf_counter() - start > self.sweep_budget_s:
                    break
                self.status.value = f"measuring batch {batch} ({done + 1} of {len(batches)})…"
                self.timings[model, threads, batch] = measure_latency(
                    network,
                    input_size=(batch, *chosen.sample_shape),
                    budget_s=self.budget_s,
                    warmup=WARMUP_RUNS,
                    threads=threads,
                    min_runs=MIN_RUNS,
                )
                done += 1
                self.progress.value = done
        finally:
            self.sweep_button.disabled = False
            seconds = time.perf_counter() - start
            rest = "" if done == len(batches) else "; the others are measured when chosen"
            self.status.value = f"measured {done} of {len(batches)} here in {seconds:.1f} s{rest}"

    def summarize(self, view: LatencyView) -> dict[str, Any]:
        current = view.current
        return {
            "median_ms": current.median_s * 1e3,
            "p10_ms": current.p10_s * 1e3,
            "p90_ms": current.p90_s * 1e3,
            "throughput": current.throughput,
            "runs": current.runs,
        }

    def draw(self, view: LatencyView) -> None:
        self.latency_line.set_data(view.batches, [t.median_s * 1e3 for t in view.timings])
        self.spread.set_segments(
            [
                [(b, t.p10_s * 1e3), (b, t.p90_s * 1e3)]
                for b, t in zip(view.batches, view.timings, strict=True)
            ]
        )
        self.throughput_line.set_data(view.batches, [t.throughput for t in view.timings])
        current = view.current
        latency_now, throughput_now = self.current_markers
        latency_now.set_data([current.batch], [current.median_s * 1e3])
        throughput_now.set_data([current.batch], [current.throughput])
        set_limits(self.latency_ax, ylim=view.latency_limits_ms)
        set_limits(self.throughput_ax, ylim=view.throughput_limits)
