"""Popular CNNs side by side (lab 5): params, MACs, model size, peak activation and latency.

Counts come from `profile()` of each model built on the meta device (torchvision, weights=None:
nothing is downloaded or allocated); latency is measured on this CPU by `measure_latency` on the
model built with random weights (the values of the weights do not change the time).

torchvision's `alexnet` is not the network of Krizhevsky, Sutskever and Hinton (NeurIPS 2012)
that the lecture counts. That one ran on two GPUs: each of its 2nd, 4th and 5th convolutions
sees only the half of the channels on its own GPU (a grouped convolution with groups=2), and its
layers are wider (96, 256, 384, 384, 256 channels) on a 227 x 227 input. torchvision follows the
single-tower variant of "One weird trick" (Krizhevsky, 2014): 64, 192, 384, 256, 256 channels,
no groups. `original_alexnet()` builds the two-GPU network, so its ~724 M MACs are computed too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from torch import nn

from .latency import Timing, measure_latency
from .profiler import meta_profile
from .units import BIT_WIDTHS, model_size_bytes
from .validate import check_choice, check_int, check_number

__all__ = [
    "ORIGINAL_ALEXNET_INPUT",
    "POPULAR_CNNS",
    "CNNRow",
    "PopularCNN",
    "measure_cnn_latency",
    "original_alexnet",
    "popular_cnn_table",
]


def original_alexnet(num_classes: int = 1000) -> nn.Sequential:
    """AlexNet as published in 2012 (two GPUs, their halves joined by groups=2), for 227 x 227.

    Layers as in the paper's figure 2 (the local response normalization, which has no params
    and no MACs, left out): conv 96 11x11/4, max pool, conv 256 5x5 (groups 2), max pool,
    conv 384 3x3, conv 384 3x3 (groups 2), conv 256 3x3 (groups 2), max pool, FC 4096, 4096, 1000.
    """
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), nn.ReLU(), nn.MaxPool2d(3, 2),           # 96 x 27 x 27
        nn.Conv2d(96, 256, 5, padding=2, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),  # 256 x 13 x 13
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),  # the layer where the two GPUs talk
        nn.Conv2d(384, 384, 3, padding=1, groups=2), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), nn.ReLU(), nn.MaxPool2d(3, 2),  # 256 x 6 x 6
        nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
        nn.Linear(4096, 4096), nn.ReLU(),
        nn.Linear(4096, num_classes),
    )  # fmt: skip


ORIGINAL_ALEXNET_INPUT = 227  # pixels: what makes the paper's 55 x 55 first feature maps


@dataclass(frozen=True)
class PopularCNN:
    """A network of the lecture, how to build it, and the figures published for it."""

    label: str
    build: str | Callable[[], nn.Module]  # a torchvision name (weights=None) or a builder
    published_params: float | None  # as published (None: not given there)
    published_macs: float | None
    source: str  # where the published figures come from
    resolution: int = 224  # the input side the published figures are for


POPULAR_CNNS: dict[str, PopularCNN] = {
    "alexnet": PopularCNN(
        "AlexNet (torchvision)", "alexnet", 61e6, None,
        "the lecture: 61 M params (its 724 M MACs are the original network's: next row)",
    ),
    "alexnet_2012": PopularCNN(
        "AlexNet (original, 2 GPUs)", original_alexnet, 61e6, 724e6,
        "the lecture: 61 M params, 724 M MACs", resolution=ORIGINAL_ALEXNET_INPUT,
    ),
    "vgg16": PopularCNN(
        "VGG-16", "vgg16", 138e6, None, "Simonyan & Zisserman 2015, table 2: 138 M params"
    ),
    "resnet18": PopularCNN(
        "ResNet-18", "resnet18", None, 1.8e9, "He et al. 2016, table 1: 1.8 G multiply-adds"
    ),
    "resnet50": PopularCNN(
        "ResNet-50", "resnet50", None, 3.8e9, "He et al. 2016, table 1: 3.8 G multiply-adds"
    ),
    "mobilenet_v2": PopularCNN(
        "MobileNetV2", "mobilenet_v2", 3.4e6, 300e6,
        "Sandler et al. 2018, table 4: 3.4 M params, 300 M multiply-adds",
    ),
}  # fmt: skip


@dataclass(frozen=True)
class CNNRow:
    """One network of the table. Bytes are at the stated bit widths; MACs for one image."""

    name: str
    label: str
    resolution: int
    params: int
    macs: int
    size_32bit_bytes: float  # weights at 32 bits
    size_8bit_bytes: float  # weights at 8 bits
    peak_activation_bytes: float  # inference, batch 1, at the table's activation bits
    peak_layer: str
    published_params: float | None
    published_macs: float | None
    source: str


def popular_cnn_table(
    names: tuple[str, ...] | None = None, activation_bits: int = 32
) -> list[CNNRow]:
    """One CNNRow per network of POPULAR_CNNS (or of `names`), counted on the meta device at the
    resolution its published figures are for, batch 1."""
    names = tuple(POPULAR_CNNS) if names is None else names
    check_choice("activation_bits", activation_bits, BIT_WIDTHS)
    rows = []
    for name in names:
        cnn = POPULAR_CNNS[check_choice("name", name, POPULAR_CNNS)]
        size = (1, 3, cnn.resolution, cnn.resolution)
        prof = meta_profile(cnn.build, size, bits=32, activation_bits=activation_bits)
        rows.append(
            CNNRow(
                name=name,
                label=cnn.label,
                resolution=cnn.resolution,
                params=prof.params,
                macs=prof.macs,
                size_32bit_bytes=model_size_bytes(prof.params, bits=32),
                size_8bit_bytes=model_size_bytes(prof.params, bits=8),
                peak_activation_bytes=prof.peak_activation_bytes,
                peak_layer=prof.peak_layer,
                published_params=cnn.published_params,
                published_macs=cnn.published_macs,
                source=cnn.source,
            )
        )
    return rows


def measure_cnn_latency(name: str, budget_s: float = 0.3, min_runs: int = 3) -> Timing:
    """Latency of one image (batch 1) through a POPULAR_CNNS network on this CPU, measured.

    The model is built with random weights (weights=None), timed, and dropped again: VGG-16
    alone holds 528 MiB of weights.
    """
    cnn = POPULAR_CNNS[check_choice("name", name, POPULAR_CNNS)]
    check_number("budget_s", budget_s)
    check_int("min_runs", min_runs)
    model = cnn.build() if callable(cnn.build) else _torchvision_model(cnn.build)
    size = (1, 3, cnn.resolution, cnn.resolution)
    return measure_latency(model, input_size=size, budget_s=budget_s, warmup=1, min_runs=min_runs)


def _torchvision_model(name: str) -> nn.Module:
    """A torchvision model with random weights on the CPU (the same architecture as meta_model)."""
    import torchvision  # here, not at the top: only callers that time a model pay for it

    return torchvision.models.get_model(name, weights=None)
