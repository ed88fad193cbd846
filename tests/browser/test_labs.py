"""Every lab in labs/*.ipynb, run in JupyterLab in a real browser, must work for a student.

Generic checks (explorer_checks.check_notebook): Run All gives no error, every widget renders,
every explorer shows its picture, controls and readouts and no message, one step of each slider
draws a new picture, and no error appears meanwhile. Lab-specific checks (choices, readouts that
must change, messages for invalid settings) are rows in LAB_CHECKS below.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from explorer_checks import Check, check_notebook
from lab_page import Pick, Press
from lab_server import LABS, JupyterServer
from playwright.sync_api import Page

# lab file -> rows of (control label, action, expected change), done in order after the generic
# checks; by default the image and the readout must both change
LAB_CHECKS: dict[str, list[Check]] = {
    "01_activation_functions.ipynb": [Check("unit", Pick("leaky ReLU"))],
    "02_layers_params_macs.ipynb": [
        Check("padding", Press("Home")),  # the slider steps left padding too large for pooling
        Check("layer", Pick("max pool")),
        Check("layers L", Press("Home"), explorer=1),  # the receptive field explorer
        Check("normalization", Pick("batch norm"), shows="nn.BatchNorm2d", explorer=3),
    ],
    "03_transformers_attention.ipynb": [
        Check("d_model", Press("End")),  # PositionalEncodingExplorer
        Check("self-attention", Pick("encoder: no mask"), explorer=1),  # AttentionWeightsExplorer
        Check("bits", Pick("8 bit"), explorer=2),  # AttentionExplorer
        Check("seq_len (tokens)", Press("ArrowRight"), explorer=2),  # the keyboard's own step
    ],
    "04_efficiency_metrics.ipynb": [
        Check("model", Pick("mobilenet_v2"), explorer=1),
        Check("bit width", Pick("8 bit"), explorer=1),
        Check("data lives in", Pick("SRAM"), explorer=2),
    ],
    "05_memory_and_model_size.ipynb": [
        Check("weights", Pick("8 bit")),
        Check("resolution (pixels)", Press("End")),
    ],
}


def test_check_table_names_existing_labs() -> None:
    assert set(LAB_CHECKS) <= {lab.name for lab in LABS}


@pytest.mark.browser
@pytest.mark.parametrize(
    "lab",
    LABS or [pytest.param(None, marks=pytest.mark.skip(reason="no labs yet"))],
    ids=lambda lab: lab.name if isinstance(lab, Path) else "no-labs",
)
def test_lab(lab: Path, page: Page, lab_server: JupyterServer) -> None:
    check_notebook(page, lab_server.lab_url(f"labs/{lab.name}"), LAB_CHECKS.get(lab.name, []))
