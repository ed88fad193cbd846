"""How well does the roofline predict the latency of single layers on this CPU?

Measures the machine's peaks (machine_peaks), then for a few one-layer models compares the
roofline's latency, max(FLOPs / peak, bytes / bandwidth), with measure_latency's median.
The bandwidth roof is DRAM's, so a layer whose bytes sit in cache can beat it (ratio < 1, e.g.
the 4 MB matrix-vector product); ratios above 1 show what the model leaves out: kernel
overheads, shapes the BLAS handles less well, and the page faults of writing a freshly
allocated output (ReLU and add allocate 64 MB per call; the copy behind the peak does not).
Run it on a quiet machine: with another process on the cores, every median becomes noise.
Usage: python benchmarks/roofline_check.py [--budget 0.5]
"""

from __future__ import annotations

import argparse

from torch import nn

import widgets

# name -> (layer, input shape)
LAYERS = {
    "Linear 1024x1024, batch 1024 (matmul)": (nn.Linear(1024, 1024), (1024, 1024)),
    "Linear 1024x1024, batch 1 (matrix-vector)": (nn.Linear(1024, 1024), (1, 1024)),
    "Conv2d 64->64 3x3 at 56x56": (nn.Conv2d(64, 64, 3, padding=1), (1, 64, 56, 56)),
    "ReLU on 16 M elements": (nn.ReLU(), (16, 1024, 1024)),
    "Add of two 16 M tensors (no params)": (None, (16, 1024, 1024)),
}


class Add(nn.Module):
    def forward(self, x):
        return x + x


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=0.5, help="seconds per layer")
    args = parser.parse_args()
    peaks = widgets.machine_peaks(budget_s=4 * args.budget)
    print(f"peaks: {peaks}\n")
    print("| layer | FLOP/byte | bound | predicted | measured | measured / predicted |")
    print("|---|---|---|---|---|---|")
    for name, (layer, shape) in LAYERS.items():
        layer = Add() if layer is None else layer
        (point,) = widgets.roofline(widgets.profile(layer, input_size=shape), peaks)
        measured = widgets.measure_latency(layer, input_size=shape, budget_s=args.budget)
        print(
            f"| {name} | {point.intensity:.2f} | {point.bound} | "
            f"{point.predicted_s * 1e3:.3f} ms | {measured.median_s * 1e3:.3f} ms | "
            f"{measured.median_s / point.predicted_s:.2f} |"
        )


if __name__ == "__main__":
    main()
