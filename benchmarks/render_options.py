"""Which way of showing a matplotlib figure in a widget updates fastest?

Times one update of a typical 2-panel line plot (8 x 3.5 in, 4 lines of 400 points, new y data
each time, fixed axis limits) inside a real IPython kernel, as JupyterLab runs it, and prints the
kernel-side p50 / p95 ms per option (the browser's decoding is not included):

    png-pil      Agg draw, Pillow PNG (zlib level 1) of canvas.buffer_rgba() into a widgets.Image
    png-palette  as png-pil, but widgets.ui.render.encode_png: a 64-colour palette PNG
    png-savefig  Agg draw via fig.savefig(format="png") into a widgets.Image
    png-blit     as png-palette, but only the lines are redrawn on a saved background (blitting)
    output       an Output widget: clear_output(wait=True) + display(fig) (inline backend PNG)
    ipympl       ipympl's canvas widget: canvas.draw() (Agg draw + PNG diff sent to the view)

Usage: python benchmarks/render_options.py [--updates 60] [--dpi 100]   (ipympl is optional)
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from widgets.ui.render import encode_png

WARM_UP = 5  # first updates build caches (fonts, ticks); not timed
X = np.linspace(-4, 4, 400)


def two_panel_plot(dpi: int, animated: bool = False) -> tuple[Figure, list]:
    """Two axes with labelled units and a legend; 3 lines on the left, 1 on the right."""
    figure = Figure(figsize=(8, 3.5), dpi=dpi)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.15, top=0.9, wspace=0.3)
    left, right = figure.subplots(1, 2)
    lines = [left.plot(X, X, label=f"k = {k}", animated=animated)[0] for k in (1, 2, 3)]
    lines += right.plot(X, X, animated=animated)
    left.set(xlabel="input x", ylabel="output", ylim=(-1.1, 1.1), title="activation")
    right.set(xlabel="input x", ylabel="derivative", ylim=(0, 4.1), title="gradient")
    left.legend(loc="upper left")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    return figure, lines


def new_data(lines: list, step: int) -> None:
    for k, line in enumerate(lines):
        line.set_ydata(np.tanh(X * (1 + k + 0.01 * step)))


def pil_png(canvas: FigureCanvasAgg) -> bytes:
    width, height = canvas.get_width_height(physical=True)
    out = io.BytesIO()
    pixels = canvas.buffer_rgba()
    Image.frombuffer("RGBA", (width, height), pixels).save(out, format="png", compress_level=1)
    return out.getvalue()


# Each option builds its figure and returns update(step), which shows new data.


def palette_png(canvas: FigureCanvasAgg) -> bytes:
    return encode_png(np.asarray(canvas.buffer_rgba()))


def png_full_draw(dpi: int, encode: Callable[[FigureCanvasAgg], bytes]) -> Callable[[int], None]:
    figure, lines = two_panel_plot(dpi)
    canvas, image = FigureCanvasAgg(figure), ipywidgets.Image(format="png")

    def update(step: int) -> None:
        new_data(lines, step)
        canvas.draw()
        image.value = encode(canvas)

    return update


def png_savefig(dpi: int) -> Callable[[int], None]:
    figure, lines = two_panel_plot(dpi)
    FigureCanvasAgg(figure)
    image = ipywidgets.Image(format="png")

    def update(step: int) -> None:
        new_data(lines, step)
        out = io.BytesIO()
        figure.savefig(out, format="png")
        image.value = out.getvalue()

    return update


def png_blit(dpi: int) -> Callable[[int], None]:
    figure, lines = two_panel_plot(dpi, animated=True)
    canvas, image = FigureCanvasAgg(figure), ipywidgets.Image(format="png")
    canvas.draw()  # everything but the animated lines
    background = canvas.copy_from_bbox(figure.bbox)

    def update(step: int) -> None:
        new_data(lines, step)
        canvas.restore_region(background)
        for line in lines:
            figure.draw_artist(line)
        image.value = palette_png(canvas)

    return update


def output(dpi: int) -> Callable[[int], None]:
    get_ipython().run_line_magic("matplotlib", "inline")  # noqa: F821 (runs in a kernel)
    figure, lines = two_panel_plot(dpi)
    FigureCanvasAgg(figure)
    out = ipywidgets.Output()

    def update(step: int) -> None:
        new_data(lines, step)
        with out:
            out.clear_output(wait=True)
            display(figure)  # noqa: F821 (IPython's display, in a kernel)

    return update


def ipympl(dpi: int) -> Callable[[int], None]:
    from ipympl.backend_nbagg import Canvas, FigureManager

    figure, lines = two_panel_plot(dpi)
    canvas = Canvas(figure)
    FigureManager(canvas, 0)  # registers the canvas as the view to send images to

    def update(step: int) -> None:
        new_data(lines, step)
        canvas.draw()

    return update


OPTIONS = {
    "png-pil": functools.partial(png_full_draw, encode=pil_png),
    "png-palette": functools.partial(png_full_draw, encode=palette_png),
    "png-savefig": png_savefig,
    "png-blit": png_blit,
    "output": output,
    "ipympl": ipympl,
}


def report(updates: int, dpi: int) -> None:
    """Print a markdown table of kernel-side update ms; call this inside a kernel."""
    print(f"| option ({dpi} dpi) | {TIMES_HEADER} |\n|---|{TIMES_ALIGN}|")
    for name, make in OPTIONS.items():
        try:
            update = make(dpi)
        except ImportError as error:
            print(f"| {name} | skipped: {error} | | |")
            continue
        for step in range(WARM_UP):
            update(step)
        print(f"| {name} | {time_updates(update, range(WARM_UP, WARM_UP + updates))} |")


TIMES_HEADER = "p50 ms | p95 ms | CPU p50 ms"
TIMES_ALIGN = "---:|---:|---:"


def time_updates(update: Callable[[Any], None], arguments: Iterable) -> str:
    """Call update(argument) for each argument; return the wall-clock p50 and p95 and the CPU
    p50 in ms, as markdown cells. CPU time is what an idle machine's wall time would be: on a
    busy machine wall time also counts waiting for a core."""
    wall, cpu = [], []
    for argument in arguments:
        wall_start, cpu_start = time.perf_counter(), time.process_time()
        update(argument)
        wall.append((time.perf_counter() - wall_start) * 1e3)
        cpu.append((time.process_time() - cpu_start) * 1e3)
    p50, p95 = np.percentile(wall, [50, 95])
    return f"{p50:.1f} | {p95:.1f} | {np.median(cpu):.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--dpi", type=int, default=100)
    args = parser.parse_args()
    run_in_kernel(__file__, f"report({args.updates}, {args.dpi})")


def run_in_kernel(script: str, call: str) -> None:
    """Run `call`, e.g. "report(60)", with the functions of `script`, in a new IPython kernel.

    The kernel's printed output is printed here.
    """
    from jupyter_client.manager import start_new_kernel

    kernel, client = start_new_kernel(kernel_name="python3")
    try:
        folder = os.path.dirname(os.path.abspath(script))  # so scripts can import each other
        code = (
            f"import runpy, sys; sys.path.insert(0, {folder!r}); "
            f"globals().update(runpy.run_path({script!r})); {call}"
        )
        client.execute_interactive(code, output_hook=_print_output, timeout=600)
    finally:
        client.stop_channels()
        kernel.shutdown_kernel(now=True)


def _print_output(message: dict) -> None:
    content = message["content"]
    if message["msg_type"] == "stream":
        print(content["text"], end="")
    elif message["msg_type"] == "error":
        print("\n".join(content["traceback"]))


if __name__ == "__main__":
    main()
