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
    "receptive_field": "widgets.core.receptive_field",
    "receptive_field_size": "widgets.core.receptive_field",
    "stack_receptive_field": "widgets.core.receptive_field",
    "layers_to_see_all": "widgets.core.receptive_field",
    "NORMALIZATIONS": "widgets.core.normalization",
    "normalization": "widgets.core.normalization",
    "normalize": "widgets.core.normalization",
    # model profiler (labs 2, 4, 5)
    "Profile": "widgets.core.profiler",
    "LayerRow": "widgets.core.profiler",
    "profile": "widgets.core.profiler",
    "meta_model": "widgets.core.profiler",
    "meta_profile": "widgets.core.profiler",
    # popular CNNs side by side (lab 5)
    "POPULAR_CNNS": "widgets.core.popular_cnns",
    "popular_cnn_table": "widgets.core.popular_cnns",
    "measure_cnn_latency": "widgets.core.popular_cnns",
    "original_alexnet": "widgets.core.popular_cnns",
    # transformer cost (lab 3)
    "TransformerConfig": "widgets.core.transformer",
    "TransformerCost": "widgets.core.transformer",
    "build_vocabulary": "widgets.core.tokens",
    "text_to_vectors": "widgets.core.tokens",
    "sinusoidal_positional_encoding": "widgets.core.tokens",
    "causal_mask": "widgets.core.tokens",
    "attention_weights": "widgets.core.tokens",
    "transformer_cost": "widgets.core.transformer",
    # sizes and units (lab 5)
    "BIT_WIDTHS": "widgets.core.units",
    "model_size_bytes": "widgets.core.units",
    "flops_from_macs": "widgets.core.units",
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
    "ReceptiveFieldExplorer": "widgets.ui.receptive_field",
    "NormalizationExplorer": "widgets.ui.normalization",
    "AttentionExplorer": "widgets.ui.attention",
    "AttentionWeightsExplorer": "widgets.ui.attention_weights",
    "PositionalEncodingExplorer": "widgets.ui.positional_encoding",
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
