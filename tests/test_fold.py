"""profile(..., fold_batchnorm=True) against models whose BatchNorms torch itself folded
(torch.ao.quantization.fuse_modules, given the pairs by hand)."""

import pytest
import torch
import torchvision
from torch import nn
from torch.ao.quantization import fuse_modules
from torchvision.ops import Conv2dNormActivation

from widgets.core.fold import conv_bn_pairs, fold_batchnorm
from widgets.core.profiler import meta_profile, profile

KIB = 1024


def _torch_folded(model: nn.Module, pairs: list[list[str]]) -> nn.Module:
    return fuse_modules(model.eval(), pairs)


def _mobilenet_v2_pairs(model: nn.Module) -> list[list[str]]:
    """Each Conv2dNormActivation's conv and BN, and each inverted residual's last conv and BN."""
    pairs = []
    for name, module in model.named_modules():
        if isinstance(module, Conv2dNormActivation):
            pairs.append([f"{name}.0", f"{name}.1"])
        elif isinstance(module, torchvision.models.mobilenetv2.InvertedResidual):
            last = len(module.conv) - 1  # the projection conv, then its BN
            pairs.append([f"{name}.conv.{last - 1}", f"{name}.conv.{last}"])
    return pairs


def _resnet18_pairs(model: nn.Module) -> list[list[str]]:
    pairs = [["conv1", "bn1"]]
    for name, module in model.named_modules():
        if isinstance(module, torchvision.models.resnet.BasicBlock):
            pairs += [[f"{name}.conv1", f"{name}.bn1"], [f"{name}.conv2", f"{name}.bn2"]]
            if module.downsample is not None:
                pairs.append([f"{name}.downsample.0", f"{name}.downsample.1"])
    return pairs


def _same_counts(ours, theirs) -> None:
    assert ours.params == theirs.params
    assert ours.macs == theirs.macs
    assert ours.peak_activation_bytes == theirs.peak_activation_bytes
    assert ours.peak_layer == theirs.peak_layer
    assert ours.activation_bytes == theirs.activation_bytes
    assert [(r.name, r.output_shape, r.activation_elements) for r in ours.layers] == [
        (r.name, r.output_shape, r.activation_elements) for r in theirs.layers
    ]


@pytest.mark.parametrize(
    ("build", "pairs"),
    [
        (torchvision.models.mobilenet_v2, _mobilenet_v2_pairs),
        (torchvision.models.resnet18, _resnet18_pairs),
    ],
)
def test_fold_matches_torch_fused_model(build, pairs):
    torch.manual_seed(0)
    model = build(weights=None)
    expected = pairs(model)
    assert sorted(map(list, conv_bn_pairs(model))) == sorted(expected)
    theirs = profile(
        _torch_folded(build(weights=None), expected), (1, 3, 96, 96), bits=32, activation_bits=8
    )
    ours = profile(model, (1, 3, 96, 96), bits=32, activation_bits=8, fold_batchnorm=True)
    _same_counts(ours, theirs)
    assert ours.batchnorm_folded and not theirs.batchnorm_folded
    unfolded = profile(model, (1, 3, 96, 96), bits=32, activation_bits=8)
    assert ours.peak_activation_bytes < unfolded.peak_activation_bytes
    # a conv without bias gains one per output channel; each BN loses weight and bias
    bn_channels = sum(m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    assert unfolded.params - ours.params == bn_channels  # torchvision's convs have no bias


def test_folded_values_equal_the_model():
    """The fold changes memory, not what the network computes (CPU, real weights)."""
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    with torch.no_grad():
        for bn in (m for m in model.modules() if isinstance(m, nn.BatchNorm2d)):
            bn.running_mean.normal_()
            bn.running_var.uniform_(0.5, 2.0)
        x = torch.randn(1, 3, 64, 64)
        torch.testing.assert_close(fold_batchnorm(model)(x), model(x), rtol=1e-4, atol=1e-4)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # model untouched


@pytest.mark.parametrize(
    ("resolution", "unfolded_kib", "folded_kib"),
    [(64, 220, 148), (80, 343.75, 231.25), (96, 495, 333)],  # issue 19, item 2
)
def test_mobilenet_v2_microcontroller_peaks(resolution, unfolded_kib, folded_kib):
    """MobileNetV2, int8 activations: the peaks lab 05 compares with a 256 KiB SRAM."""
    size = (1, 3, resolution, resolution)
    unfolded = meta_profile("mobilenet_v2", size, 32, 8)
    folded = meta_profile("mobilenet_v2", size, 32, 8, fold_batchnorm=True)
    assert unfolded.peak_activation_bytes == unfolded_kib * KIB
    assert folded.peak_activation_bytes == folded_kib * KIB
    assert unfolded.peak_layer == "features.2.conv.0.1"  # a BN, its conv's output still alive
    assert folded.peak_layer == "features.2.conv.1.0"
    assert folded.batchnorm_folded and not unfolded.batchnorm_folded


def test_fold_batchnorm_must_be_a_bool():
    with pytest.raises(TypeError, match="fold_batchnorm"):
        profile(nn.Conv2d(3, 4, 3), (1, 3, 8, 8), fold_batchnorm=1)
    with pytest.raises(TypeError, match="fold_batchnorm"):
        meta_profile("resnet18", (1, 3, 32, 32), fold_batchnorm="yes")


def test_model_without_pairs_is_unchanged():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.BatchNorm2d(4))  # BN not after conv
    assert conv_bn_pairs(model) == []
    a, b = profile(model, (2, 3, 8, 8)), profile(model, (2, 3, 8, 8), fold_batchnorm=True)
    assert (a.params, a.peak_activation_bytes) == (b.params, b.peak_activation_bytes)
