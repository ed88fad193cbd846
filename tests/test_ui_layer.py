"""LayerExplorer's numbers are those of the real torch layer."""

from __future__ import annotations

import pytest
import torch
from helpers import check_random_settings, check_same_pictures_as_new, count_full_draws, torch_macs
from torch import nn

from widgets.ui.layer import COUNT_LIMITS, HYPER_PARAMETERS, LayerExplorer, layer_arguments


@pytest.fixture(scope="module")
def explorer() -> LayerExplorer:
    return LayerExplorer()


MODULES = {
    "linear": nn.Linear,
    "conv2d": nn.Conv2d,
    "depthwise_conv2d": nn.Conv2d,
    "maxpool2d": nn.MaxPool2d,
    "avgpool2d": nn.AvgPool2d,
}


def torch_layer(values: dict, device: str = "cpu") -> tuple[nn.Module, torch.Tensor]:
    """The torch module the explorer describes for these control values, and its input."""
    kind = values["kind"]
    arguments = layer_arguments(kind, **{name: values[name] for name in HYPER_PARAMETERS})
    input_shape = arguments.pop("input_shape")
    if kind == "depthwise_conv2d":
        arguments["groups"] = arguments["in_channels"]
    with torch.device(device):
        return MODULES[kind](**arguments), torch.zeros(input_shape)


@pytest.mark.parametrize(
    "setting",
    [
        {},
        {"kernel_size": 5, "stride": 2, "padding": 2, "dilation": 2, "bias": False},
        {"groups": 4},
        {"kind": "depthwise_conv2d", "out_channels": 128},
        {"kind": "linear", "in_channels": 3, "input_size": 32, "out_channels": 10},
        {"kind": "maxpool2d", "kernel_size": 2, "stride": 2, "padding": 0},
        {"kind": "avgpool2d", "kernel_size": 3, "stride": 2, "padding": 1, "input_size": 7},
    ],
)
def test_readouts_are_those_of_the_torch_layer(setting):
    ex = LayerExplorer(**setting)
    values = {name: control.value for name, control in ex.controls.items()}
    module, x = torch_layer(values)
    assert ex.message == ""
    assert ex.readouts["params"] == sum(p.numel() for p in module.parameters())
    assert ex.readouts["output_shape"] == tuple(module(x).shape)
    assert ex.readouts["macs"] == torch_macs(module, x)


def test_formulas_are_filled_in(explorer):
    explorer.set(kind="conv2d", in_channels=64, out_channels=128, kernel_size=3, groups=1)
    assert explorer.readouts["params_formula"] == (
        "(C_in/groups * k_h * k_w + 1) * C_out = (64/1 * 3 * 3 + 1) * 128 = 73,856"
    )
    assert explorer.readouts["macs_formula"].endswith("= 231,211,008")


def test_depthwise_separable_comparison_counts_both_layers():
    ex = LayerExplorer(in_channels=32, out_channels=64, kernel_size=3, padding=1, input_size=28)
    standard = nn.Conv2d(32, 64, 3, padding=1)
    separable = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32), nn.Conv2d(32, 64, 1))
    x = torch.zeros(1, 32, 28, 28)
    assert ex.readouts["standard_macs"] == torch_macs(standard, x)
    assert ex.readouts["separable_macs"] == torch_macs(separable, x)
    assert ex.readouts["macs_saving"] == torch_macs(standard, x) / torch_macs(separable, x)
    assert ex.bars["macs", 2].get_height() == torch_macs(separable, x)
    assert ex.bars["params", 2].get_height() == sum(p.numel() for p in separable.parameters())
    ex.set(compare=False)
    assert "macs_saving" not in ex.readouts
    assert not ex.bars["macs", 2].get_visible() and ex.bars["macs", 0].get_visible()


def test_a_change_updates_the_same_figure(explorer):
    explorer.set(kind="conv2d", kernel_size=3, groups=1, sweep="kernel_size")
    figure, height = explorer.figure, explorer.bars["macs", 0].get_height()
    explorer.set(kernel_size=5)
    assert explorer.figure is figure
    assert explorer.bars["macs", 0].get_height() == pytest.approx(height * 25 / 9, rel=0.2)
    assert list(explorer.current_marker.get_xdata()) == [5, 5]
    assert list(explorer.current_marker.get_ydata()) == [
        explorer.readouts["params"],
        explorer.readouts["macs"],
    ]
    assert 11 in explorer.sweep_lines["macs"].get_xdata()
    assert explorer.bars_ax.get_ylim() == explorer.sweep_ax.get_ylim() == COUNT_LIMITS


def test_the_axes_hold_the_largest_counts_with_room_for_the_legend(explorer):
    largest = {name: explorer.controls[name].max for name in ("in_channels", "out_channels",
               "kernel_size", "padding", "input_size")}  # fmt: skip
    explorer.set(kind="conv2d", stride=1, dilation=1, groups=1, **largest)
    assert explorer.readouts["macs"] * 30 <= COUNT_LIMITS[1]
    explorer.set(kind="linear")
    assert explorer.readouts["params"] * 30 <= COUNT_LIMITS[1]


def test_no_step_draws_a_panel_in_full_and_pictures_stay_exact(monkeypatch):
    ex = LayerExplorer()
    full_draws = count_full_draws(ex, monkeypatch)
    steps = [{"compare": False}, {"sweep": "groups"}, {"in_channels": 512, "out_channels": 512},
             {"kind": "linear"}, {"kind": "maxpool2d", "sweep": "input_size"},
             {"kind": "conv2d", "compare": True}]  # fmt: skip
    for step in steps:
        ex.set(**step)
    assert full_draws == []
    check_same_pictures_as_new(ex, steps)


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ({"groups": 3}, "groups"),
        ({"kernel_size": 11, "input_size": 4, "padding": 0}, "kernel_size"),
        ({"kind": "depthwise_conv2d", "out_channels": 100}, "out_channels"),
        ({"kind": "maxpool2d", "kernel_size": 2, "padding": 2}, "padding"),
    ],
)
def test_invalid_combinations_show_a_message_and_keep_the_view(setting, named):
    ex = LayerExplorer()
    readouts, height = ex.readouts, ex.bars["macs", 0].get_height()
    ex.set(**setting)
    assert named in ex.message
    assert ex.readouts == readouts
    assert ex.bars["macs", 0].get_height() == height


def test_controls_a_layer_does_not_use_are_greyed_out(explorer):
    explorer.set(kind="linear")
    assert explorer.controls["kernel_size"].disabled and explorer.controls["groups"].disabled
    assert not explorer.controls["out_channels"].disabled
    explorer.set(kind="conv2d")
    assert not explorer.controls["kernel_size"].disabled


def test_hidden_controls_are_not_shown():
    ex = LayerExplorer(hide=["dilation", "sweep"])
    shown = ex.widget.children[0].children
    assert ex.controls["dilation"] not in shown and ex.controls["sweep"] not in shown
    assert ex.controls["kernel_size"] in shown


def test_unknown_kind_lists_the_kinds(explorer):
    with pytest.raises(ValueError, match="unknown kind 'conv3d'; choose one of: 'conv2d'"):
        explorer.set(kind="conv3d")


def test_random_settings_agree_with_torch(explorer):
    def check(values):
        try:  # on the meta device: shapes only, nothing allocated
            module, x = torch_layer(values, device="meta")
            output_shape = tuple(module(x).shape)
        except (ValueError, RuntimeError):
            assert explorer.message != ""
        else:
            assert explorer.message == ""
            assert explorer.readouts["params"] == sum(p.numel() for p in module.parameters())
            assert explorer.readouts["output_shape"] == output_shape

    check_random_settings(explorer, check)
