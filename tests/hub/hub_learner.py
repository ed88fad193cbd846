"""A simulated learner on the hub, at the protocol level (no browser): the hub's login form and
REST API, nbgitpuller's link, the Jupyter server's REST API and a kernel's websocket, used as
JupyterLab uses them. Shared by tests/hub/test_hub.py and benchmarks/class_load.py."""

from __future__ import annotations

import contextlib
import json
import re
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import websocket
from jupyter_server.services.kernels.connection.base import deserialize_binary_message

TIMEOUT_S = 300.0  # a whole class spawning on two cores is slow
SLIDER_MODELS = {"IntSliderModel", "FloatSliderModel"}


class LearnerError(RuntimeError):
    """A step of the learner's session failed; the message says which and what the server said."""


@dataclass
class Comm:
    """A widget the kernel opened (a comm_open of target jupyter.widget): its id and state."""

    comm_id: str
    state: dict[str, Any]

    @property
    def model_name(self) -> str:
        return self.state.get("_model_name", "")


@dataclass
class Kernel:
    """A kernel of the learner's server, reached through the hub's proxy over its websocket."""

    socket: websocket.WebSocket
    session_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    comms: dict[str, Comm] = field(default_factory=dict)  # every widget opened so far

    def send(self, channel: str, msg_type: str, content: dict[str, Any]) -> str:
        """Send a message as JupyterLab does; return its msg_id."""
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id, "msg_type": msg_type, "session": self.session_id,
            "username": "learner", "version": "5.3", "date": "",
        }  # fmt: skip
        message = {
            "header": header, "parent_header": {}, "metadata": {}, "content": content,
            "channel": channel, "buffers": [],
        }  # fmt: skip
        self.socket.send(json.dumps(message))
        return msg_id

    def receive(self) -> dict[str, Any]:
        """The next message from the kernel (binary frames carry buffers: pictures)."""
        frame = self.socket.recv()
        message = (
            deserialize_binary_message(frame) if isinstance(frame, bytes) else json.loads(frame)
        )
        if message["header"]["msg_type"] == "comm_open":
            content = message["content"]
            state = content.get("data", {}).get("state", {})
            self.comms[content["comm_id"]] = Comm(content["comm_id"], state)
        return message

    def listen(self, seconds: float, until: Callable[[], bool] = lambda: False) -> None:
        """Read what the kernel sends for `seconds` or until `until()` holds, as an open page
        does: websocket-client answers the server's pings only while it reads, and a server
        whose pings go unanswered closes the connection."""
        end = time.monotonic() + seconds
        self.socket.settimeout(0.2)
        try:
            while not until() and time.monotonic() < end:
                with contextlib.suppress(websocket.WebSocketTimeoutException):
                    self.receive()
        finally:
            self.socket.settimeout(TIMEOUT_S)

    def replies_to(self, msg_id: str) -> Iterator[dict[str, Any]]:
        """Messages whose parent is `msg_id`, until the kernel is idle again after it."""
        while True:
            message = self.receive()
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            yield message
            if message["content"].get("execution_state") == "idle":
                return

    def execute(self, code: str) -> None:
        """Run `code`; raise LearnerError with the traceback if it fails."""
        msg_id = self.send("shell", "execute_request", {
            "code": code, "silent": False, "store_history": True, "user_expressions": {},
            "allow_stdin": False, "stop_on_error": True,
        })  # fmt: skip
        for message in self.replies_to(msg_id):
            if message["header"]["msg_type"] == "error":
                traceback = "\n".join(message["content"]["traceback"])
                raise LearnerError(f"cell failed:\n{code[:300]}\n{strip_ansi(traceback)}")

    def sliders(self) -> list[Comm]:
        """The sliders the kernel has opened, in the order it opened them."""
        return [comm for comm in self.comms.values() if comm.model_name in SLIDER_MODELS]

    def move(self, slider: Comm, value: float) -> float | None:
        """Set `slider` to `value` as a front end does (a comm_msg "update"); return the seconds
        until the kernel sent a new picture (an Image's value), or None if the kernel went idle
        without one (a setting the explorer refuses with a message)."""
        start = time.perf_counter()
        msg_id = self.send("shell", "comm_msg", {
            "comm_id": slider.comm_id,
            "data": {"method": "update", "state": {"value": value}, "buffer_paths": []},
        })  # fmt: skip
        seconds = None
        for message in self.replies_to(msg_id):
            if seconds is None and is_new_picture(message, self.comms):
                seconds = time.perf_counter() - start
        slider.state["value"] = value
        return seconds

    def close(self) -> None:
        self.socket.close()


def is_new_picture(message: dict[str, Any], comms: dict[str, Comm]) -> bool:
    """Whether `message` is the kernel setting a new value on one of its Image widgets."""
    if message["header"]["msg_type"] != "comm_msg":
        return False
    data = message["content"].get("data", {})
    comm = comms.get(message["content"].get("comm_id", ""))
    if comm is None or comm.model_name != "ImageModel" or data.get("method") != "update":
        return False
    return "value" in data.get("state", {}) or ["value"] in data.get("buffer_paths", [])


def strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


class Learner:
    """One learner: a browser-like session (cookies, XSRF) on the hub at `hub_url`."""

    def __init__(self, hub_url: str, name: str, password: str) -> None:
        self.hub_url = hub_url.rstrip("/")
        self.name = name
        self.password = password
        self.http = requests.Session()
        self.token = ""

    @property
    def server_url(self) -> str:
        return f"{self.hub_url}/user/{self.name}"

    def check(self, response: requests.Response, step: str) -> requests.Response:
        if response.status_code >= 400:
            raise LearnerError(
                f"{self.name}: {step}: HTTP {response.status_code}: {response.text[:500]}"
            )
        return response

    def log_in(self) -> None:
        """Log in through the hub's form, then get an API token as JupyterLab's session would."""
        self.check(self.http.get(f"{self.hub_url}/hub/login", timeout=30), "login page")
        xsrf = self.http.cookies.get("_xsrf", "")
        form = {"username": self.name, "password": self.password, "_xsrf": xsrf}
        response = self.http.post(f"{self.hub_url}/hub/login", data=form, timeout=30)
        if "Invalid username or password" in response.text:
            raise LearnerError(f"{self.name}: login refused (HTTP {response.status_code})")
        self.check(response, "login")
        response = self.http.post(
            f"{self.hub_url}/hub/api/users/{self.name}/tokens",
            json={"note": "simulated learner", "expires_in": 3600},
            headers={"X-XSRFToken": self.http.cookies.get("_xsrf", xsrf)},
            timeout=30,
        )
        self.token = self.check(response, "token").json()["token"]
        self.http.headers["Authorization"] = f"token {self.token}"

    def hub_api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.hub_url}/hub/api{path}", timeout=30, **kwargs)
        self.check(response, f"{method} /hub/api{path}")
        return response.json() if response.content else None

    def spawn(self) -> float:
        """Start the learner's server; return the seconds until the hub says it is ready."""
        start = time.perf_counter()
        self.hub_api("POST", f"/users/{self.name}/server")
        while time.perf_counter() - start < TIMEOUT_S:
            server = self.hub_api("GET", f"/users/{self.name}")["servers"].get("", {})
            if server.get("ready"):
                return time.perf_counter() - start
            time.sleep(0.2)
        raise LearnerError(f"{self.name}: server not ready after {TIMEOUT_S:.0f} s")

    def pull(self, repo: str, branch: str, folder: str, opens: str) -> float:
        """Follow the nbgitpuller link for `repo`@`branch` into `folder` (the page, then the
        event stream its script reads); return the seconds it took."""
        start = time.perf_counter()
        query = {"repo": repo, "branch": branch, "targetpath": folder}
        link = f"{self.hub_url}/hub/user-redirect/git-pull?" + urllib.parse.urlencode(
            {**query, "urlpath": f"lab/tree/{folder}/{opens}"}
        )
        page = self.check(self.http.get(link, timeout=60), "nbgitpuller link")
        if "git-pull" not in page.url:
            raise LearnerError(f"{self.name}: the nbgitpuller link ended at {page.url}")
        stream = self.http.get(
            f"{self.server_url}/git-pull/api", params=query, stream=True, timeout=TIMEOUT_S
        )
        self.check(stream, "nbgitpuller")
        for line in stream.iter_lines(decode_unicode=True):
            if not line.startswith("data:"):
                continue
            event = json.loads(line.removeprefix("data:"))
            if event.get("phase") == "error":
                raise LearnerError(f"{self.name}: nbgitpuller: {event.get('message')}")
            if event.get("phase") == "finished":
                return time.perf_counter() - start
        raise LearnerError(f"{self.name}: nbgitpuller's stream ended before 'finished'")

    def start_kernel(self, notebook: str) -> Kernel:
        """A kernel for `notebook` (a path in the learner's home), as opening it in JupyterLab
        starts one, and its websocket through the hub's proxy."""
        response = self.http.post(
            f"{self.server_url}/api/sessions",
            json={"path": notebook, "type": "notebook", "name": Path(notebook).name,
                  "kernel": {"name": "python3"}},
            timeout=60,
        )  # fmt: skip
        kernel_id = self.check(response, "start kernel").json()["kernel"]["id"]
        kernel_url = f"{self.server_url}/api/kernels/{kernel_id}/channels".replace("http", "ws", 1)
        socket = websocket.create_connection(
            kernel_url, header=[f"Authorization: token {self.token}"], timeout=TIMEOUT_S
        )
        return Kernel(socket)

    def notebook(self, path: str) -> dict[str, Any]:
        """The notebook at `path` in the learner's home, read through the contents API."""
        response = self.http.get(f"{self.server_url}/api/contents/{path}", timeout=30)
        return self.check(response, f"read {path}").json()["content"]

    def run_all(self, kernel: Kernel, path: str) -> float:
        """Run every code cell of the notebook at `path` in `kernel`, as Run All does; return
        the seconds it took."""
        start = time.perf_counter()
        for cell in self.notebook(path)["cells"]:
            if cell["cell_type"] == "code" and cell["source"].strip():
                kernel.execute(cell["source"])
        return time.perf_counter() - start

    def stop_server(self) -> None:
        self.hub_api("DELETE", f"/users/{self.name}/server")
