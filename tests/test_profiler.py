"""profile(): exact counts against published figures and torch, and peak memory against reality."""

from __future__ import annotations

import weakref

import pytest
import torch
import torchvision
from helpers import torch_macs
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import widgets
from widgets.core.profiler import eval_mode
from widgets.ui.memory import MODELS as MEMORY_MODELS
from widgets.ui.roofline import MODELS as ROOFLINE_MODELS

IMAGE = (1, 3, 224, 224)

# (params, GMACs at 224x224), as published (torchvision docs; GMACs = GFLOPS of fvcore/ptflops).
PUBLISHED = {
    "resnet18": (11_689_512, 1.81),
    "resnet50": (25_557_032, 4.09),
    "mobilenet_v2": (3_504_872, 0.30),
    "mobilenet_v3_large": (5_483_032, 0.22),
    "efficientnet_b0": (5_288_548, 0.39),
    "vgg16": (138_357_544, 15.47),
    "alexnet": (61_100_840, 0.71),
    "vit_b_16": (86_567_656, 17.56),
}


@pytest.mark.parametrize("name", PUBLISHED)
def test_published_params_and_macs(name):
    params, gmacs = PUBLISHED[name]
    prof = widgets.profile(widgets.meta_model(name), input_size=IMAGE)
    assert prof.params == params
    assert round(prof.macs / 1e9, 2) == pytest.approx(gmacs, abs=0.01)
    assert prof.flops == 2 * prof.macs
    assert sum(row.params for row in prof.layers) == params  # every parameter in one row
    assert sum(row.macs for row in prof.layers) == prof.macs


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2", "vit_b_16"])
def test_macs_equal_flop_counter_mode(name):
    model = widgets.meta_model(name)
    with eval_mode(model), torch.no_grad():
        macs = torch_macs(model, torch.empty(2, 3, 224, 224, device="meta"))
    assert widgets.profile(model, input_size=(2, 3, 224, 224)).macs == macs


def test_real_model_keeps_its_weights_and_mode():
    model = torchvision.models.resnet18()
    model.train()
    before = model.conv1.weight.detach().clone()
    widgets.profile(model, input_size=(1, 3, 64, 64))
    assert model.training and model.layer1[0].bn1.training
    assert model.conv1.weight.device.type == "cpu"
    torch.testing.assert_close(model.conv1.weight.detach(), before)


def test_real_and_meta_models_give_the_same_profile():
    real = widgets.profile(torchvision.models.resnet18(), input_size=(2, 3, 64, 64))
    meta = widgets.profile(widgets.meta_model("resnet18"), input_size=(2, 3, 64, 64))
    assert real == meta


def test_huge_input_is_profiled_without_allocating():
    # Real activations would peak near 1 TB; the meta device never allocates them.
    prof = widgets.profile(widgets.meta_model("resnet50"), input_size=(4096, 3, 1024, 1024))
    assert prof.macs == pytest.approx(4096 * 4.09e9 * (1024 / 224) ** 2, rel=0.02)
    assert prof.peak_activation_bytes > 5e11


def test_rows_of_resnet18():
    prof = widgets.profile(widgets.meta_model("resnet18"), input_size=IMAGE)
    conv1 = prof.layers[0]
    assert (conv1.name, conv1.kind, conv1.output_shape) == ("conv1", "Conv2d", (1, 64, 112, 112))
    assert conv1.params == 64 * 3 * 7 * 7
    assert conv1.macs == 64 * 112 * 112 * 3 * 7 * 7
    assert conv1.weight_bytes == conv1.params * 4
    assert conv1.activation_bytes == 64 * 112 * 112 * 4
    relu = next(row for row in prof.layers if row.name == "relu")
    assert relu.activation_bytes == 0  # in-place: no new memory
    assert prof.layers[-1].name == "fc" and prof.layers[-1].output_shape == (1, 1000)


def test_bit_widths_scale_bytes():
    model = widgets.meta_model("mobilenet_v2")
    full = widgets.profile(model, input_size=IMAGE)
    int8 = widgets.profile(model, input_size=IMAGE, bits=8)
    mixed = widgets.profile(model, input_size=IMAGE, bits=4, activation_bits=8)
    assert full.weight_bytes == 4 * full.params
    assert int8.weight_bytes == full.weight_bytes / 4
    assert int8.peak_activation_bytes == full.peak_activation_bytes / 4
    assert mixed.weight_bytes == full.weight_bytes / 8
    assert mixed.activation_bytes == int8.activation_bytes


def test_mobilenet_saves_weights_not_peak_activation():
    """The lecture's point: MobileNetV2 has 7x fewer weights than ResNet-50, not 7x less peak."""
    resnet = widgets.profile(widgets.meta_model("resnet50"), input_size=IMAGE)
    mobilenet = widgets.profile(widgets.meta_model("mobilenet_v2"), input_size=IMAGE)
    assert resnet.weight_bytes / mobilenet.weight_bytes > 7
    assert resnet.peak_activation_bytes / mobilenet.peak_activation_bytes < 1.5
    # and the peak is reached in the early, high-resolution layers
    first_half = [row.name for row in mobilenet.layers[: len(mobilenet.layers) // 4]]
    assert mobilenet.peak_layer in first_half


class RealTensorTracker(TorchDispatchMode):
    """Independent check: track the real storages a real CPU forward pass allocates."""

    def __init__(self, inputs, weights):
        super().__init__()
        self.known = {t.untyped_storage().data_ptr() for t in weights}
        self.live = 0
        for x in inputs:
            self._add(x)
        self.peak = self.live

    def _add(self, tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() in self.known or storage.nbytes() == 0:
            return
        self.known.add(storage.data_ptr())
        self.live += storage.nbytes()
        weakref.finalize(storage, self._free, storage.data_ptr(), storage.nbytes())

    def _free(self, pointer, nbytes):
        self.known.discard(pointer)
        self.live -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for tensor in tree_flatten(out)[0]:
            if isinstance(tensor, torch.Tensor):
                self._add(tensor)
        self.peak = max(self.peak, self.live)
        return out


def real_peak_bytes(model: nn.Module, *inputs: torch.Tensor) -> int:
    model.eval()
    tracker = RealTensorTracker(inputs, [*model.parameters(), *model.buffers()])
    with tracker, torch.no_grad():
        model(*inputs)
    return tracker.peak


SMALL_MODELS = {
    "mlp": (
        lambda: nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10)),
        [(8, 64)],
    ),
    "cnn": (
        lambda: nn.Sequential(
            nn.Conv2d(3, 16, 3, padding=1),
            nn.BatchNorm2d(16),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3),
            nn.GELU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(32, 10),
        ),
        [(2, 3, 32, 32)],
    ),
    "resnet18": (torchvision.models.resnet18, [(1, 3, 64, 64)]),
    "mobilenet_v2": (torchvision.models.mobilenet_v2, [(1, 3, 64, 64)]),
    "transformer_encoder": (
        lambda: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(32, 4, 64, batch_first=True, dropout=0.0),
            2,
            enable_nested_tensor=False,
        ),
        [(2, 10, 32)],
    ),
}


@pytest.mark.parametrize("name", SMALL_MODELS)
def test_peak_equals_real_forward_pass(name):
    build, shapes = SMALL_MODELS[name]
    torch.manual_seed(0)
    model = build()
    inputs = [torch.randn(shape) for shape in shapes]
    # The profiler counts attention as written in the textbook (the math path, which stores the
    # seq x seq scores); real CPU tensors would take fused kernels. Compare like with like.
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with sdpa_kernel(SDPBackend.MATH):
            expected = real_peak_bytes(model, *inputs)
    finally:
        torch.backends.mha.set_fastpath_enabled(True)
    assert widgets.profile(model, input_size=shapes).peak_activation_bytes == expected


def test_peak_of_mlp_by_hand():
    model = nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 10))
    prof = widgets.profile(model, input_size=(8, 64))
    # During ReLU: the input, the first Linear's output and ReLU's output are alive.
    assert prof.peak_activation_bytes == 4 * (8 * 64 + 8 * 256 + 8 * 256)
    assert prof.peak_layer == "1"


def test_attention_counted_in_sdpa_path():
    class SelfAttention(nn.Module):
        def forward(self, q):
            return nn.functional.scaled_dot_product_attention(q, q, q)

    prof = widgets.profile(SelfAttention(), input_size=(2, 4, 16, 8))  # batch, heads, seq, dim
    assert prof.macs == 2 * (2 * 4 * 16 * 16 * 8)  # Q K^T and softmax(.) V


def test_print_shows_a_table():
    text = str(widgets.profile(widgets.meta_model("resnet18"), input_size=IMAGE))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["layer", "kind", "output"]
    assert any(line.startswith("total") and "11.7 M" in line and "1.81 G" in line for line in lines)
    assert "peak activation memory" in lines[-1]


def test_token_inputs():
    model = nn.Sequential(nn.Embedding(100, 16), nn.Linear(16, 100, bias=False))
    prof = widgets.profile(model, inputs=torch.zeros(2, 7, dtype=torch.long))
    assert prof.params == 100 * 16 * 2
    assert prof.macs == 2 * 7 * 16 * 100


def test_bad_input():
    model = nn.Linear(4, 2)
    with pytest.raises(TypeError, match="model"):
        widgets.profile("resnet", input_size=(1, 4))
    with pytest.raises(ValueError, match="input_size"):
        widgets.profile(model)
    with pytest.raises(ValueError, match="input_size"):
        widgets.profile(model, input_size=(1, 4), inputs=torch.zeros(1, 4))
    with pytest.raises(ValueError, match=r"input_size\[0\]"):
        widgets.profile(model, input_size=(0, 4))
    with pytest.raises(ValueError, match="bits"):
        widgets.profile(model, input_size=(1, 4), bits=7)
    with pytest.raises(ValueError, match=r"forward failed on inputs of shape \[\(1, 5\)\]"):
        widgets.profile(model, input_size=(1, 5))


def test_meta_model_is_built_once_without_weights():
    model = widgets.meta_model("resnet18")
    assert widgets.meta_model("resnet18") is model
    assert all(p.device.type == "meta" for p in model.parameters())
    layer = widgets.meta_model(nn.Identity)
    assert isinstance(layer, nn.Identity) and widgets.meta_model(nn.Identity) is layer


@pytest.mark.parametrize("name", sorted({*MEMORY_MODELS, *ROOFLINE_MODELS}))
def test_meta_profile_scales_batches_exactly(name):
    """Exact for every model the explorers offer: they ask for batches up to 256."""
    eight = widgets.profile(widgets.meta_model(name), input_size=(8, 3, 224, 224))
    assert widgets.meta_profile(name, (8, 3, 224, 224)) == eight
    assert widgets.meta_profile(name, (2, 3, 224, 224)).scale_batch(4) == eight


def test_scale_batch_is_not_exact_from_batch_1_for_vit():
    """Why meta_profile scales from batch 2: at batch 1 ViT's reshapes are free views."""
    one = widgets.meta_profile("vit_b_16", (1, 3, 224, 224))
    eight = widgets.meta_profile("vit_b_16", (8, 3, 224, 224))
    assert one.scale_batch(8).macs == eight.macs
    assert one.scale_batch(8).activation_bytes < eight.activation_bytes


def test_scale_batch_refuses_a_bad_factor():
    two = widgets.meta_profile("alexnet", (2, 3, 224, 224))
    assert two.scale_batch(1) == two
    with pytest.raises(ValueError, match="factor must be a positive integer"):
        two.scale_batch(0)
    with pytest.raises(TypeError, match="factor must be an integer"):
        two.scale_batch(2.5)


def test_meta_profile_is_cached():
    first = widgets.meta_profile("alexnet", (1, 3, 224, 224), bits=8)
    assert widgets.meta_profile("alexnet", (1, 3, 224, 224), bits=8) is first
    assert first.weight_bytes == first.params  # 8 bits: one byte per weight
