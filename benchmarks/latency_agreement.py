"""Does widgets.measure_latency agree with torch.utils.benchmark on the same models?

For each model (weights=None, eval mode, CPU) both tools time the same forward pass in the same
process, under torch.inference_mode, with the same thread count: ours with `budget_s`, torch's
`Timer.blocked_autorange` with `min_run_time` of the same length. Prints one markdown table.
Target: medians within 5 %.
Usage: python benchmarks/latency_agreement.py [--budget 1.0]
"""

from __future__ import annotations

import argparse

import torch
import torchvision
from torch import nn
from torch.utils.benchmark import Timer

import widgets


def linear_stack() -> nn.Module:
    layers = [m for _ in range(4) for m in (nn.Linear(512, 512), nn.ReLU())]
    return nn.Sequential(*layers)


def transformer_encoder() -> nn.Module:
    layer = nn.TransformerEncoderLayer(256, 4, 1024, batch_first=True)
    return nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)


# name -> (model builder, input shape)
MODELS = {
    "Linear stack (4 x 512, batch 64)": (linear_stack, (64, 512)),
    "resnet18 (1x3x224x224)": (lambda: torchvision.models.resnet18(weights=None), (1, 3, 224, 224)),
    "TransformerEncoder (4 layers, d 256, 8x128 tokens)": (transformer_encoder, (8, 128, 256)),
}


def compare(build, shape: tuple[int, ...], budget_s: float) -> str:
    torch.manual_seed(0)
    model = build().eval()
    x = torch.randn(shape)
    ours = widgets.measure_latency(model, inputs=x, budget_s=budget_s)
    timer = Timer("model(x)", globals={"model": model, "x": x}, num_threads=ours.threads)
    with torch.inference_mode():
        theirs = timer.blocked_autorange(min_run_time=budget_s)
    diff = 100 * (ours.median_s - theirs.median) / theirs.median
    return (
        f"{ours.median_s * 1e3:.3f} ms | {theirs.median * 1e3:.3f} ms | {diff:+.1f} % | "
        f"{ours.runs} runs / {ours.total_s:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per model and tool")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads\n")
    print("| model | ours median | torch median | diff | our runs / time spent |")
    print("|---|---|---|---|---|")
    for name, (build, shape) in MODELS.items():
        print(f"| {name} | {compare(build, shape, args.budget)} |")


if __name__ == "__main__":
    main()
