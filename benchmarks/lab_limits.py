"""Do the labs stay within their limits (<= 30 s top to bottom, < 1.5 GiB peak memory)?

Runs each lab in labs/ in a fresh kernel (nbclient, the venv's python3 kernel), cell by cell,
and prints one markdown table: the seconds the cells took (kernel start-up excluded), the kernel
process's peak resident memory (VmHWM from /proc, exact rather than sampled; Linux only) and
whether running every cell a second time in the same kernel also works (re-run from the top).
Usage: python benchmarks/lab_limits.py [labs/01_activation_functions.ipynb ...]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

LABS_DIR = Path(__file__).resolve().parent.parent / "labs"
LIMIT_S = 30
LIMIT_MIB = 1.5 * 1024


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # the value is in kB
    raise RuntimeError(f"no VmHWM for process {pid}")


def run_all(client: NotebookClient, notebook: nbformat.NotebookNode) -> str:
    """Execute every code cell in order; '' if all ran, else the first error."""
    try:
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    except CellExecutionError as error:
        return str(error).splitlines()[-1]
    return ""


def measure(lab: Path) -> tuple[float, float, str]:
    """(seconds for the cells, peak kernel RSS in MiB, error or '') of one lab."""
    notebook = nbformat.read(lab, as_version=4)
    client = NotebookClient(
        notebook, kernel_name="python3", timeout=120, resources={"metadata": {"path": lab.parent}}
    )
    with client.setup_kernel():
        pid = client.km.provisioner.process.pid
        start = time.perf_counter()
        error = run_all(client, notebook)
        seconds = time.perf_counter() - start
        peak = peak_rss_mib(pid)
        if not error:
            error = run_all(client, notebook)  # the same kernel, from the top again
            error = f"re-run: {error}" if error else ""
    return seconds, peak, error


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labs", nargs="*", type=Path, help="default: every labs/*.ipynb")
    labs = parser.parse_args().labs or sorted(LABS_DIR.glob("[0-9][0-9]_*.ipynb"))

    print(
        f"| lab | seconds (limit {LIMIT_S}) | peak kernel RSS, MiB (limit {LIMIT_MIB:.0f}) | re-run |"
    )
    print("| --- | ---: | ---: | --- |")
    for lab in labs:
        seconds, peak, error = measure(lab)
        within = seconds <= LIMIT_S and peak < LIMIT_MIB
        status = error or ("ok" if within else "OVER THE LIMIT")
        print(f"| {lab.stem} | {seconds:.1f} | {peak:.0f} | {status} |", flush=True)


if __name__ == "__main__":
    main()
