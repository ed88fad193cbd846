"""effml-widgets: interactive, tested labs for the basics of efficient deep learning.

`import widgets` is light: each public name is imported from its module on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # activations (lab 1)
    "ACTIVATIONS": "widgets.core.activations",
    "Activation": "widgets.core.activations",
    "get_activation": "widgets.core.activations",
    "dying_relu": "widgets.core.activations",
    "DyingReluResult": "widgets.core.activations",
    # layer formulas (lab 2)
    "LAYER_FORMULAS": "widgets.core.layers",
    "LayerCost": "widgets.core.layers",
    "layer_cost": "widgets.core.layers",
    # model profiler (labs 2, 4, 5)
    "Profile": "widgets.core.profiler",
    "LayerRow": "widgets.core.profiler",
    "profile": "widgets.core.profiler",
    "meta_model": "widgets.core.profiler",
    "meta_profile": "widgets.core.profiler",
    # transformer cost (lab 3)
    "TransformerCost": "widgets.core.transformer",
    "transformer_cost": "widgets.core.transformer",
    # sizes and units (lab 5)
    "BIT_WIDTHS": "widgets.core.units",
    "model_size_bytes": "widgets.core.units",
    "format_bytes": "widgets.core.units",
    "format_count": "widgets.core.units",
    # measurement (lab 4)
    "Timing": "widgets.core.latency",
    "measure_latency": "widgets.core.latency",
    "throughput_sweep": "widgets.core.latency",
    "ENERGY_TABLE": "widgets.core.energy",
    "table_pj": "widgets.core.energy",
    "EnergyEstimate": "widgets.core.energy",
    "estimate_energy": "widgets.core.energy",
    "MachinePeaks": "widgets.core.roofline",
    "machine_peaks": "widgets.core.roofline",
    "roofline": "widgets.core.roofline",
    "achieved_performance": "widgets.core.roofline",
    # explorers, and how they draw
    "display_options": "widgets.ui.render",
    "DisplayOptions": "widgets.ui.render",
    "ActivationExplorer": "widgets.ui.activation",
    "LayerExplorer": "widgets.ui.layer",
    "AttentionExplorer": "widgets.ui.attention",
    "MemoryExplorer": "widgets.ui.memory",
    "LatencyExplorer": "widgets.ui.latency",
    "EnergyExplorer": "widgets.ui.energy",
    "RooflineExplorer": "widgets.ui.roofline",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
