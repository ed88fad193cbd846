"""profile(): exact counts against published figures and torch, and peak memory against reality."""

from __future__ import annotations

import collections
import subprocess
import sys
import types
import weakref

import pytest
import torch
import torchvision
from helpers import hand_made_profile, layer_row, torch_macs
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import widgets
from widgets.core import cpu_forward, memory_budget, profiler
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


@pytest.mark.parametrize("name", sorted(MEMORY_MODELS))
def test_meta_profile_scales_bit_widths_exactly(name):
    """Other bit widths scale the 32-bit profile: equal to profiling at them, float for float."""
    model, side = widgets.meta_model(name), 224 if name == "vit_b_16" else 96  # ViT: 224 only
    image = (1, 3, side, side)
    for bits, activation_bits, fold in ((8, 4, False), (4, 16, True), (16, 32, False)):
        direct = widgets.profile(
            model, input_size=image, bits=bits, activation_bits=activation_bits,
            fold_batchnorm=fold,
        )  # fmt: skip
        assert widgets.meta_profile(name, image, bits, activation_bits, fold) == direct


class ArgMax(nn.Module):
    """An integer output: it keeps its 8 bytes per element at any activation_bits."""

    def forward(self, x):
        return x.argmax(-1)


def test_integer_activations_are_profiled_at_each_bit_width():
    direct = widgets.profile(widgets.meta_model(ArgMax), input_size=(2, 10), activation_bits=8)
    assert direct.integer_bytes == 2 * 8
    assert widgets.meta_profile(ArgMax, (2, 10), 32, 8) == direct
    with pytest.raises(ValueError, match="integer activations keep their size"):
        direct.at_bits(32, 4)


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


# --- calling conventions ----------------------------------------------------------------------


class Scaled(nn.Module):
    """forward(x, mask=None, scale=1): a positional tensor, a keyword tensor, a keyword number."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 6)

    def forward(self, x, mask=None, scale=1):
        y = self.fc(x) * scale
        return y if mask is None else self.fc(x * mask)


@pytest.mark.parametrize(
    ("inputs", "fc_calls"),
    [
        (torch.zeros(3, 4), 1),
        ((torch.zeros(3, 4),), 1),
        ((torch.zeros(3, 4), torch.ones(3, 4)), 2),
        ({"x": torch.zeros(3, 4), "mask": torch.ones(3, 4)}, 2),
        (((torch.zeros(3, 4),), {"mask": torch.ones(3, 4), "scale": 2}), 2),
        (([torch.zeros(3, 4)], {}), 1),
        (collections.UserDict(x=torch.zeros(3, 4)), 1),  # like a tokenizer's BatchEncoding
    ],
)
def test_inputs_as_args_kwargs_or_both(inputs, fc_calls):
    assert widgets.profile(Scaled(), inputs=inputs).macs == fc_calls * 3 * 4 * 6


@pytest.mark.parametrize("inputs", [[torch.zeros(3, 4)], 3, "x", {1: torch.zeros(3, 4)}])
def test_inputs_of_another_form_are_refused(inputs):
    with pytest.raises(TypeError, match=r"inputs .*(tensor, a tuple of positional|argument names)"):
        widgets.profile(Scaled(), inputs=inputs)


def test_a_failed_forward_names_the_keyword_inputs_and_the_op():
    message = r"inputs of shape \[\(3, 4\)\] and \{'mask': \(3, 5\)\}, in aten\.mul: "
    with pytest.raises(ValueError, match=message):
        widgets.profile(Scaled(), inputs=((torch.zeros(3, 4),), {"mask": torch.ones(3, 5)}))


# --- data-dependent forwards: device="cpu" ----------------------------------------------------


class Routed(nn.Module):
    """Runs its second layer on the rows whose first output is positive (nonzero), and a third
    one if more than half of them are (item): the work depends on the values."""

    def __init__(self):
        super().__init__()
        self.first, self.second, self.third = nn.Linear(8, 16), nn.Linear(16, 16), nn.Linear(16, 4)

    def forward(self, x):
        h = self.first(x)
        rows = h[:, 0].gt(0).nonzero().squeeze(1)
        h = self.second(h[rows])
        return self.third(h) if (rows.numel() > x.shape[0] / 2) and h.sum().item() != 0 else h


@pytest.mark.parametrize("read", ["nonzero", "item"])
def test_the_meta_device_names_the_op_that_reads_values(read):
    class ReadsValues(nn.Module):
        def forward(self, x):
            return x.nonzero() if read == "nonzero" else x * x.sum().item()

    op = {"nonzero": "aten.nonzero", "item": "aten._local_scalar_dense"}[read]
    with pytest.raises(ValueError, match=rf'in {op}: .*reads tensor values.*device="cpu"'):
        widgets.profile(ReadsValues(), input_size=(2, 3))


def test_device_cpu_counts_what_the_values_make_the_model_do():
    torch.manual_seed(0)
    model = Routed()
    x = torch.randn(64, 8)
    with pytest.raises(ValueError, match=r"aten\.nonzero"):
        widgets.profile(model, inputs=x)
    prof = widgets.profile(model, inputs=x, device="cpu")
    with torch.no_grad():
        assert prof.macs == torch_macs(model, x)
    assert prof.params == sum(p.numel() for p in model.parameters())
    # input_size: seeded random inputs, the same on every call
    assert widgets.profile(model, input_size=(64, 8), device="cpu") == widgets.profile(
        model, input_size=(64, 8), device="cpu"
    )


@pytest.mark.parametrize("name", ["mlp", "transformer_encoder", "mobilenet_v2"])
def test_device_cpu_gives_the_meta_counts_and_peak(name):
    build, shapes = SMALL_MODELS[name]
    model = build()
    cpu = widgets.profile(model, input_size=shapes, device="cpu")
    meta = widgets.profile(model, input_size=shapes)
    assert (cpu.params, cpu.macs, cpu.peak_activation_bytes, cpu.peak_layer) == (
        meta.params,
        meta.macs,
        meta.peak_activation_bytes,
        meta.peak_layer,
    )


def test_a_meta_model_on_the_cpu_gets_initialized_weights_and_stays_on_meta():
    model = widgets.meta_model("mobilenet_v2")
    prof = widgets.profile(model, input_size=(2, 3, 32, 32), device="cpu")
    assert prof == widgets.profile(model, input_size=(2, 3, 32, 32))
    assert all(p.device.type == "meta" for p in model.parameters())
    copy = cpu_forward.initialized_on_cpu(model)
    assert all(p.isfinite().all() for p in copy.parameters())
    assert copy.features[1].conv[0][1].running_var.eq(1).all()  # batch norm: reset_parameters


def test_a_meta_model_with_a_buffer_nothing_initializes_is_refused():
    class Rotary(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("inv_freq", 1 / 10_000 ** torch.arange(0, 1, 0.25))

        def forward(self, x):
            return x * self.inv_freq

    with torch.device("meta"):
        model = Rotary()
    with pytest.raises(ValueError, match=r"buffers \['inv_freq'\].*build the model on the CPU"):
        widgets.profile(model, input_size=(2, 4), device="cpu")


def test_device_cpu_refuses_before_allocating_a_size_that_does_not_fit(monkeypatch):
    available = 2 * 1024**3
    memory = types.SimpleNamespace(available=available)
    monkeypatch.setattr(memory_budget.psutil, "virtual_memory", lambda: memory)
    allocated = []
    monkeypatch.setattr(profiler, "initialized_on_cpu", allocated.append)
    with pytest.raises(MemoryError, match=r"inputs of shape \[\(256, 3, 224, 224\)\] needs about"):
        widgets.profile(widgets.meta_model("resnet18"), input_size=(256, 3, 224, 224), device="cpu")
    assert allocated == []  # refused before the weights were made
    with pytest.raises(MemoryError, match=r"\[\(10000000000, 8\)\] needs about 298 GiB"):
        widgets.profile(Routed(), input_size=(10**10, 8), device="cpu")  # reads values


def test_device_cpu_stops_a_forward_whose_activations_outgrow_the_memory(monkeypatch):
    class Grows(nn.Module):  # the size of its output depends on the values: no estimate
        def forward(self, x):
            return x.repeat(int(x.abs().sum().item()) + 10**6, 1)

    memory = types.SimpleNamespace(available=64 * 1024**2)
    monkeypatch.setattr(memory_budget.psutil, "virtual_memory", lambda: memory)
    with pytest.raises(MemoryError, match=r"inputs of shape \[\(2, 8\)\] outgrew 32\.0 MiB"):
        widgets.profile(Grows(), input_size=(2, 8), device="cpu")
    with pytest.raises(ValueError, match="device"):
        widgets.profile(Grows(), input_size=(2, 8), device="cuda")


# --- nothing registered into torch ------------------------------------------------------------

_IMPORT_CHECK = """
import importlib, torch
from torch.utils.flop_counter import flop_registry, register_flop_formula

# A torch without the ops newer than 2.4 (hidden while the profiler is imported)
HIDDEN = {"_safe_softmax", "_scaled_dot_product_flash_attention_for_cpu"}
namespace = type(torch.ops.aten)
getattr_of_torch = namespace.__getattr__
saved = {name: torch.ops.aten.__dict__.pop(name) for name in HIDDEN if name in torch.ops.aten.__dict__}
def without_newer_ops(self, name):
    if self is torch.ops.aten and name in HIDDEN:
        raise AttributeError(name)
    return getattr_of_torch(self, name)
namespace.__getattr__ = without_newer_ops
import widgets.core.profiler as profiler
import widgets.core.torch_internals as torch_internals
assert torch_internals._EXTRA_FLOP_FORMULAS == {}
namespace.__getattr__ = getattr_of_torch
torch.ops.aten.__dict__.update(saved)

# A later torch that registers the CPU attention formula itself; the profiler imported again
@register_flop_formula(torch.ops.aten._scaled_dot_product_flash_attention_for_cpu)
def cpu_attention(query_shape, *args, **kwargs):
    return 0
registered = dict(flop_registry)
importlib.reload(torch_internals)
assert dict(flop_registry) == registered, "importing the profiler changed torch's registry"
layer = torch.nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, dropout=0.0)
print(profiler.profile(layer, input_size=(2, 5, 16)).macs)
"""


def test_importing_registers_nothing_and_survives_a_later_torch():
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_CHECK], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    layer = nn.TransformerEncoderLayer(16, 2, 32, batch_first=True, dropout=0.0)
    assert int(done.stdout) == widgets.profile(layer, input_size=(2, 5, 16)).macs > 0


def test_memory_rows_and_the_early_share_by_hand():
    rows = (
        layer_row("conv", "Conv2d", params=10, outputs=600),  # 2400 bytes
        layer_row("relu", "ReLU"),  # in place: no memory of its own, not a memory row
        layer_row("pool", "MaxPool2d", outputs=300),  # 1200
        layer_row("conv2", "Conv2d", params=20, outputs=50),  # 200
        layer_row("fc", "Linear", params=30, outputs=50),  # 200
        layer_row("head", "Linear", params=40),  # weights only
    )
    prof = hand_made_profile(*rows)
    assert [row.name for row in prof.memory_rows()] == ["conv", "pool", "conv2", "fc", "head"]
    assert prof.early_activation_share() == (1, 2400 / 4000)  # a quarter of 5 rows: 1
    assert hand_made_profile(rows[1]).early_activation_share() == (0, 0.0)
