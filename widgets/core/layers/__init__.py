"""Parameters, MACs and output shape of one layer, computed from its hyper-parameters alone.

One small formula per layer kind, registered in LAYER_FORMULAS (like torch/utils/flop_counter.py).
Hyper-parameter names are torch's constructor arguments and input_shape includes the batch
dimension, so

    layer_cost("conv2d", in_channels=3, out_channels=8, kernel_size=3, input_shape=(1, 3, 32, 32))

describes `nn.Conv2d(in_channels=3, out_channels=8, kernel_size=3)(torch.empty(1, 3, 32, 32))`.
Where torch accepts an input without the batch dimension, so do the formulas (batch = 1).

Counting convention (the one of torch.utils.flop_counter.FlopCounterMode): 1 MAC = 1 multiply +
1 add, FLOPs = 2 * MACs, and only matmul-like work (linear, convolution, attention) is counted.
Bias adds are not counted in MACs, but biases are counted in params. Everything is Python int
arithmetic: no tensor is allocated, so any size is instant and exact.
"""

from . import matmul, no_macs  # importing them registers their formulas
from .matmul import attention_macs, linear
from .registry import LAYER_FORMULAS, LayerCost, Window, layer_cost, register

__all__ = [
    "LAYER_FORMULAS",
    "LayerCost",
    "Window",
    "attention_macs",
    "layer_cost",
    "linear",
    "matmul",
    "no_macs",
    "register",
]
