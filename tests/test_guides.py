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
LINK_TEXT = re.compile(r"(?<!!)\[([^\]]*)\]\([^)\s]+\)")  # a link's text, not an image's


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


def test_every_link_of_the_labs_is_underlined() -> None:
    # Voilà and nbconvert draw links without underline, in a blue 1.9:1 from the text's grey:
    # told apart by colour alone (WCAG 1.4.1; tests/browser/test_prose.py audits it)
    for lab in LABS:
        for text in _markdown(lab):
            for link_text in LINK_TEXT.findall(text):
                assert re.fullmatch(r"<u>.+</u>", link_text), (
                    f"{lab.name}: write the link [{link_text}](...) as [<u>{link_text}</u>](...)"
                )


def test_each_term_is_linked_at_its_first_use_outside_the_headers() -> None:
    linked = {
        target.partition("#")[2]
        for lab in LABS
        for text in _markdown(lab)[1:]  # not the header's list of terms
        for target in LINK.findall(text)
        if "glossary.md#" in target
    }
    assert linked == TERMS


EXPLORER_DEMOS = sorted((ROOT / "docs" / "explorers").glob("*.ipynb"))


@pytest.mark.parametrize("demo", EXPLORER_DEMOS, ids=lambda demo: demo.stem)
def test_each_explorer_demo_builds_its_explorer(demo: Path) -> None:
    import ipywidgets

    (code,) = [c for c in json.loads(demo.read_text())["cells"] if c["cell_type"] == "code"]
    *statements, last = "".join(code["source"]).strip().splitlines()
    namespace: dict = {}
    exec("\n".join(statements), namespace)
    explorer = eval(last, namespace)
    assert isinstance(explorer, ipywidgets.DOMWidget) or hasattr(explorer, "_repr_mimebundle_")
    assert f"voila docs/explorers/{demo.name}" in "".join(
        json.loads(demo.read_text())["cells"][0]["source"]
    )


def test_the_instructors_guide_quotes_lab_limits_for_every_lab() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "lab_limits", ROOT / "benchmarks" / "lab_limits.py"
    )
    lab_limits = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lab_limits)
    guide = (ROOT / "docs" / "instructor.md").read_text()
    header = (
        f"| lab | seconds (limit {lab_limits.LIMIT_S}) | peak kernel RSS, MiB "
        f"(limit {lab_limits.LIMIT_MIB:.0f}) | re-run |"
    )
    assert header in guide, "paste the table benchmarks/lab_limits.py prints"
    assert "python benchmarks/lab_limits.py" in guide
    rows = re.findall(
        r"^\| (\d\d_\w+) \| ([\d.]+) \| (\d+) \| (\w+) \|$", guide, flags=re.MULTILINE
    )
    assert [row[0] for row in rows] == [lab.stem for lab in LABS]
    for lab, seconds, mib, status in rows:
        assert status == "ok" and float(seconds) <= lab_limits.LIMIT_S, lab
        assert int(mib) < lab_limits.LIMIT_MIB, lab
        assert f"### Lab {int(lab[:2])} " in guide
        assert f"**Running time:** {seconds} s" in guide, lab
    # the sizing advice quotes the table's extremes
    peaks = sorted(int(row[2]) for row in rows)
    assert f"between {peaks[0]} and {peaks[-1]} MiB" in guide
    assert f"at most {peaks[-1]} MiB" in guide
    assert f"at most {max(float(row[1]) for row in rows)} s" in guide
