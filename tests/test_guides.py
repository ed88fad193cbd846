"""The guides: each lab's header cell, the glossary and its links, the instructor's guide."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LABS = sorted((ROOT / "labs").glob("[0-9][0-9]_*.ipynb"))
GLOSSARY = ROOT / "docs" / "glossary.md"
TERMS = {  # the glossary's anchors: each term the issue asks for
    "mac", "flop", "flops", "flop-per-second", "op", "kib", "parameter", "activation",
    "peak-activation", "latency", "throughput",
}  # fmt: skip
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _markdown(lab: Path) -> list[str]:
    cells = json.loads(lab.read_text())["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "markdown"]


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.stem)
def test_each_lab_opens_with_its_place_prerequisites_and_time(lab: Path) -> None:
    first = json.loads(lab.read_text())["cells"][0]
    header = "".join(first["source"])
    assert first["cell_type"] == "markdown"
    assert 'MIT 6.5940 EfficientML.ai (Fall 2024), Lecture 2 "Basics of Neural Networks"' in header
    assert f"Lab {int(lab.name[:2])} of {len(LABS)}" in header
    for part in ("**Prerequisites.**", "**Estimated time:**", "**Terms**"):
        assert part in header


def test_the_glossary_defines_every_term_once() -> None:
    anchors = re.findall(r'<a id="([\w-]+)"></a>\n## ', GLOSSARY.read_text())
    assert sorted(anchors) == sorted(TERMS)


def test_every_link_of_the_labs_resolves() -> None:
    anchors = set(re.findall(r'<a id="([\w-]+)"></a>', GLOSSARY.read_text()))
    for lab in LABS:
        for text in _markdown(lab):
            for target in LINK.findall(text):
                if target.startswith("http"):
                    continue
                path, _, anchor = target.partition("#")
                assert (lab.parent / path).exists(), f"{lab.name}: {target}"
                if path.endswith("glossary.md") and anchor:
                    assert anchor in anchors, f"{lab.name}: {target}"


def test_each_term_is_linked_at_its_first_use_outside_the_headers() -> None:
    linked = {
        target.partition("#")[2]
        for lab in LABS
        for text in _markdown(lab)[1:]  # not the header's list of terms
        for target in LINK.findall(text)
        if "glossary.md#" in target
    }
    assert linked == TERMS
