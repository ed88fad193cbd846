"""No import-time work: importing the package and every explorer does not import torchvision
(~0.5 s and tens of MiB); it is imported where a torchvision model is built."""

import subprocess
import sys
from pathlib import Path

import widgets

UI = Path(widgets.__file__).parent / "ui"
MODULES = ["widgets", *sorted(f"widgets.ui.{p.stem}" for p in UI.glob("*.py"))]


def test_importing_widgets_and_every_explorer_does_not_import_torchvision():
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "    assert 'torchvision' not in sys.modules, name\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_a_torchvision_builder_imports_it_when_called():
    from widgets.core.vision_models import TorchvisionModel

    model = TorchvisionModel("resnet18", num_classes=10)()
    assert model.fc.out_features == 10
    assert hash(TorchvisionModel("resnet18")) == hash(TorchvisionModel("resnet18"))
