"""Bytes and encode time of each way to encode an explorer's pictures as PNG.

Every panel of every explorer that does not measure time, at its default setting, drawn at
pixel ratio 1 and 2 (widgets.display_options), encoded each way below; prints the median over
the panels of the PNG size, of the data: URL sent to the browser (base64: 4/3 of it) and of the
encode time (ms, best of 5 runs per panel), and the largest difference to the drawn pixels.

    rgb z1, rgb z6       24-bit PNG, zlib level 1 or 6 (level 9: ~8 % fewer bytes, 3-4x the time)
    palette N z1/z6      Pillow quantize to N colours (fast octree, no dithering), then PNG

Usage: python benchmarks/encodings.py
"""

from __future__ import annotations

import base64
import io
import time

import numpy as np
from PIL import Image

import widgets

EXPLORERS = ["ActivationExplorer", "LayerExplorer", "AttentionExplorer", "MemoryExplorer",
             "EnergyExplorer", "RooflineExplorer"]  # fmt: skip


def encoder(colours: int | None, level: int):
    def encode(rgba: np.ndarray) -> bytes:
        image = Image.fromarray(np.ascontiguousarray(rgba[..., :3]))
        if colours:
            image = image.quantize(
                colours, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
            )
        out = io.BytesIO()
        image.save(out, format="PNG", compress_level=level)
        return out.getvalue()

    return encode


OPTIONS = {
    "rgb z1": encoder(None, 1),
    "rgb z6": encoder(None, 6),
    **{f"palette {n} z{level}": encoder(n, level) for n in (32, 64, 128, 256) for level in (1, 6)},
}


def panels(pixel_ratio: float) -> list[np.ndarray]:
    widgets.display_options(pixel_ratio=pixel_ratio)
    pixels = []
    for name in EXPLORERS:
        explorer = getattr(widgets, name)()
        pixels += [panel.rgba for panel in explorer._panels]
    return pixels


def main() -> None:
    print(
        "| pixel ratio | encoding | PNG KiB p50 | data: URL KiB p50 | encode ms p50 | max error |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    for ratio in (1, 2):
        images = panels(ratio)
        for name, encode in OPTIONS.items():
            kib, url_kib, ms, error = [], [], [], 0
            for rgba in images:
                runs = []
                for _ in range(5):
                    start = time.perf_counter()
                    png = encode(rgba)
                    runs.append((time.perf_counter() - start) * 1e3)
                ms.append(min(runs))
                kib.append(len(png) / 1024)
                url_kib.append(len(base64.b64encode(png)) / 1024)
                decoded = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)
                error = max(error, int(np.abs(decoded - rgba[..., :3]).max()))
            print(
                f"| {ratio} | {name} | {np.median(kib):.1f} | {np.median(url_kib):.1f} "
                f"| {np.median(ms):.2f} | {error} |"
            )
    widgets.display_options(pixel_ratio=1)


if __name__ == "__main__":
    main()
