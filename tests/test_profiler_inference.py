"""The profiler's peak activation memory is that of an inference forward on real tensors.

An independent tracker follows every storage a real CPU forward under `torch.inference_mode()`
allocates (what the labs call inference) and takes the maximum of the live bytes; the profile,
traced on the meta device, must give the same peak for every model the labs and explorers use.
"""

from __future__ import annotations

import weakref

import pytest
import torch
import torchvision
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import widgets
from widgets.core.popular_cnns import POPULAR_CNNS
from widgets.core.units import MIB
from widgets.ui.energy import WORKLOADS as ENERGY_WORKLOADS
from widgets.ui.latency import MODELS as LATENCY_MODELS
from widgets.ui.memory import MODELS as MEMORY_MODELS
from widgets.ui.roofline import MODELS as ROOFLINE_MODELS

# the microcontroller table of lab 05 and the torchvision models labs 04 and 05 profile
LAB_MODELS = ("resnet18", "resnet50", "mobilenet_v2", "mobilenet_v3_small", "mnasnet0_5",
              "shufflenet_v2_x0_5", "squeezenet1_1")  # fmt: skip
TORCHVISION_MODELS = sorted(
    {*MEMORY_MODELS, *ROOFLINE_MODELS, *LAB_MODELS}
    | {cnn.build for cnn in POPULAR_CNNS.values() if isinstance(cnn.build, str)}
)
IMAGE = (1, 3, 224, 224)


class LiveBytesTracker(TorchDispatchMode):
    """Live bytes of the real storages a forward pass allocates (weights and buffers excluded),
    and their maximum; the inputs count from the start."""

    def __init__(self, inputs: list[torch.Tensor], weights: list[torch.Tensor]) -> None:
        super().__init__()
        self.seen = {t.untyped_storage().data_ptr() for t in weights}
        self.live = 0
        for tensor in inputs:
            self._add(tensor)
        self.peak = self.live

    def _add(self, tensor: torch.Tensor) -> None:
        storage = tensor.untyped_storage()
        pointer, nbytes = storage.data_ptr(), storage.nbytes()
        if pointer in self.seen or nbytes == 0:  # a view, an in-place result or a weight
            return
        self.seen.add(pointer)
        self.live += nbytes
        weakref.finalize(storage, self._free, pointer, nbytes)

    def _free(self, pointer: int, nbytes: int) -> None:
        self.seen.discard(pointer)
        self.live -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        # Under inference_mode composite ops (linear, batch_norm, attention...) reach the mode
        # whole; run their parts through it, as the meta forward does, to see every tensor
        # they allocate. max_pool2d runs whole, as the CPU runs it: one kernel that returns its
        # output only (the indices it computes are freed before it returns).
        if func is not torch.ops.aten.max_pool2d.default:
            with self:
                out = func.decompose(*args, **kwargs)
            if out is not NotImplemented:
                return out
        out = func(*args, **kwargs)
        for tensor in tree_flatten(out)[0]:
            if isinstance(tensor, torch.Tensor):
                self._add(tensor)
        self.peak = max(self.peak, self.live)
        return out


def inference_peak_bytes(model: nn.Module, *inputs: torch.Tensor) -> int:
    """The peak live activation bytes of `model(*inputs)` on the CPU under inference_mode."""
    model.eval()
    tracker = LiveBytesTracker(list(inputs), [*model.parameters(), *model.buffers()])
    # The profiler counts attention as the textbook writes it (the math path, which stores the
    # scores); on real tensors torch would take a fused kernel. Compare like with like.
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH), torch.inference_mode(), tracker:
            model(*inputs)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    return tracker.peak


def test_inference_keeps_no_max_pool_indices():
    """A real inference forward runs max_pool2d: its only allocation is the output."""
    pool, x = nn.MaxPool2d(2), torch.randn(1, 8, 32, 32)
    output_bytes = 4 * 8 * 16 * 16
    assert inference_peak_bytes(pool, x) == x.nbytes + output_bytes
    prof = widgets.profile(pool, input_size=tuple(x.shape))
    assert prof.activation_bytes == output_bytes
    assert prof.peak_activation_bytes == x.nbytes + output_bytes


def test_resnet18_int8_peak_is_1_67_mib():
    prof = widgets.meta_profile("resnet18", IMAGE, bits=8)
    assert prof.peak_activation_bytes == 1_756_160  # 1.67 MiB: the input, conv1's and bn1's outputs
    assert prof.peak_activation_bytes == 3 * 224 * 224 + 2 * 64 * 112 * 112
    assert widgets.format_bytes(prof.peak_activation_bytes) == "1.67 MiB"
    assert prof.peak_layer == "bn1"


def test_memory_explorer_peak_is_not_during_maxpool():
    explorer = widgets.MemoryExplorer(model="resnet18", weight_bits=8, activation_bits=8)
    assert explorer.readouts["peak_activation"] == "1.67 MiB"
    assert "maxpool" not in explorer.readouts["peak_layer"]
    assert explorer.readouts["peak_layer"].startswith("bn1 (BatchNorm2d)")


@pytest.mark.parametrize("name", TORCHVISION_MODELS)
def test_peak_equals_inference_on_real_tensors(name):
    torch.manual_seed(0)
    model = torchvision.models.get_model(name, weights=None)
    expected = inference_peak_bytes(model, torch.randn(IMAGE))
    assert widgets.meta_profile(name, IMAGE).peak_activation_bytes == expected


@pytest.mark.parametrize("name", LATENCY_MODELS)
def test_peak_equals_inference_for_latency_models(name):
    chosen = LATENCY_MODELS[name]
    torch.manual_seed(0)
    size = (2, *chosen.sample_shape)
    expected = inference_peak_bytes(chosen.build(), torch.randn(size))
    assert widgets.meta_profile(chosen.build, size).peak_activation_bytes == expected


@pytest.mark.parametrize("name", [n for n in ENERGY_WORKLOADS if n.startswith(("linear", "conv"))])
def test_peak_equals_inference_for_energy_layers(name):
    workload = ENERGY_WORKLOADS[name]
    torch.manual_seed(0)
    expected = inference_peak_bytes(workload.build(), torch.randn(workload.input_size))
    assert widgets.meta_profile(workload.build, workload.input_size).peak_activation_bytes == (
        expected
    )


def test_peak_equals_inference_for_the_original_alexnet():
    cnn = POPULAR_CNNS["alexnet_2012"]
    size = (1, 3, cnn.resolution, cnn.resolution)
    torch.manual_seed(0)
    expected = inference_peak_bytes(cnn.build(), torch.randn(size))
    assert widgets.meta_profile(cnn.build, size).peak_activation_bytes == expected
    assert expected > MIB  # a real number, not an empty forward
