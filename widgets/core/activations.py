"""Activation functions: one recipe each (forward and analytic derivative) plus the facts a lab
shows, and the dying-ReLU experiment on a real layer.

Every recipe is written out with torch primitives (exp, erf, tanh...) so a student can read it;
the tests check each one against the matching torch.nn module and its autograd gradient. At a
kink (relu at 0, hardswish at +-3...) the derivative returns what torch's autograd returns, so
the two always agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial

import numpy as np
import torch
from torch import Tensor, nn

from .validate import check_choice, check_int, check_number

__all__ = [
    "ACTIVATIONS",
    "ALIASES",
    "Activation",
    "DyingReluResult",
    "dying_relu",
    "get_activation",
]


@dataclass(frozen=True)
class Activation:
    """An activation function f, its derivative f' and the facts a lab shows about it.

    formula is LaTeX without $ delimiters. Parameters (default_params) are keyword arguments with
    the same names as torch's modules take, e.g. leaky_relu's negative_slope.
    zero_centred: f's outputs average about 0 for inputs ~ N(0, 1).
    monotonic: f never decreases (f' >= 0 everywhere, with the default parameters).
    cost_rank: 1 = comparisons only, 2 = plus multiplies, 3 = one exp or tanh,
    4 = exp and log or tanh of a polynomial, 5 = a special function (erf) or exp, log and tanh.
    """

    name: str
    display_name: str
    formula: str
    forward_fn: Callable[..., Tensor] = field(repr=False)
    derivative_fn: Callable[..., Tensor] = field(repr=False)
    module_fn: Callable[..., nn.Module] = field(repr=False)
    default_params: dict[str, float] = field(hash=False)
    output_range: str
    zero_centred: bool
    monotonic: bool
    relative_cost: str  # what one evaluation computes, e.g. "one comparison"
    cost_rank: int

    def check_params(self, **params: float) -> dict[str, float]:
        """The default parameters updated with `params`, each checked."""
        for name in params:
            if name not in self.default_params:
                allowed = ", ".join(self.default_params) or "none"
                raise TypeError(f"{self.name} has no parameter {name!r}; its parameters: {allowed}")
        merged = {**self.default_params, **params}
        return {name: _PARAM_CHECKS[name](value) for name, value in merged.items()}

    def forward(self, x: Tensor, **params: float) -> Tensor:
        """f(x), elementwise."""
        return self.forward_fn(_check_tensor(x), **self.check_params(**params))

    def derivative(self, x: Tensor, **params: float) -> Tensor:
        """f'(x), elementwise, from the formula (no autograd)."""
        return self.derivative_fn(_check_tensor(x), **self.check_params(**params))

    def torch_module(self, **params: float) -> nn.Module:
        """The equivalent torch.nn module with the same parameters."""
        return self.module_fn(**self.check_params(**params))


_PARAM_CHECKS: dict[str, Callable[[float], float]] = {
    "negative_slope": partial(check_number, "negative_slope", inclusive=True),  # >= 0
    "alpha": partial(check_number, "alpha"),  # > 0
    "beta": partial(check_number, "beta"),  # > 0
}


def _check_tensor(x: Tensor) -> Tensor:
    if not isinstance(x, Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point torch tensor, got {x!r}")
    return x


# --- recipes: f and f' ---


def _relu(x: Tensor) -> Tensor:
    return x.clamp(min=0)


def _relu_derivative(x: Tensor) -> Tensor:
    return (x > 0).to(x.dtype)


def _relu6(x: Tensor) -> Tensor:
    return x.clamp(0, 6)


def _relu6_derivative(x: Tensor) -> Tensor:
    return ((x > 0) & (x < 6)).to(x.dtype)


def _leaky_relu(x: Tensor, negative_slope: float) -> Tensor:
    return torch.where(x > 0, x, negative_slope * x)


def _leaky_relu_derivative(x: Tensor, negative_slope: float) -> Tensor:
    # = where(x > 0, 1, negative_slope), written as arithmetic: 2.5x faster on CPU (dying_relu)
    return (x > 0).to(x.dtype) * (1 - negative_slope) + negative_slope


def _sigmoid(x: Tensor) -> Tensor:
    return 1 / (1 + torch.exp(-x))


def _sigmoid_derivative(x: Tensor) -> Tensor:
    s = _sigmoid(x)
    return s * (1 - s)


def _tanh(x: Tensor) -> Tensor:
    return torch.tanh(x)


def _tanh_derivative(x: Tensor) -> Tensor:
    return 1 - torch.tanh(x) ** 2


def _gelu(x: Tensor) -> Tensor:
    return x * _normal_cdf(x)


def _gelu_derivative(x: Tensor) -> Tensor:
    normal_pdf = torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
    return _normal_cdf(x) + x * normal_pdf


def _normal_cdf(x: Tensor) -> Tensor:
    """Phi(x), the probability that a N(0, 1) sample is <= x."""
    return 0.5 * (1 + torch.erf(x / math.sqrt(2)))


_GELU_TANH_SCALE = math.sqrt(2 / math.pi)
_GELU_TANH_CUBIC = 0.044715


def _gelu_tanh(x: Tensor) -> Tensor:
    inner = _GELU_TANH_SCALE * (x + _GELU_TANH_CUBIC * x**3)
    return 0.5 * x * (1 + torch.tanh(inner))


def _gelu_tanh_derivative(x: Tensor) -> Tensor:
    t = torch.tanh(_GELU_TANH_SCALE * (x + _GELU_TANH_CUBIC * x**3))
    inner_derivative = _GELU_TANH_SCALE * (1 + 3 * _GELU_TANH_CUBIC * x**2)
    return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * inner_derivative


def _silu(x: Tensor) -> Tensor:
    return x * _sigmoid(x)


def _silu_derivative(x: Tensor) -> Tensor:
    s = _sigmoid(x)
    return s * (1 + x * (1 - s))


def _elu(x: Tensor, alpha: float) -> Tensor:
    return torch.where(x > 0, x, alpha * torch.expm1(x))  # expm1(x) = e^x - 1, exact near 0


def _elu_derivative(x: Tensor, alpha: float) -> Tensor:
    return torch.where(x > 0, 1.0, alpha * torch.exp(x))


# SELU's constants, chosen so that outputs keep mean 0 and variance 1 (Klambauer et al., 2017)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _selu(x: Tensor) -> Tensor:
    return _SELU_SCALE * _elu(x, _SELU_ALPHA)


def _selu_derivative(x: Tensor) -> Tensor:
    return _SELU_SCALE * _elu_derivative(x, _SELU_ALPHA)


def _hardsigmoid(x: Tensor) -> Tensor:
    return (x / 6 + 0.5).clamp(0, 1)


def _hardsigmoid_derivative(x: Tensor) -> Tensor:
    return ((x > -3) & (x < 3)).to(x.dtype) / 6


def _hardswish(x: Tensor) -> Tensor:
    return x * _hardsigmoid(x)


def _hardswish_derivative(x: Tensor) -> Tensor:
    return _hardsigmoid(x) + x * _hardsigmoid_derivative(x)  # product rule


def _softplus(x: Tensor, beta: float) -> Tensor:
    # log(1 + e^(bx)) = max(bx, 0) + log(1 + e^(-|bx|)): the same value, but exp cannot overflow
    bx = beta * x
    return (bx.clamp(min=0) + torch.log1p(torch.exp(-bx.abs()))) / beta


def _softplus_derivative(x: Tensor, beta: float) -> Tensor:
    return _sigmoid(beta * x)


def _mish(x: Tensor) -> Tensor:
    return x * torch.tanh(_softplus(x, beta=1.0))


def _mish_derivative(x: Tensor) -> Tensor:
    t = torch.tanh(_softplus(x, beta=1.0))
    return t + x * (1 - t**2) * _sigmoid(x)


# --- the registry: recipes and facts ---

ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation(
            name="relu",
            display_name="ReLU",
            formula=r"\max(0, x)",
            forward_fn=_relu,
            derivative_fn=_relu_derivative,
            module_fn=nn.ReLU,
            default_params={},
            output_range="[0, inf)",
            zero_centred=False,
            monotonic=True,
            relative_cost="one comparison",
            cost_rank=1,
        ),
        Activation(
            name="relu6",
            display_name="ReLU6",
            formula=r"\min(\max(0, x), 6)",
            forward_fn=_relu6,
            derivative_fn=_relu6_derivative,
            module_fn=nn.ReLU6,
            default_params={},
            output_range="[0, 6]",
            zero_centred=False,
            monotonic=True,
            relative_cost="two comparisons",
            cost_rank=1,
        ),
        Activation(
            name="leaky_relu",
            display_name="Leaky ReLU",
            formula=r"\max(0, x) + \mathrm{negative\_slope} \cdot \min(0, x)",
            forward_fn=_leaky_relu,
            derivative_fn=_leaky_relu_derivative,
            module_fn=nn.LeakyReLU,
            default_params={"negative_slope": 0.01},
            output_range="(-inf, inf)",
            zero_centred=False,
            monotonic=True,
            relative_cost="a comparison and a multiply",
            cost_rank=2,
        ),
        Activation(
            name="sigmoid",
            display_name="Sigmoid",
            formula=r"\sigma(x) = 1 / (1 + e^{-x})",
            forward_fn=_sigmoid,
            derivative_fn=_sigmoid_derivative,
            module_fn=nn.Sigmoid,
            default_params={},
            output_range="(0, 1)",
            zero_centred=False,
            monotonic=True,
            relative_cost="one exp and a division",
            cost_rank=3,
        ),
        Activation(
            name="tanh",
            display_name="Tanh",
            formula=r"\tanh(x) = (e^{x} - e^{-x}) / (e^{x} + e^{-x})",
            forward_fn=_tanh,
            derivative_fn=_tanh_derivative,
            module_fn=nn.Tanh,
            default_params={},
            output_range="(-1, 1)",
            zero_centred=True,
            monotonic=True,
            relative_cost="one tanh",
            cost_rank=3,
        ),
        Activation(
            name="gelu",
            display_name="GELU",
            formula=r"x \Phi(x) = \frac{x}{2} (1 + \mathrm{erf}(x / \sqrt{2}))",
            forward_fn=_gelu,
            derivative_fn=_gelu_derivative,
            module_fn=nn.GELU,
            default_params={},
            output_range="[-0.17, inf)",
            zero_centred=False,
            monotonic=False,
            relative_cost="one erf, a special function",
            cost_rank=5,
        ),
        Activation(
            name="gelu_tanh",
            display_name="GELU (tanh approximation)",
            formula=r"\frac{x}{2} (1 + \tanh(\sqrt{2 / \pi} (x + 0.044715 x^3)))",
            forward_fn=_gelu_tanh,
            derivative_fn=_gelu_tanh_derivative,
            module_fn=partial(nn.GELU, approximate="tanh"),
            default_params={},
            output_range="[-0.17, inf)",
            zero_centred=False,
            monotonic=False,
            relative_cost="tanh of a cubic polynomial",
            cost_rank=4,
        ),
        Activation(
            name="silu",
            display_name="SiLU (swish)",
            formula=r"x \sigma(x) = x / (1 + e^{-x})",
            forward_fn=_silu,
            derivative_fn=_silu_derivative,
            module_fn=nn.SiLU,
            default_params={},
            output_range="[-0.28, inf)",
            zero_centred=False,
            monotonic=False,
            relative_cost="one exp, a division and a multiply",
            cost_rank=3,
        ),
        Activation(
            name="elu",
            display_name="ELU",
            formula=r"x \text{ if } x > 0 \text{ else } \alpha (e^{x} - 1)",
            forward_fn=_elu,
            derivative_fn=_elu_derivative,
            module_fn=nn.ELU,
            default_params={"alpha": 1.0},
            output_range="(-alpha, inf)",
            zero_centred=False,
            monotonic=True,
            relative_cost="one exp for x <= 0",
            cost_rank=3,
        ),
        Activation(
            name="selu",
            display_name="SELU",
            formula=r"\lambda \, \mathrm{ELU}_{\alpha}(x), \ \lambda = 1.0507, \ \alpha = 1.6733",
            forward_fn=_selu,
            derivative_fn=_selu_derivative,
            module_fn=nn.SELU,
            default_params={},
            output_range="(-1.76, inf)",
            zero_centred=True,
            monotonic=True,
            relative_cost="one exp for x <= 0 and a multiply",
            cost_rank=3,
        ),
        Activation(
            name="hardsigmoid",
            display_name="Hard sigmoid",
            formula=r"\min(\max(0, x + 3), 6) / 6",
            forward_fn=_hardsigmoid,
            derivative_fn=_hardsigmoid_derivative,
            module_fn=nn.Hardsigmoid,
            default_params={},
            output_range="[0, 1]",
            zero_centred=False,
            monotonic=True,
            relative_cost="an add, a multiply and two comparisons",
            cost_rank=2,
        ),
        Activation(
            name="hardswish",
            display_name="Hard swish",
            formula=r"x \min(\max(0, x + 3), 6) / 6",
            forward_fn=_hardswish,
            derivative_fn=_hardswish_derivative,
            module_fn=nn.Hardswish,
            default_params={},
            output_range="[-0.375, inf)",
            zero_centred=False,
            monotonic=False,
            relative_cost="hard sigmoid and one more multiply",
            cost_rank=2,
        ),
        Activation(
            name="softplus",
            display_name="Softplus",
            formula=r"\frac{1}{\beta} \log(1 + e^{\beta x})",
            forward_fn=_softplus,
            derivative_fn=_softplus_derivative,
            module_fn=nn.Softplus,
            default_params={"beta": 1.0},
            output_range="(0, inf)",
            zero_centred=False,
            monotonic=True,
            relative_cost="one exp and one log",
            cost_rank=4,
        ),
        Activation(
            name="mish",
            display_name="Mish",
            formula=r"x \tanh(\log(1 + e^{x}))",
            forward_fn=_mish,
            derivative_fn=_mish_derivative,
            module_fn=nn.Mish,
            default_params={},
            output_range="[-0.31, inf)",
            zero_centred=False,
            monotonic=False,
            relative_cost="one exp, one log and one tanh",
            cost_rank=5,
        ),
    )
}

ALIASES = {"swish": "silu"}


def get_activation(name: str) -> Activation:
    """The activation called `name` (or an alias such as "swish")."""
    check_choice("activation", name, [*ACTIVATIONS, *ALIASES])
    return ACTIVATIONS[ALIASES.get(name, name)]


# --- the dying-ReLU experiment ---

PRE_ACTIVATION_SAMPLE = 4096  # pre-activation values returned for a histogram
SMALL_LEARNING_RATE = 0.02  # a step that kills no unit: ActivationExplorer's default, lab 01


@dataclass(frozen=True)
class DyingReluResult:
    """What `dying_relu` measured on one layer.

    A unit is dead when f'(pre-activation) = 0 for every input of the batch: no gradient reaches
    its weights, so no step can revive it. For ReLU that means its output is 0 for every input;
    leaky ReLU (negative_slope > 0) has no dead units.
    """

    dead_fraction: float  # dead_units / units
    dead_units: int
    units: int
    active_fraction: np.ndarray  # (units,): share of the inputs on which each unit fires (> 0)
    pre_activation: np.ndarray  # up to PRE_ACTIVATION_SAMPLE pre-activations, first inputs first
    gradient_norm: float  # Frobenius norm of d loss / d weight (loss in `dying_relu`)
    max_pre_activation: np.ndarray  # (units,): each unit's largest pre-activation before the step
    death_learning_rate: np.ndarray  # (units,): the smallest step that kills each unit (see below)


@lru_cache(maxsize=8)
def _initial_layer(
    in_features: int, width: int, batch: int, seed: int
) -> tuple[Tensor, Tensor, Tensor]:
    """The layer's initial weight and bias and its batch of inputs, fixed by the seed (cached:
    callers never modify them)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layer = nn.Linear(in_features, width)
        inputs = torch.randn(batch, in_features).clamp(min=0)
    return layer.weight.detach(), layer.bias.detach(), inputs


def dying_relu(
    bias_shift: float = 0.0,
    learning_rate: float = 0.0,
    negative_slope: float = 0.0,
    width: int = 256,
    in_features: int = 64,
    batch: int = 512,
    seed: int = 0,
) -> DyingReluResult:
    """Dead units of a real nn.Linear(in_features, width) followed by ReLU (or leaky ReLU).

    The layer (torch's default init) sees a batch of inputs relu(N(0, 1)): it is a hidden layer
    after another ReLU, so its inputs are >= 0. Its biases are moved by `bias_shift`, then it
    takes one plain SGD step of `learning_rate` on the loss L = mean over the batch of the sum of
    the layer's outputs. Descending L lowers every firing unit's pre-activation for every input
    (inputs >= 0, so the weight step can only lower them): a large step overshoots below 0 and
    the unit dies. gradient_norm is |dL/dW| measured after the step.

    The step lowers unit j's pre-activation on input x by learning_rate * c_j(x), with
    c_j(x) = sum over the batch's inputs x_i of dL/dz_ij (x . x_i + 1) >= 0: in proportion to the
    learning rate. So each unit has a death_learning_rate, max over the inputs where it fires of
    z_j(x) / c_j(x): a step at least that large kills it (0 for a unit already dead, inf for one
    no step can kill, such as a leaky unit).
    Deterministic for a seed; the caller's global random state is left untouched.
    """
    bias_shift = check_number("bias_shift", bias_shift, minimum=-math.inf)
    learning_rate = check_number("learning_rate", learning_rate, inclusive=True)
    width = check_int("width", width)
    in_features = check_int("in_features", in_features)
    batch = check_int("batch", batch)
    seed = check_int("seed", seed, minimum=0)
    leaky_relu = ACTIVATIONS["leaky_relu"]
    slope = leaky_relu.check_params(negative_slope=negative_slope)

    weight, initial_bias, inputs = _initial_layer(in_features, width, batch, seed)
    bias = initial_bias + bias_shift

    def forward_backward(weight: Tensor, bias: Tensor) -> tuple[Tensor, Tensor]:
        """Pre-activations z and dL/dz = f'(z) / batch (chain rule through the batch mean)."""
        pre_activation = inputs @ weight.T + bias
        return pre_activation, leaky_relu.derivative(pre_activation, **slope) / batch

    pre_activation, grad_pre = forward_backward(weight, bias)
    max_pre_activation = pre_activation.max(dim=0).values
    death_learning_rate = _death_learning_rates(pre_activation, grad_pre, inputs, slope)
    if learning_rate > 0:  # dL/dW = (dL/dz)^T inputs, dL/db = sum of dL/dz over the batch
        weight = weight - learning_rate * grad_pre.T @ inputs
        bias = bias - learning_rate * grad_pre.sum(dim=0)
        pre_activation, grad_pre = forward_backward(weight, bias)

    dead = (grad_pre == 0).all(dim=0)
    return DyingReluResult(
        dead_fraction=dead.float().mean().item(),
        dead_units=int(dead.sum()),
        units=width,
        active_fraction=(pre_activation > 0).float().mean(dim=0).numpy(),
        pre_activation=pre_activation.flatten()[:PRE_ACTIVATION_SAMPLE].numpy(),
        gradient_norm=(grad_pre.T @ inputs).norm().item(),
        max_pre_activation=max_pre_activation.numpy(),
        death_learning_rate=death_learning_rate.numpy(),
    )


def _death_learning_rates(
    pre_activation: Tensor, grad_pre: Tensor, inputs: Tensor, slope: dict[str, float]
) -> Tensor:
    """Per unit, the smallest learning rate whose one SGD step leaves it dead (see dying_relu)."""
    if slope["negative_slope"] > 0:  # a leaky unit always passes a gradient: it cannot die
        return torch.full((pre_activation.shape[1],), math.inf)
    drop = (inputs @ inputs.T + 1) @ grad_pre  # (batch, units): c_j(x), the drop per unit step
    firing = pre_activation > 0
    ratio = torch.where(firing, pre_activation / drop, torch.zeros_like(drop))
    ratio = torch.where(firing & (drop <= 0), torch.full_like(drop, math.inf), ratio)
    return ratio.max(dim=0).values
