"""A class on `make hub`: N simulated learners at the protocol level (tests/hub/hub_learner.py).

    .venv/bin/python benchmarks/class_load.py --learners 1 5 10 20 40 --seconds 60

For each N, a fresh hub (hub/jupyterhub_config.py, its limits from the environment) and N
learners at once, each in a thread of this process: log in through the form, spawn, pull the
release's learner branch with an nbgitpuller link, run lab 03's learner copy top to bottom (the
whole class pressing Run All at once), then for `--seconds` move the lab's sliders as a learner does: a burst of 1-5 steps of
one slider, each waiting for its picture, then 1-4 s of thought. Reports spawn and run-all
times, the CPU seconds each learner's start costs (spawn, pull, Run All: server and kernel),
control-to-new-picture times at the client (through the hub's proxy and the kernel's
websocket), each learner's memory (server and kernels: PSS and USS), the hub's own memory (hub,
proxy, culler), and the cores the class kept busy while moving sliders. It marks each N whose
picture p95 is over 150 ms, stops after the first N at which a learner's step fails, and stops
before an N whose memory, projected from the last N's PSS per learner, would not fit in 90 % of
what is available (the OOM killer would pick its own victims).
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hub"))

from hub_learner import TIMEOUT_S, Kernel, Learner
from hub_server import BRANCH, Hub, labs_repository, running_hub

LAB = "03_transformers_attention.ipynb"
FOLDER = "effml-labs"
MIB = 2**20
P95_LIMIT_MS = 150.0
HUB_GIB = 0.5  # the hub, its proxy and culler (about 180 MiB measured), with room
MEMORY_SHARE = 0.9  # of the memory available: a class beyond it would meet the OOM killer


@dataclass
class LearnerRun:
    """What one simulated learner measured."""

    spawn_s: float = 0.0
    pull_s: float = 0.0
    run_all_s: float = 0.0
    picture_ms: list[float] = field(default_factory=list)
    no_picture: int = 0
    error: str = ""


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def move_sliders(kernel: Kernel, seconds: float, seed: int, run: LearnerRun) -> None:
    """Bursts of steps of one slider, with think time between them, for `seconds`."""
    choose = random.Random(seed)
    sliders = kernel.sliders()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        slider = choose.choice(sliders)
        for _ in range(choose.randint(1, 5)):
            state = slider.state
            step = state.get("step", 1) * choose.choice([-1, 1])
            value = state["value"] + step
            if not state["min"] <= value <= state["max"]:
                value = state["value"] - step
            seconds_to_picture = kernel.move(slider, value)
            if seconds_to_picture is None:
                run.no_picture += 1
            else:
                run.picture_ms.append(1000 * seconds_to_picture)
        kernel.listen(choose.uniform(1.0, 4.0))  # thinking, the page still open


def learner_session(hub: Hub, name: str, password: str, repo: str, seconds: float,
                    ready: threading.Semaphore, go: threading.Event, seed: int) -> LearnerRun:  # fmt: skip
    run = LearnerRun()
    learner = Learner(hub.url, name, password)
    kernel = None
    try:
        learner.log_in()
        run.spawn_s = learner.spawn()
        run.pull_s = learner.pull(repo, BRANCH, FOLDER, f"my-labs/{LAB}")
        kernel = learner.start_kernel(f"{FOLDER}/my-labs/{LAB}")
        run.run_all_s = learner.run_all(kernel, f"{FOLDER}/my-labs/{LAB}")
    except Exception as error:
        run.error = f"{type(error).__name__}: {error}"[:300]
    try:
        ready.release()
        if kernel is not None:  # everyone moves sliders together, once everyone has run the lab
            kernel.listen(TIMEOUT_S, until=go.is_set)
        go.wait()
        if kernel is not None and not run.error:
            move_sliders(kernel, seconds, seed, run)
    except Exception as error:
        run.error = run.error or f"{type(error).__name__}: {error}"[:300]
    return run


def learner_processes(hub: Hub) -> dict[str, list[psutil.Process]]:
    """Each learner's server with its kernels, by user name (JUPYTERHUB_USER)."""
    servers: dict[str, list[psutil.Process]] = {}
    for process in psutil.Process(hub.process.pid).children():
        user = process.environ().get("JUPYTERHUB_USER")
        if user:
            servers[user] = [process, *process.children(recursive=True)]
    return servers


def memory_mib(processes: list[psutil.Process]) -> tuple[float, float]:
    """PSS and USS of `processes` together, MiB."""
    infos = [process.memory_full_info() for process in processes]
    return sum(info.pss for info in infos) / MIB, sum(info.uss for info in infos) / MIB


def cpu_s(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


def one_class(learners: int, seconds: float, folder: Path) -> dict[str, object]:
    """Run `learners` learners on a fresh hub; return the table row."""
    password = secrets.token_urlsafe(12)
    repo = labs_repository(folder / "instructor")
    load_before = os.getloadavg()[0]
    with running_hub(folder / "hub", password) as hub:
        cpu_idle_hub = cpu_s(hub.processes())
        ready, go = threading.Semaphore(0), threading.Event()
        with ThreadPoolExecutor(learners) as pool:
            futures = [
                pool.submit(learner_session, hub, f"learner{i}", password, repo, seconds,
                            ready, go, i)
                for i in range(learners)
            ]  # fmt: skip
            for _ in range(learners):
                ready.acquire()
            go.set()
            everything = hub.processes()
            cpu_before, wall_before = cpu_s(everything), time.monotonic()
            start_cpu_s = (cpu_before - cpu_idle_hub) / learners
            time.sleep(seconds / 2)
            per_learner = list(learner_processes(hub).values())
            memory = [memory_mib(processes) for processes in per_learner]
            hub_own = [p for p in hub.processes() if not any(p in ps for ps in per_learner)]
            hub_pss, _ = memory_mib(hub_own)
            available_gib = psutil.virtual_memory().available / 2**30
            runs = [future.result() for future in futures]
            busy_cores = (cpu_s(everything) - cpu_before) / (time.monotonic() - wall_before)
    pictures = [ms for run in runs for ms in run.picture_ms]
    errors = [run.error for run in runs if run.error]
    row = {
        "learners": learners,
        "spawn_s": [run.spawn_s for run in runs],
        "run_all_s": [run.run_all_s for run in runs if run.run_all_s],
        "pictures": len(pictures),
        "picture_p50_ms": statistics.median(pictures) if pictures else float("nan"),
        "picture_p95_ms": percentile(pictures, 0.95) if len(pictures) > 1 else float("nan"),
        "no_picture": sum(run.no_picture for run in runs),
        "pss_mib": statistics.median(pss for pss, _ in memory) if memory else float("nan"),
        "uss_mib": statistics.median(uss for _, uss in memory) if memory else float("nan"),
        "hub_pss_mib": hub_pss,
        "available_gib": available_gib,
        "busy_cores": busy_cores,
        "start_cpu_s": start_cpu_s,
        "load": (load_before, os.getloadavg()[0]),
        "errors": errors,
    }
    return row


def p50_max(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {max(values):.1f}" if values else "-"


def print_row(row: dict[str, object]) -> None:
    print(
        f"| {row['learners']} | {p50_max(row['spawn_s'])} | {p50_max(row['run_all_s'])} "
        f"| {row['picture_p50_ms']:.0f} / {row['picture_p95_ms']:.0f} ({row['pictures']}) "
        f"| {row['pss_mib']:.0f} / {row['uss_mib']:.0f} | {row['hub_pss_mib']:.0f} "
        f"| {row['start_cpu_s']:.1f} | {row['busy_cores']:.2f} | {row['available_gib']:.1f} "
        f"| {row['load'][0]:.1f} / {row['load'][1]:.1f} |",
        flush=True,
    )
    for error in row["errors"]:
        print(f"    error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, nargs="+", default=[1, 5, 10, 20, 40])
    parser.add_argument("--seconds", type=float, default=60.0, help="of slider moving")
    arguments = parser.parse_args()
    print(
        "| learners | spawn s p50 / max | run all s p50 / max | picture ms p50 / p95 (steps) "
        "| per learner PSS / USS MiB | hub PSS MiB | CPU s per learner to Run All | busy cores "
        "| free GiB | load before / after |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    per_learner_gib = 0.0
    for learners in arguments.learners:
        needed_gib = learners * per_learner_gib + HUB_GIB
        available_gib = psutil.virtual_memory().available / 2**30
        if needed_gib > MEMORY_SHARE * available_gib:
            print(
                f"stops holding at {learners} learners: memory ({learners} x "
                f"{1024 * per_learner_gib:.0f} MiB, the PSS measured at the last N, and "
                f"{HUB_GIB} GiB for the hub are {needed_gib:.1f} GiB; 90 % of the "
                f"{available_gib:.1f} GiB available is {MEMORY_SHARE * available_gib:.1f})"
            )
            break
        with tempfile.TemporaryDirectory() as folder:
            row = one_class(learners, arguments.seconds, Path(folder))
        print_row(row)
        per_learner_gib = row["pss_mib"] / 1024
        if row["picture_p95_ms"] > P95_LIMIT_MS:
            print(f"    picture p95 over {P95_LIMIT_MS:.0f} ms at {learners} learners")
        if row["errors"]:
            print(f"stops holding at {learners} learners: {len(row['errors'])} failed")
            break


if __name__ == "__main__":
    main()
