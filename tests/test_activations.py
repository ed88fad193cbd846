"""Activation recipes against torch.nn and autograd, their facts, and the dying-ReLU experiment."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import widgets
from widgets.core.activations import ACTIVATIONS, dying_relu, get_activation
from widgets.core.validate import UnknownNameError

REQUIRED = (
    "relu",
    "leaky_relu",
    "sigmoid",
    "tanh",
    "gelu",
    "gelu_tanh",
    "silu",
    "elu",
    "hardswish",
    "softplus",
    "mish",
    "hardsigmoid",
    "selu",
    "relu6",
)

# every activation with its default parameters, plus a few other parameter values
CASES = [(name, {}) for name in ACTIVATIONS] + [
    ("leaky_relu", {"negative_slope": 0.0}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {"alpha": 0.5}),
    ("elu", {"alpha": 2.0}),
    ("softplus", {"beta": 0.5}),
    ("softplus", {"beta": 3.0}),
]
CASE_IDS = [f"{name}{params or ''}" for name, params in CASES]

# points where the derivative jumps: checked on their own, against torch's convention
KINKS = {
    "relu": (0.0,),
    "relu6": (0.0, 6.0),
    "leaky_relu": (0.0,),
    "elu": (0.0,),
    "selu": (0.0,),
    "hardsigmoid": (-3.0, 3.0),
    "hardswish": (-3.0, 3.0),
}


def grid(dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """-50..50: 0, the kinks, the curved middle and the saturated tails."""
    return torch.cat([torch.linspace(-50, 50, 101), torch.linspace(-8, 8, 801)]).to(dtype)


def autograd_derivative(module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(module(x).sum(), x)
    return grad


def test_registry_has_every_required_activation():
    assert set(REQUIRED) <= set(ACTIVATIONS)
    for name, activation in ACTIVATIONS.items():
        assert activation.name == name
        assert get_activation(name) is activation
    assert widgets.get_activation is get_activation
    assert widgets.ACTIVATIONS is ACTIVATIONS


def test_swish_is_an_alias_of_silu():
    assert get_activation("swish") is ACTIVATIONS["silu"]


def test_unknown_name_lists_the_allowed_names():
    with pytest.raises(UnknownNameError, match="unknown activation 'relu7'") as error:
        get_activation("relu7")
    for name in (*REQUIRED, "swish"):
        assert repr(name) in str(error.value)
    assert isinstance(error.value, KeyError)
    assert isinstance(error.value, ValueError)


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_forward_matches_the_torch_module(name, params, dtype):
    activation = ACTIVATIONS[name]
    x = grid(dtype)
    out = activation.forward(x, **params)
    assert out.dtype == dtype
    assert_close(out, activation.torch_module(**params)(x))


@pytest.mark.parametrize(("name", "params"), CASES, ids=CASE_IDS)
def test_derivative_matches_autograd_away_from_kinks(name, params):
    activation = ACTIVATIONS[name]
    x = grid()
    for kink in KINKS.get(name, ()):
        x = x[x != kink]
    derivative = activation.derivative(x, **params)
    assert derivative.dtype == torch.float64
    assert_close(derivative, autograd_derivative(activation.torch_module(**params), x))


@pytest.mark.parametrize("name", sorted(KINKS))
def test_derivative_at_kinks_follows_torch(name):
    activation = ACTIVATIONS[name]
    kinks = torch.tensor(KINKS[name], dtype=torch.float64)
    expected = autograd_derivative(activation.torch_module(), kinks)
    assert_close(activation.derivative(kinks), expected, rtol=0, atol=0)


def test_chosen_values_at_kinks():
    zero = torch.zeros(1, dtype=torch.float64)
    assert get_activation("relu").derivative(zero).item() == 0.0  # like torch
    assert get_activation("leaky_relu").derivative(zero, negative_slope=0.2).item() == 0.2
    assert get_activation("elu").derivative(zero, alpha=2.0).item() == 2.0
    hardswish = get_activation("hardswish").derivative(torch.tensor([-3.0, 3.0]))
    assert hardswish.tolist() == [0.0, 1.0]  # the outer pieces' slopes, like torch


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_monotonic_means_the_derivative_is_never_negative(name):
    activation = ACTIVATIONS[name]
    never_negative = bool((activation.derivative(grid()) >= 0).all())
    assert activation.monotonic == never_negative


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_zero_centred_means_mean_output_near_zero_for_standard_normal_input(name):
    x = torch.linspace(-12, 12, 24_001, dtype=torch.float64)
    weights = torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi) * (x[1] - x[0])
    mean_output = (ACTIVATIONS[name].forward(x) * weights).sum().item()
    if ACTIVATIONS[name].zero_centred:
        assert abs(mean_output) < 1e-3
    else:
        assert mean_output > 0.1


def test_spot_checked_facts():
    assert ACTIVATIONS["sigmoid"].output_range == "(0, 1)"
    assert ACTIVATIONS["tanh"].zero_centred
    assert not ACTIVATIONS["relu"].zero_centred
    for name in ("gelu", "gelu_tanh", "mish", "silu", "hardswish"):
        assert not ACTIVATIONS[name].monotonic
    ranks = {name: a.cost_rank for name, a in ACTIVATIONS.items()}
    assert ranks["relu"] == min(ranks.values())
    assert ranks["gelu"] == ranks["mish"] == max(ranks.values())


@pytest.mark.parametrize(
    ("name", "output_range"),
    [
        ("gelu", "[-0.17, inf)"),
        ("silu", "[-0.28, inf)"),
        ("mish", "[-0.31, inf)"),
        ("hardswish", "[-0.375, inf)"),
        ("selu", "(-1.76, inf)"),
    ],
)
def test_stated_minimum_is_the_minimum_of_the_curve(name, output_range):
    activation = ACTIVATIONS[name]
    assert activation.output_range == output_range
    stated = float(output_range[1:].split(",")[0])
    assert activation.forward(grid()).min().item() == pytest.approx(stated, abs=0.005)


def test_stated_zero_gradients():
    negative = torch.linspace(-10, -0.1, 50, dtype=torch.float64)
    assert (get_activation("relu").derivative(negative) == 0).all()
    assert (get_activation("leaky_relu").derivative(negative) == 0.01).all()
    far = torch.tensor([-20.0, 20.0], dtype=torch.float64)
    assert (get_activation("sigmoid").derivative(far) < 1e-8).all()
    assert (get_activation("tanh").derivative(far) < 1e-8).all()


def test_params_default_and_reach_the_torch_module():
    leaky = get_activation("leaky_relu")
    assert leaky.default_params == {"negative_slope": 0.01}
    assert leaky.forward(torch.tensor([-1.0])).item() == pytest.approx(-0.01)
    assert leaky.torch_module(negative_slope=0.2).negative_slope == 0.2
    assert get_activation("elu").torch_module(alpha=0.5).alpha == 0.5
    assert get_activation("softplus").torch_module(beta=3).beta == 3.0


@pytest.mark.parametrize(
    ("name", "params", "error", "message"),
    [
        ("leaky_relu", {"negative_slope": "0.1"}, TypeError, "negative_slope must be a number"),
        ("leaky_relu", {"negative_slope": -0.1}, ValueError, "negative_slope must be >= 0"),
        ("elu", {"alpha": 0}, ValueError, "alpha must be > 0, got 0"),
        ("softplus", {"beta": -1.0}, ValueError, "beta must be > 0"),
        ("relu", {"alpha": 1.0}, TypeError, "relu has no parameter 'alpha'; its parameters: none"),
        ("elu", {"beta": 1.0}, TypeError, "its parameters: alpha"),
    ],
)
def test_bad_params_name_the_parameter(name, params, error, message):
    activation = ACTIVATIONS[name]
    for method in (activation.forward, activation.derivative):
        with pytest.raises(error, match=message):
            method(torch.zeros(3), **params)
    with pytest.raises(error, match=message):
        activation.torch_module(**params)


def test_input_must_be_a_float_tensor():
    with pytest.raises(TypeError, match="x must be a floating-point torch tensor"):
        get_activation("relu").forward([1.0, -1.0])
    with pytest.raises(TypeError, match="x must be a floating-point torch tensor"):
        get_activation("sigmoid").derivative(torch.arange(3))


# --- dying ReLU ---


def test_default_layer_has_few_dead_units():
    result = dying_relu()
    assert result.units == 256
    assert result.dead_fraction < 0.05
    assert result.dead_units == round(result.dead_fraction * result.units)
    assert result.active_fraction.shape == (256,)
    assert ((result.active_fraction >= 0) & (result.active_fraction <= 1)).all()
    assert result.pre_activation.shape == (4096,)
    assert result.gradient_norm > 0


def test_large_negative_bias_kills_relu_but_not_leaky_relu():
    relu = dying_relu(bias_shift=-10)
    assert relu.dead_fraction == 1.0
    assert relu.dead_units == relu.units
    assert relu.gradient_norm == 0.0
    assert (relu.active_fraction == 0).all()
    leaky = dying_relu(bias_shift=-10, negative_slope=0.01)
    assert (leaky.active_fraction == 0).all()  # every unit below zero on every input...
    assert leaky.dead_fraction == 0.0  # ...yet none is dead:
    assert leaky.gradient_norm > 0  # the slope still carries a gradient


def test_large_learning_rate_step_kills_units():
    dead = [dying_relu(learning_rate=lr).dead_fraction for lr in (0.0, 0.1, 0.3, 1.0)]
    assert dead == sorted(dead)
    assert dead[0] < 0.05 < 0.5 < dead[-1]


def test_dead_units_never_fire():
    result = dying_relu(bias_shift=-1.0)
    assert 0 < result.dead_units < result.units
    assert (result.active_fraction == 0).sum() == result.dead_units


@pytest.mark.parametrize(
    ("bias_shift", "learning_rate", "negative_slope"),
    [(0.0, 0.0, 0.0), (-0.5, 0.2, 0.0), (0.3, 0.5, 0.1)],
)
def test_matches_autograd_on_a_real_layer(bias_shift, learning_rate, negative_slope):
    """The same experiment written with nn.Linear, autograd and torch.optim.SGD."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(3)
        layer = torch.nn.Linear(16, 32)
        inputs = torch.randn(64, 16).relu()
    activation = torch.nn.LeakyReLU(negative_slope)
    with torch.no_grad():
        layer.bias += bias_shift

    def backward() -> None:
        layer.zero_grad()
        activation(layer(inputs)).sum(dim=1).mean().backward()

    backward()
    if learning_rate > 0:  # one step, then the gradient at the new weights
        torch.optim.SGD(layer.parameters(), lr=learning_rate).step()
        backward()
    pre_activation = layer(inputs).detach()

    result = dying_relu(bias_shift, learning_rate, negative_slope, 32, 16, 64, seed=3)
    assert result.gradient_norm == pytest.approx(layer.weight.grad.norm().item(), rel=1e-5)
    assert_close(torch.from_numpy(result.pre_activation), pre_activation.flatten())
    expected_active = (pre_activation > 0).float().mean(dim=0).numpy()
    np.testing.assert_array_equal(result.active_fraction, expected_active)


def test_deterministic_for_a_seed_and_leaves_global_rng_alone():
    state = torch.get_rng_state()
    first, again = dying_relu(learning_rate=0.2, seed=7), dying_relu(learning_rate=0.2, seed=7)
    assert torch.equal(torch.get_rng_state(), state)
    assert first.gradient_norm == again.gradient_norm
    np.testing.assert_array_equal(first.pre_activation, again.pre_activation)
    np.testing.assert_array_equal(first.active_fraction, again.active_fraction)
    assert dying_relu(learning_rate=0.2, seed=8).gradient_norm != first.gradient_norm


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"width": 0}, ValueError, "width must be a positive integer, got 0"),
        ({"batch": -1}, ValueError, "batch must be a positive integer, got -1"),
        ({"in_features": 2.5}, TypeError, "in_features must be an integer"),
        ({"learning_rate": -0.1}, ValueError, "learning_rate must be >= 0"),
        ({"negative_slope": -1.0}, ValueError, "negative_slope must be >= 0"),
        ({"bias_shift": "low"}, TypeError, "bias_shift must be a number"),
        ({"seed": -1}, ValueError, "seed must be an integer >= 0"),
    ],
)
def test_dying_relu_bad_args_name_the_parameter(kwargs, error, message):
    with pytest.raises(error, match=message):
        dying_relu(**kwargs)


@pytest.mark.parametrize("learning_rate", [0.05, 0.15, 0.2, 0.3, 0.6])
@pytest.mark.parametrize("bias_shift", [0.0, -0.3])
def test_a_unit_dies_exactly_when_the_step_reaches_its_death_learning_rate(
    learning_rate: float, bias_shift: float
) -> None:
    # the step lowers each pre-activation in proportion to the learning rate, so the units dead
    # after it are those whose death learning rate it reaches (an independent count: the real step)
    before = dying_relu(bias_shift=bias_shift)
    after = dying_relu(bias_shift=bias_shift, learning_rate=learning_rate)
    assert after.dead_units == int((before.death_learning_rate <= learning_rate).sum())


def test_a_bias_shift_kills_the_units_whose_largest_pre_activation_it_cancels() -> None:
    unshifted = dying_relu()
    for shift in (-0.5, -1.0, -2.0):
        expected = int((unshifted.max_pre_activation <= -shift).sum())
        assert dying_relu(bias_shift=shift).dead_units == expected
    assert np.isinf(dying_relu(negative_slope=0.01).death_learning_rate).all()
