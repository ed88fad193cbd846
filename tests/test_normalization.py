"""The four normalizations against torch: the axes each one averages over, and its params."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from widgets.core.normalization import (
    NORMALIZATIONS,
    normalization,
    normalize,
    statistic_ids,
    torch_module,
)

SHAPE = (4, 6, 5, 3)  # N, C, H, W: every axis a different size, so no two kinds coincide
CASES = [("batch", 1), ("layer", 1), ("instance", 1), ("group", 1), ("group", 2), ("group", 3),
         ("group", 6)]  # fmt: skip


def by_hand(x: torch.Tensor, axes: tuple[int, ...]) -> torch.Tensor:
    """(x - mean) / sqrt(var + eps) over `axes`, written out with torch's reductions."""
    mean = x.mean(dim=axes, keepdim=True)
    variance = x.var(dim=axes, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(variance + 1e-5)


# the axes of (N, C, H, W) the lecture says each kind averages over
CLAIMED_AXES = {"batch": (0, 2, 3), "layer": (1, 2, 3), "instance": (2, 3)}


@pytest.mark.parametrize(("kind", "groups"), CASES)
def test_normalize_is_what_the_torch_module_computes_in_training_mode(kind, groups):
    torch.manual_seed(0)
    x = torch.randn(SHAPE, dtype=torch.float64) * 3 + torch.arange(6.0)[None, :, None, None]
    module = torch_module(kind, SHAPE, groups).double().train()
    assert_close(normalize(x, kind, groups), module(x))
    if kind in CLAIMED_AXES:
        assert_close(module(x), by_hand(x, CLAIMED_AXES[kind]))
    else:  # group norm: split C into G groups of C/G channels, average over them and H x W
        n, c, h, w = SHAPE
        grouped = by_hand(x.reshape(n, groups, c // groups, h, w), (2, 3, 4)).reshape(SHAPE)
        assert_close(module(x), grouped)


def test_each_kind_averages_over_a_different_block():
    torch.manual_seed(0)
    x = torch.randn(SHAPE, dtype=torch.float64)
    # G = 1 is layer norm and G = C instance norm: the other five blocks all differ
    distinct = [case for case in CASES if case not in (("group", 1), ("group", 6))]
    outputs = [normalize(x, kind, groups) for kind, groups in distinct]
    for i, first in enumerate(outputs):
        for second in outputs[i + 1 :]:
            assert not torch.allclose(first, second)
    assert_close(normalize(x, "group", 1), normalize(x, "layer"))
    assert_close(normalize(x, "group", 6), normalize(x, "instance"))


@pytest.mark.parametrize(("kind", "groups"), CASES)
def test_counts_and_params_are_those_of_the_torch_module(kind, groups):
    view = normalization(kind, SHAPE, groups)
    module = torch_module(kind, SHAPE, groups)
    assert view.cost.params == sum(p.numel() for p in module.parameters())
    assert view.torch_call.startswith(f"nn.{type(module).__name__}(")
    n, c, h, w = SHAPE
    statistics = {"batch": c, "layer": n, "instance": n * c, "group": n * groups}[kind]
    assert view.statistics == statistics
    assert view.elements_per_statistic * statistics == n * c * h * w


def test_params_differ_as_in_torch():
    _, c, h, w = SHAPE
    params = {kind: normalization(kind, SHAPE, 2).cost.params for kind in NORMALIZATIONS}
    assert params == {"batch": 2 * c, "layer": 2 * c * h * w, "instance": 0, "group": 2 * c}


def test_statistic_ids_by_hand():
    assert statistic_ids("batch", 2, 3).tolist() == [[0, 1, 2], [0, 1, 2]]
    assert statistic_ids("layer", 2, 3).tolist() == [[0, 0, 0], [1, 1, 1]]
    assert statistic_ids("instance", 2, 3).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert statistic_ids("group", 2, 4, 2).tolist() == [[0, 0, 1, 1], [2, 2, 3, 3]]
    assert np.unique(statistic_ids("group", 3, 8, 4)).tolist() == list(range(12))


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        (dict(kind="weight", input_shape=SHAPE), ValueError, "unknown normalization kind"),
        (dict(kind="group", input_shape=SHAPE, num_groups=4), ValueError, r"channels \(6\) must"),
        (dict(kind="batch", input_shape=(4, 6, 5)), ValueError, "must have 4 dimensions"),
        (dict(kind="group", input_shape=SHAPE, num_groups=0), ValueError, "num_groups must be"),
        (dict(kind="batch", input_shape=SHAPE, num_groups=1.0), TypeError, "num_groups must be"),
    ],
)
def test_bad_input_names_the_parameter(arguments, error, match):
    with pytest.raises(error, match=match):
        normalization(**arguments)
