"""How fast and how exact is widgets.profile() next to the usual counting tools?

Runs every tool on the same torchvision models (weights=None) in eval mode under no_grad on the
CPU, times it (median of several calls after a warm-up; the model is built beforehand and not
timed) and prints one markdown table. Peers that are not installed are skipped:
    pip install fvcore thop ptflops torchinfo
Usage: python benchmarks/profile_speed.py [--batches 1 8] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import io
import statistics
import time
import warnings
from collections.abc import Callable
from contextlib import redirect_stderr, redirect_stdout

import torch
import torchvision
from torch.utils.flop_counter import FlopCounterMode

import widgets

MODELS = ("resnet50", "mobilenet_v2", "vit_b_16")


def ours(model, x):
    prof = widgets.profile(model, input_size=tuple(x.shape))
    return prof.params, prof.macs


def flop_counter_mode(model, x):
    counter = FlopCounterMode(display=False)
    with counter:
        model(x)
    return sum(p.numel() for p in model.parameters()), counter.get_total_flops() // 2


def fvcore(model, x):
    from fvcore.nn import FlopCountAnalysis, parameter_count

    analysis = FlopCountAnalysis(model, x).unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return parameter_count(model)[""], analysis.total()  # fvcore's "flop" is one MAC


def thop(model, x):
    from thop import profile

    macs, params = profile(model, inputs=(x,), verbose=False)
    return int(params), int(macs)


def ptflops(model, x):
    from ptflops import get_model_complexity_info

    macs, params = get_model_complexity_info(
        model,
        tuple(x.shape[1:]),
        input_constructor=lambda _: {"x": x},
        as_strings=False,
        print_per_layer_stat=False,
        verbose=False,
    )
    return int(params), int(macs)


def torchinfo(model, x):
    from torchinfo import summary

    stats = summary(model, input_data=x, verbose=0)
    return stats.total_params, stats.total_mult_adds


TOOLS: dict[str, Callable] = {
    "widgets.profile": ours,
    "FlopCounterMode": flop_counter_mode,
    "fvcore": fvcore,
    "thop": thop,
    "ptflops": ptflops,
    "torchinfo": torchinfo,
}
MUTATES_MODEL = {"thop"}  # adds buffers to every module: give it its own copy


def time_tool(tool: Callable, model, x, repeats: int) -> tuple[int, int, float]:
    """(params, MACs, median seconds) of `repeats` calls after one warm-up call."""
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()), torch.no_grad():
            params, macs = tool(model, x)
        times.append(time.perf_counter() - start)
    return params, macs, statistics.median(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU\n")
    print("| model | batch | tool | params | GMACs | time (ms) | vs widgets.profile |")
    print("|---|---:|---|---:|---:|---:|---|")
    for name in MODELS:
        model = getattr(torchvision.models, name)(weights=None).eval()
        for batch in args.batches:
            x = torch.randn(batch, 3, 224, 224)
            reference = None
            for tool_name, tool in TOOLS.items():
                subject = copy.deepcopy(model) if tool_name in MUTATES_MODEL else model
                try:
                    params, macs, seconds = time_tool(tool, subject, x, args.repeats)
                except ImportError:
                    continue
                reference = reference or (params, macs)
                diffs = []
                if params != reference[0]:
                    diffs.append(f"params {100 * (params / reference[0] - 1):+.1f}%")
                if macs != reference[1]:
                    diffs.append(f"MACs {100 * (macs / reference[1] - 1):+.1f}%")
                print(
                    f"| {name} | {batch} | {tool_name} | {params:,} | {macs / 1e9:.2f} | "
                    f"{1e3 * seconds:.0f} | {', '.join(diffs) or 'same'} |"
                )


if __name__ == "__main__":
    main()
