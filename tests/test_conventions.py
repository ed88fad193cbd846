"""The counting conventions live in widgets/core/units.py only (in the style of
test_public_api_only.py): bytes for a count at a bit width, FLOPs per MAC, the bit-width menus,
the binary units. Code elsewhere calls units; a retyped convention fails here. Strings and
comments (hints, worked solutions, docstrings) may state the convention in words."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "widgets"
HOME = PACKAGE / "core" / "units.py"

# pattern -> what to call instead
RETYPED = {
    r"bits\s*\)?\s*/\s*8\b": "units.bytes_for(count, bits)",
    r"\b2\s*\*\s*(self\.)?macs\b|\bflops\s*/\s*2\b": "units.flops_from_macs / FLOPS_PER_MAC",
    r"\(\s*32\s*,\s*16\s*,\s*8": "units.EXPLORER_BIT_WIDTHS or BIT_WIDTHS",
    r"\b1024\s*\*\*\s*[23]\b|\b2\s*\*\*\s*(20|30)\b|\b1024\s*\*\s*1024\b": "units.MIB (or a KiB/GiB constant there)",
}


def _code(path: Path) -> list[tuple[int, str]]:
    """(line number, code) of each line, strings and comments blanked out."""
    lines: dict[int, list[str]] = {}
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    for token in tokens:
        if token.type in (tokenize.STRING, tokenize.COMMENT) or token.type >= tokenize.N_TOKENS:
            continue
        if token.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
            continue
        lines.setdefault(token.start[0], []).append(token.string)
    return [(number, " ".join(parts)) for number, parts in sorted(lines.items())]


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path != HOME)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(PACKAGE)))
def test_conventions_are_not_retyped(path: Path) -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {code.strip()}  -> use {instead}"
        for number, code in _code(path)
        for pattern, instead in RETYPED.items()
        if re.search(pattern, code)
    ]
    assert not found, "\n".join(found)


def test_the_patterns_catch_what_they_are_for() -> None:
    samples = ["params * bits / 8", "return 2 * self.macs", "BITS = (32, 16, 8, 4)", "x = 2**20"]
    for sample, pattern in zip(samples, RETYPED, strict=True):
        assert re.search(pattern, " ".join(sample.replace("**", " ** ").split())), sample
