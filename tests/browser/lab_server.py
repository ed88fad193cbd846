"""Start a throwaway Jupyter front end (JupyterLab, Notebook 7 or Voilà) on copies of the
notebooks, isolated from the user's settings."""

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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from widgets import manifest

REPO = Path(__file__).resolve().parents[2]
LABS_DIR = REPO / "labs"
LABS = [LABS_DIR / lab.notebook for lab in manifest.LABS]  # the labs, in order
FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"
STARTUP_TIMEOUT_S = 60.0

# JupyterLab user settings: plugin id -> values. Written into a temporary settings directory.
LAB_SETTINGS: dict[str, dict[str, Any]] = {
    # no "get Jupyter news?" toast, no update check: no network, nothing covering the page
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    # the copies are throwaway, but never write files behind the test's back
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
}
DARK_THEME = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}


@dataclass(frozen=True)
class FrontEnd:
    """How to start one front end, the URL path that opens a notebook in it, and whether it
    has the Jupyter server's REST API (/api/status, /api/kernels, ...)."""

    command: Callable[[int, str, Path], list[str]]  # (port, token, root_dir) -> its argv
    notebook_path: str  # with {notebook}, a path relative to root_dir; ends in ? or &
    rest_api: bool = True


def jupyter_server_command(app: str, *options: str) -> Callable[[int, str, Path], list[str]]:
    """The argv of `jupyter <app>` (lab, notebook: both Jupyter server apps) with `options`."""
    return lambda port, token, root_dir: [
        sys.executable, "-m", "jupyter", app, "--no-browser", f"--port={port}",
        "--ServerApp.port_retries=0", "--ServerApp.ip=127.0.0.1", "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root_dir}", *options,
    ]  # fmt: skip


def voila_command(port: int, token: str, root_dir: Path) -> list[str]:
    """`voila <root_dir>`, as an instructor runs it (README), on a fixed port, with a token."""
    return [
        sys.executable, "-m", "voila", str(root_dir), "--no-browser", f"--port={port}",
        "--Voila.port_retries=0", "--Voila.ip=127.0.0.1", f"--Voila.token={token}",
        "--show_tracebacks=True",  # a failing cell shows its traceback, not just "an error"
    ]  # fmt: skip


FRONT_ENDS = {
    "lab": FrontEnd(
        jupyter_server_command("lab", "--LabApp.extension_manager=readonly"),  # no PyPI queries
        "/lab/tree/{notebook}?reset&",  # a fresh workspace
    ),
    "notebook": FrontEnd(jupyter_server_command("notebook"), "/notebooks/{notebook}?"),
    "voila": FrontEnd(voila_command, "/voila/render/{notebook}?", rest_api=False),
}


@dataclass
class JupyterServer:
    """A running front end (a key of FRONT_ENDS): base URL, login token, the folder it serves."""

    url: str
    token: str
    root_dir: Path
    log_path: Path
    front_end: str = "lab"

    def lab_url(self, notebook: str) -> str:
        """URL opening `notebook` (a path relative to root_dir) in this front end."""
        path = FRONT_ENDS[self.front_end].notebook_path.format(notebook=notebook)
        return f"{self.url}{path}token={self.token}"

    @property
    def rest_api(self) -> bool:
        return FRONT_ENDS[self.front_end].rest_api

    def get(self, path: str, method: str = "GET") -> bytes:
        """The body of the answer to `method` `path` (like "/api/status"), logged in."""
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()

    def api(self, path: str, method: str = "GET") -> Any:
        """Call the REST API (`path` like "/api/status") and return the decoded JSON, or None."""
        body = self.get(path, method)
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """Stop every kernel, so notebooks opened one after another do not pile up (Voilà has
        no API for it: it stops a page's kernel when the page closes)."""
        if not self.rest_api:
            return
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


def write_settings(home: Path, lab_settings: dict[str, dict[str, Any]]) -> None:
    """The python3 kernel spec (this venv's interpreter) and JupyterLab's `lab_settings`."""
    kernel_dir = home / "share" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    kernel_spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
    }
    (kernel_dir / "kernel.json").write_text(json.dumps(kernel_spec))
    for plugin, values in lab_settings.items():
        path = home / "lab-settings" / f"{plugin.replace(':', '/')}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def wait_until_up(server: JupyterServer, process: subprocess.Popen, timeout_s: float) -> None:
    """Poll /api/status (Voilà: its front page) until it answers; raise with the log if the
    server dies or is too slow."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"{server.front_end} exited with {process.returncode}:\n{server.log_tail()}"
            )
        try:
            server.get("/api/status" if server.rest_api else "/")
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise TimeoutError(
        f"{server.front_end} did not answer in {timeout_s:.0f} s:\n{server.log_tail()}"
    )


def check_kernel_spec(server: JupyterServer) -> None:
    """Fail early unless notebooks will run in this venv's python (Voilà starts them from the
    same kernel spec, but cannot be asked)."""
    if not server.rest_api:
        return
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
def jupyter_server(
    folders: Iterable[Path], front_end: str = "lab", lab_settings: dict[str, Any] | None = None
) -> Iterator[JupyterServer]:
    """Serve copies of `folders` (each as root_dir/<folder name>) with a fresh `front_end`
    (a key of FRONT_ENDS: "lab", "notebook" or "voila"), with LAB_SETTINGS and `lab_settings`
    (e.g. DARK_THEME).

    Autosave and checkpoints only ever touch the copies. The server's process group is killed
    on exit, also when the body raises.
    """
    with tempfile.TemporaryDirectory(prefix="effml-jupyter-") as tmp:
        home, root_dir = Path(tmp) / "home", Path(tmp) / "root"
        home.mkdir()
        for folder in folders:
            shutil.copytree(folder, root_dir / folder.name, ignore=shutil.ignore_patterns(".*"))
        env = isolated_env(home)
        write_settings(home, LAB_SETTINGS | (lab_settings or {}))
        port, token = free_port(), secrets.token_hex(16)
        command = FRONT_ENDS[front_end].command(port, token, root_dir)
        log_path = Path(tmp) / "server.log"
        server = JupyterServer(f"http://127.0.0.1:{port}", token, root_dir, log_path, front_end)
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
