"""Batch, layer, instance and group norm: which numbers share one mean and one variance.

All four compute y = (x - mean) / sqrt(var + eps), then (if affine) y * scale + shift, on an
input of shape (N, C, H, W). They differ only in the block of the input one mean and variance
are taken over (Wu and He, "Group Normalization", ECCV 2018, figure 2):

    batch norm      one channel c:                      all N samples x all H x W positions
    layer norm      one sample n:                       all C channels x all H x W positions
    instance norm   one sample n and one channel c:     all H x W positions
    group norm      one sample n and one group of C/G channels: those channels x all H x W

Every block spans all H x W positions, so which block an element belongs to depends on its
(sample, channel) pair alone: `statistic_ids` gives that map, and `normalize` computes the
output from it by hand (the tests compare it with the torch modules in training mode).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .layers import LayerCost, layer_cost
from .validate import check_choice, check_int, check_shape


@dataclass(frozen=True)
class Normalization:
    """One kind of normalization, in words."""

    kind: str
    title: str
    averages_over: str  # the axes of (N, C, H x W) one mean is taken over
    one_statistic_per: str  # what gets its own mean and variance


NORMALIZATIONS: dict[str, Normalization] = {
    norm.kind: norm
    for norm in (
        Normalization("batch", "batch norm", "N, H x W", "channel"),
        Normalization("layer", "layer norm", "C, H x W", "sample"),
        Normalization("instance", "instance norm", "H x W", "sample and channel"),
        Normalization("group", "group norm", "C/G channels of a group, H x W",
                      "sample and group of channels"),
    )
}  # fmt: skip


def _check(kind: str, input_shape: Sequence[int], num_groups: int) -> tuple[int, int, int, int]:
    check_choice("normalization kind", kind, NORMALIZATIONS)
    shape = check_shape("input_shape", input_shape, ndim=4)
    num_groups = check_int("num_groups", num_groups)
    channels = shape[1]
    if kind == "group" and channels % num_groups:
        raise ValueError(f"channels ({channels}) must be divisible by num_groups ({num_groups})")
    return shape


def statistic_ids(kind: str, batch: int, channels: int, num_groups: int = 1) -> np.ndarray:
    """A (batch, channels) int array: which mean and variance each (sample, channel) slice of
    H x W numbers is normalized with, numbered 0, 1, ... row by row.

    num_groups is used by group norm only (G; C must be divisible by it).
    """
    _check(kind, (batch, channels, 1, 1), num_groups)
    sample = np.arange(batch)[:, None]
    channel = np.arange(channels)[None, :]
    if kind == "batch":
        ids = channel + 0 * sample
    elif kind == "layer":
        ids = sample + 0 * channel
    elif kind == "instance":
        ids = sample * channels + channel
    else:
        ids = sample * num_groups + channel // (channels // num_groups)
    return ids


@dataclass(frozen=True)
class NormalizationView:
    """What one normalization does to an (N, C, H, W) input."""

    kind: str
    input_shape: tuple[int, int, int, int]
    num_groups: int
    ids: np.ndarray  # (N, C): the statistic of each (sample, channel) slice
    cost: LayerCost  # params of the torch module `torch_module` builds

    @property
    def statistics(self) -> int:
        """How many means (and as many variances) the layer computes."""
        return int(self.ids.max()) + 1

    @property
    def elements_per_statistic(self) -> int:
        """How many input numbers each mean is taken over."""
        return math.prod(self.input_shape) // self.statistics

    @property
    def torch_call(self) -> str:
        """The torch module, as code."""
        _, channels, height, width = self.input_shape
        return {
            "batch": f"nn.BatchNorm2d({channels})",
            "layer": f"nn.LayerNorm([{channels}, {height}, {width}])",
            "instance": f"nn.InstanceNorm2d({channels})",
            "group": f"nn.GroupNorm({self.num_groups}, {channels})",
        }[self.kind]


def normalization(kind: str, input_shape: Sequence[int], num_groups: int = 1) -> NormalizationView:
    """Which numbers of an (N, C, H, W) input share a mean, and the params of the torch module
    (torch's defaults: instance norm has affine=False, so no params)."""
    batch, channels, height, width = _check(kind, input_shape, num_groups)
    shape = (batch, channels, height, width)
    arguments = {
        "batch": ("batchnorm2d", {"num_features": channels}),
        "layer": ("layernorm", {"normalized_shape": (channels, height, width)}),
        "instance": ("instancenorm2d", {"num_features": channels}),
        "group": ("groupnorm", {"num_groups": num_groups, "num_channels": channels}),
    }
    layer_kind, hyper_params = arguments[kind]
    return NormalizationView(
        kind=kind,
        input_shape=shape,
        num_groups=num_groups,
        ids=statistic_ids(kind, batch, channels, num_groups),
        cost=layer_cost(layer_kind, input_shape=shape, **hyper_params),
    )


def torch_module(kind: str, input_shape: Sequence[int], num_groups: int = 1) -> nn.Module:
    """The torch module of this kind for an (N, C, H, W) input, with torch's defaults."""
    _, channels, height, width = _check(kind, input_shape, num_groups)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.LayerNorm([channels, height, width])
    if kind == "instance":
        return nn.InstanceNorm2d(channels)
    return nn.GroupNorm(num_groups, channels)


def normalize(x: torch.Tensor, kind: str, num_groups: int = 1, eps: float = 1e-5) -> torch.Tensor:
    """(x - mean) / sqrt(var + eps), each mean and (biased) variance taken over the numbers
    statistic_ids gives the same id: what the torch module computes in training mode, before
    its scale and shift (1 and 0 when it is created)."""
    batch, channels, _, _ = _check(kind, x.shape, num_groups)
    ids = torch.from_numpy(statistic_ids(kind, batch, channels, num_groups))
    flat = x.flatten(2)  # (N, C, H*W)
    index = ids[:, :, None].expand_as(flat).reshape(-1)
    count = flat.numel() // (int(ids.max()) + 1)
    sums = torch.zeros(int(ids.max()) + 1, dtype=x.dtype).index_add_(0, index, flat.reshape(-1))
    mean = (sums / count)[index]
    centred = flat.reshape(-1) - mean
    squares = torch.zeros_like(sums).index_add_(0, index, centred**2)
    variance = (squares / count)[index]
    return (centred / torch.sqrt(variance + eps)).reshape(x.shape)
