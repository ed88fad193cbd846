"""Lab 01 (activation functions): exercises and predictions, answers computed with widgets.core."""

from __future__ import annotations

import torch

from widgets.core.activations import SMALL_LEARNING_RATE, dying_relu, get_activation
from widgets.core.layers import layer_cost

from . import Exercise, Lab, Mistake, Prediction

# --- a stack of linear layers collapses to one ---------------------------------------------

STACK_WIDTHS = (784, 256, 256, 10)  # Linear(784, 256) -> Linear(256, 256) -> Linear(256, 10)


def _linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    shape = (1, in_features)
    return layer_cost(
        "linear", input_shape=shape, in_features=in_features, out_features=out_features, bias=bias
    ).params


_stack_params = sum(map(_linear_params, STACK_WIDTHS[:-1], STACK_WIDTHS[1:]))
_collapsed = layer_cost(
    "linear",
    input_shape=(1, STACK_WIDTHS[0]),
    in_features=STACK_WIDTHS[0],
    out_features=STACK_WIDTHS[-1],
)

collapsed_params = Exercise(
    question=(
        "Linear(784, 256) -> Linear(256, 256) -> Linear(256, 10) with no activation in between "
        "computes the same function as ONE linear layer. How many parameters (bias included) "
        "has that one layer?"
    ),
    answer=_linear_params(STACK_WIDTHS[0], STACK_WIDTHS[-1]),
    hint="W3 W2 W1 is a single 10 x 784 matrix, and the biases add up to a single vector.",
    mistakes=[
        Mistake(
            _linear_params(STACK_WIDTHS[0], STACK_WIDTHS[-1], bias=False),
            "That is the weight matrix only: the collapsed layer also has one bias per output.",
        ),
        Mistake(
            _stack_params,
            "That is the stack's parameter count. The question is about the one equivalent layer.",
        ),
    ],
    unit="parameters",
    tolerance=0,
    solution=[
        "Without activations: W3 (W2 (W1 x + b1) + b2) + b3 = (W3 W2 W1) x + (W3 W2 b1 + W3 b2 + b3).",
        f"W3 W2 W1 is one {STACK_WIDTHS[-1]} x {STACK_WIDTHS[0]} matrix and the bias one vector "
        f"of {STACK_WIDTHS[-1]}: nn.Linear({STACK_WIDTHS[0]}, {STACK_WIDTHS[-1]}).",
        f"Its parameters: {_collapsed.params_formula}.",
    ],
)

# --- derivatives --------------------------------------------------------------------------

_x = torch.linspace(-10, 10, 20_001, dtype=torch.float64)  # step 0.001, includes x = 0
_sigmoid = get_activation("sigmoid")
_sigmoid_0 = _sigmoid.forward(torch.tensor(0.0)).item()

sigmoid_max_slope = Exercise(
    question="What is the largest value the sigmoid's derivative σ'(x) takes, over all x?",
    answer=_sigmoid.derivative(_x).max().item(),
    hint="σ'(x) = σ(x) (1 - σ(x)): where is that product of two numbers in (0, 1) largest?",
    mistakes=[
        Mistake(
            _sigmoid.forward(torch.tensor(0.0)).item(), "That is σ(0), the value, not the slope."
        ),
        Mistake(1.0, "That is the largest slope of ReLU or tanh; the sigmoid is flatter."),
    ],
    solution=[
        "σ'(x) = σ(x) (1 - σ(x)) = p (1 - p) with p = σ(x) between 0 and 1.",
        "p (1 - p) is largest at p = 1/2, the middle of (0, 1): that is x = 0, where "
        f"σ(0) = {_sigmoid_0:g}.",
        f"σ'(0) = {_sigmoid_0:g} x (1 - {_sigmoid_0:g}) = {_sigmoid_0 * (1 - _sigmoid_0):g} "
        f"(the largest of σ' on x from -10 to 10 in steps of 0.001: "
        f"{_sigmoid.derivative(_x).max().item():g}).",
    ],
)

# candidate name -> hint when chosen although f'(x) is nowhere 0 over a whole range of inputs
_NONZERO_SLOPE_HINTS = {
    "leaky_relu": "Leaky ReLU keeps the slope negative_slope (0.01 by default) for x < 0.",
    "gelu": "GELU's slope fades for x << 0 (and is negative on the way), but is never exactly 0.",
    "elu": "ELU's slope for x < 0 is α e^x: small for x << 0, never exactly 0.",
    "silu": "SiLU's slope gets tiny for x << 0, but is not exactly 0.",
}
_CANDIDATES = ("leaky_relu", "gelu", "elu", "silu", "hardswish")
_far_left = _x[_x <= -5]  # a whole range of inputs: every x from -10 to -5
(_can_die,) = (
    name for name in _CANDIDATES if (get_activation(name).derivative(_far_left) == 0).all()
)

_slope_at_minus_6 = {
    name: get_activation(name).derivative(torch.tensor(-6.0)).item() for name in _CANDIDATES
}

zero_gradient = Exercise(
    question=(
        "ReLU units can die because f'(x) = 0 for every x < 0. Which of these activations also "
        "has a derivative of exactly 0 over a whole range of inputs, so that its units can die "
        "too: " + ", ".join(repr(name) for name in _CANDIDATES) + "?"
    ),
    answer=_can_die,
    hint=(
        "f'(x) = 0 on a whole interval means f is constant there. A formula built from exp, erf "
        "or tanh is never exactly constant; one built from max and min can be: which formula "
        "has a max or min that makes it constant for all x far enough to the left?"
    ),
    mistakes=[Mistake(name, hint) for name, hint in _NONZERO_SLOPE_HINTS.items()],
    choices=_CANDIDATES,
    solution=[
        "The slopes at x = -6: "
        + ", ".join(f"f'(-6) = {slope:.3g} for {name}" for name, slope in _slope_at_minus_6.items())
        + ".",
        f"On every x from -10 to -5 (steps of 0.001) only {_can_die}'s slope is exactly 0 at "
        "every point; the others' slopes can be small there, but not 0.",
    ],
)

# --- dying ReLU ---------------------------------------------------------------------------

LARGE_LEARNING_RATE = 0.3
BIAS_SHIFT = -1.0

# The dying-ReLU experiments run on first use (see Lab), not when the lab module is imported.


def _dead_after_large_step() -> Prediction:
    _large_step = dying_relu(learning_rate=LARGE_LEARNING_RATE)
    _small_step_dead = dying_relu(learning_rate=SMALL_LEARNING_RATE).dead_units
    _small_step_dying = f"{_small_step_dead} units are" if _small_step_dead else "no unit is"

    return Prediction(
        question=(
            f"With the default learning rate {SMALL_LEARNING_RATE:g} {_small_step_dying} dead after "
            f"one SGD step. At learning "
            f"rate {LARGE_LEARNING_RATE}, how many of the {_large_step.units} ReLU units do you "
            "expect to be dead? (The spread of the units' death learning rates is printed above.)"
        ),
        measured=_large_step.dead_units,
        explanation=(
            "The step lowers every pre-activation in proportion to the learning rate, so a unit dies "
            "when the step reaches its death learning rate: the units whose death learning rate is "
            f"at most {LARGE_LEARNING_RATE} are dead. Their pre-activation is then <= 0 on every "
            "input of the batch: "
            "f' = 0 there, so no later step on these inputs can bring them back."
        ),
        unit="units",
        source="computed",
        solution=[
            f"widgets.dying_relu(learning_rate={LARGE_LEARNING_RATE}) takes one SGD step on the "
            f"layer and counts the units whose pre-activation is <= 0 for every input: "
            f"{_large_step.dead_units} of {_large_step.units} ({_large_step.dead_fraction:.0%}).",
            f"At learning rate {SMALL_LEARNING_RATE:g} the same count is {_small_step_dead}.",
        ],
    )


def _dead_after_bias_shift() -> Exercise:
    _shifted = dying_relu(bias_shift=BIAS_SHIFT)
    _shifted_leaky = dying_relu(bias_shift=BIAS_SHIFT, negative_slope=0.01)

    return Exercise(
        question=(
            f"With no SGD step (learning rate 0) but every bias shifted by {BIAS_SHIFT:g}, how many "
            f"of the {_shifted.units} ReLU units are dead? Count them from each unit's largest "
            "pre-activation over the batch (default_step.max_pre_activation)."
        ),
        answer=_shifted.dead_units,
        hint=(
            f"After the shift a unit's pre-activation is w·x + b - {-BIAS_SHIFT:g}: it is dead when "
            "that is <= 0 on every input, i.e. when its largest pre-activation w·x + b is at most "
            f"{-BIAS_SHIFT:g}."
        ),
        mistakes=[
            Mistake(
                _shifted.units - _shifted.dead_units, "That is the count of units still alive."
            ),
            Mistake(_shifted.dead_fraction, "That is the dead fraction; give the number of units."),
            Mistake(
                _shifted_leaky.dead_units, "That is leaky ReLU's count: switch 'unit' to ReLU."
            ),
        ],
        unit="units",
        tolerance=0,
        solution=[
            f"Every bias lowered by {-BIAS_SHIFT:g}: a unit is dead when w·x + b - {-BIAS_SHIFT:g} <= 0 "
            "for every input of the batch.",
            f"widgets.dying_relu(bias_shift={BIAS_SHIFT:g}) counts them: {_shifted.dead_units} of "
            f"{_shifted.units} units ({_shifted.dead_fraction:.0%}); "
            f"{_shifted.units - _shifted.dead_units} still fire for some input.",
        ],
    )


lab = Lab(
    globals(),
    built_on_first_use={
        "dead_after_large_step": _dead_after_large_step,
        "dead_after_bias_shift": _dead_after_bias_shift,
    },
)
progress, __getattr__, __dir__ = lab.progress, lab.module_getattr, lab.module_dir
