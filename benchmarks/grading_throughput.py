"""Grading throughput: N learner copies of lab 03 filled in from the key, graded with --jobs J.

    .venv/bin/python benchmarks/grading_throughput.py --copies 8 --jobs 1 2

Each run is the real command (`python -m widgets.exercises grade`, sandboxed) in a fresh
process, so the grader's own start (importing torch and the labs) is counted once per run. The
table gives the wall time, the seconds per notebook after that start, the time 200 submissions
would take at that rate, the CPU seconds per notebook (the grader and every kernel, sampled from
the process tree), the time 200 submissions would take if that CPU time kept every core busy
(what an idle machine approaches) and the load average at the end (a shared machine's wall time
depends on it).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import psutil

from widgets.exercises import Exercise, items_of, lab03
from widgets.exercises.answer_key import answer_literal
from widgets.labs import learner_copy

ROOT = Path(__file__).resolve().parents[1]
CLASS_SIZE = 200
CORES = os.cpu_count() or 1
SAMPLE_S = 0.05  # how often the process tree's CPU times are read


def filled_copy() -> nbformat.NotebookNode:
    """Lab 03 as a learner gets it, every answer cell filled in from the key."""
    exercises = {name: item for name, item in items_of(lab03).items() if isinstance(item, Exercise)}
    notebook = learner_copy(ROOT / "labs" / "03_transformers_attention.ipynb")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    for cell, following in itertools.pairwise(code):
        checked = re.match(r"lab03\.(\w+)\.check\(answer\)", following.source.strip())
        if cell.source.startswith("answer = None") and checked:
            cell.source = f"answer = {answer_literal(exercises[checked[1]])}"
    return notebook


def grader_start() -> tuple[float, float]:
    """The grader process's own start (importing the package and building every lab): its wall
    time and CPU time, in seconds."""
    code = "from widgets.exercises.grading.cells import exercise_names; exercise_names()"
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code])
    cpu_s = tree_cpu_s(process)
    if process.returncode:
        raise SystemExit(f"the grader's start failed with {process.returncode}")
    return time.perf_counter() - start, cpu_s


def tree_cpu_s(process: subprocess.Popen[bytes]) -> float:
    """The CPU seconds (user + system) of `process` and every descendant, until it ends: each
    process's last sample, read every SAMPLE_S (what a process does after its last sample is missed)."""
    seen: dict[tuple[int, float], float] = {}
    root = psutil.Process(process.pid)
    while process.poll() is None:
        with contextlib.suppress(psutil.NoSuchProcess):
            for each in [root, *root.children(recursive=True)]:
                with contextlib.suppress(psutil.NoSuchProcess):
                    times = each.cpu_times()
                    seen[each.pid, each.create_time()] = times.user + times.system
        time.sleep(SAMPLE_S)
    return sum(seen.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    arguments = parser.parse_args()
    notebook = filled_copy()
    start_s, start_cpu_s = grader_start()
    print(f"grader start: {start_s:.1f} s, {start_cpu_s:.1f} s of CPU")
    print(
        "| jobs | notebooks | wall s | s per notebook | 200 submissions, min | CPU s per notebook "
        f"| 200 on {CORES} idle cores, min | load average |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for index in range(arguments.copies):
            paths.append(Path(folder, f"{100000 + index}_lab03.ipynb"))
            nbformat.write(notebook, paths[-1])
        for jobs in arguments.jobs:
            csv_path = Path(folder, f"grades-{jobs}.csv")
            command = [sys.executable, "-m", "widgets.exercises", "grade", *map(str, paths)]
            command += ["--csv", str(csv_path), "--jobs", str(jobs)]
            began = time.perf_counter()
            grader = subprocess.Popen(command, stdout=subprocess.DEVNULL)
            cpu_s = tree_cpu_s(grader)
            wall = time.perf_counter() - began
            if grader.returncode:
                raise SystemExit(f"jobs {jobs}: the grader exited with {grader.returncode}")
            with open(csv_path, newline="") as file:
                statuses = {row["status"] for row in csv.DictReader(file)}
            if statuses != {"correct"}:
                raise SystemExit(f"jobs {jobs}: not every answer graded correct: {statuses}")
            each = (wall - start_s) / len(paths)
            cpu_each = (cpu_s - start_cpu_s) / len(paths)
            print(
                f"| {jobs} | {len(paths)} | {wall:.1f} | {each:.1f} | "
                f"{(start_s + each * CLASS_SIZE) / 60:.1f} | {cpu_each:.1f} | "
                f"{(start_s + cpu_each * CLASS_SIZE / CORES) / 60:.1f} | "
                f"{os.getloadavg()[0]:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
