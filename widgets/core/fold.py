"""BatchNorm folded into the convolution before it, as deployed networks run (lab 04's fusion).

At inference a BatchNorm is a per-channel multiply-add with fixed numbers, so it folds into the
preceding conv's weights and bias: the network then stores one output per conv, not the conv's
and the BatchNorm's (alive together during the BatchNorm). The fold is torch's own public
`torch.nn.utils.fusion.fuse_conv_bn_eval`; the BatchNorm becomes an `nn.Identity`.
"""

from __future__ import annotations

import copy
import itertools

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

__all__ = ["conv_bn_pairs", "fold_batchnorm"]

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def conv_bn_pairs(model: nn.Module) -> list[tuple[str, str]]:
    """Qualified names of each (conv, BatchNorm) that are consecutive children of one module
    (a Sequential, or attributes like ResNet's conv1 then bn1) with a BatchNorm over the conv's
    output channels: the pairs `torch.ao.quantization.fuse_modules` would be given by hand."""
    pairs = []
    for parent_name, parent in model.named_modules():
        for (conv_name, conv), (bn_name, bn) in itertools.pairwise(parent.named_children()):
            if (
                isinstance(conv, _CONVS)
                and isinstance(bn, _NORMS)
                and bn.num_features == conv.out_channels
                and bn.track_running_stats
            ):
                prefix = f"{parent_name}." if parent_name else ""
                pairs.append((prefix + conv_name, prefix + bn_name))
    return pairs


def fold_batchnorm(model: nn.Module) -> nn.Module:
    """A copy of `model` in eval mode with every BatchNorm of `conv_bn_pairs` folded into its
    conv (which gains a bias); `model` itself is left untouched. Works on the meta device too."""
    folded = copy.deepcopy(model).eval()
    for conv_name, bn_name in conv_bn_pairs(folded):
        conv, bn = folded.get_submodule(conv_name), folded.get_submodule(bn_name)
        _set_submodule(folded, conv_name, fuse_conv_bn_eval(conv, bn))
        _set_submodule(folded, bn_name, nn.Identity())
    return folded


def _set_submodule(model: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent_name), child, module)
