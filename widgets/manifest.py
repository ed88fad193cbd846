"""The one list of the labs: their files, titles and what each teaches.

The README's lab table is generated from it (`python -m widgets.manifest` prints it; a test checks
the README holds exactly that), and the tests, `widgets.labs` and the exercise modules
(widgets/exercises/labNN.py) are checked against it. A new lab starts here.
"""

from __future__ import annotations

from dataclasses import dataclass

BINDER_REPO = "effml/effml-widgets"  # GitHub owner/name that Binder builds
# A ref of BINDER_REPO that exists (tests/test_binder.py): Binder rebuilds after each push to a
# branch, so once this repository has a release tag (git tag v0.1.0), pin the links to it.
BINDER_REF = "main"


@dataclass(frozen=True)
class LabInfo:
    """One lab: labs/<notebook>, its exercises in widgets/exercises/lab<number>.py."""

    number: str  # "01"
    notebook: str  # "01_activation_functions.ipynb"
    title: str
    teaches: str  # one line for the README's table

    @property
    def module(self) -> str:
        """The exercise module's name: 'lab01'."""
        return f"lab{self.number}"

    @property
    def binder_url(self) -> str:
        """Binder opens the learner copy (my-labs/, made by binder/postBuild)."""
        return (
            f"https://mybinder.org/v2/gh/{BINDER_REPO}/{BINDER_REF}"
            f"?urlpath=lab/tree/my-labs/{self.notebook}"
        )


LABS = (
    LabInfo(
        "01",
        "01_activation_functions.ipynb",
        "Activation functions",
        "why non-linearity, common activations and their derivatives, ReLU's sparsity and "
        "ReLU6's range, dying ReLU on a real layer",
    ),
    LabInfo(
        "02",
        "02_layers_params_macs.ipynb",
        "Layers: params and MACs",
        "terminology, linear, conv1d/conv2d (stride, padding, dilation, groups, depthwise), "
        "receptive field, pooling, batch/layer/instance/group norm, checked against torch",
    ),
    LabInfo(
        "03",
        "03_transformers_attention.ipynb",
        "Transformers and attention",
        "tokens, embeddings, positional encoding, multi-head self-attention step by step; "
        "attention grows quadratically with tokens, weights do not",
    ),
    LabInfo(
        "04",
        "04_efficiency_metrics.ipynb",
        "Efficiency metrics",
        "latency vs throughput, MACs vs FLOPs vs OPs, FLOPs vs FLOP/s, roofline, energy",
    ),
    LabInfo(
        "05",
        "05_memory_and_model_size.ipynb",
        "Memory and model size",
        "model size = params x bits, peak activation vs weights, MobileNetV2 vs ResNet-50, "
        "small devices",
    ),
)


def readme_table() -> str:
    """The README's lab table, one row per lab."""
    rows = [
        f"| [{lab.number} {lab.title}](labs/{lab.notebook}) | {lab.teaches} "
        f"| [Binder]({lab.binder_url}) |"
        for lab in LABS
    ]
    return "\n".join(["| lab | what it teaches | launch |", "|---|---|---|", *rows]) + "\n"


if __name__ == "__main__":
    print(readme_table(), end="")
