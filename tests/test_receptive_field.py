"""The receptive field against torch: the input pixels with a nonzero gradient of one output."""

from __future__ import annotations

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

import widgets
from widgets.core.receptive_field import (
    layers_to_see_all,
    receptive_field,
    receptive_field_size,
)


def conv_stack(ndim: int, layers: int, **hyper_params) -> nn.Sequential:
    """L convolutions with all weights 1 and no bias: every path adds a positive amount to the
    gradient, so none cancels and its support is exactly the set of pixels an output sees."""
    conv = {1: nn.Conv1d, 2: nn.Conv2d}[ndim]
    stack = nn.Sequential(*[conv(1, 1, bias=False, **hyper_params) for _ in range(layers)])
    for layer in stack:
        nn.init.ones_(layer.weight)
    return stack.double()


def torch_seen(ndim: int, input_size: int, layers: int, index: int, **hyper_params):
    """(the input pixels whose gradient is nonzero, the output's shape) of the real stack."""
    x = torch.ones((1, 1) + (input_size,) * ndim, dtype=torch.float64, requires_grad=True)
    output = conv_stack(ndim, layers, **hyper_params)(x)
    output[(0, 0) + (index,) * ndim].backward()
    return x.grad[0, 0] != 0, tuple(output.shape[2:])


@st.composite
def stacks(draw):
    return dict(
        input_size=draw(st.integers(1, 40)),
        layers=draw(st.integers(1, 4)),
        kernel_size=draw(st.integers(1, 5)),
        stride=draw(st.integers(1, 3)),
        dilation=draw(st.integers(1, 3)),
        padding=draw(st.integers(0, 3)),
    )


@settings(max_examples=150, deadline=None)
@given(stack=stacks(), where=st.floats(0, 1))
def test_seen_pixels_are_the_gradient_support_of_a_real_conv1d_stack(stack, where):
    input_size, layers = stack.pop("input_size"), stack.pop("layers")
    try:
        field = receptive_field(input_size, layers, **stack)
    except ValueError:  # the input got smaller than a dilated kernel: torch refuses it too
        with pytest.raises(RuntimeError):
            torch_seen(1, input_size, layers, 0, **stack)
        return
    index = round(where * (field.output_sizes[-1] - 1))
    field = receptive_field(input_size, layers, **stack, output_index=index)
    seen, output_shape = torch_seen(1, input_size, layers, index, **stack)
    assert output_shape == field.output_sizes[-1:]
    assert torch.equal(torch.from_numpy(field.seen), seen)
    assert field.pixels_seen == int(seen.sum())


def test_a_conv2d_stack_sees_the_product_of_the_1d_sets():
    hyper_params = dict(kernel_size=3, stride=2, dilation=1, padding=1)
    field = receptive_field(33, 3, **hyper_params)
    seen, output_shape = torch_seen(2, 33, 3, field.output_index, **hyper_params)
    assert output_shape == (field.output_sizes[-1],) * 2
    product = torch.from_numpy(field.seen[:, None] & field.seen[None, :])
    assert torch.equal(product, seen)


@pytest.mark.parametrize("layers", [1, 2, 5, 10])
@pytest.mark.parametrize("kernel_size", [1, 3, 7])
def test_stride_1_sees_l_times_k_minus_1_plus_1_pixels(layers, kernel_size):
    field = receptive_field(200, layers, kernel_size)
    assert field.size == receptive_field_size(layers, kernel_size) == layers * (kernel_size - 1) + 1
    assert field.pixels_seen == field.size  # an inner output, no gaps at dilation 1
    pixels = field.seen.nonzero()[0].tolist()
    assert pixels == list(range(pixels[0], pixels[0] + field.size))


@settings(max_examples=100, deadline=None)
@given(stack=stacks())
@example(stack=dict(input_size=1, layers=3, kernel_size=1, stride=3, dilation=1, padding=1))
def test_size_is_the_span_of_an_inner_output(stack):
    """Far from the borders, the first and last pixels seen are `size` pixels apart."""
    layers, padding = stack.pop("layers"), stack.pop("padding")
    del stack["input_size"]
    # padding shifts the windows by up to sum_l p s^(l-1) pixels: keep the middle one inside
    shift = padding * receptive_field_size(layers, kernel_size=2, stride=stack["stride"])
    input_size = 2 * (receptive_field_size(layers, **stack) + shift) + 10
    field = receptive_field(input_size, layers, padding=padding, **stack)
    pixels = field.seen.nonzero()[0]
    assert pixels[-1] - pixels[0] + 1 == field.size


def test_downsampling_sees_a_large_image_with_few_layers():
    assert layers_to_see_all(224, kernel_size=3) == 112  # 112 * 2 + 1 = 225 >= 224
    assert layers_to_see_all(224, kernel_size=3, stride=2) == 7  # 2**8 - 1 = 255
    assert receptive_field_size(7, 3, stride=2) == 255 >= 224 > receptive_field_size(6, 3, 2)
    assert layers_to_see_all(224, kernel_size=3, dilation=2) == 56
    assert layers_to_see_all(224, kernel_size=1) is None
    assert layers_to_see_all(1, kernel_size=3) == 0


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        (dict(input_size=8, layers=0, kernel_size=3), ValueError, "layers must be a positive"),
        (dict(input_size=8, layers=1, kernel_size=0), ValueError, "kernel_size must be a posit"),
        (dict(input_size=8, layers=1, kernel_size=3, stride=1.5), TypeError, "stride must be"),
        (dict(input_size=6, layers=3, kernel_size=3), ValueError, "larger than the padded input"),
        (dict(input_size=8, layers=1, kernel_size=3, output_index=6), ValueError, "below the out"),
        (dict(input_size=8, layers=1, kernel_size=3, padding=-1), ValueError, "padding must be"),
    ],
)
def test_bad_input_names_the_parameter(arguments, error, match):
    with pytest.raises(error, match=match):
        receptive_field(**arguments)


def test_stack_receptive_field_matches_torch_on_resnets_stem_and_first_stage():
    # ResNet-18's stem and first stage; average pooling has max pooling's window and stride and
    # passes a gradient to every pixel of its window, so torch shows the whole field
    stack = nn.Sequential(
        nn.Conv2d(1, 1, 7, stride=2, padding=3, bias=False),
        nn.AvgPool2d(3, stride=2, padding=1),
        *[nn.Conv2d(1, 1, 3, padding=1, bias=False) for _ in range(4)],
    )
    for layer in stack:
        if isinstance(layer, nn.Conv2d):
            nn.init.ones_(layer.weight)
    image = torch.ones(1, 1, 96, 96, requires_grad=True)
    output = stack(image)
    middle = output.shape[-1] // 2
    output[0, 0, middle, middle].backward()
    seen_columns = (image.grad[0, 0] != 0).any(dim=0).nonzero()
    width = int(seen_columns.max() - seen_columns.min() + 1)
    windows = [(7, 2), (3, 2), (3, 1), (3, 1), (3, 1), (3, 1)]
    assert widgets.stack_receptive_field(windows) == width == 43
    assert widgets.stack_receptive_field([(3, 2, 1)] * 3) == widgets.receptive_field_size(3, 3, 2)
    with pytest.raises(ValueError, match=r"windows\[0\]"):
        widgets.stack_receptive_field([(3,)])
