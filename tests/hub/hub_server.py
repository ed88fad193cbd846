"""Start `make hub`'s JupyterHub (hub/jupyterhub_config.py) on free ports with its state in a
folder of its own, and stop it with everything it started; and a learner branch of the labs
for nbgitpuller to pull. Shared by tests/hub/test_hub.py and benchmarks/class_load.py."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import psutil
import requests

from widgets.release import release

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "hub" / "jupyterhub_config.py"
JUPYTERHUB = Path(sys.executable).parent / "jupyterhub"
PROXY = (
    Path(sys.executable).parent.parent
    / "hub-node"
    / "node_modules"
    / ".bin"
    / "configurable-http-proxy"
)
STARTUP_TIMEOUT_S = 90.0
BRANCH = "learner"  # the learner branch labs_repository publishes


def hub_installed() -> bool:
    """Whether scripts/install_hub.sh has installed the hub into this venv."""
    return JUPYTERHUB.exists() and PROXY.exists()


@dataclass
class Hub:
    """A running hub: where learners connect, its log, its process."""

    url: str
    data: Path
    process: subprocess.Popen
    cgroup: str  # the parent of the learners' cgroups (HUB_CGROUP)

    @property
    def log_path(self) -> Path:
        return self.data / "hub.log"

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def processes(self) -> list[psutil.Process]:
        """The hub and everything it started (proxy, culler, learners' servers, their kernels)."""
        root = psutil.Process(self.process.pid)
        return [root, *root.children(recursive=True)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_hub(data: Path, password: str, **settings: str) -> Iterator[Hub]:
    """The hub, with its database and the learners' homes in `data`; `settings` are more of the
    config's environment variables (HUB_MEM_LIMIT="2G", ...)."""
    port = free_port()
    env = {
        **os.environ,
        "HUB_PASSWORD": password, "HUB_DATA": str(data), "HUB_PORT": str(port),
        "HUB_API_PORT": str(free_port()), "PROXY_API_PORT": str(free_port()),
        "HUB_CGROUP": f"effml-hub-{port}", **settings,
    }  # fmt: skip
    data.mkdir(parents=True, exist_ok=True)
    with open(data / "hub.log", "wb") as log:
        process = subprocess.Popen(
            [str(JUPYTERHUB), "-f", str(CONFIG)], cwd=data, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    hub = Hub(f"http://127.0.0.1:{port}", data, process, env["HUB_CGROUP"])
    try:
        wait_until_up(hub)
        yield hub
    finally:
        stop(hub)


def wait_until_up(hub: Hub) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if hub.process.poll() is not None:
            raise RuntimeError(f"the hub exited with {hub.process.returncode}:\n{hub.log_tail()}")
        try:
            if requests.get(f"{hub.url}/hub/api", timeout=5).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"the hub did not answer in {STARTUP_TIMEOUT_S:.0f} s:\n{hub.log_tail()}")


def stop(hub: Hub) -> None:
    """SIGTERM, as Ctrl-C in `make hub`: the hub stops the learners' servers and the proxy. Then
    kill whatever is left of what it started, so a failed test leaves nothing behind."""
    started = hub.processes() if hub.process.poll() is None else []
    if hub.process.poll() is None:
        hub.process.send_signal(signal.SIGTERM)
        try:
            hub.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            hub.process.kill()
            hub.process.wait()
    for process in started:
        if process.is_running():
            process.kill()


def labs_repository(folder: Path) -> str:
    """A bare git repository in `folder` whose branch `learner` holds this release, published
    by the instructor's command (widgets.release); its URL for nbgitpuller."""
    bare = folder / "labs.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    identity = {
        f"GIT_{who}_{key}": value
        for who in ("AUTHOR", "COMMITTER")
        for key, value in (("NAME", "Instructor"), ("EMAIL", "instructor@example.org"))
    }
    with mock.patch.dict(os.environ, identity):  # a CI machine may have no git identity
        release(bare.as_uri(), BRANCH, REPO / "labs")
    return bare.as_uri()
