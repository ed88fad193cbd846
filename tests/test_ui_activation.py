"""ActivationExplorer shows what widgets.core.activations computes, in its panels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import check_random_settings, check_same_pictures_as_new, count_full_draws
from matplotlib.legend import Legend
from torch.testing import assert_close

from widgets.core.activations import ACTIVATIONS, dying_relu
from widgets.ui.activation import BINS, ActivationExplorer


@pytest.fixture(scope="module")
def explorer() -> ActivationExplorer:
    return ActivationExplorer()


def shown_curve(line) -> torch.Tensor:
    return torch.from_numpy(np.asarray(line.get_ydata()))


def test_curves_are_the_core_recipes():
    ex = ActivationExplorer(activations=("relu", "leaky_relu", "gelu"), negative_slope=0.2)
    x = torch.from_numpy(np.asarray(ex.output_lines["relu"].get_xdata()))
    assert x[0] == -4 and x[-1] == 4
    for name, params in [("relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("gelu", {})]:
        activation = ACTIVATIONS[name]
        assert ex.output_lines[name].get_visible() and ex.derivative_lines[name].get_visible()
        assert_close(shown_curve(ex.output_lines[name]), activation.forward(x, **params))
        assert_close(shown_curve(ex.derivative_lines[name]), activation.derivative(x, **params))
    assert not ex.output_lines["tanh"].get_visible()
    assert ex.curves_ax.get_xlim() == (-4.0, 4.0)
    low, high = ex.curves_ax.get_ylim()
    assert low <= -0.8 and high >= 4  # leaky relu reaches -0.8, relu 4


def test_readouts_show_facts_and_the_dying_experiment():
    ex = ActivationExplorer(activations=("tanh", "relu"), bias_shift=-0.5, learning_rate=0.2)
    expected = dying_relu(bias_shift=-0.5, learning_rate=0.2)
    assert list(ex.readouts) == ["tanh", "relu", "dead_units", "dead_fraction", "gradient_norm"]
    assert "range (-1, 1); zero-centred; monotonic" in ex.readouts["tanh"]
    # the readout never names where f' is 0: lab 01's Exercise 3 asks for that reasoning
    assert "where" not in ex.readouts["relu"] and "range [0, inf)" in ex.readouts["relu"]
    assert ex.readouts["dead_fraction"] == expected.dead_fraction > 0
    assert ex.readouts["gradient_norm"] == expected.gradient_norm
    counts = np.histogram(expected.active_fraction, bins=BINS)[0]
    assert_close(torch.from_numpy(ex.unit_histogram.get_data().values), torch.from_numpy(counts))
    assert ex.readouts["dead_units"] == f"{expected.dead_units} of 256"
    assert "dead units (share)" in ex.widget.children[3].value


def test_leaky_units_do_not_die_and_the_figure_is_kept():
    ex = ActivationExplorer(bias_shift=-0.5, learning_rate=0.2)
    figure = ex.figure
    assert ex.readouts["dead_fraction"] > 0
    ex.set(dying_activation="leaky_relu", negative_slope=0.1)
    expected = dying_relu(bias_shift=-0.5, learning_rate=0.2, negative_slope=0.1)
    assert ex.figure is figure
    assert ex.readouts["dead_fraction"] == expected.dead_fraction == 0
    assert ex.readouts["gradient_norm"] == expected.gradient_norm > 0
    assert ex.readouts["dead_units"] == "0 of 256"


def test_negative_slope_moves_the_leaky_curve_not_the_axes(explorer):
    explorer.set(negative_slope=0.0)
    before, ylim = shown_curve(explorer.output_lines["leaky_relu"]), explorer.curves_ax.get_ylim()
    explorer.set(negative_slope=0.5)
    after = shown_curve(explorer.output_lines["leaky_relu"])
    assert_close(after[0], torch.tensor(-4 * 0.5, dtype=torch.float64))
    assert not torch.equal(before, after)
    assert explorer.curves_ax.get_ylim() == ylim


def test_derivatives_can_be_hidden(explorer):
    explorer.set(show_derivative=False)
    assert not any(line.get_visible() for line in explorer.derivative_lines.values())
    explorer.set(show_derivative=True)
    assert explorer.derivative_lines["relu"].get_visible()


def test_the_legend_names_the_shown_curves_in_their_colours(explorer):
    explorer.set(activations=("tanh", "elu"))
    explorer.set(activations=("elu", "tanh"))
    legend = explorer.legend  # drawn apart, shown over the curves as a picture
    assert [text.get_text() for text in legend.texts] == ["ELU", "Tanh", "f(x)", "derivative f'(x)"]
    assert not any(isinstance(child, Legend) for child in explorer.curves_ax.get_children())
    assert "ELU: from" in explorer.descriptions[0]  # the lines are named for the text alternative
    colours = [handle.get_color() for handle in legend.legend_handles[:2]]
    assert colours == [explorer.output_lines[name].get_color() for name in ("elu", "tanh")]
    styles = [handle.get_linestyle() for handle in legend.legend_handles[2:]]
    assert styles == ["-", "--"]  # the key to the derivatives' dashes


@pytest.mark.parametrize(
    ("values", "named"),
    [({"x_range": (1.0, 1.0)}, "x_range"), ({"activations": ()}, "activations")],
)
def test_invalid_settings_show_a_message_and_keep_the_view(values, named):
    ex = ActivationExplorer()
    readouts, ydata = ex.readouts, ex.output_lines["relu"].get_ydata().copy()
    ex.set(**values)
    assert named in ex.message
    assert ex.readouts == readouts
    assert np.array_equal(ex.output_lines["relu"].get_ydata(), ydata)


def test_unknown_activation_name_lists_the_choices(explorer):
    with pytest.raises(ValueError, match="unknown activations 'swoosh'; choose one of: 'relu'"):
        explorer.set(activations=("relu", "swoosh"))


def test_hidden_controls_are_not_shown():
    ex = ActivationExplorer(hide=["x_range", "bias_shift"])
    curves, dying = ex.widget.children[0].children
    assert ex.controls["x_range"] not in curves.children
    assert ex.controls["negative_slope"] in curves.children
    assert ex.controls["bias_shift"] not in dying.children
    assert ex.controls["learning_rate"] in dying.children


def test_random_settings_never_raise(explorer):
    def check(values):
        valid = bool(values["activations"]) and values["x_range"][0] < values["x_range"][1]
        assert (explorer.message == "") == valid
        if valid:
            assert list(explorer.readouts)[:-3] == list(values["activations"])

    check_random_settings(explorer, check)


def test_new_limits_redraw_the_axes_not_the_legend_and_pictures_stay_exact(monkeypatch):
    ex = ActivationExplorer()
    full_draws = count_full_draws(ex, monkeypatch)
    legend = ex.legend
    steps = [{"x_range": (-9.0, 2.0)}, {"activations": ("sigmoid", "tanh")},
             {"show_derivative": False, "x_range": (1.0, 3.5)}, {"negative_slope": 0.5}]  # fmt: skip
    ex.set(**steps[0])
    assert full_draws == [0] and ex.legend is legend  # the axes, without the legend
    check_same_pictures_as_new(ex, steps)
