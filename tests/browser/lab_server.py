"""Start a throwaway JupyterLab on copies of the notebooks, isolated from the user's settings."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LABS_DIR = REPO / "labs"
LABS = sorted(LABS_DIR.glob("[0-9][0-9]_*.ipynb"))  # the five labs, in order
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
STARTUP_TIMEOUT_S = 60.0

# JupyterLab user settings: plugin id -> values. Written into a temporary settings directory.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    # no "get Jupyter news?" toast, no update check: no network, nothing covering the page
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    # the copies are throwaway, but never write files behind the test's back
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
}


@dataclass
class JupyterServer:
    """A running `jupyter lab`: base URL, login token, and the folder it serves."""

    url: str
    token: str
    root_dir: Path
    log_path: Path

    def lab_url(self, notebook: str) -> str:
        """URL opening `notebook` (a path relative to root_dir) in a fresh workspace."""
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"

    def api(self, path: str, method: str = "GET") -> Any:
        """Call the REST API (`path` like "/api/status") and return the decoded JSON, or None."""
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel, so notebooks opened one after another do not pile up."""
        for kernel in self.api("/api/kernels"):
            self.api(f"/api/kernels/{kernel['id']}", method="DELETE")

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log (its kernels' stderr included), for failure messages."""
        return self.log_path.read_text(errors="replace")[-chars:]


def free_port() -> int:
    """A loopback TCP port that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def isolated_env(home: Path) -> dict[str, str]:
    """Environment whose Jupyter config, data, runtime and settings all live under `home`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
    for name, folder in {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces",
        "IPYTHONDIR": "ipython",
        "MPLCONFIGDIR": "matplotlib",
    }.items():
        (home / folder).mkdir()
        env[name] = str(home / folder)
    # JUPYTER_PATH is searched first: our python3 kernel spec wins over any other
    env["JUPYTER_PATH"] = str(home / "share")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def write_settings(home: Path) -> None:
    """The python3 kernel spec (this venv's interpreter) and the JupyterLab settings above."""
    kernel_dir = home / "share" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    kernel_spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(kernel_spec))
    for plugin, values in LAB_SETTINGS.items():
        path = home / "lab-settings" / f"{plugin.replace(':', '/')}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def wait_until_up(server: JupyterServer, process: subprocess.Popen, timeout_s: float) -> None:
    """Poll /api/status until it answers; raise with the log if the server dies or is too slow."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with {process.returncode}:\n{server.log_tail()}"
            )
        try:
            server.api("/api/status")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise TimeoutError(f"jupyter lab did not answer in {timeout_s:.0f} s:\n{server.log_tail()}")


def check_kernel_spec(server: JupyterServer) -> None:
    """Fail early unless notebooks will run in this venv's python."""
    argv = server.api("/api/kernelspecs")["kernelspecs"]["python3"]["spec"]["argv"]
    if argv[0] != sys.executable:
        raise RuntimeError(f"python3 kernel runs {argv[0]}, expected {sys.executable}")


def stop(process: subprocess.Popen) -> None:
    """Terminate the server's process group (on SIGTERM the server shuts its kernels down);
    kill the group if it hangs."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def jupyter_lab(folders: Iterable[Path]) -> Iterator[JupyterServer]:
    """Serve copies of `folders` (each as root_dir/<folder name>) with a fresh JupyterLab.

    Autosave and checkpoints only ever touch the copies. The server's process group is killed
    on exit, also when the body raises.
    """
    with tempfile.TemporaryDirectory(prefix="effml-jupyter-") as tmp:
        home, root_dir = Path(tmp) / "home", Path(tmp) / "root"
        home.mkdir()
        for folder in folders:
            shutil.copytree(folder, root_dir / folder.name, ignore=shutil.ignore_patterns(".*"))
        env = isolated_env(home)
        write_settings(home)
        port, token = free_port(), secrets.token_hex(16)
        command = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}",
            "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", "--ServerApp.allow_root=True",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}",
            "--LabApp.extension_manager=readonly",  # no PyPI queries
        ]  # fmt: skip
        server = JupyterServer(f"http://127.0.0.1:{port}", token, root_dir, Path(tmp) / "lab.log")
        with server.log_path.open("wb") as log:
            process = subprocess.Popen(
                command, env=env, cwd=root_dir, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, for stop()
            )  # fmt: skip
        try:
            wait_until_up(server, process, STARTUP_TIMEOUT_S)
            check_kernel_spec(server)
            yield server
        finally:
            stop(process)
